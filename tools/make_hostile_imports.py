"""Write the hostile ONNX and Keras inputs of `archcalc import` kept in tests/hostile/onnx/ and
tests/hostile/keras/ (each folder's README.md says what each file attacks; its manifest.json what it
must give). The files are small (under 100 KB; the bombs compress well) and written the same on every
run, so that they are generated once and committed:

    python tools/make_hostile_imports.py              # needs onnx (pip install -e '.[onnx]')
"""

from __future__ import annotations

import gzip
import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parent.parent / "tests" / "hostile"
SECRET = "../secret.txt"        # the canary secret, beside the folder the input is run in
STAMP = (2024, 1, 1, 0, 0, 0)   # zip entries' date, so that the archives are the same on every run


# --- ONNX ------------------------------------------------------------------------------------------
def _info(name, shape, kind=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, kind, shape)


def _model(nodes, *, params=(), inits=(), input_shape=(1, 3, 8, 8), output=None, sparse=()) -> onnx.ModelProto:
    """x → nodes → the last node's output; `params` (name, shape) are shape-only graph inputs."""
    graph = helper.make_graph(nodes, "net", [_info("x", list(input_shape)), *(_info(n, list(s)) for n, s in params)],
                              [_info(output or nodes[-1].output[0], None)], initializer=list(inits),
                              sparse_initializer=list(sparse))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.producer_name = "make_hostile_imports"
    return model


def _conv(**attrs):
    return helper.make_node("Conv", ["x", "w"], ["y"], name="/conv/Conv", **attrs)


def _external(tensor: TensorProto, location: str = SECRET) -> TensorProto:
    """`tensor` marked as stored in the file `location` (ONNX external data), its own data removed."""
    for field in ("raw_data", "float_data", "int64_data", "int32_data"):
        tensor.ClearField(field)
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def _pads_model(pads: TensorProto) -> onnx.ModelProto:
    return _model([helper.make_node("Pad", ["x", "pads"], ["y"], name="/pad/Pad")], inits=[pads])


