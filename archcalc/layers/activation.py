"""Activations and dropout: elementwise, shape-preserving, no MACs."""

from __future__ import annotations

from typing import Any

from pydantic import PositiveInt, confloat

from ..errors import ShapeError
from ..executor import kernels
from .base import Arithmetic, Layer, Param, Shape, register
from .reshape import Identity


class _Elementwise(Layer):
    """A shape-preserving elementwise function; `inplace` means no new tensor."""

    inplace: bool = False

    @property
    def allocates(self) -> bool:
        return not self.inplace

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.activation(xp, self.type_name, inputs[0], **self.model_dump(exclude={"inplace"}))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from ..executor.torch_ops import Activation

        return Activation(self.type_name, **self.model_dump(exclude={"inplace"}))


@register
class ReLU(_Elementwise):
    """max(0, x) (PyTorch `ReLU`)."""

    type_name = "relu"
    keras_name = "Activation"
    torch_name = "ReLU"
    summary = "rectifier"


@register
class ReLU6(_Elementwise):
    """min(max(0, x), 6) (PyTorch `ReLU6`)."""

    type_name = "relu6"
    keras_name = "Activation"
    torch_name = "ReLU6"
    summary = "rectifier clipped at 6"


@register
class LeakyReLU(_Elementwise):
    """x if x > 0 else slope·x (PyTorch `LeakyReLU`)."""

    type_name = "leakyrelu"
    keras_name = "LeakyReLU"
    torch_name = "LeakyReLU"
    summary = "leaky rectifier"
    negative_slope: float = 0.01


@register
class ELU(_Elementwise):
    """x if x > 0 else α·(eˣ − 1) (PyTorch `ELU`)."""

    type_name = "elu"
    keras_name = "ELU"
    torch_name = "ELU"
    summary = "exponential linear unit"
    alpha: float = 1.0


@register
class Sigmoid(_Elementwise):
    """1/(1 + e⁻ˣ) (PyTorch `Sigmoid`)."""

    type_name = "sigmoid"
    keras_name = "Activation"
    torch_name = "Sigmoid"
    summary = "logistic sigmoid"


@register
class Tanh(_Elementwise):
    """tanh(x) (PyTorch `Tanh`)."""

    type_name = "tanh"
    keras_name = "Activation"
    torch_name = "Tanh"
    summary = "hyperbolic tangent"


@register
class SiLU(_Elementwise):
    """x·sigmoid(x) (PyTorch `SiLU`, also called swish)."""

    type_name = "silu"
    keras_name = "Activation"
    torch_name = "SiLU"
    aliases = ("swish",)
    summary = "sigmoid-weighted linear unit"


@register
class HardSwish(_Elementwise):
    """x·relu6(x + 3)/6 (PyTorch `Hardswish`)."""

    type_name = "hardswish"
    keras_name = "Activation"
    torch_name = "Hardswish"
    summary = "hard swish"


@register
class HardSigmoid(_Elementwise):
    """relu6(x + 3)/6 (PyTorch `Hardsigmoid`)."""

    type_name = "hardsigmoid"
    keras_name = "Activation"
    torch_name = "Hardsigmoid"
    summary = "hard sigmoid"


@register
class GELU(_Elementwise):
    """x·Φ(x) (PyTorch `GELU`, exact form)."""

    type_name = "gelu"
    keras_name = "Activation"
    torch_name = "GELU"
    summary = "Gaussian error linear unit"


@register
class Softmax(Layer):
    """Softmax over the channel/feature axis (PyTorch `Softmax(dim=1)`)."""

    type_name = "softmax"
    keras_name = "Activation"
    torch_name = "Softmax"
    summary = "softmax"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.softmax(xp, inputs[0], axis=1)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.Softmax(dim=1)


@register
class PReLU(Layer):
    """Parametric rectifier (PyTorch `PReLU`): one learnt slope, or one per channel."""

    type_name = "prelu"
    keras_name = "PReLU"
    torch_name = "PReLU"
    summary = "parametric rectifier"

    num_parameters: PositiveInt = 1
    init: float = 0.25

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if self.num_parameters not in (1, inputs[0][0]):
            raise ShapeError(f"num_parameters must be 1 or the channel count {inputs[0][0]}")
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return [Param("weight", (self.num_parameters,), "weight")]

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output="same as input", params=f"{self.num_parameters} slope(s)", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        slope = params["weight"].reshape((1, -1) + (1,) * (x.ndim - 2) if self.num_parameters > 1 else ())
        return xp.where(x > 0, x, slope * x)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.PReLU(self.num_parameters, self.init)


@register
class Dropout(Identity):
    """Dropout: the identity at inference, so no new tensor."""

    type_name = "dropout"
    keras_name = "Dropout"
    torch_name = "Dropout"
    summary = "dropout (identity at inference)"

    p: confloat(ge=0.0, le=1.0) = 0.5  # type: ignore[valid-type]
    inplace: bool = False

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.Dropout(self.p)
