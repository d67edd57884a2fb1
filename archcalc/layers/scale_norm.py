"""Normalisations that divide by a magnitude without centring the map: `rmsnorm` (each position's channels
by their root mean square, or by their standard deviation as timm's `SimpleNorm2d`) and `grn`
(ConvNeXt-V2's global response normalisation: each channel by its L2 norm over the positions)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..errors import ExportError, ShapeError
from ..records import PositiveFloat
from .base import Arithmetic, Layer, Param, Shape, format_shape, register
from .family import Family
from .foreign import Mismatch, OnnxForm, OnnxNode, Parameter, TorchCall, TorchForm

#: timm's and PyTorch's modules of `rmsnorm`: over the channels of an N×C×H×W map (the `2d` ones) or over the
#: last axis (a channels-last map, a vector); and what each divides by.
_RMS_MODULES = {"RmsNorm2d": ("mean_square", True), "SimpleNorm2d": ("variance", True),
                "RMSNorm": ("mean_square", False), "RmsNorm": ("mean_square", False), "SimpleNorm": ("variance", False)}


def _map_or_vector(shape: Shape, who: str) -> Shape:
    if len(shape) not in (1, 3):
        raise ShapeError(f"{who} needs a (C, H, W) or (F,) input, got {format_shape(shape)}")
    return shape


@register
class RMSNorm(Layer):
    """Each position's C channels (a vector's F features) divided by their root mean square, x / √(mean(x²) + ε)
    (`statistic: mean_square`: PyTorch `RMSNorm`, timm's `RmsNorm2d`), or by their standard deviation with
    the unbiased variance, x / √(var(x) + ε), the mean not subtracted (`statistic: variance`: timm's
    `SimpleNorm2d`, ConvNeXt's `rmsnorm` models); then γ per channel."""

    type_name = "rmsnorm"
    family = Family.LAYER_NORM
    positionwise = True
    torch_form = TorchForm(modules=("RmsNorm2d", "SimpleNorm2d", "RMSNorm", "RmsNorm", "SimpleNorm"),
                           functions=("rms_norm",), arguments=("normalized_shape", "weight", "eps"))
    onnx_form = OnnxForm(ops=("RMSNorm", "SimpleNorm"))   # functions archcalc writes

    eps: PositiveFloat = 1e-6
    elementwise_affine: bool = Field(True, description="learn γ, one per channel")
    statistic: Literal["mean_square", "variance"] = Field(
        "mean_square", description="divide by √(mean(x²) + ε) (RMS) or by √(var(x) + ε), the variance unbiased")

    @property
    def has_affine(self) -> bool:
        return self.elementwise_affine

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """timm's `RmsNorm2d(C)`, `SimpleNorm2d(C)` on an N×C×H×W map; PyTorch `RMSNorm(C)`, timm's `RmsNorm(C)`,
        `SimpleNorm(C)` and `F.rms_norm(x, (C,), γ, eps)` on a channels-last map or a vector."""
        m, site = call.module, call.site
        statistic, over_channels = _RMS_MODULES.get(call.name, ("mean_square", False))
        if m is not None:
            shape, eps, weight = tuple(m.normalized_shape), m.eps, getattr(m, "weight", None)
        else:
            names = cls.torch_form.arguments
            shape, eps = tuple(call.argument(names, "normalized_shape") or ()), call.argument(names, "eps")
            weight = call.argument(names, "weight")
        if eps is None:
            raise Mismatch(f"{call.name} with eps None (the dtype's machine epsilon) has no archcalc form: give eps")
        if len(shape) != 1:
            raise Mismatch(f"{call.name} over more than one axis has no archcalc layer type")
        if site.shape is not None and len(site.shape) != 1 and \
                (over_channels == site.channels_last or site.channels != shape[0]):
            raise Mismatch(f"{call.name} must normalise the channels")
        return {"eps": float(eps), "elementwise_affine": weight is not None, "statistic": statistic}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """archcalc's functions `RMSNorm` and `SimpleNorm` (x, γ or a constant of ones; `epsilon`)."""
        return {"eps": float(node.attributes.get("epsilon", 1e-6)),
                "elementwise_affine": isinstance(node.inputs[1], Parameter),
                "statistic": "mean_square" if node.op == "RMSNorm" else "variance"}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        shape = _map_or_vector(inputs[0], "rmsnorm")
        if self.statistic == "variance" and shape[0] < 2:
            raise ShapeError("rmsnorm by the unbiased variance needs at least 2 channels")
        return shape

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return [Param("weight", (inputs[0][0],), "weight", initial=1.0)] if self.elementwise_affine else []

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c = inputs[0][0]
        return Arithmetic(output="same as input", params=f"{c} (γ)" if self.elementwise_affine else "0", macs="0")

    def describe(self) -> str:
        return "÷ RMS" if self.statistic == "mean_square" else "÷ std"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        if self.statistic == "mean_square":
            square = (x * x).mean(axis=1, keepdims=True)
        else:
            centred = x - x.mean(axis=1, keepdims=True)
            square = (centred * centred).sum(axis=1, keepdims=True) / (x.shape[1] - 1)
        out = x / xp.sqrt(square + self.eps)
        if self.elementwise_affine:
            out = out * params["weight"].reshape((-1,) + (1,) * (x.ndim - 2))
        return out

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import RmsNorm2d, SimpleNorm2d

        if not self.elementwise_affine:
            raise ExportError("rmsnorm without elementwise_affine has no PyTorch module in archcalc's export")
        return (RmsNorm2d if self.statistic == "mean_square" else SimpleNorm2d)(inputs[0][0], self.eps)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `RMSNorm` or `SimpleNorm` over axis 1 (γ reshaped per channel; ones without it)."""
        from .onnx_nodes import per_channel

        c = record.input_shapes[0][0]
        gamma = graph.weight(record, "weight") if self.elementwise_affine else \
            graph.constant(f"{record.name}/ones", [1.0] * c)
        gamma = per_channel(graph, record, gamma, "weight")
        name = "RMSNorm" if self.statistic == "mean_square" else "SimpleNorm"
        extra = {} if self.statistic == "mean_square" else {"correction": float(c / (c - 1))}
        graph.call(lambda: _rms_function(name), name, [record.inputs[0], gamma], record.name, epsilon=self.eps,
                   **extra)


def _rms_function(name: str) -> Any:
    from .onnx_nodes import function, ref

    if name == "RMSNorm":
        square = [("Mul", ["x", "x"], "squared", {}),
                  ("ReduceMean", ["squared"], "square", {"axes": [1], "keepdims": 1})]
    else:
        square = [("ReduceMean", ["x"], "mean", {"axes": [1], "keepdims": 1}), ("Sub", ["x", "mean"], "centred", {}),
                  ("Mul", ["centred", "centred"], "squared", {}),
                  ("ReduceMean", ["squared"], "biased", {"axes": [1], "keepdims": 1}),
                  ("Constant", [], "correction", {"value_float": ref("float", "correction")}),
                  ("Mul", ["biased", "correction"], "square", {})]
    return function(name, ["x", "gamma"], ["y"], [
        *square, ("Constant", [], "eps", {"value_float": ref("float", "epsilon")}),
        ("Add", ["square", "eps"], "padded", {}), ("Sqrt", ["padded"], "rms", {}),
        ("Div", ["x", "rms"], "normed", {}), ("Mul", ["normed", "gamma"], "y", {}),
    ], ["epsilon", *([] if name == "RMSNorm" else ["correction"])])


@register
class GlobalResponseNorm(Layer):
    """ConvNeXt-V2's global response normalisation (timm's `GlobalResponseNorm`): per channel the L2 norm over
    the positions, g_c = ‖x_c‖₂, divided by its mean over the channels, n_c = g_c / (mean(g) + ε); then
    x + γ·(x·n) + β, γ and β one per channel (both starting at 0: the identity)."""

    type_name = "grn"
    family = Family.GROUP_NORM
    positionwise = True        # computed alike from either layout: an importer keeps a channels-last map so
    receptive_field_defined = False   # every output position reads every input position
    torch_form = TorchForm(modules=("GlobalResponseNorm",))
    onnx_form = OnnxForm(ops=("GlobalResponseNorm",))     # a function archcalc writes

    eps: PositiveFloat = 1e-6

    @property
    def has_affine(self) -> bool:
        return True

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """timm's `GlobalResponseNorm(C)`, channels last (the (N, H, W, C) of ConvNeXt-V2's MLP) or first."""
        m, site = call.module, call.site
        last = tuple(m.spatial_dim) == (1, 2)
        if site.shape is not None and (last != site.channels_last or site.channels != m.weight.shape[0]):
            raise Mismatch("GlobalResponseNorm must normalise the channels of the map it reads")
        return {"eps": float(m.eps)}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        return {"eps": float(node.attributes.get("epsilon", 1e-6))}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != 3:
            raise ShapeError(f"grn needs a (C, H, W) input, got {format_shape(inputs[0])}")
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        c = inputs[0][0]
        return [Param("weight", (c,), "weight"), Param("bias", (c,), "bias")]

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c = inputs[0][0]
        return Arithmetic(output="same as input", params=f"2 × {c} (γ, β) = {2 * c:,}", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        norm = xp.sqrt((x * x).sum(axis=(2, 3), keepdims=True))
        response = norm / (norm.mean(axis=1, keepdims=True) + self.eps)
        gamma, beta = (params[k].reshape(1, -1, 1, 1) for k in ("weight", "bias"))
        return x + gamma * (x * response) + beta

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import GlobalResponseNorm

        return GlobalResponseNorm(inputs[0][0], self.eps, False)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `GlobalResponseNorm` (γ and β reshaped per channel)."""
        from .onnx_nodes import per_channel

        gamma, beta = (per_channel(graph, record, graph.weight(record, k), k) for k in ("weight", "bias"))
        graph.call(_grn_function, "GlobalResponseNorm", [record.inputs[0], gamma, beta], record.name,
                   epsilon=self.eps)


def _grn_function() -> Any:
    from .onnx_nodes import function, ref

    return function("GlobalResponseNorm", ["x", "gamma", "beta"], ["y"], [
        ("Constant", [], "spatial", {"value_ints": [2, 3]}), ("Mul", ["x", "x"], "squared", {}),
        ("ReduceSum", ["squared", "spatial"], "sums", {"keepdims": 1}),
        ("Sqrt", ["sums"], "norm", {}), ("ReduceMean", ["norm"], "mean", {"axes": [1], "keepdims": 1}),
        ("Constant", [], "eps", {"value_float": ref("float", "epsilon")}), ("Add", ["mean", "eps"], "padded", {}),
        ("Div", ["norm", "padded"], "response", {}), ("Mul", ["x", "response"], "scaled", {}),
        ("Mul", ["scaled", "gamma"], "weighted", {}), ("Add", ["weighted", "beta"], "shifted", {}),
        ("Add", ["x", "shifted"], "y", {}),
    ], ["epsilon"])
