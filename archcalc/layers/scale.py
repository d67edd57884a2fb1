"""Scaling without a matrix product: `layerscale` (a learnt γ per channel), and Keras's input layers
`normalization` (stored per-channel mean and variance) and `rescaling` (constants)."""

from __future__ import annotations

from typing import Any

from ..arrays import kernels
from ..errors import ShapeError
from .base import Arithmetic, Layer, Param, Shape, format_shape, register
from .family import Family
from .foreign import MAP, KerasForm, KerasLayer, Mismatch, OnnxForm, OnnxNode, Parameter, TorchCall, TorchForm


def _channels(shape: Shape, who: str) -> int:
    if len(shape) not in (1, 3):
        raise ShapeError(f"{who} needs a (C, H, W) or (F,) input, got {format_shape(shape)}")
    return shape[0]


@register
class LayerScale(Layer):
    """x · γ with a learnt γ per channel (ConvNeXt's `layer_scale`, timm's `LayerScale2d`)."""

    type_name = "layerscale"
    family = Family.LAYER_SCALE
    positionwise = True
    torch_form = TorchForm(functions=("mul", "imul"), summary="LayerScale")
    onnx_form = OnnxForm(ops=("Mul",))
    keras_form = KerasForm(summary="LayerScale")

    init: float = 1e-6

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """A map times a module's parameter of one value per channel, shaped to broadcast along the
        channels (`self.gamma * x` on a channels-last map, `x * self.gamma.view(1, -1, 1, 1)` on an
        N×C×H×W one; the importer names the layer after the parameter)."""
        operands = call.args[:2]
        gamma = next((operand for operand in operands if isinstance(operand, Parameter)), None)
        if MAP not in operands or gamma is None:
            raise Mismatch("not a map times a parameter")
        site = call.site
        if gamma.shape is None or site.shape is None:
            raise Mismatch("a map times a parameter of unknown shape")
        rank = len(site.shape)
        axis = rank - 1 if site.channels_last else 0
        wanted = tuple(site.channels if k == axis else 1 for k in range(rank))
        found = (1,) * (rank + 1 - len(gamma.shape)) + tuple(gamma.shape)
        if len(found) != rank + 1 or found[0] != 1 or found[1:] != wanted:
            raise Mismatch(f"a map times a parameter of shape {tuple(gamma.shape)}, not one value per channel "
                           f"broadcast along the channels ({(1, *wanted)})")
        return {}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """A map times a parameter of one value per channel."""
        maps = [k for k, value in enumerate(node.inputs) if value is MAP]
        if len(node.inputs) != 2 or len(maps) != 1:
            raise Mismatch("not a map times a parameter")
        if node.parameter(1 - maps[0]).size != node.site.channels:
            raise Mismatch(f"{node.op} of a map and a parameter that is not one per channel")
        return {}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        _channels(inputs[0], "layerscale")
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return [Param("gamma", (inputs[0][0],), "weight", initial=self.init)]

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output="same as input", params=f"{inputs[0][0]:,} (γ, one per channel)", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return inputs[0] * kernels.per_channel(inputs[0], params["gamma"])

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import layer_scale

        return layer_scale(inputs[0][0], self.init, len(inputs[0]))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import per_channel

        gamma = per_channel(graph, record, graph.weight(record, "gamma"), "gamma")
        graph.node("Mul", [record.inputs[0], gamma], record.name)


