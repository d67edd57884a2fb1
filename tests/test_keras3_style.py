"""The keras3 style against Keras 3's own `model.summary()`.

tests/data/keras3_summaries.txt is Keras's output (its first lines say which Keras, backend,
command and date; tools/capture_keras_summaries.py regenerates it). The zoo's vgg16 is Keras's
VGG16 layer for layer; resnet50-keras is Keras's ResNet50 written with Keras's names as paths
(`conv2/block1/1_conv`, printed `conv2_block1_1_conv`), so both are compared row by row: names,
types, shapes, parameters, connections and the order Keras lists a functional model's layers in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import archcalc
from archcalc.report import to_table

CAPTURE = Path(__file__).parent / "data" / "keras3_summaries.txt"


def keras_summary(model: str) -> tuple[list[tuple[str, ...]], list[str], str]:
    """Keras's rows (cells; a cell wrapped onto a second line is joined), its totals lines and title."""
    text = CAPTURE.read_text(encoding="utf-8").split(f"== {model}\n", 1)[1].split("\n== ", 1)[0]
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0]:
            rows.append(cells)
        else:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    totals = [line.strip() for line in text.splitlines() if "params:" in line]
    title = next(line for line in text.splitlines() if line.startswith("Model:"))
    return [tuple(r) for r in rows], totals, title


def ours(name: str) -> tuple[list[tuple[str, ...]], list[str], list[str]]:
    table = to_table(archcalc.analyze(name), "keras3")
    return [tuple(c.text for c in row) for row in table.rows], [c.header for c in table.columns], list(table.footer)


def test_the_capture_says_where_it_came_from():
    head = CAPTURE.read_text(encoding="utf-8").splitlines()[:4]
    assert head[0].startswith("# keras 3.") and "backend" in head[0]
    assert any("capture_keras_summaries.py" in line for line in head)
    assert any(line.startswith("# date:") for line in head)


def test_vgg16_rows_equal_keras_row_by_row():
    rows, totals, title = keras_summary("VGG16")
    mine, headers, footer = ours("vgg16")
    assert title == 'Model: "vgg16"'
    assert headers == ["Layer (type)", "Output Shape", "Param #"]  # a chain: no "Connected to"
    assert mine == rows
    assert footer[:3] == totals


def test_resnet50_rows_equal_keras_row_by_row():
    rows, totals, title = keras_summary("ResNet50")
    mine, headers, footer = ours("resnet50-keras")
    assert title == 'Model: "resnet50"'
    assert headers == ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    assert mine == rows
    assert footer[:3] == totals


def test_rows_follow_keras_depth_order_not_the_file_order():
    """Inside a projection block Keras lists the shortcut's convolution between the main branch's
    layers of the same depth (`0_conv` before `3_conv`, `0_bn` before `3_bn`)."""
    mine, _, _ = ours("resnet50-keras")
    names = [cells[0].split(" ")[0] for cells in mine]
    block = [n.removeprefix("conv2_block1_") for n in names if n.startswith("conv2_block1_")]
    assert block[6:10] == ["0_conv", "3_conv", "0_bn", "3_bn"]
    file_order = [r.name.replace("/", "_") for r in archcalc.analyze("resnet50-keras").layers]
    assert names[1:] != file_order[1:]  # the file lists the shortcut first


@pytest.mark.parametrize("name", ["vgg16", "lenet5"])
def test_keras3_names_are_keras3s(name):
    mine, _, _ = ours(name)
    text = " ".join(cells[0] for cells in mine)
    assert "Convolution2D" not in text and "input_1" not in text
