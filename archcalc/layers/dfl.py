"""The output of an anchor-free YOLO detection head (Ultralytics' `Detect` at inference): `dfl`."""

from __future__ import annotations

from typing import Any

from ..errors import ShapeError
from ..records import PositiveInt
from .base import Arithmetic, Layer, Param, Shape, format_shape, register, spatial
from .family import Family
from .foreign import TorchForm


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
    inputs_allowed = (1, None)
    receptive_field_defined = False   # anchors of several levels side by side
    torch_form = TorchForm(modules=("DFLDecode",), arguments=("reg_max", "strides"))

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

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        n, boxes = inputs[0].shape[0], 4 * self.reg_max
        flat = xp.concatenate([x.reshape(n, x.shape[1], -1) for x in inputs], axis=2)
        logits = flat[:, :boxes].reshape(n, 4, self.reg_max, -1)
        logits = xp.exp(logits - logits.max(axis=2, keepdims=True))
        distances = xp.einsum("nsra,r->nsa", logits / logits.sum(axis=2, keepdims=True),
                              params["weight"].reshape(-1))
        centres, strides = [], []
        for x, stride in zip(inputs, self.strides):
            h, w = x.shape[2:]
            ys, xs = xp.meshgrid(xp.arange(h) + 0.5, xp.arange(w) + 0.5, indexing="ij")
            centres.append(xp.stack([xs.reshape(-1), ys.reshape(-1)]))
            strides.append(xp.full(h * w, float(stride)))
        centre, stride = xp.concatenate(centres, axis=1), xp.concatenate(strides)
        low, high = centre - distances[:, :2], centre + distances[:, 2:]
        box = xp.concatenate([(low + high) / 2, high - low], axis=1) * stride
        scores = 1 / (1 + xp.exp(-flat[:, boxes:]))
        return xp.concatenate([box, scores], axis=1)[:, :, None, :]

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_code import Inputs
        from .torch_modules import DFLDecode, M, TorchLayer

        return TorchLayer(DFLDecode(self.reg_max, list(self.strides)), M(Inputs()))
