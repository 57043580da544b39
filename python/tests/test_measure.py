"""wsenergy.measure from Python: a block of code measured into a runs file (duration always,
energy from a fake RAPL tree whose counter the block advances), read back and refused where the
runs file cannot take the row."""

import os
import unittest

import numpy as np
import torch

import wsenergy as ws
from support import ScratchTest


def fake_rapl(root, energy_uj):
    """A powercap tree with one package domain whose counter reads `energy_uj`."""
    d = os.path.join(root, "intel-rapl:0")
    os.makedirs(d, exist_ok=True)
    for name, value in [("name", "package-0"), ("energy_uj", energy_uj),
                        ("max_energy_range_uj", 262143328850)]:
        with open(os.path.join(d, name), "w") as f:
            f.write(f"{value}\n")


class Measure(ScratchTest):
    def setUp(self):
        super().setUp()
        self.model = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(),
                                         torch.nn.Linear(16, 3))
        self.runs = self.path("runs.csv")
        self.powercap = self.path("powercap")
        fake_rapl(self.powercap, 1_000_000)
        os.environ["WSENERGY_POWERCAP_ROOT"] = self.powercap
        os.environ["WSENERGY_NVML_LIBRARY"] = self.path("no-libnvidia-ml.so")
        self.addCleanup(os.environ.pop, "WSENERGY_POWERCAP_ROOT", None)
        self.addCleanup(os.environ.pop, "WSENERGY_NVML_LIBRARY", None)

    def train(self, steps):
        opt = torch.optim.SGD(self.model.parameters(), lr=0.01)
        x, y = torch.randn(64, 20), torch.randint(0, 3, (64,))
        for _ in range(steps):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(self.model(x), y).backward()
            opt.step()

    def test_a_training_loop_becomes_a_row(self):
        with ws.measure(self.runs, self.model, train_examples=64, batch=64, epochs=3,
                        run_id="loop-1", config={"lr": 0.01}) as m:
            self.train(3)
            fake_rapl(self.powercap, 3_500_000)  # the package used 2.5 J meanwhile
        self.assertTrue(m.ok)
        self.assertEqual(m.meters, "rapl")
        self.assertAlmostEqual(m.energy_j, 2.5)
        self.assertEqual(m.energy_by_domain_j, {"package-0": 2.5})
        self.assertGreater(m.duration_s, 0)
        runs = ws.read_runs([self.runs])
        self.assertEqual(runs["run_id"], ["loop-1"])
        self.assertEqual(runs["widths"], [[16, 3]])
        np.testing.assert_array_equal(runs["inputs"], [20])
        np.testing.assert_array_equal(runs["train_examples"], [64])
        np.testing.assert_array_equal(runs["epochs"], [3])
        np.testing.assert_allclose(runs["energy_j"], [2.5])
        np.testing.assert_allclose(runs["duration_s"], [m.duration_s], rtol=1e-12)
        self.assertEqual(runs["hardware"], ["host"])
        with open(self.runs) as f:
            text = f.read()
        self.assertIn("bytes_per_value=4;lr=0.01", text)

        # A second run appends a row under the same header.
        with ws.measure(self.runs, network=ws.Network(20, [16, 3]), train_examples=64, batch=32,
                        epochs=1, meter="none"):
            pass
        runs = ws.read_runs([self.runs])
        self.assertEqual(len(runs["run_id"]), 2)
        self.assertTrue(np.isnan(runs["energy_j"][1]))

    def test_without_a_meter_the_duration_is_recorded_and_why_not_the_energy(self):
        with ws.measure(self.runs, self.model, train_examples=64, batch=64, epochs=1,
                        meter="none") as m:
            self.train(1)
        self.assertIsNone(m.energy_j)
        self.assertIn("no meter was asked for", m.energy_note)
        self.assertGreater(m.duration_s, 0)

    def test_a_block_that_raises_is_a_failed_row_and_the_error_goes_on(self):
        with self.assertRaisesRegex(RuntimeError, "diverged"):
            with ws.measure(self.runs, self.model, train_examples=64, batch=64, epochs=1) as m:
                raise RuntimeError("loss diverged\nat step 3")
        self.assertFalse(m.ok)
        runs = ws.read_runs([self.runs])
        self.assertEqual(list(runs["ok"]), [False])
        with open(self.runs) as f:
            self.assertIn("RuntimeError: loss diverged at step 3", f.read())

    def test_bad_places_and_inputs_fail_before_the_block(self):
        ran = []
        with self.assertRaisesRegex(ws.InvalidInput, "missing-folder"):
            with ws.measure(self.path("missing-folder/runs.csv"), self.model, train_examples=64,
                            batch=64, epochs=1):
                ran.append(1)
        with open(self.runs, "w") as f:
            f.write("not,a,runs,file\n")
        with self.assertRaisesRegex(ws.InvalidInput, r"runs.csv:1: not a runs file"):
            with ws.measure(self.runs, self.model, train_examples=64, batch=64, epochs=1):
                ran.append(2)
        with self.assertRaisesRegex(ws.InvalidInput, r"^batch: must be positive, got 0"):
            with ws.measure(self.path("b.csv"), self.model, train_examples=64, batch=0, epochs=1):
                ran.append(3)
        with self.assertRaisesRegex(ws.InvalidInput, r"^meter: unknown meter 'watts'"):
            with ws.measure(self.path("c.csv"), self.model, train_examples=64, batch=4, epochs=1,
                            meter="watts"):
                ran.append(4)
        with self.assertRaisesRegex(ws.InvalidInput, r"Conv2d"):
            with ws.measure(self.path("d.csv"), torch.nn.Conv2d(1, 2, 3), train_examples=64,
                            batch=4, epochs=1):
                ran.append(5)
        self.assertEqual(ran, [])
        self.assertFalse(os.path.exists(self.path("b.csv")))


if __name__ == "__main__":
    unittest.main()
