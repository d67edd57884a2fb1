"""Layers that change a map's height and width without weights: `upsample` (nearest-neighbour or
bilinear interpolation) and `crop` (U-Net's copy-and-crop, Keras `Cropping2D`).

Both may take the size they produce from a second input read for its size alone (`like: skip` in a
file): the output of `upsample` is that input's height and width, and `crop` cuts the centre of
that size out of its first input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ..errors import ShapeError
from ..records import IntOrPair, NonNegativePair, PadWidths
from .base import Arithmetic, AxisWindow, Layer, Shape, format_shape, register, spatial
from .family import Family
from .foreign import MAP, KerasForm, KerasLayer, Mismatch, OnnxForm, OnnxNode, TorchCall, TorchForm, pair, whole

if TYPE_CHECKING:
    import numpy as np

Pair = tuple[int, int]


def _target(inputs: list[Shape], who: str) -> Pair:
    """(H, W) of the second input, read for its size alone."""
    if len(inputs[1]) != 3:
        raise ShapeError(f"{who} takes its size from a (C, H, W) map (like:), got {format_shape(inputs[1])}")
    return inputs[1][1], inputs[1][2]


def _whole_scale(value: Any) -> Any:
    """A framework's scale factor (a number or one per axis) as whole numbers; `Mismatch` for a fraction."""
    values = value if isinstance(value, (list, tuple)) else [value]
    try:
        return pair([whole(v) for v in values]) if len(values) > 1 else whole(values[0])
    except ValueError:
        raise Mismatch(f"scale factor {value!r} is not a whole number (only whole factors have an archcalc form)") \
            from None


def nearest_sources(n_in: int, n_out: int) -> np.ndarray:
    """PyTorch's nearest-neighbour source index of each of `n_out` positions: ⌊i · (n_in / n_out)⌋, the
    ratio and the product rounded to float32 as its kernel computes them, at most n_in − 1."""
    import numpy as np

    ratio = np.float32(n_in) / np.float32(n_out)
    index = np.floor(np.arange(n_out, dtype=np.float32) * ratio).astype(np.int64)
    return np.minimum(index, n_in - 1)


