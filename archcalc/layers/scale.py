"""Scaling without a matrix product: `layerscale` (a learnt γ per channel), and Keras's input layers
`normalization` (stored per-channel mean and variance) and `rescaling` (constants)."""

from __future__ import annotations

from typing import Any

from ..arrays import kernels
from ..errors import ShapeError
from .base import Arithmetic, Layer, Param, Shape, format_shape, register
from .family import Family


def _channels(shape: Shape, who: str) -> int:
    if len(shape) not in (1, 3):
        raise ShapeError(f"{who} needs a (C, H, W) or (F,) input, got {format_shape(shape)}")
    return shape[0]


@register
class LayerScale(Layer):
    """x · γ with a learnt γ per channel (ConvNeXt's `layer_scale`, timm's `LayerScale2d`)."""

    type_name = "layerscale"
    family = Family.LAYER_SCALE
    keras_name = "LayerScale"
    torch_name = "LayerScale"

    init: float = 1e-6

    def output_shape(self, inputs: list[Shape]) -> Shape:
        _channels(inputs[0], "layerscale")
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return [Param("gamma", (inputs[0][0],), "weight", initial=self.init)]

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output="same as input", params=f"{inputs[0][0]:,} (γ, one per channel)", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return inputs[0] * kernels.per_channel(inputs[0], params["gamma"])

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import layer_scale

        return layer_scale(inputs[0][0], self.init, len(inputs[0]))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import per_channel

        gamma = per_channel(graph, record, graph.weight(record, "gamma"), "gamma")
        graph.node("Mul", [record.inputs[0], gamma], record.name)


@register
class Normalization(Layer):
    """Keras `Normalization` (per channel): (x − mean) / max(√variance, 1e-7), with the mean, the
    variance and the count of samples they were adapted on stored as non-trainable weights."""

    type_name = "normalization"
    family = Family.STANDARDIZE
    keras_name = "Normalization"
    torch_name = "Normalization"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        _channels(inputs[0], "normalization")
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        c = inputs[0][0]
        return [Param("mean", (c,), "stat"), Param("variance", (c,), "stat", initial=1.0, least=0.0),
                Param("count", (), "stat")]

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c = inputs[0][0]
        return Arithmetic(output="same as input",
                          params=f"2 × {c} (mean, variance) + 1 (count) = {2 * c + 1:,} non-trainable", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        deviation = xp.maximum(xp.sqrt(kernels.per_channel(x, params["variance"])), 1e-7)
        return (x - kernels.per_channel(x, params["mean"])) / deviation

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import normalization

        return normalization(inputs[0][0], len(inputs[0]))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import per_channel

        name = record.name
        mean = per_channel(graph, record, graph.weight(record, "mean"), "mean")
        variance = per_channel(graph, record, graph.weight(record, "variance"), "variance")
        graph.weight(record, "count")  # stored, as Keras stores it; no arithmetic uses it
        deviation = graph.node("Max", [graph.node("Sqrt", [variance], f"{name}/std"),
                                       graph.constant(f"{name}/floor", 1e-7)], f"{name}/deviation")
        centred = graph.node("Sub", [record.inputs[0], mean], f"{name}/centred")
        graph.node("Div", [centred, deviation], name)


@register
class Rescaling(Layer):
    """Keras `Rescaling`: x · scale + offset (e.g. scale 1/255 for pixels)."""

    type_name = "rescaling"
    family = Family.RESCALE
    keras_name = "Rescaling"
    torch_name = "Rescaling"

    scale: float
    offset: float = 0.0

    def describe(self) -> str:
        return f"×{self.scale:g} + {self.offset:g}"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return inputs[0] * self.scale + self.offset

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import rescaling

        return rescaling(self.scale, self.offset)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        name = record.name
        scaled = graph.node("Mul", [record.inputs[0], graph.constant(f"{name}/scale", self.scale)], f"{name}/scaled")
        graph.node("Add", [scaled, graph.constant(f"{name}/offset", self.offset)], name)
