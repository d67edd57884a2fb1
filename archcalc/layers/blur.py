"""Anti-aliased downsampling: `blurpool` (timm's `BlurPool2d`: a fixed binomial blur, then a stride)."""

from __future__ import annotations

from math import comb
from typing import Any, ClassVar, Literal

from ..errors import ShapeError
from ..records import IntOrPair, PositiveInt
from .base import Arithmetic, AxisWindow, Layer, Shape, format_shape, register, spatial
from .family import Family
from .foreign import Mismatch, OnnxForm, TorchCall, TorchForm


def binomial(size: int) -> list[float]:
    """The normalised binomial coefficients C(size − 1, i) / 2^(size − 1): (1, 2, 1) / 4 for size 3."""
    return [comb(size - 1, i) / 2 ** (size - 1) for i in range(size)]


@register
class BlurPool(Layer):
    """Blur pooling (Zhang 2019, "Making convolutional networks shift-invariant again"; timm's `BlurPool2d`):
    each channel padded by p = (s − 1 + k − 1) // 2 before and after along each axis of stride s (`reflect`,
    or `constant` zeros), then convolved with the fixed k×k filter bbᵀ of the binomial coefficients b. The
    filter is a constant, not a parameter; the depthwise convolution does H_out·W_out·C·k²
    multiply-accumulates."""

    type_name = "blurpool"
    family = Family.BLUR_POOL
    torch_form = TorchForm(modules=("BlurPool2d",), arguments=("filt_size", "stride", "pad_mode"))
    # a function archcalc writes
    onnx_form = OnnxForm(ops=("BlurPool",), attributes=("filt_size", "stride", "pad_mode"))

    spatial_axes: ClassVar[int] = 2

    filt_size: PositiveInt = 3   # 1: no blur, a plain subsampling
    stride: IntOrPair = (2, 2)
    pad_mode: Literal["reflect", "constant"] = "reflect"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """timm's module: its filter size, stride and padding mode, and the padding it derives from them."""
        module = call.module
        found = {name: getattr(module, name, None) for name in cls.torch_form.arguments}
        k, stride = found["filt_size"], found["stride"]
        strides = (stride, stride) if isinstance(stride, int) else tuple(stride)
        if not isinstance(k, int) or len(strides) != 2 or not all(isinstance(s, int) for s in strides):
            raise Mismatch("a BlurPool2d without an integer filt_size and stride")
        rows, columns = ((s - 1 + k - 1) // 2 for s in strides)
        padding = getattr(module, "padding", None)
        if padding not in ([columns, columns, rows, rows], (rows, columns)) and not padding == rows == columns:
            raise Mismatch(f"a BlurPool2d padded otherwise than by {rows} rows and {columns} columns on each side")
        return {**found, "stride": strides[0] if strides[0] == strides[1] else list(strides)}

    @property
    def pads(self) -> tuple[int, int]:
        """The padding before and after, along the rows and along the columns."""
        return tuple((s - 1 + self.filt_size - 1) // 2 for s in self.stride)  # type: ignore[return-value]

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, h, w = spatial(inputs[0], "blurpool")
        k = self.filt_size
        sizes = []
        for n, p, s in zip((h, w), self.pads, self.stride):
            if self.pad_mode == "reflect" and p >= n:
                raise ShapeError(f"reflection padding of {p} needs a map larger than {p}, got {h}×{w}")
            if n + 2 * p < k:
                raise ShapeError(f"the {k}×{k} filter does not fit the {h}×{w} map padded by {p}")
            sizes.append((n + 2 * p - k) // s + 1)
        return (c, *sizes)

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        c, h, w = output
        return h * w * c * self.filt_size ** 2

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...]:
        return tuple(AxisWindow(self.filt_size, s, p) for s, p in zip(self.stride, self.pads))

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = output
        k = self.filt_size
        return Arithmetic(output=format_shape(output), params="0 (a fixed binomial filter)",
                          macs=f"{h}·{w}·{c}·{k}·{k} = {self.macs(inputs, output):,}")

    def describe(self) -> str:
        stride = self.stride[0] if len(set(self.stride)) == 1 else "×".join(map(str, self.stride))
        return f"blur {self.filt_size}×{self.filt_size}/{stride}"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x, (ph, pw), (sh, sw), k = inputs[0], self.pads, self.stride, self.filt_size
        padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode=self.pad_mode)   # NumPy's names are PyTorch's
        h, w = (x.shape[2] + 2 * ph - k) // sh + 1, (x.shape[3] + 2 * pw - k) // sw + 1
        b = binomial(k)
        out = xp.zeros(x.shape[:2] + (h, w), dtype=x.dtype)
        for i in range(k):
            for j in range(k):
                out += (b[i] * b[j]) * padded[:, :, i:i + sh * (h - 1) + 1:sh, j:j + sw * (w - 1) + 1:sw]
        return out

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import BlurPool2d, TorchLayer

        return TorchLayer(BlurPool2d(self.filt_size, self.stride, self.pad_mode, self.pads))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `BlurPool` (Pad, and a depthwise Conv by the constant filter)."""
        c, (ph, pw), k = record.input_shapes[0][0], self.pads, self.filt_size
        b = binomial(k)
        graph.call(_onnx_function, "BlurPool", [record.inputs[0]], record.name, filt_size=k,
                   stride=list(self.stride), pad_mode=self.pad_mode, pads=[0, 0, ph, pw, 0, 0, ph, pw],
                   strides=list(self.stride), group=c,
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
