"""The one-stage detectors of the zoo against torchvision's own numbers, measured part by part with
the transform bypassed (tests/data/reference_dense.json, written by tools/reference_dense.py with
torchvision 0.29.1): whole-model parameters, each part's conv MACs and the feature-map shapes, for both
reference images (800×800, and 480×640 resized to 800×1066 and padded to the 800×1088 batch)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcalc
from archcalc.report import to_table

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_dense.json").read_text())["detection"]
MODELS = ("retinanet_resnet50_fpn", "fcos_resnet50_fpn")
IMAGES = ("800x800", "480x640")
LEVELS = ("p3", "p4", "p5", "p6", "p7")


def part(name: str) -> str:
    """torchvision's part of a layer of the zoo file: backbone.body, backbone.fpn (`fpn_*`), head (`head_*`)."""
    return "head" if name.startswith("head_") else "fpn" if name.startswith("fpn_") else "body"


def _conv_macs(report, *parts: str) -> int:
    return sum(r.macs for r in report.layers if r.type == "conv" and part(r.name) in parts)


@pytest.mark.parametrize("name", MODELS)
def test_whole_model_params_equal_torchvision(name):
    ref, report = REFERENCE[name], archcalc.analyze(name)
    totals, pretrained = report.totals, ref["as_pretrained"]
    # every weight and bias of the weights=None build (BatchNorm2d) plus the running statistics
    assert totals.params == ref["params"] + ref["bn_running_stats"]
    assert totals.statistics == ref["bn_running_stats"]
    # the pretrained layout: FrozenBatchNorm2d's γ, β and statistics are buffers, stem and layer1 frozen
    assert totals.params - pretrained["buffers_total"] == pretrained["params"] == ref["torchvision_num_params"]
    assert totals.trainable_params == pretrained["trainable_params"]
    by_part = {"backbone": ("body", "fpn"), "head": ("head",)}
    assert {key: sum(r.weights + r.biases for r in report.layers if part(r.name) in parts)
            for key, parts in by_part.items()} == {key: ref["params_by_part"][key] for key in by_part}


@pytest.mark.parametrize("image", IMAGES)
@pytest.mark.parametrize("name", MODELS)
def test_each_part_conv_macs_and_shapes_equal_torchvision(name, image):
    ref = REFERENCE[name]["images"][image]
    report = archcalc.analyze(name, input=ref["input"][1:])
    backbone, head = ref["parts"]["backbone"], ref["parts"]["head"]
    assert _conv_macs(report, "body") == backbone["macs_by_submodule"]["body"]
    assert _conv_macs(report, "fpn") == backbone["macs_by_submodule"]["fpn"]
    assert _conv_macs(report, "head") == head["macs_conv_linear"]
    assert _conv_macs(report, "body", "fpn", "head") == ref["macs_conv_linear"]
    levels = [report.layer(f"fpn_{level}").output_shape for level in LEVELS]
    assert [list(shape) for shape in levels] == [shape[1:] for shape in backbone["outputs"].values()]
    assert [list(shape) for shape in levels] == [shape[1:] for shape in head["inputs"][0]]
    logits = [report.layer(f"head_{level}/cls_logits").output_shape for level in LEVELS]
    anchors = ref["anchors_per_location"]
    assert sum(h * w * a for (_, h, w), a in zip(logits, anchors)) == ref["anchors"]


@pytest.mark.parametrize("name", MODELS)
def test_the_head_weights_count_once_and_run_on_every_level(name):
    report = archcalc.analyze(name)
    for level in LEVELS[1:]:
        convs = [r for r in report.layers if r.name.startswith(f"head_{level}/") and r.type in ("conv", "groupnorm")]
        assert convs and all(r.params == 0 and r.shares == r.name.replace(level, "p3", 1) for r in convs)
        assert all(r.macs for r in convs if r.type == "conv")
    footer = to_table(report, "lecture").footer
    assert any(line.startswith("Not counted: model.transform") for line in footer)
