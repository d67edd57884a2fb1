"""The ONNX export: every zoo file passes the ONNX checker (full check), reads back with ONNX's own
shape inference to archcalc's shapes and parameter counts, and gives its weights back to
`archcalc.load_weights`; ONNX Runtime computes what archcalc's NumPy executor computes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import archcalc
from archcalc import zoo
from archcalc.cli import main
from archcalc.executor.weights import expected
from archcalc.interop.export_onnx import OPSET, onnx_model
from tests.export_zoo import small, small_input

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import numpy_helper, shape_inference  # noqa: E402

HEAVY = 20_000_000  # parameters: beyond, the checker test exports zeros (the weights' values are not checked there)


def session(model):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_export_passes_the_checker_and_reads_back(name):
    report = archcalc.analyze(small(name), input=small_input(name))
    heavy = report.totals.params > HEAVY
    weights = {key: np.zeros(p.shape, np.float32) for key, p in expected(report).items()} if heavy else \
        archcalc.init_weights(report, seed=2, random_stats=True)
    model = onnx_model(report, weights)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == OPSET >= 17
    assert all(node.name for node in model.graph.node)
    # read back: ONNX's own shape inference, from the input's shape alone, gives archcalc's shape for every layer
    assert {info.name for info in model.graph.value_info} == {r.name for r in report.layers[1:]} - set(
        report.architecture.output_paths)
    del model.graph.value_info[:]
    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {info.name: [d.dim_value or d.dim_param for d in info.type.tensor_type.shape.dim]
              for info in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]}
    resized: set[str] = set()  # ONNX infers a Resize's batch as a new symbol (N × 1.0 is not known to be N)
    for record in report.layers:
        if record.layer.type_name == "upsample" or resized.intersection(record.inputs):
            resized.add(record.name)
        batch = shapes[record.name][:1] if record.name in resized else ["N"]
        assert shapes[record.name] == [*batch, *record.output_shape], record.name
    assert sum(int(np.prod(init.dims)) for init in model.graph.initializer) == report.totals.params
    if not heavy:
        back = archcalc.load_weights(report, {i.name: numpy_helper.to_array(i) for i in model.graph.initializer})
        assert all(np.array_equal(back[key], np.float32(weights[key])) for key in weights)


def calibrated(report, weights: dict, x: np.ndarray) -> dict:
    """`weights` with each BatchNorm's running statistics those of its input when the network runs on
    `x` (float64), as a trained network's are those of its data."""
    weights, values = dict(weights), {}
    for record in report.layers:
        inputs = [values[source] for source in record.inputs] if record.inputs else [x]
        if any(p.name == "running_var" for p in record.param_tensors):
            axes = (0, *range(2, inputs[0].ndim))
            weights[f"{record.name}.running_mean"] = inputs[0].mean(axis=axes)
            weights[f"{record.name}.running_var"] = inputs[0].var(axis=axes)
        params = {p.name: np.asarray(weights[f"{record.name}.{p.name}"], dtype=np.float64)
                  for p in record.param_tensors}
        values[record.name] = record.layer.forward(np, inputs, params)
    return weights


# With random BatchNorm statistics EfficientNetV2-S's 170 layers grow its activations to 10⁴ and
# saturate its gates, until float32 rounding alone moves the output by 70 % (archcalc's own float32
# run against its float64 run): no float32 runtime can be compared there. It runs with statistics
# calibrated on data instead, as a trained network's are, at 64×64 (at 32×32 its last 15 blocks
# see 1×1 maps, where a deep random network answers every input alike and leaves nothing to
# calibrate on); its own float32 run is then within 1e-5.
CALIBRATED_AT = {"efficientnet_v2_s": 64}


@pytest.mark.parametrize("name", zoo.names())
def test_onnx_runtime_computes_what_execute_computes(name):
    shape = [3, CALIBRATED_AT[name], CALIBRATED_AT[name]] if name in CALIBRATED_AT else small_input(name)
    report = archcalc.analyze(small(name), input=shape)
    weights = archcalc.init_weights(report, seed=4, random_stats=True)
    if name in CALIBRATED_AT:
        weights = calibrated(report, weights, np.random.default_rng(0).normal(size=(16, *shape)))
    run = session(onnx_model(report, weights))
    for batch in (1, 2):
        x = np.random.default_rng(batch).normal(size=(batch, *shape)).astype(np.float32)
        ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
        ours = list(ours.values()) if isinstance(ours, dict) else [ours]  # `outputs:`, in the graph's order
        for theirs, mine in zip(run.run(None, {report.architecture.input_path: x}), ours, strict=True):
            np.testing.assert_allclose(theirs, mine, rtol=1e-4, atol=1e-4 * np.abs(mine).max())


