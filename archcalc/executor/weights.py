"""Weights: seeded initialisation, `.npz` files and PyTorch state_dicts, all keyed `<layer path>.<param>`.

A weight set is a plain dict of NumPy arrays, e.g. `{"C3.weight": (16, 6, 5, 5), "C3.bias": (16,)}`,
the keys being the layer path and `Param.name` (as in a PyTorch state_dict of `to_torch`). A file is
an `.npz` archive or a state_dict written by `torch.save` (read with torch, whatever its name ends
with): both are checked from their headers (keys, shapes, dtypes) before any array is read, and every
loaded weight must be finite. A PyTorch file is read with `weights_only=True` (no pickled code runs)
and memory-mapped, after its zip directory is checked: stored members only (as `torch.save` writes
them), its pickle at most `MAX_PICKLE_BYTES`.
"""

from __future__ import annotations

import pickle
import zipfile
import zlib
from collections.abc import Mapping
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import LayerRecord, Report, analyze
from ..errors import ExecutionError, shorten
from ..layers import Param
from ..layers.base import format_shape
from .backend import check_fits, is_real, to_numpy

INITS = ("he", "glorot")
MAX_SEED = 2**64 - 1
#: The largest pickle of a PyTorch file read (a state_dict's is about 100 bytes a tensor).
MAX_PICKLE_BYTES = 16 * 2**20
FORMATS = "an .npz archive or a PyTorch state_dict written by torch.save (.pt/.pth, read with torch)"
_TORCH_ONLY_SUFFIX = ".num_batches_tracked"
_ZIP_PROBLEMS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def _report(arch: Any, input: Any = None) -> Report:
    return arch if isinstance(arch, Report) and input is None else analyze(
        arch.architecture if isinstance(arch, Report) else arch, input=input)


def expected(arch: Any, input: Any = None) -> dict[str, Param]:
    """Every parameter tensor of the architecture in execution order, keyed `<path>.<name>`."""
    report = _report(arch, input)
    return {f"{r.name}.{p.name}": p for r in report.layers for p in r.param_tensors}


def layer_weights(record: LayerRecord, weights: Mapping[str, Any]) -> dict[str, Any]:
    """A layer's weight arrays keyed by `Param.name`; those of the layer it `shares:` for one that does."""
    if record.shares is None:
        return {p.name: weights[f"{record.name}.{p.name}"] for p in record.param_tensors}
    return {p.name: weights[f"{record.shares}.{p.name}"] for p in record.layer.parameters(list(record.input_shapes))}


def init_weights(arch: Any, seed: int = 0, *, init: str = "he", random_stats: bool = False,
                 input: Any = None) -> dict[str, np.ndarray]:
    """Seeded weights: He (or Glorot) normal for conv/linear kernels, zero biases, BatchNorm γ = 1,
    β = 0, running mean 0, running var 1, PReLU slopes at their `init`.

    `random_stats` draws small random BatchNorm statistics, γ, β and biases instead, so that
    tests exercise them. The same seed always gives the same arrays (float64).
    """
    if init not in INITS:
        raise ExecutionError(f"init must be one of {', '.join(INITS)}, got {shorten(repr(init))}")
    check_seed(seed)
    if not isinstance(random_stats, bool):
        raise ExecutionError(f"random_stats must be true or false, got {shorten(repr(random_stats))}")
    report = _report(arch, input)
    count = report.totals.params
    check_fits(8 * count, f"the memory for {count:,} float64 weights ({8 * count:,} bytes)", np,
               "no weights were made")
    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}
    for record in report.layers:
        for param in record.param_tensors:
            key = f"{record.name}.{param.name}"
            weights[key] = _initial(param, rng, init, random_stats)
    return weights


