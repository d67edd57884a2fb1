"""Layers that move data without arithmetic: input, identity, flatten, permute, zero padding,
channel shuffle and channel slice."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from ..arrays import kernels
from ..errors import ShapeError
from ..formulas import resolve_padding
from ..records import NonNegativeInt, PadWidths, PositiveInt
from .base import Arithmetic, AxisWindow, Layer, Shape, format_shape, numel, register, spatial
from .family import Family


@register
class Input(Layer):
    """The network input; its shape is the file's `input`."""

    type_name = "input"
    family = Family.DATA
    keras_name = "InputLayer"
    inputs_allowed = (0, 0)

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output="network input", params="0", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        """The executor hands the network input in as the only element of `inputs`."""
        return inputs[0]

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        return nn.Identity()


@register
class Identity(Layer):
    """Passes its input through unchanged (a view: no new tensor)."""

    type_name = "identity"
    family = Family.DATA
    keras_name = "Lambda"
    torch_name = "Identity"

    @property
    def allocates(self) -> bool:
        return False

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return inputs[0]

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("Identity", [record.inputs[0]], record.name)


@register
class Flatten(Layer):
    """(C, H, W) → (C·H·W,), a view in C order (as PyTorch and the lecture tables)."""

    type_name = "flatten"
    family = Family.DATA
    keras_name = "Flatten"
    torch_name = "Flatten"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        return (numel(inputs[0]),)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return inputs[0].reshape(inputs[0].shape[0], -1)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("Flatten", [record.inputs[0]], record.name, axis=1)

    @property
    def allocates(self) -> bool:
        return False

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, AxisWindow] | None:
        if len(inputs[0]) != 3:
            return None
        _, h, w = inputs[0]
        return (AxisWindow(h, h), AxisWindow(w, w))


@register
class Permute(Layer):
    """The axes of each sample in the order `dims` ((C, H, W) → (H, W, C) is `[1, 2, 0]`): where the
    layout matters, e.g. before a `flatten` that must read channels last as Keras does. A copy, so no
    receptive field is reported after it."""

    type_name = "permute"
    family = Family.DATA
    keras_name = "Permute"
    torch_name = "Permute"
    receptive_field_defined = False

    dims: Annotated[tuple[NonNegativeInt, ...], BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v)]

    def output_shape(self, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        if sorted(self.dims) != list(range(len(shape))):
            axes = ", ".join(str(a) for a in range(len(shape)))
            raise ShapeError(f"dims {list(self.dims)} is not an order of the input's axes {axes} "
                             f"(of {format_shape(shape)})")
        return tuple(shape[d] for d in self.dims)

    def describe(self) -> str:
        return "(" + ", ".join(str(d) for d in self.dims) + ")"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return xp.ascontiguousarray(xp.transpose(inputs[0], (0, *(d + 1 for d in self.dims))))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import permute

        return permute(self.dims)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("Transpose", [record.inputs[0]], record.name, perm=[0, *(d + 1 for d in self.dims)])


@register
class ZeroPad(Layer):
    """Zero padding of H and W (Keras `ZeroPadding2D`, PyTorch `ZeroPad2d`)."""

    type_name = "zeropad"
    family = Family.DATA
    keras_name = "ZeroPadding2D"
    torch_name = "ZeroPad2d"
    aliases = ("zeropad2d", "zeropadding2d")

    padding: PadWidths

    def pads(self, shape: Shape) -> tuple[tuple[int, int], tuple[int, int]]:
        _, h, w = spatial(shape, "zeropad")
        return resolve_padding(self.padding, (h, w), (1, 1), (1, 1))

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, h, w = spatial(inputs[0], "zeropad")
        (t, b), (left, right) = self.pads(inputs[0])
        return (c, h + t + b, w + left + right)

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, AxisWindow]:
        (t, _), (left, _) = self.pads(inputs[0])
        return (AxisWindow(1, 1, t), AxisWindow(1, 1, left))

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.pad2d(xp, inputs[0], self.pads(inputs[0].shape[1:]))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        (top, bottom), (left, right) = self.pads(inputs[0])
        return nn.ZeroPad2d((left, right, top, bottom))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        (top, bottom), (left, right) = self.pads(record.input_shapes[0])
        pads = graph.constant(f"{record.name}/pads", [0, 0, top, left, 0, 0, bottom, right], "int64")
        graph.node("Pad", [record.inputs[0], pads], record.name)


@register
class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle: (g, C/g) → (C/g, g) transpose of the channels."""

    type_name = "channelshuffle"
    family = Family.DATA
    keras_name = "Lambda"
    torch_name = "ChannelShuffle"
    torch_args = ("groups",)

    groups: PositiveInt

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if inputs[0][0] % self.groups:
            raise ShapeError(f"groups={self.groups} must divide the {inputs[0][0]} channels")
        return inputs[0]

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        n, c = x.shape[:2]
        grouped = x.reshape((n, self.groups, c // self.groups) + x.shape[2:])
        return xp.ascontiguousarray(xp.swapaxes(grouped, 1, 2)).reshape(x.shape)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        c, *rest = record.input_shapes[0]
        name = record.name
        split = graph.constant(f"{name}/split", [0, self.groups, c // self.groups, *rest], "int64")
        grouped = graph.node("Reshape", [record.inputs[0], split], f"{name}/grouped")
        swapped = graph.node("Transpose", [grouped], f"{name}/swapped", perm=[0, 2, 1, *range(3, len(rest) + 3)])
        graph.node("Reshape", [swapped, graph.constant(f"{name}/merge", [0, c, *rest], "int64")], name)


@register
class Slice(Layer):
    """Channels [start, end) of the input (ShuffleNet v2's channel split)."""

    type_name = "slice"
    family = Family.DATA
    keras_name = "Lambda"
    aliases = ("split",)

    start: NonNegativeInt = 0
    end: PositiveInt

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c = inputs[0][0]
        if not self.start < self.end <= c:
            raise ShapeError(f"channel slice [{self.start}, {self.end}) is outside 0..{c}")
        return (self.end - self.start, *inputs[0][1:])

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return xp.ascontiguousarray(inputs[0][:, self.start:self.end])

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import channel_slice

        return channel_slice(self.start, self.end)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        name = record.name
        inputs = [record.inputs[0], graph.constant(f"{name}/starts", [self.start], "int64"),
                  graph.constant(f"{name}/ends", [self.end], "int64"), graph.constant(f"{name}/axes", [1], "int64")]
        graph.node("Slice", inputs, name)
