"""Predict and explain the energy of training fully connected networks before training them.

The energy of a training run follows where its working sets (activations, parameters and
gradients, the data set) land in the machine's caches, plus fixed per-step costs. This package is
the Python face of the wsenergy C++ library: the same headers, compiled into ``_wsenergy``.

    >>> import wsenergy
    >>> net = wsenergy.Network(784, [1024, 512, 10])            # inputs, widths, fp32
    >>> run = wsenergy.TrainingRun(train_examples=60000, batch=256, epochs=20)
    >>> wsenergy.predict(net, run, hardware="eagle-gpu").total_j  # joules, with a breakdown

``wsenergy.torch`` reads networks from PyTorch modules; ``wsenergy.measure`` turns a block of
your own training code into a measured run that ``wsenergy.fit`` can calibrate a model on.
Bad input raises :class:`InvalidInput` (a :class:`ValueError`) with the library's one-line text.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

from . import _wsenergy
from ._wsenergy import (
    BUTTER_DEPTHS,
    BUTTER_SHAPES,
    BUTTER_SIZES,
    PRESETS,
    SHAPES,
    TERM_SETS,
    Advisor,
    FitOptions,
    FitResult,
    Hierarchy,
    InvalidInput,
    Model,
    Network,
    Prediction,
    SizeMatch,
    TrainingRun,
    __version__,
    butter_run,
    cache_edges,
    counts,
    dataset,
    datasets,
    detect_host,
    hardware,
    parameter_count,
    parse_sizes,
    place_working_sets,
    read_runs,
    search_size,
    shape_widths,
    split_run,
    terms,
    working_sets,
    workload,
)
from ._measure import Measurement, measure

__all__ = [
    "BUTTER_DEPTHS", "BUTTER_SHAPES", "BUTTER_SIZES", "PRESETS", "SHAPES", "TERM_SETS",
    "Advisor", "FitOptions", "FitResult", "Hierarchy", "InvalidInput", "Measurement", "Model",
    "Network", "Prediction", "SizeMatch", "TrainingRun", "__version__", "advise", "butter_run",
    "cache_edges", "counts", "dataset", "datasets", "detect_host", "fit", "fit_arrays",
    "hardware", "measure", "parameter_count", "parse_sizes", "place_working_sets", "predict",
    "read_runs", "resolve_model", "search_size", "shape_widths", "split_run", "terms",
    "training_run", "working_sets", "workload",
]

PathLike = Union[str, "os.PathLike[str]"]
HardwareLike = Union[str, Hierarchy]


def _hierarchy(spec: HardwareLike) -> Hierarchy:
    """A hierarchy object as is, or one resolved from a preset name, ``host`` or a JSON file."""
    return spec if isinstance(spec, Hierarchy) else hardware(os.fspath(spec))


def resolve_model(hardware: Optional[HardwareLike] = None,
                  model_file: Optional[PathLike] = None) -> Model:
    """The model to predict with: a model file written by ``wsenergy fit`` (checked against
    ``hardware`` when both are given), or the shipped fitted model of ``hardware``
    (``eagle-cpu``, ``eagle-gpu``)."""
    if isinstance(hardware, Hierarchy):
        if model_file is None:
            return Model.resolve(hardware=hardware.name)
        m = Model.resolve(model_file=os.fspath(model_file))
        sizes = [(l["size_bytes"], l["units"]) for l in hardware.levels]
        if sizes != [(l["size_bytes"], l["units"]) for l in m.hardware.levels]:
            raise InvalidInput(
                f"{os.fspath(model_file)}: the model was fitted for hierarchy "
                f"'{m.hardware.name}', whose levels differ from those of hardware "
                f"'{hardware.name}'")
        return m
    return Model.resolve(hardware="" if hardware is None else os.fspath(hardware),
                         model_file="" if model_file is None else os.fspath(model_file))


def training_run(run: Optional[TrainingRun] = None, *, train_examples: Optional[int] = None,
                 batch: Optional[int] = None, epochs: Optional[int] = None,
                 eval_examples: int = 0) -> TrainingRun:
    """``run`` as is, or a run from its fields (explicit networks evaluate nothing by default)."""
    if run is not None:
        if train_examples is not None or batch is not None or epochs is not None:
            raise InvalidInput("run: give a TrainingRun, or train_examples, batch and epochs, "
                               "not both")
        return run
    for name, value in (("train_examples", train_examples), ("batch", batch), ("epochs", epochs)):
        if value is None:
            raise InvalidInput(f"run: {name} is missing (give a TrainingRun, or train_examples, "
                               "batch and epochs)")
    return TrainingRun(train_examples=int(train_examples), batch=int(batch), epochs=int(epochs),
                       eval_examples=int(eval_examples))


def predict(network: Network, run: Optional[TrainingRun] = None, *,
            hardware: Optional[HardwareLike] = None, model_file: Optional[PathLike] = None,
            model: Optional[Model] = None, train_examples: Optional[int] = None,
            batch: Optional[int] = None, epochs: Optional[int] = None,
            eval_examples: int = 0, interval_level: float = 0.9) -> Prediction:
    """Predicted energy of training ``network`` as ``run`` (or ``train_examples``, ``batch``,
    ``epochs`` and ``eval_examples``), with its breakdown by slot, term, group and level.

    The model is ``model``, else ``model_file`` or the shipped fitted model of ``hardware``
    (see :func:`resolve_model`). With a model file or a shipped model the prediction is the one
    ``wsenergy predict`` gives: it carries its ``interval`` at ``interval_level``, the dimensions
    outside the fitted domain (``extrapolated``) and, away from the one epoch count the model was
    fitted at, the two readings of the fixed cost (``fixed_cost``; the per-epoch one central). A
    ``model`` object alone has no interval data: its ``interval`` is None."""
    run = training_run(run, train_examples=train_examples, batch=batch, epochs=epochs,
                       eval_examples=eval_examples)
    if model is not None:
        return model.predict(network, run)
    model = resolve_model(hardware, model_file)
    name = hardware.name if isinstance(hardware, Hierarchy) else (hardware or "")
    return model.predict_honestly(network, run,
                                  hardware="" if model_file is not None else name,
                                  model_file=os.fspath(model_file) if model_file else "",
                                  level=interval_level)


def advise(model: Model, inputs: int, outputs: int, run: TrainingRun, *,
           shapes: Sequence[str] = ("rectangle",), depths: Sequence[int] = (2, 4, 8),
           sizes: Union[str, Sequence[int]] = "2^10..2^24", tolerance: float = 0.05
           ) -> list[dict[str, Any]]:
    """The advisor over every shape and depth: one sweep per pair, each a dict of NumPy columns
    (``target_parameters``, ``energy_j``, ``energy_per_example_j``, ``set_levels``, ...) with its
    ``spills`` (sizes where a set moves to another level) and ``best`` (least energy per
    example)."""
    if not shapes:
        raise InvalidInput("shape: no shape given")
    if not depths:
        raise InvalidInput("depth: no depth given")
    size_list = parse_sizes(sizes) if isinstance(sizes, str) else [int(s) for s in sizes]
    a = Advisor(model, inputs, outputs, run)
    return [a.sweep(s, int(d), size_list, tolerance) for s in shapes for d in depths]


def _fit_options(h: Hierarchy, device: Optional[str], options: dict[str, Any]) -> FitOptions:
    """The device's default recipe with the options given (those that are not None) set."""
    if device not in (None, "cpu", "gpu"):
        raise InvalidInput(f"device: expected 'cpu' or 'gpu', got '{device}'")
    gpu = device == "gpu" or (device is None and _wsenergy.implied_device(h) == "gpu")
    o = FitOptions.default(gpu)
    for name, value in options.items():
        if value is not None:
            setattr(o, name, value)
    return o


