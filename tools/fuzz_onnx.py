"""Structure-aware mutation of ONNX models for tools/fuzz.py (`--surface onnx`).

Seeds: the hostile ONNX corpus (tests/hostile/onnx, but its bombs) and every third stored shape-only
export (tests/data/onnx), each cut after its 2nd–24th node of work with what that node depends on (a
whole network costs a hundred times a cut one), plus three whole small ones (AlexNet, SqueezeNet 1.1,
VGG-13). A mutant is the parsed model with one to three changes — op types, attributes (values, types,
removed, added), input dims, initializers (dims, data, type, marked as external data pointing at the
canary secret), Constant values, graph wiring (inputs, outputs, nodes dropped, duplicated, reordered),
texts (payloads in names and producer fields), opsets, subgraphs — rebuilt with onnx's helper API and
serialised; sometimes gzip-compressed or cut and flipped as bytes.
"""

from __future__ import annotations

import copy
import gzip
import random
from dataclasses import dataclass, field
from pathlib import Path

import onnx
from fuzz_hostile import SECRET_PATHS, int64, text
from onnx import AttributeProto, TensorProto, helper

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"gzip-bomb.onnx.gz", "100k-nodes.onnx.gz", "fold-broadcast.onnx.gz"}
CUTS = (2, 4, 8, 16, 24)
WHOLE = {"alexnet.onnx.gz", "squeezenet1_1.onnx.gz", "vgg13.onnx.gz"}
OPS = ["Conv", "ConvTranspose", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul", "Add",
       "Mul", "Concat", "Reshape", "Flatten", "Pad", "Slice", "Split", "Gather", "Constant", "Shape", "Resize",
       "LRN", "BatchNormalization", "Softmax", "Transpose", "Squeeze", "Unsqueeze", "Loop", "If", "Scan",
       "Identity", "Cast", "Expand", "Tile", "Range", "ConstantOfShape", "Einsum", "", "Custom", "conv"]
PLUMBING = {"Identity", "Constant", "Shape", "Gather", "Unsqueeze", "Cast", "ConstantOfShape", "Range"}
DTYPES = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 16, 17, 99, -1]


@dataclass
class Vocabulary:
    """Op types and sample attributes of the seeds: mutations reuse them to stay near-valid."""

    ops: list[str] = field(default_factory=list)
    attributes: list[AttributeProto] = field(default_factory=list)


def _cut(model: onnx.ModelProto, count: int) -> onnx.ModelProto:
    """The model cut after its `count`-th node of work (not plumbing such as Identity): that node, the
    nodes it depends on, the initializers and inputs they read."""
    graph = model.graph
    last = [n for n, node in enumerate(graph.node) if node.op_type not in PLUMBING][count - 1]
    needed, nodes = set(graph.node[last].input), [graph.node[last]]
    for node in reversed(graph.node[:last]):
        if needed.intersection(node.output):
            needed.update(node.input)
            nodes.insert(0, node)
    read = {name for node in nodes for name in node.input}
    cut = helper.make_graph(
        nodes, graph.name, [i for n, i in enumerate(graph.input) if n == 0 or i.name in read],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        initializer=[t for t in graph.initializer if t.name in read])
    result = helper.make_model(cut, opset_imports=list(model.opset_import))
    result.ir_version = model.ir_version
    return result


def seeds() -> list[bytes]:
    out = []
    for path in sorted((ROOT / "tests" / "hostile" / "onnx").iterdir()):
        if path.name.endswith((".onnx", ".onnx.gz")) and path.name not in SKIP:
            out.append(path.read_bytes())
    for path in sorted((ROOT / "tests" / "data" / "onnx").glob("*.onnx.gz"))[::3]:
        model = onnx.load_from_string(gzip.decompress(path.read_bytes()))
        work = sum(node.op_type not in PLUMBING for node in model.graph.node)
        out += [_cut(model, n).SerializeToString() for n in CUTS if n < work]
        if path.name in WHOLE:
            out.append(model.SerializeToString())
    return out


def vocabulary(seed_list: list[bytes]) -> Vocabulary:
    ops, attributes = set(OPS), {}
    for data in seed_list:
        model = _parse(data)
        for node in model.graph.node if model else ():
            ops.add(node.op_type)
            for attribute in node.attribute:
                attributes.setdefault((attribute.name, attribute.type), attribute)
    return Vocabulary(sorted(ops), [attributes[k] for k in sorted(attributes)])


