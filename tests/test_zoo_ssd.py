"""The zoo's SSD detectors (`ssd300_vgg16`, `ssdlite320_mobilenet_v3_large`) against torchvision 0.29 itself.

Expected values come from `tests/data/reference_dense.json` (`detection`), written by
`tools/reference_dense.py` from the real torchvision models (weights=None, weights_backbone=None):
`parameters()` per part and in all, BatchNorm running statistics, and the multiply-accumulates of
every Conv2d and Linear caught by forward hooks on `model.backbone` and on `model.head`, each part fed
what it receives in the model (the backbone the tensor `model.transform` gives, the head the
backbone's maps). A part's MACs here are those of our conv and linear layers whose path starts with
the part's name (`backbone/…`, `head/…`): the zoo files name their layers after torchvision's modules.
"""

from __future__ import annotations

import json
from math import prod
from pathlib import Path

import pytest

import archcalc

DETECTION = json.loads((Path(__file__).parent / "data" / "reference_dense.json").read_text())["detection"]
MODELS = ["ssd300_vgg16", "ssdlite320_mobilenet_v3_large"]
PARTS = ("backbone", "head")
IMAGES = [(name, image) for name in MODELS for image in DETECTION[name]["images"]]


def under(record, path: str) -> bool:
    """Whether the layer is `path` or lies inside it."""
    return record.name == path or record.name.startswith(f"{path}/")


def part_macs(report, part: str) -> int:
    """The conv and linear MACs of the layers under `part/`, as the reference's hooks count them."""
    return sum(r.macs for r in report.layers if under(r, part) and r.layer.type_name in ("conv", "linear"))


def first_conv(report, path: str):
    """The first convolution at or under `path` (a head's convolution, or its prediction block's first)."""
    return next(r for r in report.layers if r.layer.type_name == "conv" and under(r, path))


@pytest.mark.parametrize("name", MODELS)
def test_parameters_equal_torchvision_s(name):
    """Trainable: torchvision's `parameters()` in all and per part; non-trainable: BatchNorm's running statistics."""
    reference, report = DETECTION[name], archcalc.analyze(name)
    assert report.totals.trainable_params == reference["params"] == reference["torchvision_num_params"]
    assert report.totals.non_trainable_params == reference["bn_running_stats"]
    for part in PARTS:
        found = sum(r.trainable_params for r in report.layers if under(r, part))
        assert found == reference["params_by_part"][part], part
    assert sum(reference["params_by_part"][part] for part in PARTS) == reference["params"]


@pytest.mark.parametrize(("name", "image"), IMAGES)
def test_each_part_s_macs_equal_torchvision_s(name, image):
    """Each image is resized to the detector's fixed size before the backbone: the file's input is that
    tensor, and each part's conv and linear MACs are torchvision's at it."""
    entry = DETECTION[name]["images"][image]
    assert entry["resized"] == list(entry["input"][2:])
    report = archcalc.analyze(name)
    assert report.layers[0].name == "input" and report.layers[0].output_shape == tuple(entry["input"][1:])
    for part in PARTS:
        assert part_macs(report, part) == entry["parts"][part]["macs_conv_linear"], part
    assert report.totals.macs == entry["macs_conv_linear"]


@pytest.mark.parametrize("name", MODELS)
def test_the_head_reads_the_backbone_s_six_maps(name):
    """The backbone's maps (torchvision's `outputs` of `model.backbone`) are the inputs of the head's
    convolutions, and each level's convolution gives anchors × 91 class scores and anchors × 4 offsets."""
    reference, report = DETECTION[name], archcalc.analyze(name)
    image = next(iter(reference["images"].values()))
    maps = image["parts"]["backbone"]["outputs"]
    anchors = image["anchors_per_location"]
    for level in range(len(maps)):
        for head, columns in (("classification_head", 91), ("regression_head", 4)):
            path = f"head/{head}/module_list/{level}"
            assert first_conv(report, path).input_shapes[0] == tuple(maps[str(level)][1:])
            last = [r for r in report.layers if under(r, path)][-1]
            assert last.layer.type_name == "conv" and last.output_shape[0] == anchors[level] * columns


@pytest.mark.parametrize("name", MODELS)
def test_the_outputs_hold_every_default_box_s_scores(name):
    """`cls_logits` and `bbox_regression` hold torchvision's (N, anchors, 91) and (N, anchors, 4) values."""
    reference, report = DETECTION[name], archcalc.analyze(name)
    outputs = archcalc.load(name).outputs
    image = next(iter(reference["images"].values()))
    shapes = {r.name: r.output_shape for r in report.layers}
    for output, torch_shape in image["parts"]["head"]["outputs"].items():
        assert shapes[outputs[output]] == (prod(torch_shape[1:]),)
        assert torch_shape[1] == image["anchors"]


@pytest.mark.parametrize("name", MODELS)
def test_the_file_states_the_reference_s_numbers_and_what_is_not_counted(name):
    reference = DETECTION[name]
    spec = archcalc.load(name).spec
    stated = spec.reference["torchvision"]
    image = next(iter(reference["images"].values()))
    assert stated["params"] == reference["params"]
    for part in PARTS:
        assert stated[f"{part}_params"] == reference["params_by_part"][part]
        assert stated[f"{part}_macs"] == image["parts"][part]["macs_conv_linear"]
    assert {"default-box (anchor) generation", "box decoding", "non-maximum suppression"} <= set(spec.not_counted)


def test_ssd300_normalises_conv4_3_and_scales_it_by_20():
    """Section 3.1: conv4_3's feature norms are scaled to 20 with a learnt scale per channel (torchvision's
    `scale_weight`, 512 of them, initialised to 20), after an L2 normalisation of each position."""
    found = {r.name: r for r in archcalc.analyze("ssd300_vgg16").layers}
    assert found["backbone/normalize"].layer.type_name == "l2norm"
    scale = found["backbone/scale_weight"]
    assert scale.layer.type_name == "layerscale" and scale.layer.init == 20
    assert scale.trainable_params == 512 and scale.output_shape == (512, 38, 38)