@register
class ScalarAffine(Layer):
    """x · s + b with one learnt scale s (and bias b) for all channels: timm's `LearnableAffineBlock`
    (HGNetV2), and without the bias NF-Net's `skipinit_gain` (a map times a parameter of one value)."""

    type_name = "scalaraffine"
    family = Family.LAYER_SCALE
    positionwise = True
    torch_form = TorchForm(modules=("LearnableAffineBlock", "ScalarGain"), functions=("mul", "imul", "mul_"))
    onnx_form = OnnxForm(ops=("ScalarAffine", "ScalarScale", "Mul"))   # the first two: functions archcalc writes

    bias: bool = True
    scale_value: float = 1.0
    bias_value: float = 0.0

    @property
    def has_bias(self) -> bool:
        return self.bias

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """The module `LearnableAffineBlock` (its scale and bias of shape (1,)) or archcalc's `ScalarGain`,
        or a map times a module's parameter of one value (`x * self.gain`, `x.mul_(self.gain)`)."""
        m = call.module
        if m is not None:
            bias = getattr(m, "bias", None) if call.name == "LearnableAffineBlock" else None
            if tuple(m.scale.shape) != (1,) or call.name == "LearnableAffineBlock" and \
                    (bias is None or tuple(bias.shape) != (1,)):
                raise Mismatch(f"{call.name} must hold a scale and a bias of shape (1,)")
            return {"bias": bias is not None}
        operands = call.args[:2]
        gain = next((operand for operand in operands if isinstance(operand, Parameter)), None)
        if MAP not in operands or gain is None or gain.size != 1:
            raise Mismatch("not a map times a parameter of one value")
        return {"bias": False}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """archcalc's function `ScalarAffine` (x, s, b) or `ScalarScale` (x, s); `Mul` of a map and a
        parameter of one value."""
        if node.op == "Mul":
            maps = [k for k, value in enumerate(node.inputs) if value is MAP]
            if len(node.inputs) != 2 or len(maps) != 1 or not isinstance(node.inputs[1 - maps[0]], Parameter) \
                    or node.parameter(1 - maps[0]).size != 1:
                raise Mismatch("Mul of a map and something other than a parameter of one value")
            return {"bias": False}
        return {"bias": node.op == "ScalarAffine"}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        params = [Param("scale", (1,), "weight", initial=self.scale_value)]
        if self.bias:
            params.append(Param("bias", (1,), "bias", initial=self.bias_value))
        return params

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        return Arithmetic(output="same as input", params="2 (s and b, one for all channels)" if self.bias
                          else "1 (s, one for all channels)", macs="0")

    def describe(self) -> str:
        return "x·s + b" if self.bias else "x·s"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        out = inputs[0] * params["scale"].reshape(())
        return out + params["bias"].reshape(()) if self.bias else out

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import LearnableAffineBlock, ScalarGain

        return LearnableAffineBlock(self.scale_value, self.bias_value) if self.bias else ScalarGain(self.scale_value)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `ScalarAffine` (Mul, Add) or `ScalarScale` (Mul)."""
        weights = [graph.weight(record, "scale"), *([graph.weight(record, "bias")] if self.bias else [])]
        name = "ScalarAffine" if self.bias else "ScalarScale"
        graph.call(lambda: _scalar_function(self.bias), name, [record.inputs[0], *weights], record.name)


def _scalar_function(bias: bool) -> Any:
    from .onnx_nodes import function

    if not bias:
        return function("ScalarScale", ["x", "s"], ["y"], [("Mul", ["x", "s"], "y", {})], [])
    return function("ScalarAffine", ["x", "s", "b"], ["y"],
                    [("Mul", ["x", "s"], "scaled", {}), ("Add", ["scaled", "b"], "y", {})], [])


@register
class Normalization(Layer):
    """Keras `Normalization` (per channel): (x − mean) / max(√variance, 1e-7), with the mean, the
    variance and the count of samples they were adapted on stored as non-trainable weights."""

    type_name = "normalization"
    family = Family.STANDARDIZE
    # PyTorch and ONNX: (x − mean) / max(√variance, 1e-7) as archcalc exports it, an idiom of the importers
    torch_form = TorchForm(summary="Normalization")
    keras_form = KerasForm(classes=("Normalization",))

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        config = layer.config
        if not layer.site.is_channel_axis(config.get("axis", -1)) or config.get("invert"):
            raise Mismatch("Normalization must standardise each channel (axis -1, invert false)")
        return {}

    def output_shape(self, inputs: list[Shape]) -> Shape:
        _channels(inputs[0], "normalization")
        return inputs[0]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        c = inputs[0][0]
        return [Param("mean", (c,), "stat"), Param("variance", (c,), "stat", initial=1.0, least=0.0),
                Param("count", (), "stat")]

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        c = inputs[0][0]
        return Arithmetic(output="same as input",
                          params=f"2 × {c} (mean, variance) + 1 (count) = {2 * c + 1:,} non-trainable", macs="0")

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        deviation = xp.maximum(xp.sqrt(kernels.per_channel(x, params["variance"])), 1e-7)
        return (x - kernels.per_channel(x, params["mean"])) / deviation

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import normalization

        return normalization(inputs[0][0], len(inputs[0]))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        from .onnx_nodes import per_channel

        name = record.name
        mean = per_channel(graph, record, graph.weight(record, "mean"), "mean")
        variance = per_channel(graph, record, graph.weight(record, "variance"), "variance")
        graph.weight(record, "count")  # stored, as Keras stores it; no arithmetic uses it
        deviation = graph.node("Max", [graph.node("Sqrt", [variance], f"{name}/std"),
                                       graph.constant(f"{name}/floor", 1e-7)], f"{name}/deviation")
        centred = graph.node("Sub", [record.inputs[0], mean], f"{name}/centred")
        graph.node("Div", [centred, deviation], name)


@register
class Rescaling(Layer):
    """Keras `Rescaling`: x · scale + offset (e.g. scale 1/255 for pixels)."""

    type_name = "rescaling"
    family = Family.RESCALE
    positionwise = True
    torch_form = TorchForm(functions=("mul", "imul", "mul_", "add", "iadd", "truediv", "itruediv", "div"),
                           summary="Rescaling")
    onnx_form = OnnxForm(ops=("Mul", "Add", "Div"))
    keras_form = KerasForm(classes=("Rescaling",))

    scale: float
    offset: float = 0.0

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """A map times a number (`x * 0.5`, `x.mul_(0.5)`), divided by one (`x / 255`), or plus one (an
        importer adds the offset `x * s + o` adds)."""
        op = call.name.removeprefix("i").removesuffix("_")
        if op in ("truediv", "div"):
            if call.kwargs.get("rounding_mode") is not None:
                raise Mismatch(f"{op} with rounding has no archcalc layer type")
            return cls._divided(op, call.args[:2])
        return cls._by_number(op, call.args[:2])

    @classmethod
    def _divided(cls, op: str, operands: Any) -> dict[str, Any]:
        """A map divided by a number: a scale by its inverse."""
        if tuple(operands[:1]) != (MAP,):
            raise Mismatch(f"{op} must divide a map by a number")
        divisor = cls._by_number("mul", operands)["scale"]
        if divisor == 0:
            raise Mismatch(f"{op} by zero")
        return {"scale": 1.0 / divisor}

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        import numpy as np

        numbers = [float(v.reshape(-1)[0]) if isinstance(v, np.ndarray) and v.size == 1 else v for v in node.inputs]
        if node.op == "Div":
            return cls._divided(node.op, numbers)
        return cls._by_number(node.op.lower(), numbers)

    @staticmethod
    def _by_number(op: str, operands: Any) -> dict[str, Any]:
        numbers = [v for v in operands if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(operands) != 2 or len(numbers) != 1 or MAP not in operands:
            raise Mismatch(f"{op} of a map and something other than a number")
        return {"scale": float(numbers[0])} if op == "mul" else {"scale": 1.0, "offset": float(numbers[0])}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`Rescaling` by numbers (not per channel)."""
        config = layer.config
        if not all(isinstance(config.get(k, 0.0), (int, float)) for k in ("scale", "offset")):
            raise Mismatch("Rescaling per channel has no archcalc layer type")
        return {"scale": float(config["scale"]), "offset": float(config.get("offset", 0))}

    def describe(self) -> str:
        return f"×{self.scale:g} + {self.offset:g}"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        return inputs[0] * self.scale + self.offset

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_modules import rescaling

        return rescaling(self.scale, self.offset)

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        name = record.name
        scaled = graph.node("Mul", [record.inputs[0], graph.constant(f"{name}/scale", self.scale)], f"{name}/scaled")
        graph.node("Add", [scaled, graph.constant(f"{name}/offset", self.offset)], name)
