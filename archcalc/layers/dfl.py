"""The output of an anchor-free YOLO detection head (Ultralytics' `Detect` at inference): `dfl`."""

from __future__ import annotations

from typing import Any

from ..arrays import kernels
from ..errors import ShapeError
from ..records import PositiveInt
from .base import Arithmetic, Layer, Param, Shape, format_shape, register, spatial
from .family import Family
from .foreign import OnnxForm, TorchForm

#: The most levels a `dfl` reads (its ONNX function is written per number of levels: `DFLDecode3`).
MAX_LEVELS = 8


@register
class DFL(Layer):
    """The boxes and class scores of every anchor of every level (YOLOv8, YOLO11). Each input is one
    level's (4·reg_max + classes, H_i, W_i) map; the A = Σ H_i·W_i anchors are laid side by side. Each
    box side's reg_max logits become a distribution (softmax) whose expectation, a 1×1 convolution with
    the weights 0 … reg_max − 1 (the distribution focal loss integral, reg_max parameters, which
    Ultralytics never trains: `trainable: false`), is the
    side's distance from the anchor's centre in stride units; the distances become a centre, width and
    height times the level's stride, and the class logits pass through a sigmoid. Output (4 + classes, 1, A);
    MACs those of the convolution, 4·A·reg_max."""

    type_name = "dfl"
    family = Family.CONV
    inputs_allowed = (1, MAX_LEVELS)
    receptive_field_defined = False   # anchors of several levels side by side
    torch_form = TorchForm(modules=("DFLDecode",), arguments=("reg_max", "strides"))
    onnx_form = OnnxForm(ops=tuple(f"DFLDecode{k}" for k in range(1, MAX_LEVELS + 1)),   # functions archcalc writes
                         attributes=("reg_max", "strides"))

    reg_max: PositiveInt = 16
    strides: list[PositiveInt]

    def output_shape(self, inputs: list[Shape]) -> Shape:
        maps = [spatial(shape, "dfl") for shape in inputs]
        if len(self.strides) != len(maps):
            raise ShapeError(f"dfl reads {len(maps)} level(s) but has {len(self.strides)} strides")
        channels = {c for c, _, _ in maps}
        if len(channels) > 1 or min(channels) <= 4 * self.reg_max:
            raise ShapeError(f"dfl needs maps of one depth above 4·reg_max = {4 * self.reg_max}, got "
                             f"{', '.join(format_shape(s) for s in inputs)}")
        return (channels.pop() - 4 * self.reg_max + 4, 1, sum(h * w for _, h, w in maps))

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return [Param("weight", (1, self.reg_max, 1, 1), "weight")]

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return 4 * output[2] * self.reg_max

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output=format_shape(output), params=f"{self.reg_max} (0 … {self.reg_max - 1})",
                          macs=f"4 × {output[2]:,} anchors × {self.reg_max} = {self.macs(inputs, output):,}")

    def describe(self) -> str:
        return f"reg_max {self.reg_max}"

    def anchors(self, xp: Any, shapes: list[Shape]) -> tuple[Any, Any]:
        """Every anchor's centre (2, A: x then y, in its level's cells) and its level's stride (A,)."""
        centres, strides = [], []
        for (_, h, w), stride in zip(shapes, self.strides):
            ys, xs = xp.meshgrid(xp.arange(h) + 0.5, xp.arange(w) + 0.5, indexing="ij")
            centres.append(xp.stack([xs.reshape(-1), ys.reshape(-1)]))
            strides.append(xp.full(h * w, float(stride)))
        return xp.concatenate(centres, axis=1), xp.concatenate(strides)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        n, boxes = inputs[0].shape[0], 4 * self.reg_max
        flat = xp.concatenate([x.reshape(n, x.shape[1], -1) for x in inputs], axis=2)
        bins = kernels.softmax(xp, flat[:, :boxes].reshape(n, 4, self.reg_max, -1), axis=2)
        distances = xp.einsum("nsra,r->nsa", bins, params["weight"].reshape(-1))
        centre, stride = self.anchors(xp, [x.shape[1:] for x in inputs])
        low, high = centre - distances[:, :2], centre + distances[:, 2:]
        box = xp.concatenate([(low + high) / 2, high - low], axis=1) * stride
        scores = 1 / (1 + xp.exp(-flat[:, boxes:]))
        return xp.concatenate([box, scores], axis=1)[:, :, None, :]

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_code import Inputs
        from .torch_modules import DFLDecode, M, TorchLayer

        return TorchLayer(DFLDecode(self.reg_max, list(self.strides)), M(Inputs()))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `DFLDecode<levels>`, the anchors' centres and strides its attributes."""
        import numpy as np

        levels, r = len(record.inputs), self.reg_max
        centres, strides = self.anchors(np, list(record.input_shapes))
        channels = record.input_shapes[0][0]
        graph.call(lambda: _onnx_function(levels), f"DFLDecode{levels}",
                   [*record.inputs, graph.weight(record, "weight")], record.name,
                   reg_max=r, strides=list(self.strides), split=[4 * r, channels - 4 * r],
                   bins_shape=[0, 4, r, -1], anchors=[float(v) for v in centres.reshape(-1)],
                   anchor_strides=[float(v) for v in strides])