# Layer types and forms no zoo file uses, each after a convolution of a 3×12×12 input.
CONV = {"name": "conv", "type": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1}
FORMS = {
    "convtranspose": [{"type": "convtranspose", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1,
                       "output_padding": 1, "groups": 2}],
    "prelu": [{"type": "prelu", "num_parameters": 8}, {"type": "prelu"}],
    "activations": [{"type": kind} for kind in ("elu", "leakyrelu", "tanh", "gelu", "hardsigmoid", "silu")],
    "fused": [{"type": "conv", "out_channels": 4, "kernel_size": 1, "activation": a} for a in ("gelu", "relu6")],
    "batchnorm": [{"type": "batchnorm", "affine": False}, {"type": "batchnorm", "track_running_stats": False},
                  {"type": "batchnorm", "scale": False, "activation": "silu"}],
    "pools": [{"type": "adaptivemaxpool", "output_size": 6}, {"type": "sumpool", "kernel_size": 2, "stride": 1},
              {"type": "avgpool", "kernel_size": 2, "stride": 2, "ceil_mode": True, "count_include_pad": False},
              {"type": "maxpool", "kernel_size": 2, "stride": 1, "padding": [0, 1, 1, 0]},
              {"type": "globalmaxpool", "keepdims": False}],
    "asymmetric": [{"type": "conv", "out_channels": 4, "kernel_size": 2, "padding": "same", "dilation": 2},
                   {"type": "avgpool", "kernel_size": 2, "stride": 2, "padding": [1, 0, 0, 1]},
                   {"type": "avgpool", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}],
    "flat": [{"type": "flatten"}, {"type": "batchnorm"}, {"type": "dropout"},
             {"type": "linear", "out_features": 5, "bias": False, "activation": "tanh"}, {"type": "softmax"}],
    # (8,) -> (12,): a gate of the W axis, lifted to (1, 1, 12) to multiply (8, 12, 12)
    "gating": [{"name": "squeeze", "type": "globalavgpool", "keepdims": False},
               {"type": "linear", "out_features": 12}, {"name": "gate", "type": "sigmoid"},
               {"type": "multiply", "from": ["conv", "gate"]},
               {"type": "add", "from": ["conv", "conv", "multiply"]}, {"type": "zeropad", "padding": [0, 1, 2, 0]}],
    # ConvNeXt's block and the Keras input layers
    "channels": [{"type": "layernorm", "eps": 1e-6}, {"type": "pointlinear", "out_features": 6},
                 {"type": "layernorm", "elementwise_affine": False}, {"type": "pointlinear", "out_features": 8,
                                                                       "bias": False},
                 {"type": "layerscale", "init": 0.5}, {"type": "stochasticdepth", "p": 0.1},
                 {"type": "add", "from": ["conv", "stochasticdepth"]}],
    # PyTorch's decomposition: InstanceNormalization of (N, G, −1), γ and β per channel
    "groupnorm": [{"type": "groupnorm", "num_groups": 4, "eps": 1e-3}, {"type": "groupnorm", "num_groups": 2,
                                                                       "affine": False},
                  {"type": "globalavgpool", "keepdims": False}, {"type": "groupnorm", "num_groups": 2}],
    # U-Net's and FCN's resizing: 12×12 → 6×6 → 12×12, 25×25, 24×36; crops by widths and to another layer's size
    "resizing": [{"name": "pool", "type": "maxpool", "kernel_size": 2},
                 {"type": "upsample", "scale_factor": 2},
                 {"type": "upsample", "size": [25, 25], "mode": "bilinear", "from": "pool"},
                 {"type": "upsample", "scale_factor": [2, 3], "mode": "bilinear", "align_corners": True,
                  "from": "pool"},
                 {"name": "small", "type": "crop", "cropping": [1, 2, 3, 0], "from": "conv"},
                 {"type": "upsample", "mode": "bilinear", "like": "conv", "from": "small"},
                 {"type": "crop", "like": "pool", "from": "upsample_3"},
                 {"type": "concat", "from": ["crop", "pool"]}],
    "keras-input": [{"type": "normalization"}, {"type": "rescaling", "scale": 0.5, "offset": -1.0},
                    {"type": "permute", "dims": [1, 2, 0]}, {"type": "flatten"}, {"type": "layernorm"}],
}


