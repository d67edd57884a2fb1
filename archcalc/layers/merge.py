"""Layers that join branches: `add` (residuals), `subtract` (metaformer token mixers), `concat` (inception,
dense blocks), `multiply` (SE)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..errors import MismatchError
from .base import Layer, Shape, register
from .family import Family
from .foreign import MAP, KerasForm, KerasLayer, Mismatch, OnnxForm, OnnxNode, TorchCall, TorchForm


def maps_only(operands: Any, what: str) -> dict[str, Any]:
    """No hyper-parameters, when every operand is a feature map (`x + y`); `Mismatch` otherwise."""
    if len(operands) < 2 or any(operand is not MAP for operand in operands):
        raise Mismatch(f"{what} of a map and a constant or parameter has no archcalc layer type")
    return {}


def _broadcast(shapes: list[Shape], what: str) -> Shape:
    """NumPy broadcasting of per-sample shapes (SE: (C, H, W) × (C, 1, 1))."""
    rank = max(len(s) for s in shapes)
    result = []
    for axis in range(rank):
        sizes = {s[axis - rank + len(s)] if axis - rank + len(s) >= 0 else 1 for s in shapes}
        sizes.discard(1)
        if len(sizes) > 1:
            raise MismatchError(what, shapes)
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


@register
class Add(Layer):
    """Elementwise sum of two or more equal-shaped tensors (a residual connection); with `broadcast`, of
    shapes that broadcast as NumPy's do (GCNet's x + context, (C, H, W) + (C, 1, 1))."""

    type_name = "add"
    family = Family.ADD
    inputs_allowed = (2, None)
    positionwise = True
    torch_form = TorchForm(functions=("add", "iadd"))
    onnx_form = OnnxForm(ops=("Add", "Sum"))
    keras_form = KerasForm(classes=("Add",))

    broadcast: bool = Field(False, description="inputs of shapes that broadcast ((C, H, W) + (C, 1, 1))")

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`x + y`, `x += y`, `torch.add(x, y)` of two maps."""
        return maps_only(call.args[:2], "add")

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        return maps_only(node.inputs, node.op)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if self.broadcast:
            if len({len(shape) for shape in inputs}) > 1:
                raise MismatchError("add (broadcast inputs of one rank)", inputs)
            return _broadcast(inputs, "add")
        if len(set(inputs)) > 1:
            raise MismatchError("add", inputs)
        return inputs[0]

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        total = inputs[0] + inputs[1]
        for x in inputs[2:]:
            total = total + x
        return total

    def forward_prepared(self, xp: Any, inputs: list[Any], params: dict[str, Any], writable: Any) -> Any:
        """Two equal-shaped inputs are added into one that is writable, if either is."""
        if len(inputs) == 2 and inputs[0].shape == inputs[1].shape:
            for k in (0, 1):
                if writable(k):
                    return xp.add(inputs[k], inputs[1 - k], out=inputs[k])
        return self.forward(xp, inputs, params)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import add

        return add(len(inputs))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("Add" if len(record.inputs) == 2 else "Sum", list(record.inputs), record.name)


@register
class Subtract(Layer):
    """Elementwise difference of two equal-shaped tensors, the first minus the second (PoolFormer's
    `pool(x) − x`, FastViT's `mixer(x) − norm(x)`)."""

    type_name = "subtract"
    family = Family.SUBTRACT
    aliases = ("sub",)
    inputs_allowed = (2, 2)
    positionwise = True
    torch_form = TorchForm(functions=("sub", "isub", "subtract"))
    onnx_form = OnnxForm(ops=("Sub",))
    keras_form = KerasForm(classes=("Subtract",))

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`x - y`, `x -= y`, `torch.sub(x, y)` of two maps (with `alpha` 1)."""
        if call.kwargs.get("alpha", 1) != 1:
            raise Mismatch("torch.sub with alpha other than 1 has no archcalc layer type")
        return maps_only(call.args[:2], "subtracting")

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        return maps_only(node.inputs, node.op)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if len(set(inputs)) > 1:
            raise MismatchError("subtract", inputs)
        return inputs[0]

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return inputs[0] - inputs[1]

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import subtract

        return subtract()

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("Sub", list(record.inputs), record.name)


@register
class Multiply(Layer):
    """Elementwise product with broadcasting (squeeze-and-excitation gating)."""

    type_name = "multiply"
    family = Family.MULTIPLY
    aliases = ("mul",)
    inputs_allowed = (2, None)
    positionwise = True   # two maps held channels last multiply alike (their broadcast axes permuted alike)
    torch_form = TorchForm(functions=("mul", "imul"))
    onnx_form = OnnxForm(ops=("Mul",))
    keras_form = KerasForm(classes=("Multiply",))

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`x * y`, `torch.mul(x, y)` of two maps (a gate)."""
        return maps_only(call.args[:2], "multiplying")

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        return maps_only(node.inputs, "Mul")

    def output_shape(self, inputs: list[Shape]) -> Shape:
        return _broadcast(inputs, "multiply")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        """Per-sample shapes broadcast from the right, the batch axis kept first."""
        rank = max(x.ndim for x in inputs)
        product = None
        for x in inputs:
            x = x.reshape((x.shape[0],) + (1,) * (rank - x.ndim) + x.shape[1:])
            product = x if product is None else product * x
        return product

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import multiply

        return multiply(inputs)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """Per-sample shapes broadcast from the right, the batch axis kept first (as `forward`)."""
        rank = max(len(shape) for shape in record.input_shapes)
        terms = []
        for k, (src, shape) in enumerate(zip(record.inputs, record.input_shapes)):
            if len(shape) < rank:
                target = graph.constant(f"{record.name}/shape{k}", [0] + [1] * (rank - len(shape)) + list(shape),
                                        "int64")
                src = graph.node("Reshape", [src, target], f"{record.name}/lifted{k}")
            terms.append(src)
        product = terms[0]
        for k, term in enumerate(terms[1:], start=1):
            product = graph.node("Mul", [product, term],
                                 record.name if k == len(terms) - 1 else f"{record.name}/mul{k}")


@register
class Concat(Layer):
    """Concatenation along channels (dim=0 of the per-sample shape, PyTorch dim=1)."""

    type_name = "concat"
    family = Family.DATA
    aliases = ("concatenate", "cat")
    inputs_allowed = (1, None)
    positionwise = True
    torch_form = TorchForm(functions=("cat", "concat", "concatenate"), arguments=("dim",))
    onnx_form = OnnxForm(ops=("Concat",))
    keras_form = KerasForm(classes=("Concatenate",))

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`torch.cat([x, y], 1)`: the channels joined."""
        if not call.site.is_channel_axis(call.argument(cls.torch_form.arguments, "dim", 0)):
            raise Mismatch("torch.cat must join channels (dim=1)")
        return {}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        if not node.site.is_channel_axis(node.attributes.get("axis")):
            raise Mismatch("Concat must join channels (axis=1)")
        return {}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        if not layer.site.is_channel_axis(layer.config.get("axis", -1)):
            raise Mismatch("Concatenate must join channels (the last axis)")
        return {}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        rests = {s[1:] for s in inputs}
        if len(rests) > 1 or len({len(s) for s in inputs}) > 1:
            raise MismatchError("concatenate", inputs)
        return (sum(s[0] for s in inputs), *inputs[0][1:])

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return xp.concatenate(inputs, axis=1)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import concat

        return concat()

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        graph.node("Concat", list(record.inputs), record.name, axis=1)
