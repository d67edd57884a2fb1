"""Pooling: max/avg/sum windows (ceil_mode, padding), global and adaptive pooling; over (H, W), and the
max, average and adaptive classes also over (L,) (`maxpool1d`, ...) and (T, H, W) (`maxpool3d`, ...)."""

from __future__ import annotations

from math import prod
from typing import Any, ClassVar

from ..arrays import kernels
from ..errors import ExportError, ShapeError
from ..formulas import adaptive_windows
from ..records import IntOrPair, IntOrSingle, IntOrTriple, Padding, PaddingSingle, PaddingTriple
from .base import Arithmetic, AxisWindow, Layer, Shape, register, spatial
from .conv import _Windowed
from .family import Family
from .foreign import (
    KerasForm,
    KerasLayer,
    Mismatch,
    OnnxForm,
    OnnxNode,
    TorchCall,
    TorchForm,
    at_least,
    onnx_padding,
    pair,
    whole,
)

#: `F.max_pool2d`'s arguments after the input, and `F.avg_pool2d`'s; their defaults.
_MAX_ARGUMENTS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
_AVG_ARGUMENTS = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
_DEFAULTS = {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False,
             "count_include_pad": True, "divisor_override": None}


class _WindowPool(_Windowed):
    """A window reduced to one value per channel; no parameters, no MACs."""

    mode: ClassVar[str] = "max"

    kernel_size: IntOrPair
    stride: IntOrPair | None = None
    padding: Padding = (0, 0)
    ceil_mode: bool = False

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c = spatial(inputs[0], self.type_name, self.spatial_axes)[0]
        g = self.geometry(inputs[0])
        for k, p in zip(g.kernel, g.pads):
            if max(p) > k // 2:  # PyTorch's rule, with or without dilation
                raise ShapeError(f"padding {max(p)} is more than half the window {k}")
        return (c, *g.output(self.ceil_mode))

    @classmethod
    def torch_window(cls, call: TorchCall) -> dict[str, Any]:
        """Every argument `torch_form.arguments` names, of the module or the function (a missing stride is
        the window's), pairs as `pair` writes them."""
        names = cls.torch_form.arguments
        if call.module is not None:
            found = {name: getattr(call.module, name) for name in names}
        else:
            found = {name: call.argument(names, name, _DEFAULTS.get(name)) for name in names}
        found["stride"] = found["stride"] or found["kernel_size"]
        return {name: pair(value) if name in ("kernel_size", "stride", "padding", "dilation") else value
                for name, value in found.items()}

    @classmethod
    def onnx_window(cls, node: OnnxNode) -> dict[str, Any]:
        """Kernel, strides, padding and ceil_mode of an ONNX pooling over `spatial_axes` axes."""
        attributes, axes = node.attributes, cls.spatial_axes
        if len(attributes.get("kernel_shape", [])) != axes:
            raise Mismatch(f"{node.op} must have a 2-D kernel_shape" if axes == 2 else f"not a {axes}-D {node.op}")
        return {"kernel_size": pair(at_least(1, "kernel_shape", attributes["kernel_shape"], axes)),
                "stride": pair(at_least(1, "strides", attributes.get("strides", [1] * axes), axes)),
                "padding": onnx_padding(attributes, node.op, axes=axes),
                "ceil_mode": bool(attributes.get("ceil_mode", 0))}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`MaxPooling2D`, `AveragePooling2D` (a missing `strides` is the window's)."""
        config = layer.config
        size = config["pool_size"]
        return {"kernel_size": pair(size), "stride": pair(config.get("strides") or size),
                "padding": config.get("padding", "valid"), **cls.keras_extra}

    #: What Keras's pooling fixes besides its config (its average pooling excludes the padding).
    keras_extra: ClassVar[dict[str, Any]] = {}

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output=self.size_arithmetic(inputs[0], output), params="0", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        g = self.geometry(inputs[0].shape[1:])
        return kernels.pool(xp, inputs[0], self.mode, g.kernel, g.stride, g.pads, g.dilation,
                            g.output(self.ceil_mode), getattr(self, "count_include_pad", True))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import pool

        g = self.geometry(inputs[0])
        return pool(self.mode, g.kernel, g.stride, g.pads, g.dilation, self.ceil_mode,
                    getattr(self, "count_include_pad", True), g.output(self.ceil_mode))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """PyTorch's pooling in ONNX. A ceil_mode window running past the padded input is padded for
        explicitly (ONNX runtimes disagree on that edge); average and sum pooling over such padding,
        or sum pooling at all, divide a padded average by the exact divisor of each output position."""
        import numpy as np

        from .onnx_nodes import onnx_pads

        x, name = record.inputs[0], record.name
        g = self.geometry(record.input_shapes[0])
        out = record.output_shape[1:]
        size = record.input_shapes[0][1:]
        need = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(out, g.stride, g.dilation, g.kernel)]
        extra = [max(n - m - sum(p), 0) for n, m, p in zip(need, size, g.pads)]
        pads = tuple((before, after + e) for (before, after), e in zip(g.pads, extra))
        common = {"kernel_shape": list(g.kernel), "strides": list(g.stride)}
        if self.mode == "max":
            graph.node("MaxPool", [x], name, pads=onnx_pads(pads), dilations=list(g.dilation), **common)
            return
        include = getattr(self, "count_include_pad", True)
        if self.mode == "avg" and not any(extra):
            graph.node("AveragePool", [x], name, pads=onnx_pads(pads), count_include_pad=int(include), **common)
            return
        mean = graph.node("AveragePool", [x], f"{name}/mean", pads=onnx_pads(pads), count_include_pad=1, **common)
        area = prod(g.kernel)
        if self.mode == "sum":
            factor = np.full(out, float(area))
        else:  # the divisor of each window: its cells inside the padded input (or the input alone)
            padded = tuple(m + sum(p) for m, p in zip(size, g.pads))
            inside = np.ones((1, 1, *(padded if include else size)))
            spread = g.pads if not include else ((0, 0),) * len(size)
            divisor = kernels.pool(np, inside, "sum", g.kernel, g.stride, spread, g.dilation, tuple(out))[0, 0]
            factor = area / divisor
        graph.node("Mul", [mean, graph.constant(f"{name}/factor", factor)], name)


