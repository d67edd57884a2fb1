"""Activations and dropout: elementwise, shape-preserving, no MACs."""

from __future__ import annotations

from typing import Any, Literal

from ..arrays import kernels
from ..errors import ShapeError
from ..records import Fraction, PositiveInt
from .base import Arithmetic, Layer, Param, Shape, layer_class, register
from .family import Family
from .reshape import Identity

FusedActivation = Literal[
    "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "silu", "swish", "hardswish", "elu", "gelu"
]


def fused_layer(name: str | None) -> Layer | None:
    """The activation layer of a Keras-style fused activation (`activation: relu` on conv, linear,
    batchnorm); None for None and `linear`, the identity."""
    return None if name in (None, "linear") else layer_class(name)()


def fused(xp: Any, name: str | None, x: Any) -> Any:
    """`x` through the fused activation `name`."""
    layer = fused_layer(name)
    return x if layer is None else layer.apply(xp, x)


def fused_in_place(xp: Any, name: str | None, x: Any) -> Any:
    """`fused` writing into `x`, for a tensor no one else reads."""
    layer = fused_layer(name)
    return x if layer is None else layer.apply_in_place(xp, x)


def fused_torch(name: str | None) -> Any:
    """The PyTorch module of a fused activation (None for None and `linear`, the identity)."""
    layer = fused_layer(name)
    return None if layer is None else layer.torch_module([])


class Elementwise(Layer):
    """A shape-preserving elementwise function; `inplace` means no new tensor.

    A subclass gives the function as `apply` against an array module (NumPy or CuPy) and as
    `onnx_apply` in ONNX nodes, and names PyTorch's own module of it (`torch_name`, never built in
    place: other branches may read the input).
    """

    inplace: bool = False

    @property
    def allocates(self) -> bool:
        return not self.inplace

    def apply(self, xp: Any, x: Any) -> Any:
        raise NotImplementedError

    def apply_in_place(self, xp: Any, x: Any) -> Any:
        """`apply` writing its result into `x` (the fast path uses it for tensors nobody else reads)."""
        x[...] = self.apply(xp, x)
        return x

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return self.apply(xp, inputs[0])

    def forward_prepared(self, xp: Any, inputs: list[Any], params: dict[str, Any], writable: Any) -> Any:
        return self.apply_in_place(xp, inputs[0]) if writable(0) else self.forward(xp, inputs, params)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        """The nodes computing the function of tensor `x` into tensor `out` (also when fused)."""
        raise NotImplementedError

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        self.onnx_apply(graph, record.inputs[0], record.name)


