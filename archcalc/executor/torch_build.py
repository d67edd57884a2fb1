"""`to_torch`: the equivalent `torch.nn.Module` of an architecture (torch imported only here, lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..analysis import analyze
from ..errors import ArchcalcError, ExecutionError
from .backend import check_dtype, check_fits
from .weights import load_weights


def to_torch(arch: Any, weights: Any = None, *, input: Any = None, dtype: str = "float32") -> Any:
    """A `torch.nn.Module` (in eval mode) computing what `execute` computes, built for the
    architecture's input size (or `input`, per sample).

    Every layer is a submodule named by its path, so `state_dict()` keys are archcalc's weight
    keys (`C3.weight`, `layer1/0/bn1.running_mean`, plus BatchNorm's `num_batches_tracked`).
    `weights` (anything `load_weights` takes) are copied in; without them PyTorch's own
    initialisation stays. Call it as `module(x)` or `module(x, return_intermediates=True)`.
    A module whose parameters (with the float64 weight set, when given) would not fit in the
    memory available is refused before anything is built.
    """
    check_dtype(dtype)
    try:
        import torch
    except ImportError:
        raise ExecutionError("to_torch needs PyTorch (pip install 'archcalc[torch]')") from None
    from .torch_graph import GraphModule

    report = analyze(arch, input=input)
    source = report.architecture.source
    count = report.totals.params
    needed = count * np.dtype(dtype).itemsize + (8 * count if weights is not None else 0)
    try:
        check_fits(needed, f"the memory for a PyTorch module of {count:,} parameters ({needed:,} bytes)", np,
                   "use a smaller network or input")
        arrays = load_weights(report, weights) if weights is not None else None
    except ArchcalcError as exc:
        raise exc.located(file=source) from None
    steps = []
    for record in report.layers[1:]:
        if "." in record.name:
            raise ExecutionError("a layer path with '.' cannot name a PyTorch module", file=source,
                                 layer=record.name)
        try:
            module = record.layer.torch_module(list(record.input_shapes))
        except ArchcalcError as exc:
            raise exc.located(file=source, layer=record.name) from None
        steps.append((record.name, record.inputs, module))
    try:
        network = GraphModule(steps, report.architecture.input_path, report.architecture.output_path)
    except KeyError as exc:
        raise ExecutionError(f"a layer name clashes with a torch.nn.Module attribute: {exc}", file=source) from None
    network = network.to(getattr(torch, dtype))
    if arrays is not None:
        state = {key: torch.as_tensor(value) for key, value in arrays.items()}
        missing, unexpected = network.load_state_dict(state, strict=False)
        missing = [key for key in missing if not key.endswith(".num_batches_tracked")]
        if missing or unexpected:
            raise ExecutionError(f"the PyTorch module does not take weight {(missing or unexpected)[0]!r}",
                                 file=source)
    return network.eval()
