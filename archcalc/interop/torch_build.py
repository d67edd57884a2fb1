"""`to_torch`: the equivalent `torch.nn.Module` of an architecture (torch imported only here, lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..analysis import analyze
from ..errors import ArchcalcError, ExecutionError
from ..executor.backend import check_dtype, check_fits
from ..executor.weights import load_weights


def to_torch(arch: Any, weights: Any = None, *, input: Any = None, dtype: str = "float32") -> Any:
    """A `torch.nn.Module` (in eval mode) computing what `execute` computes, built for the
    architecture's input size (or `input`, per sample).

    It is the network `archcalc export --to pytorch` writes, built from the same layer tree without
    running any generated text: blocks are submodules, so `state_dict()` keys are archcalc's weight
    keys with '/' written '.'
    (`C3.weight`, `layer1.0.bn1.running_mean`, plus BatchNorm's `num_batches_tracked`); the parameters of
    frozen layers do not require grad.
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
    from .export_torch import torch_source
    from .torch_graph import network as build_network
    from .torch_tree import module_names, ties

    report = analyze(arch, input=input)
    source = report.architecture.source
    count = report.totals.params
    needed = count * np.dtype(dtype).itemsize + (8 * count if weights is not None else 0)
    try:
        check_fits(needed, f"the memory for a PyTorch module of {count:,} parameters ({needed:,} bytes)", np,
                   "use a smaller network or input")
        arrays = load_weights(report, weights) if weights is not None else None
        code = torch_source(report)
    except ArchcalcError as exc:
        raise exc.located(file=source) from None
    arch = report.architecture
    network = build_network(code, arch.input_path, arch.output_path).to(getattr(torch, dtype))
    modules = module_names(code.tree)
    for sharer, owner, names in ties(report, code.tree):  # the sharer's module holds the owner's tensors
        mine, theirs = _submodule(network, sharer), _submodule(network, owner)
        for name in names:
            setattr(mine, name, getattr(theirs, name))
    parameters = dict(network.named_parameters())
    for record in report.layers:
        for param in record.param_tensors:
            if param.frozen:  # as the exported source's `requires_grad_(False)`
                parameters[_state_key(f"{record.name}.{param.name}", modules)].requires_grad_(False)
    if arrays is not None:
        state = {_state_key(key, modules): torch.as_tensor(value) for key, value in arrays.items()}
        for record in report.layers:  # a tied module's keys appear under the sharer's names too
            if record.shares is not None:
                owner, mine = (".".join(modules[path][""]) + "." for path in (record.shares, record.name))
                state |= {mine + key[len(owner):]: value for key, value in state.items() if key.startswith(owner)}
        missing, unexpected = network.load_state_dict(state, strict=False)
        missing = [key for key in missing if not key.endswith(".num_batches_tracked")]
        if missing or unexpected:
            raise ExecutionError(f"the PyTorch module does not take weight {(missing or unexpected)[0]!r}",
                                 file=source)
    return network.eval()


def _submodule(network: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        network = network._modules[name]
    return network


def _state_key(key: str, modules: dict[str, dict[str, tuple[str, ...]]]) -> str:
    """archcalc's weight key `layer1/0/conv1.weight` as the module's state_dict key `layer1.0.conv1.weight`
    (a layer named as nn.Module's own state, `training`, is the module `training_`)."""
    layer, _, param = key.rpartition(".")
    return ".".join((*modules[layer][""], param))
