"""Encoder–decoders drawn as a U (U-Net's Fig. 1, Ronneberger et al. 2015): the contracting path down the
left, the bottom across, the expansive path up the right, each skip across at its own resolution; every
other network drawn by the layered layout as before. tests/test_draw.py holds every drawing, these
included, to no overlap, no edge through a box and no crossing."""

from __future__ import annotations

import pytest

import archcalc
from archcalc import zoo
from archcalc.draw import draw
from archcalc.draw.diagram import diagram
from archcalc.draw.ushape import levels, u_layout
from tests.test_draw import _parse


def centre(box) -> tuple[float, float]:
    (x, y, w, h), _ = box
    return x + w / 2, y + h / 2


@pytest.mark.parametrize("name, skip_target", [("unet", "crop{k}"), ("unet-same", "concat{k}")])
def test_unet_is_drawn_as_a_u(name, skip_target):
    boxes, edges = _parse(draw(name))
    x = {n: centre(b)[0] for n, b in boxes.items()}
    y = {n: centre(b)[1] for n, b in boxes.items()}
    contracting = ["input"] + [f"{p}{k}/conv{c}" for k in range(1, 5) for p in ("down",) for c in (1, 2)]
    expansive = [n for k in (4, 3, 2, 1) for n in (f"upconv{k}", f"concat{k}", f"up{k}/conv1", f"up{k}/conv2")]
    expansive.append("classes")
    # the left column goes down, the right column up, the bottom lies below both, between them
    assert len({x[n] for n in contracting}) == 1 and len({x[n] for n in expansive}) == 1
    assert x["input"] < x["bottom/conv1"] < x["classes"]
    assert [y[n] for n in contracting] == sorted(y[n] for n in contracting)
    assert [y[n] for n in expansive] == sorted((y[n] for n in expansive), reverse=True)
    lowest = max(y[n] for n in (*contracting, *expansive))
    assert min(y["bottom/conv1"], y["bottom/conv2"]) > lowest
    assert y["input"] == y["classes"]   # the two ends of the U side by side at the top
    # each skip stays at its resolution: source and target between the same two poolings
    for k in range(1, 5):
        source, target = f"down{k}/conv2", skip_target.format(k=k)
        above = y["input"] if k == 1 else y[f"pool{k - 1}"]
        assert above <= y[source] < y[f"pool{k}"]
        assert above <= y[target] < y[f"pool{k}"]
        assert x[target] > x[source]
        assert any(s == source and t == target for s, t, *_ in edges)


def test_unet_copy_and_crop_arrows_run_straight_across():
    boxes, _ = _parse(draw("unet"))
    for k in range(1, 5):
        assert centre(boxes[f"crop{k}"])[1] == centre(boxes[f"down{k}/conv2"])[1]


def test_levels_are_the_halvings_of_the_map():
    """U-Net's levels: 0 at the 572 tile, 4 at the 28 × 28 bottom; each up-convolution one back up, a crop
    none (64 → 56 is no halving), the output at level 0."""
    report = archcalc.analyze("unet")
    found = levels(diagram(report).vertices)
    assert [found[n] for n in ("input", "down1/conv2", "pool1", "pool4", "bottom/conv2", "upconv4", "crop4",
                               "up4/conv2", "upconv1", "classes")] == [0, 0, 1, 4, 4, 3, 3, 3, 0, 0]


@pytest.mark.parametrize("name", ["unet", "unet-same", "fcn8s"])
@pytest.mark.parametrize("depth", [None, 1, 2])
def test_the_u_renders_folded_too(name, depth):
    drawing = draw(name, depth=depth)
    assert drawing.startswith("<svg") and u_layout(diagram(archcalc.analyze(name), depth)) is not None


DETECTORS_AS_U = ("retinanet_resnet50_fpn", "fcos_resnet50_fpn")


def test_every_other_zoo_network_is_drawn_as_before():
    """No skip from the contracting path across the bottom to its own level (a ResNet's shortcuts stay within
    a level): `u_layout` declines and the layered layout draws it."""
    for name in zoo.names():
        if name not in ("unet", "unet-same", "fcn8s", *DETECTORS_AS_U):
            assert u_layout(diagram(archcalc.analyze(name))) is None, name


@pytest.mark.parametrize("name", DETECTORS_AS_U)
@pytest.mark.parametrize("depth", [None, 1, 2])
def test_a_feature_pyramid_detector_is_a_u_with_a_head_per_level(name, depth):
    """The ResNet body down the left, the FPN's top-down path up the right, and each level's output with
    its head hanging off to the right of the U, below the row it branches from (P6 and P7 from P5)."""
    report = archcalc.analyze(name)
    assert u_layout(diagram(report, depth)) is not None
    boxes, _ = _parse(draw(report, depth=depth))
    right_column = boxes["fpn_merge_1"][0]
    for level in (4, 5, 6, 7):
        head = [rect for box, (rect, _) in boxes.items() if box.startswith(f"head_p{level}")]
        assert head and all(rect[0] > right_column[0] + right_column[2] for rect in head)
    assert boxes["fpn_p4"][0][1] > right_column[1]   # hanging below its own level's merge
    assert centre(boxes["fpn_p3"])[0] == centre(boxes["fpn_merge_0"])[0]   # the last level goes on up the column


AUTOENCODER = {"name": "autoencoder", "input": [1, 32, 32], "layers": [
    {"name": "enc", "type": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1},
    {"name": "down", "type": "maxpool", "kernel_size": 2, "stride": 2},
    {"name": "mid", "type": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1},
    {"name": "up", "type": "upsample", "scale_factor": 2},
    {"name": "dec", "type": "conv", "out_channels": 1, "kernel_size": 3, "padding": 1}]}


def test_an_encoder_decoder_without_skips_keeps_its_column():
    report = archcalc.analyze(AUTOENCODER)
    assert u_layout(diagram(report)) is None
    boxes, _ = _parse(draw(report))
    assert len({round(centre(b)[0], 1) for b in boxes.values()}) == 1
    skipped = {**AUTOENCODER, "layers": [*AUTOENCODER["layers"][:-1],
                                         {"name": "join", "type": "concat", "from": ["enc", "up"]},
                                         AUTOENCODER["layers"][-1]]}
    boxes, _ = _parse(draw(archcalc.analyze(skipped)))   # the skip enc → join makes it a U
    assert centre(boxes["join"])[0] > centre(boxes["mid"])[0] > centre(boxes["enc"])[0]
    assert centre(boxes["join"])[1] == centre(boxes["enc"])[1]   # the skip straight across its level


def test_crops_to_another_layer_s_size_draw_as_a_u_too():
    """A crop written with `like:` reads the up-convolution for its size only: it still stands between the
    columns, in its skip's row, the size drawn back to it (the exercise's U-Nets, FCN with Caffe's crops)."""
    from archcalc.grading import unet_like
    from tests.test_draw import check_layout
    from tests.test_zoo_segmentation import fcn8s_with_caffe_crops

    network, _ = unet_like.network(3, 6, 8, 1, 2)
    for source in (network, fcn8s_with_caffe_crops()):
        report = archcalc.analyze(source)
        assert u_layout(diagram(report)) is not None
        boxes, edges = _parse(draw(report))
        assert check_layout(boxes, edges) == 0
    boxes, edges = _parse(draw(archcalc.analyze(network)))
    for level in (1, 2, 3):
        assert centre(boxes[f"crop{level}"])[1] == centre(boxes[f"enc{level}_2"])[1]
        assert any(s == f"upconv{level}" and t == f"crop{level}" for s, t, *_ in edges)
