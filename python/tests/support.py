"""What the Python tests share: where the golden vectors and data are, and scratch folders."""

import os
import shutil
import tempfile
import unittest

TEST_DIR = os.environ.get("WSENERGY_TEST_DIR",
                          os.path.join(os.path.dirname(__file__), "..", "..", "tests"))
DATA_DIR = os.environ.get("WSENERGY_DATA_DIR",
                          os.path.join(os.path.dirname(__file__), "..", "..", "data"))


def golden(name: str) -> str:
    """The path of a golden file under tests/golden/."""
    return os.path.join(TEST_DIR, "golden", name)


class ScratchTest(unittest.TestCase):
    """A test case with a fresh scratch folder, `self.scratch`, removed afterwards."""

    def setUp(self) -> None:
        self.scratch = tempfile.mkdtemp(prefix="wsenergy-python-test-")
        self.addCleanup(shutil.rmtree, self.scratch, ignore_errors=True)

    def path(self, name: str) -> str:
        return os.path.join(self.scratch, name)
