"""ONNX → archcalc: read an `.onnx` file (or `.onnx.gz`) with the `onnx` package alone and map every
node to the layer type that declares its op (`Layer.onnx_form`, read by `Layer.from_onnx`); parameter
shapes (initializers or shape-only graph inputs) give the hyper-parameters, node scopes
(`/layer1/layer1.0/conv1/Conv`) the names. Written here, once: constants folded while reading, the
idioms that take several nodes (SiLU as x·Sigmoid(x), GELU through Erf, a channel shuffle, a group
normalisation through InstanceNormalization, a bias or an offset added after a product, a Keras
normalisation, the parts of a Split, PyTorch's local response normalisation as its exporter writes it)
and the layout of channels-last blocks."""

from __future__ import annotations

import contextlib
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ArchcalcError, SpecError, shorten
from ..layers.base import layer_class, registered_types
from ..layers.family import Family
from ..layers.foreign import MAP, Mismatch, OnnxNode, Parameter, Site, float32, whole
from .imported import NETWORK_INPUT, ImportedGraph, Unsupported, check_layer_count
from .importer import CHANNELS_FIRST, CHANNELS_LAST, Aux, Importer, Refused, Skip, Value, foreign_index
from .limits import MiB, read_bounded

# Ops on small integer or float constants (shapes, scales), evaluated while reading.
FOLDED = {"Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Add", "Sub", "Mul", "Div", "Cast"}
# Ops on a parameter that leave it a parameter (its shape, or values computed from it alone).
PARAMETER_OPS = {"Identity", "Reshape", "Unsqueeze", "Squeeze", "Transpose", "Cast", "Sqrt", "Max", "Min", "Clip"}
# Ops that seldom become a layer of their own (values passing through, steps of an idiom); about one
# layer comes of each other node, so their count bounds, before the work, the layers to come.
#: The steps of a recurrent op as archcalc writes it (`import_onnx._OnnxImporter._recurrent_step`).
RECURRENT_STEPS = {"steps_first", "stacked_input", "recurrent_y", "recurrent_y_h", "recurrent_turned",
                   "recurrent_batch_first", "recurrent_last"}
#: The ops whose second input is a layer's learnt kernel (`_OnnxImporter._refuse_shared`). Only kernels: the
#: exporters write equal initializers once (a normalisation's γ of ones, β and biases of zeros, as built),
#: so an affine or a bias read by several layers is no sign of shared weights.
WEIGHTED_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
#: The steps of a layer on each frame (`_OnnxImporter._frame_step`).
FRAME_STEPS = {"frame", "frame in", "frame layer", "frame out"}
IDIOM_STEPS = {"Transpose", "Reshape", "Erf", "Sqrt"}
MAX_GZIP_BYTES = 64 * MiB           # an .onnx.gz: shape-only exports of torchvision's CNNs are under 0.5 MiB
MAX_FILE_BYTES = 2048 * MiB         # an .onnx: protobuf's own limit
MAX_CONSTANT_ELEMENTS = 100_000     # a constant read or folded: shapes and scales; larger is a parameter
# The ops that compute the sizes and pads of F.local_response_norm's steps, as torch.onnx.export writes them.
LRN_SIZE_OPS = {"Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Slice", "Transpose",
                "Cast", "ConstantOfShape", "Sub", "Mul", "Add", "Div", "Equal", "If"}


def read_onnx(path: str | Path, *, input: tuple[int, ...] | None = None, name: str | None = None) -> ImportedGraph:
    """The flat graph of the ONNX model in `path` (`.onnx` or `.onnx.gz`); `input` (C, H, W) replaces the
    file's own input size. Only the file itself is read: another file named by a tensor (ONNX external
    data) is never opened: a weight stored there is counted by its declared shape, any other such tensor
    is refused."""
    import onnx
    from onnx import shape_inference

    path = Path(path)
    source = str(path)
    label = name or re.sub(r"\.onnx(\.gz)?$", "", path.name)
    gzipped = path.suffix == ".gz"
    data = read_bounded(path, MAX_GZIP_BYTES if gzipped else MAX_FILE_BYTES, what="the ONNX model")
    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # noqa: BLE001 - a file onnx cannot read is reported in one line
        raise SpecError(f"not an ONNX model: {' '.join(str(exc).split())[:200]}", file=source) from None
    del data
    no_layer = FOLDED | IDIOM_STEPS | _passing()
    check_layer_count(sum(node.op_type not in no_layer for node in model.graph.node), source)
    _check_text(model, source)
    _check_inline(model, source)
    params = {i.name: _initializer(i, source) for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in params]
    if not inputs:
        raise SpecError("the model has no input", file=source)
    first = inputs[0]
    dims = first.type.tensor_type.shape.dim
    if input:
        if len(input) != len(dims) - 1:
            raise SpecError(f"--input {'x'.join(map(str, input))} has {len(input)} sizes, the model's input "
                            f"{first.name!r} {len(dims) - 1} besides the batch", file=source)
        for dim, size in zip(dims[1:], input):
            dim.dim_value = int(size)
    for extra in inputs[1:]:       # shape-only exports: every further input is a parameter
        params[extra.name] = Parameter(extra.name, tuple(_dims(extra)))
    shape = _dims(first)[1:]
    if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        raise SpecError(f"input {first.name!r} has no fixed size {shape}: give --input", file=source)
    _check_input(shape, source)
    with contextlib.suppress(Exception):    # without inferred shapes, archcalc's own shapes are used
        model = shape_inference.infer_shapes(model, data_prop=_propagates_safely(model))
    shapes = {v.name: _dims(v) for v in [*model.graph.value_info, *model.graph.input, *model.graph.output]}
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), "?")
    producer = f"{model.producer_name} {model.producer_version}".strip() or "unknown"
    graph = ImportedGraph(name=label, input=shape, source=f"{path.name} (ONNX opset {opset}, exported by {producer}; "
                                                   f"read with onnx {onnx.__version__})")
    _OnnxImporter(graph, model.graph, params, shapes, Unsupported(source)).run(first.name)
    return graph


def _check_text(model, source: str) -> None:
    """Refuse a name or op that is not UTF-8 text (the protobuf library then gives bytes)."""
    def texts():
        yield "producer_name", model.producer_name
        yield "producer_version", model.producer_version
        yield from (("an opset's domain", o.domain) for o in model.opset_import)
        graph = model.graph
        for info in [*graph.input, *graph.output, *graph.value_info, *graph.initializer]:
            yield "a value's name", info.name
        for k, node in enumerate(graph.node):
            yield from ((f"node {k}'s {what}", text) for what, text in (
                ("name", node.name), ("op", node.op_type), ("domain", node.domain), *(("input", n) for n in node.input),
                *(("output", n) for n in node.output), *(("attribute name", a.name) for a in node.attribute)))

    for what, text in texts():
        if not isinstance(text, str):
            raise SpecError(f"{what} is not UTF-8 text: {shorten(repr(text))}", file=source)


