"""Attention computed from the whole map: `eca` (efficient channel attention, ECA-Net: each channel gated
by a 1-D convolution over its neighbours' global averages) and `attentionpool` (GCNet's context
modelling: the positions averaged with softmax weights)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..errors import ShapeError
from ..records import PositiveInt
from .base import Arithmetic, Layer, Param, Shape, format_shape, register
from .family import Family
from .foreign import Mismatch, OnnxForm, OnnxNode, TorchCall, TorchForm


@register
class EfficientChannelAttention(Layer):
    """ECA-Net's efficient channel attention (timm's `EcaModule`): the global average of each channel,
    a 1-D convolution of `k_size` taps (no bias, zero padded) along the channel axis, a sigmoid, and
    the map times that gate per channel. Its k weights and C·k MACs are the 1-D convolution's."""

    type_name = "eca"
    family = Family.CONV
    receptive_field_defined = False   # every output position reads every input position (the global average)
    torch_form = TorchForm(modules=("EcaModule",))
    onnx_form = OnnxForm(ops=("EfficientChannelAttention",))    # a function archcalc writes

    k_size: PositiveInt = Field(3, description="the taps of the 1-D convolution over the channels (odd)")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """timm's `EcaModule` of one `Conv1d(1, 1, k, padding=(k − 1)/2, bias=False)` and a sigmoid gate (not
        its `use_mlp` form)."""
        m = call.module
        if not hasattr(m, "conv"):       # archcalc's own EcaModule: its weight, a padding of (k − 1)/2
            return {"k_size": m.weight.shape[2]}
        conv = m.conv
        if getattr(m, "conv2", None) is not None or getattr(m, "act", None) is not None:
            raise Mismatch("EcaModule with an MLP (use_mlp) has no archcalc layer type")
        if type(m.gate).__name__ != "Sigmoid":
            raise Mismatch(f"EcaModule gated by {type(m.gate).__name__}, not a sigmoid, has no archcalc layer type")
        k = conv.kernel_size[0]
        if (conv.in_channels, conv.out_channels) != (1, 1) or conv.bias is not None or k % 2 == 0 \
                or tuple(conv.padding) != ((k - 1) // 2,) or tuple(conv.stride) != (1,) \
                or tuple(conv.dilation) != (1,) or conv.padding_mode != "zeros":
            raise Mismatch("EcaModule's convolution must be Conv1d(1, 1, k, padding=(k - 1)/2, bias=False), k odd")
        return {"k_size": k}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """archcalc's function `EfficientChannelAttention` (x, the (1, 1, k) weight)."""
        return {"k_size": node.parameter(1).shape[2]}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if len(inputs[0]) != 3:
            raise ShapeError(f"eca needs a (C, H, W) input, got {format_shape(inputs[0])}")
        if self.k_size % 2 == 0:
            raise ShapeError(f"eca's k_size must be odd (padded alike on both sides), got {self.k_size}")
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return [Param("weight", (1, 1, self.k_size), "weight")]

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return inputs[0][0] * self.k_size

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, k = inputs[0][0], self.k_size
        return Arithmetic(output="same as input", params=f"{k} (the 1-D convolution over the channels)",
                          macs=f"{c} channels × {k} taps = {c * k:,} (then the sigmoid gate times the map)")

    def describe(self) -> str:
        return f"k={self.k_size}"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        k, pad = self.k_size, (self.k_size - 1) // 2
        means = x.mean(axis=(2, 3))
        padded = xp.pad(means, ((0, 0), (pad, pad)))
        taps = params["weight"].reshape(k)
        mixed = sum(taps[j] * padded[:, j:j + x.shape[1]] for j in range(k))
        gate = 1.0 / (1.0 + xp.exp(-mixed))
        return x * gate[:, :, None, None]

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import EcaModule

        return EcaModule(self.k_size, (self.k_size - 1) // 2)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `EfficientChannelAttention` (GlobalAveragePool, Reshape, Conv, Sigmoid,
        Reshape, Mul)."""
        pad = (self.k_size - 1) // 2
        graph.call(_onnx_function, "EfficientChannelAttention", [record.inputs[0], graph.weight(record, "weight")],
                   record.name, pads=[pad, pad])


def _onnx_function() -> Any:
    from .onnx_nodes import function, ref

    return function("EfficientChannelAttention", ["x", "w"], ["y"], [
        ("GlobalAveragePool", ["x"], "means", {}),
        ("Constant", [], "row", {"value_ints": [0, 1, -1]}), ("Reshape", ["means", "row"], "signal", {}),
        ("Conv", ["signal", "w"], "mixed", {"pads": ref("ints", "pads")}), ("Sigmoid", ["mixed"], "gate", {}),
        ("Constant", [], "column", {"value_ints": [0, -1, 1, 1]}), ("Reshape", ["gate", "column"], "gates", {}),
        ("Mul", ["x", "gates"], "y", {}),
    ], ["pads"])


@register
class AttentionPool(Layer):
    """GCNet's attention pooling (the context of timm's `GlobalContext`): the positions of x (C, H, W) averaged
    with the weights softmax(a) over the H·W positions of a second map a (1, H, W) of logits: out_c =
    Σ_p x_c,p · softmax(a)_p, (C, 1, 1). One matrix product: C·H·W multiply-accumulates."""

    type_name = "attentionpool"
    family = Family.MATMUL
    inputs_allowed = (2, 2)
    receptive_field_defined = False   # every output reads every input position
    # PyTorch: x.reshape(N, C, H·W).unsqueeze(1) @ softmax(a.reshape(N, 1, H·W), -1).unsqueeze(3), an idiom
    torch_form = TorchForm(modules=("AttentionPool",))
    onnx_form = OnnxForm(ops=("AttentionPool",))     # a function archcalc writes

    def output_shape(self, inputs: list[Shape]) -> Shape:
        x, a = inputs
        if len(x) != 3 or len(a) != 3 or a[0] != 1 or tuple(a[1:]) != tuple(x[1:]):
            raise ShapeError(f"attentionpool needs a map (C, H, W) and logits (1, H, W) of its positions, got "
                             f"{format_shape(x)} and {format_shape(a)}")
        return (x[0], 1, 1)

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        c, h, w = inputs[0]
        return c * h * w

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = inputs[0]
        return Arithmetic(output=format_shape(output), params="0",
                          macs=f"{c} channels × {h} × {w} positions = {c * h * w:,} (after the softmax of the logits)")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        from ..arrays import kernels

        x, a = inputs
        n, c = x.shape[:2]
        weights = kernels.softmax(xp, a.reshape(n, -1), axis=-1)
        return xp.matmul(x.reshape(n, c, -1), weights[:, :, None]).reshape(n, c, 1, 1)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_code import Input
        from .torch_modules import AttentionPool as Module
        from .torch_modules import M, TorchLayer

        return TorchLayer(Module(), M(Input(0), Input(1)))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `AttentionPool` (Reshape, Softmax, Transpose, MatMul, Reshape)."""
        graph.call(_pool_function, "AttentionPool", list(record.inputs), record.name)


def _pool_function() -> Any:
    from .onnx_nodes import function

    return function("AttentionPool", ["x", "a"], ["y"], [
        ("Constant", [], "rows", {"value_ints": [0, 0, -1]}), ("Constant", [], "row", {"value_ints": [0, 1, -1]}),
        ("Constant", [], "pooled", {"value_ints": [0, 0, 1, 1]}),
        ("Reshape", ["x", "rows"], "flat", {}), ("Reshape", ["a", "row"], "logits", {}),
        ("Softmax", ["logits"], "weights", {"axis": -1}), ("Transpose", ["weights"], "column", {"perm": [0, 2, 1]}),
        ("MatMul", ["flat", "column"], "context", {}), ("Reshape", ["context", "pooled"], "y", {}),
    ], [])
