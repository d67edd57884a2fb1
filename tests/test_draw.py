"""Drawings of every zoo file: one box per layer (or per block at a depth), one edge per connected
pair, every shape label equal to the analysis, no two boxes overlapping, no edge through a box, and
no two edges crossing (every zoo network is series-parallel, docs/pictures.md)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import archcalc
from archcalc import zoo
from archcalc.draw import draw
from archcalc.errors import ArchcalcError

SVG = "{http://www.w3.org/2000/svg}"
NAMES = zoo.names()


def _shape(shape) -> str:
    return "×".join(str(v) for v in shape)


def _parse(svg: str):
    root = ET.fromstring(svg)
    boxes, edges = {}, []
    for group in root.iter(f"{SVG}g"):
        cls = group.get("class")
        if cls == "node":
            rect = group.find(f"{SVG}rect")
            texts = [t.text for t in group.findall(f"{SVG}text")]
            boxes[group.get("data-name")] = ([float(rect.get(k)) for k in ("x", "y", "width", "height")], texts)
        elif cls == "edge":
            points = [tuple(map(float, p.split(","))) for p in group.find(f"{SVG}polyline").get("points").split()]
            edges.append((group.get("data-source"), group.get("data-target"), group.get("data-shape"), points))
    return boxes, edges


def _expected(report, depth):
    """Boxes and edges from the analysis alone: a layer's box is its path cut to `depth` parts."""
    def owner(name):
        return name if depth is None else "/".join(name.split("/")[:depth])

    shapes = {r.name: r.output_shape for r in report.layers}
    boxes = {owner(r.name) for r in report.layers}
    edges = {}
    for r in report.layers:
        for src in r.inputs:
            pair = (owner(src), owner(r.name))
            if pair[0] != pair[1]:
                edges.setdefault(pair, set()).add(_shape(shapes[src]))
    return boxes, edges


def _segments(edges):
    return [(index, p, q) for index, (*_, points) in enumerate(edges) for p, q in zip(points, points[1:])]


def check_layout(boxes, edges) -> int:
    """Asserts no overlaps; returns the number of edge crossings (segments are vertical or horizontal)."""
    rects = np.array([r for r, _ in boxes.values()])
    x1, y1, x2, y2 = rects[:, 0], rects[:, 1], rects[:, 0] + rects[:, 2], rects[:, 1] + rects[:, 3]
    order = np.argsort(y1)
    for i, a in enumerate(order):  # boxes: sweep down the page
        for b in order[i + 1:]:
            if y1[b] >= y2[a]:
                break
            assert not (x1[a] < x2[b] and x1[b] < x2[a]), "two boxes overlap"
    segments = _segments(edges)
    for _, (px, py), (qx, qy) in segments:
        assert px == qx or py == qy, "an edge segment is neither vertical nor horizontal"
        lo_x, hi_x, lo_y, hi_y = min(px, qx), max(px, qx), min(py, qy), max(py, qy)
        inside = (lo_x < x2) & (hi_x > x1) & (lo_y < y2) & (hi_y > y1)
        assert not inside.any(), "an edge runs through a box"
    vertical = np.array([(i, p[0], min(p[1], q[1]), max(p[1], q[1])) for i, p, q in segments if p[0] == q[0]])
    horizontal = np.array([(i, p[1], min(p[0], q[0]), max(p[0], q[0])) for i, p, q in segments if p[1] == q[1]])
    if not len(vertical) or not len(horizontal):
        return 0
    crossing = ((horizontal[None, :, 2] < vertical[:, None, 1]) & (vertical[:, None, 1] < horizontal[None, :, 3])
                & (vertical[:, None, 2] < horizontal[None, :, 1]) & (horizontal[None, :, 1] < vertical[:, None, 3])
                & (vertical[:, None, 0] != horizontal[None, :, 0]))
    return int(crossing.sum())


def _depths(report):
    deepest = max(r.depth for r in report.layers)
    return [None] + ([1, 2] if deepest >= 2 else [1] if deepest else [])


