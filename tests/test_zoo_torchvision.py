"""The torchvision zoo against torchvision 0.29 itself.

Expected values come from `tests/data/reference_counts.json` and `reference_shapes.json`, written
by `tools/reference_counts.py` from the real torchvision models (default arguments, weights=None):
`parameters()` are our trainable parameters, BatchNorm running mean/var our non-trainable ones,
and the multiply-accumulates of every Conv2d and Linear (forward hooks) our MACs.

Layer paths follow torchvision's module names (`layer1/0/conv1` is `layer1.0.conv1`). A module
that torchvision calls more than once (the shared ReLU of a ResNet block) appears once per call in
the reference; our layers for the later calls carry a `_1`, `_2` suffix. Our layers with no
module of that name are torchvision's functional operations (`torch.flatten`, `F.relu`, `+`, ...).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc import zoo
from archcalc.cli import main

DATA = Path(__file__).parent / "data"
COUNTS = json.loads((DATA / "reference_counts.json").read_text())["models"]
SHAPES = json.loads((DATA / "reference_shapes.json").read_text())

# zoo name -> torchvision builder name
TORCHVISION = {
    "alexnet": "alexnet",
    "vgg11": "vgg11", "vgg13": "vgg13", "vgg16-torchvision": "vgg16", "vgg19": "vgg19",
    "vgg11_bn": "vgg11_bn", "vgg13_bn": "vgg13_bn", "vgg16_bn": "vgg16_bn", "vgg19_bn": "vgg19_bn",
    "resnet18": "resnet18", "resnet34": "resnet34", "resnet50": "resnet50", "resnet101": "resnet101",
    "resnet152": "resnet152", "resnext50_32x4d": "resnext50_32x4d",
    "resnext101_32x8d": "resnext101_32x8d", "wide_resnet50_2": "wide_resnet50_2",
    "googlenet": "googlenet", "inception_v3": "inception_v3",
    "densenet121": "densenet121", "densenet169": "densenet169", "densenet201": "densenet201",
    "mobilenet_v2": "mobilenet_v2", "mobilenet_v3_small": "mobilenet_v3_small",
    "mobilenet_v3_large": "mobilenet_v3_large", "shufflenet_v2_x1_0": "shufflenet_v2_x1_0",
    "squeezenet1_0": "squeezenet1_0", "squeezenet1_1": "squeezenet1_1",
    "efficientnet_b0": "efficientnet_b0", "mnasnet1_0": "mnasnet1_0",
    "convnext_tiny": "convnext_tiny", "regnet_y_400mf": "regnet_y_400mf", "regnet_x_400mf": "regnet_x_400mf",
    "efficientnet_v2_s": "efficientnet_v2_s", "mnasnet0_5": "mnasnet0_5", "shufflenet_v2_x0_5": "shufflenet_v2_x0_5",
    "resnext101_64x4d": "resnext101_64x4d", "wide_resnet101_2": "wide_resnet101_2",
}
WITH_SHAPES = [name for name, model in TORCHVISION.items() if model in SHAPES]

# our layer type -> the torchvision module classes it stands for
MODULE_CLASSES = {
    "conv": {"Conv2d"}, "linear": {"Linear"}, "batchnorm": {"BatchNorm2d"},
    "relu": {"ReLU"}, "relu6": {"ReLU6"}, "silu": {"SiLU"}, "sigmoid": {"Sigmoid"},
    "hardswish": {"Hardswish"}, "hardsigmoid": {"Hardsigmoid"}, "dropout": {"Dropout"},
    "maxpool": {"MaxPool2d"}, "avgpool": {"AvgPool2d"}, "adaptiveavgpool": {"AdaptiveAvgPool2d"},
    "identity": {"StochasticDepth", "Identity"}, "stochasticdepth": {"StochasticDepth"},
    "layernorm": {"LayerNorm", "LayerNorm2d"}, "pointlinear": {"Linear"}, "gelu": {"GELU"}, "flatten": {"Flatten"},
}
# our MAC-counting layer type -> the torchvision module class whose hooks counted its MACs
MAC_CLASSES = {"conv": "Conv2d", "linear": "Linear", "pointlinear": "Linear"}


def reference(zoo_name: str, table: dict) -> dict:
    model = TORCHVISION[zoo_name]
    if model not in table or "error" in table[model]:
        pytest.fail(f"tests/data has no torchvision reference for {model}")
    return table[model]


def our_rows(rows: list[dict]) -> list[dict]:
    """torchvision's leaf rows as our layers stand: RegNet's blocks `block1-0` are a repeat's `0`; the
    Permute modules of ConvNeXt's blocks are dropped, and between two of them (channels last) an
    (H, W, C) output is our (C, H, W)."""
    result, channels_last = [], False
    for row in rows:
        if row["type"] == "Permute":
            channels_last = not channels_last
            continue
        shape = row["output_shape"]
        if channels_last:
            shape = [shape[-1], *shape[:-1]]
        result.append({**row, "module": re.sub(r"\.block\d+-(\d+)\.", r".\1.", row["module"]), "output_shape": shape})
    return result


def module_name(path: str, modules: set[str]) -> str | None:
    """The torchvision module a layer path stands for, or None for a functional operation."""
    dotted = path.replace("/", ".")
    if dotted in modules:
        return dotted
    repeated_call = re.sub(r"_\d+$", "", dotted)
    return repeated_call if repeated_call in modules else None


def test_every_torchvision_model_has_a_zoo_file():
    assert set(TORCHVISION) <= set(zoo.names())


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_counts_equal_torchvision(name):
    expected = reference(name, COUNTS)
    report = archcalc.analyze(name)
    assert list(report.input_shape) == expected["input_shape"]
    assert report.totals.trainable_params == expected["trainable_params"]
    assert report.totals.non_trainable_params == expected["bn_running_stats"]
    assert report.totals.macs == expected["macs_conv_linear"]
    macs_by_type = Counter()
    for record in report.layers:
        if record.macs:
            macs_by_type[MAC_CLASSES[record.type]] += record.macs
    assert dict(macs_by_type) == expected["macs_by_module_type"]
    assert list(report.layer(report.architecture.output_path).output_shape) == expected["output_shape"]


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_reference_block_documents_torchvision(name):
    expected = reference(name, COUNTS)
    spec = archcalc.load(name).spec
    documented = spec.reference["torchvision"]
    assert documented["params"] - documented.get("aux_logits_params", 0) == expected["params"]
    assert f"`{TORCHVISION[name]}()`" in spec.source


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_table_json_command_reports_torchvision_counts(name):
    expected = reference(name, COUNTS)
    result = CliRunner().invoke(main, ["table", name, "--format", "json"])
    assert result.exit_code == 0, result.output
    totals = json.loads(result.output)["totals"]
    assert totals["params"] == expected["trainable_params"] + expected["bn_running_stats"]
    assert totals["macs"] == expected["macs_conv_linear"]


@pytest.mark.parametrize("name", WITH_SHAPES)
def test_layer_shapes_equal_torchvision(name):
    rows = our_rows(reference(name, SHAPES)["layers"])
    modules = {row["module"] for row in rows}
    report = archcalc.analyze(name)
    matched = []
    for record in report.layers[1:]:
        module = module_name(record.name, modules)
        if module is not None:
            matched.append((module, record))
    assert [module for module, _ in matched] == [row["module"] for row in rows]
    for (module, record), row in zip(matched, rows):
        assert list(record.output_shape) == row["output_shape"], module
        assert row["type"] in MODULE_CLASSES[record.type], module
