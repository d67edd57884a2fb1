"""Frozen layers: `trainable: false`, `freeze:` patterns, `--freeze` / `--train-only`, and the split of
the parameters into trainable, frozen and running statistics.

The reference numbers are tests/data/reference_training.json, measured with Keras 3.15.1 and PyTorch
(torchvision) by tools/reference_training.py (its docstring gives the models, set-ups and versions):
`keras_transfer` is the Keras book's VGG16 feature extraction, `torch_transfer.<model>` torchvision's
vgg16 and resnet50 with a new 2-class head and every other parameter `requires_grad=False`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import ArchcalcError
from archcalc.report.styles.keras3 import summary_lines

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_training.json").read_text())
KERAS = REFERENCE["keras_transfer"]
TORCH = REFERENCE["torch_transfer"]

# Hand counts of torchvision resnet50's layer1 (three bottlenecks on 64 channels): block 0 has
# conv1 64·64 + bn 2·64, conv2 64·64·9 + bn 2·64, conv3 64·256 + bn 2·256, downsample 64·256 + bn 2·256
# = 75,008; blocks 1 and 2 have conv1 256·64 + 128, conv2 36,864 + 128, conv3 16,384 + 512 = 70,400.
RESNET50_LAYER1 = 75_008 + 2 * 70_400
# Its downsample BatchNorms (`downsample/1`, which `*bn*` does not name): γ and β of 256 + 512 + 1024 + 2048 channels.
RESNET50_DOWNSAMPLE_BN = 2 * (256 + 512 + 1024 + 2048)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def split(report) -> tuple[int, int, int]:
    t = report.totals
    return t.trainable_params, t.frozen_params, t.statistics


def load_text(text: str):
    return archcalc.load("t.yaml", text=text)


# --- the reference models ------------------------------------------------------------------------
def test_keras_book_feature_extraction_counts_as_keras():
    report = archcalc.analyze("vgg16-transfer")
    t = report.totals
    assert (t.params, t.trainable_params, t.non_trainable_params) == (
        KERAS["count_params"], KERAS["trainable_params"], KERAS["non_trainable_params"])
    assert summary_lines(report, "exact") == KERAS["summary_lines"]


def test_keras_book_model_layer_by_layer():
    report = archcalc.analyze("vgg16-transfer")
    base = [r for r in report.layers if r.name.startswith("vgg16/")]
    by_name = {layer["name"]: layer for layer in KERAS["layers"]}
    assert sum(r.params for r in base) == by_name["vgg16"]["params"]
    assert all(r.trainable_params == 0 for r in base)
    for name in ("flatten", "dense", "dense_1"):
        record = report.layer(name)
        assert record.params == by_name[name]["params"]
        assert (record.trainable_params == record.params) is by_name[name]["trainable"]
        assert list(record.output_shape) == by_name[name]["output_shape"][1:]


def test_keras_book_model_before_freezing():
    report = archcalc.analyze("vgg16-transfer", train_only=["*"])
    before = KERAS["before_freezing"]
    assert (report.totals.trainable_params, report.totals.non_trainable_params) == (
        before["trainable_params"], before["non_trainable_params"])
    assert summary_lines(report, "exact") == before["summary_lines"]


def test_resnet50_finetune_splits_as_pytorch():
    reference = TORCH["resnet50"]
    report = archcalc.analyze("resnet50-finetune")
    assert split(report) == (reference["trainable_params"], reference["frozen_params"], reference["bn_running_stats"])
    assert report.totals.trainable_params + report.totals.frozen_params == reference["params"]
    assert trained_tensors(report) == reference["trainable_names"]


def test_vgg16_new_head_splits_as_pytorch():
    reference = TORCH["vgg16"]
    two_classes = {"name": "vgg16-2", "extends": "vgg16-torchvision", "args": {"num_classes": 2}}
    report = archcalc.analyze(two_classes, train_only=["classifier/6"])
    assert split(report) == (reference["trainable_params"], reference["frozen_params"], reference["bn_running_stats"])
    assert trained_tensors(report) == reference["trainable_names"]


def trained_tensors(report) -> list[str]:
    """The trained parameter tensors under PyTorch's state_dict names (`classifier.6.weight`)."""
    return [f"{r.name}.{p.name}".replace("/", ".") for r in report.layers for p in r.param_tensors if p.trainable]


# --- patterns ------------------------------------------------------------------------------------
def test_a_block_instance_pattern_freezes_everything_inside():
    report = archcalc.analyze("resnet50", freeze=["layer1"])
    assert report.totals.frozen_params == RESNET50_LAYER1
    assert report.layer("layer1/2/conv3").trainable_params == 0
    assert report.layer("layer2/0/conv1").frozen_params == 0


def test_a_glob_over_layer_names():
    report = archcalc.analyze("resnet50", freeze=["*bn*"])
    frozen_bn = TORCH["resnet50"]["bn_running_stats"] - RESNET50_DOWNSAMPLE_BN  # γ, β as many as mean, var
    assert report.totals.frozen_params == frozen_bn
    assert report.layer("layer1/0/downsample/1").frozen_params == 0


