"""Pooling: max/avg/sum windows (ceil_mode, padding), global and adaptive pooling."""

from __future__ import annotations

from typing import Any, ClassVar

from ..arrays import kernels
from ..errors import ExportError, ShapeError
from ..records import IntOrPair, Padding
from .base import Arithmetic, AxisWindow, Layer, Shape, register, spatial
from .conv import _Windowed
from .family import Family


class _WindowPool(_Windowed):
    """A window reduced to one value per channel; no parameters, no MACs."""

    mode: ClassVar[str] = "max"

    kernel_size: IntOrPair
    stride: IntOrPair | None = None
    padding: Padding = (0, 0)
    ceil_mode: bool = False

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, _, _ = spatial(inputs[0], self.type_name)
        g = self.geometry(inputs[0])
        for k, p in zip(g.kernel, g.pads):
            if max(p) > k // 2:  # PyTorch's rule, with or without dilation
                raise ShapeError(f"padding {max(p)} is more than half the window {k}")
        return (c, *g.output(self.ceil_mode))

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output=self.size_arithmetic(inputs[0], output), params="0", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        g = self.geometry(inputs[0].shape[1:])
        return kernels.pool2d(xp, inputs[0], self.mode, g.kernel, g.stride, g.pads, g.dilation,
                              g.output(self.ceil_mode), getattr(self, "count_include_pad", True))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import pool2d

        g = self.geometry(inputs[0])
        return pool2d(self.mode, g.kernel, g.stride, g.pads, g.dilation, self.ceil_mode,
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
        _, h, w = record.input_shapes[0]
        need = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(out, g.stride, g.dilation, g.kernel)]
        extra = [max(n - size - sum(p), 0) for n, size, p in zip(need, (h, w), g.pads)]
        pads = ((g.pads[0][0], g.pads[0][1] + extra[0]), (g.pads[1][0], g.pads[1][1] + extra[1]))
        common = {"kernel_shape": list(g.kernel), "strides": list(g.stride)}
        if self.mode == "max":
            graph.node("MaxPool", [x], name, pads=onnx_pads(pads), dilations=list(g.dilation), **common)
            return
        include = getattr(self, "count_include_pad", True)
        if self.mode == "avg" and not any(extra):
            graph.node("AveragePool", [x], name, pads=onnx_pads(pads), count_include_pad=int(include), **common)
            return
        mean = graph.node("AveragePool", [x], f"{name}/mean", pads=onnx_pads(pads), count_include_pad=1, **common)
        area = g.kernel[0] * g.kernel[1]
        if self.mode == "sum":
            factor = np.full(out, float(area))
        else:  # the divisor of each window: its cells inside the padded input (or the input alone)
            inside = np.ones((1, 1, h, w)) if not include else np.ones((1, 1, h + sum(g.pads[0]), w + sum(g.pads[1])))
            spread = g.pads if not include else ((0, 0), (0, 0))
            divisor = kernels.pool2d(np, inside, "sum", g.kernel, g.stride, spread, g.dilation, tuple(out))[0, 0]
            factor = area / divisor
        graph.node("Mul", [mean, graph.constant(f"{name}/factor", factor)], name)


@register
class MaxPool(_WindowPool):
    """Max pooling (PyTorch `MaxPool2d`)."""

    type_name = "maxpool"
    family = Family.MAX_POOL
    keras_name = "MaxPooling2D"
    torch_name = "MaxPool2d"
    paper_name = "max pool"
    aliases = ("maxpool2d",)
    dilation: IntOrPair = (1, 1)


@register
class AvgPool(_WindowPool):
    """Average pooling (PyTorch `AvgPool2d`)."""

    type_name = "avgpool"
    family = Family.AVG_POOL
    keras_name = "AveragePooling2D"
    torch_name = "AvgPool2d"
    paper_name = "avg pool"
    aliases = ("avgpool2d",)
    mode = "avg"
    count_include_pad: bool = True


@register
class SumPool(_WindowPool):
    """Sum pooling: the window's sum (an average pooling times the window area)."""

    type_name = "sumpool"
    family = Family.AVG_POOL
    mode = "sum"


class _GlobalPool(Layer):
    """Reduce each channel's whole map to one value."""

    mode: ClassVar[str] = "avg"

    keepdims: bool = True

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, _, _ = spatial(inputs[0], self.type_name)
        return (c, 1, 1) if self.keepdims else (c,)

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, AxisWindow]:
        _, h, w = inputs[0]
        return (AxisWindow(h, h), AxisWindow(w, w))

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        reduce = xp.max if self.mode == "max" else xp.mean
        return reduce(inputs[0], axis=(2, 3), keepdims=self.keepdims)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import global_pool

        return global_pool(self.mode, self.keepdims)

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
    keras_name = "GlobalAveragePooling2D"
    aliases = ("gap",)
    foreign_aliases = ("GlobalAvgPool2D",)


@register
class GlobalMaxPool(_GlobalPool):
    """Global max pooling."""

    type_name = "globalmaxpool"
    family = Family.MAX_POOL
    keras_name = "GlobalMaxPooling2D"
    foreign_aliases = ("GlobalMaxPool2D",)
    mode = "max"


class _AdaptivePool(Layer):
    """PyTorch's adaptive pooling: window i covers [floor(i·n/o), ceil((i+1)·n/o))."""

    mode: ClassVar[str] = "avg"

    output_size: IntOrPair

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, _, _ = spatial(inputs[0], self.type_name)
        return (c, *self.output_size)

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, AxisWindow]:
        _, h, w = inputs[0]
        result = []
        for n, o in zip((h, w), self.output_size):
            largest = max(-(-((i + 1) * n) // o) - (i * n) // o for i in range(o))
            result.append(AxisWindow(largest, max(1, n // o)))
        return tuple(result)  # type: ignore[return-value]

    def describe(self) -> str:
        o = self.output_size
        return f"→{o[0]}×{o[1]}"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.adaptive_pool2d(xp, inputs[0], self.mode, self.output_size)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        pool = nn.AdaptiveMaxPool2d if self.mode == "max" else nn.AdaptiveAvgPool2d
        return pool(self.output_size)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A whole multiple of the output size pools windows of size input/output; anything else has
        windows of differing sizes, which no ONNX pooling expresses."""
        _, h, w = record.input_shapes[0]
        oh, ow = self.output_size
        maximum = self.mode == "max"
        if (oh, ow) == (1, 1):
            graph.node("GlobalMaxPool" if maximum else "GlobalAveragePool", [record.inputs[0]], record.name)
            return
        if h % oh or w % ow:
            raise ExportError(f"adaptive pooling from {h}×{w} to {oh}×{ow} (not a whole multiple) has no ONNX operator")
        kernel = [h // oh, w // ow]
        graph.node("MaxPool" if maximum else "AveragePool", [record.inputs[0]], record.name, kernel_shape=kernel,
                   strides=kernel)


@register
class AdaptiveAvgPool(_AdaptivePool):
    """Adaptive average pooling (PyTorch `AdaptiveAvgPool2d`)."""

    type_name = "adaptiveavgpool"
    family = Family.ADAPTIVE_AVG_POOL
    torch_name = "AdaptiveAvgPool2d"
    aliases = ("adaptiveavgpool2d",)


@register
class AdaptiveMaxPool(_AdaptivePool):
    """Adaptive max pooling (PyTorch `AdaptiveMaxPool2d`)."""

    type_name = "adaptivemaxpool"
    family = Family.MAX_POOL
    torch_name = "AdaptiveMaxPool2d"
    aliases = ("adaptivemaxpool2d",)
    mode = "max"
