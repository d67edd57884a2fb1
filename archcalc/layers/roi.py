"""RoIAlign, a two-stage detector's step from feature maps to one small map per region of interest: `roialign`.

Which RoIs a detector pools is data-dependent (its proposals, then its detections), and so is the FPN level
each reads. archcalc declares their number (`rois`) and, to run, a fixed set of boxes (`fixed_boxes`); the
counts depend on neither.
"""

from __future__ import annotations

from math import log2
from typing import Any

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


@register
class RoIAlign(Layer):
    """Pool `rois` regions of interest out of one or several (C, H_k, W_k) maps (FPN levels at `strides`)
    into (rois, C, h, w) (torchvision `roi_align`, `MultiScaleRoIAlign`; He et al. 2017): each of the h×w bins
    of a box is the mean of sampling_ratio² bilinear samples. No weights; 0 MACs counted (as the counting
    tools), its bilinear arithmetic stated. The RoIs and the level each reads are data-dependent: the counts
    take their number alone, the forward a fixed set of boxes (`fixed_boxes`). Later layers treat the RoIs
    as frames (`timedistributed`)."""

    type_name = "roialign"
    aliases = ("multiscaleroialign",)
    family = Family.DATA
    inputs_allowed = (1, MAX_LEVELS)
    receptive_field_defined = False     # a RoI covers any part of the image
    torch_form = TorchForm(modules=("FixedRoIAlign",),
                           arguments=("rois", "output_size", "sampling_ratio", "strides"))
    onnx_form = OnnxForm(ops=tuple(f"RoIAlign{k}" for k in range(1, MAX_LEVELS + 1)),   # functions archcalc writes
                         attributes=("rois", "output_size", "sampling_ratio", "strides"))

    rois: PositiveInt
    output_size: IntOrPair = (7, 7)
    sampling_ratio: PositiveInt = 2
    strides: list[PositiveInt] = [1]

    # --- shape ------------------------------------------------------------------------------
    def levels(self, inputs: list[Shape]) -> list[Shape]:
        """The (C, H, W) maps read, checked against `strides` and `rois`; a ShapeError otherwise."""
        maps = [spatial(shape, "roialign") for shape in inputs]
        if len(self.strides) != len(maps):
            raise ShapeError(f"roialign reads {len(maps)} level(s) but has {len(self.strides)} strides")
        if len({c for c, _, _ in maps}) > 1:
            raise ShapeError(f"roialign needs maps of one depth, got {', '.join(format_shape(s) for s in inputs)}")
        if any(b != 2 * a for a, b in zip(self.strides, self.strides[1:])) or \
                (len(maps) > 1 and 2 ** round(log2(self.strides[0])) != self.strides[0]):
            raise ShapeError(f"roialign's levels must be FPN levels, powers of two each twice the last "
                             f"(got strides {list(self.strides)})")
        if self.rois < len(maps):
            raise ShapeError(f"roialign needs at least one RoI per level ({len(maps)}), got rois {self.rois}")
        return maps

    def output_shape(self, inputs: list[Shape]) -> Shape:
        channels = self.levels(inputs)[0][0]
        return (self.rois, channels, *self.output_size)

    def describe(self) -> str:
        h, w = self.output_size
        return f"{self.rois} RoIs → {h}×{w}"

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

    # --- execution --------------------------------------------------------------------------
    def image(self, maps: list[Shape]) -> tuple[int, int]:
        """(H, W) of the image the first level's map was computed from."""
        return maps[0][-2] * self.strides[0], maps[0][-1] * self.strides[0]

    def matrices(self, maps: list[Shape]) -> list[tuple[Any, Any]]:
        """Per level, the (R_k, h, H_k) and (R_k, w, W_k) sampling matrices of its fixed boxes."""
        import numpy as np

        h, w = self.output_size
        found = []
        for boxes, (*_, height, width), stride in zip(fixed_boxes(self.rois, len(maps), self.image(maps)), maps,
                                                      self.strides):
            x1, y1, x2, y2 = (np.asarray(boxes, dtype=np.float64).reshape(-1, 4) / stride).T
            found.append((sampling_matrix(y1, y2 - y1, h, self.sampling_ratio, height),
                          sampling_matrix(x1, x2 - x1, w, self.sampling_ratio, width)))
        return found

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        pooled = []
        for x, (rows, cols) in zip(inputs, self.matrices([a.shape[1:] for a in inputs])):
            rows, cols = xp.asarray(rows, dtype=x.dtype), xp.asarray(cols, dtype=x.dtype)
            pooled.append(xp.einsum("rah,nchw,rbw->nrcab", rows, x, cols, optimize=True))
        return xp.ascontiguousarray(xp.concatenate(pooled, axis=1))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_code import Inputs
        from .torch_modules import FixedRoIAlign, M, TorchLayer

        levels, image = len(self.levels(inputs)), self.image(inputs)
        return TorchLayer(FixedRoIAlign(self.rois, tuple(self.output_size), self.sampling_ratio, list(self.strides),
                                        level_counts(self.rois, levels),
                                        [box_side(levels, k, image) for k in range(levels)]), M(Inputs()))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `RoIAlign<levels>`: per level, ONNX `RoiAlign` (output_half_pixel, torchvision's
        aligned=False) of its fixed boxes on the batch's maps laid side by side as channels, then the RoIs
        first and the batch put back in front."""
        maps = list(record.input_shapes)
        self.levels(maps)
        boxes = fixed_boxes(self.rois, len(maps), self.image(maps))
        channels, h, w = record.output_shape[1:]
        graph.call(lambda: _onnx_function(len(maps)), f"RoIAlign{len(maps)}", list(record.inputs), record.name,
                   rois=self.rois, output_size=list(self.output_size), sampling_ratio=self.sampling_ratio,
                   strides=list(self.strides), out_shape=[self.rois, -1, channels, h, w], height=h, width=w,
                   **{f"boxes{k}": [float(v) for box in level for v in box] for k, level in enumerate(boxes)},
                   **{f"count{k}": [len(level)] for k, level in enumerate(boxes)},
                   **{f"scale{k}": 1.0 / stride for k, stride in enumerate(self.strides)})


def _onnx_function(levels: int) -> Any:
    import numpy as np
    from onnx import numpy_helper

    from .onnx_nodes import function, ref

    zero = numpy_helper.from_array(np.zeros(1, dtype=np.int64), "zero")
    nodes: list[tuple] = [("Constant", [], "side_by_side", {"value_ints": [1, -1, 0, 0]}),
                          ("Constant", [], "box_shape", {"value_ints": [-1, 4]})]
    for k in range(levels):
        nodes += [
            ("Reshape", [f"x{k}", "side_by_side"], f"x{k}_flat", {}),
            ("Constant", [], f"boxes{k}_flat", {"value_floats": ref("floats", f"boxes{k}")}),
            ("Reshape", [f"boxes{k}_flat", "box_shape"], f"boxes{k}_xyxy", {}),
            ("Constant", [], f"count{k}_shape", {"value_ints": ref("ints", f"count{k}")}),
            ("ConstantOfShape", [f"count{k}_shape"], f"image{k}", {"value": zero}),
            ("RoiAlign", [f"x{k}_flat", f"boxes{k}_xyxy", f"image{k}"], f"pooled{k}",
             {"mode": "avg", "coordinate_transformation_mode": "output_half_pixel",
              "output_height": ref("int", "height"), "output_width": ref("int", "width"),
              "sampling_ratio": ref("int", "sampling_ratio"), "spatial_scale": ref("float", f"scale{k}")}),
        ]
    nodes += [("Concat", [f"pooled{k}" for k in range(levels)], "pooled", {"axis": 0}),
              ("Constant", [], "out_shape", {"value_ints": ref("ints", "out_shape")}),
              ("Reshape", ["pooled", "out_shape"], "rois_first", {}),
              ("Transpose", ["rois_first"], "y", {"perm": [1, 0, 2, 3, 4]})]
    return function(f"RoIAlign{levels}", [f"x{k}" for k in range(levels)], ["y"], nodes,
                    ["rois", "output_size", "sampling_ratio", "strides", "out_shape", "height", "width",
                     *(f"{what}{k}" for k in range(levels) for what in ("boxes", "count", "scale"))])
