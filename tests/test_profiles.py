"""Count profiles against the real tools: every expected total below is read from
tests/data/reference_counts.json, written by tools/reference_counts.py running fvcore, ptflops,
thop, torchinfo and torch's FlopCounterMode on the real torchvision models and the lecture LeNet-5."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcalc
from archcalc.profiles import NAMES, call_style
from tests.test_zoo_torchvision import TORCHVISION

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_counts.json").read_text())
MODELS = REFERENCE["models"]

# The number each tool prints as its headline total (ptflops: its default pytorch backend, the same
# with count_functional=False, and its aten backend).
TOOL_TOTALS = {
    "fvcore": lambda entry: entry["fvcore"]["total"],
    "ptflops": lambda entry: entry["ptflops"]["macs"],
    "ptflops-modules": lambda entry: entry["ptflops"]["pytorch_no_functional"]["macs"],
    "ptflops-aten": lambda entry: entry["ptflops"]["aten"]["macs"],
    "thop": lambda entry: entry["thop"]["macs"],
    "torchinfo": lambda entry: entry["torchinfo"]["total_mult_adds"],
    "torch": lambda entry: entry["torch_flop_counter"]["total_flops"],
    # the forward pass of a training step (its backward: tests/test_training_cost.py)
    "torch-train": lambda entry: entry["torch_flop_counter"]["total_flops"],
}
TOOL_KEYS = {"fvcore": "fvcore", "ptflops": "ptflops", "ptflops-modules": "ptflops", "ptflops-aten": "ptflops",
             "thop": "thop", "torchinfo": "torchinfo", "torch": "torch_flop_counter",
             "torch-train": "torch_flop_counter"}

# The lecture LeNet-5 with a ReLU after every convolution but the last, as tools/reference_counts.py builds it.
LENET5_RELU = {
    "name": "lenet5-relu",
    "input": [1, 32, 32],
    "layers": [
        {"name": "C1", "type": "conv", "out_channels": 6, "kernel_size": 5}, {"type": "relu"},
        {"name": "S2", "type": "maxpool", "kernel_size": 2, "stride": 2},
        {"name": "C3", "type": "conv", "out_channels": 16, "kernel_size": 5}, {"type": "relu"},
        {"name": "S4", "type": "maxpool", "kernel_size": 2, "stride": 2},
        {"name": "C5", "type": "conv", "out_channels": 120, "kernel_size": 5}, {"type": "relu"},
        {"name": "F6", "type": "conv", "out_channels": 84, "kernel_size": 1}, {"type": "relu"},
        {"name": "F7", "type": "conv", "out_channels": 10, "kernel_size": 1},
    ],
}
LECTURE = {"lenet5": "lenet5", "lenet5-relu": LENET5_RELU}
# The recorded models archcalc has a file of (the data holds every torchvision CNN, for the importers).
WITH_FILES = sorted(m for m in MODELS if m in LECTURE or m in TORCHVISION.values())
# ptflops with count_functional=False was recorded from tools/reference_counts.py's second revision on.
RECORDED = {"ptflops-modules": lambda entry: "pytorch_no_functional" in entry.get("ptflops", {})}


def entry_of(model: str) -> dict:
    entry = MODELS.get(model)
    if entry is None or "error" in entry:
        pytest.fail(f"{model} is not in reference_counts.json: {entry}")
    return entry


def tool_total(model: str, tool: str) -> int:
    cell = entry_of(model).get(TOOL_KEYS[tool])
    if not isinstance(cell, dict) or "error" in cell:
        pytest.fail(f"{tool} has no result for {model} in reference_counts.json: {cell}")
    value = TOOL_TOTALS[tool](MODELS[model])
    if value is None:
        pytest.fail(f"{tool} has no total for {model}")
    return value


def torchvision_zoo_name(model: str) -> str:
    """The zoo file of the torchvision `model` (the map tests/test_zoo_torchvision.py states)."""
    names = [zoo_name for zoo_name, torchvision in TORCHVISION.items() if torchvision == model]
    if not names:
        pytest.fail(f"no torchvision zoo file for {model}")
    return names[0]


def source_of(model: str):
    entry_of(model)
    if model in LECTURE:
        return LECTURE[model]
    return torchvision_zoo_name(model)


def analysis(model: str, count: str):
    source = source_of(model)
    entry = MODELS[model]
    return archcalc.analyze(source, input=entry["input_shape"], count=count)


CASES = [(model, tool) for model in WITH_FILES for tool in TOOL_TOTALS
         if RECORDED.get(tool, lambda entry: True)(MODELS[model])]


def test_every_profile_is_checked_on_the_new_zoo_files():
    checked = {tool for model, tool in CASES if model == "convnext_tiny"}
    # ultralytics: held to Ultralytics' own networks in tests/test_import_ultralytics.py
    assert checked == set(TOOL_TOTALS) == set(NAMES) - {"archcalc", "ultralytics"}


@pytest.mark.parametrize("model, tool", CASES)
def test_profile_reproduces_tool_total(model, tool):
    expected = tool_total(model, tool)
    assert analysis(model, tool).totals.flops == expected


@pytest.mark.parametrize("model", WITH_FILES)
def test_archcalc_profile_is_twice_the_hooked_macs(model):
    report = analysis(model, "archcalc")
    assert report.totals.macs == MODELS[model]["macs_conv_linear"]
    assert report.totals.flops == 2 * MODELS[model]["macs_conv_linear"]


def test_lenet5_spread_between_tools():
    """On the lecture LeNet-5 the tools disagree by about 2×; every profile lands on its tool."""
    got = {tool: archcalc.analyze("lenet5", count=tool).totals.flops for tool in TOOL_TOTALS}
    expected = {tool: tool_total("lenet5", tool) for tool in TOOL_TOTALS}
    assert got == expected
    assert min(got.values()) == entry_of("lenet5")["macs_conv_linear"]


def test_fvcore_convolution_breakdown_on_lenet5_relu():
    """fvcore's per-operator split: only `conv` counts, ReLU and max pooling are unsupported."""
    report = archcalc.analyze(LENET5_RELU, count="fvcore")
    conv = sum(r.flops for r in report.layers if r.type == "conv")
    assert conv == entry_of("lenet5-relu")["fvcore"]["by_operator"]["conv"]
    assert sum(r.flops for r in report.layers if r.type != "conv") == 0


