"""The memory of a training step (archcalc.training_memory): archcalc's own arithmetic on small networks
worked out by hand, and the exact tensor sizes PyTorch reports (tests/data/reference_training.json,
`training_memory`, measured by tools/reference_training.py). How the estimate compares with PyTorch's
measured activations and peak is a benchmark (benchmarks/bench_training_memory.py), not a test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc import training_cost, training_memory
from archcalc.cli import main
from archcalc.errors import SpecError


def analyze(source: str, **options):
    """A zoo name, or a file's text."""
    arch = archcalc.load("t.yaml", text=source) if "\n" in source else source
    return archcalc.analyze(arch, **options)


TWO_LAYERS = """
name: two
input: [3, 4, 4]
layers:
  - {name: conv, type: conv, out_channels: 2, kernel_size: 3, padding: 1}
  - {name: flat, type: flatten}
  - {name: fc, type: linear, out_features: 5}
"""
CONV = 2 * 3 * 9 + 2          # 56 parameters
FC = 32 * 5 + 5               # 165 parameters
INPUT, CONV_OUT, FC_OUT = 3 * 16 * 4, 2 * 16 * 4, 5 * 4   # bytes (float32), batch 1


def test_two_layers_by_hand():
    memory = training_memory(analyze(TWO_LAYERS), "adam")
    assert memory.parameters == 4 * (CONV + FC)
    assert memory.gradients == 4 * (CONV + FC)
    assert memory.optimizer_state == 2 * memory.gradients
    # conv reads the input (its weight gradient), fc reads conv's output through the flatten view,
    # the loss reads fc's output; every one but the input gets a gradient.
    assert memory.activations == INPUT + CONV_OUT + FC_OUT
    assert memory.activation_gradients == CONV_OUT + FC_OUT
    assert memory.total == 4 * (CONV + FC) * 4 + INPUT + 2 * (CONV_OUT + FC_OUT)


@pytest.mark.parametrize(("optimizer", "slots"), [("sgd", 0), ("momentum", 1), ("adam", 2)])
def test_optimizer_state_per_trainable_parameter(optimizer, slots):
    memory = training_memory(analyze(TWO_LAYERS, batch=3, dtype="float16"), optimizer)
    assert memory.optimizer_state == slots * 2 * (CONV + FC)
    assert memory.activations == 3 * (INPUT + CONV_OUT + FC_OUT) // 2


def test_a_frozen_prefix_keeps_nothing_before_the_first_trained_layer():
    memory = training_memory(analyze(TWO_LAYERS, freeze=["conv"]), "adam")
    assert memory.parameters == 4 * (CONV + FC)
    assert (memory.gradients, memory.optimizer_state) == (4 * FC, 8 * FC)
    assert memory.activations == CONV_OUT + FC_OUT          # fc's input (its weight gradient), the output
    assert memory.activation_gradients == FC_OUT
    nothing = training_memory(analyze(TWO_LAYERS, freeze=["conv", "fc"]), "momentum")
    assert (nothing.gradients, nothing.optimizer_state, nothing.activations, nothing.activation_gradients) == (0,) * 4


def test_frozen_head_after_a_trained_base_still_sends_the_gradient_back():
    memory = training_memory(analyze(TWO_LAYERS, freeze=["fc"]), "sgd")
    assert memory.gradients == 4 * CONV
    assert memory.activations == INPUT + CONV_OUT + FC_OUT   # fc's input gradient needs its weights only,
    assert memory.activation_gradients == CONV_OUT + FC_OUT  # but conv's output is read by a layer on the path


def test_batchnorm_statistics_are_parameters_without_gradient():
    memory = training_memory(analyze("name: t\ninput: [2, 4, 4]\nlayers: [{name: bn, type: batchnorm}]\n"))
    assert (memory.parameters, memory.gradients, memory.optimizer_state) == (4 * 8, 4 * 4, 8 * 4)


def test_the_full_style_estimate_is_the_adam_total_and_the_step_carries_it():
    report = analyze("resnet18", batch=2, freeze=["layer1"])
    assert report.totals.training_memory_bytes == training_memory(report).total
    assert training_cost(report, optimizer="momentum").memory == training_memory(report, "momentum")


def test_unknown_optimizer_is_one_clear_error():
    with pytest.raises(SpecError, match="unknown optimizer 'rmsprop'; choose one of sgd, momentum, adam"):
        training_memory(analyze(TWO_LAYERS), "rmsprop")


REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_training.json").read_text())["training_memory"]
TORCH_OPTIMIZER = {"sgd": "sgd", "sgd_momentum": "momentum", "adam": "adam"}


@pytest.mark.parametrize("model", ["resnet18", "mobilenet_v2"])
@pytest.mark.parametrize("setup", list(TORCH_OPTIMIZER))
def test_exact_tensor_sizes_equal_pytorch(model, setup):
    measured = REFERENCE[model][setup]
    report = analyze(model, batch=measured["batch"])
    memory = training_memory(report, TORCH_OPTIMIZER[setup])
    trainable_tensors = sum(1 for r in report.layers for p in r.param_tensors if p.trainable)
    batchnorms = sum(1 for r in report.layers if r.type == "batchnorm")
    statistics = 4 * report.totals.statistics
    assert memory.gradients == measured["grad_bytes"]
    assert memory.parameters - statistics == measured["param_bytes"]
    # PyTorch's buffers add each BatchNorm's num_batches_tracked, an int64.
    assert statistics + 8 * batchnorms == measured["buffer_bytes"]
    # torch.optim.Adam adds a 0-d float32 `step` per parameter tensor, which archcalc leaves out.
    counters = 4 * trainable_tensors if setup == "adam" else 0
    assert memory.optimizer_state + counters == measured["optimizer_state_bytes"]


def test_table_training_optimizer_option(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(TWO_LAYERS)
    result = CliRunner().invoke(main, ["table", str(path), "--training", "--optimizer", "sgd", "--freeze", "conv"])
    assert result.exit_code == 0, result.output
    total = 4 * (CONV + FC) + 4 * FC + CONV_OUT + 2 * FC_OUT
    assert (f"Training memory (sgd, float32): {total:,} B = {4 * (CONV + FC):,} B parameters and statistics"
            f" + {4 * FC} B gradients + 0 B optimizer state + {CONV_OUT + FC_OUT} B activations kept for backward"
            f" + {FC_OUT} B their gradients") in result.output
    assert "Not included in the training memory: framework workspace" in result.output
    bad = CliRunner().invoke(main, ["table", str(path), "--training", "--optimizer", "rmsprop"])
    assert bad.exit_code == 2