def test_features_star_freezes_the_convolutional_base():
    report = archcalc.analyze("vgg16-torchvision", freeze=["features/*"])
    assert report.totals.frozen_params == KERAS["layers"][0]["params"]  # the same base as Keras's VGG16


def test_freeze_adds_to_train_only_and_the_file():
    report = archcalc.analyze("resnet50", train_only=["layer1", "fc"], freeze=["layer1/0"])
    layer1_rest = 2 * 70_400
    assert report.totals.trainable_params == layer1_rest + 2048 * 1000 + 1000
    finetune = archcalc.analyze("resnet50-finetune", freeze=["fc"])
    assert finetune.totals.trainable_params == 0


def test_a_string_is_one_pattern():
    assert archcalc.analyze("resnet50", freeze="layer1").totals.frozen_params == RESNET50_LAYER1


def test_frozen_tensors_are_marked_per_parameter():
    record = archcalc.analyze("resnet50", freeze=["layer1"]).layer("layer1/0/bn1")
    assert {p.name: p.trainable for p in record.param_tensors} == {
        "weight": False, "bias": False, "running_mean": False, "running_var": False}
    assert all(p.frozen == (p.role != "stat") for p in record.param_tensors)
    free = archcalc.analyze("resnet50").layer("layer1/0/bn1")
    assert [p.trainable for p in free.param_tensors] == [True, True, False, False]


# --- the file's keys ------------------------------------------------------------------------------
BLOCKS = """\
name: t
input: [3, 8, 8]
blocks:
  pair:
    args: {width: 4}
    layers:
      - {name: a, type: conv, out_channels: width, kernel_size: 3, padding: 1}
      - {name: b, type: conv, out_channels: width, kernel_size: 1, trainable: true}
  fixed:
    trainable: false
    layers:
      - {name: c, type: conv, out_channels: 4, kernel_size: 1}
layers:
  - {name: p0, type: pair}
  - {name: p1, type: pair, trainable: false}
  - {name: f, type: fixed, repeat: 2}
  - {name: head, type: conv, out_channels: 2, kernel_size: 1, trainable: false}
  - {name: out, type: conv, out_channels: 2, kernel_size: 1}
"""
# conv a: 3·4·9 + 4 = 112 on p0, 4·4·9 + 4 = 148 on p1; conv b: 4·4 + 4 = 20; c: 4·4 + 4 = 20;
# head 4·2 + 2 = 10; out 2·2 + 2 = 6.


def test_trainable_false_on_a_layer_a_block_instance_and_a_block():
    report = archcalc.analyze(load_text(BLOCKS))
    frozen = {r.name for r in report.layers if r.frozen_params}
    assert frozen == {"p1/a", "p1/b", "f/0/c", "f/1/c", "head"}  # `trainable: true` inside p1 stays frozen
    assert (report.totals.trainable_params, report.totals.frozen_params) == (112 + 20 + 6, 148 + 20 + 2 * 20 + 10)


def test_file_freeze_patterns():
    report = archcalc.analyze(load_text(BLOCKS + "freeze: [p0, 'out']\n"))
    assert report.totals.trainable_params == 0
    assert archcalc.analyze(load_text(BLOCKS), train_only=["out", "p0/a"]).totals.trainable_params == 6 + 112


def test_json_carries_the_three_counts():
    data = json.loads(run("table", "resnet50-finetune", "--format", "json").output)
    reference = TORCH["resnet50"]
    totals = data["totals"]
    assert (totals["trainable_params"], totals["frozen_params"]) == (reference["trainable_params"],
                                                                     reference["frozen_params"])
    assert totals["non_trainable_params"] == reference["frozen_params"] + reference["bn_running_stats"]
    bn = next(layer for layer in data["layers"] if layer["name"] == "bn1")
    assert (bn["trainable_params"], bn["frozen_params"], bn["non_trainable_params"]) == (0, 128, 256)
    fc = next(layer for layer in data["layers"] if layer["name"] == "fc")
    assert (fc["trainable_params"], fc["frozen_params"], fc["non_trainable_params"]) == (2048 * 2 + 2, 0, 0)


def test_nothing_frozen_reports_zero_frozen():
    data = json.loads(run("table", "lenet5", "--format", "json").output)
    assert data["totals"]["frozen_params"] == 0
    assert data["totals"]["trainable_params"] == data["totals"]["params"] == 61706  # seed 000, Ex. 3.1
    assert all(layer["frozen_params"] == 0 for layer in data["layers"])


# --- the command line ----------------------------------------------------------------------------
def test_cli_flags_on_table_explain_and_compare():
    keras = run("table", "vgg16-torchvision", "--freeze", "features/*", "--freeze", "classifier/0",
                "--style", "keras3")
    assert keras.exit_code == 0, keras.output
    frozen = KERAS["non_trainable_params"] + 25088 * 4096 + 4096
    assert f"Non-trainable params: {frozen:,}" in keras.output
    only = json.loads(run("table", "resnet50", "--train-only", "fc", "--format", "json").output)
    assert only["totals"]["trainable_params"] == 2048 * 1000 + 1000
    explained = run("explain", "resnet50", "layer1/0/conv1", "--freeze", "layer1")
    assert explained.exit_code == 0 and "frozen: its 4,096 weights and biases are not trained" in explained.output
    compared = run("compare", "resnet50", "resnet50-finetune", "--freeze", "fc", "--units", "exact")
    assert compared.exit_code == 0, compared.output
    assert "+ frozen" in compared.output and "23,508,032" in compared.output


