"""PyTorch models from Python: wsenergy.torch reads the Linear layers of a module, refuses
anything else that holds parameters, and predicts as the library and the CLI do."""

import json
import os
import subprocess
import unittest

import torch

import wsenergy as ws
import wsenergy.torch as wt
from support import golden


def mlp(*widths, dtype=torch.float32):
    """A torch.nn.Sequential MLP with ReLU between its Linear layers."""
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    return torch.nn.Sequential(torch.nn.Flatten(), *layers[:-1]).to(dtype)


def cli(*args):
    """The JSON that `wsenergy ARGS --json` prints (the CLI of this build, WSENERGY_CLI)."""
    exe = os.environ.get("WSENERGY_CLI")
    if not exe:
        raise AssertionError("WSENERGY_CLI is not set: run this test through ctest")
    done = subprocess.run([exe, *args, "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"wsenergy {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


class FromModule(unittest.TestCase):
    def test_sequential_mlp(self):
        net = wt.from_module(mlp(784, 1024, 512, 10))
        self.assertEqual(net, ws.Network(784, [1024, 512, 10], 4))
        self.assertEqual(net.parameters,
                         sum(p.numel() for p in mlp(784, 1024, 512, 10).parameters()))

    def test_dtype_from_the_parameters(self):
        for dtype, size in [(torch.float16, 2), (torch.bfloat16, 2), (torch.float64, 8)]:
            with self.subTest(dtype=dtype):
                self.assertEqual(wt.from_module(mlp(20, 8, 2, dtype=dtype)).bytes_per_value, size)
        mixed = mlp(20, 8, 2)
        mixed[1].double()
        with self.assertRaisesRegex(ws.InvalidInput, r"^torch model: the Linear layers mix dtypes"):
            wt.from_module(mixed)

    def test_nested_modules_in_registration_order(self):
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = torch.nn.Sequential(torch.nn.Linear(30, 20), torch.nn.Tanh())
                self.head = torch.nn.Linear(20, 3)

            def forward(self, x):
                return self.head(self.encoder(x))

        self.assertEqual(wt.from_module(Net(), inputs=30), ws.Network(30, [20, 3]))
        with self.assertRaises(ws.InvalidInput) as c:
            wt.from_module(Net(), inputs=31)
        self.assertEqual(str(c.exception), "torch model: inputs is 31, but the first Linear layer "
                                           "'encoder.0' has in_features 30")

    def test_a_convolution_is_refused_with_its_name(self):
        model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(),
                                    torch.nn.Linear(4 * 26 * 26, 10))
        with self.assertRaises(ws.InvalidInput) as c:
            wt.from_module(model)
        self.assertEqual(str(c.exception),
                         "torch model: module '0' (Conv2d) holds parameters but is not a "
                         "torch.nn.Linear layer; only fully connected networks can be estimated")
        self.assertIsInstance(c.exception, ValueError)
        normalised = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.BatchNorm1d(8),
                                         torch.nn.Linear(8, 2))
        with self.assertRaisesRegex(ws.InvalidInput,
                                    r"module '1' \(BatchNorm1d\) holds parameters"):
            wt.from_module(normalised)

    def test_mismatched_features_and_no_linear_layer(self):
        with self.assertRaises(ws.InvalidInput) as c:
            wt.from_module(torch.nn.Sequential(torch.nn.Linear(10, 5), torch.nn.ReLU(),
                                               torch.nn.Linear(6, 2)))
        self.assertEqual(str(c.exception),
                         "torch model: Linear layer '2' has in_features 6, but the Linear layer "
                         "before it, '0', has out_features 5")
        with self.assertRaises(ws.InvalidInput) as c:
            wt.from_module(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Dropout()))
        self.assertEqual(str(c.exception), "torch model: Sequential has no torch.nn.Linear layer")
        with self.assertRaisesRegex(ws.InvalidInput, r"^torch model: expected a torch.nn.Module"):
            wt.from_module([torch.nn.Linear(2, 2)])


