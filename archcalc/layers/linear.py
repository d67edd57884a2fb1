"""Fully connected layers: `linear` (alias `dense`) and `pointlinear` (the same at every position of a map)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..errors import ShapeError
from ..formulas import linear_macs, linear_params
from ..records import PositiveInt
from .activation import FusedActivation, fused, fused_in_place, fused_layer, fused_torch, keras_fused
from .base import Arithmetic, Layer, Param, Shape, format_shape, register, spatial
from .family import Family
from .foreign import KerasForm, KerasLayer, Mismatch, OnnxForm, OnnxNode, Site, TorchCall, TorchForm

_DENSE = {"units": "out_features", "use_bias": "bias"}


def _torch_linear(call: TorchCall) -> dict[str, Any]:
    return {"out_features": call.module.out_features, "bias": call.module.bias is not None}


def _onnx_matmul(node: OnnxNode) -> dict[str, Any]:
    """`MatMul` by a (in, out) parameter, its bias an `Add` the importer joins to it."""
    weight = node.parameter(1)
    if len(weight.shape) != 2:
        raise Mismatch("MatMul must multiply a map by a 2-D parameter")
    return {"out_features": weight.shape[1], "bias": False}


def _flat(site: Site, what: str) -> None:
    if site.shape is not None and len(site.shape) != 1:
        raise Mismatch(f"{what} on the last axis of a map that is not channels last has no archcalc layer type")


@register
class Linear(Layer):
    """Fully connected layer (PyTorch `Linear`, Keras `Dense`) on a flat input."""

    type_name = "linear"
    family = Family.LINEAR
    lecture_name = "fc"
    aliases = ("dense", "fc")
    foreign_aliases = ("fully_connected", "InnerProduct")
    torch_form = TorchForm(modules=("Linear",))
    onnx_form = OnnxForm(ops=("Gemm", "MatMul"))
    keras_form = KerasForm(classes=("Dense",), config=_DENSE)

    out_features: PositiveInt
    bias: bool = True
    activation: FusedActivation | None = Field(None, description="fused activation (Keras style)")

    @property
    def has_bias(self) -> bool:
        return self.bias

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        _flat(call.site, "nn.Linear")
        return _torch_linear(call)

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`Gemm` (the weight [out, in] with transB), or `MatMul` of a vector."""
        _flat(node.site, node.op)
        if node.op == "MatMul":
            return _onnx_matmul(node)
        weight = node.parameter(1)
        if node.attributes.get("transA", 0):
            raise Mismatch("Gemm with transA has no archcalc layer type")
        if len(weight.shape) != 2:
            raise Mismatch(f"Gemm's weight must be a matrix, got shape {list(weight.shape)}")
        return {"out_features": weight.shape[0] if node.attributes.get("transB", 0) else weight.shape[1],
                "bias": node.has(2)}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`Dense` on a vector, its fused activation included."""
        _flat(layer.site, "Dense")
        return {**super().from_keras(layer), **keras_fused(layer.config)}

    @property
    def fused_activation(self) -> Layer | None:
        return fused_layer(self.activation)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != 1:
            raise ShapeError(f"linear needs a flat input, got {format_shape(inputs[0])}: add a flatten layer")
        return (self.out_features,)

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        params = [Param("weight", (self.out_features, inputs[0][0]), "weight")]
        if self.bias:
            params.append(Param("bias", (self.out_features,), "bias"))
        return params

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return linear_macs(inputs[0][0], self.out_features)

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        n, k = inputs[0][0], self.out_features
        total = linear_params(n, k, self.bias)
        params = f"{n} × {k}" + (f" + {k}" if self.bias else "") + f" = {total:,}"
        return Arithmetic(output=f"{k}", params=params, macs=f"{n} × {k} = {self.macs(inputs, output):,}")

    def describe(self) -> str:
        return str(self.out_features)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        out = inputs[0] @ params["weight"].T
        if self.bias:
            out += params["bias"]
        return fused(xp, self.activation, out)

    def prepare(self, params: dict[str, Any], xp: Any, dtype: str) -> dict[str, Any]:
        """The weight stored transposed: x @ Wᵀ is then a product of two C-ordered arrays."""
        return super().prepare({**params, "weight": params["weight"].T}, xp, dtype)

    def forward_prepared(self, xp: Any, inputs: list[Any], params: dict[str, Any], writable: Any) -> Any:
        """`forward` with the weight `prepare` transposed and the fused activation in place."""
        out = xp.matmul(inputs[0], params["weight"])
        if self.bias:
            out += params["bias"]
        return fused_in_place(xp, self.activation, out)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import linear

        return linear(inputs[0][0], self.out_features, self.bias, fused_torch(self.activation))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import activated, weighted

        activated(graph, record, "Gemm", weighted(graph, record), transB=1)


@register
class PointLinear(Layer):
    """A fully connected layer applied to the channels at every position of a (C, H, W) map: what
    torchvision's ConvNeXt computes with `nn.Linear` between two permutes, and Keras `Dense` on an
    image. The same numbers as a 1×1 convolution; the weight is stored as a linear layer's (out, in)."""

    type_name = "pointlinear"
    family = Family.LINEAR
    positionwise = True
    torch_form = TorchForm(modules=("Linear",))
    onnx_form = OnnxForm(ops=("MatMul",))
    keras_form = KerasForm(classes=("Dense",), config=_DENSE)

    out_features: PositiveInt
    bias: bool = True

    @property
    def has_bias(self) -> bool:
        return self.bias

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.Linear` on a channels-last map (between ConvNeXt's permutes)."""
        cls._channels_last(call.site)
        return _torch_linear(call)

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        cls._channels_last(node.site)
        return _onnx_matmul(node)

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`Dense` on an image: on its channels, at every position."""
        if layer.site.shape is None or len(layer.site.shape) != 3:
            raise Mismatch("Dense on a vector")
        if layer.config.get("activation", "linear") not in (None, "linear"):
            raise Mismatch("Dense with a fused activation on an image has no archcalc layer type")
        return super().from_keras(layer)

    @staticmethod
    def _channels_last(site: Site) -> None:
        if not site.channels_last or site.shape is not None and len(site.shape) != 3:
            raise Mismatch("a linear layer on a map that is not channels last has no archcalc layer type")

    def output_shape(self, inputs: list[Shape]) -> Shape:
        _, h, w = spatial(inputs[0], "pointlinear")
        return (self.out_features, h, w)

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        params = [Param("weight", (self.out_features, inputs[0][0]), "weight")]
        return params + ([Param("bias", (self.out_features,), "bias")] if self.bias else [])

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        c, h, w = inputs[0]
        return linear_macs(c, self.out_features, h * w)

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = inputs[0]
        k = self.out_features
        params = f"{c} × {k}" + (f" + {k}" if self.bias else "") + f" = {linear_params(c, k, self.bias):,}"
        return Arithmetic(output=f"{k} × {h} × {w}", params=params,
                          macs=f"{h} × {w} × {c} × {k} = {self.macs(inputs, output):,}")

    def describe(self) -> str:
        return str(self.out_features)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        n, c, h, w = x.shape
        out = xp.matmul(params["weight"], x.reshape(n, c, h * w))
        if self.bias:
            out += params["bias"][:, None]
        return out.reshape(n, self.out_features, h, w)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import point_linear

        return point_linear(inputs[0][0], self.out_features, self.bias)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import channels_last

        weight = graph.node("Transpose", [graph.weight(record, "weight")], f"{record.name}/weight_t", perm=[1, 0])

        def inner(x: str, out: str) -> str:
            if not self.bias:
                return graph.node("MatMul", [x, weight], out)
            product = graph.node("MatMul", [x, weight], f"{record.name}/matmul")
            return graph.node("Add", [product, graph.weight(record, "bias")], out)

        channels_last(graph, record, inner)
