"""`archcalc import FILE.onnx`: the shape-only ONNX exports of torchvision's CNNs in tests/data/onnx/
(torch.onnx.export, opset 17, by tools/reference_import.py) import from ONNX alone with torchvision's
own counts (tests/data/reference_import.json, measured with forward hooks in torch 2.14.1 /
torchvision 0.29.1)."""

from __future__ import annotations

import json

import pytest

import archcalc
from archcalc.errors import SpecError
from archcalc.interop.yaml_writer import dump, loadable
from tests.import_data import DATA, REFERENCE, conv_linear_counts

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

ONNX_FILES = sorted((DATA / "onnx").glob("*.onnx.gz"))


def _stem(path) -> str:
    return path.name.removesuffix(".onnx.gz")


def _analysis_json(mapping) -> tuple[str, str]:
    direct = archcalc.analyze(mapping).to_dict()
    reloaded = archcalc.analyze(archcalc.load("imported.yaml", text=dump(mapping))).to_dict()
    return json.dumps(direct, sort_keys=True, default=str), json.dumps(reloaded, sort_keys=True, default=str)


@pytest.mark.parametrize("path", ONNX_FILES, ids=_stem)
def test_torchvision_exports_count_as_torchvision(path):
    reference = REFERENCE["torchvision"][_stem(path)]
    mapping = archcalc.import_model(path)
    assert mapping["input"] == reference["input"]
    assert conv_linear_counts(archcalc.analyze(mapping)) == (
        reference["trainable_params"], reference["bn_running_stats"], reference["macs_conv_linear"])
    assert loadable(dump(mapping), str(path))          # what `archcalc import` writes loads back


def test_every_stored_cnn_has_an_export():
    assert {_stem(p) for p in ONNX_FILES} == set(REFERENCE["torchvision"])


@pytest.mark.parametrize("model", ["resnet50", "shufflenet_v2_x0_5", "mobilenet_v3_small", "efficientnet_b0",
                                   "densenet121", "inception_v3"])
def test_written_file_reloads_to_the_same_analysis(model):
    mapping = archcalc.import_model(DATA / "onnx" / f"{model}.onnx.gz")
    direct, reloaded = _analysis_json(mapping)
    assert direct == reloaded


def test_idioms_map_to_layer_types():
    """SiLU exported as x·sigmoid(x), the SE gate's Mul, ShuffleNet's shuffle and split, names by scope."""
    def types(model):
        return {r.type for r in archcalc.analyze(archcalc.import_model(DATA / "onnx" / f"{model}.onnx.gz")).layers}

    assert {"silu", "multiply", "sigmoid", "globalavgpool"} <= types("efficientnet_b0")
    assert {"channelshuffle", "slice", "concat"} <= types("shufflenet_v2_x0_5")
    text = dump(archcalc.import_model(DATA / "onnx" / "resnet50.onnx.gz"))
    assert "name: conv1" in text and "repeat:" in text


def _model(nodes, inits, inputs=((1, 3, 8, 8),), opset=17):
    """A small ONNX model: `inits` are (name, shape) parameters stored as shape-only graph inputs."""
    graph = helper.make_graph(
        nodes, "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(inputs[0]))]
        + [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inits],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_conv_forms_pads_and_hand_counted_numbers(tmp_path):
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"], name="/pad/Pad"),
        helper.make_node("Conv", ["p", "c1.weight", "c1.bias"], ["a"], name="/c1/Conv", auto_pad="SAME_UPPER",
                         strides=[2, 2]),
        helper.make_node("Clip", ["a", "lo", "hi"], ["b"], name="/act/Clip"),
        helper.make_node("Conv", ["b", "c2.weight"], ["c"], name="/c2/Conv", group=4, pads=[0, 1, 1, 0]),
        helper.make_node("AveragePool", ["c"], ["d"], name="/pool/AveragePool", kernel_shape=[2, 2],
                         strides=[2, 2], ceil_mode=1),
        helper.make_node("Flatten", ["d"], ["e"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["e", "fc.weight", "fc.bias"], ["f"], name="/fc/Gemm", transB=1),
    ]
    model = _model(nodes, [("c1.weight", (4, 3, 3, 3)), ("c1.bias", (4,)), ("c2.weight", (8, 1, 3, 3)),
                           ("fc.weight", (10, 32)), ("fc.bias", (10,))])
    model.graph.initializer.extend([helper.make_tensor("pads", TensorProto.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1]),
                                    helper.make_tensor("lo", TensorProto.FLOAT, [], [0.0]),
                                    helper.make_tensor("hi", TensorProto.FLOAT, [], [6.0])])
    path = tmp_path / "net.onnx"
    onnx.save(model, str(path))
    report = archcalc.analyze(archcalc.import_model(path))
    assert [r.type for r in report.layers][1:] == ["zeropad", "conv", "relu6", "conv", "avgpool", "flatten", "linear"]
    assert [r.name for r in report.layers][1:3] == ["pad", "c1"]
    # 3×8×8 → pad 1: 3×10×10 → same, stride 2: ⌈10/2⌉ = 5 → pads top 0 left 1 bottom 1 right 0, k 3:
    # 5 + 1 − 3 + 1 = 4 → ceil pool 2/2: 2 → 8·2·2 = 32 features
    shapes = [tuple(r.output_shape) for r in report.layers[1:]]
    assert shapes[:6] == [(3, 10, 10), (4, 5, 5), (4, 5, 5), (8, 4, 4), (8, 2, 2), (32,)]
    # c1: 3·3·3·4 + 4 = 112; c2: 1·3·3·8 = 72; fc: 32·10 + 10 = 330
    assert report.totals.params == 112 + 72 + 330


def test_every_unsupported_op_is_named_in_one_error(tmp_path):
    nodes = [helper.make_node("Sin", ["x"], ["a"], name="/head/Sin"),
             helper.make_node("Conv", ["x", "w"], ["b"], name="/conv/Conv"),
             helper.make_node("Cos", ["b"], ["c"], name="/tail/Cos")]
    path = tmp_path / "trig.onnx"
    onnx.save(_model(nodes, [("w", (4, 3, 1, 1))]), str(path))
    with pytest.raises(SpecError) as info:
        archcalc.import_model(path)
    message = str(info.value)
    assert "2 node(s)" in message and "head/sin" in message and "tail/cos" in message


def test_the_command_imports_an_onnx_file(tmp_path):
    from click.testing import CliRunner

    from archcalc.cli import main

    target = tmp_path / "alexnet.yaml"
    result = CliRunner().invoke(main, ["import", str(DATA / "onnx" / "alexnet.onnx.gz"), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert archcalc.analyze(str(target)).totals.params == REFERENCE["torchvision"]["alexnet"]["params"]


def test_missing_onnx_names_the_extra(monkeypatch):
    import importlib.util

    from click.testing import CliRunner

    from archcalc.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else real(name, *a))
    result = CliRunner().invoke(main, ["import", "model.onnx"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["archcalc: error: importing model.onnx needs onnx: "
                                                  "pip install 'archcalc[onnx]'"]
