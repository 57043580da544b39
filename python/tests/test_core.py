"""Networks, the size search, hierarchies, working sets and workload counts from Python, checked
against the golden vectors the C++ tests use (tests/golden/)."""

import csv
import json
import os
import unittest


import wsenergy as ws
from support import ScratchTest, golden


def widths_of(text):
    return [int(w) for w in text.split()]


class SizeSearch(unittest.TestCase):
    def test_reproduces_every_golden_vector(self):
        with open(golden("size_search.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertGreaterEqual(len(rows), 50)
        for row in rows:
            with self.subTest(row=row):
                m = ws.search_size(row["shape"], int(row["depth"]), int(row["inputs"]),
                                   int(row["outputs"]), int(row["target_size"]))
                self.assertEqual(m.widths, widths_of(row["widths"]))
                self.assertEqual(m.parameters, int(row["parameters"]))
                self.assertEqual(m.accepted, row["accepted"] == "yes")

    def test_network_from_shape_is_the_search_result(self):
        net = ws.Network.from_shape("trapezoid", 5, 4, 1, 1024)
        m = ws.search_size("trapezoid", 5, 4, 1, 1024)
        self.assertEqual(net.widths, m.widths)
        self.assertEqual(net.parameters, m.parameters)
        self.assertEqual(ws.shape_widths("trapezoid", 25, 5, 1), [25, 19, 13, 7, 1])

    def test_rejected_size_is_an_error(self):
        with self.assertRaisesRegex(ws.InvalidInput, r"^size: no rectangle network of depth 3"):
            ws.Network.from_shape("rectangle", 3, 784, 10, 1024)

    def test_unknown_shape_names_the_known_ones(self):
        with self.assertRaisesRegex(ws.InvalidInput, r"^shape: unknown shape 'round' \(known: "):
            ws.search_size("round", 3, 4, 1, 100)


class Networks(unittest.TestCase):
    def test_counts(self):
        net = ws.Network(784, [1024, 512, 10])
        self.assertEqual(net.parameters, 785 * 1024 + 1025 * 512 + 513 * 10)
        self.assertEqual(net.parameters, ws.parameter_count(784, [1024, 512, 10]))
        self.assertEqual(net.full_widths, [784, 1024, 512, 10])
        self.assertEqual((net.inputs, net.outputs, net.depth), (784, 10, 3))
        self.assertEqual(net.parameter_bytes, 4 * net.parameters)
        self.assertEqual(ws.Network(784, [1024, 512, 10], bytes_per_value=2).parameter_bytes,
                         2 * net.parameters)
        ops = net.operations(batch=256)
        self.assertEqual(ops["forward"],
                         256 * (784 * 1024 + 1024 + 1024 * 512 + 512 + 512 * 10 + 10))

    def test_bad_widths_raise_the_library_text(self):
        cases = [
            (lambda: ws.Network(10, [5, 0, 2]),
             "widths: layer 2 must have a positive width, got 0"),
            (lambda: ws.Network(10, [5, -3]), "widths: layer 2 must have a positive width, got -3"),
            (lambda: ws.Network(0, [5, 2]), "inputs: must be positive, got 0"),
            (lambda: ws.Network(10, [5]), "depth: must be at least 2, got 1"),
            (lambda: ws.Network(10, [5, 2], bytes_per_value=3),
             "bytes per value: must be 1, 2, 4 or 8, got 3"),
        ]
        for make, text in cases:
            with self.subTest(text=text):
                with self.assertRaises(ws.InvalidInput) as c:
                    make()
                self.assertEqual(str(c.exception), text)
                self.assertIsInstance(c.exception, ValueError)


class Runs(unittest.TestCase):
    def test_butter_run_is_the_80_20_split(self):
        r = ws.butter_run("mnist")
        self.assertEqual((r.train_examples, r.eval_examples, r.batch, r.epochs),
                         (56000, 14000, 256, 3000))
        self.assertEqual(r.train_steps_per_epoch, 219)
        self.assertEqual(ws.dataset("mnist")["inputs"], 784)
        self.assertEqual(len(ws.datasets()), 13)

    def test_bad_runs_raise_the_library_text(self):
        for kwargs, text in [
            (dict(train_examples=100, batch=0, epochs=1), "batch: must be positive, got 0"),
            (dict(train_examples=100, batch=-4, epochs=1), "batch: must be positive, got -4"),
            (dict(train_examples=100, batch=10, epochs=0), "epochs: must be positive, got 0"),
            (dict(train_examples=0, batch=10, epochs=1),
             "training examples: must be positive, got 0"),
        ]:
            with self.subTest(kwargs=kwargs):
                with self.assertRaises(ws.InvalidInput) as c:
                    ws.TrainingRun(**kwargs)
                self.assertEqual(str(c.exception), text)
        with self.assertRaisesRegex(ws.InvalidInput, r"^dataset: unknown data set 'iris'"):
            ws.butter_run("iris")


class Hardware(ScratchTest):
    def test_presets(self):
        cpu = ws.hardware("eagle-cpu")
        self.assertEqual(cpu.name, "eagle_cpu")
        self.assertEqual(cpu.level_names, ["L1d", "L2", "L3", "DRAM"])
        self.assertEqual(cpu.levels[0], {"name": "L1d", "size_bytes": 32768, "units": 36})
        self.assertEqual(len(ws.hardware("h100")), 3)
        self.assertEqual(set(ws.PRESETS),
                         {"eagle-cpu", "eagle-gpu", "v100-pcie", "a100", "h100", "h200"})
        with self.assertRaisesRegex(ws.InvalidInput, r"^hardware: 'tpu' is neither a preset"):
            ws.hardware("tpu")

    def test_hierarchy_from_levels_and_json_file(self):
        h = ws.Hierarchy("toy", [("L1", 1024, 2), ("DRAM", 1 << 20, 1)])
        self.assertEqual(h.machine_capacity_bytes, 2048 + (1 << 20))
        path = self.path("toy.json")
        with open(path, "w") as f:
            json.dump(h.to_dict(), f)
        self.assertEqual(ws.hardware(path), h)
        with self.assertRaisesRegex(ws.InvalidInput, r"^hierarchy 'bad': level 1 \(L1\): "):
            ws.Hierarchy("bad", [("L1", 0, 2), ("DRAM", 1 << 20, 1)])

    def test_detect_host_reads_a_sysfs_tree(self):
        cpu = self.path("cpu")
        for n, (l1_shared, l2_shared) in enumerate([("0", "0-1"), ("1", "0-1")]):
            for index, (level, kind, size, shared) in enumerate(
                    [(1, "Data", "32K", l1_shared), (1, "Instruction", "32K", l1_shared),
                     (2, "Unified", "1024K", l2_shared)]):
                d = os.path.join(cpu, f"cpu{n}", "cache", f"index{index}")
                os.makedirs(d)
                for name, value in [("level", level), ("type", kind), ("size", size),
                                    ("shared_cpu_list", shared)]:
                    with open(os.path.join(d, name), "w") as f:
                        f.write(f"{value}\n")
        meminfo = self.path("meminfo")
        with open(meminfo, "w") as f:
            f.write("MemTotal:       16384 kB\n")
        h = ws.detect_host(cpu, meminfo)
        self.assertEqual(h.levels, [{"name": "L1d", "size_bytes": 32768, "units": 2},
                                    {"name": "L2", "size_bytes": 1 << 20, "units": 1},
                                    {"name": "DRAM", "size_bytes": 16384 * 1024, "units": 1}])
        with self.assertRaisesRegex(ws.InvalidInput, r"does not exist, so the cache hierarchy"):
            ws.detect_host(self.path("none"), meminfo)


class WorkingSets(unittest.TestCase):
    def test_placements_reproduce_the_authors_printed_values(self):
        with open(golden("working_sets.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 30)
        for row in rows:
            with self.subTest(row=row):
                widths = widths_of(row["widths"])
                full = [int(row["inputs"])] + widths
                sets = ws.place_working_sets(ws.hardware(row["hardware"]), full,
                                             int(row["parameters"]), int(row["batch"]),
                                             int(row["dataset_bytes"]))
                p = sets[row["set"]]
                self.assertEqual(p["level"] + 1, int(row["level"]))
                for field in ("cached", "occupied", "singular", "singular_occupied", "effective"):
                    self.assertEqual(p[field], int(row[field]), field)

    def test_working_sets_of_a_network_are_the_placement_of_its_run(self):
        net = ws.Network(4, [13, 13, 1])
        run = ws.butter_run("529_pollen")
        sets = ws.working_sets(net, run, ws.hardware("eagle-cpu"))
        self.assertEqual(list(sets), ["inter_layer", "forward", "backward", "dataset"])
        # data set bytes: 4 B x 3848 rows x (4 inputs + 1 output)
        direct = ws.place_working_sets(ws.hardware("eagle-cpu"), [4, 13, 13, 1], 261, 256, 76960)
        self.assertEqual(sets, direct)
        self.assertEqual(sets["forward"]["level_name"], "L1d")

    def test_a_set_larger_than_main_memory_is_an_error(self):
        tiny = ws.Hierarchy("tiny", [("L1", 1024, 1), ("DRAM", 4096, 1)])
        with self.assertRaisesRegex(ws.InvalidInput, r"^working set: .* do not fit in main memory"):
            ws.working_sets(ws.Network(100, [100, 10]), ws.TrainingRun(1000, 10, 1), tiny)


class Workload(unittest.TestCase):
    def test_counts_of_a_run(self):
        net = ws.Network(784, [64, 10])
        run = ws.TrainingRun(train_examples=1000, batch=100, epochs=3, eval_examples=250)
        w = ws.workload(net, run, ws.hardware("eagle-cpu"))
        self.assertEqual(w["train_steps"], 30)
        self.assertEqual(w["eval_steps"], 9)  # ceil(250 / 100) x 3
        self.assertEqual(w["layer_train_steps"], 60)
        ops = net.operations(100)
        self.assertAlmostEqual(w["operations"],
                               30 * (ops["forward"] + ops["backward"]) + 9 * ops["forward"])
        self.assertAlmostEqual(sum(w["bytes_by_level"].values()), w["total_bytes"])
        self.assertEqual(w["dataset_bytes"], 4 * 1250 * (784 + 10))
        # Half the bytes per value, half the traffic.
        half = ws.workload(ws.Network(784, [64, 10], 2), run, ws.hardware("eagle-cpu"))
        self.assertAlmostEqual(half["total_bytes"] * 2, w["total_bytes"])
        only = ws.workload(net, run, ws.hardware("eagle-cpu"), accounting="training_only")
        self.assertLess(only["total_bytes"], w["total_bytes"])
        with self.assertRaisesRegex(ws.InvalidInput, r"^accounting: expected 'default' or"):
            ws.workload(net, run, ws.hardware("eagle-cpu"), accounting="all")


class TypeStub(unittest.TestCase):
    """_wsenergy.pyi names what the extension has, and the extension has nothing it does not."""

    def test_stub_matches_the_extension(self):
        import ast
        from wsenergy import _wsenergy
        stub = os.path.join(os.path.dirname(ws.__file__), "_wsenergy.pyi")
        with open(stub) as f:
            tree = ast.parse(f.read())
        declared = {}
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                declared[node.name] = {n.target.id if isinstance(n, ast.AnnAssign) else n.name
                                       for n in node.body
                                       if isinstance(n, (ast.AnnAssign, ast.FunctionDef))}
            elif isinstance(node, ast.FunctionDef):
                declared[node.name] = set()
            elif isinstance(node, ast.AnnAssign):
                declared[node.target.id] = set()
        public = {n for n in dir(_wsenergy) if not n.startswith("_")} | {"__version__"}
        self.assertEqual(set(declared), public)
        for name, members in declared.items():
            for member in members - {"__init__"}:
                self.assertTrue(hasattr(getattr(_wsenergy, name), member), f"{name}.{member}")


if __name__ == "__main__":
    unittest.main()
