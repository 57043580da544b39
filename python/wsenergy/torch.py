"""PyTorch models as wsenergy networks, and the one-call pre-flight estimate.

    >>> import torch, wsenergy.torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
    ...                             torch.nn.Linear(512, 10))
    >>> wsenergy.torch.predict(model, train_examples=60000, batch=256, epochs=10,
    ...                        hardware="eagle-gpu").total_j
"""

from __future__ import annotations

from typing import Optional

import torch

from . import (HardwareLike, InvalidInput, Model, Network, PathLike, Prediction, TrainingRun,
               predict as _predict)

#: Bytes of one stored value for each floating-point dtype a network can hold.
BYTES_PER_VALUE = {torch.float32: 4, torch.float16: 2, torch.bfloat16: 2, torch.float64: 8}


def _linear_layers(model: torch.nn.Module) -> list[tuple[str, torch.nn.Linear]]:
    """The ``nn.Linear`` layers in registration order; any other module holding parameters of
    its own is an error naming it."""
    layers = []
    for name, module in model.named_modules():
        if not any(True for _ in module.parameters(recurse=False)):
            continue  # containers, activations, dropout: nothing to count
        label = name or type(model).__name__
        if not isinstance(module, torch.nn.Linear):
            raise InvalidInput(
                f"torch model: module '{label}' ({type(module).__name__}) holds parameters but "
                "is not a torch.nn.Linear layer; only fully connected networks can be estimated")
        layers.append((label, module))
    if not layers:
        raise InvalidInput(f"torch model: {type(model).__name__} has no torch.nn.Linear layer")
    return layers


def _bytes_per_value(layers: list[tuple[str, torch.nn.Linear]]) -> int:
    dtypes = {p.dtype for _, layer in layers for p in layer.parameters(recurse=False)}
    if len(dtypes) > 1:
        names = ", ".join(sorted(str(d) for d in dtypes))
        raise InvalidInput(f"torch model: the Linear layers mix dtypes ({names}); use one")
    dtype = dtypes.pop()
    if dtype not in BYTES_PER_VALUE:
        raise InvalidInput(f"torch model: parameters of dtype {dtype} (expected float32, "
                           "float16, bfloat16 or float64)")
    return BYTES_PER_VALUE[dtype]


def from_module(model: torch.nn.Module, inputs: Optional[int] = None) -> Network:
    """The network of a ``torch.nn.Module``: its ``nn.Linear`` layers in order, each one's
    ``in_features`` checked against the ``out_features`` before it; bytes per value from the
    parameters' dtype (float32: 4, float16 and bfloat16: 2, float64: 8).

    ``inputs``, when given, must equal the first layer's ``in_features``. Anything else that
    holds parameters (a convolution, a normalisation layer) is an :class:`InvalidInput` naming
    the module, never skipped."""
    if not isinstance(model, torch.nn.Module):
        raise InvalidInput(f"torch model: expected a torch.nn.Module, got {type(model).__name__}")
    layers = _linear_layers(model)
    first_name, first = layers[0]
    if inputs is not None and inputs != first.in_features:
        raise InvalidInput(f"torch model: inputs is {inputs}, but the first Linear layer "
                           f"'{first_name}' has in_features {first.in_features}")
    for (before_name, before), (name, layer) in zip(layers, layers[1:]):
        if layer.in_features != before.out_features:
            raise InvalidInput(
                f"torch model: Linear layer '{name}' has in_features {layer.in_features}, but "
                f"the Linear layer before it, '{before_name}', has out_features "
                f"{before.out_features}")
    return Network(first.in_features, [layer.out_features for _, layer in layers],
                   _bytes_per_value(layers))


def predict(model: torch.nn.Module, *, train_examples: int, batch: int, epochs: int,
            eval_examples: int = 0, hardware: Optional[HardwareLike] = None,
            model_file: Optional[PathLike] = None, energy_model: Optional[Model] = None,
            inputs: Optional[int] = None) -> Prediction:
    """The pre-flight estimate: the energy of training ``model`` for ``epochs`` passes over
    ``train_examples`` examples in batches of ``batch`` (and ``eval_examples`` evaluated each
    epoch), with its breakdown, on ``hardware`` with its shipped fitted model, or with the model
    of ``model_file`` (or ``energy_model``)."""
    run = TrainingRun(train_examples=train_examples, batch=batch, epochs=epochs,
                      eval_examples=eval_examples)
    return _predict(from_module(model, inputs), run, hardware=hardware, model_file=model_file,
                    model=energy_model)
