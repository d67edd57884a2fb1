"""ONNX → archcalc: read an `.onnx` file (or `.onnx.gz`) with the `onnx` package alone and map every
node to a layer type; parameter shapes (initializers or shape-only graph inputs) give the
hyper-parameters, node scopes (`/layer1/layer1.0/conv1/Conv`) the names."""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ArchcalcError, SpecError, shorten
from .graph import NETWORK_INPUT, Graph, Unsupported, check_layer_count, pair, whole
from .limits import MiB, read_bounded

ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hardswish", "Elu": "elu",
               "LeakyRelu": "leakyrelu"}
CHANNELS_LAST, CHANNELS_FIRST = [0, 2, 3, 1], [0, 3, 1, 2]
# Ops on small integer or float constants (shapes, scales), evaluated while reading.
FOLDED = {"Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Add", "Sub", "Mul", "Div", "Cast"}
# Ops that never become a layer of their own (values passing through, steps of an idiom); each other
# node becomes at most one layer or is refused, so their count is a bound known before the work.
NO_LAYER = FOLDED | {"Identity", "Dropout", "Transpose", "Reshape", "Erf"}
MAX_GZIP_BYTES = 64 * MiB           # an .onnx.gz: shape-only exports of torchvision's CNNs are under 0.5 MiB
MAX_FILE_BYTES = 2048 * MiB         # an .onnx: protobuf's own limit
MAX_CONSTANT_ELEMENTS = 100_000     # a constant read or folded: shapes and scales; larger is a parameter
MAX_SHAPE_ANALYSES = 100            # maps whose channels archcalc infers itself (ONNX's shape inference failed)


@dataclass
class _Value:
    """A feature map: the node holding it and whether it is laid out (H, W, C) by a Transpose."""

    index: int
    channels_last: bool = False


@dataclass
class _Param:
    """A parameter (initializer or shape-only graph input): only its shape matters."""

    shape: tuple[int, ...]
    name: str


@dataclass
class _Aux:
    """A value in the middle of a known idiom (channel shuffle, erf GELU)."""

    kind: str
    value: Any = None


class _Refused(Exception):
    pass


class _Skip(Exception):
    """An op reading a refused one: already reported."""


def read_onnx(path: str | Path, *, input: tuple[int, ...] | None = None, name: str | None = None) -> Graph:
    """The flat graph of the ONNX model in `path` (`.onnx` or `.onnx.gz`); `input` (C, H, W) replaces the
    file's own input size. Only the file itself is read: a tensor stored in another file (ONNX external
    data) is refused, never opened."""
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
    check_layer_count(sum(node.op_type not in NO_LAYER for node in model.graph.node), source)
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
        params[extra.name] = _Param(tuple(_dims(extra)), extra.name)
    shape = _dims(first)[1:]
    if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        raise SpecError(f"input {first.name!r} has no fixed size {shape}: give --input", file=source)
    _check_input(shape, source)
    with contextlib.suppress(Exception):    # without inferred shapes, archcalc's own shapes are used
        model = shape_inference.infer_shapes(model, data_prop=True)
    shapes = {v.name: _dims(v) for v in [*model.graph.value_info, *model.graph.input, *model.graph.output]}
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), "?")
    producer = f"{model.producer_name} {model.producer_version}".strip() or "unknown"
    graph = Graph(name=label, input=shape, source=f"{path.name} (ONNX opset {opset}, exported by {producer}; "
                                                   f"read with onnx {onnx.__version__})")
    _Mapper(graph, model.graph, params, shapes, Unsupported(source)).run(first.name)
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
    """Refuse any tensor stored in another file (ONNX external data), wherever it is, before reading any."""
    from onnx import TensorProto

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

    for where, tensor in tensors():
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
        except _Refused as exc:
            raise SpecError(f"initializer {tensor.name!r}: {exc}", file=source) from None
    return _Param(tuple(tensor.dims), tensor.name)


