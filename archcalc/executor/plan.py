"""`Plan`: an architecture prepared once for repeated inference, the fast path of the executor.

Preparing converts the weights to the backend and dtype once (each layer's `prepare`: linear
weights are stored transposed) and merges every layer into the one that feeds it alone where that
one `absorbs` it (`fold`, in float64: an inference BatchNorm into its convolution, w·γ/√(var+ε),
(b − mean)·γ/√(var+ε) + β). Running then walks the layers in order through `forward_prepared`,
which writes into a tensor no one reads later where it can (ReLU, ReLU6, additions), and drops each
tensor after its last reader.

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
from ..architecture import Architecture, last_readers, load
from ..errors import ArchcalcError, ExecutionError
from .backend import array_module, check_dtype
from .weights import init_weights, layer_weights, load_weights


class Plan:
    """A forward pass of `arch` for any batch of its input size: call it with an N×C×H×W array."""

    def __init__(self, arch: Any, weights: Any = None, *, input: Any = None, backend: str = "numpy",
                 dtype: str = "float32", fold_batchnorm: bool = True, seed: int = 0):
        arch = arch if isinstance(arch, Architecture) else load(arch)
        check_dtype(dtype, file=arch.source)
        self.xp, self.dtype = array_module(backend), dtype
        self.report: Report = analyze(arch, input=input, dtype=dtype)
        weights = init_weights(self.report, seed) if weights is None else load_weights(self.report, weights)
        layers = self.report.layers
        self.folded = _foldable(layers, arch.output_paths) if fold_batchnorm else {}
        self.absorbed = set(self.folded.values())
        self.params = {r.name: self._params(r, weights) for r in layers if r.name not in self.absorbed}
        self.output_path = self.report.architecture.output_path
        self.outputs = self.report.architecture.outputs
        self.last_use = last_readers(((r.name, r.inputs) for r in layers), self.report.architecture.output_paths)

    def _params(self, record: LayerRecord, weights: dict[str, Any]) -> dict[str, Any]:
        arrays = _float64(record, weights)
        follower = self.folded.get(record.name)
        if follower is not None:
            absorbed = self.report.layer(follower)
            arrays = record.layer.fold(arrays, absorbed.layer, _float64(absorbed, weights))
        return record.layer.prepare(arrays, self.xp, self.dtype)

    def __call__(self, x: Any) -> Any:
        """The network's output for the batch `x` (in the backend's array type); {name: output} for a file
        naming several `outputs:`."""
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
        if self.outputs:
            return {name: values[path] for name, path in self.outputs.items()}
        return values[self.output_path]

    def _step(self, record: LayerRecord, inputs: list[Any], values: dict[str, Any], index: int, x: Any) -> Any:
        if record.name in self.absorbed:  # the layer before it took it in already
            return record.layer.forward_absorbed(self.xp, inputs[0])
        out = record.layer.forward_prepared(self.xp, inputs, self.params[record.name],
                                            lambda k: self._owned(record.inputs[k], inputs[k], values, index, x))
        return out if out.dtype == self.dtype else out.astype(self.dtype)

    def _owned(self, name: str, array: Any, values: dict[str, Any], index: int, x: Any) -> bool:
        """Whether `array` (the value of `name`) may be overwritten: no one reads it after this step and
        no other live value or the caller's input shares its memory."""
        if self.last_use[name] > index or self.xp.may_share_memory(array, x):
            return False
        return not any(other != name and self.xp.may_share_memory(array, value) for other, value in values.items())


def _float64(record: LayerRecord, weights: dict[str, Any]) -> dict[str, Any]:
    """The layer's parameter arrays in float64, keyed by `Param.name` (its owner's, for a layer that `shares:`)."""
    return {name: np.asarray(array, dtype=np.float64) for name, array in layer_weights(record, weights).items()}


def _foldable(layers: tuple[LayerRecord, ...], outputs: tuple[str, ...]) -> dict[str, str]:
    """Path of a layer → path of the layer it absorbs (an inference BatchNorm into its convolution): its
    only reader, which reads nothing else, where the layer is not one of the network's `outputs`."""
    readers: dict[str, list[LayerRecord]] = {}
    for record in layers:
        for src in record.inputs:
            readers.setdefault(src, []).append(record)
    by_name = {r.name: r for r in layers}
    folded = {}
    for name, users in readers.items():
        source = by_name.get(name)
        if source is not None and name not in outputs and len(users) == 1 and len(users[0].inputs) == 1 \
                and source.layer.absorbs(users[0].layer):
            folded[name] = users[0].name
    return folded
