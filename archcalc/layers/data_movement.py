"""Layers that move data without arithmetic: input, identity, flatten, reshape, permute, zero padding,
channel shuffle, channel slice, pixel shuffle and space-to-depth."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator

from ..arrays import kernels
from ..errors import ShapeError
from ..formulas import resolve_padding
from ..records import Int, NonNegativeInt, PadWidths, PadWidthsSingle, PadWidthsTriple, PositiveInt
from .base import Arithmetic, AxisWindow, Layer, Shape, format_shape, numel, register, spatial
from .family import Family
from .foreign import KerasForm, KerasLayer, Mismatch, OnnxForm, OnnxNode, TorchCall, TorchForm, whole


def whole_map(inputs: list[Shape]) -> tuple[AxisWindow, ...] | None:
    """The window of a layer that lays its input's values out anew (`flatten`, `reshape`): the whole map
    ((H, H) × (W, W); every axis of a signal or a clip); None for a vector, whose field passes through."""
    if len(inputs[0]) < 2:
        return None
    return tuple(AxisWindow(n, n) for n in inputs[0][1:])


@register
class Input(Layer):
    """The network input; its shape is the file's `input`."""

    type_name = "input"
    family = Family.DATA
    keras_form = KerasForm(classes=("InputLayer",))
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
    identity_at_inference = True
    positionwise = True
    torch_form = TorchForm(modules=("Identity",), functions=("contiguous", "clone", "identity"))
    onnx_form = OnnxForm(ops=("Identity",))
    keras_form = KerasForm(summary="Lambda")

    @classmethod
    def from_torch(cls, call: TorchCall) -> None:
        """The value passes through: no layer."""
        return None

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> None:
        return None

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
    torch_form = TorchForm(modules=("Flatten",), functions=("flatten",), arguments=("start_dim", "end_dim"))
    onnx_form = OnnxForm(ops=("Flatten",))
    keras_form = KerasForm(classes=("Flatten",))

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """Every axis but the batch's: `nn.Flatten()`, `torch.flatten(x, 1)`."""
        names = cls.torch_form.arguments
        module = call.module
        start = module.start_dim if module is not None else call.argument(names, "start_dim", 0)
        end = module.end_dim if module is not None else call.argument(names, "end_dim", -1)
        if (start, end) != (1, -1):
            raise Mismatch("flatten must keep the batch axis and flatten the rest (start_dim=1)")
        return {}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        if node.attributes.get("axis", 1) != 1:
            raise Mismatch("Flatten must keep the batch axis (axis=1)")
        return {}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        return (numel(inputs[0]),)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return inputs[0].reshape(inputs[0].shape[0], -1)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("Flatten", [record.inputs[0]], record.name, axis=1)

    @property
    def allocates(self) -> bool:
        return False

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...] | None:
        return whole_map(inputs)