@register
class ReLU(Elementwise):
    """max(0, x) (PyTorch `ReLU`)."""

    type_name = "relu"
    family = Family.RELU
    keras_name = "Activation"
    torch_name = "ReLU"

    def apply(self, xp: Any, x: Any) -> Any:
        return xp.maximum(x, 0)

    def apply_in_place(self, xp: Any, x: Any) -> Any:
        return xp.maximum(x, 0, out=x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Relu", [x], out)


@register
class ReLU6(Elementwise):
    """min(max(0, x), 6) (PyTorch `ReLU6`)."""

    type_name = "relu6"
    family = Family.RELU6
    keras_name = "Activation"
    torch_name = "ReLU6"

    def apply(self, xp: Any, x: Any) -> Any:
        return xp.clip(x, 0, 6)

    def apply_in_place(self, xp: Any, x: Any) -> Any:
        return xp.clip(x, 0, 6, out=x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Clip", [x, graph.constant(f"{out}/min", 0.0), graph.constant(f"{out}/max", 6.0)], out)


@register
class LeakyReLU(Elementwise):
    """x if x > 0 else slope·x (PyTorch `LeakyReLU`)."""

    type_name = "leakyrelu"
    family = Family.LEAKY_RELU
    keras_name = "LeakyReLU"
    torch_name = "LeakyReLU"
    torch_args = ("negative_slope",)
    negative_slope: float = 0.01

    def apply(self, xp: Any, x: Any) -> Any:
        return xp.where(x > 0, x, x * self.negative_slope)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("LeakyRelu", [x], out, alpha=self.negative_slope)


@register
class ELU(Elementwise):
    """x if x > 0 else α·(eˣ − 1) (PyTorch `ELU`)."""

    type_name = "elu"
    family = Family.ELU
    keras_name = "ELU"
    torch_name = "ELU"
    torch_args = ("alpha",)
    alpha: float = 1.0

    def apply(self, xp: Any, x: Any) -> Any:
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Elu", [x], out, alpha=self.alpha)


@register
class Sigmoid(Elementwise):
    """1/(1 + e⁻ˣ) (PyTorch `Sigmoid`)."""

    type_name = "sigmoid"
    family = Family.SIGMOID
    keras_name = "Activation"
    torch_name = "Sigmoid"

    def apply(self, xp: Any, x: Any) -> Any:
        return kernels.sigmoid(xp, x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Sigmoid", [x], out)


@register
class Tanh(Elementwise):
    """tanh(x) (PyTorch `Tanh`)."""

    type_name = "tanh"
    family = Family.TANH
    keras_name = "Activation"
    torch_name = "Tanh"

    def apply(self, xp: Any, x: Any) -> Any:
        return xp.tanh(x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Tanh", [x], out)


@register
class SiLU(Elementwise):
    """x·sigmoid(x) (PyTorch `SiLU`, also called swish)."""

    type_name = "silu"
    family = Family.SILU
    keras_name = "Activation"
    torch_name = "SiLU"
    aliases = ("swish",)

    def apply(self, xp: Any, x: Any) -> Any:
        return x * kernels.sigmoid(xp, x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Mul", [x, graph.node("Sigmoid", [x], f"{out}/sigmoid")], out)


@register
class HardSwish(Elementwise):
    """x·relu6(x + 3)/6 (PyTorch `Hardswish`)."""

    type_name = "hardswish"
    family = Family.HARDSWISH
    keras_name = "Activation"
    torch_name = "Hardswish"

    def apply(self, xp: Any, x: Any) -> Any:
        return x * xp.clip(x + 3, 0, 6) / 6

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("HardSwish", [x], out)


@register
class HardSigmoid(Elementwise):
    """relu6(x + 3)/6 (PyTorch `Hardsigmoid`)."""

    type_name = "hardsigmoid"
    family = Family.HARDSIGMOID
    keras_name = "Activation"
    torch_name = "Hardsigmoid"

    def apply(self, xp: Any, x: Any) -> Any:
        return xp.clip(x + 3, 0, 6) / 6

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("HardSigmoid", [x], out, alpha=1 / 6, beta=0.5)


@register
class GELU(Elementwise):
    """x·Φ(x) (PyTorch `GELU`, exact form)."""

    type_name = "gelu"
    family = Family.GELU
    keras_name = "Activation"
    torch_name = "GELU"

    def apply(self, xp: Any, x: Any) -> Any:
        return kernels.gelu(xp, x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        """x · Φ(x) = x · (1 + erf(x/√2)) / 2 (Gelu is an operator only from opset 20)."""
        scaled = graph.node("Mul", [x, graph.constant(f"{out}/rsqrt2", 0.5 ** 0.5)], f"{out}/scaled")
        one_plus = graph.node("Add", [graph.node("Erf", [scaled], f"{out}/erf"), graph.constant(f"{out}/one", 1.0)],
                              f"{out}/one_plus")
        half = graph.node("Mul", [x, graph.constant(f"{out}/half", 0.5)], f"{out}/half_x")
        return graph.node("Mul", [half, one_plus], out)


@register
class Softmax(Layer):
    """Softmax over the channel/feature axis (PyTorch `Softmax(dim=1)`)."""

    type_name = "softmax"
    family = Family.SOFTMAX
    keras_name = "Activation"
    torch_name = "Softmax"

    def apply(self, xp: Any, x: Any) -> Any:
        return kernels.softmax(xp, x, axis=1)

    def apply_in_place(self, xp: Any, x: Any) -> Any:
        x[...] = self.apply(xp, x)
        return x

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return self.apply(xp, inputs[0])

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.Softmax(dim=1)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Softmax", [x], out, axis=1)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        self.onnx_apply(graph, record.inputs[0], record.name)


@register
class PReLU(Layer):
    """Parametric rectifier (PyTorch `PReLU`): one learnt slope, or one per channel."""

    type_name = "prelu"
    family = Family.PRELU
    keras_name = "PReLU"
    torch_name = "PReLU"
    torch_args = ("num_parameters", "init")

    num_parameters: PositiveInt = 1
    init: float = 0.25

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if self.num_parameters not in (1, inputs[0][0]):
            raise ShapeError(f"num_parameters must be 1 or the channel count {inputs[0][0]}")
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return [Param("weight", (self.num_parameters,), "weight", initial=self.init)]

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output="same as input", params=f"{self.num_parameters} slope(s)", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        slope = params["weight"].reshape((1, -1) + (1,) * (x.ndim - 2) if self.num_parameters > 1 else ())
        return xp.where(x > 0, x, slope * x)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        slope = graph.weight(record, "weight")
        rank = len(record.input_shapes[0])
        if self.num_parameters > 1 and rank > 1:
            shape = graph.constant(f"{record.name}/shape", [-1] + [1] * (rank - 1), "int64")
            slope = graph.node("Reshape", [slope, shape], f"{record.name}/slope")
        graph.node("PRelu", [record.inputs[0], slope], record.name)


@register
class Dropout(Identity):
    """Dropout: the identity at inference, so no new tensor."""

    type_name = "dropout"
    family = Family.DATA
    keras_name = "Dropout"
    torch_name = "Dropout"
    torch_args = ("p",)

    p: Fraction = 0.5
    inplace: bool = False

    def paper_label(self) -> str:
        return f"dropout ({self.p:.0%})"


@register
class StochasticDepth(Identity):
    """Stochastic depth (torchvision `StochasticDepth`): drops a residual branch with probability `p`
    per sample (`row`) or per batch (`batch`) in training; the identity at inference, so no new tensor."""

    type_name = "stochasticdepth"
    family = Family.DATA
    keras_name = "StochasticDepth"
    torch_name = "StochasticDepth"

    p: Fraction
    mode: Literal["row", "batch"] = "row"

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.Identity()
