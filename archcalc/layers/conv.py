"""Convolutions: `conv` (groups, depthwise, dilation, every padding form) and `convtranspose`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import Field

from ..arrays import kernels
from ..errors import ShapeError
from ..formulas import (
    check_groups,
    conv_macs,
    conv_output_ratio,
    conv_params,
    conv_transpose_macs,
    conv_transpose_output_size,
    dilated_kernel,
    resolve_padding,
)
from ..records import IntOrPair, NonNegativePair, Padding, PositiveInt
from ..units import exact
from .activation import FusedActivation, fused, fused_in_place, fused_layer, fused_torch, keras_fused
from .base import Arithmetic, AxisWindow, Geometry, Layer, Pair, Param, Shape, register, spatial
from .family import Family
from .foreign import (
    MAP,
    KerasForm,
    KerasLayer,
    Mismatch,
    OnnxForm,
    OnnxNode,
    Parameter,
    TorchCall,
    TorchForm,
    at_least,
    onnx_padding,
    pair,
    whole,
)
from .norm import BatchNorm


class _Windowed(Layer):
    """Shared geometry of layers that slide a kernel over (H, W)."""

    def geometry(self, shape: Shape) -> Geometry:
        """Kernel, stride, dilation and resolved padding on this (C, H, W) input, computed once per
        values (a key of plain values: a layer's own hash and equality are pydantic's, and slow)."""
        fields = self.__dict__  # a missing name would cost pydantic's slow __getattr__
        return _geometry(self.type_name, self.kernel_size, self.stride, fields.get("dilation", (1, 1)),
                         self.padding, tuple(shape))

    def spatial_output(self, shape: Shape, ceil_mode: bool = False) -> tuple[int, int]:
        return self.geometry(shape).output(ceil_mode)

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, AxisWindow]:
        return self.geometry(inputs[0]).windows()

    def tiling_remainders(self, inputs: list[Shape]) -> tuple[int, int]:
        # the field's value where the type has one (a missing name costs pydantic's slow __getattr__)
        return (0, 0) if self.__dict__.get("ceil_mode", False) else self.geometry(inputs[0]).remainders()

    def size_arithmetic(self, shape: Shape, output: Shape) -> str:
        """`(W − F + 2P)/S + 1 = (227 − 11 + 0)/4 + 1 = 55`, once when both axes agree."""
        g = self.geometry(shape)
        lines = []
        for n, k, s, d, p, out in zip(g.size, g.kernel, g.stride, g.dilation, g.pads, output[1:]):
            pad = f"{p[0] + p[1]}" if p[0] == p[1] else f"({p[0]} + {p[1]})"
            ratio = conv_output_ratio(n, k, s, p, d)
            shown = f"{ratio:g}" if ratio == out else f"{ratio:.4g} → {out}"
            lines.append(f"({n} − {dilated_kernel(k, d)} + {pad})/{s} + 1 = {shown}")
        if lines[0] == lines[1]:
            return "(W − F + 2P)/S + 1 = " + lines[0]
        return f"H: (H − F + 2P)/S + 1 = {lines[0]}; W: (W − F + 2P)/S + 1 = {lines[1]}"

    def describe(self) -> str:
        kernel, stride = self.kernel_size, self.stride or self.kernel_size
        k = f"{kernel[0]}×{kernel[1]}"
        s = str(stride[0]) if stride[0] == stride[1] else f"{stride[0]}×{stride[1]}"
        return f"{k}/{s}"


@lru_cache(maxsize=4096)
def _geometry(type_name: str, kernel_size: Pair, stride: Pair | None, dilation: Pair, padding: Any,
              shape: Shape) -> Geometry:
    _, h, w = spatial(shape, type_name)
    stride = stride or kernel_size  # a pooling layer without a stride steps by its window
    pads = resolve_padding(padding, (h, w), kernel_size, stride, dilation)
    return Geometry((h, w), kernel_size, stride, dilation, pads)


def _onnx_window(node: OnnxNode, weight: Any, symmetric: bool = False) -> dict[str, Any]:
    """Kernel, stride, padding, dilation, groups and bias of an ONNX `Conv` or `ConvTranspose`."""
    attributes = node.attributes
    kernel = list(attributes.get("kernel_shape") or weight.shape[2:])
    if len(kernel) != 2 or len(weight.shape) != 4:
        raise Mismatch(f"{node.op} must be 2-D")
    return {"kernel_size": pair(at_least(1, "kernel_shape", kernel, 2)),
            "stride": pair(at_least(1, "strides", attributes.get("strides", [1, 1]), 2)),
            "padding": onnx_padding(attributes, node.op, symmetric),
            "dilation": pair(at_least(1, "dilations", attributes.get("dilations", [1, 1]), 2)),
            "groups": at_least(1, "group", [attributes.get("group", 1)], 1)[0], "bias": node.has(2)}


@register
class Conv(_Windowed):
    """2-D convolution (PyTorch `Conv2d`); `groups: in_channels` makes it depthwise."""

    type_name = "conv"
    family = Family.CONV
    lecture_name = "conv2d"
    paper_name = "convolution"
    aliases = ("conv2d",)
    torch_form = TorchForm(modules=("Conv2d",), functions=("conv2d",))
    onnx_form = OnnxForm(ops=("Conv",))
    keras_form = KerasForm(classes=("Conv2D",), keras1="Convolution2D",
                           config={"filters": "out_channels", "groups": "groups", "use_bias": "bias",
                                   "kernel_size": "kernel_size", "strides": "stride", "padding": "padding",
                                   "dilation_rate": "dilation"})

    out_channels: PositiveInt
    kernel_size: IntOrPair
    stride: IntOrPair = (1, 1)
    padding: Padding = (0, 0)
    dilation: IntOrPair = (1, 1)
    groups: PositiveInt = 1
    bias: bool = True
    activation: FusedActivation | None = Field(None, description="fused activation (Keras style)")

    @property
    def has_bias(self) -> bool:
        return self.bias

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.Conv2d` with zero padding (ints, pairs, `same`, `valid`); `F.conv2d(x, weight, bias, stride,
        padding, dilation, groups)` of a module's parameters (timm's `Conv2dSame` after its padding)."""
        m = call.module
        if m is None:
            return cls._functional(call)
        if m.padding_mode != "zeros":
            raise Mismatch(f"Conv2d with padding_mode {m.padding_mode!r} has no archcalc layer type")
        padding = m.padding if isinstance(m.padding, str) else pair(m.padding)
        return {"out_channels": m.out_channels, "kernel_size": pair(m.kernel_size), "stride": pair(m.stride),
                "padding": padding, "dilation": pair(m.dilation), "groups": m.groups, "bias": m.bias is not None}

    @staticmethod
    def _functional(call: TorchCall) -> dict[str, Any]:
        names = ("weight", "bias", "stride", "padding", "dilation", "groups")
        weight, bias = call.argument(names, "weight"), call.argument(names, "bias")
        if call.args[:1] != (MAP,) or not isinstance(weight, Parameter) or weight.shape is None \
                or len(weight.shape) != 4 or not (bias is None or isinstance(bias, Parameter)):
            raise Mismatch("conv2d must convolve a map with a parameter of shape (C_out, C_in/g, k_h, k_w)")
        padding = call.argument(names, "padding", 0)
        return {"out_channels": weight.shape[0], "kernel_size": pair(weight.shape[2:]),
                "stride": pair(call.argument(names, "stride", 1)),
                "padding": padding if isinstance(padding, str) else pair(padding),
                "dilation": pair(call.argument(names, "dilation", 1)),
                "groups": whole(call.argument(names, "groups", 1)), "bias": bias is not None}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`Conv`: the output channels from the weight's shape [C_out, C_in/g, k_h, k_w]."""
        weight = node.parameter(1)
        return {"out_channels": weight.shape[0], **_onnx_window(node, weight)}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`Conv2D`, its fused activation included."""
        return {**super().from_keras(layer), **keras_fused(layer.config)}

    @property
    def fused_activation(self) -> Layer | None:
        return fused_layer(self.activation)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, _, _ = spatial(inputs[0], "conv")
        check_groups(self.groups, c, self.out_channels)
        return (self.out_channels, *self.spatial_output(inputs[0]))

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        c = inputs[0][0]
        kh, kw = self.kernel_size
        params = [Param("weight", (self.out_channels, c // self.groups, kh, kw), "weight")]
        if self.bias:
            params.append(Param("bias", (self.out_channels,), "bias"))
        return params

    def filter_bank(self, inputs: list[Shape]) -> tuple[int, int, int, int, int]:
        return (self.out_channels, inputs[0][0] // self.groups, *self.kernel_size, self.groups)

    def grouping_label(self, inputs: list[Shape]) -> str:
        """How drawings and tables mark a grouped convolution, as Netron does: `dw` (depthwise: one group
        per input channel), `g=32`, or '' for an ordinary one."""
        if self.groups > 1 and self.groups == inputs[0][0]:
            return "dw"
        return f"g={self.groups}" if self.groups > 1 else ""

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        c_out, h, w = output
        return conv_macs(h, w, inputs[0][0], c_out, self.kernel_size, self.groups)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return fused(xp, self.activation, self._convolve(xp, inputs[0], params))

    def forward_prepared(self, xp: Any, inputs: list[Any], params: dict[str, Any], writable: Any) -> Any:
        """`forward` with the fused activation in place (the convolution's output is nobody else's)."""
        return fused_in_place(xp, self.activation, self._convolve(xp, inputs[0], params))

    def _convolve(self, xp: Any, x: Any, params: dict[str, Any]) -> Any:
        g = self.geometry(x.shape[1:])
        return kernels.conv2d(xp, x, params["weight"], params.get("bias"), g.stride, g.pads, g.dilation, self.groups)

    def absorbs(self, follower: Layer) -> bool:
        """An inference BatchNorm (with running statistics) right after a convolution with no fused activation."""
        return self.activation in (None, "linear") and isinstance(follower, BatchNorm) \
            and follower.track_running_stats

    def fold(self, params: dict[str, Any], follower: Layer, follower_params: dict[str, Any]) -> dict[str, Any]:
        """The BatchNorm's per-channel scale γ/√(var+ε) in the weight, its shift (b − mean)·scale + β as the bias."""
        scale, shift = follower.inference_affine(follower_params, params.get("bias", 0.0))
        return {"weight": params["weight"] * scale.reshape(-1, 1, 1, 1), "bias": shift}

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import conv2d

        g = self.geometry(inputs[0])
        return conv2d(inputs[0][0], self.out_channels, g.kernel, g.stride, g.pads, g.dilation, self.groups, self.bias,
                      fused_torch(self.activation))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import activated, onnx_pads, weighted

        g = self.geometry(record.input_shapes[0])
        activated(graph, record, "Conv", weighted(graph, record), kernel_shape=list(g.kernel), strides=list(g.stride),
                  pads=onnx_pads(g.pads), dilations=list(g.dilation), group=self.groups)

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c = inputs[0][0]
        kh, kw = self.kernel_size
        depth = c // self.groups
        total = conv_params(c, self.out_channels, (kh, kw), self.groups, self.bias)
        params = f"{depth} × {kh} × {kw} × {self.out_channels}" + (f" + {self.out_channels}" if self.bias else "")
        params += f" = {exact(total)}"
        _, h, w = output
        macs = f"{h} × {w} × {self.out_channels} × ({depth} × {kh} × {kw}) = {exact(self.macs(inputs, output))}"
        return Arithmetic(output=self.size_arithmetic(inputs[0], output), params=params, macs=macs)