def fit(runs: Union[PathLike, Sequence[PathLike]], hardware: HardwareLike, *,
        device: Optional[str] = None, **options: Any) -> FitResult:
    """Fits a model to the runs measured on ``hardware`` in runs files (BUTTER-E or generic
    schema; a folder stands for its ``.csv`` shards), as ``wsenergy fit`` does.

    ``device`` (``cpu``/``gpu``) picks the BUTTER-E node type where the hardware does not imply
    it. ``options`` are :class:`FitOptions` fields: ``terms``, ``placement``, ``accounting``,
    ``residual``, ``loss``, ``loss_scale``, ``ordered_bytes``, ``nuisance``,
    ``search_thresholds``, ``drop_unidentifiable``, ``max_iterations``, ``blend`` (the terms of a
    second form averaged with the first)."""
    h = _hierarchy(hardware)
    one = isinstance(runs, (str, os.PathLike))
    files = [os.fspath(runs)] if one else [os.fspath(r) for r in runs]
    return _wsenergy.fit_files(files, h, device or "", _fit_options(h, device, options))


def _column(name: str, values: Any, n: int) -> list:
    """A per-run column as a list of n entries: a scalar is repeated."""
    if isinstance(values, (int, float)) or (hasattr(values, "ndim") and values.ndim == 0):
        return [values.item() if hasattr(values, "item") else values] * n
    out = values.tolist() if hasattr(values, "tolist") else list(values)
    if len(out) != n:
        raise InvalidInput(f"runs: {name} has {len(out)} entries, energy_j has {n}; "
                           "give one per run")
    return out


def fit_arrays(hardware: HardwareLike, *, widths: Sequence[Any], inputs: Any, train_examples: Any,
               batch: Any, epochs: Any, energy_j: Sequence[float], eval_examples: Any = 0,
               device: Optional[str] = None, **options: Any) -> FitResult:
    """Fits a model to runs held in memory, one entry per run in each column (NumPy arrays,
    lists, or a scalar for a value every run shares). ``widths`` is one list of layer widths per
    run, or a single list for all. ``options`` as for :func:`fit`."""
    h = _hierarchy(hardware)
    energies = [float(e) for e in _column("energy_j", energy_j, len(energy_j))]
    n = len(energies)
    one_network = (widths.ndim == 1) if hasattr(widths, "ndim") else (
        len(widths) > 0 and not hasattr(widths[0], "__len__"))
    if one_network:
        widths = [list(widths)] * n
    width_lists = [[int(w) for w in ws] for ws in _column("widths", widths, n)]
    ints = {name: [int(v) for v in _column(name, values, n)]
            for name, values in (("inputs", inputs), ("train_examples", train_examples),
                                 ("eval_examples", eval_examples), ("batch", batch),
                                 ("epochs", epochs))}
    return _wsenergy.fit_arrays(h, ints["inputs"], width_lists, ints["train_examples"],
                                ints["eval_examples"], ints["batch"], ints["epochs"], energies,
                                _fit_options(h, device, options))