def _parse(data: bytes) -> onnx.ModelProto | None:
    try:
        return onnx.load_from_string(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    except Exception:  # noqa: BLE001 - a seed that is not a model (the corpus holds some) is mutated as bytes
        return None


def _ints(rng: random.Random) -> list[int]:
    return [int64(rng) for _ in range(rng.choice([0, 1, 2, 2, 4, 4, 6, 8]))]


def _tensor(tensor: TensorProto, rng: random.Random) -> None:
    action = rng.randrange(7)
    if action == 0:
        tensor.dims[:] = _ints(rng)
    elif action == 1:
        tensor.data_type = rng.choice(DTYPES)
    elif action == 2:
        for name in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
            tensor.ClearField(name)
    elif action == 3:
        tensor.ClearField("raw_data")
        tensor.int64_data[:] = _ints(rng)
    elif action == 4:
        tensor.raw_data = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 7, 8, 16, 64])))
    else:                                   # external data, pointing at the canary secret
        tensor.data_location = TensorProto.EXTERNAL if rng.random() < 0.9 else rng.choice([0, 2, 7])
        del tensor.external_data[:]
        for key, value in (("location", rng.choice(SECRET_PATHS)), ("offset", str(rng.choice([0, 0, 8, -1]))),
                           ("length", str(rng.choice([16, 8, 0, 10**9])))):
            if rng.random() < 0.9:
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
        if rng.random() < 0.7:
            for name in ("raw_data", "float_data", "int64_data", "int32_data"):
                tensor.ClearField(name)


def _attribute_value(rng: random.Random, model: onnx.ModelProto):
    kind = rng.randrange(7)
    if kind == 0:
        return int64(rng)
    if kind == 1:
        return _ints(rng)
    if kind == 2:
        return rng.choice([0.5, -1.0, 1e30, float("inf"), float("nan"), 0.0])
    if kind == 3:
        return text(rng).encode("utf-8", "surrogatepass") if rng.random() < 0.8 else b"\xff\xfe\x80"
    if kind == 4:
        return [rng.choice([1.0, 0.0, -1.0, float("nan")]) for _ in range(rng.randint(0, 4))]
    if kind == 5:
        tensor = helper.make_tensor("v", rng.choice([TensorProto.INT64, TensorProto.FLOAT]), [2], [1, 2])
        _tensor(tensor, rng)
        return tensor
    return copy.deepcopy(model.graph)


def _attribute(node, rng: random.Random, vocabulary: Vocabulary, model) -> None:
    action = rng.randrange(5)
    if action == 0 or not node.attribute:
        sample = copy.deepcopy(rng.choice(vocabulary.attributes)) if vocabulary.attributes else None
        if sample is not None and rng.random() < 0.5:
            node.attribute.append(sample)
            return
        name = sample.name if sample is not None else rng.choice(["kernel_shape", "pads", "value", "axis"])
        node.attribute.append(helper.make_attribute(name, _attribute_value(rng, model)))
        return
    index = rng.randrange(len(node.attribute))
    attribute = node.attribute[index]
    if action == 1:
        del node.attribute[index]
    elif action == 2:
        node.attribute[index].CopyFrom(helper.make_attribute(attribute.name, _attribute_value(rng, model)))
    elif attribute.type == AttributeProto.INT:
        attribute.i = int64(rng)
    elif attribute.type == AttributeProto.INTS:
        attribute.ints[:] = _ints(rng)
    elif attribute.type == AttributeProto.TENSOR:
        _tensor(attribute.t, rng)
    elif attribute.type == AttributeProto.FLOAT:
        attribute.f = rng.choice([0.0, -1.0, float("inf"), float("nan"), 1e-30])
    else:
        attribute.type = rng.randrange(15)


def _names(graph) -> list[str]:
    return [i.name for i in graph.input] + [t.name for t in graph.initializer] + \
        [o for n in graph.node for o in n.output] + ["", "missing"]


