"""The order a sheet writes its shapes in: W×H×D (lecture), H×W×C (Keras) or C×H×W (PyTorch).

The network below has non-square maps, so the orders are told apart. Its sizes by hand, from
(W − F + 2P)/S + 1: conv 3×3/1 on 64 wide × 32 high gives (64 − 3)/1 + 1 = 62 wide and
(32 − 3)/1 + 1 = 30 high, 8 channels; pool 2×2/2 gives 62/2 = 31 wide, 30/2 = 15 high.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main

WIDE = {
    "name": "wide", "input": [3, 32, 64],
    "layers": [
        {"name": "conv", "type": "conv", "out_channels": 8, "kernel_size": 3},
        {"name": "pool", "type": "maxpool", "kernel_size": 2, "stride": 2},
    ],
}
LECTURE = {"input": "64×32×3", "conv": "62×30×8", "pool": "31×15×8"}     # W × H × D
KERAS = {"input": "32×64×3", "conv": "30×62×8", "pool": "15×31×8"}       # H × W × C
TORCH = {"input": "3×32×64", "conv": "8×30×62", "pool": "8×15×31"}       # C × H × W


def sheet(header: str, shapes: dict[str, str]) -> str:
    return f"layer,{header}\n" + "".join(f"{layer},{shape}\n" for layer, shape in shapes.items())


def verdicts(result) -> dict[str, str]:
    return {cell.layer: cell.verdict for cell in result.cells}


@pytest.mark.parametrize("order, shapes, swapped", [
    ("lecture", LECTURE, KERAS), ("keras", KERAS, LECTURE), ("torch", TORCH, LECTURE)])
def test_an_explicit_order_accepts_only_its_own_reading(order, shapes, swapped):
    right = archcalc.check(WIDE, sheet("output", shapes), {"shapes": order})
    assert right.all_correct, right.to_text()
    wrong = archcalc.check(WIDE, sheet("output", swapped), {"shapes": order})
    assert set(verdicts(wrong).values()) == {"wrong"}


def test_an_explicit_order_names_the_swap_and_shows_the_expected_shape_in_that_order():
    result = archcalc.check(WIDE, sheet("output", {"conv": "30×62×8"}), archcalc.Conventions(shapes="lecture"))
    cell = result.cell("conv", "output")
    assert cell.verdict == "wrong"
    assert cell.expected == "62×30×8 (W×H×D)"
    assert cell.diagnosis[0].startswith("H and W swapped")


@pytest.mark.parametrize("header, order, swapped", [
    ("Output W×H×D", "W×H×D (lecture)", KERAS), ("output WxHxD", "W×H×D (lecture)", KERAS),
    ("Output Shape (None, H, W, C)", "H×W×C (Keras)", LECTURE), ("output C×H×W", "C×H×W (PyTorch)", LECTURE),
])
def test_auto_takes_the_order_from_the_header(header, order, swapped):
    result = archcalc.check(WIDE, sheet(f'"{header}"', swapped))
    assert set(verdicts(result).values()) == {"wrong"}
    assert any(order in note for note in result.notes)


def test_auto_decides_from_the_answers_and_a_swapped_row_is_wrong():
    # the first two answers are unambiguous W×H×D; the student then swaps H and W on pool
    result = archcalc.check(WIDE, sheet("output", {"input": "64×32×3", "conv": "62×30×8", "pool": "15×31×8"}))
    assert verdicts(result) == {"conv": "correct", "pool": "wrong"}          # the input's row is not asked
    pool = result.cell("pool", "output")
    assert pool.expected == "31×15×8 (W×H×D)"
    assert pool.diagnosis[0].startswith("H and W swapped")
    assert result.cell("conv", "output").note == "read as W×H×D (lecture)"
    assert result.shape_orders == ("W×H×D (lecture)",) and result.to_dict()["shape_orders"] == ["W×H×D (lecture)"]


def test_auto_follows_the_majority_not_a_first_slip():
    # the first answer is swapped, the two after it are W×H×D: the sheet's order is W×H×D
    result = archcalc.check(WIDE, sheet("output", {"input": "32×64×3", "conv": "62×30×8", "pool": "31×15×8"}))
    assert verdicts(result) == {"conv": "correct", "pool": "correct"}        # the input's row is not asked


def test_a_sheet_consistently_in_keras_order_is_right():
    result = archcalc.check(WIDE, sheet("output", KERAS))
    assert result.all_correct
    assert result.cell("pool", "output").note == "read as H×W×C (Keras)"


def test_channels_first_on_a_channels_last_sheet_is_diagnosed():
    result = archcalc.check(WIDE, sheet("output", {"input": "64×32×3", "conv": "62×30×8", "pool": "8×15×31"}))
    pool = result.cell("pool", "output")
    assert pool.verdict == "wrong" and "C×H×W (PyTorch)" in pool.diagnosis[0]


def test_square_maps_stay_unambiguous():
    # seed 000 Example 3.1: C1 of LeNet-5 is 28 × 28 × 6, the same in W×H×D and H×W×C
    for order in ("auto", "lecture", "keras"):
        assert archcalc.check("lenet5", [{"layer": "C1", "output": "28×28×6"}], {"shapes": order}).cell(
            "C1", "output").correct
    square = archcalc.check("lenet5", [{"layer": "C1", "output": "28×28×6"}])
    assert square.shape_orders == ("W×H×D (lecture)", "H×W×C (Keras)")
    assert square.cell("C1", "output").note == "read as W×H×D (lecture) or H×W×C (Keras)"
    assert not archcalc.check("lenet5", [{"layer": "C1", "output": "28×28×6"}], {"shapes": "torch"}).cell(
        "C1", "output").correct
    assert archcalc.check("lenet5", [{"layer": "C1", "output": "6×28×28"}], {"shapes": "torch"}).cell(
        "C1", "output").correct


def test_the_input_column_follows_the_same_order():
    text = "layer,input,output\nconv,64×32×3,62×30×8\npool,30×62×8,31×15×8\n"
    result = archcalc.check(WIDE, text)
    assert result.cell("pool", "input").verdict == "wrong"
    assert result.cell("pool", "output").verdict == "correct"


def test_bad_shape_order_is_a_clear_error():
    with pytest.raises(archcalc.ArchcalcError, match="shapes must be one of auto, lecture, keras, torch"):
        archcalc.Conventions(shapes="nchw")


def test_headers_naming_two_orders_are_refused():
    with pytest.raises(archcalc.ArchcalcError, match="different shape orders"):
        archcalc.check(WIDE, "layer,input W×H×D,output C×H×W\nconv,64×32×3,8×30×62\n")


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def wide_file(tmp_path):
    path = tmp_path / "wide.json"
    path.write_text(json.dumps(WIDE))
    return str(path)


def test_check_shapes_option(tmp_path, wide_file):
    path = tmp_path / "answers.csv"
    path.write_text(sheet("output", KERAS))
    assert run("check", wide_file, str(path)).exit_code == 0
    result = run("check", wide_file, str(path), "--shapes", "lecture")
    assert result.exit_code == 1 and "H and W swapped" in result.output


def test_template_names_the_order_and_round_trips(wide_file):
    result = run("template", wide_file, "--columns", "output", "--shapes", "torch", "--no-total")
    rows = [row for row in csv.reader(io.StringIO(result.output)) if not row[0].startswith("#")]
    assert rows[0] == ["layer", "output shape (C×H×W)"]
    filled = [rows[0]] + [[layer, TORCH[layer]] for layer, *_ in rows[1:]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(filled)
    assert archcalc.check(WIDE, buffer.getvalue()).all_correct
    filled = [rows[0]] + [[layer, LECTURE[layer]] for layer, *_ in rows[1:]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(filled)
    assert set(verdicts(archcalc.check(WIDE, buffer.getvalue())).values()) == {"wrong"}


def test_the_wide_sizes_are_pytorchs():
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 3, 32, 64)
    conv = torch.nn.Conv2d(3, 8, 3)(x)
    pool = torch.nn.MaxPool2d(2, 2)(conv)
    assert tuple(conv.shape[1:]) == (8, 30, 62) and tuple(pool.shape[1:]) == (8, 15, 31)
    assert [TORCH[name] for name in ("conv", "pool")] == ["8×30×62", "8×15×31"]
