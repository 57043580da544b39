"""Models and prediction from Python: the golden feature vectors and predictions of MODEL.md
section 8 (tests/golden/model_v2_golden.json), the breakdown, model files and the advisor."""

import json
import math
import unittest

import numpy as np

import wsenergy as ws
from support import ScratchTest, golden

# MODEL.md section 8's feature names and the model's slot names.
GOLDEN_SLOTS = {"run": "run", "step": "train_step", "estep": "eval_step", "ops": "operations",
                "par": "par", "ep_actmax": "ep", "dsbytes": "dsbytes", "hinge": "hinge"}
# The forms of the golden vectors: section 8's, without `epoch` (every shipped run has 3000).
GOLDEN_TERMS = {"cpu": "run,train_step,eval_step,kappa,operations,bytes,par,ep",
                "gpu": "run,train_step,eval_step,kappa,operations,hinge,bytes,dsbytes"}


def slot_of(feature):
    if feature in GOLDEN_SLOTS:
        return GOLDEN_SLOTS[feature]
    return "bytes_" + feature[3:] if feature.startswith("by_") else feature


class Golden(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(golden("model_v2_golden.json")) as f:
            cls.doc = json.load(f)

    def cases(self):
        for device in ("cpu", "gpu"):
            h = ws.hardware(f"eagle-{device}")
            for ex in self.doc[device]["examples"]:
                net = ws.Network(ex["inputs"], ex["widths"])
                yield device, h, ex, net, ws.split_run(ex["n_obs"])

    def test_counts_reproduce_the_feature_vectors(self):
        checked = 0
        for device, h, ex, net, run in self.cases():
            counts = ws.counts(net, run, h, terms=GOLDEN_TERMS[device], accounting="training_only")
            expected = {slot_of(k): v for k, v in ex["features"].items()}
            self.assertEqual(set(counts), set(expected))
            for slot, value in expected.items():
                with self.subTest(device=device, dataset=ex["dataset"], size=ex["size"], slot=slot):
                    self.assertTrue(math.isclose(counts[slot], value, rel_tol=1e-9, abs_tol=1e-6))
                    checked += 1
        self.assertGreater(checked, 100)

    def test_predictions_reproduce_the_golden_energies(self):
        for device, h, ex, net, run in self.cases():
            coefficients = {slot_of(k): v for k, v in self.doc[device]["coefficients"].items()}
            model = ws.Model(h, coefficients, terms=GOLDEN_TERMS[device],
                             accounting="training_only")
            with self.subTest(device=device, dataset=ex["dataset"], size=ex["size"]):
                p = model.predict(net, run)
                self.assertTrue(math.isclose(p.total_j, ex["predicted_J"], rel_tol=1e-9))


class Prediction(ScratchTest):
    def setUp(self):
        super().setUp()
        self.net = ws.Network.from_shape("rectangle", 4, 784, 10, 1 << 16)
        self.run = ws.butter_run("mnist")

    def test_breakdown_sums_to_the_total(self):
        for hw in ("eagle-cpu", "eagle-gpu"):
            p = ws.predict(self.net, self.run, hardware=hw)
            for part in (p.by_slot, p.by_term, p.by_group):
                self.assertTrue(math.isclose(sum(part.values()), p.total_j, rel_tol=1e-12))
            self.assertTrue(math.isclose(sum(p.by_level.values()), p.by_term["bytes"],
                                         rel_tol=1e-12))
            self.assertEqual(list(p.by_level), ws.hardware(hw).level_names)
            self.assertEqual(p.to_dict()["energy_j"], p.total_j)
            self.assertEqual(float(p), p.total_j)

    def test_prediction_is_coefficients_times_counts(self):
        model = ws.resolve_model("eagle-cpu")
        counts = model.counts(self.net, self.run)
        by_slot = model.predict(self.net, self.run).by_slot
        self.assertEqual(list(counts), list(model.coefficients))
        for slot, c in model.coefficients.items():
            self.assertTrue(math.isclose(by_slot[slot], c * counts[slot], rel_tol=1e-12), slot)
        self.assertEqual(model.coefficient("train_step"), model.coefficients["train_step"])

    def test_the_shipped_models(self):
        cpu = ws.resolve_model("eagle-cpu")
        self.assertEqual(cpu.hardware.name, "eagle_cpu")
        self.assertIn("par", cpu.terms)
        self.assertAlmostEqual(cpu.coefficients["run"], 10454.4839)
        self.assertEqual(ws.resolve_model(ws.hardware("eagle-gpu")).coefficients,
                         ws.resolve_model("eagle-gpu").coefficients)
        with self.assertRaisesRegex(ws.InvalidInput,
                                    r"^model: no fitted model ships for hardware 'h100'"):
            ws.resolve_model("h100")
        with self.assertRaisesRegex(ws.InvalidInput, r"^model: give a model file, or hardware"):
            ws.resolve_model()

    def test_model_file_round_trip(self):
        model = ws.resolve_model("eagle-gpu")
        path = self.path("gpu.json")
        model.save(path)
        again = ws.resolve_model(model_file=path)
        self.assertEqual(again.coefficients, model.coefficients)
        self.assertEqual(ws.predict(self.net, self.run, model_file=path).total_j,
                         ws.predict(self.net, self.run, hardware="eagle-gpu").total_j)
        with self.assertRaisesRegex(ws.InvalidInput, r"levels differ from those of hardware"):
            ws.resolve_model("eagle-cpu", path)
        with self.assertRaisesRegex(ws.InvalidInput, r"levels differ from those of hardware"):
            ws.resolve_model(ws.hardware("eagle-cpu"), path)

    def test_coefficients_are_checked(self):
        h = ws.hardware("eagle-cpu")
        good = {"run": 1.0, "operations": 1e-10}
        self.assertEqual(ws.Model(h, good, terms="flops-only").coefficients, good)
        with self.assertRaisesRegex(ws.InvalidInput, r"^coefficient 'operations': missing"):
            ws.Model(h, {"run": 1.0}, terms="flops-only")
        with self.assertRaisesRegex(ws.InvalidInput, r"^coefficient 'run': must be a non-negative"):
            ws.Model(h, {"run": -1.0, "operations": 0.0}, terms="flops-only")
        with self.assertRaisesRegex(ws.InvalidInput, r"^terms: unknown term 'flops'"):
            ws.Model(h, good, terms="run,flops")

    def test_dtype_changes_the_bytes_not_the_steps(self):
        model = ws.resolve_model("eagle-cpu")
        fp32 = model.counts(self.net, self.run)
        fp16 = model.counts(ws.Network(784, self.net.widths, bytes_per_value=2), self.run)
        self.assertEqual(fp16["train_step"], fp32["train_step"])
        self.assertAlmostEqual(sum(fp16[f"bytes_{l}"] for l in ("L1d", "L2", "L3", "DRAM")) * 2,
                               sum(fp32[f"bytes_{l}"] for l in ("L1d", "L2", "L3", "DRAM")))

    def test_predict_needs_a_run(self):
        with self.assertRaisesRegex(ws.InvalidInput, r"^run: batch is missing"):
            ws.predict(self.net, hardware="eagle-cpu", train_examples=100, epochs=1)
        with self.assertRaises(ws.InvalidInput) as c:
            ws.predict(self.net, hardware="eagle-cpu", train_examples=100, batch=0, epochs=1)
        self.assertEqual(str(c.exception), "batch: must be positive, got 0")
        explicit = ws.predict(self.net, hardware="eagle-cpu", train_examples=56000,
                              eval_examples=14000, batch=256, epochs=3000)
        self.assertEqual(explicit.total_j,
                         ws.predict(self.net, self.run, hardware="eagle-cpu").total_j)


class Advice(unittest.TestCase):
    def test_sweep_columns_match_single_evaluations(self):
        model = ws.resolve_model("eagle-cpu")
        run = ws.butter_run("201_pol")
        advisor = ws.Advisor(model, 26, 11, run)
        sizes = ws.parse_sizes("2^10..2^20")
        self.assertEqual(sizes, [1 << k for k in range(10, 21)])
        sweep = advisor.sweep("rectangle", 4, sizes)
        self.assertIsInstance(sweep["energy_j"], np.ndarray)
        self.assertEqual(sweep["set_levels"].shape, (len(sizes), 4))
        for i, size in enumerate(sizes):
            e = advisor.evaluate("rectangle", 4, size)
            self.assertEqual(e["status"], sweep["status"][i])
            if e["status"] == "ok":
                self.assertEqual(e["energy"].total_j, sweep["energy_j"][i])
                net = ws.Network(26, sweep["widths"][i])
                self.assertTrue(math.isclose(model.predict(net, run).total_j, e["energy"].total_j,
                                             rel_tol=1e-12))
        best = sweep["best"]
        ok = np.array(sweep["status"]) == "ok"
        self.assertEqual(sweep["energy_per_example_j"][best["index"]],
                         np.min(sweep["energy_per_example_j"][ok]))
        groups = sum(sweep["energy_by_group_j"].values())
        np.testing.assert_allclose(groups[ok], sweep["energy_j"][ok], rtol=1e-12)
        for s in sweep["spills"]:
            i = s["index"]
            k = sweep["sets"].index(s["set"])
            self.assertNotEqual(sweep["set_levels"][i][k], sweep["set_levels"][i - 1][k])

    def test_advise_sweeps_every_shape_and_depth(self):
        sweeps = ws.advise(ws.resolve_model("eagle-gpu"), 784, 10, ws.butter_run("mnist"),
                           shapes=["rectangle", "trapezoid"], depths=[3, 5], sizes=[4096, 65536])
        self.assertEqual([(s["shape"], s["depth"]) for s in sweeps],
                         [("rectangle", 3), ("rectangle", 5), ("trapezoid", 3), ("trapezoid", 5)])
        with self.assertRaisesRegex(ws.InvalidInput, r"^sizes: "):
            ws.parse_sizes("2^x")
        edges = ws.cache_edges(ws.hardware("eagle-cpu"))
        self.assertEqual(edges[0], {"level": "L1d", "capacity_bytes": 32768, "parameters": 8192.0})


if __name__ == "__main__":
    unittest.main()
