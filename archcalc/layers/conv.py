"""Convolutions: `conv` (groups, depthwise, dilation, every padding form) and `convtranspose`."""

from __future__ import annotations

from typing import Any, Literal

from ..arrays import kernels
from ..errors import ShapeError
from ..fields import NonNegativeInt, PositiveInt, field
from ..formulas import conv_macs, conv_output_size, conv_params, resolve_padding, tiling_remainder
from ..units import exact
from .activation import FusedActivation, fused, fused_in_place, fused_torch
from .base import Arithmetic, AxisWindow, Layer, Param, Shape, pair, register, spatial
from .family import Family
from .norm import BatchNorm

IntOrPair = PositiveInt | tuple[PositiveInt, PositiveInt]
PaddingSpec = NonNegativeInt | tuple[NonNegativeInt, ...] | Literal["same", "valid"]


def _check_groups(in_channels: int, out_channels: int, groups: int) -> None:
    """ShapeError unless `groups` divides both channel counts of a convolution."""
    if in_channels % groups or out_channels % groups:
        raise ShapeError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")


class _Windowed(Layer):
    """Shared geometry of layers that slide a kernel over (H, W)."""

    def strides(self) -> tuple[int, int]:
        """(sh, sw); a pooling layer without a stride steps by its window."""
        return pair(self.stride if self.stride is not None else self.kernel_size, "stride")

    def geometry(self, shape: Shape):
        """((kh, kw), (sh, sw), (dh, dw), ((top, bottom), (left, right))) for this input."""
        _, h, w = spatial(shape, self.type_name)
        kernel = pair(self.kernel_size, "kernel_size")
        stride = self.strides()
        dilation = pair(getattr(self, "dilation", 1), "dilation")
        pads = resolve_padding(self.padding, (h, w), kernel, stride, dilation)
        return kernel, stride, dilation, pads

    def spatial_output(self, shape: Shape, ceil_mode: bool = False) -> tuple[int, int]:
        _, h, w = spatial(shape, self.type_name)
        kernel, stride, dilation, pads = self.geometry(shape)
        return tuple(  # type: ignore[return-value]
            conv_output_size(n, k, s, p, d, ceil_mode)
            for n, k, s, p, d in zip((h, w), kernel, stride, pads, dilation)
        )

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, AxisWindow]:
        kernel, stride, dilation, pads = self.geometry(inputs[0])
        return tuple(  # type: ignore[return-value]
            AxisWindow(k, s, p[0], d) for k, s, p, d in zip(kernel, stride, pads, dilation)
        )

    def tiling_remainders(self, inputs: list[Shape]) -> tuple[int, int]:
        if getattr(self, "ceil_mode", False):
            return (0, 0)
        _, h, w = spatial(inputs[0], self.type_name)
        kernel, stride, dilation, pads = self.geometry(inputs[0])
        return tuple(  # type: ignore[return-value]
            tiling_remainder(n, k, s, p, d)
            for n, k, s, p, d in zip((h, w), kernel, stride, pads, dilation)
        )

    def size_arithmetic(self, shape: Shape, output: Shape) -> str:
        """`(W − F + 2P)/S + 1 = (227 − 11 + 0)/4 + 1 = 55`, once when both axes agree."""
        _, h, w = shape
        kernel, stride, dilation, pads = self.geometry(shape)
        lines = []
        for n, k, s, d, p, out in zip((h, w), kernel, stride, dilation, pads, output[1:]):
            f = d * (k - 1) + 1
            pad = f"{p[0] + p[1]}" if p[0] == p[1] else f"({p[0]} + {p[1]})"
            exact = (n - f + p[0] + p[1]) / s + 1
            shown = f"{exact:g}" if exact == out else f"{exact:.4g} → {out}"
            lines.append(f"({n} − {f} + {pad})/{s} + 1 = {shown}")
        if lines[0] == lines[1]:
            return "(W − F + 2P)/S + 1 = " + lines[0]
        return f"H: (H − F + 2P)/S + 1 = {lines[0]}; W: (W − F + 2P)/S + 1 = {lines[1]}"

    def describe(self) -> str:
        kernel, stride = pair(self.kernel_size, "kernel_size"), self.strides()
        k = f"{kernel[0]}×{kernel[1]}"
        s = str(stride[0]) if stride[0] == stride[1] else f"{stride[0]}×{stride[1]}"
        return f"{k}/{s}"