class Predict(unittest.TestCase):
    def test_equals_the_library_on_the_same_network(self):
        model = mlp(784, 256, 10)
        p = wt.predict(model, train_examples=60000, eval_examples=10000, batch=128, epochs=5,
                       hardware="eagle-cpu")
        run = ws.TrainingRun(train_examples=60000, eval_examples=10000, batch=128, epochs=5)
        direct = ws.resolve_model("eagle-cpu").predict_honestly(ws.Network(784, [256, 10]), run,
                                                                 hardware="eagle-cpu")
        self.assertEqual(p.total_j, direct.total_j)
        self.assertEqual(p.by_slot, direct.by_slot)
        # The presets were fitted at 3000 epochs only: at 5 the fixed cost is read per epoch (the
        # central value), the per-run reading is larger, and the interval spans both.
        plain = ws.resolve_model("eagle-cpu").predict(ws.Network(784, [256, 10]), run)
        self.assertEqual(p.fixed_cost["epochs_fitted"], 3000)
        self.assertEqual(p.fixed_cost["per_epoch_j"], p.total_j)
        self.assertAlmostEqual(p.fixed_cost["per_run_j"], plain.total_j, delta=1e-6 * plain.total_j)
        self.assertLess(p.total_j, plain.total_j)
        self.assertLessEqual(p.interval["low_j"], p.total_j)
        self.assertGreaterEqual(p.interval["high_j"], plain.total_j)
        self.assertFalse(p.interval["covered"])  # 5 epochs and batch 128: outside the domain
        self.assertIn("epochs", [x["dimension"] for x in p.extrapolated])
        # A model object alone carries no interval data.
        self.assertIsNone(plain.interval)

    def test_batch_zero_raises_the_library_text(self):
        with self.assertRaises(ws.InvalidInput) as c:
            wt.predict(mlp(8, 4, 2), train_examples=100, batch=0, epochs=1, hardware="eagle-cpu")
        self.assertEqual(str(c.exception), "batch: must be positive, got 0")

    def test_equals_the_cli_with_widths(self):
        # `wsenergy predict --widths ...` (explicit networks on the command line), in each dtype.
        for dtype, name in [(torch.float32, "fp32"), (torch.float16, "fp16"),
                            (torch.bfloat16, "bf16"), (torch.float64, "fp64")]:
            with self.subTest(dtype=name):
                model = mlp(784, 1024, 512, 10, dtype=dtype)
                p = wt.predict(model, train_examples=60000, eval_examples=10000, batch=256,
                               epochs=20, hardware="eagle-cpu")
                j = cli("predict", "--hardware", "eagle-cpu", "--widths", "1024,512,10",
                        "--inputs", "784", "--train-examples", "60000", "--eval-examples",
                        "10000", "--batch", "256", "--epochs", "20", "--dtype", name)
                self.assertAlmostEqual(j["energy_j"] / p.total_j, 1.0, places=12)

    def test_equals_the_cli_on_the_golden_cases(self):
        with open(golden("model_v2_golden.json")) as f:
            doc = json.load(f)
        for device in ("cpu", "gpu"):
            for ex in doc[device]["examples"]:
                with self.subTest(device=device, dataset=ex["dataset"], size=ex["size"]):
                    j = cli("predict", "--hardware", f"eagle-{device}", "--shape", ex["shape"],
                            "--size", str(ex["size"]), "--depth", str(ex["depth"]),
                            "--inputs", str(ex["inputs"]), "--outputs", str(ex["outputs"]),
                            "--observations", str(ex["n_obs"]))
                    self.assertEqual(j["widths"], ex["widths"])
                    widths = [ex["inputs"], *ex["widths"]]
                    run = ws.split_run(ex["n_obs"])
                    p = wt.predict(mlp(*widths), hardware=f"eagle-{device}",
                                   train_examples=run.train_examples,
                                   eval_examples=run.eval_examples, batch=run.batch,
                                   epochs=run.epochs)
                    self.assertAlmostEqual(j["energy_j"] / p.total_j, 1.0, places=12)
                    for term, joules in j["by_term_j"].items():
                        self.assertAlmostEqual(joules, p.by_term[term], delta=1e-9 * p.total_j)


if __name__ == "__main__":
    unittest.main()
