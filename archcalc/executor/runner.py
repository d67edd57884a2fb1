"""`execute`: run an architecture forward, layer by layer, freeing each tensor after its last reader.

The walk follows the analyzer's records (same order, same shapes), so the measured live memory
can be held against `Totals.peak_memory_bytes`: a layer that does not allocate (an in-place
activation, a view) writes into or shares its input's storage, exactly as the analyzer counts it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..analysis import LayerRecord, Report, analyze
from ..architecture import Architecture, last_readers, load
from ..errors import ArchcalcError, ExecutionError
from .backend import array_module, check_dtype, check_fits, is_real
from .weights import init_weights, load_weights


@dataclass(frozen=True)
class LayerTiming:
    """One layer's measured run: wall time and the bytes of its output."""

    name: str
    seconds: float
    output_bytes: int


@dataclass
class Execution:
    """The result of a forward pass with its measurements."""

    output: Any
    report: Report
    backend: str
    timings: list[LayerTiming] = field(default_factory=list)
    peak_bytes: int = 0
    intermediates: dict[str, Any] | None = None
    #: every output by its name, where the file names several (`outputs:`); empty otherwise
    outputs: dict[str, Any] = field(default_factory=dict)


def execute(arch: Any, x: Any, weights: Any = None, backend: str = "numpy", dtype: str = "float32",
            return_intermediates: bool = False, *, seed: int = 0) -> Any:
    """Run `arch` on the N×C×H×W batch `x`; the output (a file naming several `outputs:`: {name: output}),
    or (output, {layer path: output}).

    `weights`: None (seeded He initialisation, `seed`), a mapping, an `.npz` path, a PyTorch
    state_dict or module (see `load_weights`). `backend`: numpy, cupy or auto. Arrays come back
    in the backend's array type. The output alone comes from the prepared fast path (`Plan`:
    BatchNorm folded into its convolution, in-place activations); with `return_intermediates`
    the reference walk keeps every layer's own output.
    """
    if return_intermediates:
        result = run(arch, x, weights, backend=backend, dtype=dtype, keep_intermediates=True, seed=seed)
        return result.outputs or result.output, result.intermediates
    from .plan import Plan

    arch = arch if isinstance(arch, Architecture) else load(arch)
    try:
        x, report = _checked_input(arch, x, array_module(backend), dtype)
        return Plan(arch, weights, input=tuple(x.shape[1:]), backend=backend, dtype=dtype, seed=seed)(x)
    except ArchcalcError as exc:
        raise exc.located(file=arch.source) from None


def run(arch: Any, x: Any, weights: Any = None, *, backend: str = "numpy", dtype: str = "float32",
        keep_intermediates: bool = False, profile: bool = False, seed: int = 0) -> Execution:
    """`execute` with its measurements: per-layer times (`profile` waits for the device after each
    layer) and the peak of live activation bytes."""
    arch = arch if isinstance(arch, Architecture) else load(arch)
    try:
        return _run(arch, x, weights, backend, dtype, keep_intermediates, profile, seed)
    except ArchcalcError as exc:
        raise exc.located(file=arch.source) from None


def _run(arch: Architecture, x: Any, weights: Any, backend: str, dtype: str, keep: bool, profile: bool,
         seed: int) -> Execution:
    xp = array_module(backend)
    x, report = _checked_input(arch, x, xp, dtype)
    weights = init_weights(report, seed) if weights is None else load_weights(report, weights)
    params = _device_params(report, weights, xp, dtype)
    walk = _Walk(report, xp, dtype, keep, profile)
    return walk.run(x, params, xp.__name__)


def _checked_input(arch: Architecture, x: Any, xp: Any, dtype: str) -> tuple[Any, Report]:
    """`x` as a contiguous backend array of `dtype`, and the analysis at its size and batch; the
    memory check comes before the copy (`x` may be a broadcast view of one sample)."""
    check_dtype(dtype)
    if not isinstance(getattr(x, "dtype", None), np.dtype):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError):
            x = np.asarray(None)
    if not is_real(x.dtype):
        raise ExecutionError(f"the input must be an array of real numbers, got {x.dtype}", layer=arch.input_path)
    if x.ndim != len(arch.spec.input) + 1:
        want = ", ".join(["N", *(str(v) for v in arch.spec.input)])
        raise ExecutionError(f"the input must be a batch of shape ({want}), got an array of shape {tuple(x.shape)}",
                             layer=arch.input_path)
    report = analyze(arch, input=tuple(x.shape[1:]), batch=int(x.shape[0]), dtype=dtype)
    check_memory(report, xp)
    return xp.ascontiguousarray(xp.asarray(x, dtype=dtype)), report