@register
class MaxPool(_WindowPool):
    """Max pooling (PyTorch `MaxPool2d`)."""

    type_name = "maxpool"
    family = Family.MAX_POOL
    paper_name = "max pool"
    aliases = ("maxpool2d",)
    torch_form = TorchForm(modules=("MaxPool2d",), functions=("max_pool2d",), arguments=_MAX_ARGUMENTS)
    onnx_form = OnnxForm(ops=("MaxPool",))
    keras_form = KerasForm(classes=("MaxPooling2D",))
    dilation: IntOrPair = (1, 1)

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        found = cls.torch_window(call)
        if found.pop("return_indices"):
            raise Mismatch("max pooling with indices has no archcalc layer type")
        return found

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        if node.outputs > 1:
            raise Mismatch("MaxPool with indices has no archcalc layer type")
        return {**cls.onnx_window(node),
                "dilation": pair(at_least(1, "dilations", node.attributes.get("dilations", [1] * cls.spatial_axes),
                                          cls.spatial_axes))}


@register
class AvgPool(_WindowPool):
    """Average pooling (PyTorch `AvgPool2d`)."""

    type_name = "avgpool"
    family = Family.AVG_POOL
    paper_name = "avg pool"
    aliases = ("avgpool2d",)
    torch_form = TorchForm(modules=("AvgPool2d",), functions=("avg_pool2d",), arguments=_AVG_ARGUMENTS)
    onnx_form = OnnxForm(ops=("AveragePool",))
    keras_form = KerasForm(classes=("AveragePooling2D",))
    keras_extra = {"count_include_pad": False}
    mode = "avg"
    count_include_pad: bool = True

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        found = cls.torch_window(call)
        if found.pop("divisor_override") is not None:
            raise Mismatch("average pooling with a divisor_override other than 1 has no archcalc layer type")
        return found

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        return {"count_include_pad": bool(node.attributes.get("count_include_pad", 0)), **cls.onnx_window(node)}


