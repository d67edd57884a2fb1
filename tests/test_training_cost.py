"""The cost of a training step against PyTorch: every expected number is read from
tests/data/reference_training.json (`flop_counter`), written by tools/reference_training.py running
torchvision resnet18, mobilenet_v2 and vgg11 under FlopCounterMode with per-layer hooks (its docstring
states the set-ups and which parameters each freezes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcalc
from archcalc.training import training_cost

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_training.json").read_text())["flop_counter"]

# The reference's set-ups as freezing options on the zoo files (layer paths are torchvision's module
# names with `/` for `.`); test_setup_freezes_the_reference_parameters holds each to the parameter names
# the reference froze. mobilenet_v2's BatchNorms: features.0.1 and features.18.1 (stem and last
# Conv2dNormActivation), conv.0.1 and conv.1.1 (inside the blocks' Conv2dNormActivations), conv.2 of the
# first block (no expansion) and conv.3 of the others.
SETUPS = {
    "resnet18": {"all_trainable": {}, "last_linear_only": {"train_only": ["fc"]},
                 "first_half_frozen": {"freeze": ["conv1", "bn1", "layer1", "layer2"]},
                 "bn_frozen": {"freeze": ["*bn*", "*/downsample/1"]}},
    "mobilenet_v2": {"all_trainable": {}, "last_linear_only": {"train_only": ["classifier/1"]},
                     "first_half_frozen": {"freeze": ["features/[0-8]"]},
                     "bn_frozen": {"freeze": ["features/0/1", "features/18/1", "features/*/conv/?/1",
                                              "features/1/conv/2", "features/*/conv/3"]}},
    # vgg11 has no BatchNorm: bn_frozen freezes nothing
    "vgg11": {"all_trainable": {}, "last_linear_only": {"train_only": ["classifier/6"]},
              "first_half_frozen": {"freeze": ["features/[0-9]"]}, "bn_frozen": {}},
}
CASES = [(model, setup) for model in SETUPS for setup in SETUPS[model]]


def test_every_recorded_case_is_checked():
    assert {(m, s) for m in REFERENCE for s in REFERENCE[m]} == set(CASES)


def analysis(model: str, setup: str, count: str = "archcalc"):
    return archcalc.analyze(model, count=count, **SETUPS[model][setup])


def module(path: str) -> str:
    return path.replace("/", ".")


@pytest.mark.parametrize("model, setup", CASES)
def test_setup_freezes_the_reference_parameters(model, setup):
    report = analysis(model, setup)
    frozen = {f"{module(r.name)}.{p.name}" for r in report.layers for p in r.param_tensors if p.frozen}
    assert frozen == set(REFERENCE[model][setup]["frozen_param_names"])
    assert report.totals.trainable_params == REFERENCE[model][setup]["trainable_params"]


@pytest.mark.parametrize("model, setup", CASES)
def test_torch_train_profile_equals_flop_counter(model, setup):
    cost = training_cost(analysis(model, setup, "torch-train"))
    entry = REFERENCE[model][setup]
    assert cost.forward_flops == entry["forward"]["total_flops"]
    assert cost.backward_flops == entry["backward"]["total_flops"]


@pytest.mark.parametrize("model, setup", CASES)
def test_torch_train_profile_per_layer(model, setup):
    cost = training_cost(analysis(model, setup, "torch-train"))
    for row in REFERENCE[model][setup]["layers"]:
        layer = cost.layer(row["module"].replace(".", "/"))
        assert (layer.forward_flops, layer.backward_flops) == (row["fcm_forward"], row["fcm_backward"]), row["module"]


@pytest.mark.parametrize("model, setup", CASES)
def test_own_backward_is_the_forward_macs_of_each_gradient_computed(model, setup):
    cost = training_cost(analysis(model, setup))
    rows = REFERENCE[model][setup]["layers"]
    assert cost.forward == sum(row["macs"] for row in rows)
    assert cost.backward == sum(row["macs"] * (row["input_grad"] + row["weight_grad"]) for row in rows)
    assert cost.grad_input == sum(row["macs"] for row in rows if row["input_grad"])
    assert cost.grad_weight == sum(row["macs"] for row in rows if row["weight_grad"])


@pytest.mark.parametrize("model, setup", CASES)
def test_which_gradients_are_computed(model, setup):
    cost = training_cost(analysis(model, setup))
    for row in REFERENCE[model][setup]["layers"]:
        layer = cost.layer(row["module"].replace(".", "/"))
        assert (layer.input_grad, layer.weight_grad) == (row["input_grad"], row["weight_grad"]), row["module"]


def test_update_is_one_op_per_trainable_parameter():
    for setup in SETUPS["resnet18"]:
        assert training_cost(analysis("resnet18", setup)).update == REFERENCE["resnet18"][setup]["trainable_params"]


def test_depthwise_weight_gradient_is_counted_groups_times_by_the_tool():
    # mobilenet_v2's first depthwise convolution, 32 groups: FlopCounterMode counted 238,436,352 backward,
    # the input gradient's 2 · 3,612,672 and 32 times the weight gradient's 2 · 3,612,672
    row = next(r for r in REFERENCE["mobilenet_v2"]["all_trainable"]["layers"] if r["module"] == "features.1.conv.0.0")
    assert row["fcm_backward"] == 2 * row["macs"] * (1 + 32)
    own = training_cost(analysis("mobilenet_v2", "all_trainable")).layer("features/1/conv/0/0")
    assert (own.grad_input, own.grad_weight) == (row["macs"], row["macs"])


def test_batch_multiplies_the_gradients_not_the_update():
    one = training_cost(archcalc.analyze("resnet18", count="torch-train", freeze=["layer1"]))
    four = training_cost(archcalc.analyze("resnet18", count="torch-train", freeze=["layer1"], batch=4))
    assert (four.forward, four.grad_input, four.grad_weight) == (4 * one.forward, 4 * one.grad_input,
                                                                  4 * one.grad_weight)
    assert (four.forward_flops, four.backward_flops) == (4 * one.forward_flops, 4 * one.backward_flops)
    assert four.update == one.update


def test_a_profile_without_a_backward_rule_has_no_training_flops():
    cost = training_cost(archcalc.analyze("lenet5", count="fvcore"))
    assert cost.backward_flops is None and cost.backward > 0


# --- the command line ------------------------------------------------------------------------------

def run(*args: str):
    from click.testing import CliRunner

    from archcalc.cli import main

    return CliRunner().invoke(main, list(args))


def reference_backward_macs(model: str, setup: str) -> int:
    return sum(row["macs"] * (row["input_grad"] + row["weight_grad"]) for row in REFERENCE[model][setup]["layers"])


def test_training_json_carries_the_step_per_layer_and_in_total():
    result = run("table", "resnet18", "--training", "--train-only", "fc", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["training"]["backward_macs"] == reference_backward_macs("resnet18", "last_linear_only")
    assert data["training"]["update_ops"] == REFERENCE["resnet18"]["last_linear_only"]["trainable_params"]
    fc = next(layer for layer in data["layers"] if layer["name"] == "fc")["training"]
    row = next(row for row in REFERENCE["resnet18"]["last_linear_only"]["layers"] if row["module"] == "fc")
    assert (fc["input_grad"], fc["weight_grad"], fc["grad_weight_macs"]) == (row["input_grad"], row["weight_grad"],
                                                                             row["macs"])


def test_training_json_with_torch_train_has_the_tool_totals():
    result = run("table", "mobilenet_v2", "--training", "--count", "torch-train", "--format", "json")
    assert result.exit_code == 0, result.output
    training = json.loads(result.output)["training"]
    entry = REFERENCE["mobilenet_v2"]["all_trainable"]
    assert training["count"] == "torch-train"
    assert (training["forward_flops"], training["backward_flops"]) == (entry["forward"]["total_flops"],
                                                                       entry["backward"]["total_flops"])


def test_training_table_totals_row():
    result = run("table", "vgg11", "--training", "--freeze", "features/[0-9]", "--format", "csv")
    assert result.exit_code == 0, result.output
    header, *_, totals = result.output.strip().splitlines()
    cells = dict(zip(header.split(","), totals.split(",")))
    rows = REFERENCE["vgg11"]["first_half_frozen"]["layers"]
    assert int(cells["Forward MACs (multiply-accumulates)"]) == sum(row["macs"] for row in rows)
    assert int(cells["Grad-input MACs (multiply-accumulates)"]) == sum(r["macs"] for r in rows if r["input_grad"])
    assert int(cells["Grad-weight MACs (multiply-accumulates)"]) == sum(r["macs"] for r in rows if r["weight_grad"])


def test_training_with_a_forward_only_profile_is_one_line_error():
    result = run("table", "lenet5", "--training", "--count", "fvcore")
    assert result.exit_code == 2
    assert "torch-train" in result.output and result.output.count("\n") == 1


def test_training_names_the_options_it_ignores():
    result = run("table", "lenet5", "--training", "--style", "keras")
    assert result.exit_code == 0 and "--style keras is ignored by --training" in result.output


def test_explain_training_shows_both_gradients_and_the_tool_count():
    # FlopCounterMode's backward of mobilenet_v2's first depthwise convolution, from the reference
    row = next(r for r in REFERENCE["mobilenet_v2"]["all_trainable"]["layers"] if r["module"] == "features.1.conv.0.0")
    result = run("explain", "mobilenet_v2", "features/1/conv/0/0", "--training")
    assert result.exit_code == 0, result.output
    assert f"counts {row['fcm_backward']:,} FLOPs backward" in result.output
    assert f"288 × 112 × 112 output positions = {row['macs']:,}" in result.output


def test_explain_training_says_why_a_gradient_is_not_computed():
    result = run("explain", "resnet18", "layer3/0/conv1", "--training", "--freeze", "conv1", "--freeze", "bn1",
                 "--freeze", "layer1", "--freeze", "layer2", "--format", "json")
    assert result.exit_code == 0, result.output
    training = json.loads(result.output)["training"]
    row = next(r for r in REFERENCE["resnet18"]["first_half_frozen"]["layers"] if r["module"] == "layer3.0.conv1")
    assert (training["input_grad"], training["weight_grad"]) == (row["input_grad"], row["weight_grad"])
    assert training["arithmetic"]["grad_input"].startswith("not computed")
    assert training["torch_train"]["backward_flops"] == row["fcm_backward"]


def test_explain_training_of_a_block_says_it_is_not_shown():
    result = run("explain", "resnet18", "layer1", "--training")
    assert result.exit_code == 0 and "--training is ignored by a block's path" in result.output


def test_a_merge_sends_the_gradient_of_one_trained_branch_on():
    # a (frozen) and b (trained) read the input, their sum feeds c (frozen): c needs its input's gradient
    # for b, a and b need none (the input before them is no parameter). MACs by hand: a and b
    # 16·16·8·(3·3·3) = 55,296 each, c 16·16·4·8 = 8,192.
    net = {"name": "branches", "input": [3, 16, 16], "layers": [
        {"name": "a", "type": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1, "trainable": False},
        {"name": "b", "type": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1, "from": "input"},
        {"name": "sum", "type": "add", "from": ["a", "b"]},
        {"name": "c", "type": "conv", "out_channels": 4, "kernel_size": 1, "trainable": False}]}
    cost = training_cost(archcalc.analyze(net, count="torch-train"))
    flags = {name: (cost.layer(name).input_grad, cost.layer(name).weight_grad) for name in ("a", "b", "c")}
    assert flags == {"a": (False, False), "b": (False, True), "c": (True, False)}
    assert (cost.grad_input, cost.grad_weight) == (8_192, 55_296)
    assert cost.backward_flops == 2 * (8_192 + 55_296)
    assert cost.layer("c").after == "b"
