"""`Plan`: an architecture prepared once for repeated inference, the fast path of the executor.

Preparing converts the weights to the backend and dtype once and folds every inference BatchNorm
into the convolution that feeds it alone (in float64: w·γ/√(var+ε), (b − mean)·γ/√(var+ε) + β),
and stores linear weights transposed. Running then walks the layers in order, rectifies (ReLU,
ReLU6) and adds in place into a tensor no one reads later, and drops each tensor after its last
reader.

    >>> import archcalc, numpy as np
    >>> from archcalc.executor.plan import Plan
    >>> Plan("lenet5")(np.zeros((2, 1, 32, 32), dtype="float32")).shape
    (2, 10, 1, 1)

`execute` stays the reference walk: it keeps every layer's own output (BatchNorm included) and
measures live memory layer by layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..analysis import LayerRecord, Report, analyze
from ..errors import ArchcalcError, ExecutionError
from ..graph import Architecture, load
from ..layers.activation import Elementwise, fused_in_place
from . import kernels
from .backend import DTYPES, array_module
from .weights import init_weights, load_weights


class Plan:
    """A forward pass of `arch` for any batch of its input size: call it with an N×C×H×W array."""

    def __init__(self, arch: Any, weights: Any = None, *, input: Any = None, backend: str = "numpy",
                 dtype: str = "float32", fold_batchnorm: bool = True, seed: int = 0):
        arch = arch if isinstance(arch, Architecture) else load(arch)
        if dtype not in DTYPES:
            raise ExecutionError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}", file=arch.source)
        self.xp, self.dtype = array_module(backend), dtype
        self.report: Report = analyze(arch, input=input, dtype=dtype)
        weights = init_weights(self.report, seed) if weights is None else load_weights(self.report, weights)
        layers = self.report.layers
        self.folded = _foldable(layers, arch.output_path) if fold_batchnorm else {}
        self.params = {r.name: self._params(r, weights) for r in layers if r.name not in self.folded.values()}
        self.last_use = {r.name: i for i, r in enumerate(layers)}
        for index, record in enumerate(layers):
            for src in record.inputs:
                self.last_use[src] = index
        self.output_path = self.report.architecture.output_path
        self.last_use[self.output_path] = len(layers)

    def _params(self, record: LayerRecord, weights: dict[str, Any]) -> dict[str, Any]:
        arrays = {p.name: np.asarray(weights[f"{record.name}.{p.name}"], dtype=np.float64)
                  for p in record.param_tensors}
        bn_name = self.folded.get(record.name)
        if bn_name is not None:
            bn = next(r for r in self.report.layers if r.name == bn_name)
            stats = {p.name: np.asarray(weights[f"{bn_name}.{p.name}"], dtype=np.float64) for p in bn.param_tensors}
            scale = stats.get("weight", 1.0) / np.sqrt(stats["running_var"] + bn.layer.eps)
            shift = stats.get("bias", 0.0) + (arrays.get("bias", 0.0) - stats["running_mean"]) * scale
            arrays = {"weight": arrays["weight"] * scale.reshape(-1, 1, 1, 1), "bias": shift}
        if record.type == "linear":  # stored transposed: x @ Wᵀ is then a product of two C-ordered arrays
            arrays["weight"] = arrays["weight"].T
        return {name: self.xp.ascontiguousarray(self.xp.asarray(a, dtype=self.dtype)) for name, a in arrays.items()}

    def __call__(self, x: Any) -> Any:
        """The network's output for the batch `x` (in the backend's array type)."""
        xp = self.xp
        x = xp.ascontiguousarray(xp.asarray(x, dtype=self.dtype))
        expected = tuple(self.report.layers[0].output_shape)
        if tuple(x.shape[1:]) != expected:
            raise ExecutionError(f"input of shape {tuple(x.shape)} must be (N, {', '.join(map(str, expected))})",
                                 file=self.report.architecture.source, layer=self.report.architecture.input_path)
        values: dict[str, Any] = {}
        for index, record in enumerate(self.report.layers):
            inputs = [values[src] for src in record.inputs] if record.inputs else [x]
            try:
                out = self._step(record, inputs, values, index, x)
            except ArchcalcError as exc:
                raise exc.located(file=self.report.architecture.source, layer=record.name) from None
            except MemoryError:
                raise ExecutionError("out of memory", file=self.report.architecture.source,
                                     layer=record.name) from None
            values[record.name] = out
            for name in {*record.inputs, record.name}:
                if self.last_use[name] <= index:
                    values.pop(name, None)
        return values[self.output_path]

    def _step(self, record: LayerRecord, inputs: list[Any], values: dict[str, Any], index: int, x: Any) -> Any:
        xp, layer = self.xp, record.layer
        if record.name in self.folded.values():  # its convolution applied it already
            return self._activate(layer.activation, inputs[0])
        if record.type == "conv":
            _, stride, dilation, pads = layer.geometry(inputs[0].shape[1:])
            params = self.params[record.name]
            out = kernels.conv2d(xp, inputs[0], params["weight"], params.get("bias"), stride, pads, dilation,
                                 layer.groups)
            return self._activate(layer.activation, out)
        if record.type == "linear":
            params = self.params[record.name]
            out = xp.matmul(inputs[0], params["weight"])
            if "bias" in params:
                out += params["bias"]
            return self._activate(layer.activation, out)
        if isinstance(layer, Elementwise) and self._owned(record.inputs[0], inputs[0], values, index, x):
            return layer.apply_in_place(xp, inputs[0])
        if record.type == "add" and len(inputs) == 2 and inputs[0].shape == inputs[1].shape:
            for k in (0, 1):
                if self._owned(record.inputs[k], inputs[k], values, index, x):
                    return xp.add(inputs[k], inputs[1 - k], out=inputs[k])
        out = layer.forward(xp, inputs, self.params[record.name])
        return out if out.dtype == self.dtype else out.astype(self.dtype)

    def _activate(self, name: str | None, out: Any) -> Any:
        """A fused activation of a tensor no one else reads, in place."""
        return fused_in_place(self.xp, name, out)

    def _owned(self, name: str, array: Any, values: dict[str, Any], index: int, x: Any) -> bool:
        """Whether `array` (the value of `name`) may be overwritten: no one reads it after this step and
        no other live value or the caller's input shares its memory."""
        if self.last_use[name] > index or self.xp.may_share_memory(array, x):
            return False
        return not any(other != name and self.xp.may_share_memory(array, value) for other, value in values.items())


def _foldable(layers: tuple[LayerRecord, ...], output_path: str) -> dict[str, str]:
    """Convolution path → BatchNorm path, for each inference BatchNorm whose only input is a convolution
    (without a fused activation) that nothing else reads and that is not the network's output."""
    readers: dict[str, list[LayerRecord]] = {}
    for record in layers:
        for src in record.inputs:
            readers.setdefault(src, []).append(record)
    by_name = {r.name: r for r in layers}
    folded = {}
    for name, users in readers.items():
        source = by_name.get(name)
        if source is None or name == output_path or source.type != "conv" \
                or source.layer.activation not in (None, "linear"):
            continue
        if len(users) == 1 and users[0].type == "batchnorm" and users[0].layer.track_running_stats \
                and len(users[0].inputs) == 1:
            folded[name] = users[0].name
    return folded
