"""The zoo's two-stage detectors, `fasterrcnn_resnet50_fpn`, `maskrcnn_resnet50_fpn` and
`keypointrcnn_resnet50_fpn`, held to torchvision's own counts (tests/data/reference_dense.json,
tools/reference_dense.py: the models' static parts run with forward hooks, the transform bypassed) at both
stored images, 800×800 and 480×640 (the batch the backbone gets,
1×3×800×1088 for the latter): each part's convolution and linear MACs, the maps each part reads and gives,
the declared RoI counts, and the parameters of the layout torchvision builds with weights (FrozenBatchNorm2d,
conv1 and layer1 frozen) and of the one it builds without (plain BatchNorm2d, everything trainable)."""

from __future__ import annotations

import json

import pytest

import archcalc
from tests.import_data import DATA

REFERENCE = json.loads((DATA / "reference_dense.json").read_text())["detection"]
MODELS = ["fasterrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn", "keypointrcnn_resnet50_fpn"]
IMAGES = ["800x800", "480x640"]
#: The layers of each of torchvision's parts: the parts written flat name their layers `<part>_<layer>`.
PREFIXES = {"backbone": "backbone_", "rpn_head": "rpn_head_", "box_predictor": "box_predictor_"}


def analyzed(name: str, image: str, **changes):
    _, _, height, width = REFERENCE[name]["images"][image]["input"]
    source = {"name": name, "extends": name, **changes} if changes else name
    return archcalc.analyze(source, input=(3, height, width))


def part_macs(report, part: str) -> int:
    prefix = PREFIXES.get(part, part + "/")
    return sum(record.macs for record in report.layers if record.name.startswith(prefix))


@pytest.mark.parametrize("image", IMAGES)
@pytest.mark.parametrize("name", MODELS)
def test_each_part_counts_torchvision_s_macs(name, image):
    reference = REFERENCE[name]["images"][image]
    report = analyzed(name, image)
    assert {part: part_macs(report, part) for part in reference["parts"]} == \
        {part: facts["macs_conv_linear"] for part, facts in reference["parts"].items()}
    assert report.totals.macs == reference["macs_conv_linear"]


@pytest.mark.parametrize("image", IMAGES)
@pytest.mark.parametrize("name", MODELS)
def test_each_part_reads_and_gives_torchvision_s_maps(name, image):
    parts = REFERENCE[name]["images"][image]["parts"]
    report = analyzed(name, image)
    shape = lambda path: report.layer(path).output_shape  # noqa: E731
    fpn = {"0": "layer_0", "1": "layer_1", "2": "layer_2", "3": "layer_3", "pool": "pool"}
    assert {key: shape(f"backbone_fpn_{layer}") for key, layer in fpn.items()} == \
        {key: tuple(s[1:]) for key, s in parts["backbone"]["outputs"].items()}
    objectness, deltas = parts["rpn_head"]["outputs"]
    assert [shape(f"rpn_head_cls_logits_{k}") for k in range(5)] == [tuple(s[1:]) for s in objectness]
    assert [shape(f"rpn_head_bbox_pred_{k}") for k in range(5)] == [tuple(s[1:]) for s in deltas]
    # a RoI head's batch is its RoIs: torchvision's (R, …) is archcalc's per-sample (R, …)
    assert shape("box_roi_pool") == tuple(parts["box_head"]["inputs"][0])
    assert shape("box_head/relu7") == tuple(parts["box_head"]["outputs"])
    assert [shape("box_predictor_cls_score"), shape("box_predictor_bbox_pred")] == \
        [tuple(s) for s in parts["box_predictor"]["outputs"]]
    if "mask_head" in parts:
        assert shape("mask_roi_pool") == tuple(parts["mask_head"]["inputs"][0])
        assert shape("mask_head/mask_fcn/3/relu") == tuple(parts["mask_head"]["outputs"])
        assert shape("mask_predictor/mask_fcn_logits") == tuple(parts["mask_predictor"]["outputs"])
    if "keypoint_head" in parts:
        assert shape("keypoint_roi_pool") == tuple(parts["keypoint_head"]["inputs"][0])
        assert shape("keypoint_head/conv_fcn/7/relu") == tuple(parts["keypoint_head"]["outputs"])
        assert shape("keypoint_predictor/upsample") == tuple(parts["keypoint_predictor"]["outputs"])


@pytest.mark.parametrize("name", MODELS)
def test_the_declared_rois_are_torchvision_s_evaluation_settings(name):
    rois = REFERENCE[name]["rois"]
    report = analyzed(name, "800x800")
    assert report.layer("box_roi_pool").layer.rois == rois["box"]
    assert report.layer("box_roi_pool").layer.output_size == tuple(REFERENCE[name]["roi_output_size"]["box"])
    for head in ("mask", "keypoint"):
        if head in REFERENCE[name]["roi_output_size"]:
            assert report.layer(f"{head}_roi_pool").layer.rois == rois["mask_keypoint"]
            assert report.layer(f"{head}_roi_pool").layer.output_size == \
                tuple(REFERENCE[name]["roi_output_size"][head])
@pytest.mark.parametrize("name", MODELS)
def test_the_layout_with_weights_has_torchvision_s_parameters(name):
    """FrozenBatchNorm2d keeps γ and β as buffers: archcalc counts them as frozen weights, so the frozen
    parameters are torchvision's frozen ones (conv1, layer1) plus the buffers that are not running statistics."""
    pretrained = REFERENCE[name]["as_pretrained"]
    totals = analyzed(name, "800x800").totals
    assert totals.trainable_params == pretrained["trainable_params"]
    frozen_bn_affine = pretrained["buffers_total"] - pretrained["bn_running_stats"]
    assert totals.frozen_params == pretrained["params"] - pretrained["trainable_params"] + frozen_bn_affine
    assert totals.non_trainable_params - totals.frozen_params == pretrained["bn_running_stats"]


@pytest.mark.parametrize("name", MODELS)
def test_the_layout_without_weights_has_torchvision_s_parameters(name):
    """Nothing frozen: plain BatchNorm2d, every weight trainable (`weights=None, weights_backbone=None`)."""
    reference = REFERENCE[name]
    totals = analyzed(name, "800x800", freeze=[]).totals
    assert totals.trainable_params == reference["params"]
    assert totals.frozen_params == 0
    assert totals.non_trainable_params == reference["bn_running_stats"]


@pytest.mark.parametrize("name", MODELS)
def test_the_pytorch_export_holds_torchvision_s_parameters(name):
    """`archcalc.to_torch` runs the RPN head's one module on every level (a BatchNorm2d's γ and β are parameters
    there, as in torchvision's build without weights)."""
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        module = archcalc.to_torch(archcalc.load(name))
    assert sum(p.numel() for p in module.parameters()) == REFERENCE[name]["params"]