def onnx_cases() -> dict[str, bytes]:
    conv_w = [("w", (4, 3, 3, 3))]
    relu = [helper.make_node("Relu", ["x"], ["y"], name="/relu/Relu")]
    cases: dict[str, onnx.ModelProto | bytes] = {}

    # files outside the model's folder: never opened
    cases["external-pads.onnx"] = _pads_model(_external(helper.make_tensor("pads", TensorProto.INT64, [8], [0] * 8)))
    constant = helper.make_node("Constant", [], ["pads"], name="/pads/Constant",
                                value=_external(helper.make_tensor("v", TensorProto.INT64, [8], [0] * 8)))
    cases["external-constant.onnx"] = _model([constant, helper.make_node("Pad", ["x", "pads"], ["y"], name="/pad/Pad")])
    cases["external-absolute.onnx"] = _pads_model(_external(
        helper.make_tensor("pads", TensorProto.INT64, [8], [0] * 8), "/etc/passwd"))
    weight = _external(helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], np.zeros(108).tolist()))
    cases["external-weight.onnx"] = _model([_conv()], inits=[weight])
    values = _external(helper.make_tensor("s", TensorProto.FLOAT, [2], [1.0, 2.0]))
    sparse = helper.make_sparse_tensor(values, helper.make_tensor("i", TensorProto.INT64, [2], [0, 1]), [4])
    cases["external-sparse.onnx"] = _model(relu, sparse=[sparse])
    branch = helper.make_graph([helper.make_node("Identity", ["k"], ["out"])], "branch", [], [_info("out", None)],
                               initializer=[_external(helper.make_tensor("k", TensorProto.FLOAT, [1], [0.0]))])
    cases["external-subgraph.onnx"] = _model([
        helper.make_node("Constant", [], ["c"], value=helper.make_tensor("c", TensorProto.BOOL, [], [True])),
        helper.make_node("If", ["c"], ["unused"], then_branch=branch, else_branch=branch), *relu])

    # YAML injection, names that are no archcalc names
    injected = _model([_conv(), helper.make_node("Relu", ["y"], ["z"], name="/act/Relu")], params=conv_w)
    injected.producer_name = "torch\ndefaults: {conv: {stride: 2}}\n#"
    injected.producer_version = "2.0\u2028defaults: {conv: {stride: 2}}\x85\x80"
    cases["producer-injection.onnx"] = injected
    cases["name-traversal.onnx"] = _model([
        helper.make_node("Conv", ["x", "w"], ["a"], name="/../../etc/Conv"),
        helper.make_node("Relu", ["a"], ["b"], name="/..//input/Relu"),
        helper.make_node("Relu", ["b"], ["c"], name="/true/true.0/Relu"),
        helper.make_node("Relu", ["c"], ["d"], name="/null/null.1/Relu"),
        helper.make_node("Relu", ["d"], ["e"], name="/a b\nc: d/x\u2028y/Relu"),
        helper.make_node("Relu", ["e"], ["y"], name="/")], params=conv_w)

    # what used to end in a traceback
    cases["short-pads.onnx"] = _model([_conv(pads=[1])], params=conv_w)
    bad_text = _model([_conv(auto_pad="NOTSET")], params=conv_w)
    cases["non-utf8-attribute.onnx"] = bad_text.SerializeToString().replace(b"NOTSET", b"N\xffTS\xfeT")
    cases["non-utf8-name.onnx"] = _model([_conv()], params=conv_w).SerializeToString().replace(
        b"/conv/Conv", b"/c\xffnv/Conv")
    cases["huge-vector.onnx"] = _model([helper.make_node("Slice", ["x", "starts", "ends"], ["y"], name="/slice/Slice")],
                                       params=[("starts", [1]), ("ends", [10**12])])
    cases["int64-dims.onnx"] = _model(relu, input_shape=(1, 3, 2**62, 2**62))
    cases["lrn-without-size.onnx"] = _model([helper.make_node("LRN", ["x"], ["y"], name="/lrn/LRN")])
    cases["slice-inf.onnx"] = _model([helper.make_node("Slice", ["x", "s", "e", "a"], ["y"], name="/slice/Slice")],
                                     inits=[helper.make_tensor("s", TensorProto.FLOAT, [1], [float("inf")]),
                                            helper.make_tensor("e", TensorProto.FLOAT, [1], [float("-inf")]),
                                            helper.make_tensor("a", TensorProto.INT64, [1], [1])])
    cases["split-no-outputs.onnx"] = _model([helper.make_node("Split", ["x"], [], name="/split/Split", axis=1),
                                             *relu])
    cases["gemm-rank1-weight.onnx"] = _model([helper.make_node("Flatten", ["x"], ["f"]),
                                              helper.make_node("Gemm", ["f", "w"], ["y"], name="/fc/Gemm")],
                                             params=[("w", (10,))])
    cases["gather-out-of-range.onnx"] = _model([
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Constant", [], ["k"], value=helper.make_tensor("k", TensorProto.INT64, [], [10])),
        helper.make_node("Gather", ["s", "k"], ["g"]),
        helper.make_node("Unsqueeze", ["g", "zero"], ["u"]),
        helper.make_node("Concat", ["one", "u"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"], name="/flat/Reshape")],
        inits=[helper.make_tensor("zero", TensorProto.INT64, [1], [0]),
               helper.make_tensor("one", TensorProto.INT64, [1], [1])])
    cases["node-without-input.onnx"] = _model([helper.make_node("Relu", [], ["y"], name="/relu/Relu")])
    cases["node-without-output.onnx"] = _model([helper.make_node("Relu", ["x"], [], name="/lost/Relu"), *relu])
    cases["division-by-zero.onnx"] = _model([
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Div", ["s", "zeros"], ["q"]),
        helper.make_node("Reshape", ["x", "q"], ["y"], name="/view/Reshape")],
        inits=[helper.make_tensor("zeros", TensorProto.INT64, [4], [0, 0, 0, 0])])
    reference = helper.make_node("Conv", ["x", "w"], ["y"], name="/conv/Conv")
    reference.attribute.append(onnx.AttributeProto(name="group", ref_attr_name="g", type=onnx.AttributeProto.INT))
    cases["reference-attribute.onnx"] = _model([reference], params=conv_w)
    cases["not-onnx.onnx"] = b"\x08\x07" + b"\xff" * 64

    # files archcalc itself would refuse
    cases["group-zero.onnx"] = _model([_conv(group=0)], params=conv_w)
    cases["stride-zero.onnx"] = _model([_conv(strides=[0, 0])], params=conv_w)
    cases["negative-pads.onnx"] = _model([_conv(pads=[-5, -5, -5, -5])], params=conv_w)
    cases["huge-weight.onnx"] = _model([_conv()], params=[("w", (2**40, 3, 3, 3))])
    cases["pool-stride-zero.onnx"] = _model([helper.make_node("MaxPool", ["x"], ["y"], name="/pool/MaxPool",
                                                               kernel_shape=[2, 2], strides=[2, 0])])
    cases["fractional-kernel.onnx"] = _model([helper.make_node("MaxPool", ["x"], ["y"], name="/pool/MaxPool",
                                                               kernel_shape=[1.5, 1.5])])

    # bombs: work or memory far beyond the file's size
    side = 50_000      # each constant 0.4 MB, broadcast to 2.5·10⁹ elements
    cases["fold-broadcast.onnx.gz"] = _model([
        helper.make_node("Add", ["col", "row"], ["big"]),
        helper.make_node("Reshape", ["x", "big"], ["y"], name="/view/Reshape")],
        inits=[helper.make_tensor("col", TensorProto.INT64, [side, 1], np.zeros(side, np.int64).tobytes(), raw=True),
               helper.make_tensor("row", TensorProto.INT64, [1, side], np.zeros(side, np.int64).tobytes(), raw=True)])
    cases["gzip-bomb.onnx.gz"] = _model(relu, inits=[helper.make_tensor(
        "pad", TensorProto.FLOAT, [20 * 2**20], np.zeros(20 * 2**20, np.float32).tobytes(), raw=True)])
    cases["100k-nodes.onnx.gz"] = _model([helper.make_node("Relu", ["x"], ["y"])] * 100_000)

    out = {}
    for name, model in cases.items():
        data = model if isinstance(model, bytes) else model.SerializeToString()
        out[name] = gzip.compress(data, 9, mtime=0) if name.endswith(".gz") else data
    return out


# --- Keras -----------------------------------------------------------------------------------------
def _input(shape=(None, 8, 8, 3), name="in"):
    return {"class_name": "InputLayer", "config": {"name": name, "batch_shape": list(shape)}}


def _conv2d(name="conv", **config):
    return {"class_name": "Conv2D", "config": {"name": name, "filters": 4, "kernel_size": [3, 3], "strides": [1, 1],
                                               "padding": "valid", "use_bias": True, "activation": "relu", **config}}


def _sequential(layers, **top):
    return {"class_name": "Sequential", "config": {"name": "net", "layers": layers}, **top}


def _functional(layers, outputs, **model):
    return {"class_name": "Functional", "config": {"name": "net", "layers": layers, "output_layers": outputs,
                                                   **model}}


def _linked(layers):
    """Keras 2's inbound_nodes: each layer reads the one before it."""
    for before, layer in zip(layers, layers[1:]):
        layer["inbound_nodes"] = [[[before["config"]["name"], 0, 0, {}]]]
    return layers


def _zip(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")     # a name twice is what the archive is for
        for name, data, method in entries:
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = method
            archive.writestr(info, data)
    return buffer.getvalue()


def keras_cases() -> dict[str, bytes]:
    small = json.dumps(_sequential([_input(), _conv2d()])).encode()
    cases: dict[str, object] = {}
    deep = "[" * 20_000 + "]" * 20_000
    cases["deep-nesting.json"] = '{"class_name": "Sequential", "config": {"layers": ' + deep + "}}"
    cases["float-overflow.json"] = json.dumps(_sequential([_input(), _conv2d()])).replace('"filters": 4',
                                                                                         '"filters": 1e400')
    cases["input-overflow.json"] = json.dumps(_sequential([_input(), _conv2d()])).replace("[null, 8, 8, 3]",
                                                                                         "[null, 1e400, 8, 3]")
    cases["negative-input.json"] = _sequential([_input((None, -8, 8, 3)), _conv2d()])
    cases["huge-input.json"] = _sequential([_input((None, 10**12, 10**12, 3)), _conv2d()])
    cases["missing-config.json"] = _sequential([_input(), {"class_name": "Conv2D", "name": "conv"}])
    unsized = _conv2d("c0")
    del unsized["config"]["kernel_size"]
    cases["missing-kernel-size.json"] = _sequential([_input(), unsized, _conv2d("c1"), _conv2d("c2"), _conv2d("c3")])
    cases["no-layers.json"] = {"class_name": "Functional", "config": {"name": "net"}}
    cases["empty-output-layers.json"] = _functional(_linked([_input(), _conv2d()]), [])
    cases["unknown-output-layers.json"] = _functional(_linked([_input(), _conv2d()]), [["nowhere", 0, 0]])
    cases["unhashable-names.json"] = _functional(_linked([_input(), _conv2d()]), [[["conv"], 0, 0]])
    cases["fractional-kernel.json"] = _sequential([_input(), _conv2d(kernel_size=[1.5, 1.5])])
    cases["boolean-filters.json"] = _sequential([_input(), _conv2d(filters=True)])
    cases["zero-stride.json"] = _sequential([_input(), _conv2d(strides=[0, 0])])
    cases["padding-expression.json"] = _sequential([_input(), _conv2d(padding="__import__('os').getcwd()")])
    cases["lambda.json"] = _sequential([_input(), {"class_name": "Lambda", "config": {
        "name": "run", "function": {"class_name": "__lambda__", "config": {
            "code": "lambda x: open('../executed.txt', 'w')"}}}}])
    cases["second-input.json"] = _functional(_linked([_input(), _input(name="in2"), _conv2d()]), [["conv", 0, 0]])
    cases["duplicate-names.json"] = _sequential([_input(), _conv2d(), _conv2d()])
    cases["keras2-list-sequential.json"] = {"class_name": "Sequential", "keras_version": "2.4.0", "config": [
        _conv2d(batch_input_shape=[None, 8, 8, 3]), {"class_name": "Flatten", "config": {"name": "flat"}}]}
    cases["version-injection.json"] = _sequential([_input(), _conv2d(), {"class_name": "Flatten",
                                                                         "config": {"name": "flat"}}],
                                                  keras_version="3.0\ndefaults: {conv: {stride: 2}}\n#")
    cases["layer-names.json"] = _functional(_linked([
        _input(), _conv2d("../../etc/passwd"), {"class_name": "ReLU", "config": {"name": "input"}},
        {"class_name": "ReLU", "config": {"name": "true"}}, {"class_name": "ReLU", "config": {"name": "a b\nc: d"}},
        {"class_name": "ReLU", "config": {"name": "\u2028/"}}]), [["\u2028/", 0, 0]], name="x\ny: z")
    cases["200k-layers.json.gz"] = _sequential([_input()] + [{"class_name": "ReLU", "config": {"name": "r"}}] * 200_000)
    cases["gzip-bomb.json.gz"] = b'{"class_name": "Sequential", "x": "' + b" " * (40 * 2**20) + b'"}'
    cases["zip-bomb.keras"] = _zip([("config.json", small[:-1] + b', "x": "' + b" " * (40 * 2**20) + b'"}',
                                     zipfile.ZIP_DEFLATED)])
    cases["two-configs.keras"] = _zip([("config.json", small, zipfile.ZIP_DEFLATED),
                                       ("config.json", json.dumps(_sequential([_input(), _conv2d(filters=8)])).encode(),
                                        zipfile.ZIP_DEFLATED)])
    cases["entry-outside.keras"] = _zip([("config.json", small, zipfile.ZIP_DEFLATED),
                                         ("../../model.weights.h5", b"", zipfile.ZIP_STORED)])
    cases["bzip2-entry.keras"] = _zip([("config.json", small, zipfile.ZIP_BZIP2)])
    cases["not-a-zip.keras"] = b"PK\x03\x04" + b"\x00" * 40

    out = {}
    for name, value in cases.items():
        data = value if isinstance(value, bytes) else (value if isinstance(value, str) else json.dumps(value)).encode()
        out[name] = gzip.compress(data, 9, mtime=0) if name.endswith(".gz") else data
    return out


def main() -> None:
    for surface, cases in (("onnx", onnx_cases()), ("keras", keras_cases())):
        folder = ROOT / surface
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in cases.items():
            assert len(data) < 100_000, f"{name} is {len(data):,} bytes"
            (folder / name).write_bytes(data)
        print(f"{folder}: {len(cases)} files, {sum(map(len, cases.values())):,} bytes")


if __name__ == "__main__":
    main()