@register
class Reshape(Layer):
    """Each sample's values in C order laid out as `shape` (one entry may be −1: the rest), a view as
    PyTorch's `x.view(N, *shape)`: a detector's 1,470 outputs as YOLO's 30 × 7 × 7 grid. No parameters,
    no MACs; from a vector the receptive field passes through, from a map it becomes the whole map."""

    type_name = "reshape"
    family = Family.DATA
    torch_form = TorchForm(modules=("Unflatten",), functions=("unflatten",),   # and `x.view(N, ...)`,
                           arguments=("dim", "unflattened_size"))              # `x.reshape(N, ...)`: an idiom
    onnx_form = OnnxForm(ops=("Reshape",))           # of a map an idiom's first step, else this type
    keras_form = KerasForm(summary="Lambda")         # Keras' Reshape lays maps out channels last: no form of it

    shape: Annotated[tuple[Int, ...], BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v)]

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.Unflatten(1, sizes)`, `x.unflatten(1, sizes)`: the first axis after the batch's laid out as
        `sizes`, the rest kept."""
        names = cls.torch_form.arguments
        module = call.module
        dim = module.dim if module is not None else call.argument(names, "dim")
        sizes = module.unflattened_size if module is not None else call.argument(names, "unflattened_size")
        if dim != 1:
            raise Mismatch("unflatten must keep the batch axis (dim=1)")
        if call.site.shape is None:
            raise Mismatch("the shape of the map unflattened is unknown")
        return {"shape": [*(whole(s) for s in sizes), *call.site.shape[1:]]}

    def resolved(self, shape: Shape) -> Shape:
        """`shape` with its −1 worked out for an input of `shape`'s element count; a ShapeError if impossible."""
        count, written = numel(shape), format_shape(self.shape)
        if not self.shape or any(s == 0 or s < -1 for s in self.shape) or list(self.shape).count(-1) > 1:
            raise ShapeError(f"shape {written} must be sizes of at least 1, one of them −1 at most")
        known = numel(tuple(s for s in self.shape if s != -1))
        if -1 in self.shape:
            if count % known:
                raise ShapeError(f"the {count} values of {format_shape(shape)} do not fill {written}: "
                                 f"{count} is not a multiple of {known}")
            return tuple(count // known if s == -1 else s for s in self.shape)
        if known != count:
            raise ShapeError(f"the {count} values of {format_shape(shape)} cannot be laid out as {written} "
                             f"({known} values)")
        return self.shape

    def output_shape(self, inputs: list[Shape]) -> Shape:
        return self.resolved(inputs[0])

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output=f"{'·'.join(map(str, inputs[0]))} = {'·'.join(map(str, output))} = "
                                 f"{numel(output)} values", params="0", macs="0")

    def describe(self) -> str:
        return "→ " + "×".join("−1" if s == -1 else str(s) for s in self.shape)

    @property
    def allocates(self) -> bool:
        return False

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...] | None:
        return whole_map(inputs)

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        return x.reshape(x.shape[0], *self.resolved(x.shape[1:]))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import reshape

        return reshape(self.resolved(inputs[0]))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """`Reshape` to (N, *shape): the batch axis copied (0), the rest as worked out."""
        target = graph.constant(f"{record.name}/shape", [0, *self.resolved(record.input_shapes[0])], "int64")
        graph.node("Reshape", [record.inputs[0], target], record.name)


@register
class Permute(Layer):
    """The axes of each sample in the order `dims` ((C, H, W) → (H, W, C) is `[1, 2, 0]`): where the
    layout matters, e.g. before a `flatten` that must read channels last as Keras does. A copy, so no
    receptive field is reported after it."""

    type_name = "permute"
    family = Family.DATA
    torch_form = TorchForm(modules=("Permute",), functions=("permute",), arguments=("dims",))
    onnx_form = OnnxForm(ops=("Transpose",))
    keras_form = KerasForm(summary="Permute")
    receptive_field_defined = False

    dims: Annotated[tuple[NonNegativeInt, ...], BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v)]

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """torchvision's `Permute(dims)`, `x.permute(0, 2, 3, 1)`, `x.permute(dims)`, `torch.permute(x, dims)`."""
        if call.module is not None:
            return cls._per_sample(call.module.dims)
        rest = call.args[1:]
        dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest or call.kwargs.get("dims")
        return cls._per_sample(dims)

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        return cls._per_sample(node.attributes.get("perm"))

    @staticmethod
    def _per_sample(dims: Any) -> dict[str, Any]:
        """A framework's permutation of (N, ...) as archcalc's of one sample; it must keep the batch axis first."""
        try:
            dims = [whole(d) % len(dims) for d in dims]
        except (ValueError, TypeError):
            raise Mismatch(f"the permutation {dims!r} is not a list of axes") from None
        if not dims or dims[0] != 0 or sorted(dims) != list(range(len(dims))):
            raise Mismatch(f"the permutation {dims} must keep the batch axis first")
        return {"dims": [d - 1 for d in dims[1:]]}

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
    """Zero padding of H and W (Keras `ZeroPadding2D`, PyTorch `ZeroPad2d`); `zeropad1d` and `zeropad3d` are
    the same class over (C, L) and (C, T, H, W)."""

    type_name = "zeropad"
    family = Family.DATA
    aliases = ("zeropad2d", "zeropadding2d")
    torch_form = TorchForm(modules=("ZeroPad2d", "ConstantPad2d"), functions=("pad",),
                           arguments=("pad", "mode", "value"))
    onnx_form = OnnxForm(ops=("Pad",))
    keras_form = KerasForm(classes=("ZeroPadding2D",))
    #: How many spatial axes the input has after its channels: 2 for (C, H, W).
    spatial_axes: ClassVar[int] = 2

    padding: PadWidths

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.ZeroPad2d((left, right, top, bottom))`, `nn.ConstantPad2d` and `F.pad(x, (left, right, top, bottom))`
        with zeros (the
        last axis first, as PyTorch writes it; `ZeroPad1d`, `ZeroPad3d` alike)."""
        if call.module is not None:
            pads, mode, value = call.module.padding, "constant", getattr(call.module, "value", 0)
        else:
            names = cls.torch_form.arguments
            pads = call.argument(names, "pad")
            mode, value = call.argument(names, "mode", "constant"), call.argument(names, "value", None)
        axes = cls.spatial_axes
        if mode != "constant":
            raise Mismatch(f"padding by {mode} (mode={mode!r}) has no archcalc layer type: only zero padding")
        if value not in (None, 0) or not isinstance(pads, (list, tuple)) \
                or len(pads) != 2 * axes:
            raise Mismatch("only zero padding of H and W (four sizes) has an archcalc layer type" if axes == 2
                           else f"not a zero padding of {axes} axes")
        padding = [whole(pads[2 * k + side]) for k in reversed(range(axes)) for side in (0, 1)]
        if min(padding) < 0:
            raise Mismatch(f"a negative pad (a crop) is no zero padding: {pads}")
        return {"padding": padding}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`Pad` with zeros, of the spatial axes only (the pads an attribute or an integer constant)."""
        import numpy as np

        pads = node.attributes.get("pads")
        if pads is None:
            found = node.inputs[1] if node.has(1) else None
            if not isinstance(found, np.ndarray) or found.dtype.kind not in "iu":
                raise Mismatch("Pad's pads must be an integer constant")
            pads = [int(p) for p in found.reshape(-1)]
        value = node.inputs[2] if node.has(2) else np.zeros(1)
        if not isinstance(value, np.ndarray):
            raise Mismatch("Pad's value must be a constant")
        if node.attributes.get("mode", "constant") != "constant" or np.any(value != 0):
            raise Mismatch("only zero padding has an archcalc layer type")
        rank = cls.spatial_axes + 2
        if len(pads) != 2 * rank or any(pads[k] for k in (0, 1, rank, rank + 1)) or min(pads) < 0:
            raise Mismatch(f"Pad {pads} must pad H and W of a (N, C, H, W) map" if rank == 4
                           else f"Pad {pads} is no padding of the {cls.spatial_axes} axes of a map")
        return {"padding": [whole(pads[k + side * rank]) for k in range(2, rank) for side in (0, 1)]}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`padding`: n, (n_h, n_w) or ((top, bottom), (left, right)) (one or three axes alike; `ZeroPadding1D`'s
        pair is (before, after) of its one axis)."""
        padding, axes = layer.config["padding"], cls.spatial_axes
        if axes == 1:
            before, after = (padding, padding) if isinstance(padding, int) else padding
            return {"padding": [whole(before), whole(after)]}
        per_axis = [padding] * axes if isinstance(padding, int) else padding
        sides = ((p, p) if isinstance(p, int) else p for p in per_axis)
        return {"padding": [whole(p) for side in sides for p in side]}

    def pads(self, shape: Shape) -> tuple[tuple[int, int], ...]:
        size = spatial(shape, self.type_name, self.spatial_axes)[1:]
        return resolve_padding(self.padding, size, (1,) * len(size), (1,) * len(size))

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, *size = spatial(inputs[0], self.type_name, self.spatial_axes)
        return (c, *(n + before + after for n, (before, after) in zip(size, self.pads(inputs[0]))))

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...]:
        return tuple(AxisWindow(1, 1, before) for before, _ in self.pads(inputs[0]))

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return kernels.pad(xp, inputs[0], self.pads(inputs[0].shape[1:]))

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        pads = self.pads(inputs[0])
        return getattr(nn, self.torch_form.modules[0])(tuple(p for side in reversed(pads) for p in side))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        pads = self.pads(record.input_shapes[0])
        widths = [0, 0, *(before for before, _ in pads), 0, 0, *(after for _, after in pads)]
        graph.node("Pad", [record.inputs[0], graph.constant(f"{record.name}/pads", widths, "int64")], record.name)


@register
class ZeroPad1d(ZeroPad):
    """Zero padding of (C, L) (PyTorch `ZeroPad1d`, Keras `ZeroPadding1D`): (before, after) or one width."""

    type_name = "zeropad1d"
    spatial_axes = 1
    aliases = ("zeropadding1d",)
    torch_form = TorchForm(modules=("ZeroPad1d",))
    keras_form = KerasForm(classes=("ZeroPadding1D",))

    padding: PadWidthsSingle


@register
class ZeroPad3d(ZeroPad):
    """Zero padding of (C, T, H, W) (PyTorch `ZeroPad3d`, Keras `ZeroPadding3D`)."""

    type_name = "zeropad3d"
    spatial_axes = 3
    aliases = ("zeropadding3d",)
    torch_form = TorchForm(modules=("ZeroPad3d",))
    keras_form = KerasForm(classes=("ZeroPadding3D",))

    padding: PadWidthsTriple


@register
class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle: (g, C/g) → (C/g, g) transpose of the channels."""

    type_name = "channelshuffle"
    family = Family.DATA
    torch_form = TorchForm(modules=("ChannelShuffle",), functions=("channel_shuffle", "native_channel_shuffle"),
                           arguments=("groups",))
    keras_form = KerasForm(summary="Lambda")  # ONNX: Reshape, Transpose, Reshape (an idiom)

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
    aliases = ("split",)
    torch_form = TorchForm(functions=("getitem",))   # and the parts of chunk and split: an idiom
    onnx_form = OnnxForm(ops=("Slice",))             # and the parts of Split: an idiom
    keras_form = KerasForm(summary="Lambda")

    start: NonNegativeInt = 0
    end: PositiveInt

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`x[:, a:b]` (or `x[:, a:b, :, :]`): a run of channels."""
        index = call.args[1] if len(call.args) > 1 else None
        if isinstance(index, tuple) and len(index) > 2 and all(i == slice(None) for i in index[2:]):
            index = index[:2]
        if not (isinstance(index, tuple) and len(index) == 2 and index[0] == slice(None)
                and isinstance(index[1], slice) and index[1].step in (None, 1)):
            raise Mismatch("indexing must take a run of channels (x[:, a:b])")
        return cls.run(index[1].start, index[1].stop, call.site.channels)

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """`Slice` of channels (axis 1, step 1) with constant starts and ends (opset 10 and later)."""
        import numpy as np

        def ints(k: int, default: list[int] | None = None) -> list[int] | None:
            if not node.has(k):
                return default
            found = node.inputs[k]
            if not isinstance(found, np.ndarray) or found.dtype.kind not in "iu":
                raise Mismatch(f"Slice's input {k} must be an integer constant")
            return [int(v) for v in found.reshape(-1)]

        if len(node.inputs) < 3:
            raise Mismatch("Slice without starts and ends")
        starts, ends, axes, steps = ints(1), ints(2), ints(3, [0]), ints(4, [1])
        rank = node.site.rank or 4
        if [a % rank for a in axes] != [1] or steps != [1] or len(starts) != 1 or len(ends) != 1:
            raise Mismatch("Slice must cut a run of channels (axis 1, step 1)")
        return cls.run(starts[0], ends[0], node.site.channels)

    @staticmethod
    def run(start: Any, end: Any, channels: int | None) -> dict[str, Any]:
        """The hyper-parameters of channels [start, end) as a framework writes them (None: an open end,
        negative: from the end), within the `channels` there are."""
        if channels is None:
            if start is None or end is None or min(start, end) < 0:
                raise Mismatch("the channels of the map are unknown")
            return {"start": whole(start), "end": whole(end)}
        bounds = [whole(v) for v in (start if start is not None else 0, end if end is not None else channels)]
        low, high = (min(max(v + channels if v < 0 else v, 0), channels) for v in bounds)
        return {"start": low, "end": high}

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


@register
class PixelShuffle(Layer):
    """Sub-pixel upsampling (PyTorch `PixelShuffle`; ONNX `DepthToSpace` in CRD mode; Keras has no such
    layer): (C·r², H, W) → (C, H·r, W·r), input channel c·r² + i·r + j going to rows h·r + i and columns
    w·r + j of output channel c. No parameters, no MACs; an upsampling, so no receptive field is
    reported from it on."""

    type_name = "pixelshuffle"
    family = Family.DATA
    receptive_field_defined = False
    torch_form = TorchForm(modules=("PixelShuffle",), functions=("pixel_shuffle",), arguments=("upscale_factor",))
    onnx_form = OnnxForm(ops=("DepthToSpace",), attributes={"blocksize": "upscale_factor"})

    upscale_factor: PositiveInt

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        if node.attributes.get("mode", "DCR") != "CRD":
            raise Mismatch("DepthToSpace in DCR mode (TensorFlow's order) is not PyTorch's pixel shuffle")
        return super().from_onnx(node)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, h, w = spatial(inputs[0], "pixelshuffle")
        r = self.upscale_factor
        if c % (r * r):
            raise ShapeError(f"the {c} channels are not a multiple of upscale_factor² = {r * r}")
        return (c // (r * r), h * r, w * r)

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = inputs[0]
        r = self.upscale_factor
        return Arithmetic(output=f"({c}/{r}², {h}·{r}, {w}·{r}) = ({output[0]}, {output[1]}, {output[2]})",
                          params="0", macs="0")

    def describe(self) -> str:
        return f"×{self.upscale_factor}"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x, r = inputs[0], self.upscale_factor
        n, c, h, w = x.shape
        blocks = x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3)
        return xp.ascontiguousarray(blocks).reshape(n, c // (r * r), h * r, w * r)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("DepthToSpace", [record.inputs[0]], record.name, blocksize=self.upscale_factor, mode="CRD")


@register
class SpaceToDepth(Layer):
    """Space-to-depth (timm's `SpaceToDepth`, TResNet's stem; ONNX `SpaceToDepth`; Keras has no such
    layer): (C, H, W) → (C·b², H/b, W/b), row h·b + i and column w·b + j of channel c going to output
    channel (i·b + j)·C + c at (h, w). No parameters, no MACs; each output position reads one b×b block."""

    type_name = "spacetodepth"
    family = Family.DATA
    torch_form = TorchForm(modules=("SpaceToDepth",), arguments=("block_size",))
    onnx_form = OnnxForm(ops=("SpaceToDepth",), attributes={"blocksize": "block_size"})

    block_size: PositiveInt = 4

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """The block size: `block_size`, or `bs` as timm's module holds it."""
        size = getattr(call.module, "block_size", getattr(call.module, "bs", None))
        if not isinstance(size, int):
            raise Mismatch("a SpaceToDepth module without an integer block size `bs`")
        return {"block_size": size}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        c, h, w = spatial(inputs[0], "spacetodepth")
        b = self.block_size
        if h % b or w % b:
            raise ShapeError(f"block_size {b} must divide the height {h} and the width {w}")
        return (c * b * b, h // b, w // b)

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...]:
        return (AxisWindow(self.block_size, self.block_size),) * 2

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c, h, w = inputs[0]
        b = self.block_size
        return Arithmetic(output=f"({c}·{b}², {h}/{b}, {w}/{b}) = {format_shape(output)}", params="0", macs="0")

    def describe(self) -> str:
        return f"/{self.block_size}"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x, b = inputs[0], self.block_size
        n, c, h, w = x.shape
        blocks = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)
        return xp.ascontiguousarray(blocks).reshape(n, c * b * b, h // b, w // b)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import SpaceToDepth, TorchLayer

        return TorchLayer(SpaceToDepth(self.block_size))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("SpaceToDepth", [record.inputs[0]], record.name, blocksize=self.block_size)