def _check_inline(model, source: str) -> None:
    """Refuse any tensor stored in another file (ONNX external data) whose values archcalc would read,
    wherever it is, before reading any: only the graph's floating-point weights (as `torch.onnx.export`
    stores them by default) may be elsewhere, since archcalc counts them by their declared shape."""
    from onnx import TensorProto

    float_types = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.DOUBLE}
    def graphs(graph, where):
        yield graph, where
        for node in graph.node:
            for attr in node.attribute:
                for k, sub in enumerate([attr.g] if attr.HasField("g") else list(attr.graphs)):
                    yield from graphs(sub, f"{where}/{node.name or node.op_type}.{attr.name}[{k}]")

    def tensors():
        for graph, where in [g for top, name in [(model.graph, "graph"), *_training_graphs(model)]
                             for g in graphs(top, name)]:
            for tensor in graph.initializer:
                yield f"{where} initializer", tensor
            for sparse in graph.sparse_initializer:
                yield f"{where} sparse initializer", sparse.values
                yield f"{where} sparse initializer", sparse.indices
            for node in graph.node:
                yield from _node_tensors(node, f"{where} node {node.name or node.op_type!r}")
        for function in model.functions:
            for node in function.node:
                yield from _node_tensors(node, f"function {function.name!r} node {node.name or node.op_type!r}")

    weights = {t.name for t in model.graph.initializer if t.data_type in float_types and _elements(t) > 1}
    for where, tensor in tensors():
        if where == "graph initializer" and tensor.name in weights:  # counted by its shape, never read
            continue
        if tensor.data_location == TensorProto.EXTERNAL or len(tensor.external_data):
            location = next((e.value for e in tensor.external_data if e.key == "location"), "")
            raise SpecError(f"{where}: tensor {tensor.name!r} is stored in another file {location!r} (ONNX external "
                            "data), which archcalc never opens: export the model with its parameters inside, or "
                            "without them (export_params=False)", file=source)


def _training_graphs(model):
    for k, info in enumerate(model.training_info):
        yield info.initialization, f"training_info[{k}].initialization"
        yield info.algorithm, f"training_info[{k}].algorithm"


def _node_tensors(node, where: str):
    for attr in node.attribute:
        for tensor in [attr.t] if attr.HasField("t") else list(attr.tensors):
            yield f"{where} attribute {attr.name!r}", tensor
        for sparse in [attr.sparse_tensor] if attr.HasField("sparse_tensor") else list(attr.sparse_tensors):
            yield f"{where} attribute {attr.name!r}", sparse.values
            yield f"{where} attribute {attr.name!r}", sparse.indices


def _check_input(shape: list[int], source: str) -> None:
    from ..analysis import check_size

    try:
        check_size(tuple(shape), "the input")
    except ArchcalcError as exc:
        raise SpecError(exc.message, file=source) from None


def _initializer(tensor, source: str) -> Any:
    """A parameter by its shape; a small stored integer or scalar (pads, clip bounds) as its value."""
    from onnx import TensorProto

    small = tensor.data_type in (TensorProto.INT64, TensorProto.INT32) or _elements(tensor) <= 1
    if small and (tensor.raw_data or tensor.int64_data or tensor.int32_data or tensor.float_data):
        try:
            return _inline(tensor)
        except Refused as exc:
            raise SpecError(f"initializer {tensor.name!r}: {exc}", file=source) from None
    return Parameter(tensor.name, tuple(tensor.dims))


def _elements(tensor) -> int:
    return math.prod(tensor.dims) if all(d >= 0 for d in tensor.dims) else -1


def _inline(tensor) -> Any:
    """A tensor's value, read from the model file's own bytes; past MAX_CONSTANT_ELEMENTS, a parameter
    known by its shape alone."""
    from onnx import numpy_helper
    from onnx.external_data_helper import uses_external_data

    if uses_external_data(tensor):     # refused before reading, by _check_inline: never opened
        raise Refused(f"tensor {tensor.name!r} is stored in another file")
    count = _elements(tensor)
    if count < 0:
        raise Refused(f"tensor {tensor.name!r} has a negative size {list(tensor.dims)}")
    if count > MAX_CONSTANT_ELEMENTS:
        return Parameter(tensor.name, tuple(tensor.dims))
    try:
        return numpy_helper.to_array(tensor)
    except Exception as exc:  # noqa: BLE001 - a tensor whose data does not fit its type and shape
        raise Refused(f"tensor {tensor.name!r} is unreadable ({shorten(' '.join(str(exc).split()), 120)})") from None


def _propagates_safely(model) -> bool:
    """Whether onnx's shape inference may propagate values: it allocates for every element of the vectors
    it reads (a vector declared with 10⁸ elements takes gigabytes), so no declared vector may hold more than
    a constant archcalc reads, and no dimension may be negative or beyond 2³¹."""
    graph = model.graph
    declared = [*(_dims(v) for v in [*graph.input, *graph.value_info]), *(list(t.dims) for t in graph.initializer)]
    for dims in declared:
        sizes = [d for d in dims if d is not None]
        if any(d < 0 or d > 2**31 for d in sizes) or (len(dims) <= 1 and math.prod(sizes) > MAX_CONSTANT_ELEMENTS):
            return False
    return True


def _dims(info) -> list[Any]:
    return [d.dim_value if d.HasField("dim_value") else None for d in info.type.tensor_type.shape.dim]


def _scope(node) -> tuple[tuple[str, ...], str]:
    """The module path and op name of a node: `/layer1/layer1.0/conv1/Conv` → (layer1, 0, conv1), conv."""
    parts = [p for p in node.name.split("/") if p]
    if not parts:
        return (), node.op_type.lower()
    path: list[str] = []
    for part in parts[:-1]:
        pieces = [p for p in part.split(".") if p]      # `..` and empty parts name nothing
        if not pieces:
            continue
        k = max(k for k in range(len(pieces)) if k <= len(path) and path[len(path) - k:] == pieces[:k])
        path += pieces[k:]
    return tuple(path), re.sub(r"\W", "_", parts[-1].lower())


