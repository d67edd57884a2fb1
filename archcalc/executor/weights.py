"""Weights: seeded initialisation, `.npz` files and PyTorch state_dicts, all keyed `<layer path>.<param>`.

A weight set is a plain dict of NumPy arrays, e.g. `{"C3.weight": (16, 6, 5, 5), "C3.bias": (16,)}`,
the keys being the layer path and `Param.name` (as in a PyTorch state_dict of `to_torch`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import Report, analyze
from ..errors import ExecutionError
from ..layers import Param
from ..layers.base import format_shape
from .backend import is_real, to_numpy

INITS = ("he", "glorot")
_TORCH_ONLY_SUFFIX = ".num_batches_tracked"


def _report(arch: Any, input: Any = None) -> Report:
    return arch if isinstance(arch, Report) and input is None else analyze(
        arch.architecture if isinstance(arch, Report) else arch, input=input)


def expected(arch: Any, input: Any = None) -> dict[str, Param]:
    """Every parameter tensor of the architecture in execution order, keyed `<path>.<name>`."""
    report = _report(arch, input)
    return {f"{r.name}.{p.name}": p for r in report.layers for p in r.param_tensors}


def init_weights(arch: Any, seed: int = 0, *, init: str = "he", random_stats: bool = False,
                 input: Any = None) -> dict[str, np.ndarray]:
    """Seeded weights: He (or Glorot) normal for conv/linear kernels, zero biases, BatchNorm γ = 1,
    β = 0, running mean 0, running var 1, PReLU slopes at their `init`.

    `random_stats` draws small random BatchNorm statistics, γ, β and biases instead, so that
    tests exercise them. The same seed always gives the same arrays (float64).
    """
    if init not in INITS:
        raise ExecutionError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    report = _report(arch, input)
    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}
    for record in report.layers:
        for param in record.param_tensors:
            key = f"{record.name}.{param.name}"
            weights[key] = _initial(param, rng, init, random_stats)
    return weights


def _initial(param: Param, rng: np.random.Generator, init: str, random_stats: bool) -> np.ndarray:
    """A kernel drawn He/Glorot normal; any other tensor at the layer's `initial` value, or with
    `random_stats` around it (a scale or variance) or around 0 (a shift or mean)."""
    shape = param.shape
    if param.role == "weight" and len(shape) >= 2:
        receptive = int(np.prod(shape[2:]))
        fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
        std = np.sqrt(2.0 / fan_in) if init == "he" else np.sqrt(2.0 / (fan_in + fan_out))
        return rng.normal(0.0, std, shape)
    if not random_stats:
        return np.full(shape, param.initial, dtype=float)
    return rng.uniform(0.5, 1.5, shape) * param.initial if param.initial else rng.normal(0.0, 0.1, shape)


def save_weights(weights: Mapping[str, Any], path: str | Path) -> None:
    """Write a weight set to an `.npz` file (keys as they are)."""
    np.savez(path, **{key: to_numpy(value) for key, value in weights.items()})


def load_weights(arch: Any, source: Any, *, input: Any = None) -> dict[str, np.ndarray]:
    """A checked weight set for `arch` from an `.npz` path, a mapping of arrays (archcalc's keys
    or a PyTorch state_dict) or a `torch.nn.Module`.

    Keys equal to archcalc's are taken by name; the others are matched to the remaining
    parameters in order, and their shapes must agree. Every problem is an ExecutionError
    naming the key.
    """
    want = expected(arch, input)
    given = {_as_path_key(key, want): value for key, value in _read(source).items()}
    result: dict[str, np.ndarray] = {}
    rest_want = [key for key in want if key not in given]
    rest_given = [key for key in given if key not in want]
    for key in want:
        if key in given:
            result[key] = _checked(key, given[key], want[key].shape)
    if len(rest_given) > len(rest_want):
        raise ExecutionError(f"unexpected weight {rest_given[len(rest_want)]!r}: the architecture has "
                             f"{len(want)} parameter tensors")
    if len(rest_want) > len(rest_given):
        raise ExecutionError(f"missing weight {rest_want[len(rest_given)]!r} (shape "
                             f"{format_shape(want[rest_want[len(rest_given)]].shape)})")
    for ours, theirs in zip(rest_want, rest_given):
        array = _numbers(theirs, given[theirs])
        if array.shape != want[ours].shape:
            raise ExecutionError(f"weight {theirs!r} of shape {format_shape(array.shape)} does not fit {ours!r} "
                                 f"of shape {format_shape(want[ours].shape)}")
        result[ours] = array
    return result


def _read(source: Any) -> dict[str, Any]:
    """Key → NumPy array from a path, a mapping or a module (torch tensors converted)."""
    if hasattr(source, "state_dict") and callable(source.state_dict):
        source = source.state_dict()
    if isinstance(source, str | Path):
        try:
            with np.load(source, allow_pickle=False) as data:
                source = {key: data[key] for key in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, MemoryError) as exc:
            why = "an array is too large for memory" if isinstance(exc, MemoryError) else exc
            raise ExecutionError(f"cannot read weights from {str(source)!r}: {why}") from None
    if not isinstance(source, Mapping):
        raise ExecutionError(f"weights must be an .npz path, a mapping or a torch module, got {type(source).__name__}")
    arrays = {}
    for key, value in source.items():
        if str(key).endswith(_TORCH_ONLY_SUFFIX):
            continue
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        arrays[str(key)] = value
    return arrays


def _as_path_key(key: str, want: Mapping[str, Any]) -> str:
    """PyTorch's `layer1.0.conv1.weight` as archcalc's `layer1/0/conv1.weight` when that is a key."""
    if key in want or "." not in key:
        return key
    module, _, name = key.rpartition(".")
    renamed = f"{module.replace('.', '/')}.{name}"
    return renamed if renamed in want else key


def _numbers(key: str, value: Any) -> np.ndarray:
    """`value` as a NumPy array of real numbers; text, booleans and complex numbers are refused."""
    try:
        array = np.asarray(to_numpy(value), dtype=None if hasattr(value, "dtype") else float)
    except (TypeError, ValueError):
        array = None
    if array is None or not is_real(array.dtype):
        raise ExecutionError(f"weight {key!r} is not an array of numbers")
    return array


def _checked(key: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = _numbers(key, value)
    if tuple(array.shape) != tuple(shape):
        raise ExecutionError(f"weight {key!r} has shape {format_shape(array.shape)}, expected {format_shape(shape)}")
    return array
