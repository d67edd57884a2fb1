"""`archcalc export --to onnx`: the network as an ONNX model, built with the `onnx` package alone.

Opset 17. Tensors are named by layer path (the input by its own name, the batch axis `N`), each
layer's nodes by its path (`layer1/0/conv1`, helpers `layer1/0/conv1/pad`), and every layer's output
carries a value info with its shape. The initializers are exactly the weights, keyed as archcalc
keys them (`layer1/0/conv1.weight`), so `archcalc.load_weights` reads them back; constants the
graph needs besides are `Constant` nodes. Each layer type is one emitter below; a type without one
is refused, all such layers named in one error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..analysis import Report
from ..arrays import kernels
from ..errors import ExportError
from ..executor import init_weights, load_weights

OPSET = 17
IR_VERSION = 8  # the IR of opset 17 (onnx 1.12), read by every runtime that knows the opset
BATCH = "N"


def onnx_model(report: Report, weights: Any = None, seed: int = 0) -> Any:
    """The `onnx.ModelProto` of `report`'s architecture at its input size, with `weights` (anything
    `load_weights` takes) or seeded ones (`init_weights(seed)`)."""
    from onnx import helper

    unsupported = [(r.name, r.layer.type_name) for r in report.layers[1:] if r.layer.type_name not in EMITTERS]
    if unsupported:
        kinds = sorted({kind for _, kind in unsupported})
        shown = ", ".join(f"{kind} ({next(path for path, k in unsupported if k == kind)})" for kind in kinds)
        raise ExportError(f"ONNX export cannot express layer type(s) {shown}", file=report.architecture.source)
    arrays = load_weights(report, weights) if weights is not None else init_weights(report, seed)
    graph = _Graph(arrays)
    arch = report.architecture
    for record in report.layers[1:]:
        try:
            EMITTERS[record.layer.type_name](graph, record)
        except ExportError as exc:
            raise exc.located(file=arch.source, layer=record.name) from None
    first = report.layers[0]
    output = report.layer(arch.output_path)
    value_infos = [_info(r.name, r.output_shape) for r in report.layers[1:] if r.name != arch.output_path]
    model = helper.make_model(
        helper.make_graph(graph.nodes, arch.name, [_info(first.name, first.output_shape)],
                          [_info(output.name, output.output_shape)], graph.initializers, value_info=value_infos,
                          doc_string=arch.title),
        opset_imports=[helper.make_opsetid("", OPSET)], producer_name="archcalc",
        doc_string=f"{arch.title}; exported by archcalc from {arch.source}")
    model.ir_version = IR_VERSION
    return model


def _info(name: str, shape: tuple[int, ...]) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [BATCH, *shape])


class _Graph:
    """The nodes and initializers made so far."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def weight(self, record: Any, name: str) -> str:
        from onnx import numpy_helper

        key = f"{record.name}.{name}"
        self.initializers.append(numpy_helper.from_array(np.asarray(self.arrays[key], dtype=np.float32), key))
        return key

    def constant(self, name: str, value: Any, dtype: Any = np.float32) -> str:
        from onnx import helper, numpy_helper

        tensor = numpy_helper.from_array(np.asarray(value, dtype=dtype), name)
        self.nodes.append(helper.make_node("Constant", [], [name], name=name, value=tensor))
        return name


Emitter = Callable[[_Graph, Any], None]
EMITTERS: dict[str, Emitter] = {}


def emits(*type_names: str) -> Callable[[Emitter], Emitter]:
    def register(function: Emitter) -> Emitter:
        for name in type_names:
            EMITTERS[name] = function
        return function
    return register


def _onnx_pads(pads) -> list[int]:
    """((top, bottom), (left, right)) as ONNX's [top, left, bottom, right]."""
    (top, bottom), (left, right) = pads
    return [top, left, bottom, right]


def _activated(graph: _Graph, record: Any, op: str, inputs: list[str], **attributes: Any) -> None:
    """`op`, then the layer's fused activation (if any): the layer's output is the last node's."""
    activation = getattr(record.layer, "activation", None)
    if activation in (None, "linear"):
        graph.node(op, inputs, record.name, **attributes)
        return
    inner = graph.node(op, inputs, f"{record.name}/{op.lower()}", **attributes)
    ACTIVATIONS[activation](graph, inner, record.name)