class _OnnxImporter(Importer):
    def __init__(self, graph: ImportedGraph, onnx_graph, params: dict[str, Parameter], inferred: dict,
                 unsupported: Unsupported):
        super().__init__(graph, unsupported)
        self.onnx, self.inferred = onnx_graph, inferred
        self.env: dict[str, Any] = dict(params)
        self.readers: dict[str, list] = {}
        for node in onnx_graph.node:
            for name in node.input:
                self.readers.setdefault(name, []).append(node)
        self.scopes: list[tuple[tuple[str, ...], str]] = []
        self.fused: dict[str, Value] = {}        # a Mul that completes SiLU → the silu layer
        self.steps: dict[str, tuple[str, ...]] = {}    # a parameter computed from another → the ops applied
        self.initializers = set(params)
        self.weights_read: dict[str, str] = {}  # an initializer a layer's op reads as weights → that op's name
        self.where: tuple[tuple[str, ...], str] = ((), "")
        self.lrns, self.lrn_steps = _local_response_norms(onnx_graph, params)
        self.layer_norms, layer_norm_steps = _layer_norms(onnx_graph, params)
        self.lrn_steps |= layer_norm_steps

    def run(self, input_name: str) -> None:
        self.env[input_name] = Value(NETWORK_INPUT)
        for node in self.onnx.node:
            if node.output and node.output[0] in self.lrn_steps:   # a step of a decomposition read as one layer
                continue
            scope, op = _scope(node)
            self.where = (scope, op)
            layers = len(self.graph.layers)
            try:
                results = self._map(node)
                if len(self.graph.layers) > layers and node.op_type in WEIGHTED_OPS:
                    self._refuse_shared(node)
            except Refused as exc:
                self.unsupported.add("/".join((*scope, op)), str(exc))
                results = Aux("refused")
            except Skip:
                results = Aux("refused")
            except ArchcalcError:
                raise
            except Exception as exc:  # noqa: BLE001 - a node that breaks what ONNX promises, in one line
                self.unsupported.add("/".join((*scope, op)), f"unreadable {shorten(node.op_type)} node "
                                     f"({type(exc).__name__}: {shorten(' '.join(str(exc).split()), 120)})")
                results = Aux("refused")
            outputs = results if isinstance(results, list) else [results] * len(node.output)
            self.env.update(zip(node.output, outputs))
        out = self.env.get(self.onnx.output[0].name) if self.onnx.output else None
        self.finish(out, (*self.where[0], "identity"))
        self._name_layers()

    def _refuse_shared(self, node) -> None:
        """Refuse a layer whose kernel an earlier layer reads too (a head on every pyramid level): it
        would be counted once per layer. A file says it with `shares:`, which import does not write."""
        for name in node.input[1:2]:
            if name in self.initializers:
                earlier = self.weights_read.setdefault(name, node.name)
                if earlier != node.name:
                    raise SpecError(f"{node.name!r} reads the weights {name!r} of {earlier!r}: import does not write "
                                    "`shares:` for a layer that applies another's weights (docs/format.md); write it "
                                    "by hand", file=self.unsupported.label)

    def _name_layers(self) -> None:
        """A layer alone in its module scope takes the module's path; others add their op name."""
        count: dict[tuple[str, ...], int] = {}
        for scope, _ in self.scopes:
            for k in range(len(scope) + 1):
                count[scope[:k]] = count.get(scope[:k], 0) + (1 if k == len(scope) else 2)
        for layer, (scope, op) in zip(self.graph.layers, self.scopes):
            layer.path = scope if scope and count[scope] == 1 else (*scope, op)
        self.graph.classes = {p[:k]: _class(p[:k]) for p in (n.path for n in self.graph.layers)
                              for k in range(1, len(p))}

    # --- values --------------------------------------------------------------------------------
    def add(self, path: tuple[str, ...], type_: str, inputs: list[Value], **options: Any) -> Value:
        """A layer named, once every node is read, by its scope and op (`path`'s last part)."""
        self.scopes.append((tuple(path[:-1]), path[-1]))
        return super().add(("",), type_, inputs, **options)

    def _add(self, type_: str, inputs: list[Value], op: str | None = None, **options: Any) -> Value:
        return self.add((*self.where[0], op or self.where[1]), type_, inputs, **options)

    def _get(self, name: str) -> Any:
        if name not in self.env:
            raise Refused(f"reads {name!r}, which no node computes")
        value = self.env[name]
        if isinstance(value, Aux) and value.kind == "refused":
            raise Skip
        return value

    def _tensor(self, name: str) -> Value:
        value = self._get(name)
        if not isinstance(value, Value):
            raise Refused("expects a feature map here")
        return value

    def _const(self, name: str) -> np.ndarray:
        value = self._get(name)
        if not isinstance(value, np.ndarray):
            raise Refused(f"{name!r} must be a constant")
        return value

    def _ints(self, name: str) -> list[int]:
        """The integer constant `name` (pads, starts, sizes) as a list of ints."""
        value = self._const(name)
        if value.dtype.kind not in "iu":
            raise Refused(f"{name!r} must hold integers")
        return [int(v) for v in value.reshape(-1)]

    def _shape(self, name: str) -> list[int]:
        shape = self.inferred.get(name)
        if not shape or None in shape:
            raise Refused(f"the shape of {name!r} is unknown")
        return shape

    def _channels(self, name: str, x: Value) -> int:
        """The channels of the map `name`: from ONNX's shape inference, else from archcalc's own."""
        shape = self.inferred.get(name) or []
        known = shape[-1 if x.channels_last else 1] if len(shape) > 1 else None
        if known:
            return known
        tracked = self.shape(x.index)
        if not tracked:
            raise Refused(f"the shape of {name!r} is unknown")
        return tracked[0]

    def _alone(self, name: str) -> bool:
        """Whether exactly one node reads the tensor `name` (and the graph does not return it)."""
        return len(self.readers.get(name, [])) == 1 and name not in {o.name for o in self.onnx.output}

    # --- mapping -------------------------------------------------------------------------------
    def _map(self, node) -> Any:
        op = node.op_type
        if not node.output or not all(node.output):
            raise Refused(f"{op} has no output")
        if not node.input and op != "Constant":
            raise Refused(f"{op} has no input")
        if any(isinstance(self.env.get(i), Aux) and self.env[i].kind == "refused" for i in node.input):
            raise Skip
        attrs = _attributes(node)
        if op in FOLDED and all(isinstance(self.env.get(i), np.ndarray) or op == "Shape" for i in node.input):
            return self._fold(node, op, attrs)
        if node.output[0] in self.fused:
            return self.fused[node.output[0]]
        if node.output[0] in self.lrns:
            x, params = self.lrns[node.output[0]]
            return self._add("lrn", [self.explicit(self._tensor(x), (*self.where[0], "permute"))], op="lrn", **params)
        if node.output[0] in self.layer_norms:
            x, scale, shift, eps = self.layer_norms[node.output[0]]
            return self._dispatch_values("LayerNormalization", {"axis": -1, "epsilon": eps},
                                         [self._get(x), *(self._get(p) if p else None for p in (scale, shift))], 1)
        first = self._get(node.input[0])
        if op in _passing() and isinstance(first, np.ndarray):
            return first
        if isinstance(first, Parameter) and op in PARAMETER_OPS:
            return self._parameter(node, op, attrs, first)
        if isinstance(first, Parameter) and self._rearranges(node, op):   # a recurrent op's gates and directions
            return Parameter(first.name, tuple(self.inferred.get(node.output[0]) or ()) or None)
        if any(isinstance(self.env.get(i), Aux) for i in node.input):
            return self._idiom(node, op, attrs)
        if op == "Transpose" and isinstance(first, Value) and list(attrs.get("perm", [])) == [1, 0, 2] and \
                self._read_by_recurrent(node.output[0]):
            return Aux("steps_first", first)
        if op == "Transpose" and isinstance(first, Value):
            turned = self._turn(first, attrs)
            if turned is not None:
                return turned
        absorbed = self._absorbed(node, op)
        if absorbed is not None:
            return absorbed
        if op == "Div" and isinstance(first, Value) and isinstance(self.env.get(node.input[1]), np.ndarray) \
                and np.allclose(self._const(node.input[1]), np.sqrt(2)):
            return Aux("gelu_div", first)
        if op == "Sub" and isinstance(first, Value) and isinstance(self.env.get(node.input[1]), Parameter):
            return Aux("centred", (first, self.env[node.input[1]]))
        if op == "Sigmoid" and isinstance(first, Value) and self._silu_mul(node):
            value = self._add("silu", [first], channels_last=first.channels_last, inplace=False)
            self.fused[self._silu_mul(node)] = value
            return value
        if op == "Reshape":
            return self._reshape(node, self._tensor(node.input[0]))
        if op == "Split" and self._frames(node, attrs, first):
            return [Aux("frame", (first, t)) for t in range(len(node.output))]
        if op == "Split":
            return self._split(node, attrs, self._tensor(node.input[0]))
        return self._dispatch(node, op, attrs)

    def _dispatch(self, node, op: str, attrs: dict) -> Any:
        """The layer the node is, by the classes declaring its op."""
        values = [self._get(name) if name else None for name in node.input]
        return self._dispatch_values(op, attrs, values, sum(1 for name in node.output if name))

    def _dispatch_values(self, op: str, attrs: dict, values: list[Any], outputs: int) -> Any:
        """The layer an `op` node of these input values and number of outputs is."""
        maps: list[Value] = []
        inputs = []
        for value in values:
            if isinstance(value, Value):
                maps.append(value)
                value = MAP
            inputs.append(value)
        if not maps:
            raise Refused(f"{op} of no feature map has no archcalc layer type")
        parameters = [value for value in inputs if isinstance(value, Parameter)]
        path = None
        if op in ("Mul", "Add") and len(inputs) == 2 and len(parameters) == 1:   # a map times a parameter:
            *owner, own = parameters[0].name.split(".")                            # named after the parameter
            path = (*owner, own)

        def add(type_: str, values: list[Value], last: bool, params: dict) -> Value:
            if type_ == "add" and len({self.shape(v.index) for v in values}) > 1:     # x + context (GCNet)
                params = {**params, "broadcast": True}
            if path is None:
                return self._add(type_, values, channels_last=last, **params)
            return self.add(path, type_, values, channels_last=last, **params)

        return self.dispatch(op, foreign_index().onnx_ops.get(op, ()), maps,
                             lambda cls, site: cls.from_onnx(OnnxNode(op, attrs, tuple(inputs), outputs, site)),
                             add, (*self.where[0], "permute"))

    def _parameter(self, node, op: str, attrs: dict, value: Parameter) -> Parameter:
        """A parameter reshaped, transposed or computed from (`Sqrt`, `Max` with a constant): still a
        parameter, of its new shape, remembering the ops applied to it."""
        shape = value.shape
        if op == "Transpose":
            perm = list(attrs.get("perm", []))
            shape = tuple(shape[p] for p in perm) if perm else shape[::-1]
        elif op in ("Reshape", "Unsqueeze", "Squeeze"):
            inferred = self.inferred.get(node.output[0])
            shape = tuple(inferred) if inferred and None not in inferred else _reshaped(
                shape, self._ints(node.input[1]) if op == "Reshape" else None, op)
        self.steps[node.output[0]] = (*self.steps.get(node.input[0], ()), op)
        return Parameter(value.name, shape)

    def _turn(self, x: Value, attrs: dict) -> Value | None:
        """`x` with its channels moved last, or back to second, where the Transpose does only that."""
        perm = list(attrs.get("perm", []))
        if perm == CHANNELS_LAST and not x.channels_last:
            return Value(x.index, True)
        if perm == CHANNELS_FIRST and x.channels_last:
            return Value(x.index, False)
        return None

    def _silu_mul(self, node) -> str | None:
        """The output of the Mul x · Sigmoid(x) when that is the Sigmoid's only reader (SiLU exported)."""
        out = node.output[0]
        readers = self.readers.get(out, [])
        if len(readers) == 1 and readers[0].op_type == "Mul" \
                and sorted(readers[0].input) == sorted([node.input[0], out]):
            return readers[0].output[0]
        return None

    def _absorbed(self, node, op: str) -> Any:
        """An `Add` or `Mul` that completes the layer it alone reads: the third map of a sum or product
        (a + b + c), the bias of a `MatMul`, the offset of a rescaling (x · s + o), the window area of a sum
        pooling (an average pooling times the area), the γ and β of a group normalisation (written as a
        layer scale and an addition)."""
        if op not in ("Add", "Mul") or len(node.input) != 2:
            return None
        values = [self.env.get(i) for i in node.input]
        k = next((k for k, v in enumerate(values) if isinstance(v, Value) and v.index >= 0), None)
        if k is None or not self._alone(node.input[k]):
            return None
        x, other, kind = values[k], values[1 - k], self.layer_type(values[k])
        params = self.params(x)
        if k == 0 and isinstance(other, Value) and kind in _joins(op) and x.channels_last == other.channels_last \
                and not (op == "Mul" and x.channels_last):
            self.graph.layers[x.index].inputs.append(other.index)      # a + b + c: one sum of three maps
            return self.update(x)
        if op == "Add" and isinstance(other, Parameter) and layer_class(kind).family is Family.LINEAR \
                and not params["bias"]:
            return self.update(x, bias=True)
        if op == "Add" and isinstance(other, np.ndarray) and other.size == 1 and kind == "rescaling" \
                and not params.get("offset"):
            return self.update(x, offset=float(other.reshape(-1)[0]))
        if op == "Mul" and isinstance(other, np.ndarray) and kind == "avgpool" and params.get("count_include_pad"):
            kernel = params["kernel_size"]
            area = kernel * kernel if isinstance(kernel, int) else kernel[0] * kernel[1]
            if other.size and np.allclose(other, area):
                summed = {key: value for key, value in params.items() if key != "count_include_pad"}
                self.graph.layers[x.index].params = summed
                return self.update(x, "sumpool")
        if op == "Mul" and isinstance(other, Parameter) and kind == "groupnorm" and not params.get("affine", True) \
                and other.size == self._channels(node.input[k], x):
            return Aux("groupnorm_scaled", x)
        return None

    def _idiom(self, node, op: str, attrs: dict) -> Any:
        """The steps of an idiom: the erf GELU (x/√2 → Erf → + 1 → · x → · 0.5), the channel shuffle
        (Reshape → Transpose → Reshape), the group normalisation (Reshape → InstanceNormalization →
        Reshape, γ and β), a Keras normalisation ((x − mean) / max(√variance, ε))."""
        values = [self._get(i) for i in node.input]
        aux = next(v for v in values if isinstance(v, Aux))
        other = [v for v in values if v is not aux]
        steps = {("gelu_div", "Erf"): "gelu_erf", ("gelu_erf", "Add"): "gelu_plus", ("gelu_plus", "Mul"): "gelu_mul"}
        if (aux.kind, op) in steps:
            constant = {"Erf": None, "Add": 1.0}.get(op)
            if op == "Mul" and other[0] is not aux.value:
                raise Refused("this Mul has no archcalc layer type")
            if constant is not None and not (isinstance(other[0], np.ndarray) and np.allclose(other[0], constant)):
                raise Refused(f"this {op} has no archcalc layer type")
            return Aux(steps[aux.kind, op], aux.value)
        if aux.kind == "gelu_mul" and op == "Mul" and isinstance(other[0], np.ndarray) and np.allclose(other[0], 0.5):
            x = aux.value
            return self._add("gelu", [x], channels_last=x.channels_last, inplace=False)
        if aux.kind in FRAME_STEPS:
            return self._frame_step(node, op, attrs, aux, values)
        if aux.kind in RECURRENT_STEPS:
            return self._recurrent_step(node, op, attrs, aux)
        if aux.kind == "shuffle5d" and op == "Transpose" and list(attrs.get("perm", [])) == [0, 2, 1, 3, 4]:
            return Aux("shuffled", aux.value)
        if aux.kind == "shuffled" and op == "Reshape":
            x, groups = aux.value
            return self._add("channelshuffle", [x], op="channel_shuffle", groups=groups)
        if aux.kind == "grouped" and op == "InstanceNormalization" and len(other) == 2 \
                and all(isinstance(v, np.ndarray) for v in other) \
                and np.allclose(other[0], 1.0) and np.allclose(other[1], 0.0):
            return Aux("group_normal", (*aux.value, float32(attrs.get("epsilon", 1e-5))))
        if aux.kind == "group_normal" and op == "Reshape":
            x, groups, eps = aux.value
            return self._add("groupnorm", [x], num_groups=groups, eps=eps, affine=False)
        if aux.kind == "groupnorm_scaled" and op == "Add" and isinstance(other[0], Parameter) \
                and other[0].size == self._channels(node.output[0], aux.value):
            return self.update(aux.value, affine=True)
        if aux.kind == "centred" and op == "Div" and isinstance(other[0], Parameter) \
                and self._standardises(aux.value[1], node.input[1], other[0]):
            return self._add("normalization", [self.explicit(aux.value[0], (*self.where[0], "permute"))])
        raise Refused(f"{op} has no archcalc layer type here")

    def _rearranges(self, node, op: str) -> bool:
        """Whether the node only rearranges parameters: a Gather by constant indices, a Concat of parameters."""
        rest = [self.env.get(name) for name in node.input[1:]]
        return op == "Gather" and len(rest) == 1 and isinstance(rest[0], np.ndarray) or \
            op == "Concat" and all(isinstance(value, Parameter) for value in rest)

    def _frames(self, node, attrs: dict, x: Any) -> bool:
        """Whether the Split cuts the T frames of `x` (T, ...) apart, each read by a Squeeze of that axis alone."""
        shape = self.shape(x.index) if isinstance(x, Value) else None
        if not shape or len(shape) < 2 or whole(attrs.get("axis", 0)) != 1 or len(node.output) != shape[0]:
            return False
        readers = [self.readers.get(name, []) for name in node.output]
        return all(len(r) == 1 and r[0].op_type == "Squeeze" and len(r[0].input) == 2 and
                   isinstance(self.env.get(r[0].input[1]), np.ndarray) and self._ints(r[0].input[1]) == [1]
                   for r in readers)

    def _frame_step(self, node, op: str, attrs: dict, aux: Aux, values: list) -> Any:
        """A layer on each frame as archcalc writes it (`timedistributed`): Split along the frames, on each
        frame Squeeze, the layer's op, Unsqueeze, and the frames joined by Concat."""
        if aux.kind == "frame" and op == "Squeeze":
            return Aux("frame in", aux.value)
        if aux.kind == "frame in" and values[0] is aux:
            x, t = aux.value
            return Aux("frame layer", (*self._frame_layer(node, op, attrs, x), t))
        if aux.kind == "frame layer" and op == "Unsqueeze":
            return Aux("frame out", aux.value)
        if op == "Concat" and whole(attrs.get("axis", 0)) == 1 and all(
                isinstance(v, Aux) and v.kind == "frame out" for v in values):
            x, entry, steps, _ = values[0].value
            if [v.value for v in values] != [(x, entry, steps, t) for t in range(steps)]:
                raise Refused("Concat of frames must join the same layer on every frame, in order")
            entry = dict(entry)
            return self._add("timedistributed", [x], op=entry.pop("op"), layer=entry)
        raise Refused(f"{op} between the frames of a layer on each frame has no archcalc layer type")

    def _frame_layer(self, node, op: str, attrs: dict, x: Value) -> tuple:
        """An op on one frame of `x`: (x, the layer it is on one frame, T)."""
        steps, *frame = self.shape(x.index) or (None,)
        inputs = tuple(MAP if k == 0 else (self._get(name) if name else None) for k, name in enumerate(node.input))
        reasons = []
        for cls in foreign_index().onnx_ops.get(op, ()):
            try:
                found = cls.from_onnx(OnnxNode(op, attrs, inputs, len(node.output), Site(tuple(frame))))
            except Mismatch as exc:
                reasons.append(str(exc))
                continue
            return x, {"type": cls.type_name, **(found or {}), "op": op.lower()}, steps
        raise Refused(reasons[0] if reasons else f"{op} on each frame has no archcalc layer type")

    def _read_by_recurrent(self, name: str) -> bool:
        """Whether every reader of `name` is a recurrent op (which reads its steps first)."""
        readers = self.readers.get(name, [])
        return bool(readers) and all(any(getattr(cls, "returns_state", False)
                                         for cls in foreign_index().onnx_ops.get(r.op_type, ())) for r in readers)

    def _recurrent_step(self, node, op: str, attrs: dict, aux: Aux) -> Any:
        """A recurrent layer as archcalc writes it: the steps first (Transpose), one op per stacked layer, its
        Y turned back to (T, N, D·h) for the next; then the output (N, T, D·h), or Y_h as (N, D·h)."""
        kind, x = aux.kind, aux.value
        perm = list(attrs.get("perm", []))
        recurrent = any(getattr(cls, "returns_state", False) for cls in foreign_index().onnx_ops.get(op, ()))
        if kind in ("steps_first", "stacked_input") and recurrent:
            x = self._recurrent_layer(node, op, attrs, x, stacked=kind == "stacked_input")
            return [Aux("recurrent_y", x), Aux("recurrent_y_h", x), Aux("refused")][:len(node.output)]
        following = {("recurrent_y", "Transpose", (0, 2, 1, 3)): "recurrent_turned",
                     ("recurrent_turned", "Reshape", None): "stacked_input",
                     ("recurrent_y", "Transpose", (2, 0, 1, 3)): "recurrent_batch_first",
                     ("recurrent_y_h", "Transpose", (1, 0, 2)): "recurrent_last"}
        step = (kind, op, tuple(perm) if op == "Transpose" else None)
        if step in following:
            return Aux(following[step], x)
        if (kind, op) == ("recurrent_batch_first", "Reshape"):
            return x
        if (kind, op) == ("recurrent_last", "Reshape"):
            return self.update(x, return_sequences=False)
        raise Refused(f"{op} of a recurrent op's outputs has no archcalc layer type here")

    def _recurrent_layer(self, node, op: str, attrs: dict, x: Value, stacked: bool) -> Value:
        """The recurrent op on `x` as a new layer, or as one more layer of the stack `x` is (`stacked`)."""
        inputs = tuple(MAP if k == 0 else (self._get(name) if name else None) for k, name in enumerate(node.input))
        classes = foreign_index().onnx_ops.get(op, ())
        if not stacked:
            return self.dispatch(op, classes, [x],
                                 lambda cls, site: cls.from_onnx(OnnxNode(op, attrs, inputs, len(node.output), site)),
                                 lambda type_, values, last, params: self._add(type_, values, **params),
                                 (*self.where[0], "permute"))
        cls = layer_class(self.layer_type(x))
        try:
            found = cls.from_onnx(OnnxNode(op, attrs, inputs, len(node.output), self.site(x)))
        except Mismatch as exc:
            raise Refused(str(exc)) from None
        params = self.params(x)
        if cls not in classes or any(params.get(key) != value for key, value in found.items()):
            raise Refused(f"{op} on another recurrent op's output must be a further layer of the same kind")
        return self.update(x, num_layers=params.get("num_layers", 1) + 1)

    def _standardises(self, mean: Parameter, divisor_name: str, divisor: Parameter) -> bool:
        """Whether (x − mean) / divisor is a Keras normalisation as archcalc exports it: the divisor the
        square root of a variance, both of one layer that stores exactly the tensors the `normalization`
        type declares (mean, variance and the count of samples)."""
        prefix = mean.name.rpartition(".")[0]
        declared = {p.name for p in layer_class("normalization")().parameters([(1,)])}
        return "Sqrt" in self.steps.get(divisor_name, ()) and divisor.name.rpartition(".")[0] == prefix and \
            {name.rpartition(".")[2] for name in self.initializers if name.rpartition(".")[0] == prefix} == declared

    def _reshape(self, node, x: Value) -> Any:
        """A Reshape of a map: to (N, −1) a flatten; the first step of a channel shuffle (to (N, g, C/g, H,
        W), transposed next) or of a group normalisation (to (N, G, −1), normalised next); to any other
        (N, ...) of constant sizes a `reshape`."""
        x = self.explicit(x, (*self.where[0], "permute"))
        out = self.inferred.get(node.output[0]) or self._ints(node.input[1])
        if len(out) == 2:
            return self._add("flatten", [x])
        channels = self._channels(node.input[0], x)
        read_by = [reader.op_type for reader in self.readers.get(node.output[0], [])]
        if len(out) == 5 and out[1] and out[2] and out[1] * out[2] == channels and read_by == ["Transpose"]:
            return Aux("shuffle5d", (x, int(out[1])))
        if len(out) == 3 and out[1] and out[1] > 0 and channels % out[1] == 0 \
                and read_by == ["InstanceNormalization"]:
            return Aux("grouped", (x, int(out[1])))
        if len(out) > 2 and self._keeps_batch(node, out):
            return self._add("reshape", [x], shape=[int(s) for s in out[1:]])
        raise Refused(f"Reshape to {out} has no archcalc layer type")

    def _keeps_batch(self, node, out: list) -> bool:
        """Whether the Reshape to `out` keeps the batch axis and lays each sample out as sizes of its own:
        the batch copied (0) or the input's own, the rest constant (one may be −1)."""
        rest = out[1:]
        if not all(isinstance(s, (int, np.integer)) and (s > 0 or s == -1) for s in rest) or rest.count(-1) > 1:
            return False
        batch = (self.inferred.get(node.input[0]) or [None])[0]
        return out[0] == 0 or out[0] == batch

    def _split(self, node, attrs: dict, x: Value) -> list[Value]:
        """A Split of the channels: one `slice` layer per part."""
        x = self.explicit(x, (*self.where[0], "permute"))
        channels = self._channels(node.input[0], x)
        if whole(attrs.get("axis", 0)) % 4 != 1:
            raise Refused("Split must cut channels (axis 1)")
        if len(node.input) > 1 and node.input[1]:
            sizes = self._ints(node.input[1])
            if min(sizes, default=-1) < 0 or sum(sizes) != channels or len(sizes) != len(node.output):
                raise Refused(f"Split sizes {sizes} must cut the {channels} channels into its {len(node.output)} "
                              "outputs")
        else:
            parts = len(node.output)
            step = -(-channels // parts)
            sizes = [min(step, channels - k * step) for k in range(parts)]
        bounds = np.cumsum([0, *sizes])
        return [self._add("slice", [x], op=f"slice_{k}", start=int(a), end=int(b))
                for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]

    def _fold(self, node, op: str, attrs: dict) -> Any:
        """The value of an op on constants; its size is checked before it is computed."""
        if op == "Constant":
            for key in ("value", "value_int", "value_ints", "value_float", "value_floats"):
                if key in attrs:
                    return attrs[key] if isinstance(attrs[key], (np.ndarray, Parameter)) else np.asarray(attrs[key])
            raise Refused(f"a Constant without value, value_int(s) or value_float(s) has no use here "
                           f"({', '.join(attrs) or 'no attribute'})")
        if op == "Shape":
            return np.array(self._shape(node.input[0]), dtype=np.int64)
        args = [self.env[i] for i in node.input]
        with np.errstate(all="raise"):
            if op == "Gather":
                data, indices = args
                axis = whole(attrs.get("axis", 0))
                if not -data.ndim <= axis < data.ndim or indices.dtype.kind not in "iu":
                    raise Refused(f"Gather on axis {axis} of a {data.ndim}-D constant, by {indices.dtype} indices")
                size = data.shape[axis]
                if indices.size and not (-size <= indices.min() and indices.max() < size):
                    raise Refused(f"Gather index out of range 0…{size - 1}")
                _foldable([*data.shape[:axis], *indices.shape, *data.shape[axis + 1:]])
                return np.take(data, indices, axis=axis)
            if op == "Unsqueeze":
                axes = attrs.get("axes") or [int(a) for a in args[1]]
                return np.expand_dims(args[0], tuple(whole(a) for a in axes))
            if op == "Squeeze":
                return np.squeeze(args[0])
            if op == "Concat":
                _foldable([sum(a.size for a in args)])
                return np.concatenate([np.atleast_1d(a) for a in args], axis=whole(attrs.get("axis", 0)))
            if op == "Cast":
                return args[0]
            a, b = args
            _foldable(np.broadcast_shapes(a.shape, b.shape))
            if op == "Div" and a.dtype.kind in "iu" and b.dtype.kind in "iu":
                return a // b
            return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](a, b)


