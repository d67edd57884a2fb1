"""Activations and dropout: elementwise, shape-preserving, no MACs."""

from __future__ import annotations

from typing import Any, Literal

from ..arrays import kernels
from ..errors import ShapeError, shorten
from ..records import Fraction, PositiveInt
from .base import _REGISTRY, Arithmetic, Layer, Param, Shape, layer_class, register, torch_arguments
from .data_movement import Identity
from .family import Family
from .foreign import KerasForm, KerasLayer, Mismatch, OnnxForm, OnnxNode, TorchCall, TorchForm


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


def keras_activation(name: Any) -> tuple[type[Layer], dict[str, Any]] | None:
    """The layer type of the Keras activation `name` (`relu`, `hard_swish`) and the hyper-parameters
    Keras's function fixes; None for `linear` (the identity); `Mismatch` for an activation archcalc lacks."""
    if name in (None, "linear"):
        return None
    found = next((cls for cls in dict.fromkeys(_REGISTRY.values()) if name in cls.keras_form.activations), None)
    if found is None:
        raise Mismatch(f"activation {shorten(repr(name))} has no archcalc layer type")
    return found, dict(found.keras_form.activation_arguments)


def keras_fused(config: Any) -> dict[str, Any]:
    """`{"activation": type}` for the `activation` of a Keras layer's config (nothing for `linear`)."""
    found = keras_activation(config.get("activation", "linear"))
    if found is None:
        return {}
    if not found[0].fusable:
        raise Mismatch(f"fused activation {shorten(repr(config['activation']))} has no archcalc form")
    return {"activation": found[0].type_name}


def keras_relu(config: Any) -> tuple[Any, Any]:
    """(cap, negative slope) of Keras's `ReLU` layer; `Mismatch` for a threshold or a cap other than 6."""
    cap, slope, threshold = config.get("max_value"), config.get("negative_slope", 0), config.get("threshold", 0)
    if threshold or cap not in (None, 6) or slope and cap is not None:
        raise Mismatch("ReLU with a threshold or a cap other than 6 has no archcalc layer type")
    return cap, slope


def clip_bounds(node: OnnxNode) -> tuple[Any, Any]:
    """(low, high) of an ONNX `Clip` (attributes before opset 11, constant inputs since)."""
    low, high = node.attributes.get("min"), node.attributes.get("max")
    if len(node.inputs) > 1:
        low, high = ((float(value) if value is not None else None)
                     for value in (list(node.inputs[1:]) + [None])[:2])
    return low, high


def _clip_refused(low: Any, high: Any) -> Mismatch:
    return Mismatch(f"Clip to [{low}, {high}] has no archcalc layer type (only relu and relu6)")