def _elements(tensor) -> int:
    return math.prod(tensor.dims) if all(d >= 0 for d in tensor.dims) else -1


def _inline(tensor) -> Any:
    """A tensor's value, read from the model file's own bytes; past MAX_CONSTANT_ELEMENTS, a parameter
    known by its shape alone."""
    from onnx import numpy_helper
    from onnx.external_data_helper import uses_external_data

    if uses_external_data(tensor):     # refused before reading, by _check_inline: never opened
        raise _Refused(f"tensor {tensor.name!r} is stored in another file")
    count = _elements(tensor)
    if count < 0:
        raise _Refused(f"tensor {tensor.name!r} has a negative size {list(tensor.dims)}")
    if count > MAX_CONSTANT_ELEMENTS:
        return _Param(tuple(tensor.dims), tensor.name)
    try:
        return numpy_helper.to_array(tensor)
    except Exception as exc:  # noqa: BLE001 - a tensor whose data does not fit its type and shape
        raise _Refused(f"tensor {tensor.name!r} is unreadable ({shorten(' '.join(str(exc).split()), 120)})") from None


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


class _Mapper:
    def __init__(self, graph: Graph, onnx_graph, params: dict[str, _Param], shapes: dict, unsupported: Unsupported):
        self.graph, self.onnx, self.shapes, self.unsupported = graph, onnx_graph, shapes, unsupported
        self.env: dict[str, Any] = dict(params)
        self.readers: dict[str, list] = {}
        for node in onnx_graph.node:
            for name in node.input:
                self.readers.setdefault(name, []).append(node)
        self.scopes: list[tuple[tuple[str, ...], str]] = []
        self.fused: dict[str, _Value] = {}       # a Mul that completes SiLU → the silu layer
        self.analyses = 0                        # archcalc's own shape inference, when ONNX's gave no shape

    def run(self, input_name: str) -> None:
        self.env[input_name] = _Value(NETWORK_INPUT)
        for node in self.onnx.node:
            scope, op = _scope(node)
            self.where = (scope, op)
            try:
                results = self._map(node)
            except _Refused as exc:
                self.unsupported.add("/".join((*scope, op)), str(exc))
                results = _Aux("refused")
            except _Skip:
                results = _Aux("refused")
            except ArchcalcError:
                raise
            except Exception as exc:  # noqa: BLE001 - a node that breaks what ONNX promises, in one line
                self.unsupported.add("/".join((*scope, op)), f"unreadable {shorten(node.op_type)} node "
                                     f"({type(exc).__name__}: {shorten(' '.join(str(exc).split()), 120)})")
                results = _Aux("refused")
            outputs = results if isinstance(results, list) else [results] * len(node.output)
            self.env.update(zip(node.output, outputs))
        out = self.env.get(self.onnx.output[0].name) if self.onnx.output else None
        if isinstance(out, _Value):
            self.graph.output = self._chw(out).index
        elif not (isinstance(out, _Aux) and out.kind == "refused"):
            self.unsupported.add("output", "the network must return one feature map")
        self.unsupported.check()
        self._name_nodes()

    def _name_nodes(self) -> None:
        """A node alone in its module scope takes the module's path; others add their op name."""
        count: dict[tuple[str, ...], int] = {}
        for scope, _ in self.scopes:
            for k in range(len(scope) + 1):
                count[scope[:k]] = count.get(scope[:k], 0) + (1 if k == len(scope) else 2)
        for node, (scope, op) in zip(self.graph.nodes, self.scopes):
            node.path = scope if scope and count[scope] == 1 else (*scope, op)
        self.graph.classes = {p[:k]: _class(p[:k]) for p in (n.path for n in self.graph.nodes)
                              for k in range(1, len(p))}

    # --- values --------------------------------------------------------------------------------
    def _add(self, type_: str, inputs: list[int], *, path: tuple[tuple[str, ...], str] | None = None,
             channels_last: bool = False, **params) -> _Value:
        check_layer_count(len(self.graph.nodes) + 1, self.unsupported.label)
        self.scopes.append(path or self.where)
        return _Value(self.graph.add(("",), type_, inputs, **params), channels_last)

    def _get(self, name: str) -> Any:
        if name not in self.env:
            raise _Refused(f"reads {name!r}, which no node computes")
        value = self.env[name]
        if isinstance(value, _Aux) and value.kind == "refused":
            raise _Skip
        return value

    def _tensor(self, name: str) -> _Value:
        value = self._get(name)
        if not isinstance(value, _Value):
            raise _Refused("expects a feature map here")
        return value

    def _param(self, name: str) -> _Param:
        value = self._get(name)
        if isinstance(value, np.ndarray):
            return _Param(value.shape, name)
        if not isinstance(value, _Param):
            raise _Refused(f"{name!r} must be a parameter")
        return value

    def _const(self, name: str) -> np.ndarray:
        value = self._get(name)
        if not isinstance(value, np.ndarray):
            raise _Refused(f"{name!r} must be a constant")
        return value

    def _ints(self, name: str) -> list[int]:
        """The integer constant `name` (pads, starts, sizes) as a list of ints."""
        value = self._const(name)
        if value.dtype.kind not in "iu":
            raise _Refused(f"{name!r} must hold integers")
        return [int(v) for v in value.reshape(-1)]

    def _chw(self, value: _Value) -> _Value:
        """`value` in (C, H, W) layout (a `permute` layer where it is still (H, W, C))."""
        if not value.channels_last:
            return value
        return self._add("permute", [value.index], path=(self.where[0], "permute"), dims=[2, 0, 1])

    def _shape(self, name: str) -> list[int]:
        shape = self.shapes.get(name)
        if not shape or None in shape:
            raise _Refused(f"the shape of {name!r} is unknown")
        return shape

    # --- mapping -------------------------------------------------------------------------------
    def _map(self, node) -> Any:
        op = node.op_type
        if not node.output or not all(node.output):
            raise _Refused(f"{op} has no output")
        if not node.input and op != "Constant":
            raise _Refused(f"{op} has no input")
        if any(isinstance(self.env.get(i), _Aux) and self.env[i].kind == "refused" for i in node.input):
            raise _Skip
        attrs = _attributes(node)
        if op in FOLDED and all(isinstance(self.env.get(i), np.ndarray) or op == "Shape" for i in node.input):
            return self._fold(node, op, attrs)
        if node.output[0] in self.fused:
            return self.fused[node.output[0]]
        if op in ("Identity", "Dropout"):
            value = self._get(node.input[0])
            return _Param(value.shape, node.output[0]) if isinstance(value, _Param) else value
        if op == "Transpose":
            return self._transpose(node, attrs)
        first = self._get(node.input[0]) if node.input else None
        if isinstance(first, _Aux) or op in ("Add", "Mul") and any(isinstance(self.env.get(i), _Aux)
                                                                  for i in node.input):
            return self._idiom(node, op)
        if op in ("Add", "Mul"):
            return self._binary(node, op)
        if op == "Concat":
            values = [self._tensor(i) for i in node.input]
            if attrs.get("axis") not in (1, -3):
                raise _Refused("Concat must join channels (axis=1)")
            return self._add("concat", [self._chw(v).index for v in values])
        x = self._tensor(node.input[0])
        if op == "Div" and np.allclose(self._const(node.input[1]), np.sqrt(2)):
            return _Aux("gelu_div", x)
        if op in ACTIVATIONS or op in ("Clip", "HardSigmoid", "Gelu", "Softmax", "LayerNormalization", "MatMul"):
            return self._per_position(node, op, attrs, x)
        x = self._chw(x)
        if op in ("Conv", "ConvTranspose"):
            return self._conv(node, op, attrs, x)
        if op == "Gemm":
            weight = self._param(node.input[1])
            if attrs.get("transA", 0):
                raise _Refused("Gemm with transA has no archcalc layer type")
            if len(weight.shape) != 2:
                raise _Refused(f"Gemm's weight must be a matrix, got shape {list(weight.shape)}")
            out = weight.shape[0] if attrs.get("transB", 0) else weight.shape[1]
            return self._add("linear", [x.index], out_features=out, bias=len(node.input) > 2 and bool(node.input[2]))
        if op == "BatchNormalization":
            momentum = round(1.0 - float(attrs.get("momentum", 0.9)), 6)
            return self._add("batchnorm", [x.index], eps=_float32(attrs.get("epsilon", 1e-5)), momentum=momentum)
        if op in ("MaxPool", "AveragePool"):
            return self._pool(node, op, attrs, x)
        if op in ("GlobalAveragePool", "GlobalMaxPool"):
            return self._add("globalavgpool" if "Average" in op else "globalmaxpool", [x.index], keepdims=True)
        if op in ("ReduceMean", "ReduceMax"):
            axes = attrs.get("axes") or (list(self._const(node.input[1])) if len(node.input) > 1 else [])
            if sorted(int(a) % 4 for a in axes) != [2, 3]:
                raise _Refused(f"{op} must be over the spatial axes [2, 3]")
            kind = "globalavgpool" if op == "ReduceMean" else "globalmaxpool"
            return self._add(kind, [x.index], keepdims=bool(attrs.get("keepdims", 1)))
        if op == "Flatten":
            if attrs.get("axis", 1) != 1:
                raise _Refused("Flatten must keep the batch axis (axis=1)")
            return self._add("flatten", [x.index])
        if op == "Reshape":
            return self._reshape(node, x)
        if op in ("Slice", "Split"):
            return self._slices(node, op, attrs, x)
        if op == "Pad":
            return self._pad(node, attrs, x)
        if op == "LRN":
            if "size" not in attrs:
                raise _Refused("LRN without its size")
            return self._add("lrn", [x.index], size=whole(attrs["size"]), alpha=_float32(attrs.get("alpha", 1e-4)),
                             beta=_float32(attrs.get("beta", 0.75)), k=_float32(attrs.get("bias", 1.0)))
        if op == "PRelu":
            return self._add("prelu", [x.index], num_parameters=math.prod(self._param(node.input[1]).shape))
        raise _Refused(f"{op} has no archcalc layer type")

    def _fold(self, node, op: str, attrs: dict) -> Any:
        """The value of an op on constants; its size is checked before it is computed."""
        if op == "Constant":
            for key in ("value", "value_int", "value_ints", "value_float", "value_floats"):
                if key in attrs:
                    return attrs[key] if isinstance(attrs[key], (np.ndarray, _Param)) else np.asarray(attrs[key])
            raise _Refused(f"a Constant without value, value_int(s) or value_float(s) has no use here "
                           f"({', '.join(attrs) or 'no attribute'})")
        if op == "Shape":
            return np.array(self._shape(node.input[0]), dtype=np.int64)
        args = [self.env[i] for i in node.input]
        with np.errstate(all="raise"):
            if op == "Gather":
                data, indices = args
                axis = whole(attrs.get("axis", 0))
                if not -data.ndim <= axis < data.ndim or indices.dtype.kind not in "iu":
                    raise _Refused(f"Gather on axis {axis} of a {data.ndim}-D constant, by {indices.dtype} indices")
                size = data.shape[axis]
                if indices.size and not (-size <= indices.min() and indices.max() < size):
                    raise _Refused(f"Gather index out of range 0…{size - 1}")
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

    def _transpose(self, node, attrs: dict) -> Any:
        value = self._get(node.input[0])
        perm = list(attrs.get("perm", []))
        if isinstance(value, _Param):
            return _Param(tuple(value.shape[p] for p in perm) if perm else value.shape[::-1], value.name)
        if isinstance(value, _Aux):
            if value.kind == "shuffle5d" and perm == [0, 2, 1, 3, 4]:
                return _Aux("shuffled", value.value)
            raise _Refused("this Transpose has no archcalc layer type")
        x = self._tensor(node.input[0])
        if perm == CHANNELS_LAST and not x.channels_last:
            return _Value(x.index, True)
        if perm == CHANNELS_FIRST and x.channels_last:
            return _Value(x.index, False)
        if len(perm) != 4 or perm[0] != 0:
            raise _Refused(f"Transpose {perm} must keep the batch axis of a (N, C, H, W) map")
        return self._add("permute", [self._chw(x).index], dims=[d - 1 for d in perm[1:]])

    def _per_position(self, node, op: str, attrs: dict, x: _Value) -> _Value:
        """Ops that act on each position alike, so keep a channels-last layout."""
        last = x.channels_last
        if op == "Sigmoid" and self._silu_mul(node):
            value = self._add("silu", [x.index], channels_last=last, inplace=False)
            self.fused[self._silu_mul(node)] = value
            return value
        if op in ACTIVATIONS:
            params = {"inplace": False}
            if op == "LeakyRelu":
                params["negative_slope"] = _float32(attrs.get("alpha", 0.01))
            if op == "Elu":
                params["alpha"] = _float32(attrs.get("alpha", 1.0))
            return self._add(ACTIVATIONS[op], [x.index], channels_last=last, **params)
        if op == "Clip":
            low, high = (attrs.get(k) for k in ("min", "max"))
            if len(node.input) > 1:
                low, high = (float(self._const(i)) if i else None for i in (list(node.input[1:]) + [""])[:2])
            if low == 0 and high in (6, None):
                return self._add("relu6" if high else "relu", [x.index], channels_last=last, inplace=False)
            raise _Refused(f"Clip to [{low}, {high}] has no archcalc layer type (only relu and relu6)")
        if op == "HardSigmoid":
            if abs(attrs.get("alpha", 0.2) - 1 / 6) > 1e-6 or abs(attrs.get("beta", 0.5) - 0.5) > 1e-6:
                raise _Refused("HardSigmoid other than PyTorch's (x/6 + 1/2) has no archcalc layer type")
            return self._add("hardsigmoid", [x.index], channels_last=last, inplace=False)
        if op == "Gelu":
            if attrs.get("approximate", "none") != "none":
                raise _Refused("tanh-approximated GELU has no archcalc layer type")
            return self._add("gelu", [x.index], channels_last=last, inplace=False)
        if op == "Softmax":
            if attrs.get("axis", -1) not in (1, -1) or self.shapes.get(node.input[0], [0, 0]).__len__() != 2:
                raise _Refused("Softmax must be over the features of a flat vector")
            return self._add("softmax", [x.index])
        if op == "LayerNormalization":
            rank = len(self.shapes.get(node.input[0]) or [0, 0, 0, 0])
            if attrs.get("axis", -1) not in (-1, rank - 1) or rank == 4 and not last:
                raise _Refused("LayerNormalization must normalise the channels alone")
            return self._add("layernorm", [x.index], channels_last=last, eps=_float32(attrs.get("epsilon", 1e-5)),
                             elementwise_affine=len(node.input) > 1)
        weight = self.env.get(node.input[1])
        if not isinstance(weight, _Param) or len(weight.shape) != 2:
            raise _Refused("MatMul must multiply a map by a 2-D parameter")
        return self._add("pointlinear" if last else "linear", [x.index], channels_last=last,
                         out_features=weight.shape[1], bias=False)

    def _silu_mul(self, node) -> str | None:
        """The output of the Mul x · Sigmoid(x) when that is the Sigmoid's only reader (SiLU exported)."""
        out = node.output[0]
        readers = self.readers.get(out, [])
        if len(readers) == 1 and readers[0].op_type == "Mul" \
                and sorted(readers[0].input) == sorted([node.input[0], out]):
            return readers[0].output[0]
        return None

    def _binary(self, node, op: str) -> _Value:
        values = [self._get(i) for i in node.input]
        params = [v for v in values if isinstance(v, _Param)]
        tensors = [v for v in values if isinstance(v, _Value)]
        if len(tensors) == 2:
            if tensors[0].channels_last != tensors[1].channels_last:
                tensors = [self._chw(t) for t in tensors]
            return self._add("add" if op == "Add" else "multiply", [t.index for t in tensors],
                             channels_last=tensors[0].channels_last)
        if len(tensors) == 1 and len(params) == 1:
            x, param = tensors[0], params[0]
            producer = self.graph.nodes[x.index] if x.index >= 0 else None
            if op == "Add" and producer and producer.type in ("linear", "pointlinear") \
                    and not producer.params["bias"] and len(self.readers.get(self._name_of(node, x), [])) == 1:
                producer.params["bias"] = True        # MatMul + Add: a linear layer with its bias
                return x
            if op == "Mul" and int(np.prod(param.shape)) == self._channels(self._name_of(node, x), x):
                x = self._chw(x)
                parts = param.name.split(".")
                return self._add("layerscale", [x.index], path=(tuple(parts[:-1]), parts[-1]))
        raise _Refused(f"{op} of a map and a constant has no archcalc layer type")

    def _name_of(self, node, x: _Value) -> str:
        return next(i for i in node.input if self.env.get(i) is x)

    def _channels(self, name: str, x: _Value) -> int:
        """The channels of the map `name`: from ONNX's shape inference, else from archcalc's own."""
        shape = self.shapes.get(name) or []
        known = shape[-1 if x.channels_last else 1] if len(shape) > 1 else None
        if known:
            return known
        from ..analysis import analyze
        from .structure import to_mapping

        if x.index == NETWORK_INPUT:
            return self.graph.input[0]
        self.analyses += 1
        if self.analyses > MAX_SHAPE_ANALYSES:
            raise _Refused(f"the shape of {name!r} is unknown (ONNX's shape inference gave too few shapes)")
        nodes = self.graph.nodes[:x.index + 1]
        for node, (scope, op) in zip(nodes, self.scopes):
            node.path = (*scope, op)
        partial = Graph(self.graph.name, self.graph.input, "", list(nodes), {}, x.index)
        try:
            return analyze(to_mapping(partial)).layers[-1].output_shape[-1 if x.channels_last else 0]
        except ArchcalcError as exc:
            raise _Refused(f"the shape of {name!r} is unknown ({exc})") from None

    def _idiom(self, node, op: str) -> Any:
        """The erf GELU (x · (1 + erf(x/√2)) · 0.5) and the channel shuffle, step by step."""
        values = [self._get(i) for i in node.input]
        aux = next(v for v in values if isinstance(v, _Aux))
        other = [v for v in values if v is not aux]
        steps = {("gelu_div", "Erf"): "gelu_erf", ("gelu_erf", "Add"): "gelu_plus", ("gelu_plus", "Mul"): "gelu_mul"}
        if (aux.kind, op) in steps:
            constant = {"Erf": None, "Add": 1.0}.get(op)
            if op == "Mul" and other[0] is not aux.value:
                raise _Refused("this Mul has no archcalc layer type")
            if constant is not None and not (isinstance(other[0], np.ndarray) and np.allclose(other[0], constant)):
                raise _Refused(f"this {op} has no archcalc layer type")
            return _Aux(steps[aux.kind, op], aux.value)
        if aux.kind == "gelu_mul" and op == "Mul" and isinstance(other[0], np.ndarray) and np.allclose(other[0], 0.5):
            x = aux.value
            return self._add("gelu", [x.index], channels_last=x.channels_last, inplace=False)
        if aux.kind == "shuffled" and op == "Reshape":
            x, groups = aux.value
            return self._add("channelshuffle", [x.index], path=(self.where[0], "channel_shuffle"), groups=groups)
        raise _Refused(f"{op} has no archcalc layer type here")

    def _conv(self, node, op: str, attrs: dict, x: _Value) -> _Value:
        weight = self._param(node.input[1])
        groups = _at_least(1, "group", [attrs.get("group", 1)], 1)[0]
        kernel = list(attrs.get("kernel_shape") or weight.shape[2:])
        if len(kernel) != 2 or len(weight.shape) != 4:
            raise _Refused(f"{op} must be 2-D")
        params = {"kernel_size": pair(_at_least(1, "kernel_shape", kernel, 2)),
                  "stride": pair(_at_least(1, "strides", attrs.get("strides", [1, 1]), 2)),
                  "padding": self._padding(attrs, op),
                  "dilation": pair(_at_least(1, "dilations", attrs.get("dilations", [1, 1]), 2)),
                  "groups": groups, "bias": len(node.input) > 2 and bool(node.input[2])}
        if op == "Conv":
            return self._add("conv", [x.index], out_channels=weight.shape[0], **params)
        if attrs.get("output_shape") or params["padding"] == "same":
            raise _Refused("ConvTranspose with output_shape or auto_pad has no archcalc layer type")
        params["output_padding"] = pair(attrs.get("output_padding", [0, 0]))
        return self._add("convtranspose", [x.index], out_channels=weight.shape[1] * groups, **params)

    def _padding(self, attrs: dict, op: str) -> Any:
        auto = attrs.get("auto_pad", "NOTSET")
        if auto == "SAME_UPPER":
            return "same"
        if auto == "VALID":
            return 0
        if auto not in ("NOTSET", ""):
            raise _Refused(f"auto_pad {auto} has no archcalc padding (only SAME_UPPER and VALID)")
        top, left, bottom, right = _at_least(0, "pads", attrs.get("pads", [0, 0, 0, 0]), 4)
        if (top, left) == (bottom, right) or op == "ConvTranspose":
            if (top, left) != (bottom, right):
                raise _Refused("ConvTranspose with uneven pads has no archcalc layer type")
            return pair([top, left])
        return [top, bottom, left, right]

    def _pool(self, node, op: str, attrs: dict, x: _Value) -> _Value:
        if len(attrs.get("kernel_shape", [])) != 2:
            raise _Refused(f"{op} must have a 2-D kernel_shape")
        params = {"kernel_size": pair(_at_least(1, "kernel_shape", attrs["kernel_shape"], 2)),
                  "stride": pair(_at_least(1, "strides", attrs.get("strides", [1, 1]), 2)),
                  "padding": self._padding(attrs, op), "ceil_mode": bool(attrs.get("ceil_mode", 0))}
        if op == "MaxPool":
            if len(node.output) > 1 and node.output[1]:
                raise _Refused("MaxPool with indices has no archcalc layer type")
            dilation = pair(_at_least(1, "dilations", attrs.get("dilations", [1, 1]), 2))
            return self._add("maxpool", [x.index], dilation=dilation, **params)
        return self._add("avgpool", [x.index], count_include_pad=bool(attrs.get("count_include_pad", 0)), **params)

    def _reshape(self, node, x: _Value) -> Any:
        out = self.shapes.get(node.output[0]) or self._ints(node.input[1])
        if len(out) == 2:
            return self._add("flatten", [x.index])
        if len(out) == 5 and out[1] and out[2] and out[1] * out[2] == self._channels(node.input[0], x):
            return _Aux("shuffle5d", (x, int(out[1])))
        raise _Refused(f"Reshape to {out} has no archcalc layer type")

    def _slices(self, node, op: str, attrs: dict, x: _Value) -> Any:
        channels = self._channels(node.input[0], x)
        if op == "Slice":
            if len(node.input) < 3:
                raise _Refused("Slice without starts and ends")
            (starts,), (ends,) = (self._ints(i) or [None] for i in node.input[1:3])
            axes = self._ints(node.input[3]) if len(node.input) > 3 and node.input[3] else [0]
            steps = self._ints(node.input[4]) if len(node.input) > 4 and node.input[4] else [1]
            if [a % 4 for a in axes] != [1] or steps != [1] or None in (starts, ends):
                raise _Refused("Slice must cut a run of channels (axis 1, step 1)")
            start, end = (min(max(v + channels if v < 0 else v, 0), channels) for v in (starts, ends))
            return self._add("slice", [x.index], start=start, end=end)
        if whole(attrs.get("axis", 0)) % 4 != 1:
            raise _Refused("Split must cut channels (axis 1)")
        if len(node.input) > 1 and node.input[1]:
            sizes = self._ints(node.input[1])
            if min(sizes, default=-1) < 0 or sum(sizes) != channels or len(sizes) != len(node.output):
                raise _Refused(f"Split sizes {sizes} must cut the {channels} channels into its {len(node.output)} "
                               "outputs")
        else:
            parts = len(node.output)
            step = -(-channels // parts)
            sizes = [min(step, channels - k * step) for k in range(parts)]
        bounds = np.cumsum([0, *sizes])
        return [self._add("slice", [x.index], path=(self.where[0], f"slice_{k}"), start=int(a), end=int(b))
                for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]

    def _pad(self, node, attrs: dict, x: _Value) -> _Value:
        pads = list(attrs.get("pads") or self._ints(node.input[1]))
        value = self._const(node.input[2]) if len(node.input) > 2 and node.input[2] else np.zeros(1)
        if attrs.get("mode", "constant") != "constant" or np.any(value != 0):
            raise _Refused("only zero padding has an archcalc layer type")
        if len(pads) != 8 or any(pads[k] for k in (0, 1, 4, 5)) or min(pads) < 0:
            raise _Refused(f"Pad {pads} must pad H and W of a (N, C, H, W) map")
        return self._add("zeropad", [x.index], padding=[int(pads[2]), int(pads[6]), int(pads[3]), int(pads[7])])


def _at_least(low: int, key: str, values: Any, length: int) -> list[int]:
    """An attribute's `length` whole numbers, each at least `low` (strides ≥ 1, pads ≥ 0)."""
    try:
        numbers = [whole(v) for v in values] if isinstance(values, (list, tuple)) else [whole(values)]
    except ValueError as exc:
        raise _Refused(f"{key}: {exc}") from None
    if len(numbers) != length or min(numbers) < low:
        wanted = "a whole number" if length == 1 else f"{length} whole numbers, each"
        raise _Refused(f"{key} must be {wanted} at least {low}, got {shorten(str(numbers)[1:-1])}")
    return numbers


def _foldable(shape) -> None:
    """Refuse to compute a constant of more than MAX_CONSTANT_ELEMENTS elements."""
    if math.prod(shape) > MAX_CONSTANT_ELEMENTS:
        raise _Refused(f"computing a constant of shape {list(shape)} (more than {MAX_CONSTANT_ELEMENTS:,} elements)")


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
                raise _Refused(f"attribute {attr.name!r} is not UTF-8 text: {shorten(repr(value))}") from None
        elif isinstance(value, list):
            value = [int(v) if isinstance(v, int) else v for v in value]
        out[attr.name] = value
    return out


def _float32(value: float) -> float:
    """A float32 attribute as the decimal it was written as (9.99999974e-06 → 1e-05)."""
    return float(str(np.float32(value)))


def _class(path: tuple[str, ...]) -> str:
    """A stand-in for the module class ONNX does not record: the name without its number
    (`layer1` → layer); a numbered child adds `_block` per number (`features/2/0` → features_block_block)."""
    named = [p for p in path if not p.isdigit()]
    base = re.sub(r"[\d_]+$", "", named[-1] if named else "") or "block"
    numbers = len(path) - 1 - max((k for k, p in enumerate(path) if not p.isdigit()), default=-1)
    return base + "_block" * numbers