def _local_response_norms(graph, params: dict[str, Any]) -> tuple[dict[str, tuple[str, dict]], set[str]]:
    """PyTorch's `F.local_response_norm(x, size, alpha, beta, k)` as torch.onnx.export writes it:
    x / (AveragePool₃d(Pad(Reshape(x · x)), (size, 1, 1)) · alpha + k)^beta, with the sizes and pads
    computed by shape ops. By the first output of each final `Div`: its map and hyper-parameters; and the
    first outputs of the nodes only it reads, which are no layer of their own."""
    producers, readers = _links(graph)

    def made(name: str, op: str):
        node = producers.get(name)
        return node if node is not None and node.op_type == op and len(node.input) == 2 else None

    def number(name: str) -> float | None:
        value = _scalar(name, producers, params)
        return None if value is None else float32(value)

    def operands(node) -> tuple[str, float | None]:
        """The operand of a binary node that is no constant, and the constant."""
        a, b = node.input
        return (a, number(b)) if number(a) is None else (b, number(a))

    found, steps = {}, set()
    for div in graph.node:
        power = made(div.input[1], "Pow") if div.op_type == "Div" and len(div.input) == 2 else None
        shifted = made(power.input[0], "Add") if power is not None else None
        scaled = made(operands(shifted)[0], "Mul") if shifted is not None else None
        if scaled is None or number(power.input[1]) is None or None in (operands(shifted)[1], operands(scaled)[1]):
            continue
        x, inner = div.input[0], set()
        pending = [operands(scaled)[0]]
        while pending:
            node = producers.get(pending.pop())
            if node is not None and id(node) not in inner:
                inner.add(id(node))
                pending += [name for name in _reads(node) if name != x]
        nodes = [node for node in graph.node if id(node) in inner]
        pools = [node for node in nodes if node.op_type == "AveragePool"]
        squares = [node for node in nodes if node.op_type == "Mul" and list(node.input) == [x, x]]
        kernel = list(_attributes(pools[0]).get("kernel_shape", [])) if len(pools) == 1 else []
        if len(squares) != 1 or len(kernel) != 3 or kernel[1:] != [1, 1] \
                or any(n.op_type not in LRN_SIZE_OPS | {"Pad", "AveragePool"} for n in nodes) \
                or sum(n.op_type == "Pad" for n in nodes) != 1 or _attributes(pools[0]).get("count_include_pad") != 1:
            continue
        found[div.output[0]] = (x, {"size": int(kernel[0]), "alpha": operands(scaled)[1],
                                    "beta": number(power.input[1]), "k": operands(shifted)[1]})
        chain = inner | {id(scaled), id(shifted), id(power)}
        for node in reversed(nodes):        # a node read also outside the decomposition is kept
            if any(id(r) not in chain and id(r) != id(div) for name in node.output for r in readers.get(name, [])) \
                    or any(name in {o.name for o in graph.output} for name in node.output):
                chain.discard(id(node))
        steps |= chain
    return found, {node.output[0] for node in graph.node if id(node) in steps and node.output}


