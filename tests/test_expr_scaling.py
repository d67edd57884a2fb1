"""The scaling functions of expressions: `make_divisible`, `ceil`, `floor` (and `round`, `//`), as
torchvision's model builders use them.

Golden values: `tests/data/reference_scaling.json` records the channels and repeats torchvision 0.29's
`_efficientnet_conf` built for B0-B7 (its `MBConvConfig.adjust_channels` is
`_make_divisible(channels * width_mult, 8)` and `adjust_depth` is `int(math.ceil(num_layers * depth_mult))`),
and the channels timm built for MobileNet v1 at each width (`round_channels`, the same rule).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcalc
from archcalc.errors import SpecError
from archcalc.expr import evaluate

SCALING = json.loads((Path(__file__).parent / "data" / "reference_scaling.json").read_text())
# EfficientNet-B0's stages (Tan & Le 2019, Table 1; torchvision's `bneck_conf` rows): in, out, layers
B0_STAGES = [(32, 16, 1), (16, 24, 2), (24, 40, 2), (40, 80, 3), (80, 112, 3), (112, 192, 4), (192, 320, 1)]


@pytest.mark.parametrize("variant", sorted(SCALING["efficientnet"]))
def test_efficientnet_channels_and_repeats_as_torchvision_built_them(variant):
    entry = SCALING["efficientnet"][variant]
    names = {"w": entry["scaling"]["width_mult"], "d": entry["scaling"]["depth_mult"]}
    for (cin, cout, layers), built in zip(B0_STAGES, entry["stages"], strict=True):
        assert evaluate(f"make_divisible({cin} * w, 8)", names) == built["input_channels"]
        assert evaluate(f"make_divisible({cout} * w, 8)", names) == built["out_channels"]
        assert evaluate(f"ceil({layers} * d)", names) == built["num_layers"]
    assert evaluate("4 * make_divisible(320 * w, 8)", names) == entry["head_channels"]


def test_mobilenet_v1_channels_as_timm_built_them():
    base = SCALING["mobilenet_v1"]["1_224"]["channels"]
    for key in ("0.75_224", "0.5_224", "0.25_224"):
        entry = SCALING["mobilenet_v1"][key]
        scaled = [evaluate("make_divisible(c * alpha, 8)", {"c": c, "alpha": entry["alpha"]}) for c in base]
        assert scaled == entry["channels"]


@pytest.mark.parametrize(("text", "value"), [
    # by the definition: max(min_value, int(v + d/2) // d * d), plus d where that is below 0.9·v
    ("make_divisible(4, 8)", 8),             # int(8) // 8 * 8 = 8
    ("make_divisible(8.8, 8)", 8),           # int(12.8) // 8 * 8 = 8, not below 7.92
    ("make_divisible(10, 8)", 16),           # int(14) // 8 * 8 = 8 < 9: one more 8
    ("make_divisible(12, 8)", 16),           # int(16) // 8 * 8 = 16: half rounds up
    ("make_divisible(3, 8, 1)", 9),          # int(7) // 8 * 8 = 0, at least min_value 1, 1 < 2.7: + 8
    ("make_divisible(17.6, 8)", 16),         # EfficientNet-B2's 16 · 1.1
    ("ceil(2.2)", 3), ("ceil(2)", 2), ("floor(2.8)", 2), ("floor(-0.5)", -1), ("ceil(3 * 1.1)", 4),
    ("round(2.5)", 2), ("round(3.5)", 4),    # Python's: half to even
    ("7 // 2", 3), ("-7 // 2", -4),
])
def test_scaling_functions(text, value):
    result = evaluate(text, {})
    assert result == value and type(result) is int


@pytest.mark.parametrize(("text", "said"), [
    ("make_divisible(16, 0)", "divisor must be a positive integer"),
    ("make_divisible(16, 2.5)", "divisor must be a positive integer"),
    ("make_divisible(16, 8, -1)", "min_value must be a positive integer"),
    ("make_divisible('a', 8)", "needs a number"),
    ("make_divisible(True, 8)", "needs a number"),
    ("make_divisible(16)", "make_divisible"),
    ("ceil('3')", "needs a number"),
    ("floor([1])", "needs a number"),
    ("ceil(10**15 * 10)", "out of range"),
    ("make_divisible(10**15, 8 * 10**14)", "out of range"),
    ("ceil.x", "not allowed"),
])
def test_bad_calls_are_one_line_errors(text, said):
    with pytest.raises(SpecError, match="in expression|cannot parse") as caught:
        evaluate(text, {})
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_a_file_scales_its_channels():
    text = ("name: scaled\nargs: {alpha: 0.75}\ninput: [3, 32, 32]\nlayers:\n"
            "  - {name: c, type: conv, out_channels: 'make_divisible(32 * alpha, 8)', kernel_size: 3}\n"
            "  - {name: r, type: conv, out_channels: 8, kernel_size: 1, repeat: 'ceil(2 * alpha)'}\n")
    report = archcalc.analyze(archcalc.load("scaled.yaml", text=text))
    assert report.layer("c").output_shape == (24, 30, 30)
    assert [r.name for r in report.layers][-2:] == ["r/0", "r/1"]