@pytest.mark.parametrize("name", NAMES)
def test_graph_drawing_matches_the_analysis(name):
    report = archcalc.analyze(name)
    for depth in _depths(report):
        svg = draw(report, depth=depth)
        boxes, edges = _parse(svg)
        want_boxes, want_edges = _expected(report, depth)
        assert set(boxes) == want_boxes and len(boxes) == len(want_boxes)
        assert len(edges) == len(want_edges)
        assert {(s, t) for s, t, *_ in edges} == set(want_edges)
        for source, target, shape, _ in edges:
            assert shape in want_edges[(source, target)]
            assert boxes[source][1][2] == shape  # the shape line of the box the edge leaves
        if depth is None:
            for record in report.layers:
                name_line, _, shape_line = boxes[record.name][1]
                assert (name_line, shape_line) == (record.name, _shape(record.output_shape))
        # none, unless the graph is not series-parallel (a feature pyramid read at every level): then the
        # drawing says how many, and that is how many there are
        stated = re.search(r"not series-parallel: drawn in one column, (\d+) edge crossings", svg)
        assert check_layout(boxes, edges) == (int(stated[1]) if stated else 0)


def test_boxes_say_type_and_key_hyperparameters():
    boxes, _ = _parse(draw("alexnet-lecture"))
    assert boxes["conv1"][1] == ["conv1", "conv 11×11/4", "96×55×55"]  # the lecture's CONV1: 96 11×11 filters, stride 4
    boxes, _ = _parse(draw("resnet18"))
    assert boxes["conv1"][1][1] == "conv 7×7/2 p3"  # torchvision: Conv2d(3, 64, 7, stride=2, padding=3)


def test_the_crossing_counter_counts():
    """The layout check itself: two edges drawn as a plus sign cross once."""
    boxes = {"a": ([0, 0, 1, 1], []), "b": ([100, 100, 1, 1], [])}
    edges = [("a", "b", "", [(50.0, 10.0), (50.0, 90.0)]), ("b", "a", "", [(10.0, 50.0), (90.0, 50.0)])]
    assert check_layout(boxes, edges) == 1


BRIDGE = """
name: bridge
input: [3, 8, 8]
layers:
  - {name: a, type: conv, out_channels: 4, kernel_size: 1}
  - {name: b, type: conv, out_channels: 4, kernel_size: 1, from: input}
  - {name: c, type: add, from: [a, b]}
  - {name: d, type: add, from: [a, c]}
"""


def test_a_graph_that_is_not_series_parallel_is_drawn_in_one_column(tmp_path):
    """The Wheatstone bridge input→{a, b}, a→{c, d}, b→c, c→d is the smallest graph that is not
    series-parallel: one column, lanes on the right, no overlap, the crossings said in the picture."""
    path = tmp_path / "bridge.yaml"
    path.write_text(BRIDGE)
    svg = draw(str(path))
    boxes, edges = _parse(svg)
    assert len(boxes) == 5 and len(edges) == 6
    assert len({rect[0] + rect[2] / 2 for rect, _ in boxes.values()}) == 1  # one column
    crossings = _diagonal_free_crossings(edges)
    assert f"{crossings} edge crossings" in svg


def _diagonal_free_crossings(edges) -> int:
    """Crossings of polylines with any segments (the one-column lanes leave boxes diagonally)."""
    def side(a, b, c):
        value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (value > 1e-9) - (value < -1e-9)

    segments = _segments(edges)
    return sum(1 for k, (i, p, q) in enumerate(segments) for j, r, s in segments[k + 1:]
               if i != j and side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0)


@pytest.mark.parametrize("name", NAMES)
def test_block_figure_labels_match_the_analysis(name):
    report = archcalc.analyze(name)
    root = ET.fromstring(draw(report, "blocks"))
    stages = [g for g in root.iter(f"{SVG}g") if g.get("class") == "stage"]
    assert stages
    shapes = {r.name: r.output_shape for r in report.layers}
    for stage in stages:
        label = stage.get("data-label")
        name_, size = label.split(": ")
        if name_ in shapes:
            shape = shapes[name_]
            want = f"{shape[0]}@{shape[1]}×{shape[2]}" if len(shape) == 3 else _shape(shape)
            assert size == want
        assert stage.find(f"{SVG}text[@class='label']").text == label