def _layer_norms(graph, params: dict[str, Any]) -> tuple[dict[str, tuple], set[str]]:
    """`nn.LayerNorm` over the last axis as torch.onnx.export writes it before opset 17:
    d = x − ReduceMean(x), d / Sqrt(ReduceMean(d ^ 2) + eps), then · γ + β. By the first output of the
    last node: (x, γ's name or None, β's name or None, eps); and the first outputs of the other nodes,
    which are no layer of their own."""
    producers, readers = _links(graph)

    def made(name: str, op: str):
        node = producers.get(name)
        return node if node is not None and node.op_type == op else None

    def number(name: str) -> float | None:
        value = _scalar(name, producers, params)
        return None if value is None else float(value)

    def parameter(name: str) -> Any:
        """The initializer `name` is, through the `Identity` nodes that share equal initializers."""
        for _ in range(len(producers) + 1):
            node = producers.get(name)
            if node is None or node.op_type != "Identity":
                return params.get(name)
            name = node.input[0]
        return None

    def last_axis_mean(node) -> bool:
        attrs = _attributes(node)
        return list(attrs.get("axes", [])) == [-1] and attrs.get("keepdims", 1) == 1

    def only_reader(name: str):
        found = readers.get(name, [])
        return found[0] if len(found) == 1 and name not in {o.name for o in graph.output} else None

    def affine(node, op: str) -> tuple[Any, str | None]:
        """The node applying γ (Mul) or β (Add) of one value per channel after `node`, if any."""
        after = only_reader(node.output[0])
        if after is None or after.op_type != op or len(after.input) != 2:
            return node, None
        other = [name for name in after.input if name != node.output[0]]
        value = parameter(other[0]) if len(other) == 1 else None
        return (after, other[0]) if isinstance(value, Parameter) and len(value.shape or ()) == 1 else (node, None)

    found, steps = {}, set()
    for div in graph.node:
        if div.op_type != "Div" or len(div.input) != 2:
            continue
        sub, sqrt = made(div.input[0], "Sub"), made(div.input[1], "Sqrt")
        shifted = made(sqrt.input[0], "Add") if sqrt is not None else None
        variance = next((made(name, "ReduceMean") for name in (shifted.input if shifted is not None else ())
                         if made(name, "ReduceMean") is not None), None)
        square = made(variance.input[0], "Pow") if variance is not None else None
        mean = made(sub.input[1], "ReduceMean") if sub is not None and len(sub.input) == 2 else None
        if None in (sub, shifted, variance, square, mean) or square.input[0] != sub.output[0] \
                or number(square.input[1]) != 2 or mean.input[0] != sub.input[0] \
                or not (last_axis_mean(mean) and last_axis_mean(variance)):
            continue
        eps = number(next(name for name in shifted.input if name != variance.output[0]))
        if eps is None:
            continue
        scaled, scale = affine(div, "Mul")
        last, shift = affine(scaled, "Add")
        chain = [mean, sub, square, variance, shifted, sqrt, div, scaled]
        outside = [n for n in chain[:-1] for name in n.output for r in readers.get(name, [])
                   if id(r) not in {id(c) for c in (*chain, last)}]
        if outside:            # a step read elsewhere: not a layer normalisation alone
            continue
        found[last.output[0]] = (sub.input[0], scale, shift, eps)
        steps |= {id(n) for n in chain if n is not last}
        steps |= {id(producers[name]) for name in (square.input[1], *shifted.input) if name in producers
                  and producers[name].op_type == "Constant" and len(readers.get(name, [])) == 1}
    return found, {node.output[0] for node in graph.node if id(node) in steps and node.output}


