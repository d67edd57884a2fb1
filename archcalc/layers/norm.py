"""Normalisation: `batchnorm` (2·C trainable γ, β and 2·C running statistics), `lrn`, `l2norm` (no
weights), and `layernorm` and `groupnorm` (2·C trainable γ, β; statistics of each sample's own values)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..arrays import kernels
from ..errors import ExportError, ShapeError
from ..records import PositiveFloat, PositiveInt
from .activation import FusedActivation, fused, fused_in_place, fused_layer, fused_torch
from .base import Arithmetic, Layer, Param, Shape, format_shape, register
from .family import Family
from .foreign import (
    KerasForm,
    KerasLayer,
    Mismatch,
    OnnxForm,
    OnnxNode,
    Parameter,
    TorchCall,
    TorchForm,
    float32,
    plain,
)


def _constant(value: Any, fill: float) -> bool:
    """Whether an ONNX input is a constant holding only `fill` (what an export writes for a missing γ or β)."""
    import numpy as np

    return isinstance(value, np.ndarray) and bool(np.all(value == fill))


def _keras_affine(config: Any, what: str) -> bool:
    """Whether a Keras normalisation learns γ and β (`center` and `scale`); `Mismatch` for one without the other."""
    center, scale = config.get("center", True), config.get("scale", True)
    if bool(center) != bool(scale):
        raise Mismatch(f"{what} with only one of center and scale has no archcalc layer type")
    return bool(center)


@register
class BatchNorm(Layer):
    """Batch normalisation over channels (PyTorch `BatchNorm2d`/`BatchNorm1d`/`BatchNorm3d`, Keras
    `BatchNormalization`) of a map of any number of spatial axes, or of a flat input."""

    type_name = "batchnorm"
    family = Family.BATCH_NORM
    aliases = ("bn", "batchnorm2d", "batchnorm1d", "batchnorm3d")
    torch_form = TorchForm(modules=("BatchNorm2d", "BatchNorm1d", "BatchNorm3d"))
    onnx_form = OnnxForm(ops=("BatchNormalization",))
    keras_form = KerasForm(classes=("BatchNormalization",))

    eps: PositiveFloat = 1e-5
    momentum: float = 0.1
    affine: bool = True
    scale: bool = Field(True, description="learn γ (Keras `scale`); false keeps β only")
    track_running_stats: bool = True
    activation: FusedActivation | None = Field(None, description="fused activation")

    @property
    def has_affine(self) -> bool:
        return self.affine

    @property
    def tracks_running_stats(self) -> bool:
        return self.track_running_stats

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.BatchNorm2d`/`1d`; an affine one whose γ is no parameter of its own keeps β only (Keras's
        `scale=False`, as `to_torch` builds it)."""
        m = call.module
        params = {"eps": float(m.eps), "affine": m.affine, "track_running_stats": m.track_running_stats}
        if m.momentum is not None:
            params["momentum"] = float(m.momentum)
        if m.affine and "weight" not in dict(m.named_parameters(recurse=False)):
            params["scale"] = False
        return params

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """Inference `BatchNormalization` (ONNX's momentum m is PyTorch's 1 − m); a γ of constant ones is
        none (`scale: false`), and γ and β of constant ones and zeros are no affine at all."""
        params = {"eps": float32(node.attributes.get("epsilon", 1e-5)),
                  "momentum": round(1.0 - float(node.attributes.get("momentum", 0.9)), 6)}
        scale, shift = (node.inputs[k] if node.has(k) else None for k in (1, 2))
        if _constant(scale, 1.0) and _constant(shift, 0.0):
            params["affine"] = False
        elif _constant(scale, 1.0) and isinstance(shift, Parameter):
            params["scale"] = False
        return params

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`BatchNormalization` of the channels (Keras's momentum m is PyTorch's 1 − m; `center` without
        `scale` keeps β only)."""
        config = layer.config
        if not layer.site.is_channel_axis(config.get("axis")):
            raise Mismatch("BatchNormalization must normalise the channels (the last axis)")
        center, scale = config.get("center", True), config.get("scale", True)
        if scale and not center:
            raise Mismatch("BatchNormalization with scale but no center has no archcalc layer type")
        return {"eps": float(config["epsilon"]), "momentum": round(1.0 - float(config["momentum"]), 6),
                "affine": bool(center), "scale": bool(scale)}

    @property
    def fused_activation(self) -> Layer | None:
        return fused_layer(self.activation)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) not in (1, 2, 3, 4):
            raise ShapeError(f"batchnorm needs a (C, H, W), (C, L), (C, T, H, W) or (F,) input, got {inputs[0]}")
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        c = inputs[0][0]
        params = []
        if self.affine:
            params += [Param("weight", (c,), "weight", initial=1.0)] if self.scale else []
            params += [Param("bias", (c,), "bias")]
        if self.track_running_stats:
            params += [Param("running_mean", (c,), "stat"), Param("running_var", (c,), "stat", initial=1.0, least=0.0)]
        return params

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c = inputs[0][0]
        parts = []
        if self.affine:
            n, names = (2, "γ, β") if self.scale else (1, "β")
            parts.append(f"{n} × {c} ({names}) = {n * c:,} trainable")
        if self.track_running_stats:
            parts.append(f"2 × {c} (running mean, var) = {2 * c:,} non-trainable")
        return Arithmetic(output="same as input", params="; ".join(parts) or "0", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        """Inference form with the running statistics; without them, the batch's own (as PyTorch)."""
        x = inputs[0]
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if self.track_running_stats:
            mean, var = params["running_mean"], params["running_var"]
        else:
            axes = (0, *range(2, x.ndim))
            mean, var = x.mean(axis=axes), x.var(axis=axes)
        out = (x - mean.reshape(shape)) / xp.sqrt(var.reshape(shape) + self.eps)
        if self.affine:
            out = out * params["weight"].reshape(shape) if self.scale else out
            out = out + params["bias"].reshape(shape)
        return fused(xp, self.activation, out)

    def inference_affine(self, params: dict[str, Any], input_bias: Any = 0.0) -> tuple[Any, Any]:
        """(scale, shift) per channel with which the inference form of this layer maps x + `input_bias` to
        x·scale + shift: scale = γ/√(var + ε), shift = (input_bias − mean)·scale + β (running statistics)."""
        scale = params.get("weight", 1.0) / (params["running_var"] + self.eps) ** 0.5
        return scale, params.get("bias", 0.0) + (input_bias - params["running_mean"]) * scale

    def forward_absorbed(self, xp: Any, x: Any) -> Any:
        """Only the fused activation is left once a convolution has taken in the normalisation."""
        return fused_in_place(xp, self.activation, x)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import batchnorm

        return batchnorm(inputs[0][0], len(inputs[0]), self.eps, self.momentum, self.affine, self.track_running_stats,
                         fused_torch(self.activation), self.scale)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import activated

        name, channels = record.name, record.input_shapes[0][0]
        names = {p.name for p in record.param_tensors}
        scale = (graph.weight(record, "weight") if "weight" in names
                 else graph.constant(f"{name}/scale", [1.0] * channels))
        shift = graph.weight(record, "bias") if "bias" in names else graph.constant(f"{name}/shift", [0.0] * channels)
        if self.track_running_stats:
            inputs = [record.inputs[0], scale, shift, graph.weight(record, "running_mean"),
                      graph.weight(record, "running_var")]
            activated(graph, record, "BatchNormalization", inputs, epsilon=self.eps)
            return
        # on the batch's own statistics: (x − mean) / √(var + ε) · γ + β over every axis but the channels'
        axes = [0, *range(2, len(record.input_shapes[0]) + 1)]
        per_channel = graph.constant(f"{name}/per_channel", [-1] + [1] * (len(axes) - 1), "int64")
        x = record.inputs[0]
        centred = graph.node("Sub", [x, graph.node("ReduceMean", [x], f"{name}/mean", axes=axes)], f"{name}/centred")
        square = graph.node("Mul", [centred, centred], f"{name}/square")
        variance = graph.node("ReduceMean", [square], f"{name}/variance", axes=axes)
        spread = graph.node("Sqrt", [graph.node("Add", [variance, graph.constant(f"{name}/eps", self.eps)],
                                                f"{name}/var_eps")], f"{name}/std")
        normal = graph.node("Div", [centred, spread], f"{name}/normal")
        scaled = graph.node("Mul", [normal, graph.node("Reshape", [scale, per_channel], f"{name}/gamma")],
                            f"{name}/scaled")
        activated(graph, record, "Add", [scaled, graph.node("Reshape", [shift, per_channel], f"{name}/beta")])