def check_seed(seed: Any) -> None:
    """ExecutionError unless `seed` is a whole number from 0 to 2**64 − 1."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed <= MAX_SEED:
        shown = "a number beyond 2**64" if isinstance(seed, Integral) and seed > MAX_SEED else shorten(repr(seed))
        raise ExecutionError(f"seed must be a whole number from 0 to 2**64 - 1, got {shown}")


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
    """Write a weight set to an `.npz` file at exactly `path` (keys as they are, arrays uncompressed)."""
    if not isinstance(weights, Mapping) or not all(isinstance(key, str) and key for key in weights):
        raise ExecutionError("weights must be a mapping of names to arrays")
    arrays = {key: _numbers(key, value) for key, value in weights.items()}
    try:
        with zipfile.ZipFile(path, "w") as archive:
            for key, array in arrays.items():
                with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)
    except OSError as exc:
        raise ExecutionError(f"cannot write weights to {_label(path)!r}: {exc.strerror or exc}") from None


def load_weights(arch: Any, source: Any, *, input: Any = None) -> dict[str, np.ndarray]:
    """A checked weight set for `arch` from a file (an `.npz` archive or a PyTorch state_dict saved by
    `torch.save`), a mapping of arrays (archcalc's keys or a PyTorch state_dict) or a `torch.nn.Module`.

    Keys equal to archcalc's are taken by name; the others are matched to the remaining
    parameters in order, and their shapes must agree. Every problem (a key too many or missing, a
    shape, an array that is not real numbers or holds NaN or infinity, a negative variance) is an
    ExecutionError naming the key (and the file); a file is refused on its headers, before any of
    its arrays is read.
    """
    want = expected(arch, input)
    given = {_as_path_key(key, want): value for key, value in _read(source).items()}
    try:
        return _checked(want, given)
    except ExecutionError as exc:
        if isinstance(source, str | Path):
            exc.message = f"weights {_label(source)!r}: {exc.message}"
        raise


def _checked(want: dict[str, Param], given: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of `given` for the parameters `want`, by key and then in order, every one checked."""
    rest_want = [key for key in want if key not in given]
    rest_given = [key for key in given if key not in want]
    if len(rest_given) > len(rest_want):
        raise ExecutionError(f"unexpected weight {rest_given[len(rest_want)]!r}: the architecture has "
                             f"{len(want)} parameter tensors")
    if len(rest_want) > len(rest_given):
        raise ExecutionError(f"missing weight {rest_want[len(rest_given)]!r} (shape "
                             f"{format_shape(want[rest_want[len(rest_given)]].shape)})")
    pairs = [(key, key) for key in want if key in given] + list(zip(rest_want, rest_given))
    described = {theirs: _described(theirs, given[theirs]) for _, theirs in pairs}
    for ours, theirs in pairs:
        shape, needed = tuple(described[theirs].shape), tuple(want[ours].shape)
        if shape != needed and ours == theirs:
            raise ExecutionError(f"weight {ours!r} has shape {format_shape(shape)}, expected {format_shape(needed)}")
        if shape != needed:
            raise ExecutionError(f"weight {theirs!r} of shape {format_shape(shape)} does not fit {ours!r} "
                                 f"of shape {format_shape(needed)}")
    result = {}
    for ours, theirs in pairs:
        array = described[theirs].read() if isinstance(described[theirs], _Stored | _Tensor) else described[theirs]
        if array.size and np.issubdtype(array.dtype, np.floating) and not (
                np.isfinite(array.min()) and np.isfinite(array.max())):
            raise ExecutionError(f"weight {theirs!r} holds NaN or infinite values")
        least = want[ours].least
        if least is not None and array.size and array.min() < least:
            raise ExecutionError(f"weight {theirs!r} holds {array.min():g}: it may not be below {least:g}")
        result[ours] = array
    return result


def _label(path: str | Path) -> str:
    """A weights file as a message names it: its path, or its name where the path is long."""
    text = str(path)
    return text if len(text) <= 60 else shorten(Path(text).name)


class _Stored:
    """One array of an `.npz` file, known by its header (shape, dtype) until `read`."""

    def __init__(self, path: str | Path, member: str, shape: tuple[int, ...], dtype: np.dtype):
        self.path, self.member, self.shape, self.dtype = path, member, shape, dtype

    def read(self) -> np.ndarray:
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as stream:
                return np.lib.format.read_array(stream, allow_pickle=False)
        except _ZIP_PROBLEMS as exc:
            raise ExecutionError(f"cannot read weights from {_label(self.path)!r}: {self.member}: {exc}") \
                from None
        except MemoryError:
            raise ExecutionError(f"cannot read weights from {_label(self.path)!r}: {self.member} is too "
                                 "large for memory") from None


class _Tensor:
    """A torch tensor (of a module, a state_dict or a memory-mapped file), known by its shape and dtype
    until `read` makes it a NumPy array (bfloat16 as float32)."""

    def __init__(self, key: str, tensor: Any):
        import torch

        self.key, self.tensor, self.shape = key, tensor.detach(), tuple(tensor.shape)
        self.bfloat16 = tensor.dtype == torch.bfloat16
        try:
            self.dtype = np.dtype(np.float32) if self.bfloat16 else torch.empty(0, dtype=tensor.dtype).numpy().dtype
        except (TypeError, RuntimeError):  # a type NumPy lacks (quantized, float8, ...)
            self.dtype = np.dtype(object)

    def read(self) -> np.ndarray:
        tensor = self.tensor.cpu()
        try:
            return (tensor.float() if self.bfloat16 else tensor).numpy()
        except RuntimeError as exc:  # a memory-mapped file cut short under it
            raise ExecutionError(f"cannot read weight {self.key!r}: {exc}") from None


def _weights_file(path: str | Path) -> dict[str, Any]:
    """Key → header of each array of a weights file: an `.npz` archive or a PyTorch zip file."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except _ZIP_PROBLEMS as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        if isinstance(exc, zipfile.BadZipFile):
            why = f"not weights archcalc reads ({FORMATS})"
            if _starts_with(path, b"\x80"):
                why = "a bare pickle, which archcalc never loads: save the state_dict with torch.save's zip format"
        raise ExecutionError(f"cannot read weights from {_label(path)!r}: {why}") from None
    pickles = [m for m in members if m.filename.endswith("/data.pkl") and m.filename.count("/") == 1]
    return _torch_file(path, members, pickles) if pickles else _npz_headers(path)


def _starts_with(path: str | Path, prefix: bytes) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(len(prefix)) == prefix
    except OSError:
        return False


def _torch_file(path: str | Path, members: list[zipfile.ZipInfo], pickles: list[zipfile.ZipInfo]) -> dict[str, Any]:
    """A PyTorch state_dict file, memory-mapped, its zip directory checked before torch reads it."""
    where = f"cannot read weights from {_label(path)!r}"
    compressed = next((m.filename for m in members if m.compress_type != zipfile.ZIP_STORED), None)
    if len(pickles) > 1 or compressed is not None:
        why = f"{compressed} is compressed" if compressed else "it holds several data.pkl"
        raise ExecutionError(f"{where}: not a file torch.save writes ({why})")
    if pickles[0].file_size > MAX_PICKLE_BYTES:
        raise ExecutionError(f"{where}: its data.pkl has {pickles[0].file_size:,} bytes, more than the "
                             f"{MAX_PICKLE_BYTES:,} a state_dict needs")
    try:
        import torch
    except ImportError:
        raise ExecutionError(f"{where}: it is a PyTorch file, and reading one needs torch: "
                             "pip install 'archcalc[torch]'") from None
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError:
        raise ExecutionError(f"{where}: its pickle holds more than tensors, which archcalc never loads (nothing "
                             "in it was run)") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a file that is no state_dict
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ExecutionError(f"{where}: not a PyTorch state_dict ({type(exc).__name__}: {shorten(first, 120)})") \
            from None
    if not isinstance(loaded, Mapping):
        raise ExecutionError(f"{where}: it holds a {type(loaded).__name__}, not a state_dict (a mapping of names "
                             "to tensors)")
    return dict(loaded)


def _npz_headers(path: str | Path) -> dict[str, _Stored]:
    """Key → `_Stored` for every array of an `.npz` file, read from the member headers alone."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    stored = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                with archive.open(member) as stream:
                    if stream.read(6) != np.lib.format.MAGIC_PREFIX:
                        raise ValueError(f"{member} is not a .npy array: not weights archcalc reads ({FORMATS})")
                    version = tuple(stream.read(2))
                    if version not in readers:
                        raise ValueError(f"{member}: .npy format version {version} is not read")
                    shape, _, dtype = readers[version](stream)
                key = member[:-4] if member.endswith(".npy") else member
                stored[key] = _Stored(path, member, tuple(shape), dtype)
    except _ZIP_PROBLEMS as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ExecutionError(f"cannot read weights from {_label(path)!r}: {why}") from None
    return stored


def _read(source: Any) -> dict[str, Any]:
    """Key → array (or the `_Stored` or `_Tensor` header of one) from a path, a mapping or a module."""
    if hasattr(source, "state_dict") and callable(source.state_dict):
        source = source.state_dict()
    if isinstance(source, str | Path):
        source = _weights_file(source)
    if not isinstance(source, Mapping):
        raise ExecutionError(f"weights must be a file ({FORMATS}), a mapping or a torch module, got "
                             f"{type(source).__name__}")
    arrays = {}
    for key, value in source.items():
        if str(key).endswith(_TORCH_ONLY_SUFFIX):
            continue
        arrays[str(key)] = _Tensor(str(key), value) if hasattr(value, "detach") and hasattr(value, "dtype") \
            else value
    return arrays


def _as_path_key(key: str, want: Mapping[str, Any]) -> str:
    """PyTorch's `layer1.0.conv1.weight` as archcalc's `layer1/0/conv1.weight` when that is a key."""
    if key in want or "." not in key:
        return key
    module, _, name = key.rpartition(".")
    renamed = f"{module.replace('.', '/')}.{name}"
    return renamed if renamed in want else key


def _described(key: str, value: Any) -> Any:
    """An array, or an `.npz` member's or a tensor's header, whose shape and dtype can be checked."""
    if isinstance(value, _Stored | _Tensor):
        if not is_real(value.dtype):
            raise ExecutionError(f"weight {key!r} is not an array of numbers")
        return value
    return _numbers(key, value)


def _numbers(key: str, value: Any) -> np.ndarray:
    """`value` as a NumPy array of real numbers; text, booleans and complex numbers are refused."""
    try:
        array = np.asarray(to_numpy(value), dtype=None if hasattr(value, "dtype") else float)
    except (TypeError, ValueError):
        array = None
    if array is None or not is_real(array.dtype):
        raise ExecutionError(f"weight {key!r} is not an array of numbers")
    return array
