"""Convolutions: `conv` (groups, depthwise, dilation, every padding form) and `convtranspose`, on (H, W),
and the same classes over (L,) (`conv1d`, `convtranspose1d`) and (T, H, W) (`conv3d`, `convtranspose3d`)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from ..arrays import kernels
from ..errors import ExportError, ShapeError
from ..formulas import (
    check_groups,
    conv_output_ratio,
    conv_transpose_output_size,
    dilated_kernel,
    resolve_padding,
    window_macs,
)
from ..memo import memo
from ..records import (
    IntOrPair,
    IntOrSingle,
    IntOrTriple,
    NonNegativePair,
    NonNegativeSingle,
    NonNegativeTriple,
    Padding,
    PaddingSingle,
    PaddingTriple,
    PositiveFloat,
    PositiveInt,
)
from ..units import exact
from .activation import FusedActivation, fused, fused_in_place, fused_layer, fused_torch, keras_fused
from .base import Arithmetic, AxisWindow, Geometry, Layer, Param, Shape, register, spatial
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
    float32,
    onnx_padding,
    pair,
    whole,
)
from .norm import BatchNorm

#: The letters of the spatial axes, by their number: what a worked size formula names each axis.
AXIS_LETTERS = {1: "L", 2: "HW", 3: "THW"}


class _Windowed(Layer):
    """Shared geometry of layers that slide a kernel over (H, W), or over (L,) or (T, H, W): `spatial_axes`."""

    #: How many spatial axes the input has after its channels: 2 for (C, H, W).
    spatial_axes: ClassVar[int] = 2

    def geometry(self, shape: Shape) -> Geometry:
        """Kernel, stride, dilation and resolved padding on this (C, H, W) input, computed once per
        values (a key of plain values: a layer's own hash and equality are pydantic's, and slow)."""
        fields = self.__dict__  # a missing name would cost pydantic's slow __getattr__
        return _geometry(self.type_name, self.kernel_size, self.stride,
                         fields.get("dilation", (1,) * self.spatial_axes), self.padding, tuple(shape))

    def spatial_output(self, shape: Shape, ceil_mode: bool = False) -> Shape:
        return self.geometry(shape).output(ceil_mode)

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...]:
        return self.geometry(inputs[0]).windows()

    def tiling_remainders(self, inputs: list[Shape]) -> Shape:
        # the field's value where the type has one (a missing name costs pydantic's slow __getattr__)
        if self.__dict__.get("ceil_mode", False):
            return (0,) * self.spatial_axes
        return self.geometry(inputs[0]).remainders()

    def size_arithmetic(self, shape: Shape, output: Shape) -> str:
        """`(W − F + 2P)/S + 1 = (227 − 11 + 0)/4 + 1 = 55`, once when every axis agrees."""
        g = self.geometry(shape)
        lines = []
        for n, k, s, d, p, out in zip(g.size, g.kernel, g.stride, g.dilation, g.pads, output[1:]):
            pad = f"{p[0] + p[1]}" if p[0] == p[1] else f"({p[0]} + {p[1]})"
            ratio = conv_output_ratio(n, k, s, p, d)
            shown = f"{ratio:g}" if ratio == out else f"{ratio:.4g} → {out}"
            lines.append(f"({n} − {dilated_kernel(k, d)} + {pad})/{s} + 1 = {shown}")
        letters = AXIS_LETTERS[self.spatial_axes]
        if len(set(lines)) == 1:
            return f"({letters[-1]} − F + 2P)/S + 1 = " + lines[0]
        return "; ".join(f"{a}: ({a} − F + 2P)/S + 1 = {line}" for a, line in zip(letters, lines))

    def describe(self) -> str:
        kernel, stride = self.kernel_size, self.stride or self.kernel_size
        k = "×".join(map(str, kernel)) if len(kernel) > 1 else f"{kernel[0]}"
        s = str(stride[0]) if len(set(stride)) == 1 else "×".join(map(str, stride))
        return f"{k}/{s}"


@memo()
def _geometry(type_name: str, kernel_size: Shape, stride: Shape | None, dilation: Shape, padding: Any,
              shape: Shape) -> Geometry:
    size = spatial(shape, type_name, len(kernel_size))[1:]
    stride = stride or kernel_size  # a pooling layer without a stride steps by its window
    pads = resolve_padding(padding, size, kernel_size, stride, dilation)
    return Geometry(size, kernel_size, stride, dilation, pads)


def _onnx_window(node: OnnxNode, weight: Any, axes: int, symmetric: bool = False) -> dict[str, Any]:
    """Kernel, stride, padding, dilation, groups and bias of an ONNX `Conv` or `ConvTranspose` over `axes`
    spatial axes (`Mismatch` for another number: another type's)."""
    attributes = node.attributes
    kernel = list(attributes.get("kernel_shape") or weight.shape[2:])
    if len(kernel) != axes or len(weight.shape) != axes + 2:
        raise Mismatch(f"{node.op} must be {axes}-D" if axes == 2 else f"not a {axes}-D {node.op}")
    ones = [1] * axes
    return {"kernel_size": pair(at_least(1, "kernel_shape", kernel, axes)),
            "stride": pair(at_least(1, "strides", attributes.get("strides", ones), axes)),
            "padding": onnx_padding(attributes, node.op, symmetric, axes),
            "dilation": pair(at_least(1, "dilations", attributes.get("dilations", ones), axes)),
            "groups": at_least(1, "group", [attributes.get("group", 1)], 1)[0], "bias": node.has(2)}


def _torch_name(cls: type[Layer]) -> str:
    return cls.torch_form.modules[0]


#: The module classes of a convolution whose weights are standardised in the forward (timm's; archcalc's
#: own `to_torch` builds modules of the first two names), and how.
STANDARDIZED = {"StdConv2d": "plain", "StdConv2dSame": "plain", "ScaledStdConv2d": "scaled",
                "ScaledStdConv2dSame": "scaled"}


#: The ONNX functions archcalc writes for a convolution with standardised weights: (how, bias).
STANDARDIZED_ONNX = {f"{'Scaled' if how == 'scaled' else ''}StdConv{'Bias' if bias else ''}": (how, bias)
                     for how in ("plain", "scaled") for bias in (False, True)}


def _standardization(name: str, m: Any) -> dict[str, Any]:
    """The weight standardisation of a module of class `name`: none for `nn.Conv2d`; for timm's StdConv2d
    and ScaledStdConv2d (and their `Same` forms) its ε, and for the scaled ones γ, recovered from the
    module's scale γ/√fan-in (to 12 significant digits: the product's last bit is rounding)."""
    how = STANDARDIZED.get(name)
    if how is None:
        return {}
    found = {"weight_standardization": how, "ws_eps": float(m.eps)}
    if how == "scaled":
        fan_in = m.weight[0].numel()
        gain = getattr(m, "gain", None)
        if gain is None or tuple(gain.shape) != (m.out_channels, *(1,) * (m.weight.dim() - 1)):
            raise Mismatch(f"{name} without a gain of one value per filter")
        found["ws_gamma"] = float(f"{float(m.scale) * fan_in ** 0.5:.12g}")
    return found


@register
class Conv(_Windowed):
    """2-D convolution (PyTorch `Conv2d`); `groups: in_channels` makes it depthwise."""

    type_name = "conv"
    family = Family.CONV
    lecture_name = "conv2d"
    paper_name = "convolution"
    aliases = ("conv2d",)
    torch_form = TorchForm(modules=("Conv2d", *STANDARDIZED), functions=("conv2d",))
    onnx_form = OnnxForm(ops=("Conv", *STANDARDIZED_ONNX))
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
    weight_standardization: Literal["none", "plain", "scaled"] = Field(
        "none", description="standardise each filter's weights in the forward (timm's StdConv2d: plain; "
                            "ScaledStdConv2d: scaled, times a learnt gain per filter and gamma/sqrt(fan-in))")
    ws_eps: PositiveFloat = Field(1e-6, description="weight standardisation: added to each filter's variance")
    ws_gamma: float = Field(1.0, description="scaled weight standardisation: the constant gamma")

    @property
    def has_bias(self) -> bool:
        return self.bias

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.Conv2d` (`Conv1d`, `Conv3d`) with zero padding (ints, pairs, `same`, `valid`); `F.conv2d(x, weight,
        bias, stride, padding, dilation, groups)` of a module's parameters (timm's `Conv2dSame` after its padding)."""
        m = call.module
        if m is None:
            return cls._functional(call)
        if m.padding_mode != "zeros":
            raise Mismatch(f"{_torch_name(cls)} with padding_mode {m.padding_mode!r} has no archcalc layer type")
        padding = m.padding if isinstance(m.padding, str) else pair(m.padding)
        if getattr(m, "same_pad", False):       # timm's ...Same classes pad as TensorFlow's `same` in the forward
            padding = "same"
        return {"out_channels": m.out_channels, "kernel_size": pair(m.kernel_size), "stride": pair(m.stride),
                "padding": padding, "dilation": pair(m.dilation), "groups": m.groups, "bias": m.bias is not None,
                **_standardization(call.name, m)}

    @staticmethod
    def _functional(call: TorchCall) -> dict[str, Any]:
        names = ("weight", "bias", "stride", "padding", "dilation", "groups")
        weight, bias = call.argument(names, "weight"), call.argument(names, "bias")
        if call.args[:1] != (MAP,) or not isinstance(weight, Parameter) or weight.shape is None \
                or len(weight.shape) != 4 or not (bias is None or isinstance(bias, Parameter)):
            raise Mismatch("conv2d must convolve a map with a parameter of shape (C_out, C_in/g, k_h, k_w)")
        if weight.buffer or (bias is not None and bias.buffer):
            raise Mismatch("conv2d with a buffer (a fixed filter, no parameter) has no archcalc layer type")
        padding = call.argument(names, "padding", 0)
        return {"out_channels": weight.shape[0], "kernel_size": pair(weight.shape[2:]),
                "stride": pair(call.argument(names, "stride", 1)),
                "padding": padding if isinstance(padding, str) else pair(padding),
                "dilation": pair(call.argument(names, "dilation", 1)),
                "groups": whole(call.argument(names, "groups", 1)), "bias": bias is not None}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`Conv`: the output channels from the weight's shape [C_out, C_in/g, k_h, k_w]; archcalc's functions
        `StdConv`, `ScaledStdConv` (x, weight, [gain,] [bias]) and their `...Bias` forms: with standardised weights."""
        weight = node.parameter(1)
        found = {"out_channels": weight.shape[0], **_onnx_window(node, weight, cls.spatial_axes)}
        if node.op == "Conv":
            return found
        how, bias = STANDARDIZED_ONNX[node.op]
        found.update(bias=bias, weight_standardization=how, ws_eps=float32(node.attributes.get("epsilon", 1e-6)))
        if how == "scaled":
            found["ws_gamma"] = float32(node.attributes.get("gamma", 1.0))
        return found

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`Conv2D` (`Conv1D`, `Conv3D`), its fused activation included."""
        return {**super().from_keras(layer), **keras_fused(layer.config)}

    @property
    def fused_activation(self) -> Layer | None:
        return fused_layer(self.activation)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c = spatial(inputs[0], self.type_name, self.spatial_axes)[0]
        check_groups(self.groups, c, self.out_channels)
        return (self.out_channels, *self.spatial_output(inputs[0]))

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        c = inputs[0][0]
        params = [Param("weight", (self.out_channels, c // self.groups, *self.kernel_size), "weight")]
        if self.bias:
            params.append(Param("bias", (self.out_channels,), "bias"))
        if self.weight_standardization == "scaled":
            params.append(Param("gain", (self.out_channels, 1, *(1,) * len(self.kernel_size)), "weight", initial=1.0))
        return params

    def filter_bank(self, inputs: list[Shape]) -> tuple[int, int, int, int, int] | None:
        if self.spatial_axes != 2:
            return None
        return (self.out_channels, inputs[0][0] // self.groups, *self.kernel_size, self.groups)

    def grouping_label(self, inputs: list[Shape]) -> str:
        """How drawings and tables mark a grouped convolution, as Netron does: `dw` (depthwise: one group
        per input channel), `g=32`, or '' for an ordinary one."""
        if self.groups > 1 and self.groups == inputs[0][0]:
            return "dw"
        return f"g={self.groups}" if self.groups > 1 else ""

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return window_macs(output[1:], inputs[0][0], output[0], self.kernel_size, self.groups)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return fused(xp, self.activation, self._convolve(xp, inputs[0], params))

    def forward_prepared(self, xp: Any, inputs: list[Any], params: dict[str, Any], writable: Any) -> Any:
        """`forward` with the fused activation in place (the convolution's output is nobody else's)."""
        return fused_in_place(xp, self.activation, self._convolve(xp, inputs[0], params))

    def _convolve(self, xp: Any, x: Any, params: dict[str, Any]) -> Any:
        g = self.geometry(x.shape[1:])
        return kernels.conv(xp, x, self.effective_weight(xp, params), params.get("bias"), g.stride, g.pads,
                            g.dilation, self.groups)

    def effective_weight(self, xp: Any, params: dict[str, Any]) -> Any:
        """The weight the convolution applies: as stored, or standardised per filter, ŵ = (w − mean) /
        √(var + ε) over its C_in/g·k_h·k_w weights (the variance biased), and for `scaled` ŵ · gain · γ/√fan-in."""
        weight = params["weight"]
        if self.weight_standardization == "none":
            return weight
        flat = weight.reshape(weight.shape[0], -1)
        mean = flat.mean(axis=1, keepdims=True)
        variance = ((flat - mean) ** 2).mean(axis=1, keepdims=True)
        standard = (flat - mean) / xp.sqrt(variance + self.ws_eps)
        if self.weight_standardization == "scaled":
            standard = standard * params["gain"].reshape(-1, 1) * (self.ws_gamma * flat.shape[1] ** -0.5)
        return standard.reshape(weight.shape)

    def absorbs(self, follower: Layer) -> bool:
        """An inference BatchNorm (with running statistics) right after a convolution with no fused activation
        (and weights used as stored)."""
        return self.activation in (None, "linear") and isinstance(follower, BatchNorm) \
            and follower.track_running_stats and self.weight_standardization == "none"

    def fold(self, params: dict[str, Any], follower: Layer, follower_params: dict[str, Any]) -> dict[str, Any]:
        """The BatchNorm's per-channel scale γ/√(var+ε) in the weight, its shift (b − mean)·scale + β as the bias."""
        scale, shift = follower.inference_affine(follower_params, params.get("bias", 0.0))
        weight = params["weight"]
        return {"weight": weight * scale.reshape((-1,) + (1,) * (weight.ndim - 1)), "bias": shift}

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import conv

        g = self.geometry(inputs[0])
        standardized = None if self.weight_standardization == "none" else \
            (self.weight_standardization, self.ws_eps, self.ws_gamma)
        return conv(inputs[0][0], self.out_channels, g.kernel, g.stride, g.pads, g.dilation, self.groups, self.bias,
                    fused_torch(self.activation), standardized)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import activated, onnx_pads, weighted

        g = self.geometry(record.input_shapes[0])
        window = {"kernel_shape": list(g.kernel), "strides": list(g.stride), "pads": onnx_pads(g.pads),
                  "dilations": list(g.dilation), "group": self.groups}
        if self.weight_standardization != "none":
            self._standardized_onnx(graph, record, window)
            return
        activated(graph, record, "Conv", weighted(graph, record), **window)

    def _standardized_onnx(self, graph: Any, record: Any, window: dict[str, Any]) -> None:
        """A call of archcalc's function `StdConv`/`ScaledStdConv` (`...Bias` with a bias): the weights
        standardised per filter (Reshape, ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div; scaled: times gain
        and γ/√fan-in), then `Conv`; then the fused activation."""
        from .onnx_nodes import standardized_conv_function

        if self.spatial_axes != 2:
            raise ExportError("weight standardisation has an ONNX form for 2-D convolutions only")
        scaled = self.weight_standardization == "scaled"
        name = next(op for op, form in STANDARDIZED_ONNX.items() if form == (self.weight_standardization, self.bias))
        inputs = [record.inputs[0], graph.weight(record, "weight"), *([graph.weight(record, "gain")] if scaled else []),
                  *([graph.weight(record, "bias")] if self.bias else [])]
        fan_in = record.input_shapes[0][0] // self.groups * self.kernel_size[0] * self.kernel_size[1]
        extra = {"gamma": self.ws_gamma, "scale": self.ws_gamma * fan_in ** -0.5} if scaled else {}
        activation = self.fused_activation
        out = record.name if activation is None else f"{record.name}/conv"
        graph.call(lambda: standardized_conv_function(name, scaled, self.bias), name, inputs, out,
                   epsilon=self.ws_eps, **window, **extra)
        if activation is not None:
            activation.onnx_apply(graph, out, record.name)

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c = inputs[0][0]
        kernel = " × ".join(map(str, self.kernel_size))
        depth = c // self.groups
        total = sum(p.size for p in self.parameters(inputs))
        params = f"{depth} × {kernel} × {self.out_channels}" + (f" + {self.out_channels}" if self.bias else "")
        if self.weight_standardization == "scaled":
            params += f" + {self.out_channels} (gain)"
        params += f" = {exact(total)}"
        positions = " × ".join(map(str, output[1:]))
        macs = f"{positions} × {self.out_channels} × ({depth} × {kernel}) = {exact(self.macs(inputs, output))}"
        if self.weight_standardization != "none":
            macs += (f"; plus, once per forward and not counted, the standardisation of the {self.out_channels} "
                     f"filters of {depth} × {kernel} weights (mean, variance, (w − mean)/√(var + ε)"
                     + (", × gain · γ/√fan-in" if self.weight_standardization == "scaled" else "") + ")")
        return Arithmetic(output=self.size_arithmetic(inputs[0], output), params=params, macs=macs)


@register
class Conv1d(Conv):
    """1-D convolution over (C, L) (PyTorch `Conv1d`, Keras `Conv1D`): `conv` over one axis."""

    type_name = "conv1d"
    spatial_axes = 1
    lecture_name = ""
    paper_name = "convolution"
    aliases = ()
    torch_form = TorchForm(modules=("Conv1d",))
    keras_form = KerasForm(classes=("Conv1D",), keras1="Convolution1D", config=Conv.keras_form.config)

    kernel_size: IntOrSingle
    stride: IntOrSingle = (1,)
    padding: PaddingSingle = (0,)
    dilation: IntOrSingle = (1,)


@register
class Conv3d(Conv):
    """3-D convolution over (C, T, H, W) (PyTorch `Conv3d`, Keras `Conv3D`): `conv` over three axes."""

    type_name = "conv3d"
    spatial_axes = 3
    lecture_name = ""
    aliases = ()
    torch_form = TorchForm(modules=("Conv3d",))
    keras_form = KerasForm(classes=("Conv3D",), keras1="Convolution3D", config=Conv.keras_form.config)

    kernel_size: IntOrTriple
    stride: IntOrTriple = (1, 1, 1)
    padding: PaddingTriple = (0, 0, 0)
    dilation: IntOrTriple = (1, 1, 1)


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
            raise Mismatch(f"{_torch_name(cls)} with padding_mode {m.padding_mode!r} has no archcalc layer type")
        return {"out_channels": m.out_channels, "kernel_size": pair(m.kernel_size), "stride": pair(m.stride),
                "padding": pair(m.padding), "output_padding": pair(m.output_padding), "dilation": pair(m.dilation),
                "groups": m.groups, "bias": m.bias is not None}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`ConvTranspose` without `output_shape` (nor `auto_pad` SAME): the weight is [C_in, C_out/g, k_h, k_w]."""
        if node.attributes.get("output_shape"):
            raise Mismatch("ConvTranspose with output_shape has no archcalc layer type")
        weight = node.parameter(1)
        window = _onnx_window(node, weight, cls.spatial_axes, symmetric=True)
        return {"out_channels": weight.shape[1] * window["groups"], **window,
                "output_padding": pair(node.attributes.get("output_padding", [0] * cls.spatial_axes))}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, *size = spatial(inputs[0], self.type_name, self.spatial_axes)
        check_groups(self.groups, c, self.out_channels)
        op = self.output_padding
        if any(o >= max(s, d) for o, s, d in zip(op, self.stride, self.dilation)):
            raise ShapeError(f"output_padding {op} must be smaller than stride or dilation")
        out = tuple(conv_transpose_output_size(n, *axis) for n, axis in zip(
            size, zip(self.kernel_size, self.stride, self.padding, op, self.dilation)))
        if min(out) < 1:
            raise ShapeError(f"output size {out} is not positive")
        return (self.out_channels, *out)

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        params = [Param("weight", (inputs[0][0], self.out_channels // self.groups, *self.kernel_size), "weight")]
        if self.bias:
            params.append(Param("bias", (self.out_channels,), "bias"))
        return params

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return window_macs(inputs[0][1:], self.out_channels, inputs[0][0], self.kernel_size, self.groups)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.conv_transpose(
            xp, inputs[0], params["weight"], params.get("bias"), self.stride, self.padding, self.output_padding,
            self.dilation, self.groups)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        module = getattr(nn, _torch_name(type(self)))
        return module(inputs[0][0], self.out_channels, self.kernel_size, self.stride, self.padding,
                      self.output_padding, self.groups, self.bias, self.dilation)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import weighted

        graph.node("ConvTranspose", weighted(graph, record), record.name, kernel_shape=list(self.kernel_size),
                   strides=list(self.stride), pads=list(self.padding) * 2, output_padding=list(self.output_padding),
                   dilations=list(self.dilation), group=self.groups)

    def windows(self, inputs: list[Shape]) -> None:
        return None

    def tiling_remainders(self, inputs: list[Shape]) -> Shape:
        return (0,) * self.spatial_axes

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, *size = inputs[0]
        s, p, d, op = self.stride, self.padding, self.dilation, self.output_padding
        kernel = " × ".join(map(str, self.kernel_size))
        per = self.out_channels // self.groups
        params = f"{c} × {kernel} × {per}" + (f" + {self.out_channels}" if self.bias else "")
        params += f" = {exact(sum(x.size for x in self.parameters(inputs)))}"
        axes = [f"({n} − 1)·{s[i]} − 2×{p[i]} + {d[i]}·({k} − 1) + {op[i]} + 1 = {output[i + 1]}"
                for i, (n, k) in enumerate(zip(size, self.kernel_size))]
        letters = AXIS_LETTERS[self.spatial_axes]
        formula = f"({letters[0]} − 1)·S − 2P + D·(F − 1) + OP + 1 = "
        size_text = formula + (axes[0] if len(set(axes)) == 1 else
                               "; ".join(f"{line} ({a})" for a, line in zip(letters, axes)))
        positions = " × ".join(map(str, size))
        macs = f"{positions} × {c} × ({per} × {kernel}) = {exact(self.macs(inputs, output))}"
        return Arithmetic(output=size_text, params=params, macs=macs)


@register
class ConvTranspose1d(ConvTranspose):
    """1-D transposed convolution over (C, L) (PyTorch `ConvTranspose1d`)."""

    type_name = "convtranspose1d"
    spatial_axes = 1
    aliases = ()
    torch_form = TorchForm(modules=("ConvTranspose1d",))
    keras_form = KerasForm(summary="Conv1DTranspose")

    kernel_size: IntOrSingle
    stride: IntOrSingle = (1,)
    padding: NonNegativeSingle = (0,)
    output_padding: NonNegativeSingle = (0,)
    dilation: IntOrSingle = (1,)


@register
class ConvTranspose3d(ConvTranspose):
    """3-D transposed convolution over (C, T, H, W) (PyTorch `ConvTranspose3d`)."""

    type_name = "convtranspose3d"
    spatial_axes = 3
    aliases = ()
    torch_form = TorchForm(modules=("ConvTranspose3d",))
    keras_form = KerasForm(summary="Conv3DTranspose")

    kernel_size: IntOrTriple
    stride: IntOrTriple = (1, 1, 1)
    padding: NonNegativeTriple = (0, 0, 0)
    output_padding: NonNegativeTriple = (0, 0, 0)
    dilation: IntOrTriple = (1, 1, 1)