def _onnx_function(levels: int) -> Any:
    from .onnx_nodes import function, ref

    maps = [f"x{k}" for k in range(levels)]
    ints = lambda values: {"value_ints": values}  # noqa: E731
    return function(f"DFLDecode{levels}", [*maps, "weight"], ["y"], [
        ("Constant", [], "flat_shape", ints([0, 0, -1])),
        *(("Reshape", [x, "flat_shape"], f"{x}_flat", {}) for x in maps),
        ("Concat", [f"{x}_flat" for x in maps], "flat", {"axis": 2}),
        ("Constant", [], "split", {"value_ints": ref("ints", "split")}),
        ("Split", ["flat", "split"], ["box", "cls"], {"axis": 1}),
        ("Constant", [], "bins_shape", {"value_ints": ref("ints", "bins_shape")}),
        ("Reshape", ["box", "bins_shape"], "bins", {}),
        ("Transpose", ["bins"], "bins_first", {"perm": [0, 2, 1, 3]}),
        ("Softmax", ["bins_first"], "probabilities", {"axis": 1}),
        ("Conv", ["probabilities", "weight"], "expectation", {}),
        ("Constant", [], "side_shape", ints([0, 4, -1])),
        ("Reshape", ["expectation", "side_shape"], "distances", {}),
        ("Constant", [], "halves", ints([2, 2])),
        ("Split", ["distances", "halves"], ["before", "after"], {"axis": 1}),
        ("Constant", [], "anchor_values", {"value_floats": ref("floats", "anchors")}),
        ("Constant", [], "anchor_shape", ints([2, -1])),
        ("Reshape", ["anchor_values", "anchor_shape"], "anchors", {}),
        ("Sub", ["anchors", "before"], "low", {}), ("Add", ["anchors", "after"], "high", {}),
        ("Add", ["low", "high"], "twice_centre", {}), ("Constant", [], "two", {"value_float": 2.0}),
        ("Div", ["twice_centre", "two"], "centre", {}), ("Sub", ["high", "low"], "size", {}),
        ("Concat", ["centre", "size"], "in_strides", {"axis": 1}),
        ("Constant", [], "stride", {"value_floats": ref("floats", "anchor_strides")}),
        ("Mul", ["in_strides", "stride"], "boxes", {}), ("Sigmoid", ["cls"], "scores", {}),
        ("Concat", ["boxes", "scores"], "flat_out", {"axis": 1}),
        ("Constant", [], "axis", ints([2])), ("Unsqueeze", ["flat_out", "axis"], "y", {}),
    ], ["reg_max", "strides", "split", "bins_shape", "anchors", "anchor_strides"])
