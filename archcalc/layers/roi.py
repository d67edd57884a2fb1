"""A two-stage detector's step from feature maps to one small map per region of interest: `roialign` (Mask
R-CNN's bilinear sampling, torchvision's Faster R-CNN) and `roipool` (Fast R-CNN's max over quantised bins).

Which RoIs a detector pools is data-dependent (its proposals, then its detections), and so is the FPN level
each reads. archcalc declares their number (`rois`) and, to run, a fixed set of boxes (`fixed_boxes`); the
counts depend on neither.
"""

from __future__ import annotations

from math import log2
from typing import Any, ClassVar

from ..errors import ShapeError
from ..records import IntOrPair, PositiveInt
from .base import Arithmetic, Layer, Shape, format_shape, register, spatial
from .family import Family
from .foreign import OnnxForm, TorchForm

#: The most levels a `roialign` reads (its ONNX function is written per number of levels: `RoIAlign4`).
MAX_LEVELS = 8
#: The golden-ratio steps that spread each level's boxes over the image (x, then y).
SPREAD = (0.6180339887498949, 0.7548776662466927)


def level_counts(rois: int, levels: int) -> list[int]:
    """How many of the fixed RoIs each level reads: equal shares, the first levels one more."""
    return [rois // levels + (1 if k < rois % levels else 0) for k in range(levels)]


def box_side(levels: int, k: int, image: tuple[int, int]) -> float:
    """The side of level k's fixed boxes (of L levels) on an (H, W) image: ¾·min(H, W)/2^(L−1−k)."""
    return 0.75 * min(image) / 2 ** (levels - 1 - k)


def fixed_boxes(rois: int, levels: int, image: tuple[int, int]) -> list[list[tuple[float, float, float, float]]]:
    """The documented box set, per level: level k of L holds its share of the RoIs (`level_counts`), each a
    square of side ¾·min(H, W)/2^(L−1−k) of the (H, W) image, its j-th placed at (u·(W − side), v·(H − side)),
    u and v the fractional parts of (j + 1)·0.618… and (j + 1)·0.754… . On an 800-pixel image each square
    falls in its own level by torchvision's rule (k = ⌊4 + log2(√area / 224)⌋, levels 2 … 5)."""
    height, width = image
    boxes = []
    for k, count in enumerate(level_counts(rois, levels)):
        side = box_side(levels, k, image)
        level = []
        for j in range(count):
            u, v = (((j + 1) * step) % 1.0 for step in SPREAD)
            x1, y1 = u * (width - side), v * (height - side)
            level.append((x1, y1, x1 + side, y1 + side))
        boxes.append(level)
    return boxes


def sampling_matrix(starts: Any, sizes: Any, bins: int, ratio: int, n: int) -> Any:
    """(B, bins, n): for each box b starting at `starts[b]` and `sizes[b]` long along one axis (in map pixels),
    how much each of the n input positions weighs in each bin's mean of `ratio` bilinear samples —
    torchvision's `roi_align` (aligned=False): the box at least 1 long, sample i of bin p at
    start + (p + (i + ½)/ratio)·size/bins, a sample beyond [−1, n] weighing nothing, one below 0 read at 0,
    one past n − 1 at n − 1."""
    import numpy as np

    sizes = np.maximum(np.asarray(sizes, dtype=np.float64), 1.0)
    offsets = np.arange(bins)[:, None] + (np.arange(ratio)[None, :] + 0.5) / ratio          # (bins, ratio)
    at = np.asarray(starts, dtype=np.float64)[:, None, None] + offsets[None] * (sizes / bins)[:, None, None]
    inside = (at >= -1.0) & (at <= n)
    at = np.maximum(at, 0.0)
    low = np.minimum(np.floor(at).astype(np.int64), n - 1)
    high = np.minimum(low + 1, n - 1)
    frac = np.where(low >= n - 1, 0.0, at - low)
    weights = np.zeros((len(at), bins, n))
    b, p, _ = np.indices(at.shape)
    np.add.at(weights, (b, p, low), np.where(inside, 1 - frac, 0.0) / ratio)
    np.add.at(weights, (b, p, high), np.where(inside, frac, 0.0) / ratio)
    return weights


def pool_bins(starts: Any, ends: Any, bins: int, n: int) -> Any:
    """(B, bins, n) booleans: which of the n input positions each bin of each box (from `starts[b]` to `ends[b]`,
    in map pixels) takes its maximum over — torchvision's `roi_pool`: the box's ends rounded (halves away from
    0) and made at least 1 long inclusive of both, bin p from ⌊p·len/bins⌋ to ⌈(p + 1)·len/bins⌉, clipped to
    the map."""
    import numpy as np

    low = np.floor(np.asarray(starts, dtype=np.float64) + 0.5).astype(np.int64)
    length = np.maximum(np.floor(np.asarray(ends, dtype=np.float64) + 0.5).astype(np.int64) - low + 1, 1)
    size = length[:, None] / bins
    p = np.arange(bins)[None, :]
    first = np.clip(np.floor(p * size).astype(np.int64) + low[:, None], 0, n)
    last = np.clip(np.ceil((p + 1) * size).astype(np.int64) + low[:, None], 0, n)
    positions = np.arange(n)[None, None, :]
    return (positions >= first[:, :, None]) & (positions < last[:, :, None])


class RoIPooling(Layer):
    """What RoIAlign and RoIPool share: `rois` regions of interest of one or several (C, H_k, W_k) maps (FPN
    levels at `strides`) pooled to (rois, C, h, w); no weights, no MACs counted; the RoIs and the level each
    reads are data-dependent, so the counts take their number alone and the forward a fixed set of boxes
    (`fixed_boxes`). Later layers treat the RoIs as frames (`timedistributed`)."""

    family = Family.DATA
    inputs_allowed = (1, MAX_LEVELS)
    receptive_field_defined = False     # a RoI covers any part of the image
    #: How many spatial axes its maps have after their channels (`output_size` is one size per axis).
    spatial_axes: ClassVar[int] = 2

    rois: PositiveInt
    output_size: IntOrPair = (7, 7)
    strides: list[PositiveInt] = [1]

    def levels(self, inputs: list[Shape]) -> list[Shape]:
        """The (C, H, W) maps read, checked against `strides` and `rois`; a ShapeError otherwise."""
        who = self.type_name
        maps = [spatial(shape, who) for shape in inputs]
        if len(self.strides) != len(maps):
            raise ShapeError(f"{who} reads {len(maps)} level(s) but has {len(self.strides)} strides")
        if len({c for c, _, _ in maps}) > 1:
            raise ShapeError(f"{who} needs maps of one depth, got {', '.join(format_shape(s) for s in inputs)}")
        if any(b != 2 * a for a, b in zip(self.strides, self.strides[1:])) or \
                (len(maps) > 1 and 2 ** round(log2(self.strides[0])) != self.strides[0]):
            raise ShapeError(f"{who}'s levels must be FPN levels, powers of two each twice the last "
                             f"(got strides {list(self.strides)})")
        if self.rois < len(maps):
            raise ShapeError(f"{who} needs at least one RoI per level ({len(maps)}), got rois {self.rois}")
        return maps

    def output_shape(self, inputs: list[Shape]) -> Shape:
        channels = self.levels(inputs)[0][0]
        return (self.rois, channels, *self.output_size)

    def describe(self) -> str:
        h, w = self.output_size
        return f"{self.rois} RoIs → {h}×{w}"

    def image(self, maps: list[Shape]) -> tuple[int, int]:
        """(H, W) of the image the first level's map was computed from."""
        return maps[0][-2] * self.strides[0], maps[0][-1] * self.strides[0]

    def boxes(self, maps: list[Shape]) -> list[Any]:
        """Per level, its fixed boxes in its map's pixels: an (R_k, 4) array of x1, y1, x2, y2."""
        import numpy as np

        return [np.asarray(boxes, dtype=np.float64).reshape(-1, 4) / stride
                for boxes, stride in zip(fixed_boxes(self.rois, len(maps), self.image(maps)), self.strides)]

    def torch_arguments(self, inputs: list[Shape]) -> tuple[list[int], list[float]]:
        """The fixed boxes as the PyTorch modules take them: the RoIs of each level and their side."""
        levels, image = len(self.levels(inputs)), self.image(inputs)
        return level_counts(self.rois, levels), [box_side(levels, k, image) for k in range(levels)]

    def onnx_call(self, graph: Any, record: Any, op: str, with_index: bool, **attributes: Any) -> None:
        """A call of the function `<op><levels>`: per level, the ONNX `op` (`RoiAlign`, `MaxRoiPool`) of its
        fixed boxes on the batch's maps laid side by side as channels, then the RoIs first and the batch put
        back in front."""
        maps = list(record.input_shapes)
        self.levels(maps)
        boxes = fixed_boxes(self.rois, len(maps), self.image(maps))
        channels, h, w = record.output_shape[1:]
        graph.call(lambda: _onnx_function(op, len(maps), with_index), f"{self.onnx_form.ops[0][:-1]}{len(maps)}",
                   list(record.inputs), record.name, rois=self.rois, output_size=list(self.output_size),
                   strides=list(self.strides), out_shape=[self.rois, -1, channels, h, w], height=h, width=w,
                   **{f"boxes{k}": [float(v) for box in level for v in ((0, *box) if with_index else box)]
                      for k, level in enumerate(boxes)},
                   **{f"count{k}": [len(level)] for k, level in enumerate(boxes)},
                   **{f"scale{k}": 1.0 / stride for k, stride in enumerate(self.strides)}, **attributes)


@register
class RoIAlign(RoIPooling):
    """Pool `rois` regions of interest out of one or several (C, H_k, W_k) maps (FPN levels at `strides`)
    into (rois, C, h, w) (torchvision `roi_align`, `MultiScaleRoIAlign`; He et al. 2017): each of the h×w bins
    of a box is the mean of sampling_ratio² bilinear samples. No weights; 0 MACs counted (as the counting
    tools), its bilinear arithmetic stated."""

    type_name = "roialign"
    aliases = ("multiscaleroialign",)
    torch_form = TorchForm(modules=("FixedRoIAlign",),
                           arguments=("rois", "output_size", "sampling_ratio", "strides"))
    onnx_form = OnnxForm(ops=tuple(f"RoIAlign{k}" for k in range(1, MAX_LEVELS + 1)),   # functions archcalc writes
                         attributes=("rois", "output_size", "sampling_ratio", "strides"))

    sampling_ratio: PositiveInt = 2

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        r, c, h, w = output
        s = self.sampling_ratio
        samples = r * c * h * w * s * s
        levels = f" from {len(inputs)} levels" if len(inputs) > 1 else ""
        return Arithmetic(
            output=f"({r} RoIs, {c}, {h}, {w}){levels}", params="0",
            macs=f"0 counted (no weights; the counting tools count none); sampling: {r}·{c}·{h}·{w} bins × "
                 f"{s}×{s} samples = {samples:,} bilinear samples, 4 multiply-adds each ({4 * samples:,}), and a "
                 f"mean per bin; not counted: which RoIs (proposals, detections) and which level each reads "
                 f"(⌊4 + log2(√area / 224)⌋), both data-dependent")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        (h, w), pooled = self.output_size, []
        for x, (x1, y1, x2, y2) in zip(inputs, (box.T for box in self.boxes([a.shape[1:] for a in inputs]))):
            rows = xp.asarray(sampling_matrix(y1, y2 - y1, h, self.sampling_ratio, x.shape[2]), dtype=x.dtype)
            cols = xp.asarray(sampling_matrix(x1, x2 - x1, w, self.sampling_ratio, x.shape[3]), dtype=x.dtype)
            pooled.append(xp.einsum("rah,nchw,rbw->nrcab", rows, x, cols, optimize=True))
        return xp.ascontiguousarray(xp.concatenate(pooled, axis=1))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_code import Inputs
        from .torch_modules import FixedRoIAlign, M, TorchLayer

        counts, sides = self.torch_arguments(inputs)
        return TorchLayer(FixedRoIAlign(self.rois, tuple(self.output_size), self.sampling_ratio, list(self.strides),
                                        counts, sides), M(Inputs()))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """ONNX `RoiAlign` per level (output_half_pixel: torchvision's aligned=False)."""
        self.onnx_call(graph, record, "RoiAlign", False, sampling_ratio=self.sampling_ratio)


@register
class RoIPool(RoIPooling):
    """Pool `rois` regions of interest out of one or several (C, H_k, W_k) maps into (rois, C, h, w) by the
    maximum of each bin (torchvision `roi_pool`; Fast R-CNN, Girshick 2015): the box's ends rounded to map
    pixels, each bin's rows and columns rounded outwards, an empty bin 0. No weights, no MACs (comparisons)."""

    type_name = "roipool"
    torch_form = TorchForm(modules=("FixedRoIPool",), arguments=("rois", "output_size", "strides"))
    onnx_form = OnnxForm(ops=tuple(f"RoIPool{k}" for k in range(1, MAX_LEVELS + 1)),   # functions archcalc writes
                         attributes=("rois", "output_size", "strides"))

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        r, c, h, w = output
        levels = f" from {len(inputs)} levels" if len(inputs) > 1 else ""
        return Arithmetic(output=f"({r} RoIs, {c}, {h}, {w}){levels}", params="0",
                          macs=f"0 (the maximum of each of the {r}·{c}·{h}·{w} = {r * c * h * w:,} bins: comparisons); "
                               "not counted: which RoIs (proposals) and which level each reads, data-dependent")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        (h, w), pooled = self.output_size, []
        for x, (x1, y1, x2, y2) in zip(inputs, (box.T for box in self.boxes([a.shape[1:] for a in inputs]))):
            rows, cols = xp.asarray(pool_bins(y1, y2, h, x.shape[2])), xp.asarray(pool_bins(x1, x2, w, x.shape[3]))
            lowest = xp.asarray(-xp.inf, dtype=x.dtype)
            across = xp.where(cols[None, :, None, None], x[:, None, :, :, None, :], lowest).max(axis=-1)
            found = xp.where(rows[None, :, None, :, :, None], across[:, :, :, None], lowest).max(axis=4)
            pooled.append(xp.where(xp.isinf(found), 0, found).astype(x.dtype))
        return xp.ascontiguousarray(xp.concatenate(pooled, axis=1))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_code import Inputs
        from .torch_modules import FixedRoIPool, M, TorchLayer

        counts, sides = self.torch_arguments(inputs)
        return TorchLayer(FixedRoIPool(self.rois, tuple(self.output_size), list(self.strides), counts, sides),
                          M(Inputs()))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """ONNX `MaxRoiPool` per level."""
        self.onnx_call(graph, record, "MaxRoiPool", True)


def _onnx_function(op: str, levels: int, with_index: bool) -> Any:
    import numpy as np
    from onnx import numpy_helper

    from .onnx_nodes import function, ref

    zero = numpy_helper.from_array(np.zeros(1, dtype=np.int64), "zero")
    nodes: list[tuple] = [("Constant", [], "side_by_side", {"value_ints": [1, -1, 0, 0]}),
                          ("Constant", [], "box_shape", {"value_ints": [-1, 5 if with_index else 4]})]
    for k in range(levels):
        if with_index:     # MaxRoiPool: each box (batch index, x1, y1, x2, y2)
            how = {"pooled_shape": ref("ints", "output_size"), "spatial_scale": ref("float", f"scale{k}")}
            inputs = [f"x{k}_flat", f"boxes{k}_xyxy"]
        else:              # RoiAlign: boxes (x1, y1, x2, y2) and their batch indices
            how = {"mode": "avg", "coordinate_transformation_mode": "output_half_pixel",
                   "output_height": ref("int", "height"), "output_width": ref("int", "width"),
                   "sampling_ratio": ref("int", "sampling_ratio"), "spatial_scale": ref("float", f"scale{k}")}
            inputs = [f"x{k}_flat", f"boxes{k}_xyxy", f"image{k}"]
            nodes += [("Constant", [], f"count{k}_shape", {"value_ints": ref("ints", f"count{k}")}),
                      ("ConstantOfShape", [f"count{k}_shape"], f"image{k}", {"value": zero})]
        nodes += [
            ("Reshape", [f"x{k}", "side_by_side"], f"x{k}_flat", {}),
            ("Constant", [], f"boxes{k}_flat", {"value_floats": ref("floats", f"boxes{k}")}),
            ("Reshape", [f"boxes{k}_flat", "box_shape"], f"boxes{k}_xyxy", {}),
            (op, inputs, f"pooled{k}", how),
        ]
    nodes += [("Concat", [f"pooled{k}" for k in range(levels)], "pooled", {"axis": 0}),
              ("Constant", [], "out_shape", {"value_ints": ref("ints", "out_shape")}),
              ("Reshape", ["pooled", "out_shape"], "rois_first", {}),
              ("Transpose", ["rois_first"], "y", {"perm": [1, 0, 2, 3, 4]})]
    name = ("RoIPool" if with_index else "RoIAlign") + str(levels)
    return function(name, [f"x{k}" for k in range(levels)], ["y"], nodes,
                    ["rois", "output_size", "strides", "out_shape", "height", "width",
                     *(["sampling_ratio"] if not with_index else []),
                     *(f"{what}{k}" for k in range(levels) for what in ("boxes", "count", "scale"))])