# --- weighted layers ---------------------------------------------------------------------------
@emits("conv")
def _conv(graph: _Graph, record: Any) -> None:
    layer = record.layer
    g = layer.geometry(record.input_shapes[0])
    inputs = [record.inputs[0], graph.weight(record, "weight")] + ([graph.weight(record, "bias")] if layer.bias else [])
    _activated(graph, record, "Conv", inputs, kernel_shape=list(g.kernel), strides=list(g.stride),
               pads=_onnx_pads(g.pads), dilations=list(g.dilation), group=layer.groups)


@emits("convtranspose")
def _conv_transpose(graph: _Graph, record: Any) -> None:
    layer = record.layer
    inputs = [record.inputs[0], graph.weight(record, "weight")] + ([graph.weight(record, "bias")] if layer.bias else [])
    (ph, pw) = layer.padding
    graph.node("ConvTranspose", inputs, record.name, kernel_shape=list(layer.kernel_size),
               strides=list(layer.stride), pads=[ph, pw, ph, pw], output_padding=list(layer.output_padding),
               dilations=list(layer.dilation), group=layer.groups)


@emits("linear")
def _linear(graph: _Graph, record: Any) -> None:
    inputs = [record.inputs[0], graph.weight(record, "weight")]
    inputs += [graph.weight(record, "bias")] if record.layer.bias else []
    _activated(graph, record, "Gemm", inputs, transB=1)


@emits("batchnorm")
def _batchnorm(graph: _Graph, record: Any) -> None:
    layer, name = record.layer, record.name
    channels = record.input_shapes[0][0]
    names = {p.name for p in record.param_tensors}
    scale = graph.weight(record, "weight") if "weight" in names else graph.constant(f"{name}/scale", np.ones(channels))
    shift = graph.weight(record, "bias") if "bias" in names else graph.constant(f"{name}/shift", np.zeros(channels))
    if layer.track_running_stats:
        inputs = [record.inputs[0], scale, shift, graph.weight(record, "running_mean"),
                  graph.weight(record, "running_var")]
        _activated(graph, record, "BatchNormalization", inputs, epsilon=layer.eps)
        return
    # on the batch's own statistics: (x − mean) / √(var + ε) · γ + β over every axis but the channels'
    axes = [0, *range(2, len(record.input_shapes[0]) + 1)]
    per_channel = graph.constant(f"{name}/per_channel", [-1] + [1] * (len(axes) - 1), np.int64)
    x = record.inputs[0]
    centred = graph.node("Sub", [x, graph.node("ReduceMean", [x], f"{name}/mean", axes=axes)], f"{name}/centred")
    square = graph.node("Mul", [centred, centred], f"{name}/square")
    variance = graph.node("ReduceMean", [square], f"{name}/variance", axes=axes)
    spread = graph.node("Sqrt", [graph.node("Add", [variance, graph.constant(f"{name}/eps", layer.eps)],
                                            f"{name}/var_eps")], f"{name}/std")
    normal = graph.node("Div", [centred, spread], f"{name}/normal")
    scaled = graph.node("Mul", [normal, graph.node("Reshape", [scale, per_channel], f"{name}/gamma")],
                        f"{name}/scaled")
    _activated(graph, record, "Add", [scaled, graph.node("Reshape", [shift, per_channel], f"{name}/beta")])


@emits("prelu")
def _prelu(graph: _Graph, record: Any) -> None:
    slope = graph.weight(record, "weight")
    rank = len(record.input_shapes[0])
    if record.layer.num_parameters > 1 and rank > 1:
        shape = graph.constant(f"{record.name}/shape", [-1] + [1] * (rank - 1), np.int64)
        slope = graph.node("Reshape", [slope, shape], f"{record.name}/slope")
    graph.node("PRelu", [record.inputs[0], slope], record.name)


@emits("lrn")
def _lrn(graph: _Graph, record: Any) -> None:
    layer = record.layer
    if layer.size % 2 == 0:
        raise ExportError(f"ONNX's LRN centres an even window (size {layer.size}) one channel later than archcalc")
    graph.node("LRN", [record.inputs[0]], record.name, size=layer.size, alpha=layer.alpha, beta=layer.beta,
               bias=layer.k)