def linear_sources(n_in: int, n_out: int, align_corners: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's linear interpolation along one axis: for each output position i, the two input positions
    it reads and the weight of the second. The source coordinate is i · (n_in − 1)/(n_out − 1) with
    `align_corners` (corner pixels on corner pixels), else (i + ½) · n_in/n_out − ½ (pixel centres
    scaled), at least 0; it lies between ⌊x⌋ and ⌊x⌋ + 1 (the last pixel repeated at the edge)."""
    import numpy as np

    i = np.arange(n_out, dtype=np.float64)
    if align_corners:
        x = i * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        x = np.maximum((i + 0.5) * (n_in / n_out) - 0.5, 0.0)
    low = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
    return low, np.minimum(low + 1, n_in - 1), x - low


@register
class Upsample(Layer):
    """Resize H and W by nearest-neighbour or bilinear interpolation (PyTorch `nn.Upsample` /
    `F.interpolate`, Keras `UpSampling2D`, ONNX `Resize`): by whole `scale_factor`s, to a `size`, or to
    the size of a second input (`like:`). No weights, no MACs; an upsampling, so no receptive field is
    reported from it on."""

    type_name = "upsample"
    aliases = ("interpolate", "resize")
    family = Family.UPSAMPLE
    inputs_allowed = (1, 2)
    sized_by_second_input = True
    receptive_field_defined = False
    torch_form = TorchForm(modules=("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"),
                           functions=("interpolate", "upsample"),
                           arguments=("size", "scale_factor", "mode", "align_corners"))
    onnx_form = OnnxForm(ops=("Resize",))
    keras_form = KerasForm(classes=("UpSampling2D",))

    scale_factor: IntOrPair | None = None
    size: IntOrPair | None = None
    mode: Literal["nearest", "bilinear"] = "nearest"
    align_corners: bool = False

    @property
    def bilinear(self) -> bool:
        """Whether it interpolates bilinearly (what the count profiles ask), rather than copying the nearest."""
        return self.mode == "bilinear"

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.Upsample` and its `UpsamplingNearest2d` and `UpsamplingBilinear2d` (align_corners true) by their
        attributes, `F.interpolate(x, size, scale_factor, mode, align_corners)`, its size also another map's
        `skip.shape[-2:]` (then the second input)."""
        names = cls.torch_form.arguments
        source = call.module
        found = ({name: getattr(source, name, None) for name in names} if source is not None
                 else {name: call.argument(names, name) for name in names})
        if source is None and call.argument(names + ("recompute_scale_factor", "antialias"), "antialias"):
            raise Mismatch("interpolate with antialias has no archcalc layer type")
        size = None if found["size"] is MAP else found["size"]    # another map's size: its second input
        return cls._read(size, found["scale_factor"], found["mode"] or "nearest", found["align_corners"])

    @classmethod
    def _read(cls, size: Any, scale: Any, mode: Any, align_corners: Any) -> dict[str, Any]:
        if mode not in ("nearest", "bilinear"):
            raise Mismatch(f"interpolation mode {mode!r} has no archcalc layer type (nearest, bilinear)")
        found: dict[str, Any] = {"mode": mode}
        if size is not None:
            found["size"] = pair(size)
        elif scale is not None:
            found["scale_factor"] = _whole_scale(scale)
        if mode == "bilinear" and align_corners:
            found["align_corners"] = True
        return found

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`Resize` of H and W with constant `scales` (whole numbers) or `sizes`: nearest (asymmetric, floor,
        PyTorch's) or linear (half-pixel or align-corners)."""
        import numpy as np

        attributes = node.attributes
        mode, transform = attributes.get("mode", "nearest"), attributes.get("coordinate_transformation_mode",
                                                                           "half_pixel")
        if mode == "nearest":
            if transform != "asymmetric" or attributes.get("nearest_mode", "round_prefer_floor") != "floor":
                raise Mismatch("Resize nearest must be asymmetric with nearest_mode floor (PyTorch's)")
            align = False
        elif mode == "linear" and transform in ("half_pixel", "pytorch_half_pixel", "align_corners"):
            align = transform == "align_corners"
        else:
            raise Mismatch(f"Resize mode {mode!r} with {transform} coordinates has no archcalc layer type")
        values = [node.inputs[k] if node.has(k) else None for k in (2, 3)]
        if any(v is not None and not isinstance(v, np.ndarray) for v in values):
            raise Mismatch("Resize's scales and sizes must be constants")
        scales, sizes = (v if v is not None and v.size else None for v in values)
        if any(v is not None and (v.dtype.kind not in "iuf" or not np.all(np.isfinite(v)) or np.any(v <= 0))
               for v in (scales, sizes)):
            raise Mismatch("Resize's scales and sizes must be positive numbers")
        channels = node.site.channels
        if (scales is not None and (scales.size != 4 or list(scales[:2]) != [1, 1])) or \
                (sizes is not None and (sizes.size != 4 or (channels is not None and sizes[1] != channels))):
            raise Mismatch("Resize must keep the batch and channels (resize H and W of a map)")
        if sizes is not None:
            return cls._read([int(v) for v in sizes[2:]], None, "bilinear" if mode == "linear" else mode, align)
        if scales is None:
            raise Mismatch("Resize without scales or sizes")
        mode = "bilinear" if mode == "linear" else mode
        shape = node.site.shape
        if any(float(v) != int(v) for v in scales[2:]) and shape is not None and len(shape) == 3:
            size = [int(np.floor(n * float(np.float32(v)))) for n, v in zip(shape[1:], scales[2:])]
            return cls._read(size, None, mode, align)
        return cls._read(None, [float(v) for v in scales[2:]], mode, align)

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`UpSampling2D(size, interpolation)`; Keras's bilinear resizing maps pixel centres (align_corners false)."""
        return cls._read(None, layer.config.get("size", 2), layer.config.get("interpolation", "nearest"), False)

    # --- shape ------------------------------------------------------------------------------
    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, h, w = spatial(inputs[0], "upsample")
        given = [name for name, value in (("scale_factor", self.scale_factor), ("size", self.size),
                                          ("like", len(inputs) > 1 or None)) if value is not None]
        if len(given) != 1:
            raise ShapeError("upsample needs exactly one of scale_factor, size and like: <layer>"
                             + (f" (got {', '.join(given)})" if given else ""))
        if self.align_corners and not self.bilinear:
            raise ShapeError("align_corners applies to bilinear interpolation only")
        if self.scale_factor is not None:
            return (c, h * self.scale_factor[0], w * self.scale_factor[1])
        return (c, *(self.size if self.size is not None else _target(inputs, "upsample")))

    def describe(self) -> str:
        how = "bilinear, corners aligned" if self.align_corners else self.mode
        if self.scale_factor is not None:
            sh, sw = self.scale_factor
            return f"×{sh} {how}" if sh == sw else f"×{sh}×{sw} {how}"
        return f"→{self.size[0]}×{self.size[1]} {how}" if self.size is not None else f"like {how}"

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = inputs[0]
        _, oh, ow = output
        if self.scale_factor is not None:
            size = f"({c}, {h}·{self.scale_factor[0]}, {w}·{self.scale_factor[1]}) = {format_shape(output)}"
        else:
            size = f"({c}, {oh}, {ow}) ({'size' if self.size is not None else 'the size of its second input'})"
        elements = c * oh * ow
        if not self.bilinear:
            work = f"0 (each of the {elements:,} output elements copies its nearest input element)"
        else:
            work = (f"0 counted (no weights); interpolation: each of the {elements:,} output elements is "
                    f"λ_h0·(λ_w0·a + λ_w1·b) + λ_h1·(λ_w0·c + λ_w1·d) of its 4 nearest input elements, "
                    f"6 multiplications and 3 additions each, {6 * elements:,} and {3 * elements:,} in all")
        return Arithmetic(output=size, params="0", macs=work)

    # --- execution --------------------------------------------------------------------------
    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        _, oh, ow = self.output_shape([tuple(a.shape[1:]) for a in inputs])
        h, w = x.shape[2:]
        if not self.bilinear:
            rows, cols = xp.asarray(nearest_sources(h, oh)), xp.asarray(nearest_sources(w, ow))
            return xp.ascontiguousarray(x[:, :, rows][:, :, :, cols])
        (r0, r1, dr), (c0, c1, dc) = (linear_sources(n, m, self.align_corners) for n, m in ((h, oh), (w, ow)))
        dr = xp.asarray(dr, dtype=x.dtype)[:, None]
        dc = xp.asarray(dc, dtype=x.dtype)
        rows = x[:, :, xp.asarray(r0)] * (1 - dr) + x[:, :, xp.asarray(r1)] * dr
        return rows[:, :, :, xp.asarray(c0)] * (1 - dc) + rows[:, :, :, xp.asarray(c1)] * dc

    def torch_module(self, inputs: list[Shape]) -> Any:
        """`nn.Upsample` to the output's size when it follows a second input (PyTorch reads it as a size)."""
        from torch import nn

        align = self.align_corners if self.bilinear else None
        if self.scale_factor is not None:
            sh, sw = self.scale_factor
            return nn.Upsample(scale_factor=sh if sh == sw else (sh, sw), mode=self.mode, align_corners=align)
        size = self.output_shape(inputs)[1:]
        return nn.Upsample(size=size[0] if size[0] == size[1] else size, mode=self.mode, align_corners=align)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """`Resize` by `scales` (1, 1, then H and W: the batch stays free), each the float32 ratio whose product
        with the input's size rounds down to the output's; PyTorch's coordinates."""
        name = record.name
        ratios = [onnx_scale(n, m) for n, m in zip(record.input_shapes[0][1:], record.output_shape[1:])]
        scales = graph.constant(f"{name}/scales", [1.0, 1.0, *ratios])
        if self.bilinear:
            how = {"mode": "linear",
                   "coordinate_transformation_mode": "align_corners" if self.align_corners else "half_pixel"}
        else:
            how = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
        graph.node("Resize", [record.inputs[0], "", scales], name, **how)


def onnx_scale(n_in: int, n_out: int) -> float:
    """The float32 scale that takes n_in to n_out by ONNX's ⌊n_in · scale⌋: n_out / n_in, raised to the next
    float32 while the exact product falls short (so that a runtime's float32 product and the checker's
    float64 one both reach n_out)."""
    import numpy as np

    scale = np.float32(n_out / n_in)
    while n_in * float(scale) < n_out:
        scale = np.nextafter(scale, np.float32(np.inf))
    return float(scale)


@register
class Crop(Layer):
    """Cut rows and columns off the edges of a map (Keras `Cropping2D`; U-Net's copy-and-crop): `cropping`
    widths (n, (n_h, n_w) or (top, bottom, left, right)), or the size of a second input (`like:`) from
    its centre (the odd row or column left over cut from the bottom or right) or from `offset` rows and
    columns in (Caffe's `Crop`, as FCN uses it). No weights, no MACs."""

    type_name = "crop"
    aliases = ("cropping2d",)
    family = Family.DATA
    inputs_allowed = (1, 2)
    sized_by_second_input = True
    torch_form = TorchForm(functions=("getitem",))   # x[:, :, a:b, c:d]
    onnx_form = OnnxForm(ops=("Slice",))
    keras_form = KerasForm(classes=("Cropping2D",))

    cropping: PadWidths | None = None
    offset: NonNegativePair | None = None

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`x[:, :, a:b, c:d]`, `x[..., a:b, c:d]`: runs of rows and columns of every channel."""
        index = call.args[1] if len(call.args) > 1 else None
        if isinstance(index, tuple) and len(index) == 3 and index[0] is Ellipsis:
            index = (slice(None), slice(None), *index[1:])
        shape = call.site.shape
        if not (isinstance(index, tuple) and len(index) == 4 and index[:2] == (slice(None), slice(None))
                and all(isinstance(s, slice) and s.step in (None, 1) for s in index[2:])
                and shape is not None and len(shape) == 3):
            raise Mismatch("indexing must take runs of rows and columns (x[:, :, a:b, c:d])")
        return cls._widths([(s.start, s.stop) for s in index[2:]], shape[1:])

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`Slice` of H and W (axes 2 and 3, step 1) with constant starts and ends."""
        import numpy as np

        found = [node.inputs[k] if node.has(k) else None for k in range(1, 5)]
        if any(v is not None and (not isinstance(v, np.ndarray) or v.dtype.kind not in "iu") for v in found):
            raise Mismatch("Slice's starts, ends, axes and steps must be integer constants")
        starts, ends, axes, steps = found
        shape = node.site.shape
        if axes is None or shape is None or len(shape) != 3 or sorted(int(a) % 4 for a in axes) != [2, 3] \
                or (steps is not None and np.any(steps != 1)):
            raise Mismatch("Slice must cut rows and columns of a map (axes 2 and 3, step 1)")
        bounds = {int(a) % 4: (int(s), int(e)) for a, s, e in zip(axes, starts, ends)}
        return cls._widths([bounds[2], bounds[3]], shape[1:])

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`cropping`: n, (n_h, n_w) or ((top, bottom), (left, right))."""
        cropping = layer.config["cropping"]
        (top, bottom), (left, right) = ((p, p) if isinstance(p, int) else p
                                        for p in ([cropping] * 2 if isinstance(cropping, int) else cropping))
        return {"cropping": [whole(p) for p in (top, bottom, left, right)]}

    @staticmethod
    def _widths(runs: list[tuple[Any, Any]], sizes: tuple[int, ...]) -> dict[str, Any]:
        """The widths cut off when rows and columns [start, stop) of each axis are kept (None: an open end,
        negative: from the end)."""
        widths = []
        for (start, stop), n in zip(runs, sizes):
            low, high = (min(max(v + n if v < 0 else v, 0), n) for v in
                         (whole(start if start is not None else 0), whole(stop if stop is not None else n)))
            if low >= high:
                raise Mismatch("the crop keeps no row or column")
            widths += [low, n - high]
        return {"cropping": widths}

    def widths(self, inputs: list[Shape]) -> tuple[Pair, Pair]:
        """((top, bottom), (left, right)) cut off the first input."""
        _, h, w = spatial(inputs[0], "crop")
        if (self.cropping is None) == (len(inputs) == 1):
            raise ShapeError("crop needs exactly one of cropping and like: <layer>")
        if self.offset is not None and self.cropping is not None:
            raise ShapeError("offset places a crop to the size of like: <layer>; cropping says every width already")
        if self.cropping is not None:
            c = self.cropping
            return ((c[0], c[0]), (c[1], c[1])) if len(c) == 2 else ((c[0], c[1]), (c[2], c[3]))
        th, tw = _target(inputs, "crop")
        top, left = self.offset if self.offset is not None else ((h - th) // 2, (w - tw) // 2)
        if top + th > h or left + tw > w:
            at = f" at offset ({top}, {left})" if self.offset is not None else ""
            raise ShapeError(f"crop cannot cut {th}×{tw}{at} out of {h}×{w}")
        return (top, h - th - top), (left, w - tw - left)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, h, w = spatial(inputs[0], "crop")
        (top, bottom), (left, right) = self.widths(inputs)
        if top + bottom >= h or left + right >= w:
            raise ShapeError(f"cropping ({top}, {bottom}, {left}, {right}) leaves nothing of {h}×{w}")
        return (c, h - top - bottom, w - left - right)

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, AxisWindow]:
        (top, _), (left, _) = self.widths(inputs)
        return (AxisWindow(1, 1, -top), AxisWindow(1, 1, -left))

    def describe(self) -> str:
        if self.cropping is not None:
            return "(" + ", ".join(map(str, self.cropping)) + ")"
        return "like" if self.offset is None else f"like at ({self.offset[0]}, {self.offset[1]})"

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = inputs[0]
        (top, bottom), (left, right) = self.widths(inputs)
        return Arithmetic(output=f"({c}, {h} − {top} − {bottom}, {w} − {left} − {right}) = {format_shape(output)}",
                          params="0", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        (top, bottom), (left, right) = self.widths([tuple(a.shape[1:]) for a in inputs])
        h, w = inputs[0].shape[2:]
        return xp.ascontiguousarray(inputs[0][:, :, top:h - bottom, left:w - right])

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import crop

        return crop(self.widths(inputs), inputs[0][1:])

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        (top, bottom), (left, right) = self.widths(list(record.input_shapes))
        _, h, w = record.input_shapes[0]
        name = record.name
        graph.node("Slice", [record.inputs[0], graph.constant(f"{name}/starts", [top, left], "int64"),
                             graph.constant(f"{name}/ends", [h - bottom, w - right], "int64"),
                             graph.constant(f"{name}/axes", [2, 3], "int64")], name)
