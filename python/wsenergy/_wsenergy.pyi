"""Types of the compiled extension (python/src/*.cpp); see docs/python.md."""

from typing import Any, Optional, Sequence

import numpy as np

__version__: str
SHAPES: tuple[str, ...]
BUTTER_SHAPES: tuple[str, ...]
BUTTER_DEPTHS: tuple[int, ...]
BUTTER_SIZES: tuple[int, ...]
PRESETS: tuple[str, ...]
TERM_SETS: dict[str, list[str]]

class InvalidInput(ValueError): ...

class SizeMatch:
    target_parameters: int
    first_width: int
    widths: list[int]
    parameters: int
    relative_error: float
    accepted: bool

class Network:
    def __init__(self, inputs: int, widths: Sequence[int], bytes_per_value: int = 4) -> None: ...
    @staticmethod
    def from_shape(shape: str, depth: int, inputs: int, outputs: int, size: int,
                   bytes_per_value: int = 4) -> Network: ...
    inputs: int
    outputs: int
    depth: int
    widths: list[int]
    full_widths: list[int]
    parameters: int
    bytes_per_value: int
    parameter_bytes: int
    def operations(self, batch: int) -> dict[str, float]: ...

class Hierarchy:
    def __init__(self, name: str, levels: Sequence[tuple[str, int, int]]) -> None: ...
    name: str
    level_names: list[str]
    levels: list[dict[str, Any]]
    machine_capacity_bytes: int
    def __len__(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

class TrainingRun:
    def __init__(self, train_examples: int, batch: int, epochs: int, eval_examples: int = 0,
                 values_per_example: int = 0) -> None: ...
    train_examples: int
    eval_examples: int
    batch: int
    epochs: int
    values_per_example: int
    train_steps_per_epoch: int
    eval_steps_per_epoch: int

class Prediction:
    hardware: str
    total_j: float
    kwh: float
    by_slot: dict[str, float]
    by_term: dict[str, float]
    by_group: dict[str, float]
    by_level: dict[str, float]
    interval: Optional[dict[str, Any]]
    extrapolated: list[dict[str, Any]]
    fixed_cost: Optional[dict[str, Any]]
    interval_note: str
    def to_dict(self) -> dict[str, Any]: ...
    def __float__(self) -> float: ...

class Model:
    def __init__(self, hardware: Hierarchy, coefficients: dict[str, float],
                 terms: str = "reference", accounting: str = "default", placement: str = "hard",
                 parallel_weights: float = 1024.0, hinge_flops: float = 1073741824.0) -> None: ...
    @staticmethod
    def resolve(hardware: str = "", model_file: str = "") -> Model: ...
    hardware: Hierarchy
    terms: list[str]
    placement: str
    accounting: dict[str, float]
    thresholds: dict[str, float]
    coefficients: dict[str, float]
    def coefficient(self, name: str) -> float: ...
    def counts(self, network: Network, run: TrainingRun) -> dict[str, float]: ...
    def predict(self, network: Network, run: TrainingRun) -> Prediction: ...
    def predict_honestly(self, network: Network, run: TrainingRun, hardware: str = "",
                         model_file: str = "", level: float = 0.9) -> Prediction: ...
    def save(self, path: str) -> None: ...

class Advisor:
    def __init__(self, model: Model, inputs: int, outputs: int, run: TrainingRun) -> None: ...
    def evaluate(self, shape: str, depth: int, size: int) -> dict[str, Any]: ...
    def evaluate_widths(self, widths: Sequence[int]) -> dict[str, Any]: ...
    def sweep(self, shape: str, depth: int, sizes: Sequence[int],
              tolerance: float = 0.05) -> dict[str, Any]: ...

class FitOptions:
    def __init__(self) -> None: ...
    @staticmethod
    def default(gpu: bool) -> FitOptions: ...
    @staticmethod
    def few_runs(gpu: bool, runs: int) -> FitOptions: ...
    terms: str
    blend: str
    placement: str
    accounting: str
    residual: str
    loss: str
    loss_scale: float
    ordered_bytes: bool
    search_thresholds: bool
    nuisance: str
    drop_unidentifiable: bool
    max_iterations: int

class FitResult:
    model: Model
    estimates: list[dict[str, Any]]
    converged: bool
    kkt_satisfied: bool
    rms_residual: float
    runs: int
    notes: list[str]
    dropped: list[str]
    solver_summary: str
    nuisance_factor: Optional[dict[str, Any]]
    accuracy: dict[str, float]
    predicted_j: np.ndarray
    measured_j: np.ndarray
    def save(self, path: str) -> None: ...

class RunConfig:
    def __init__(self, run_id: str, hardware: str, network: Network, run: TrainingRun,
                 dataset: str = "", extra: Sequence[tuple[str, str]] = ...) -> None: ...

class BlockMeasurement:
    def __init__(self, out: str, meter: str = "auto", powercap_root: str = "",
                 nvml_library: str = "") -> None: ...
    meters: str
    unavailable: list[str]
    def start(self) -> None: ...
    def finish(self, config: RunConfig, command: Sequence[str], ok: bool,
               message: str) -> dict[str, Any]: ...

def search_size(shape: str, depth: int, inputs: int, outputs: int, size: int) -> SizeMatch: ...
def shape_widths(shape: str, first_width: int, depth: int, outputs: int) -> list[int]: ...
def parameter_count(inputs: int, widths: Sequence[int]) -> int: ...
def datasets() -> list[dict[str, Any]]: ...
def dataset(name: str) -> dict[str, Any]: ...
def hardware(spec: str) -> Hierarchy: ...
def detect_host(cpu_root: str = ..., meminfo: str = ...) -> Hierarchy: ...
def split_run(observations: int, batch: int = 256, epochs: int = 3000) -> TrainingRun: ...
def butter_run(dataset: str, batch: int = 256, epochs: int = 3000) -> TrainingRun: ...
def working_sets(network: Network, run: TrainingRun,
                 hardware: Hierarchy) -> dict[str, dict[str, Any]]: ...
def place_working_sets(hardware: Hierarchy, full_widths: Sequence[int], parameters: int,
                       batch: int, dataset_bytes: int,
                       bytes_per_value: int = 4) -> dict[str, dict[str, Any]]: ...
def workload(network: Network, run: TrainingRun, hardware: Hierarchy,
             accounting: str = "default") -> dict[str, Any]: ...
def terms() -> list[dict[str, str]]: ...
def counts(network: Network, run: TrainingRun, hardware: Hierarchy, terms: str = "reference",
           accounting: str = "default", parallel_weights: float = 1024.0,
           hinge_flops: float = 1073741824.0) -> dict[str, float]: ...
def parse_sizes(spec: str) -> list[int]: ...
def cache_edges(hardware: Hierarchy, bytes_per_value: int = 4) -> list[dict[str, Any]]: ...
def read_runs(paths: Sequence[str]) -> dict[str, Any]: ...
def fit_files(files: Sequence[str], hardware: Hierarchy, device: str,
              options: FitOptions) -> FitResult: ...
def fit_arrays(hardware: Hierarchy, inputs: Sequence[int], widths: Sequence[Sequence[int]],
               train_examples: Sequence[int], eval_examples: Sequence[int],
               batch: Sequence[int], epochs: Sequence[int], energy_j: Sequence[float],
               options: FitOptions) -> FitResult: ...
def implied_device(hardware: Hierarchy) -> Optional[str]: ...