@register
class Conv(_Windowed):
    """2-D convolution (PyTorch `Conv2d`); `groups: in_channels` makes it depthwise."""

    type_name = "conv"
    family = Family.CONV
    keras_name = "Convolution2D"
    torch_name = "Conv2d"
    lecture_name = "conv2d"
    paper_name = "convolution"
    aliases = ("conv2d",)

    out_channels: PositiveInt
    kernel_size: IntOrPair
    stride: IntOrPair = 1
    padding: PaddingSpec = 0
    dilation: IntOrPair = 1
    groups: PositiveInt = 1
    bias: bool = True
    activation: FusedActivation | None = field(None, "fused activation (Keras style)")

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, _, _ = spatial(inputs[0], "conv")
        _check_groups(c, self.out_channels, self.groups)
        return (self.out_channels, *self.spatial_output(inputs[0]))

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        c = inputs[0][0]
        kh, kw = pair(self.kernel_size, "kernel_size")
        params = [Param("weight", (self.out_channels, c // self.groups, kh, kw), "weight")]
        if self.bias:
            params.append(Param("bias", (self.out_channels,), "bias"))
        return params

    def filter_bank(self, inputs: list[Shape]) -> tuple[int, int, int, int, int]:
        kh, kw = pair(self.kernel_size, "kernel_size")
        return (self.out_channels, inputs[0][0] // self.groups, kh, kw, self.groups)

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        c_out, h, w = output
        return conv_macs(h, w, inputs[0][0], c_out, pair(self.kernel_size, "kernel_size"), self.groups)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return fused(xp, self.activation, self._convolve(xp, inputs[0], params))

    def forward_prepared(self, xp: Any, inputs: list[Any], params: dict[str, Any], writable: Any) -> Any:
        """`forward` with the fused activation in place (the convolution's output is nobody else's)."""
        return fused_in_place(xp, self.activation, self._convolve(xp, inputs[0], params))

    def _convolve(self, xp: Any, x: Any, params: dict[str, Any]) -> Any:
        _, stride, dilation, pads = self.geometry(x.shape[1:])
        return kernels.conv2d(xp, x, params["weight"], params.get("bias"), stride, pads, dilation, self.groups)

    def absorbs(self, follower: Layer) -> bool:
        """An inference BatchNorm (with running statistics) right after a convolution with no fused activation."""
        return self.activation in (None, "linear") and isinstance(follower, BatchNorm) \
            and follower.track_running_stats

    def fold(self, params: dict[str, Any], follower: Layer, follower_params: dict[str, Any]) -> dict[str, Any]:
        """The BatchNorm's per-channel scale γ/√(var+ε) in the weight, its shift (b − mean)·scale + β as the bias."""
        scale, shift = follower.inference_affine(follower_params, params.get("bias", 0.0))
        return {"weight": params["weight"] * scale.reshape(-1, 1, 1, 1), "bias": shift}

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import Conv2d

        kernel, stride, dilation, pads = self.geometry(inputs[0])
        return Conv2d(inputs[0][0], self.out_channels, kernel, stride, pads, dilation, self.groups, self.bias,
                      fused_torch(self.activation))

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c = inputs[0][0]
        kh, kw = pair(self.kernel_size, "kernel_size")
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
    keras_name = "Deconvolution2D"
    torch_name = "ConvTranspose2d"
    aliases = ("convtranspose2d", "deconv")
    receptive_field_defined = False  # an upsampling: output positions fall between input pixels

    out_channels: PositiveInt
    kernel_size: IntOrPair
    stride: IntOrPair = 1
    padding: NonNegativeInt | tuple[NonNegativeInt, NonNegativeInt] = 0
    output_padding: NonNegativeInt | tuple[NonNegativeInt, NonNegativeInt] = 0
    dilation: IntOrPair = 1
    groups: PositiveInt = 1
    bias: bool = True

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, h, w = spatial(inputs[0], "convtranspose")
        _check_groups(c, self.out_channels, self.groups)
        k, s, d = (pair(v, n) for v, n in ((self.kernel_size, "kernel_size"), (self.stride, "stride"),
                                           (self.dilation, "dilation")))
        p, op = pair(self.padding, "padding"), pair(self.output_padding, "output_padding")
        if any(op[i] >= max(s[i], d[i]) for i in range(2)):
            raise ShapeError(f"output_padding {op} must be smaller than stride or dilation")
        out = tuple((n - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1 for i, n in enumerate((h, w)))
        if min(out) < 1:
            raise ShapeError(f"output size {out} is not positive")
        return (self.out_channels, *out)

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        kh, kw = pair(self.kernel_size, "kernel_size")
        params = [Param("weight", (inputs[0][0], self.out_channels // self.groups, kh, kw), "weight")]
        if self.bias:
            params.append(Param("bias", (self.out_channels,), "bias"))
        return params

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        """Every input pixel is scattered through the kernel: H_in·W_in·C_in·(C_out/g)·k_h·k_w."""
        c, h, w = inputs[0]
        kh, kw = pair(self.kernel_size, "kernel_size")
        return h * w * c * (self.out_channels // self.groups) * kh * kw

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.conv_transpose2d(
            xp, inputs[0], params["weight"], params.get("bias"), pair(self.stride, "stride"),
            pair(self.padding, "padding"), pair(self.output_padding, "output_padding"),
            pair(self.dilation, "dilation"), self.groups)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.ConvTranspose2d(inputs[0][0], self.out_channels, self.kernel_size, self.stride, self.padding,
                                  self.output_padding, self.groups, self.bias, self.dilation)

    def windows(self, inputs: list[Shape]) -> None:
        return None

    def tiling_remainders(self, inputs: list[Shape]) -> tuple[int, int]:
        return (0, 0)

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = inputs[0]
        kh, kw = pair(self.kernel_size, "kernel_size")
        s, p = pair(self.stride, "stride"), pair(self.padding, "padding")
        per = self.out_channels // self.groups
        params = f"{c} × {kh} × {kw} × {per}" + (f" + {self.out_channels}" if self.bias else "")
        params += f" = {exact(sum(x.size for x in self.parameters(inputs)))}"
        d, op = pair(self.dilation, "dilation"), pair(self.output_padding, "output_padding")
        axes = [f"({n} − 1)·{s[i]} − 2×{p[i]} + {d[i]}·({k} − 1) + {op[i]} + 1 = {output[i + 1]}"
                for i, (n, k) in enumerate(((h, kh), (w, kw)))]
        size = "(H − 1)·S − 2P + D·(F − 1) + OP + 1 = " + (
            axes[0] if axes[0] == axes[1] else f"{axes[0]} (H); {axes[1]} (W)")
        macs = f"{h} × {w} × {c} × ({per} × {kh} × {kw}) = {exact(self.macs(inputs, output))}"
        return Arithmetic(output=size, params=params, macs=macs)