def test_the_table_cache_tells_frozen_from_not():
    plain = run("table", "resnet18").output
    frozen = run("table", "resnet18", "--freeze", "layer4").output
    assert plain != frozen and "frozen" in frozen and "frozen" not in plain


def test_headline_names_the_frozen_weights():
    result = run("validate", "vgg16-transfer")
    assert "16,812,353 params = 2,097,665 trainable + 14,714,688 frozen" in result.output


# --- errors --------------------------------------------------------------------------------------
def test_a_pattern_naming_no_layer_is_one_line_with_a_suggestion():
    with pytest.raises(ArchcalcError) as error:
        archcalc.analyze("vgg16-torchvision", freeze=["featurs/*"])
    message = str(error.value)
    assert "vgg16-torchvision.yaml" in message and "'featurs/*' matches no layer" in message
    assert "did you mean 'features/*'" in message and "\n" not in message
    result = run("table", "resnet50", "--train-only", "layer9")
    assert result.exit_code == 2
    assert "resnet50.yaml" in result.output and "'layer9' matches no layer" in result.output


def test_a_file_pattern_naming_no_layer_names_its_line():
    with pytest.raises(ArchcalcError) as error:
        load_text(BLOCKS + "freeze: [hed]\n")
    assert error.value.file == "t.yaml" and error.value.line == BLOCKS.count("\n") + 1
    assert "'hed' matches no layer (did you mean 'head'?)" in str(error.value)


@pytest.mark.parametrize(("given", "found"), [(5, "expected a list of patterns"), ([""], "non-empty string"),
                                              (["layer1", 3], "non-empty string")])
def test_patterns_that_are_not_strings(given, found):
    with pytest.raises(ArchcalcError, match=found):
        archcalc.analyze("resnet18", freeze=given)


@pytest.mark.parametrize("entry", ["trainable: 3", "trainable: 'no'"])
def test_trainable_must_be_a_boolean(entry):
    with pytest.raises(ArchcalcError) as error:
        load_text(f"name: t\ninput: [3, 8, 8]\nlayers:\n  - {{name: c, type: conv, out_channels: 2, "
                  f"kernel_size: 1, {entry}}}\n")
    assert "trainable" in str(error.value) and error.value.line == 4


# --- importers and the PyTorch export ------------------------------------------------------------
def test_pytorch_requires_grad_comes_in_as_freeze_and_goes_back_out():
    torch = pytest.importorskip("torch")
    from torch import nn

    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU()),
                          nn.Sequential(nn.Conv2d(8, 8, 3), nn.BatchNorm2d(8), nn.ReLU()),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 2))
    model[0].requires_grad_(False)
    model[1][1].requires_grad_(False)
    mapping = archcalc.import_model(model, input=(3, 8, 8), name="tiny")
    assert mapping["freeze"] == ["0", "1/1"]
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    report = archcalc.analyze(mapping)
    assert (report.totals.trainable_params, report.totals.frozen_params) == (trained, frozen)
    with torch.device("meta"):
        back = archcalc.to_torch(report.architecture)
    assert {n for n, p in back.named_parameters() if p.requires_grad} == \
        {n for n, p in model.named_parameters() if p.requires_grad}


def test_keras_trainable_false_comes_in_as_freeze(tmp_path):
    layers = [{"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, 8, 8, 3]}},
              {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3],
                                                  "padding": "same", "use_bias": True, "trainable": False}},
              {"class_name": "Flatten", "config": {"name": "flat", "trainable": True}},
              {"class_name": "Dense", "config": {"name": "out", "units": 10, "use_bias": True}}]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"class_name": "Sequential", "config": {"name": "tiny", "layers": layers}}))
    mapping = archcalc.import_model(path)
    assert mapping["freeze"] == ["conv"]
    report = archcalc.analyze(mapping)
    # conv: 3·3·3·4 + 4 = 112 frozen (Keras: non-trainable); dense: 8·8·4·10 + 10 = 2,570
    assert (report.totals.trainable_params, report.totals.non_trainable_params) == (2570, 112)


def test_the_exported_source_freezes_the_outermost_frozen_module():
    from archcalc.interop.export_torch import torch_source

    text = torch_source(archcalc.analyze("resnet50-finetune")).text
    frozen = [line.strip() for line in text.splitlines() if "requires_grad_" in line]
    assert frozen == [f"self.{name}.requires_grad_(False)"
                      for name in ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4")]


def test_the_keras_style_prints_keras_lines():
    printed = run("table", "vgg16-transfer", "--style", "keras").output.splitlines()
    # Keras' summary lines without the memory in brackets that Keras 3 adds
    assert [line.split(" (")[0] for line in KERAS["summary_lines"]] == \
        [line for line in printed if line.endswith("params") or "params:" in line]
