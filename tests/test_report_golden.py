"""Golden outputs of each lecture style on the model it comes from, and the seeds' numbers in them.

Regenerate with `ARCHCALC_UPDATE_GOLDEN=1 pytest tests/test_report_golden.py`, then check the new
files by eye against the seed tables named below before committing them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import archcalc
from archcalc.report import render, to_table

GOLDEN = Path(__file__).parent / "golden"

# (zoo name, style): the seed table each golden file reproduces.
CASES = {
    ("lenet5", "lecture"): "seed 000, Example 3.1 (LeNet-5 parameters)",
    ("alexnet-lecture", "structural"): "seed 000, 'AlexNet Network - Structural Details'",
    ("resnet18-lecture", "structural"): "seed 000, 'ResNet18 - Structural Details'",
    ("vgg16", "keras"): "seed 000, 'VGG Parameters' (Keras model.summary())",
    ("vgg16", "cs231n"): "seed 004, cs231n VGG-16 memory/params walk-through",
    ("googlenet-paper", "paper"): "seed 002, GoogLeNet table (type | patch size/stride | ...)",
}


def text(name: str, style: str, **options) -> str:
    return render(to_table(archcalc.analyze(name), style, **options), "terminal", color=False, width=400)


@pytest.mark.parametrize(("name", "style"), sorted(CASES))
def test_golden(name: str, style: str):
    path = GOLDEN / f"{name}.{style}.txt"
    got = text(name, style)
    if os.environ.get("ARCHCALC_UPDATE_GOLDEN") == "1":
        path.write_text(got, encoding="utf-8")
    assert path.is_file(), f"missing {path}: run with ARCHCALC_UPDATE_GOLDEN=1"
    assert got == path.read_text(encoding="utf-8")


def rows_of(output: str) -> list[str]:
    """The table rows of plain output: between the first rule and the next one."""
    lines = output.splitlines()
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"-"}]
    end = rules[1] if len(rules) > 1 else lines.index("", rules[0])
    return lines[rules[0] + 1:end]


def test_lecture_lenet5_matches_seed_000_example_3_1():
    out = text("lenet5", "lecture")
    # seed 000, Example 3.1: every Params cell and the total, as the slide writes them.
    for cell in ("1 × 5 × 5 × 6 + 6 = 156", "6 × 5 × 5 × 16 + 16 = 2,416", "16 × 5 × 5 × 120 + 120 = 48,120",
                 "120 × 1 × 1 × 84 + 84 = 10,164", "84 × 1 × 1 × 10 + 10 = 850", "61,706"):
        assert cell in out
    first = rows_of(out)[0].split("  ")
    assert [c.strip() for c in first if c.strip()] == [
        "C1: conv2d", "32 × 32 × 1", "5 × 5 × 6", "28 × 28 × 6", "1 × 5 × 5 × 6 + 6 = 156"]
    pool = [c.strip() for c in rows_of(out)[1].split("  ") if c.strip()]
    assert pool == ["S2: pool/2", "28 × 28 × 6", "2 × 2 / 2", "14 × 14 × 6", "0"]


def structural_rows(name: str) -> list[list[str]]:
    table = to_table(archcalc.analyze(name), "structural")
    return [[c.text for c in row] for row in table.rows]


def test_structural_alexnet_matches_seed_000():
    rows = structural_rows("alexnet-lecture")
    # seed 000, "AlexNet Network - Structural Details": Input W H D, Output W H D, Layer, Stride, Pad,
    # Kernel size, in, out, # of Param.
    expected = [
        ["227", "227", "3", "55", "55", "96", "conv1", "4", "0", "11", "11", "3", "96", "34,944"],
        ["55", "55", "96", "27", "27", "96", "maxpool1", "2", "0", "3", "3", "96", "96", "0"],
        ["27", "27", "96", "27", "27", "256", "conv2", "1", "2", "5", "5", "96", "256", "614,656"],
        ["27", "27", "256", "13", "13", "256", "maxpool2", "2", "0", "3", "3", "256", "256", "0"],
        ["13", "13", "256", "13", "13", "384", "conv3", "1", "1", "3", "3", "256", "384", "885,120"],
        ["13", "13", "384", "13", "13", "384", "conv4", "1", "1", "3", "3", "384", "384", "1,327,488"],
        ["13", "13", "384", "13", "13", "256", "conv5", "1", "1", "3", "3", "384", "256", "884,992"],
        ["13", "13", "256", "6", "6", "256", "maxpool5", "2", "0", "3", "3", "256", "256", "0"],
        ["", "", "", "", "", "", "fc6", "", "", "1", "1", "9216", "4096", "37,752,832"],
        ["", "", "", "", "", "", "fc7", "", "", "1", "1", "4096", "4096", "16,781,312"],
        ["", "", "", "", "", "", "fc8", "", "", "1", "1", "4096", "1000", "4,097,000"],
    ]
    assert [row[1:] for row in rows] == expected
    assert "62,378,344" in text("alexnet-lecture", "structural")  # "Total 62,378,344"


def test_structural_resnet18_numbering_and_half_padding_match_seed_000():
    rows = structural_rows("resnet18-lecture")
    # seed 000, "ResNet18 - Structural Details": weight layers numbered 1..18, pools unnumbered,
    # "pad 0.5" on the max pool and the first convolution of stages 3, 4 and 5.
    assert [row[0] for row in rows] == ["1", ""] + [str(i) for i in range(2, 18)] + ["", "18"]
    pads = {row[7]: row[9] for row in rows}
    assert pads["maxpool"] == pads["conv3-1"] == pads["conv4-1"] == pads["conv5-1"] == "0.5"
    assert pads["conv1"] == pads["conv2-1"] == "1"
    assert rows[1][1:7] == ["112", "112", "64", "56", "56", "64"]
    assert rows[-2][7:11] == ["avgpool", "7", "0", "7"]
    assert rows[-1][-3:] == ["512", "1000", "513,000"]
    assert "11,511,784" in text("resnet18-lecture", "structural")  # "Total 11,511,784"


def test_keras_vgg16_matches_seed_000_summary():
    out = text("vgg16", "keras")
    # seed 000, "VGG Parameters": rows as printed by Keras.
    for name, kind, shape, params, source in (
        ("input_1", "InputLayer", "(None, 224, 224, 3)", "0", ""),
        ("block1_conv1", "Convolution2D", "(None, 224, 224, 64)", "1,792", "input_1[0][0]"),
        ("block3_pool", "MaxPooling2D", "(None, 28, 28, 256)", "0", "block3_conv3[0][0]"),
        ("flatten", "Flatten", "(None, 25088)", "0", "block5_pool[0][0]"),
        ("fc1", "Dense", "(None, 4096)", "102,764,544", "flatten[0][0]"),
        ("predictions", "Dense", "(None, 1000)", "4,097,000", "fc2[0][0]"),
    ):
        line = next(line for line in out.splitlines() if line.startswith(f"{name} ("))
        assert [c.strip() for c in line.split("  ") if c.strip()] == [f"{name} ({kind})", shape, params,
                                                                     *([source] if source else [])]
    assert "Total params: 138,357,544" in out  # "Total params: 138357544"


def test_cs231n_vgg16_matches_seed_004_lines():
    out = text("vgg16", "cs231n")
    lines = [" ".join(line.split()) for line in out.splitlines()]
    # seed 004, the cs231n walk-through (params there are weights, biases not counted).
    for expected in (
        "INPUT: [224x224x3] memory: 224*224*3=150K weights: 0",
        "CONV3-64: [224x224x64] memory: 224*224*64=3.2M weights: (3*3*3)*64 = 1,728",
        "CONV3-64: [224x224x64] memory: 224*224*64=3.2M weights: (3*3*64)*64 = 36,864",
        "POOL2: [112x112x64] memory: 112*112*64=800K weights: 0",
        "CONV3-128: [112x112x128] memory: 112*112*128=1.6M weights: (3*3*64)*128 = 73,728",
        "CONV3-256: [56x56x256] memory: 56*56*256=800K weights: (3*3*128)*256 = 294,912",
        "POOL2: [28x28x256] memory: 28*28*256=200K weights: 0",
        "CONV3-512: [28x28x512] memory: 28*28*512=400K weights: (3*3*256)*512 = 1,179,648",
        "CONV3-512: [14x14x512] memory: 14*14*512=100K weights: (3*3*512)*512 = 2,359,296",
        "POOL2: [7x7x512] memory: 7*7*512=25K weights: 0",
        "FC: [1x1x4096] memory: 4096 weights: 7*7*512*4096 = 102,760,448",
        "FC: [1x1x4096] memory: 4096 weights: 4096*4096 = 16,777,216",
        "FC: [1x1x1000] memory: 1000 weights: 4096*1000 = 4,096,000",
    ):
        assert expected in lines
    # The slide's per-layer memory adds up to 15,237,608 values, not its "24M" (docs/errata.md).
    assert "TOTAL memory: 15,237,608" in out


def test_paper_googlenet_module_columns_match_seed_002():
    table = to_table(archcalc.analyze("googlenet-paper"), "paper")
    rows = {row[0].text: [c.text for c in row] for row in table.rows}
    # seed 002, GoogLeNet table: output size, depth, #1x1 … pool proj, ops (M).
    assert rows["inception (3a)"][2:10] == ["28x28x256", "2", "64", "96", "128", "16", "32", "32"]
    assert rows["inception (5b)"][2:10] == ["7x7x1024", "2", "384", "192", "384", "48", "128", "128"]
    assert rows["inception (3a)"][11] == "128M" and rows["inception (3b)"][11] == "304M"
    assert rows["inception (4e)"][11] == "170M" and rows["inception (5b)"][11] == "71M"
    assert rows["linear"][10:] == ["1000K", "1M"]
    pools = [[c.text for c in row][1:4] for row in table.rows if row[0].text == "max pool"]
    assert pools == [["3x3/2", "56x56x64", "0"], ["3x3/2", "28x28x192", "0"], ["3x3/2", "14x14x480", "0"],
                     ["3x3/2", "7x7x832", "0"]]
    assert rows["dropout (40%)"][2] == "1x1x1024"
    assert [c.text for c in table.rows[0]][:4] == ["convolution", "7x7/2", "112x112x64", "1"]


def _number(cell: str) -> int:
    """The number a cell ends with: `1 × 5 × 5 × 6 + 6 = 156` → 156, `4,096 B` → 4096."""
    token = cell.split("=")[-1].split("(")[0].strip().split(" ")[0]
    return int(token.replace(",", "")) if token else 0


@pytest.mark.parametrize(("name", "style", "columns"), [
    ("lenet5", "lecture", ["params"]),
    ("alexnet-lecture", "structural", ["params"]),
    ("resnet18-lecture", "structural", ["params"]),
    ("googlenet-paper", "paper", ["params", "ops"]),
    ("resnet18-lecture", "full", ["params", "macs", "memory"]),
    ("googlenet-paper", "full", ["params", "macs", "memory"]),
    ("googlenet-paper", "torch", ["params", "macs"]),
])
def test_printed_column_sums_equal_printed_totals(name: str, style: str, columns: list[str]):
    """Parse the CSV output: each numeric column adds up to its totals row."""
    import csv
    import io

    table = to_table(archcalc.analyze(name), style, units="exact")
    rows = list(csv.reader(io.StringIO(render(table, "csv"))))
    header, body, total = rows[0], rows[1:-1], rows[-1]
    for key in columns:
        index = [c.key for c in table.columns].index(key)
        assert header[index].startswith(table.columns[index].header)
        summed = sum(_number(row[index]) for row in body if row[index] not in ("--", ""))
        assert summed == _number(total[index]), key


def test_keras_and_cs231n_sums_equal_their_total_lines():
    out = text("vgg16", "keras")
    params = [line.split("  ") for line in rows_of(out)]
    summed = sum(_number([c for c in row if c.strip()][2]) for row in params)
    assert f"Total params: {summed:,}" in out
    lines = text("vgg16", "cs231n").splitlines()
    memory = weights = 0
    for line in lines:
        if "memory: " in line and "weights: " in line:
            expr = line.split("memory: ")[1].split()[0].split("=")[0]
            product = 1
            for factor in expr.split("*"):
                product *= int(factor)
            memory += product
            weights += _number(line.split("weights: ")[1])
    assert f"TOTAL memory: {memory:,} " in "\n".join(lines)
    assert f"TOTAL weights: {weights:,} " in "\n".join(lines)
