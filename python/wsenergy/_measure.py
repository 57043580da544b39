"""``wsenergy.measure``: a block of Python code measured as one training run (duration always,
energy where the library's meters work: RAPL, NVML), appended as one row to a runs file that
``wsenergy fit`` reads, so that your own training loop becomes a calibration run."""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping, Optional, Sequence

from . import _wsenergy


class Measurement:
    """A measured block (use :func:`measure`). Its fields are filled when the block ends:
    ``duration_s``, ``energy_j`` (None where no meter measured energy, with ``energy_note``
    saying why), ``energy_by_domain_j``, ``meters``, ``started_at`` and ``ok`` (False when the
    block raised; the row is recorded as failed and the exception goes on)."""

    def __init__(self, out: str, config: "_wsenergy.RunConfig", meter: str,
                 command: Sequence[str]) -> None:
        self.out = out
        self.duration_s: Optional[float] = None
        self.energy_j: Optional[float] = None
        self.energy_by_domain_j: dict[str, float] = {}
        self.energy_note = ""
        self.meters: Optional[str] = None
        self.started_at: Optional[str] = None
        self.ok: Optional[bool] = None
        self._config = config
        self._command = list(command)
        # The runs file is checked and the meters opened now, before the block runs.
        self._block = _wsenergy.BlockMeasurement(
            out, meter, os.environ.get("WSENERGY_POWERCAP_ROOT", ""),
            os.environ.get("WSENERGY_NVML_LIBRARY", ""))

    def __enter__(self) -> "Measurement":
        self._block.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        ok = exc_type is None
        message = "" if ok else " ".join(f"{exc_type.__name__}: {exc}".split())
        result = self._block.finish(self._config, self._command, ok, message)
        for name, value in result.items():
            setattr(self, name, value)
        return False  # an exception of the block goes on

    def __repr__(self) -> str:
        return (f"Measurement(out={self.out!r}, duration_s={self.duration_s}, "
                f"energy_j={self.energy_j}, ok={self.ok})")


def measure(out: str, model: Any = None, *, network: Optional["_wsenergy.Network"] = None,
            inputs: Optional[int] = None, train_examples: int, batch: int, epochs: int,
            eval_examples: int = 0, hardware: str = "host", meter: str = "auto",
            run_id: str = "", dataset: str = "", config: Optional[Mapping[str, Any]] = None,
            command: Optional[Sequence[str]] = None) -> Measurement:
    """Measures the ``with`` block as one training run and appends its row to ``out``.

    The network is read from the PyTorch module ``model`` (:func:`wsenergy.torch.from_module`)
    or given as ``network``; ``train_examples``, ``batch``, ``epochs`` and ``eval_examples``
    describe what the block trains. ``hardware`` labels the row (``host`` by default: fit it
    with ``hardware="host"``); ``meter`` is ``auto``, ``rapl``, ``nvml`` or ``none``. ``config``
    adds ``KEY=VALUE`` pairs to the row's ``config`` column (the dtype's bytes per value is
    always recorded there); ``command`` defaults to this Python program's command line.

        with wsenergy.measure("runs.csv", model, train_examples=60000, batch=256, epochs=5):
            train(model)
    """
    if (model is None) == (network is None):
        raise _wsenergy.InvalidInput("measure: give a PyTorch model or a network (one of them)")
    if network is None:
        from . import torch as _torch_support
        network = _torch_support.from_module(model, inputs)
    run = _wsenergy.TrainingRun(train_examples=train_examples, batch=batch, epochs=epochs,
                                eval_examples=eval_examples)
    extra = [("bytes_per_value", str(network.bytes_per_value))]
    extra += [(str(k), str(v)) for k, v in (config or {}).items()]
    row = _wsenergy.RunConfig(run_id, hardware, network, run, dataset, extra)
    argv = list(command) if command is not None else [sys.executable, *sys.argv]
    return Measurement(os.fspath(out), row, meter, argv)