@register
class MaxPool1d(MaxPool):
    """Max pooling over (C, L) (PyTorch `MaxPool1d`, Keras `MaxPooling1D`): `maxpool` over one axis."""

    type_name = "maxpool1d"
    spatial_axes = 1
    aliases = ()
    torch_form = TorchForm(modules=("MaxPool1d",), functions=("max_pool1d",), arguments=_MAX_ARGUMENTS)
    keras_form = KerasForm(classes=("MaxPooling1D", "MaxPool1D"))
    kernel_size: IntOrSingle
    stride: IntOrSingle | None = None
    padding: PaddingSingle = (0,)
    dilation: IntOrSingle = (1,)


@register
class MaxPool3d(MaxPool):
    """Max pooling over (C, T, H, W) (PyTorch `MaxPool3d`, Keras `MaxPooling3D`): `maxpool` over three axes."""

    type_name = "maxpool3d"
    spatial_axes = 3
    aliases = ()
    torch_form = TorchForm(modules=("MaxPool3d",), functions=("max_pool3d",), arguments=_MAX_ARGUMENTS)
    keras_form = KerasForm(classes=("MaxPooling3D", "MaxPool3D"))
    kernel_size: IntOrTriple
    stride: IntOrTriple | None = None
    padding: PaddingTriple = (0, 0, 0)
    dilation: IntOrTriple = (1, 1, 1)


@register
class AvgPool1d(AvgPool):
    """Average pooling over (C, L) (PyTorch `AvgPool1d`, Keras `AveragePooling1D`): `avgpool` over one axis."""

    type_name = "avgpool1d"
    spatial_axes = 1
    aliases = ()
    torch_form = TorchForm(modules=("AvgPool1d",), functions=("avg_pool1d",), arguments=_AVG_ARGUMENTS[:-1])
    keras_form = KerasForm(classes=("AveragePooling1D", "AvgPool1D"))
    kernel_size: IntOrSingle
    stride: IntOrSingle | None = None
    padding: PaddingSingle = (0,)

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return cls.torch_window(call)  # PyTorch's 1-D average pooling has no divisor_override


@register
class AvgPool3d(AvgPool):
    """Average pooling over (C, T, H, W) (PyTorch `AvgPool3d`, Keras `AveragePooling3D`): `avgpool` over three axes."""

    type_name = "avgpool3d"
    spatial_axes = 3
    aliases = ()
    torch_form = TorchForm(modules=("AvgPool3d",), functions=("avg_pool3d",), arguments=_AVG_ARGUMENTS)
    keras_form = KerasForm(classes=("AveragePooling3D", "AvgPool3D"))
    kernel_size: IntOrTriple
    stride: IntOrTriple | None = None
    padding: PaddingTriple = (0, 0, 0)


@register
class SumPool(_WindowPool):
    """Sum pooling: the window's sum (an average pooling times the window area)."""

    type_name = "sumpool"
    family = Family.AVG_POOL
    # what `to_torch` builds: an average pooling that divides by 1 (ONNX: an average pooling times the
    # window's area, an idiom)
    torch_form = TorchForm(modules=("AvgPool2d",), functions=("avg_pool2d",), arguments=_AVG_ARGUMENTS, summary="")
    mode = "sum"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        found = cls.torch_window(call)
        if found.pop("divisor_override") != 1:
            raise Mismatch("an average pooling")
        del found["count_include_pad"]
        return found


class _GlobalPool(Layer):
    """Reduce each channel's whole map to one value."""

    mode: ClassVar[str] = "avg"

    keepdims: bool = True

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """The global pooling (keeping the dimensions), or a reduction over axes 2 and 3."""
        if node.op.startswith("Global"):
            return {"keepdims": True}
        axes = node.attributes.get("axes")
        if axes is None:
            axes = list(node.inputs[1].reshape(-1)) if node.has(1) and hasattr(node.inputs[1], "reshape") else []
        if sorted(whole(a) % 4 for a in axes) != [2, 3]:
            raise Mismatch(f"{node.op} must be over the spatial axes [2, 3]")
        return {"keepdims": bool(node.attributes.get("keepdims", 1))}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """Keras's global pooling drops the dimensions unless `keepdims`."""
        return {"keepdims": bool(layer.config.get("keepdims", False))}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) not in (2, 3, 4):
            spatial(inputs[0], self.type_name)  # the ShapeError (C, H, W) maps usually need
        c, *size = inputs[0]
        return (c, *[1] * len(size)) if self.keepdims else (c,)

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...]:
        return tuple(AxisWindow(n, n) for n in inputs[0][1:])

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        reduce = xp.max if self.mode == "max" else xp.mean
        return reduce(inputs[0], axis=tuple(range(2, inputs[0].ndim)), keepdims=self.keepdims)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import global_pool

        return global_pool(self.mode, self.keepdims, len(inputs[0]) - 1)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        op = "GlobalMaxPool" if self.mode == "max" else "GlobalAveragePool"
        if self.keepdims:
            graph.node(op, [record.inputs[0]], record.name)
        else:
            graph.node("Flatten", [graph.node(op, [record.inputs[0]], f"{record.name}/pool")], record.name, axis=1)