def _links(graph) -> tuple[dict[str, Any], dict[str, list]]:
    """The node computing each value, and the nodes reading each value."""
    producers = {name: node for node in graph.node for name in node.output}
    readers: dict[str, list] = {}
    for node in graph.node:
        for name in _reads(node):
            readers.setdefault(name, []).append(node)
    return producers, readers


def _scalar(name: str, producers: dict[str, Any], params: dict[str, Any]) -> Any:
    """The one number a stored initializer or a `Constant` node holds as `name`, or None."""
    node = producers.get(name)
    value = params.get(name) if node is None else _attributes(node).get("value") \
        if node.op_type == "Constant" else None
    return value.reshape(-1)[0] if isinstance(value, np.ndarray) and value.size == 1 else None


def _reads(node) -> list[str]:
    """The values a node reads: its inputs and those its subgraphs (an `If`'s branches) take from outside."""
    names = [name for name in node.input if name]
    for attr in node.attribute:
        for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
            inside = {name for n in sub.node for name in n.output}
            names += [name for n in sub.node for name in _reads(n) if name not in inside]
    return names


def _foldable(shape) -> None:
    """Refuse to compute a constant of more than MAX_CONSTANT_ELEMENTS elements."""
    if math.prod(shape) > MAX_CONSTANT_ELEMENTS:
        raise Refused(f"computing a constant of shape {list(shape)} (more than {MAX_CONSTANT_ELEMENTS:,} elements)")