def test_lenet_block_figure_reads_like_lecuns():
    """LeCun et al. 1998, Fig. 2: C1: 6@28×28, S2: 6@14×14, C3: 16@10×10, S4: 16@5×5, then 120, 84, 10
    (the zoo's C5, F6 and F7 are 1×1 convolutions)."""
    root = ET.fromstring(draw("lenet5", "blocks"))
    labels = [g.get("data-label") for g in root.iter(f"{SVG}g") if g.get("class") == "stage"]
    assert labels == ["input: 1@32×32", "C1: 6@28×28", "S2: 6@14×14", "C3: 16@10×10", "S4: 16@5×5",
                      "C5: 120@1×1", "F6: 84@1×1", "F7: 10@1×1"]


def test_inception_modules_are_one_box_with_their_branches():
    root = ET.fromstring(draw("googlenet-paper", "blocks"))
    stage = next(g for g in root.iter(f"{SVG}g") if g.get("data-name") == "inception_3a")
    assert stage.get("data-label") == "inception_3a: 256@28×28"  # the paper's Table 1 output size 28×28×256
    lines = [t.text for t in stage.findall(f"{SVG}text")]
    assert "1×1 conv 96 → 3×3 conv 128" in lines and "3×3 maxpool 192 → 1×1 conv 32" in lines


def test_drawing_displays_in_notebooks():
    drawing = draw("lenet5")
    assert drawing._repr_svg_() == str(drawing) and drawing.startswith("<svg")


@pytest.mark.parametrize("bad", [{"kind": "tree"}, {"depth": 0}, {"engine": "neato"}])
def test_bad_arguments_are_one_clear_error(bad):
    with pytest.raises(ArchcalcError):
        draw("lenet5", **bad)