@register
class LRN(Layer):
    """Local response normalisation across channels (AlexNet; PyTorch `LocalResponseNorm`)."""

    type_name = "lrn"
    family = Family.LRN
    torch_form = TorchForm(modules=("LocalResponseNorm",), functions=("local_response_norm",),
                           arguments=("size", "alpha", "beta", "k"))
    onnx_form = OnnxForm(ops=("LRN",), attributes={"size": "size", "alpha": "alpha", "beta": "beta", "bias": "k"})

    size: PositiveInt = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        if "size" not in node.attributes:
            raise Mismatch("LRN without its size")
        return super().from_onnx(node)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != 3:
            raise ShapeError(f"lrn needs a (C, H, W) input, got {inputs[0]}")
        return inputs[0]

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.local_response_norm(xp, inputs[0], self.size, self.alpha, self.beta, self.k)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.LocalResponseNorm(self.size, self.alpha, self.beta, self.k)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        if self.size % 2 == 0:
            raise ExportError(f"ONNX's LRN centres an even window (size {self.size}) one channel later than archcalc")
        graph.node("LRN", [record.inputs[0]], record.name, size=self.size, alpha=self.alpha, beta=self.beta,
                   bias=self.k)


@register
class L2Norm(Layer):
    """Each position's channel vector divided by its Euclidean length, x / max(‖x‖₂, eps): PyTorch
    `F.normalize(x)` (p 2, dim 1), SSD's conv4_3 normalisation (Liu et al. 2016, Section 3.1, after
    ParseNet), whose learnt scale is a `layerscale` after it."""

    type_name = "l2norm"
    family = Family.L2_NORM
    torch_form = TorchForm(functions=("normalize",), arguments=("p", "dim", "eps"), summary="L2Norm")
    # ONNX's LpNormalization has no eps: it differs only where a vector's length is under eps
    onnx_form = OnnxForm(ops=("LpNormalization",))

    eps: PositiveFloat = 1e-12

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`F.normalize(x)`, `F.normalize(x, p=2, dim=1, eps=...)` over the channels of an N×C×H×W map
        or an N×F vector."""
        names = cls.torch_form.arguments
        p, dim = call.argument(names, "p", 2.0), call.argument(names, "dim", 1)
        if p != 2:
            raise Mismatch(f"normalize with p={p} has no archcalc layer type (l2norm is p=2)")
        site = call.site
        if dim != 1 or (site.shape is not None and site.channels_last):
            raise Mismatch("normalize must divide by the length over the channels (dim=1)")
        return {"eps": float(call.argument(names, "eps", 1e-12))}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        if node.attributes.get("p", 2) != 2 or not node.site.is_channel_axis(node.attributes.get("axis", -1)):
            raise Mismatch("LpNormalization must take the L2 length over the channels (p 2, axis 1)")
        return {}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        return _map_or_vector(inputs[0], "l2norm")

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c = inputs[0][0]
        return Arithmetic(output="same as input", params="0",
                          macs=f"0 (per position: {c} squares summed, a square root, {c} divisions)")

    def describe(self) -> str:
        return f"eps {self.eps:g}"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        length = xp.sqrt((x * x).sum(axis=1, keepdims=True))
        return x / xp.maximum(length, x.dtype.type(self.eps))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import l2_norm

        return l2_norm(self.eps)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("LpNormalization", [record.inputs[0]], record.name, axis=1, p=2)


def _map_or_vector(shape: Shape, who: str) -> Shape:
    if len(shape) not in (1, 3):
        raise ShapeError(f"{who} needs a (C, H, W) or (F,) input, got {format_shape(shape)}")
    return shape


def _affine_params(c: int) -> list[Param]:
    return [Param("weight", (c,), "weight", initial=1.0), Param("bias", (c,), "bias")]


def _affine_arithmetic(c: int, affine: bool) -> Arithmetic:
    return Arithmetic(output="same as input", params=f"2 × {c} (γ, β) = {2 * c:,}" if affine else "0", macs="0")


@register
class LayerNorm(Layer):
    """Layer normalisation over the channels at every position of a (C, H, W) map, or over the features
    of a vector: ConvNeXt's `LayerNorm2d`, and PyTorch `LayerNorm(C)` on a channels-last tensor."""

    type_name = "layernorm"
    family = Family.LAYER_NORM
    positionwise = True
    torch_form = TorchForm(modules=("LayerNorm", "LayerNorm2d"), functions=("layer_norm",),
                           arguments=("normalized_shape", "weight", "bias", "eps"))
    onnx_form = OnnxForm(ops=("LayerNormalization",))
    keras_form = KerasForm(classes=("LayerNormalization",))

    eps: PositiveFloat = 1e-5
    elementwise_affine: bool = Field(True, description="learn γ and β, C each")
    bias: bool = Field(True, description="with elementwise_affine, learn β as well as γ")

    @property
    def has_affine(self) -> bool:
        return self.elementwise_affine

    @property
    def shifted(self) -> bool:
        """Whether the layer learns β."""
        return self.elementwise_affine and self.bias

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.LayerNorm(C)` on a channels-last map or a vector, torchvision's `LayerNorm2d(C)` on a
        (C, H, W) map, `F.layer_norm(x, (C,), γ, β, eps)`; without β (`bias=False`, or timm's
        `LayerNorm2dNoBias`), γ alone."""
        m, names = call.module, cls.torch_form.arguments
        if m is not None:
            shape, eps, affine = tuple(m.normalized_shape), m.eps, m.elementwise_affine
            bias = getattr(m, "bias", None) is not None
        else:
            shape = tuple(call.argument(names, "normalized_shape") or ())
            eps, affine = call.argument(names, "eps", 1e-5), call.argument(names, "weight") is not None
            bias = call.argument(names, "bias") is not None
        site, over_channels = call.site, call.name == "LayerNorm2d"
        if len(shape) != 1:
            raise Mismatch("a layer normalisation over more than one axis has no archcalc layer type")
        if site.shape is not None and (over_channels == site.channels_last or site.channels != shape[0]) \
                and len(site.shape) != 1:
            raise Mismatch("a layer normalisation must normalise the channels")
        unshifted = {"bias": False} if affine and not bias else {}
        return {"eps": float(eps), "elementwise_affine": bool(affine), **unshifted}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`LayerNormalization` over the last axis, that of the channels (a channels-last map, a vector)."""
        site, axis = node.site, node.attributes.get("axis", -1)
        rank = site.rank or 2
        if not isinstance(axis, int) or axis % rank != rank - 1 or not site.is_channel_axis(axis):
            raise Mismatch("LayerNormalization must normalise the channels alone")
        shift = node.inputs[2] if node.has(2) else None
        affine = not (_constant(node.inputs[1] if node.has(1) else None, 1.0) and not isinstance(shift, Parameter))
        unshifted = affine and (shift is None or _constant(shift, 0.0))   # γ learnt, β a constant of zeros
        return {"eps": float32(node.attributes.get("epsilon", 1e-5)), "elementwise_affine": affine,
                **({"bias": False} if unshifted else {})}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        config = layer.config
        if not layer.site.is_channel_axis(config.get("axis", -1)) or config.get("rms_scaling"):
            raise Mismatch("LayerNormalization must normalise the channels (the last axis), without rms_scaling")
        return {"eps": float(config.get("epsilon", 1e-3)),
                "elementwise_affine": _keras_affine(config, "LayerNormalization")}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        return _map_or_vector(inputs[0], "layernorm")

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        params = _affine_params(inputs[0][0]) if self.elementwise_affine else []
        return params if self.shifted or not params else params[:1]

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        if self.elementwise_affine and not self.bias:
            return Arithmetic(output="same as input", params=f"{inputs[0][0]:,} (γ; no β)", macs="0")
        return _affine_arithmetic(inputs[0][0], self.elementwise_affine)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        out = kernels.standardize(x, (1,), self.eps)
        if self.elementwise_affine:
            out = out * kernels.per_channel(x, params["weight"])
        if self.shifted:
            out = out + kernels.per_channel(x, params["bias"])
        return out

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import channel_layer_norm

        return channel_layer_norm(inputs[0][0], self.eps, self.elementwise_affine, len(inputs[0]), self.bias)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import channels_last

        channels = record.input_shapes[0][0]
        scale = graph.weight(record, "weight") if self.elementwise_affine else \
            graph.constant(f"{record.name}/scale", [1.0] * channels)
        shift = graph.weight(record, "bias") if self.shifted else \
            graph.constant(f"{record.name}/shift", [0.0] * channels)
        channels_last(graph, record, lambda x, out: graph.node("LayerNormalization", [x, scale, shift], out,
                                                               axis=-1, epsilon=self.eps))


@register
class GroupNorm(Layer):
    """Group normalisation (PyTorch `GroupNorm`): the channels in `num_groups` groups, each standardised
    over its channels and positions, then γ, β per channel."""

    type_name = "groupnorm"
    family = Family.GROUP_NORM
    torch_form = TorchForm(modules=("GroupNorm",), functions=("group_norm",),
                           arguments=("num_groups", "weight", "bias", "eps"))
    keras_form = KerasForm(classes=("GroupNormalization",))   # ONNX: PyTorch's decomposition, an idiom

    num_groups: PositiveInt
    eps: PositiveFloat = 1e-5
    affine: bool = True

    @property
    def has_affine(self) -> bool:
        return self.affine

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        m, names = call.module, cls.torch_form.arguments
        if m is not None:
            return {"num_groups": m.num_groups, "eps": float(m.eps), "affine": m.affine}
        return {"num_groups": call.argument(names, "num_groups"), "eps": float(call.argument(names, "eps", 1e-5)),
                "affine": call.argument(names, "weight") is not None}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        config = layer.config
        if not layer.site.is_channel_axis(config.get("axis", -1)):
            raise Mismatch("GroupNormalization must group the channels (the last axis)")
        return {"num_groups": plain(config.get("groups", 32)), "eps": float(config.get("epsilon", 1e-3)),
                "affine": _keras_affine(config, "GroupNormalization")}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        shape = _map_or_vector(inputs[0], "groupnorm")
        if shape[0] % self.num_groups:
            raise ShapeError(f"num_groups={self.num_groups} must divide the {shape[0]} channels")
        return shape

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return _affine_params(inputs[0][0]) if self.affine else []

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return _affine_arithmetic(inputs[0][0], self.affine)

    def describe(self) -> str:
        return f"{self.num_groups} groups"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        out = kernels.group_norm(x, self.num_groups, self.eps)
        if self.affine:
            out = out * kernels.per_channel(x, params["weight"]) + kernels.per_channel(x, params["bias"])
        return out

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.GroupNorm(self.num_groups, inputs[0][0], self.eps, self.affine)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """PyTorch's decomposition, which the ONNX importer reads back as one group normalisation: the input
        as (N, G, −1) through InstanceNormalization (γ 1, β 0 per group), back to its shape, then γ and β
        per channel. (ONNX's GroupNormalization is no operator of opset 17; opset 18 learns γ and β per
        group, not per channel, until opset 21.)"""
        from .onnx_nodes import per_channel

        name, groups = record.name, self.num_groups
        grouped = graph.node("Reshape", [record.inputs[0], graph.constant(f"{name}/groups", [0, groups, -1], "int64")],
                             f"{name}/grouped")
        normal = graph.node("InstanceNormalization", [grouped, graph.constant(f"{name}/ones", [1.0] * groups),
                                                      graph.constant(f"{name}/zeros", [0.0] * groups)],
                            f"{name}/normal", epsilon=self.eps)
        shape = graph.constant(f"{name}/shape", [0, *record.input_shapes[0]], "int64")
        if not self.affine:
            graph.node("Reshape", [normal, shape], name)
            return
        back = graph.node("Reshape", [normal, shape], f"{name}/normalized")
        scaled = graph.node("Mul", [back, per_channel(graph, record, graph.weight(record, "weight"), "gamma")],
                            f"{name}/scaled")
        graph.node("Add", [scaled, per_channel(graph, record, graph.weight(record, "bias"), "beta")], name)