def _attributes(node) -> dict[str, Any]:
    """A node's attributes as Python values; a tensor as its value (read from the file's own bytes only)."""
    from onnx import AttributeProto, helper

    out = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if attr.type == AttributeProto.TENSOR:
            value = _inline(value)
        elif isinstance(value, bytes):
            try:
                value = value.decode()
            except UnicodeDecodeError:
                raise Refused(f"attribute {attr.name!r} is not UTF-8 text: {shorten(repr(value))}") from None
        elif isinstance(value, list):
            value = [int(v) if isinstance(v, int) else v for v in value]
        out[attr.name] = value
    return out


def _class(path: tuple[str, ...]) -> str:
    """A stand-in for the module class ONNX does not record: the name without its number
    (`layer1` → layer); a numbered child adds `_block` per number (`features/2/0` → features_block_block)."""
    named = [p for p in path if not p.isdigit()]
    base = re.sub(r"[\d_]+$", "", named[-1] if named else "") or "block"
    numbers = len(path) - 1 - max((k for k, p in enumerate(path) if not p.isdigit()), default=-1)
    return base + "_block" * numbers


def _passing() -> set[str]:
    """The ops of the types that are the identity at inference (`Identity`, `Dropout`): values pass through."""
    return {op for cls in registered_types().values() if cls.identity_at_inference for op in cls.onnx_form.ops}


def _joins(op: str) -> set[str]:
    """The types `op` writes that join any number of maps (`Add`: add)."""
    return {cls.type_name for cls in foreign_index().onnx_ops.get(op, ()) if cls.inputs_allowed[1] is None}


def _reshaped(shape: tuple[int, ...], target: list[int] | None, op: str) -> tuple[int, ...]:
    """A parameter's shape after a Reshape to `target` (0: the size kept, −1: the rest); after an
    Unsqueeze or Squeeze, its size is all that matters: the shape as it was."""
    if target is None:
        return shape
    size = math.prod(shape)
    dims = [shape[k] if d == 0 and k < len(shape) else d for k, d in enumerate(target)]
    if dims.count(-1) == 1:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = size // known if known else 0
    return tuple(dims)