@pytest.mark.parametrize("form", list(FORMS))
def test_onnx_runtime_on_the_other_layer_forms(form):
    mapping = {"name": form, "input": [3, 12, 12], "layers": [CONV, *FORMS[form]]}
    report = archcalc.analyze(mapping)
    weights = archcalc.init_weights(report, seed=5, random_stats=True)
    model = onnx_model(report, weights)
    onnx.checker.check_model(model, full_check=True)
    run = session(model)
    for batch in (1, 2):
        x = np.random.default_rng(batch).normal(size=(batch, 3, 12, 12)).astype(np.float32)
        ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
        np.testing.assert_allclose(run.run(None, {"input": x})[0], ours, rtol=1e-4, atol=1e-5 * np.abs(ours).max())


def test_a_form_onnx_cannot_express_is_an_error_naming_the_layer():
    mapping = {"name": "odd", "input": [3, 10, 10],
               "layers": [CONV, {"type": "lrn", "size": 4}, {"type": "adaptiveavgpool", "output_size": 3}]}
    with pytest.raises(archcalc.ArchcalcError) as found:
        onnx_model(archcalc.analyze(mapping))
    assert "lrn" in str(found.value)


def test_layer_types_without_an_onnx_form_are_one_error_naming_each(monkeypatch):
    from archcalc.layers.base import Layer
    from archcalc.layers.norm import GroupNorm

    monkeypatch.setattr(GroupNorm, "onnx_nodes", Layer.onnx_nodes)      # every registered type has a form
    mapping = {"name": "odd", "input": [8, 10, 10],
               "layers": [{"name": "g1", "type": "groupnorm", "num_groups": 2}, {"name": "r", "type": "relu"},
                          {"name": "g2", "type": "groupnorm", "num_groups": 4}]}
    with pytest.raises(archcalc.ArchcalcError) as found:
        onnx_model(archcalc.analyze(mapping))
    assert str(found.value).startswith("odd") and "groupnorm (g1)" in str(found.value)
    assert "\n" not in str(found.value) and "g2" not in str(found.value)


def test_cli_writes_onnx_with_weights_from_npz(tmp_path):
    report = archcalc.analyze("lenet5")
    weights = archcalc.init_weights(report, seed=9)
    archcalc.save_weights(weights, tmp_path / "w.npz")
    target = tmp_path / "lenet5.onnx"
    result = CliRunner().invoke(main, ["export", "lenet5", "--to", "onnx", "--weights", str(tmp_path / "w.npz"),
                                       "-o", str(target)])
    assert result.exit_code == 0, result.output
    model = onnx.load(str(target))
    arrays = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    assert set(arrays) == set(weights)
    np.testing.assert_array_equal(arrays["C3.weight"], np.float32(weights["C3.weight"]))


def test_cli_takes_a_pytorch_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    network = archcalc.to_torch("lenet5")
    torch.save(network.state_dict(), tmp_path / "lenet5.pt")
    result = CliRunner().invoke(main, ["export", "lenet5", "--to", "onnx", "--weights", str(tmp_path / "lenet5.pt"),
                                       "-o", str(tmp_path / "lenet5.onnx")])
    assert result.exit_code == 0, result.output
    arrays = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(tmp_path / "lenet5.onnx")).graph.initializer}
    np.testing.assert_array_equal(arrays["F7.weight"], network.F7.weight.detach().numpy())


def test_cli_refuses_onnx_without_output_and_bad_weights(tmp_path):
    assert CliRunner().invoke(main, ["export", "lenet5", "--to", "onnx"]).exit_code == 2
    (tmp_path / "w.pt").write_text("not a state dict")
    result = CliRunner().invoke(main, ["export", "lenet5", "--to", "onnx", "--weights", str(tmp_path / "w.pt"),
                                       "-o", str(tmp_path / "x.onnx")])
    assert result.exit_code == 2 and "w.pt" in result.output


def test_onnx_export_does_not_import_torch():
    code = ("import sys, archcalc; from archcalc.interop.export_onnx import onnx_model; "
            "onnx_model(archcalc.analyze('resnet18', input=[3, 32, 32])); assert 'torch' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
