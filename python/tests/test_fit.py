"""Fitting from Python: from the shipped BUTTER-E sample (the shipped preset comes out again),
from in-memory arrays and from a runs file written from the same runs (the known coefficients
come out), and the errors of bad runs."""

import csv
import json
import math
import os
import unittest

import numpy as np

import wsenergy as ws
from support import DATA_DIR, ScratchTest

TERMS = "run,train_step,operations"
TRUTH = {"run": 5000.0, "train_step": 0.5, "operations": 3e-10}
EXACT = dict(terms=TERMS, loss="none", ordered_bytes=False, search_thresholds=False)


def synthetic_runs():
    """Runs of several sizes, depths and step counts with energies from TRUTH exactly."""
    h = ws.hardware("eagle-cpu")
    model = ws.Model(h, TRUTH, terms=TERMS)
    runs = []
    for i, (size, depth) in enumerate([(2**10, 2), (2**12, 3), (2**14, 4), (2**16, 2), (2**18, 3),
                                       (2**20, 5), (2**13, 6), (2**17, 2)]):
        net = ws.Network.from_shape("rectangle", depth, 26, 11, size)
        run = ws.TrainingRun(train_examples=1000 + 700 * i, batch=64 * (1 + i % 3),
                             epochs=5 + i, eval_examples=100 * i)
        runs.append((net, run, model.predict(net, run).total_j))
    return h, runs


class FitSample(unittest.TestCase):
    def test_the_gpu_sample_gives_the_shipped_preset_again(self):
        r = ws.fit(os.path.join(DATA_DIR, "butter_e", "runs.csv"), "eagle-gpu")
        self.assertTrue(r.converged)
        self.assertEqual(r.runs, 1873)
        shipped = ws.resolve_model("eagle-gpu").coefficients
        errors = {e["name"]: e["std_error"] for e in r.estimates}
        for name, value in r.model.coefficients.items():
            self.assertLessEqual(abs(value - shipped[name]),
                                 1e-3 * abs(shipped[name]) + 1e-2 * errors[name], name)
        self.assertLess(r.accuracy["mape"], 0.05)
        self.assertIsInstance(r.predicted_j, np.ndarray)
        self.assertEqual(len(r.predicted_j), r.runs)
        ape = np.abs(r.predicted_j - r.measured_j) / r.measured_j
        self.assertAlmostEqual(float(np.mean(ape)), r.accuracy["mape"])


class FewRunRecipe(unittest.TestCase):
    def test_few_runs_blends_the_default_form_from_20_runs(self):
        default = ws.FitOptions.default(True)
        self.assertEqual(ws.FitOptions.few_runs(True, 10).blend, "")
        self.assertEqual(ws.FitOptions.few_runs(True, 15).blend, "")
        thirty = ws.FitOptions.few_runs(True, 30)
        self.assertEqual(thirty.blend, default.terms)
        self.assertNotEqual(thirty.terms, default.terms)
        self.assertEqual(ws.FitOptions.few_runs(True, 50).blend, "")
        thirty.blend = ""
        self.assertEqual(thirty.blend, "")
        with self.assertRaisesRegex(ws.InvalidInput, "nonsense"):
            thirty.blend = "run,nonsense"


class FitArrays(ScratchTest):
    def test_recovers_known_coefficients(self):
        h, runs = synthetic_runs()
        r = ws.fit_arrays(h, widths=[n.widths for n, _, _ in runs], inputs=26,
                          train_examples=np.array([run.train_examples for _, run, _ in runs]),
                          eval_examples=[run.eval_examples for _, run, _ in runs],
                          batch=[run.batch for _, run, _ in runs],
                          epochs=[run.epochs for _, run, _ in runs],
                          energy_j=np.array([e for _, _, e in runs]), **EXACT)
        self.assertTrue(r.converged)
        self.assertEqual(set(r.model.coefficients), set(TRUTH))
        for name, value in TRUTH.items():
            self.assertTrue(math.isclose(r.model.coefficients[name], value, rel_tol=1e-6), name)
        self.assertLess(r.accuracy["mape"], 1e-6)

        # The same runs in a runs file (generic schema) fit to the same model.
        path = self.path("runs.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["hardware", "widths", "inputs", "outputs", "train_examples",
                        "eval_examples", "batch", "epochs", "energy_j"])
            for net, run, energy in runs:
                w.writerow(["eagle_cpu", " ".join(map(str, net.widths)), 26, 11, run.train_examples,
                            run.eval_examples, run.batch, run.epochs, repr(energy)])
        from_file = ws.fit(path, "eagle-cpu", **EXACT)
        for name, value in r.model.coefficients.items():
            self.assertTrue(math.isclose(from_file.model.coefficients[name], value, rel_tol=1e-9))
        columns = ws.read_runs([path])
        self.assertEqual(columns["widths"], [n.widths for n, _, _ in runs])
        np.testing.assert_array_equal(columns["batch"], [run.batch for _, run, _ in runs])

        # A fit result saved is a model file that predicts as the fitted model does.
        saved = self.path("model.json")
        r.save(saved)
        with open(saved) as f:
            record = json.load(f)
        self.assertEqual(record["fit"]["loss"], "none")
        self.assertEqual(record["fit"]["runs"], len(runs))
        self.assertEqual([c["name"] for c in record["coefficients"]], list(TRUTH))
        net, run, _ = runs[3]
        self.assertEqual(ws.predict(net, run, model_file=saved).total_j,
                         r.model.predict(net, run).total_j)

    def test_bad_arrays_are_errors_naming_the_run(self):
        h = ws.hardware("eagle-cpu")
        common = dict(inputs=26, train_examples=1000, batch=64, epochs=5, **EXACT)
        with self.assertRaisesRegex(ws.InvalidInput, r"^runs: batch has 2 entries, energy_j has 3"):
            ws.fit_arrays(h, widths=[10, 11], energy_j=[1.0, 2.0, 3.0],
                          **{**common, "batch": [64, 64]})
        with self.assertRaisesRegex(ws.InvalidInput,
                                    r"^arrays\[1\]: run 'run 1': widths: layer 1 must have a "
                                    r"positive width, got -4"):
            ws.fit_arrays(h, widths=[[10, 11], [-4, 11], [10, 11]], energy_j=[1.0, 2.0, 3.0],
                          **common)
        with self.assertRaisesRegex(ws.InvalidInput, r"^arrays\[0\]: run 'run 0': energy must be "
                                                     r"positive and finite"):
            ws.fit_arrays(h, widths=[10, 11], energy_j=[0.0, 2.0, 3.0], **common)
        with self.assertRaisesRegex(ws.InvalidInput, r"^loss: expected one of none, huber, "
                                                     r"cauchy, l1, got 'l3'"):
            ws.fit_arrays(h, widths=[10, 11], energy_j=[1.0, 2.0, 3.0], **{**common, "loss": "l3"})
        with self.assertRaisesRegex(ws.InvalidInput, r"^device: expected 'cpu' or 'gpu'"):
            ws.fit_arrays(h, widths=[10, 11], energy_j=[1.0], device="tpu", **common)

    def test_no_runs_for_the_hardware(self):
        path = self.path("runs.csv")
        with open(path, "w") as f:
            f.write("hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,"
                    "energy_j\nh100,10 11,26,11,1000,0,64,5,\n")
        with self.assertRaisesRegex(ws.InvalidInput, r"no runs for hardware 'eagle_cpu'"):
            ws.fit(path, "eagle-cpu")
        with self.assertRaisesRegex(ws.InvalidInput, r"no run with a measured energy to fit"):
            ws.fit(path, "h100")


if __name__ == "__main__":
    unittest.main()