def test_ptflops_counts_a_relu_module_twice():
    """ptflops hooks nn.ReLU and also wraps F.relu, which nn.ReLU calls: each ReLU counts 2 per element."""
    entry = entry_of("lenet5-relu")["ptflops"]["pytorch"]
    report = archcalc.analyze(LENET5_RELU, count="ptflops")
    relu = [r for r in report.layers if r.type == "relu"]
    hooked = sum(r.flops for r in relu) // 2
    assert hooked == entry["module_macs_by_type"]["ReLU"]
    pools = sum(r.flops for r in report.layers if r.type == "maxpool") // 2
    assert pools == entry["module_macs_by_type"]["MaxPool2d"]
    assert hooked + pools == entry["non_module_macs"]


def test_thop_and_torchinfo_convolution_rows():
    """Per-type totals of the lecture LeNet-5 with ReLU: thop's Conv2d row is pure MACs,
    torchinfo's Conv2d row adds one per bias element."""
    entry = entry_of("lenet5-relu")
    thop = archcalc.analyze(LENET5_RELU, count="thop")
    info = archcalc.analyze(LENET5_RELU, count="torchinfo")
    assert sum(r.flops for r in thop.layers if r.type == "conv") == entry["thop"]["macs_by_module_type"]["Conv2d"]
    assert sum(r.flops for r in info.layers if r.type == "conv") == \
        entry["torchinfo"]["mult_adds_by_layer_type"]["Conv2d"]


def test_batch_multiplies_every_profile():
    for count in NAMES:
        one = archcalc.analyze(LENET5_RELU, count=count).totals.flops
        assert archcalc.analyze(LENET5_RELU, count=count, batch=3).totals.flops == 3 * one


def test_report_names_its_profile():
    report = archcalc.analyze("lenet5", count="thop")
    assert report.count == "thop"
    assert report.to_dict()["count"] == "thop"
    assert archcalc.analyze("lenet5").count == "archcalc"


def test_unknown_profile_is_one_line_error():
    with pytest.raises(archcalc.ArchcalcError) as caught:
        archcalc.analyze("lenet5", count="flopco")
    message = str(caught.value)
    assert "lenet5.yaml" in message and "fvcore" in message and "\n" not in message


def test_layers_are_module_calls_unless_the_file_lists_them():
    # torchvision's DenseNet.forward calls `F.relu(features)` and `F.adaptive_avg_pool2d(...)`
    calls = archcalc.load("densenet121").spec.calls
    assert call_style(calls, "relu", "relu") == "functional"
    assert call_style(calls, "features/relu0", "relu") == "module"
    assert call_style(archcalc.load("lenet5").spec.calls, "C1", "conv") == "module"


def test_a_file_that_extends_a_family_keeps_its_call_styles(tmp_path):
    path = tmp_path / "my-densenet.yaml"
    path.write_text("name: my-densenet\nextends: densenet121\n")
    report = archcalc.analyze(str(path), count="ptflops")
    assert report.totals.flops == archcalc.analyze("densenet121", count="ptflops").totals.flops


@pytest.mark.parametrize("tool", list(TOOL_TOTALS))
def test_table_count_option_shows_the_tool_total(tool):
    from click.testing import CliRunner

    from archcalc.cli import main

    result = CliRunner().invoke(main, ["table", "lenet5", "--count", tool, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"]["flops"] == tool_total("lenet5", tool)


def test_table_count_choices_are_the_profiles():
    from archcalc.commands.report import COUNT_PROFILES

    assert tuple(COUNT_PROFILES) == NAMES