def _wiring(graph, rng: random.Random) -> None:
    nodes = graph.node
    action = rng.randrange(6)
    if action == 0 and nodes:
        node = rng.choice(nodes)
        if node.input:
            node.input[rng.randrange(len(node.input))] = rng.choice(_names(graph))
        else:
            node.input.append(rng.choice(_names(graph)))
    elif action == 1 and nodes:
        node = rng.choice(nodes)
        if node.output and rng.random() < 0.7:
            node.output[rng.randrange(len(node.output))] = rng.choice(_names(graph))
        else:
            node.output.append(rng.choice(_names(graph)))
    elif action == 2 and nodes:
        del nodes[rng.randrange(len(nodes))]
    elif action == 3 and nodes:
        index = rng.randrange(len(nodes))
        nodes.insert(index, copy.deepcopy(nodes[index]))
    elif action == 4 and len(nodes) > 1:
        i, j = rng.randrange(len(nodes)), rng.randrange(len(nodes))
        first, second = copy.deepcopy(nodes[i]), copy.deepcopy(nodes[j])
        nodes[i].CopyFrom(second)
        nodes[j].CopyFrom(first)
    elif graph.output:
        graph.output[0].name = rng.choice(_names(graph))
    else:
        graph.output.append(helper.make_tensor_value_info(rng.choice(_names(graph)), TensorProto.FLOAT, None))


def _dims(graph, rng: random.Random) -> None:
    if not graph.input:
        graph.input.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8]))
    tensor_type = rng.choice(graph.input).type.tensor_type
    dims = tensor_type.shape.dim
    action = rng.randrange(5)
    if action <= 1 and dims:
        dim = rng.choice(dims)
        if rng.random() < 0.8:
            dim.dim_value = int64(rng)
        else:
            dim.dim_param = text(rng)
    elif action == 2 and dims:
        del dims[rng.randrange(len(dims))]
    elif action == 3:
        dims.add().dim_value = int64(rng)
    else:
        tensor_type.elem_type = rng.choice(DTYPES)


def _texts(model: onnx.ModelProto, rng: random.Random) -> None:
    value = text(rng)
    target = rng.randrange(5)
    if target == 0:
        model.producer_name = value
    elif target == 1:
        model.producer_version = value
    elif target == 2:
        model.graph.name = value
    elif target == 3 and model.graph.node:
        rng.choice(model.graph.node).name = value
    else:
        model.doc_string = value


def _node(model, rng: random.Random, vocabulary: Vocabulary) -> None:
    graph = model.graph
    if not graph.node:
        graph.node.append(helper.make_node(rng.choice(vocabulary.ops), [rng.choice(_names(graph))], ["y"]))
        return
    node = rng.choice(graph.node)
    roll = rng.random()
    if roll < 0.5:
        node.op_type = rng.choice(vocabulary.ops)
    elif roll < 0.6:
        node.domain = rng.choice(["com.microsoft", "ai.onnx.ml", "x", "../secret"])
    else:
        _attribute(node, rng, vocabulary, model)


def _model_level(model, rng: random.Random, vocabulary: Vocabulary) -> None:
    roll = rng.random()
    graph = model.graph
    if roll < 0.4 and graph.initializer:
        _tensor(rng.choice(graph.initializer), rng)
    elif roll < 0.55:
        name = rng.choice(_names(graph)) or "c"
        tensor = helper.make_tensor("v", TensorProto.INT64, [4], [0, 0, 1, 1])
        _tensor(tensor, rng)
        graph.node.insert(rng.randint(0, len(graph.node)), helper.make_node("Constant", [], [name], value=tensor))
    elif roll < 0.75 and model.opset_import:
        model.opset_import[0].version = rng.choice([1, 6, 7, 9, 11, 13, 17, 21, 99, 0, -1])
    elif roll < 0.85:
        model.ir_version = rng.choice([0, 3, 7, 8, 10, 99])
    else:
        _texts(model, rng)


MUTATIONS = [_node, _node, _model_level, lambda m, r, v: _wiring(m.graph, r), lambda m, r, v: _dims(m.graph, r),
             lambda m, r, v: _texts(m, r)]


def _bytes(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if data and rng.random() < 0.7:
            data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            del data[rng.randrange(len(data) + 1):]
    return bytes(data)


def mutate(data: bytes, rng: random.Random, vocabulary: Vocabulary) -> bytes:
    """A mutant of the ONNX model `data` (gzip-compressed or not)."""
    model = _parse(data)
    if model is None:
        return _bytes(data, rng)
    for _ in range(rng.randint(1, 3)):
        try:
            rng.choice(MUTATIONS)(model, rng, vocabulary)
        except (ValueError, TypeError, IndexError):   # a value the field cannot hold: another mutation instead
            continue
    try:
        out = model.SerializeToString()
    except Exception:  # noqa: BLE001 - a field the serialiser refuses (protobuf raises its own errors)
        return data
    if rng.random() < 0.03:
        out = _bytes(out, rng)
    return gzip.compress(out, mtime=0) if rng.random() < 0.05 else out
