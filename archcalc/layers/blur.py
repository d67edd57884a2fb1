"""Anti-aliased downsampling: `blurpool` (timm's `BlurPool2d`: a fixed binomial blur, then a stride)."""

from __future__ import annotations

from math import comb
from typing import Annotated, Any, Literal

from annotated_types import Ge

from ..errors import ShapeError
from ..records import PositiveInt
from .base import Arithmetic, AxisWindow, Layer, Shape, format_shape, register, spatial
from .family import Family
from .foreign import Mismatch, OnnxForm, TorchCall, TorchForm


def binomial(size: int) -> list[float]:
    """The normalised binomial coefficients C(size − 1, i) / 2^(size − 1): (1, 2, 1) / 4 for size 3."""
    return [comb(size - 1, i) / 2 ** (size - 1) for i in range(size)]


@register
class BlurPool(Layer):
    """Blur pooling (Zhang 2019, "Making convolutional networks shift-invariant again"; timm's `BlurPool2d`):
    each channel padded by p = (s − 1 + k − 1) // 2 on every side (`reflect`, or `constant` zeros), then
    convolved with the fixed k×k filter bbᵀ of the binomial coefficients b, with stride s. The filter is a
    constant, not a parameter; the depthwise convolution does H_out·W_out·C·k² multiply-accumulates."""

    type_name = "blurpool"
    family = Family.BLUR_POOL
    torch_form = TorchForm(modules=("BlurPool2d",), arguments=("filt_size", "stride", "pad_mode"))
    # a function archcalc writes
    onnx_form = OnnxForm(ops=("BlurPool",), attributes=("filt_size", "stride", "pad_mode"))

    filt_size: Annotated[int, Ge(2)] = 3
    stride: PositiveInt = 2
    pad_mode: Literal["reflect", "constant"] = "reflect"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """timm's module: its filter size, stride and padding mode, and the padding it derives from them."""
        module = call.module
        found = {name: getattr(module, name, None) for name in cls.torch_form.arguments}
        if not isinstance(found["filt_size"], int) or not isinstance(found["stride"], int):
            raise Mismatch("a BlurPool2d without an integer filt_size and stride")
        pad = (found["stride"] - 1 + found["filt_size"] - 1) // 2
        if getattr(module, "padding", None) not in (pad, [pad] * 4):
            raise Mismatch(f"a BlurPool2d padded otherwise than by {pad} on every side")
        return found

    @property
    def pad(self) -> int:
        return (self.stride - 1 + self.filt_size - 1) // 2

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, h, w = spatial(inputs[0], "blurpool")
        p, k = self.pad, self.filt_size
        if self.pad_mode == "reflect" and p >= min(h, w):
            raise ShapeError(f"reflection padding of {p} needs a map larger than {p}, got {h}×{w}")
        if min(h, w) + 2 * p < k:
            raise ShapeError(f"the {k}×{k} filter does not fit the padded {h + 2 * p}×{w + 2 * p} map")
        return (c, (h + 2 * p - k) // self.stride + 1, (w + 2 * p - k) // self.stride + 1)

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        c, h, w = output
        return h * w * c * self.filt_size ** 2

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...]:
        return (AxisWindow(self.filt_size, self.stride, self.pad),) * 2

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = output
        k = self.filt_size
        return Arithmetic(output=format_shape(output), params="0 (a fixed binomial filter)",
                          macs=f"{h}·{w}·{c}·{k}·{k} = {self.macs(inputs, output):,}")

    def describe(self) -> str:
        return f"blur {self.filt_size}×{self.filt_size}/{self.stride}"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x, p, s, k = inputs[0], self.pad, self.stride, self.filt_size
        padded = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode=self.pad_mode)   # NumPy's names are PyTorch's
        h, w = ((n + 2 * p - k) // s + 1 for n in x.shape[2:])
        b = binomial(k)
        out = xp.zeros(x.shape[:2] + (h, w), dtype=x.dtype)
        for i in range(k):
            for j in range(k):
                out += (b[i] * b[j]) * padded[:, :, i:i + s * (h - 1) + 1:s, j:j + s * (w - 1) + 1:s]
        return out

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import BlurPool2d, TorchLayer

        return TorchLayer(BlurPool2d(self.filt_size, self.stride, self.pad_mode, self.pad))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `BlurPool` (Pad, and a depthwise Conv by the constant filter)."""
        c, p, k = record.input_shapes[0][0], self.pad, self.filt_size
        b = binomial(k)
        graph.call(_onnx_function, "BlurPool", [record.inputs[0]], record.name, filt_size=k, stride=self.stride,
                   pad_mode=self.pad_mode, pads=[0, 0, p, p, 0, 0, p, p], strides=[self.stride] * 2, group=c,
                   filter=[u * v for u in b for v in b], filter_shape=[1, 1, k, k], weight_shape=[c, 1, k, k])


def _onnx_function() -> Any:
    from .onnx_nodes import function, ref

    return function("BlurPool", ["x"], ["y"], [
        ("Constant", [], "pads", {"value_ints": ref("ints", "pads")}),
        ("Constant", [], "flat", {"value_floats": ref("floats", "filter")}),
        ("Constant", [], "filter_shape", {"value_ints": ref("ints", "filter_shape")}),
        ("Constant", [], "weight_shape", {"value_ints": ref("ints", "weight_shape")}),
        ("Reshape", ["flat", "filter_shape"], "filter", {}),
        ("Expand", ["filter", "weight_shape"], "weight", {}),
        ("Pad", ["x", "pads"], "padded", {"mode": ref("string", "pad_mode")}),
        ("Conv", ["padded", "weight"], "y", {"strides": ref("ints", "strides"), "group": ref("int", "group")}),
    ], ["filt_size", "stride", "pad_mode", "pads", "strides", "group", "filter", "filter_shape", "weight_shape"])