class Elementwise(Layer):
    """A shape-preserving elementwise function; `inplace` means no new tensor.

    A subclass gives the function as `apply` against an array module (NumPy or CuPy) and as
    `onnx_apply` in ONNX nodes, and names PyTorch's own module of it (`torch_form`, never built in
    place: other branches may read the input).
    """

    positionwise = True
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
    fusable = True
    torch_form = TorchForm(modules=("ReLU",), functions=("relu", "relu_"), arguments=("inplace",))
    onnx_form = OnnxForm(ops=("Relu", "Clip"))
    keras_form = KerasForm(classes=("ReLU",), activations=("relu",), summary="Activation")

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`Relu`, or `Clip` to [0, ∞)."""
        if node.op == "Clip" and clip_bounds(node) != (0, None):
            raise _clip_refused(*clip_bounds(node))
        return {}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        if keras_relu(layer.config) != (None, 0):
            raise Mismatch("a capped or leaky ReLU")
        return {}

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
    fusable = True
    torch_form = TorchForm(modules=("ReLU6",), functions=("relu6",), arguments=("inplace",))
    onnx_form = OnnxForm(ops=("Clip",))
    keras_form = KerasForm(classes=("ReLU",), activations=("relu6",), summary="Activation")

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`Clip` to [0, 6]."""
        if clip_bounds(node) != (0, 6):
            raise _clip_refused(*clip_bounds(node))
        return {}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        cap, slope = keras_relu(layer.config)
        if cap is None or slope:
            raise Mismatch("a ReLU without a cap of 6")
        return {}

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
    torch_form = TorchForm(modules=("LeakyReLU",), functions=("leaky_relu", "leaky_relu_"),
                           arguments=("negative_slope", "inplace"))
    onnx_form = OnnxForm(ops=("LeakyRelu",), attributes={"alpha": "negative_slope"})
    keras_form = KerasForm(classes=("LeakyReLU", "ReLU"), activations=("leaky_relu",),
                           activation_arguments={"negative_slope": 0.2},
                           config={"negative_slope": "negative_slope", "alpha": "negative_slope"})
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
    fusable = True
    torch_form = TorchForm(modules=("ELU",), functions=("elu", "elu_"), arguments=("alpha", "inplace"))
    onnx_form = OnnxForm(ops=("Elu",), attributes={"alpha": "alpha"})
    keras_form = KerasForm(classes=("ELU",), activations=("elu",), config={"alpha": "alpha"})
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
    fusable = True
    torch_form = TorchForm(modules=("Sigmoid",), functions=("sigmoid", "sigmoid_"))
    onnx_form = OnnxForm(ops=("Sigmoid",))
    keras_form = KerasForm(activations=("sigmoid",), summary="Activation")

    def apply(self, xp: Any, x: Any) -> Any:
        return kernels.sigmoid(xp, x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Sigmoid", [x], out)


@register
class Tanh(Elementwise):
    """tanh(x) (PyTorch `Tanh`)."""

    type_name = "tanh"
    family = Family.TANH
    fusable = True
    torch_form = TorchForm(modules=("Tanh",), functions=("tanh", "tanh_"))
    onnx_form = OnnxForm(ops=("Tanh",))
    keras_form = KerasForm(activations=("tanh",), summary="Activation")

    def apply(self, xp: Any, x: Any) -> Any:
        return xp.tanh(x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Tanh", [x], out)


@register
class SiLU(Elementwise):
    """x·sigmoid(x) (PyTorch `SiLU`, also called swish)."""

    type_name = "silu"
    family = Family.SILU
    fusable = True
    aliases = ("swish",)
    torch_form = TorchForm(modules=("SiLU",), functions=("silu",), arguments=("inplace",))
    keras_form = KerasForm(activations=("silu", "swish"), summary="Activation")  # ONNX: x·Sigmoid(x), an idiom

    def apply(self, xp: Any, x: Any) -> Any:
        return x * kernels.sigmoid(xp, x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Mul", [x, graph.node("Sigmoid", [x], f"{out}/sigmoid")], out)


@register
class HardSwish(Elementwise):
    """x·relu6(x + 3)/6 (PyTorch `Hardswish`)."""

    type_name = "hardswish"
    family = Family.HARDSWISH
    fusable = True
    torch_form = TorchForm(modules=("Hardswish",), functions=("hardswish",), arguments=("inplace",))
    onnx_form = OnnxForm(ops=("HardSwish",))
    keras_form = KerasForm(activations=("hard_swish", "hard_silu"), summary="Activation")

    def apply(self, xp: Any, x: Any) -> Any:
        return x * xp.clip(x + 3, 0, 6) / 6

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("HardSwish", [x], out)


@register
class HardSigmoid(Elementwise):
    """relu6(x + 3)/6 (PyTorch `Hardsigmoid`)."""

    type_name = "hardsigmoid"
    family = Family.HARDSIGMOID
    torch_form = TorchForm(modules=("Hardsigmoid",), functions=("hardsigmoid",), arguments=("inplace",))
    onnx_form = OnnxForm(ops=("HardSigmoid",))
    keras_form = KerasForm(activations=("hard_sigmoid",), summary="Activation")

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """PyTorch's x/6 + 1/2 only (ONNX's default is 0.2·x + 0.5)."""
        alpha, beta = node.attributes.get("alpha", 0.2), node.attributes.get("beta", 0.5)
        if abs(alpha - 1 / 6) > 1e-6 or abs(beta - 0.5) > 1e-6:
            raise Mismatch("HardSigmoid other than PyTorch's (x/6 + 1/2) has no archcalc layer type")
        return {}

    def apply(self, xp: Any, x: Any) -> Any:
        return xp.clip(x + 3, 0, 6) / 6

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        return graph.node("HardSigmoid", [x], out, alpha=1 / 6, beta=0.5)


@register
class GELU(Elementwise):
    """x·Φ(x) (PyTorch `GELU`, exact form)."""

    type_name = "gelu"
    family = Family.GELU
    fusable = True
    torch_form = TorchForm(modules=("GELU",), functions=("gelu",), arguments=("approximate",))
    onnx_form = OnnxForm(ops=("Gelu",))  # and, as PyTorch and archcalc export it, x·(1 + erf(x/√2))·0.5: an idiom
    keras_form = KerasForm(activations=("gelu",), summary="Activation")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        approximate = call.module.approximate if call.module is not None else \
            call.argument(cls.torch_form.arguments, "approximate", "none")
        return cls._exact(approximate)

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        return cls._exact(node.attributes.get("approximate", "none"))

    @staticmethod
    def _exact(approximate: Any) -> dict[str, Any]:
        if approximate != "none":
            raise Mismatch("tanh-approximated GELU has no archcalc layer type")
        return {}

    def apply(self, xp: Any, x: Any) -> Any:
        return kernels.gelu(xp, x)

    def onnx_apply(self, graph: Any, x: str, out: str) -> str:
        """x · Φ(x) = x · (1 + erf(x/√2)) · 0.5, in the nodes and order PyTorch's exporter writes (Gelu is an
        operator only from opset 20), which the ONNX importer reads back as one GELU."""
        scaled = graph.node("Div", [x, graph.constant(f"{out}/sqrt2", 2 ** 0.5)], f"{out}/scaled")
        one_plus = graph.node("Add", [graph.node("Erf", [scaled], f"{out}/erf"), graph.constant(f"{out}/one", 1.0)],
                              f"{out}/one_plus")
        product = graph.node("Mul", [x, one_plus], f"{out}/product")
        return graph.node("Mul", [product, graph.constant(f"{out}/half", 0.5)], out)


@register
class Softmax(Layer):
    """Softmax over the channel/feature axis (PyTorch `Softmax(dim=1)`)."""

    type_name = "softmax"
    family = Family.SOFTMAX
    fusable = True
    positionwise = True
    torch_form = TorchForm(modules=("Softmax",), functions=("softmax",), arguments=("dim",))
    onnx_form = OnnxForm(ops=("Softmax",))
    keras_form = KerasForm(activations=("softmax",), summary="Activation")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        dim = call.module.dim if call.module is not None else call.argument(cls.torch_form.arguments, "dim")
        return cls._over_channels(call.site, dim)

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        return cls._over_channels(node.site, node.attributes.get("axis", -1))

    @staticmethod
    def _over_channels(site: Any, axis: Any) -> dict[str, Any]:
        if site.shape is not None and not site.is_channel_axis(axis):
            raise Mismatch("softmax must be over the channels (or the features of a vector)")
        return {}

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
    torch_form = TorchForm(modules=("PReLU",), arguments=("num_parameters", "init"))
    onnx_form = OnnxForm(ops=("PRelu",))
    keras_form = KerasForm(summary="PReLU")

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """As many slopes as the slope parameter holds."""
        return {"num_parameters": node.parameter(1).size}

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
class StarReLU(Layer):
    """s·relu(x)² + b (MetaFormer's StarReLU, timm's `StarReLU`): one learnt scale s (starting at 1) and
    one learnt bias b (starting at 0) for the whole map."""

    type_name = "starrelu"
    family = Family.SQUARED_RELU
    positionwise = True
    torch_form = TorchForm(modules=("StarReLU",))
    onnx_form = OnnxForm(ops=("StarReLU",))   # a function archcalc writes

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """timm's module: a learnt `scale` and `bias` of one value each."""
        for name in ("scale", "bias"):
            tensor = getattr(call.module, name, None)
            if tensor is None or tuple(tensor.shape) != (1,) or not tensor.requires_grad:
                raise Mismatch(f"a StarReLU whose {name} is not one learnt value")
        return {}

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return [Param("scale", (1,), "weight", initial=1.0), Param("bias", (1,), "bias")]

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output="same as input", params="2 (s and b)", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return params["scale"].reshape(()) * xp.maximum(inputs[0], 0) ** 2 + params["bias"].reshape(())

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import StarReLU, TorchLayer

        return TorchLayer(StarReLU())

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `StarReLU` (Relu, Mul, Mul, Add) of the map, s and b."""
        graph.call(_star_relu_function, "StarReLU",
                   [record.inputs[0], graph.weight(record, "scale"), graph.weight(record, "bias")], record.name)


def _star_relu_function() -> Any:
    from .onnx_nodes import function

    return function("StarReLU", ["x", "scale", "bias"], ["y"], [
        ("Relu", ["x"], "r", {}), ("Mul", ["r", "r"], "square", {}), ("Mul", ["scale", "square"], "scaled", {}),
        ("Add", ["scaled", "bias"], "y", {}),
    ], [])


@register
class SquaredReLU(Layer):
    """relu(x)² (timm's `SquaredReLU`, the activation of MetaFormer's MLP head)."""

    type_name = "squaredrelu"
    family = Family.SQUARED_RELU
    positionwise = True
    torch_form = TorchForm(modules=("SquaredReLU",))
    onnx_form = OnnxForm(ops=("SquaredReLU",))   # a function archcalc writes

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output="same as input", params="0", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return xp.maximum(inputs[0], 0) ** 2

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import SquaredReLU, TorchLayer

        return TorchLayer(SquaredReLU())

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `SquaredReLU` (Relu, Mul)."""
        graph.call(_squared_relu_function, "SquaredReLU", [record.inputs[0]], record.name)


def _squared_relu_function() -> Any:
    from .onnx_nodes import function

    return function("SquaredReLU", ["x"], ["y"], [("Relu", ["x"], "r", {}), ("Mul", ["r", "r"], "y", {})], [])


@register
class Dropout(Identity):
    """Dropout: the identity at inference, so no new tensor."""

    type_name = "dropout"
    family = Family.DATA
    torch_form = TorchForm(modules=("Dropout", "Dropout1d", "Dropout2d", "Dropout3d"),
                           functions=("dropout", "dropout1d", "dropout2d", "dropout3d"),
                           arguments=("p", "training", "inplace"))
    onnx_form = OnnxForm(ops=("Dropout",))
    keras_form = KerasForm(classes=("Dropout", "SpatialDropout2D"), config={"rate": "p"})

    p: Fraction = 0.5
    inplace: bool = False

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any] | None:
        """A module, or a function called in training mode (otherwise the value passes through)."""
        if call.module is None and not call.argument(cls.torch_form.arguments, "training", True):
            return None
        return torch_arguments(cls, call)

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> None:
        """An inference graph's dropout passes its input through."""
        return None

    def paper_label(self) -> str:
        return f"dropout ({self.p:.0%})"


@register
class StochasticDepth(Identity):
    """Stochastic depth (torchvision `StochasticDepth`): drops a residual branch with probability `p`
    per sample (`row`) or per batch (`batch`) in training; the identity at inference, so no new tensor."""

    type_name = "stochasticdepth"
    family = Family.DATA
    torch_form = TorchForm(modules=("StochasticDepth",), functions=("stochastic_depth",), arguments=("p", "mode"))
    keras_form = KerasForm(summary="StochasticDepth")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        return torch_arguments(cls, call)

    p: Fraction
    mode: Literal["row", "batch"] = "row"

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.Identity()


#: The names a convolution, linear layer or batchnorm accepts as its fused `activation` (Keras style):
#: `linear` (none) and the types declared `fusable`, with their aliases.
FusedActivation = Literal[("linear", *(name for name, cls in _REGISTRY.items() if cls.fusable))]  # type: ignore[valid-type]