@register
class ConvTranspose(_Windowed):
    """2-D transposed convolution (PyTorch `ConvTranspose2d`)."""

    type_name = "convtranspose"
    family = Family.CONV_TRANSPOSE
    aliases = ("convtranspose2d", "deconv")
    torch_form = TorchForm(modules=("ConvTranspose2d",))
    onnx_form = OnnxForm(ops=("ConvTranspose",))
    keras_form = KerasForm(summary="Conv2DTranspose", keras1="Deconvolution2D")
    receptive_field_defined = False  # an upsampling: output positions fall between input pixels

    out_channels: PositiveInt
    kernel_size: IntOrPair
    stride: IntOrPair = (1, 1)
    padding: NonNegativePair = (0, 0)
    output_padding: NonNegativePair = (0, 0)
    dilation: IntOrPair = (1, 1)
    groups: PositiveInt = 1
    bias: bool = True

    @property
    def has_bias(self) -> bool:
        return self.bias

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        m = call.module
        if m.padding_mode != "zeros":
            raise Mismatch(f"ConvTranspose2d with padding_mode {m.padding_mode!r} has no archcalc layer type")
        return {"out_channels": m.out_channels, "kernel_size": pair(m.kernel_size), "stride": pair(m.stride),
                "padding": pair(m.padding), "output_padding": pair(m.output_padding), "dilation": pair(m.dilation),
                "groups": m.groups, "bias": m.bias is not None}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`ConvTranspose` without `output_shape` (nor `auto_pad` SAME): the weight is [C_in, C_out/g, k_h, k_w]."""
        if node.attributes.get("output_shape"):
            raise Mismatch("ConvTranspose with output_shape has no archcalc layer type")
        weight = node.parameter(1)
        window = _onnx_window(node, weight, symmetric=True)
        return {"out_channels": weight.shape[1] * window["groups"], **window,
                "output_padding": pair(node.attributes.get("output_padding", [0, 0]))}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, h, w = spatial(inputs[0], "convtranspose")
        check_groups(self.groups, c, self.out_channels)
        op = self.output_padding
        if any(o >= max(s, d) for o, s, d in zip(op, self.stride, self.dilation)):
            raise ShapeError(f"output_padding {op} must be smaller than stride or dilation")
        out = tuple(conv_transpose_output_size(n, *axis) for n, axis in zip(
            (h, w), zip(self.kernel_size, self.stride, self.padding, op, self.dilation)))
        if min(out) < 1:
            raise ShapeError(f"output size {out} is not positive")
        return (self.out_channels, *out)

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        kh, kw = self.kernel_size
        params = [Param("weight", (inputs[0][0], self.out_channels // self.groups, kh, kw), "weight")]
        if self.bias:
            params.append(Param("bias", (self.out_channels,), "bias"))
        return params

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        c, h, w = inputs[0]
        return conv_transpose_macs(h, w, c, self.out_channels, self.kernel_size, self.groups)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.conv_transpose2d(
            xp, inputs[0], params["weight"], params.get("bias"), self.stride, self.padding, self.output_padding,
            self.dilation, self.groups)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.ConvTranspose2d(inputs[0][0], self.out_channels, self.kernel_size, self.stride, self.padding,
                                  self.output_padding, self.groups, self.bias, self.dilation)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import weighted

        (ph, pw) = self.padding
        graph.node("ConvTranspose", weighted(graph, record), record.name, kernel_shape=list(self.kernel_size),
                   strides=list(self.stride), pads=[ph, pw, ph, pw], output_padding=list(self.output_padding),
                   dilations=list(self.dilation), group=self.groups)

    def windows(self, inputs: list[Shape]) -> None:
        return None

    def tiling_remainders(self, inputs: list[Shape]) -> tuple[int, int]:
        return (0, 0)

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = inputs[0]
        (kh, kw), s, p = self.kernel_size, self.stride, self.padding
        per = self.out_channels // self.groups
        params = f"{c} × {kh} × {kw} × {per}" + (f" + {self.out_channels}" if self.bias else "")
        params += f" = {exact(sum(x.size for x in self.parameters(inputs)))}"
        d, op = self.dilation, self.output_padding
        axes = [f"({n} − 1)·{s[i]} − 2×{p[i]} + {d[i]}·({k} − 1) + {op[i]} + 1 = {output[i + 1]}"
                for i, (n, k) in enumerate(((h, kh), (w, kw)))]
        size = "(H − 1)·S − 2P + D·(F − 1) + OP + 1 = " + (
            axes[0] if axes[0] == axes[1] else f"{axes[0]} (H); {axes[1]} (W)")
        macs = f"{h} × {w} × {c} × ({per} × {kh} × {kw}) = {exact(self.macs(inputs, output))}"
        return Arithmetic(output=size, params=params, macs=macs)
