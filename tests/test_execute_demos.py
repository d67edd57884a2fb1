"""The lectures' worked numbers, computed by the executor from the slides' own inputs.

Expected values are typed from the seed decks (file and slide named); where a slide prints no
output (seed 002's animation), PyTorch computes it from the same numbers.
"""

import numpy as np
import pytest
from click.testing import CliRunner

from archcalc.cli import main
from archcalc.executor.demos import CS231N_W0, CS231N_W1, CS231N_X, DEMOS, demo, run_demo


def test_vertical_edge_light_to_dark():
    # seed 003, "Vertical edge detection examples": 4×4 of 0 30 30 0
    assert run_demo(demo("vertical-edge"))["conv"][0].tolist() == [[0, 30, 30, 0]] * 4


def test_vertical_edge_dark_to_light():
    # seed 003, "Vertical edge detection examples", mirrored image: 0 −30 −30 0
    assert run_demo(demo("vertical-edge-mirrored"))["conv"][0].tolist() == [[0, -30, -30, 0]] * 4


def test_horizontal_edge():
    # seed 003, "Vertical and horizontal edge detection": rows 0 / 30 10 −10 −30 / 30 10 −10 −30 / 0
    assert run_demo(demo("horizontal-edge"))["conv"][0].tolist() == [
        [0, 0, 0, 0], [30, 10, -10, -30], [30, 10, -10, -30], [0, 0, 0, 0]]


def test_binary_image_convolution_then_sigmoid():
    # seed 001, "Nonlinear Function": convolution = 1*1 + 1*0 + 1*1 + ... = 4; Sigmoid(4) = 0.98
    values = run_demo(demo("binary-sigmoid"))
    assert values["conv"][0, 0, 0] == 4
    assert round(float(values["sigmoid"][0, 0, 0]), 2) == 0.98


def test_max_pooling():
    # seed 003, "Pooling layer: Max pooling", F=2, S=2: [[9, 6], [9, 8]]
    assert run_demo(demo("maxpool"))["pool"][0].tolist() == [[9, 6], [9, 8]]


def test_cs231n_padded_input_has_a_zero_border():
    # seed 002, slide 85: "Input Volume (+pad 1) (7x7x3)" — the demo feeds the 5×5 inside with padding 1
    for channel in CS231N_X:
        assert channel[0] == channel[-1] == [0] * 7
        assert all(row[0] == row[-1] == 0 for row in channel)


def test_cs231n_two_filters_stride_two():
    # seed 002, slide 85: filters W0, W1, biases b0 = 1, b1 = 0, stride 2 → 3×3×2.
    # Top-left of map 0 by hand: x0·w0[0] = 1, x1·w0[1] = 0, x2·w0[2] = 3, + b0 = 5.
    out = run_demo(demo("cs231n-conv"))["conv"]
    assert out.shape == (2, 3, 3)
    assert out[0, 0, 0] == 5
    torch = pytest.importorskip("torch")
    x = torch.tensor([CS231N_X], dtype=torch.float64)
    w = torch.tensor([CS231N_W0, CS231N_W1], dtype=torch.float64)
    expected = torch.nn.functional.conv2d(x, w, torch.tensor([1.0, 0.0], dtype=torch.float64), stride=2)
    assert out.tolist() == expected[0].tolist()


def test_every_demo_with_a_slide_answer_matches_it():
    for item in DEMOS.values():
        values = run_demo(item)
        for layer, expected in item.expected.items():
            assert np.array_equal(values[layer], np.asarray(expected, dtype=float)), item.name


def test_demo_command_lists_and_runs():
    runner = CliRunner()
    listing = runner.invoke(main, ["demo"])
    assert listing.exit_code == 0 and all(name in listing.output for name in DEMOS)
    shown = runner.invoke(main, ["demo", "maxpool"])
    assert shown.exit_code == 0
    assert "matches the slide" in shown.output and "DIFFERS" not in shown.output


def test_unknown_demo_is_one_line_error():
    result = CliRunner().invoke(main, ["demo", "edges"])
    assert result.exit_code == 2
    assert "no demo 'edges'" in result.output