def check_memory(report: Report, xp: Any) -> None:
    """Refuse a run whose predicted memory (peak activations + parameters) exceeds what is free."""
    predicted = report.totals.peak_memory_bytes + report.totals.param_bytes
    check_fits(predicted, f"predicted memory {predicted:,} bytes (peak activations "
               f"{report.totals.peak_memory_bytes:,} + parameters {report.totals.param_bytes:,})", xp,
               "use a smaller batch or input")


def _device_params(report: Report, weights: dict[str, Any], xp: Any, dtype: str) -> dict[str, dict[str, Any]]:
    """Each layer's weight arrays on the device; a layer that `shares:` gets its owner's (one copy)."""
    params = {r.name: {p.name: xp.asarray(weights[f"{r.name}.{p.name}"], dtype=dtype) for p in r.param_tensors}
              for r in report.layers if r.shares is None}
    params.update({r.name: params[r.shares] for r in report.layers if r.shares is not None})
    return params


def _root(array: Any) -> Any:
    """The array owning the memory a view looks into."""
    while isinstance(getattr(array, "base", None), type(array)):
        array = array.base
    return array


class _Walk:
    """One forward pass: values live until their last reader ran."""

    def __init__(self, report: Report, xp: Any, dtype: str, keep: bool, profile: bool):
        self.report, self.xp, self.dtype, self.keep, self.profile = report, xp, dtype, keep, profile
        records = report.layers
        self.last_use = last_readers(((r.name, r.inputs) for r in records), report.architecture.output_paths)
        self.values: dict[str, Any] = {}
        self.root_until: dict[int, int] = {}  # storage → index of its last reader
        self.live: dict[int, int] = {}  # storage → bytes

    def run(self, x: Any, params: dict[str, dict[str, Any]], backend: str) -> Execution:
        execution = Execution(output=None, report=self.report, backend=backend)
        input_root = id(_root(x))
        for index, record in enumerate(self.report.layers):
            inputs = [self.values[src] for src in record.inputs] if record.inputs else [x]
            start = time.perf_counter()
            try:
                out = self.forward(record, inputs, params[record.name], index, input_root)
            except ArchcalcError as exc:
                raise exc.located(layer=record.name) from None
            except MemoryError:
                raise ExecutionError("out of memory", layer=record.name) from None
            if self.profile and backend == "cupy":
                self.xp.cuda.Stream.null.synchronize()
            seconds = time.perf_counter() - start
            self.store(record, out, index)
            execution.peak_bytes = max(execution.peak_bytes, sum(self.live.values()))
            execution.timings.append(LayerTiming(record.name, seconds, int(out.nbytes)))
            self.release(record, index)
        arch = self.report.architecture
        execution.output = self.values[arch.output_path]
        execution.outputs = {name: self.values[path] for name, path in arch.outputs.items()}
        execution.intermediates = dict(self.values) if self.keep else None
        return execution

    def forward(self, record: LayerRecord, inputs: list[Any], params: dict[str, Any], index: int,
                input_root: int) -> Any:
        out = record.layer.forward(self.xp, inputs, params)
        expected = (inputs[0].shape[0], *record.output_shape)
        if tuple(out.shape) != expected:
            raise ExecutionError(f"forward gave shape {tuple(out.shape)}, the analyzer {expected}")
        if out.dtype != self.dtype:
            out = out.astype(self.dtype)
        if not record.allocates and record.inputs and _root(out) is not _root(inputs[0]):
            out = self.in_place(out, inputs[0], index, input_root)
        return out

    def in_place(self, out: Any, source: Any, index: int, input_root: int) -> Any:
        """Write a non-allocating layer's result into its input when no one reads that input later."""
        root = id(_root(source))
        if self.keep or root == input_root or self.root_until.get(root, index) > index or out.shape != source.shape:
            return out
        source[...] = out
        return source

    def store(self, record: LayerRecord, out: Any, index: int) -> None:
        self.values[record.name] = out
        root = _root(out)
        key = id(root)
        self.live.setdefault(key, int(root.nbytes))
        self.root_until[key] = max(self.root_until.get(key, index), self.last_use[record.name])

    def release(self, record: LayerRecord, index: int) -> None:
        if self.keep:
            return
        for name in {*record.inputs, record.name}:
            if self.last_use[name] <= index and name in self.values:
                root = id(_root(self.values.pop(name)))
                if self.root_until.get(root, -1) <= index:
                    self.live.pop(root, None)
                    self.root_until.pop(root, None)