# --- activations -------------------------------------------------------------------------------
def _gelu(graph: _Graph, x: str, out: str) -> str:
    """x · Φ(x) = x · (1 + erf(x/√2)) / 2 (Gelu is an operator only from opset 20)."""
    scaled = graph.node("Mul", [x, graph.constant(f"{out}/rsqrt2", 0.5 ** 0.5)], f"{out}/scaled")
    one_plus = graph.node("Add", [graph.node("Erf", [scaled], f"{out}/erf"), graph.constant(f"{out}/one", 1.0)],
                          f"{out}/one_plus")
    half = graph.node("Mul", [x, graph.constant(f"{out}/half", 0.5)], f"{out}/half_x")
    return graph.node("Mul", [half, one_plus], out)


ACTIVATIONS: dict[str, Callable[[_Graph, str, str], str]] = {
    "relu": lambda g, x, out: g.node("Relu", [x], out),
    "relu6": lambda g, x, out: g.node("Clip", [x, g.constant(f"{out}/min", 0.0), g.constant(f"{out}/max", 6.0)], out),
    "sigmoid": lambda g, x, out: g.node("Sigmoid", [x], out),
    "tanh": lambda g, x, out: g.node("Tanh", [x], out),
    "silu": lambda g, x, out: g.node("Mul", [x, g.node("Sigmoid", [x], f"{out}/sigmoid")], out),
    "swish": lambda g, x, out: ACTIVATIONS["silu"](g, x, out),
    "hardswish": lambda g, x, out: g.node("HardSwish", [x], out),
    "hardsigmoid": lambda g, x, out: g.node("HardSigmoid", [x], out, alpha=1 / 6, beta=0.5),
    "elu": lambda g, x, out: g.node("Elu", [x], out),
    "gelu": _gelu,
    "softmax": lambda g, x, out: g.node("Softmax", [x], out, axis=1),
}


@emits("relu", "relu6", "sigmoid", "tanh", "silu", "hardswish", "hardsigmoid", "gelu", "softmax")
def _activation(graph: _Graph, record: Any) -> None:
    ACTIVATIONS[record.layer.type_name](graph, record.inputs[0], record.name)


@emits("leakyrelu")
def _leaky_relu(graph: _Graph, record: Any) -> None:
    graph.node("LeakyRelu", [record.inputs[0]], record.name, alpha=record.layer.negative_slope)


@emits("elu")
def _elu(graph: _Graph, record: Any) -> None:
    graph.node("Elu", [record.inputs[0]], record.name, alpha=record.layer.alpha)


@emits("dropout", "identity", "stochasticdepth")
def _identity(graph: _Graph, record: Any) -> None:
    graph.node("Identity", [record.inputs[0]], record.name)


# --- pooling -----------------------------------------------------------------------------------
@emits("maxpool", "avgpool", "sumpool")
def _pool(graph: _Graph, record: Any) -> None:
    """PyTorch's pooling in ONNX. A ceil_mode window running past the padded input is padded for
    explicitly (ONNX runtimes disagree on that edge); average and sum pooling over such padding,
    or sum pooling at all, divide a padded average by the exact divisor of each output position."""
    layer, x, name = record.layer, record.inputs[0], record.name
    g = layer.geometry(record.input_shapes[0])
    out = record.output_shape[1:]
    _, h, w = record.input_shapes[0]
    need = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(out, g.stride, g.dilation, g.kernel)]
    extra = [max(n - size - sum(p), 0) for n, size, p in zip(need, (h, w), g.pads)]
    pads = ((g.pads[0][0], g.pads[0][1] + extra[0]), (g.pads[1][0], g.pads[1][1] + extra[1]))
    common = {"kernel_shape": list(g.kernel), "strides": list(g.stride)}
    if layer.type_name == "maxpool":
        graph.node("MaxPool", [x], name, pads=_onnx_pads(pads), dilations=list(g.dilation), **common)
        return
    include = getattr(layer, "count_include_pad", True)
    if layer.type_name == "avgpool" and not any(extra):
        graph.node("AveragePool", [x], name, pads=_onnx_pads(pads), count_include_pad=int(include), **common)
        return
    mean = graph.node("AveragePool", [x], f"{name}/mean", pads=_onnx_pads(pads), count_include_pad=1, **common)
    area = g.kernel[0] * g.kernel[1]
    if layer.type_name == "sumpool":
        factor = np.full(out, float(area))
    else:  # the divisor of each window: its cells inside the padded input (or the input alone)
        inside = np.ones((1, 1, h, w)) if not include else np.ones((1, 1, h + sum(g.pads[0]), w + sum(g.pads[1])))
        spread = g.pads if not include else ((0, 0), (0, 0))
        divisor = kernels.pool2d(np, inside, "sum", g.kernel, g.stride, spread, g.dilation, tuple(out))[0, 0]
        factor = area / divisor
    graph.node("Mul", [mean, graph.constant(f"{name}/factor", factor)], name)