def test_the_docs_pictures_are_current():
    """docs/pictures.md shows the drawings tools/make_pictures.py makes (rerun it after a change)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("make_pictures", root / "tools" / "make_pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    docs = (root / "docs" / "pictures.md").read_text(encoding="utf-8")
    for file, svg in module.drawings().items():
        assert f"pictures/{file}" in docs
        assert (root / "docs" / "pictures" / file).read_text(encoding="utf-8") == svg, f"{file} is stale"


def test_every_layer_family_has_a_colour_and_a_legend_label():
    from archcalc.draw.palette import FILL, LABEL
    from archcalc.layers.family import Family

    assert {f.name for f in Family} <= set(FILL) & set(LABEL)


# --- grouped convolutions -----------------------------------------------------------------------

def test_grouping_label_says_depthwise_grouped_or_nothing():
    from archcalc.layers.conv import Conv

    def conv(groups):
        return Conv(out_channels=96, kernel_size=3, groups=groups)

    assert [conv(groups).grouping_label([(96, 8, 8)]) for groups in (1, 96, 32)] == ["", "dw", "g=32"]


def test_drawings_mark_depthwise_and_grouped_convolutions():
    """MobileNetV2's features/2/conv/1/0 is a 3×3 depthwise convolution of 96 channels, stride 2
    (torchvision: Conv2d(96, 96, 3, 2, 1, groups=96), 864 weights); ResNeXt-50 32×4d's 3×3
    convolutions have 32 groups (torchvision: Conv2d(128, 128, 3, 1, 1, groups=32))."""
    boxes, _ = _parse(draw("mobilenet_v2"))
    assert boxes["features/2/conv/1/0"][1][1] == "conv 3×3/2 p1 dw"
    boxes, _ = _parse(draw("resnext50_32x4d"))
    assert boxes["layer1/0/conv2"][1][1] == "conv 3×3/1 p1 g=32"
    root = ET.fromstring(draw("mobilenet_v2", "blocks", depth=2))
    notes = [t.text for g in root.iter(f"{SVG}g") if g.get("data-name") == "features/2" for t in g.iter(f"{SVG}text")]
    assert any("3×3/2 dw conv 96" in note for note in notes)


# --- hostile names --------------------------------------------------------------------------------

HOSTILE = Path(__file__).parent / "hostile" / "draw"


def test_every_svg_parses_whatever_the_names():
    """Names with control characters, XML-forbidden characters and markup: every SVG archcalc writes
    is well-formed XML and shows each name as text, a forbidden character as its visible escape."""
    from archcalc.draw.bars import svg_bars

    report = archcalc.analyze(str(HOSTILE / "hostile-names.yaml"))
    pictures = [draw(report), draw(report, depth=1), draw(report, "blocks"), draw(report, "blocks", depth=1),
                *(svg_bars(report, what) for what in ("params", "macs", "memory"))]
    for svg in pictures:
        ET.fromstring(svg)
    boxes, _ = _parse(pictures[0])
    assert boxes["c\\x07<x>&\"q'"][1][0] == "c\\x07<x>&\"q'"
    assert "r\\x0b\\ufffe\\uffff\u202e]]>--<!--" in boxes
    assert "t\ttab\nnl\r" in boxes  # tab and line breaks are allowed in XML: kept in the attribute


# --- folding, wrapping and limits -------------------------------------------------------------------

def _chain_file(tmp_path, copies: int, layer: str = "{type: conv, out_channels: 4, kernel_size: 3, padding: 1}"):
    path = tmp_path / f"chain{copies}.yaml"
    path.write_text(f"name: chain\ninput: [4, 8, 8]\nlayers:\n  - {{name: c, repeat: {copies}, {layer[1:]}\n")
    return str(path)


def test_a_drawing_past_the_box_limit_is_folded_and_says_so(tmp_path):
    from archcalc.draw import MAX_BOXES

    report = archcalc.analyze(_chain_file(tmp_path, MAX_BOXES + 100))
    svg = draw(report)
    boxes, edges = _parse(svg)
    assert set(boxes) == {"input", "c"} and len(edges) == 1
    note = ET.fromstring(svg).find(f".//{SVG}text[@class='note']").text
    assert f"{MAX_BOXES + 101:,} boxes" in note and f"{MAX_BOXES:,}" in note


def test_folding_refuses_in_one_line_naming_the_limit_when_even_depth_1_is_too_big():
    from archcalc.draw.diagram import TooLarge, folding

    # torchvision's ResNet-18: 8 layers at the top, 4 stages of 2 blocks of 7 layers, 3 blocks with a
    # downsample of 2 more: 70 layers; 8 + 8 blocks = 16 boxes at depth 2, 8 + 4 stages = 12 at depth 1
    report = archcalc.analyze("resnet18")
    assert folding(report, None, 70) == folding(report) and folding(report).depth is None
    fold = folding(report, None, 15)
    assert fold.depth == 1 and "70 boxes, more than the 15 a drawing holds" in fold.note
    assert folding(report, None, 16).depth == 2 and folding(report, 2, 16).note == ""
    with pytest.raises(TooLarge, match="12 boxes, more than the 5 a drawing holds") as caught:
        folding(report, None, 5)
    assert str(caught.value).startswith("resnet18.yaml: ") and "\n" not in str(caught.value)


def test_block_figures_wrap_into_rows_and_honour_depth():
    from archcalc.draw.blocks import ROW_WIDTH

    root = ET.fromstring(draw("densenet121", "blocks"))  # 69 boxes, one row of 26,000 pixels before
    assert float(root.get("width")) <= ROW_WIDTH + 30
    rows = {float(r.get("y")) for g in root.iter(f"{SVG}g") if g.get("class") == "stage"
            for r in g.findall(f"{SVG}rect")[-1:]}
    assert len(rows) > 10
    root = ET.fromstring(draw("resnet18", "blocks", depth=1))
    names = [g.get("data-name") for g in root.iter(f"{SVG}g") if g.get("class") == "stage"]
    assert names == ["input", "conv1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]


def test_a_block_figure_past_its_box_limit_is_folded(tmp_path):
    from archcalc.draw.blocks import MAX_STAGES

    root = ET.fromstring(draw(_chain_file(tmp_path, MAX_STAGES + 10), "blocks"))
    names = [g.get("data-name") for g in root.iter(f"{SVG}g") if g.get("class") == "stage"]
    assert names == ["input", "c"]
    assert f"{MAX_STAGES + 11:,} boxes" in root.find(f".//{SVG}text[@class='note']").text


def test_layout_of_a_deeply_nested_series_parallel_graph():
    """3,000 forks nested in one another (a_i feeds a_i+1 and b_i, b_i adds b_i+1 and a_i): laid out
    without recursion, each branch in its own column, no crossing."""
    from archcalc.draw.diagram import Arc, Diagram, Vertex
    from archcalc.draw.layout import layout

    depth = 3000
    names = [f"a{i}" for i in range(depth)] + [f"b{i}" for i in reversed(range(depth))]
    pairs = [(f"a{i}", f"a{i + 1}") for i in range(depth - 1)] + [(f"a{depth - 1}", f"b{depth - 1}")]
    pairs += [(f"b{i + 1}", f"b{i}") for i in range(depth - 1)] + [(f"a{i}", f"b{i}") for i in range(depth - 1)]
    vertices = tuple(Vertex(n, "relu", "", (1,), "RELU", ()) for n in names)
    placed = layout(Diagram("nested", vertices, tuple(Arc(s, t, (1,)) for s, t in pairs)))
    assert placed.series_parallel and placed.crossings == 0 and len(placed.boxes) == 2 * depth


def test_the_crossings_of_a_one_column_drawing_are_counted_exactly():
    """The sweep counts what the pairwise check of every two segments counts, on random DAGs."""
    import random

    from archcalc.draw.diagram import Arc, Diagram, Vertex
    from archcalc.draw.layout import layout

    chooser = random.Random(7)
    for _ in range(60):
        size = chooser.randint(4, 18)
        names = [f"n{i}" for i in range(size)]
        pairs = sorted({(names[i], names[j]) for j in range(1, size)
                        for i in chooser.sample(range(j), chooser.randint(1, min(j, 4)))})
        vertices = tuple(Vertex(n, "relu", "", (1,), "RELU", ()) for n in names)
        placed = layout(Diagram("random", vertices, tuple(Arc(s, t, (1,)) for s, t in pairs)))
        edges = [(r.source, r.target, "", r.points) for r in placed.routes]
        assert placed.crossings == (0 if placed.series_parallel else _diagonal_free_crossings(edges))


# --- PNG and PDF ------------------------------------------------------------------------------------

def _cairo():
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError):  # not installed, or without the system's cairo library
        pytest.skip("cairosvg cannot run here")


def test_a_drawing_taller_than_cairo_paints_is_scaled_into_the_png():
    """DenseNet-121's graph is 420×34,320 pixels, past the 32,767 cairo paints: scaled to fit."""
    _cairo()
    from archcalc.draw.convert import MAX_SIDE, convert

    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="420" height="34320" viewBox="0 0 420 34320">'
           '<rect width="420" height="34320" fill="#9ecae1"/></svg>')
    png = convert(svg, "png")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert height <= MAX_SIDE and abs(width / height - 420 / 34320) < 0.001


def test_a_drawing_too_large_to_read_as_a_png_is_refused_in_one_line():
    _cairo()
    from archcalc.draw.convert import convert

    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="420" height="400000"></svg>'
    with pytest.raises(ArchcalcError, match="out.png: the drawing is 420×400,000 pixels, too large") as caught:
        convert(svg, "png", "out.png")
    assert "32,000 pixels a side" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("suffix", ["png", "pdf"])
def test_names_with_control_characters_convert(tmp_path, suffix):
    _cairo()
    from click.testing import CliRunner

    from archcalc.cli import main

    out = tmp_path / f"names.{suffix}"
    result = CliRunner().invoke(main, ["draw", str(HOSTILE / "hostile-names.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == (b"\x89PNG" if suffix == "png" else b"%PDF")
