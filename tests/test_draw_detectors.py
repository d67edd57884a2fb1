"""Detectors drawn with their heads per level (docs/pictures.md): Faster R-CNN as a U whose RoIAlign,
reading four levels of the feature pyramid, stands below on the right; SSD with its class heads to
the left of the backbone and its box heads to the right. tests/test_draw.py holds every drawing to
no overlap, no edge through a box and no crossing."""

from __future__ import annotations

import pytest

import archcalc
from archcalc import zoo
from archcalc.draw import draw
from archcalc.draw.diagram import diagram
from archcalc.draw.pooled import pooled_layout
from archcalc.draw.sides import side_layout
from archcalc.draw.ushape import u_layout
from tests.test_draw import _parse, check_layout

FASTER = "fasterrcnn_resnet50_fpn"
SSDLITE = "ssdlite320_mobilenet_v3_large"
SSD300 = "ssd300_vgg16"
TWO_POOLINGS = ("maskrcnn_resnet50_fpn", "keypointrcnn_resnet50_fpn")


def _right(rect) -> float:
    return rect[0] + rect[2]


@pytest.mark.parametrize("depth", [None, 1, 2])
def test_the_roialign_reads_each_level_along_its_own_lane(depth):
    report = archcalc.analyze(FASTER)
    assert u_layout(diagram(report, depth)) is None and pooled_layout(diagram(report, depth)) is not None
    boxes, edges = _parse(draw(report, depth=depth))
    pool, _ = boxes["box_roi_pool"]
    assert all(rect[1] < pool[1] for name, (rect, _) in boxes.items() if not name.startswith("box_"))   # below the U
    into = {source: points for source, target, _, points in edges if target == "box_roi_pool"}
    assert set(into) == {f"backbone_fpn_layer_{k}" for k in range(4)}
    ends = sorted(points[-1][1] for points in into.values())
    assert all(points[-1][0] == _right(pool) for points in into.values())   # each into the pooling's right side
    assert len(set(ends)) == 4 and pool[1] < ends[0] and ends[-1] < pool[1] + pool[3]
    lanes = {source: points[1][0] for source, points in into.items()}
    assert lanes["backbone_fpn_layer_0"] > lanes["backbone_fpn_layer_1"] > lanes["backbone_fpn_layer_3"]


@pytest.mark.parametrize("name", [SSDLITE, SSD300])
@pytest.mark.parametrize("depth", [None, 2])
def test_ssd_has_its_class_heads_on_the_left_and_box_heads_on_the_right(name, depth):
    """SSD300's L2 normalisation of its first feature map, a branch of the backbone of its own, stands in
    a column outside the class heads, its box head below it, joining the others from underneath."""
    report = archcalc.analyze(name)
    assert side_layout(diagram(report, depth)) is not None
    boxes, _ = _parse(draw(report, depth=depth))
    stub = {n for n in boxes if n.startswith(("backbone/normalize", "backbone/scale_weight"))}
    assert bool(stub) == (name == SSD300)
    backbone = [rect for n, (rect, _) in boxes.items() if n.startswith("backbone") and n not in stub or n == "input"]
    left = min(rect[0] for rect in backbone)
    right = max(_right(rect) for rect in backbone)
    classes = [rect for n, (rect, _) in boxes.items() if n.startswith("head/classification_head")]
    first_map = ("head/regression_head/module_list/0", "head/regression_head/module_list/rows0")
    for n, (rect, _) in boxes.items():
        if n.startswith(first_map) and stub and depth is None:   # hangs below the stub, then goes under all
            assert rect[0] < boxes["backbone/scale_weight"][0][0] + boxes["backbone/scale_weight"][0][2], n
        elif n.startswith("head/regression_head"):
            assert _right(rect) > right, n
    assert all(_right(rect) < left for rect in classes[:-1]) and classes[-1][0] < left   # the concatenation: below
    assert all(boxes[n][0][0] + boxes[n][0][2] <= min(rect[0] for rect in classes) for n in stub)


@pytest.mark.parametrize("name", TWO_POOLINGS)
def test_two_poolings_of_the_same_levels_cross_and_the_drawing_says_how_often(name):
    """Mask and Keypoint R-CNN: a second RoIAlign reads the four levels the first reads. With the FPN that
    joins the levels, the graph holds a K3,3 (levels 0, 1, 2 against the two poolings and the top-down
    path), so no drawing is free of crossings: the second pooling's lanes cross the first's, and the
    number under the picture is the number of crossings in it."""
    report = archcalc.analyze(name)
    placed = pooled_layout(diagram(report))
    assert placed is not None and placed.crossings > 0
    svg = draw(report)
    boxes, edges = _parse(svg)
    assert f"not planar (two poolings read the same levels), {check_layout(boxes, edges)} edge crossings" in svg


def test_no_other_zoo_network_is_drawn_by_these_layouts():
    for name in zoo.names():
        shown = diagram(archcalc.analyze(name))
        if name not in (FASTER, SSDLITE, SSD300, *TWO_POOLINGS) and u_layout(shown) is None:   # a U is drawn first
            assert pooled_layout(shown) is None and side_layout(shown) is None, name