@emits("globalavgpool", "globalmaxpool")
def _global_pool(graph: _Graph, record: Any) -> None:
    op = "GlobalMaxPool" if record.layer.type_name == "globalmaxpool" else "GlobalAveragePool"
    if record.layer.keepdims:
        graph.node(op, [record.inputs[0]], record.name)
    else:
        graph.node("Flatten", [graph.node(op, [record.inputs[0]], f"{record.name}/pool")], record.name, axis=1)


@emits("adaptiveavgpool", "adaptivemaxpool")
def _adaptive_pool(graph: _Graph, record: Any) -> None:
    """A whole multiple of the output size pools windows of size input/output; anything else has
    windows of differing sizes, which no ONNX pooling expresses."""
    _, h, w = record.input_shapes[0]
    oh, ow = record.layer.output_size
    maximum = record.layer.type_name == "adaptivemaxpool"
    if (oh, ow) == (1, 1):
        graph.node("GlobalMaxPool" if maximum else "GlobalAveragePool", [record.inputs[0]], record.name)
        return
    if h % oh or w % ow:
        raise ExportError(f"adaptive pooling from {h}×{w} to {oh}×{ow} (not a whole multiple) has no ONNX operator")
    kernel = [h // oh, w // ow]
    graph.node("MaxPool" if maximum else "AveragePool", [record.inputs[0]], record.name, kernel_shape=kernel,
               strides=kernel)


# --- data movement and merges ------------------------------------------------------------------
@emits("flatten")
def _flatten(graph: _Graph, record: Any) -> None:
    graph.node("Flatten", [record.inputs[0]], record.name, axis=1)


@emits("zeropad")
def _zeropad(graph: _Graph, record: Any) -> None:
    (top, bottom), (left, right) = record.layer.pads(record.input_shapes[0])
    pads = graph.constant(f"{record.name}/pads", [0, 0, top, left, 0, 0, bottom, right], np.int64)
    graph.node("Pad", [record.inputs[0], pads], record.name)


@emits("channelshuffle")
def _channel_shuffle(graph: _Graph, record: Any) -> None:
    c, *rest = record.input_shapes[0]
    groups, name = record.layer.groups, record.name
    split = graph.constant(f"{name}/split", [0, groups, c // groups, *rest], np.int64)
    grouped = graph.node("Reshape", [record.inputs[0], split], f"{name}/grouped")
    swapped = graph.node("Transpose", [grouped], f"{name}/swapped", perm=[0, 2, 1, *range(3, len(rest) + 3)])
    graph.node("Reshape", [swapped, graph.constant(f"{name}/merge", [0, c, *rest], np.int64)], name)


@emits("slice")
def _slice(graph: _Graph, record: Any) -> None:
    name, layer = record.name, record.layer
    inputs = [record.inputs[0], graph.constant(f"{name}/starts", [layer.start], np.int64),
              graph.constant(f"{name}/ends", [layer.end], np.int64), graph.constant(f"{name}/axes", [1], np.int64)]
    graph.node("Slice", inputs, name)


@emits("add")
def _add(graph: _Graph, record: Any) -> None:
    graph.node("Add" if len(record.inputs) == 2 else "Sum", list(record.inputs), record.name)


@emits("multiply")
def _multiply(graph: _Graph, record: Any) -> None:
    """Per-sample shapes broadcast from the right, the batch axis kept first (as archcalc's forward)."""
    rank = max(len(shape) for shape in record.input_shapes)
    terms = []
    for k, (src, shape) in enumerate(zip(record.inputs, record.input_shapes)):
        if len(shape) < rank:
            target = graph.constant(f"{record.name}/shape{k}", [0] + [1] * (rank - len(shape)) + list(shape), np.int64)
            src = graph.node("Reshape", [src, target], f"{record.name}/lifted{k}")
        terms.append(src)
    product = terms[0]
    for k, term in enumerate(terms[1:], start=1):
        product = graph.node("Mul", [product, term], record.name if k == len(terms) - 1 else f"{record.name}/mul{k}")


@emits("concat")
def _concat(graph: _Graph, record: Any) -> None:
    graph.node("Concat", list(record.inputs), record.name, axis=1)


# --- normalisations, scales and layout of the newer networks (ConvNeXt, EfficientNetV2, Keras) ---
def _per_channel(graph: _Graph, record: Any, tensor: str, what: str) -> str:
    """A (C,) tensor shaped to broadcast along the channels of the layer's input ((C, 1, 1) on a map)."""
    if len(record.input_shapes[0]) != 3:
        return tensor
    shape = graph.constant(f"{record.name}/{what}_shape", [-1, 1, 1], np.int64)
    return graph.node("Reshape", [tensor, shape], f"{record.name}/{what}_per_channel")


def _channels_last(graph: _Graph, record: Any, inner: Callable[[str, str], str]) -> None:
    """`inner(x, out)` on the input with its channels last (N×H×W×C), then the channels put back; on a
    flat input, `inner` alone."""
    if len(record.input_shapes[0]) != 3:
        inner(record.inputs[0], record.name)
        return
    last = graph.node("Transpose", [record.inputs[0]], f"{record.name}/channels_last", perm=[0, 2, 3, 1])
    done = inner(last, f"{record.name}/inner")
    graph.node("Transpose", [done], record.name, perm=[0, 3, 1, 2])


@emits("layernorm")
def _layernorm(graph: _Graph, record: Any) -> None:
    layer, channels = record.layer, record.input_shapes[0][0]
    if layer.elementwise_affine:
        scale, shift = graph.weight(record, "weight"), graph.weight(record, "bias")
    else:
        scale = graph.constant(f"{record.name}/scale", np.ones(channels))
        shift = graph.constant(f"{record.name}/shift", np.zeros(channels))
    _channels_last(graph, record, lambda x, out: graph.node("LayerNormalization", [x, scale, shift], out,
                                                            axis=-1, epsilon=layer.eps))


@emits("pointlinear")
def _pointlinear(graph: _Graph, record: Any) -> None:
    weight = graph.node("Transpose", [graph.weight(record, "weight")], f"{record.name}/weight_t", perm=[1, 0])

    def inner(x: str, out: str) -> str:
        if not record.layer.bias:
            return graph.node("MatMul", [x, weight], out)
        product = graph.node("MatMul", [x, weight], f"{record.name}/matmul")
        return graph.node("Add", [product, graph.weight(record, "bias")], out)

    _channels_last(graph, record, inner)


@emits("layerscale")
def _layerscale(graph: _Graph, record: Any) -> None:
    gamma = _per_channel(graph, record, graph.weight(record, "gamma"), "gamma")
    graph.node("Mul", [record.inputs[0], gamma], record.name)


@emits("normalization")
def _normalization(graph: _Graph, record: Any) -> None:
    """(x − mean) / max(√variance, 1e-7), per channel (Keras Normalization)."""
    name = record.name
    mean = _per_channel(graph, record, graph.weight(record, "mean"), "mean")
    variance = _per_channel(graph, record, graph.weight(record, "variance"), "variance")
    graph.weight(record, "count")  # stored, as Keras stores it; no arithmetic uses it
    deviation = graph.node("Max", [graph.node("Sqrt", [variance], f"{name}/std"),
                                   graph.constant(f"{name}/floor", 1e-7)], f"{name}/deviation")
    centred = graph.node("Sub", [record.inputs[0], mean], f"{name}/centred")
    graph.node("Div", [centred, deviation], name)


@emits("rescaling")
def _rescaling(graph: _Graph, record: Any) -> None:
    name, layer = record.name, record.layer
    scaled = graph.node("Mul", [record.inputs[0], graph.constant(f"{name}/scale", layer.scale)], f"{name}/scaled")
    graph.node("Add", [scaled, graph.constant(f"{name}/offset", layer.offset)], name)


@emits("permute")
def _permute(graph: _Graph, record: Any) -> None:
    graph.node("Transpose", [record.inputs[0]], record.name, perm=[0, *(d + 1 for d in record.layer.dims)])