@register
class GlobalAvgPool(_GlobalPool):
    """Global average pooling (Keras `GlobalAveragePooling2D`; keepdims like `AdaptiveAvgPool2d(1)`)."""

    type_name = "globalavgpool"
    family = Family.ADAPTIVE_AVG_POOL
    aliases = ("gap",)
    torch_form = TorchForm(functions=("mean",), arguments=("dim", "keepdim"))
    onnx_form = OnnxForm(ops=("GlobalAveragePool", "ReduceMean"))
    keras_form = KerasForm(classes=("GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalAveragePooling1D",
                                    "GlobalAvgPool1D", "GlobalAveragePooling3D", "GlobalAvgPool3D"))

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`x.mean([2, 3])`, `x.mean((2, 3), keepdim=True)` (`x.mean((2, 3, 4))` of a clip, `x.mean(2)` of a signal)."""
        names = cls.torch_form.arguments
        dims = call.argument(names, "dim")
        dims = [dims] if isinstance(dims, int) else list(dims or [])
        rank = call.site.rank or 4
        if rank < 3 or sorted(whole(d) % rank for d in dims) != list(range(2, rank)):
            raise Mismatch(f"mean must be over the spatial axes {list(range(2, rank))}")
        return {"keepdims": bool(call.argument(names, "keepdim", False))}


@register
class GlobalMaxPool(_GlobalPool):
    """Global max pooling."""

    type_name = "globalmaxpool"
    family = Family.MAX_POOL
    onnx_form = OnnxForm(ops=("GlobalMaxPool", "ReduceMax"))
    keras_form = KerasForm(classes=("GlobalMaxPooling2D", "GlobalMaxPool2D", "GlobalMaxPooling1D", "GlobalMaxPool1D",
                                    "GlobalMaxPooling3D", "GlobalMaxPool3D"))
    mode = "max"


class _AdaptivePool(Layer):
    """PyTorch's adaptive pooling: window i covers [floor(i·n/o), ceil((i+1)·n/o)), on each of
    `spatial_axes` axes."""

    mode: ClassVar[str] = "avg"
    #: How many spatial axes the input has after its channels: 2 for (C, H, W).
    spatial_axes: ClassVar[int] = 2

    output_size: IntOrPair

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.AdaptiveAvgPool2d(size)`, `F.adaptive_avg_pool2d(x, size)` (and max) with a size on both axes."""
        names, m = cls.torch_form.arguments, call.module
        size = m.output_size if m is not None else call.argument(names, "output_size")
        indices = getattr(m, "return_indices", False) if m is not None else \
            "return_indices" in names and call.argument(names, "return_indices", False)
        if None in (tuple(size) if isinstance(size, (tuple, list)) else (size,)):
            raise Mismatch("adaptive pooling that keeps an axis's size (None) has no archcalc layer type")
        if indices:
            raise Mismatch("adaptive pooling with indices has no archcalc layer type")
        return {"output_size": pair(size)}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c = spatial(inputs[0], self.type_name, self.spatial_axes)[0]
        return (c, *self.output_size)

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...]:
        result = []
        for n, o in zip(inputs[0][1:], self.output_size):
            largest = max(end - start for start, end in adaptive_windows(n, o))
            result.append(AxisWindow(largest, max(1, n // o)))
        return tuple(result)  # type: ignore[return-value]

    def describe(self) -> str:
        return "→" + "×".join(map(str, self.output_size))

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.adaptive_pool(xp, inputs[0], self.mode, self.output_size)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return getattr(nn, self.torch_form.modules[0])(self.output_size)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A whole multiple of the output size pools windows of size input/output; anything else has
        windows of differing sizes, which no ONNX pooling expresses."""
        size, out = record.input_shapes[0][1:], self.output_size
        maximum = self.mode == "max"
        if set(out) == {1}:
            graph.node("GlobalMaxPool" if maximum else "GlobalAveragePool", [record.inputs[0]], record.name)
            return
        if any(n % o for n, o in zip(size, out)):
            raise ExportError(f"adaptive pooling from {'×'.join(map(str, size))} to {'×'.join(map(str, out))} "
                              "(not a whole multiple) has no ONNX operator")
        kernel = [n // o for n, o in zip(size, out)]
        graph.node("MaxPool" if maximum else "AveragePool", [record.inputs[0]], record.name, kernel_shape=kernel,
                   strides=kernel)


@register
class AdaptiveAvgPool(_AdaptivePool):
    """Adaptive average pooling (PyTorch `AdaptiveAvgPool2d`)."""

    type_name = "adaptiveavgpool"
    family = Family.ADAPTIVE_AVG_POOL
    aliases = ("adaptiveavgpool2d",)
    torch_form = TorchForm(modules=("AdaptiveAvgPool2d",), functions=("adaptive_avg_pool2d",),
                           arguments=("output_size",))
    onnx_form = OnnxForm(reads_back_as=("avgpool",))


@register
class AdaptiveMaxPool(_AdaptivePool):
    """Adaptive max pooling (PyTorch `AdaptiveMaxPool2d`)."""

    type_name = "adaptivemaxpool"
    family = Family.MAX_POOL
    aliases = ("adaptivemaxpool2d",)
    torch_form = TorchForm(modules=("AdaptiveMaxPool2d",), functions=("adaptive_max_pool2d",),
                           arguments=("output_size", "return_indices"))
    onnx_form = OnnxForm(reads_back_as=("maxpool",))
    mode = "max"


@register
class AdaptiveAvgPool1d(AdaptiveAvgPool):
    """Adaptive average pooling over (C, L) (PyTorch `AdaptiveAvgPool1d`)."""

    type_name = "adaptiveavgpool1d"
    spatial_axes = 1
    aliases = ()
    torch_form = TorchForm(modules=("AdaptiveAvgPool1d",), functions=("adaptive_avg_pool1d",),
                           arguments=("output_size",))
    onnx_form = OnnxForm(reads_back_as=("avgpool1d",))
    output_size: IntOrSingle


@register
class AdaptiveAvgPool3d(AdaptiveAvgPool):
    """Adaptive average pooling over (C, T, H, W) (PyTorch `AdaptiveAvgPool3d`)."""

    type_name = "adaptiveavgpool3d"
    spatial_axes = 3
    aliases = ()
    torch_form = TorchForm(modules=("AdaptiveAvgPool3d",), functions=("adaptive_avg_pool3d",),
                           arguments=("output_size",))
    onnx_form = OnnxForm(reads_back_as=("avgpool3d",))
    output_size: IntOrTriple


@register
class AdaptiveMaxPool1d(AdaptiveMaxPool):
    """Adaptive max pooling over (C, L) (PyTorch `AdaptiveMaxPool1d`)."""

    type_name = "adaptivemaxpool1d"
    spatial_axes = 1
    aliases = ()
    torch_form = TorchForm(modules=("AdaptiveMaxPool1d",), functions=("adaptive_max_pool1d",),
                           arguments=("output_size", "return_indices"))
    onnx_form = OnnxForm(reads_back_as=("maxpool1d",))
    output_size: IntOrSingle


@register
class AdaptiveMaxPool3d(AdaptiveMaxPool):
    """Adaptive max pooling over (C, T, H, W) (PyTorch `AdaptiveMaxPool3d`)."""

    type_name = "adaptivemaxpool3d"
    spatial_axes = 3
    aliases = ()
    torch_form = TorchForm(modules=("AdaptiveMaxPool3d",), functions=("adaptive_max_pool3d",),
                           arguments=("output_size", "return_indices"))
    onnx_form = OnnxForm(reads_back_as=("maxpool3d",))
    output_size: IntOrTriple
