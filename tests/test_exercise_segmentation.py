"""The exercises `unet-like` and `yolo-output`: their keys at the papers' own settings equal the papers'
numbers (U-Net, Ronneberger et al. 2015, Fig. 1; YOLO v1, Redmon et al. 2016, Section 2 and Fig. 3), every
seed's key equals the formulas worked by hand, and the sheets grade back with the usual feedback."""

from __future__ import annotations

import random
import re

import pytest

import archcalc
from archcalc.grading import unet_like, yolo_output

SEEDS = range(30)


def key(questions) -> dict[str, object]:
    return {q.id: q.value for q in questions}


def questions_of(module, drawn):
    network, _ = drawn
    return module.questions(random.Random(0), network, archcalc.analyze(network))


def test_unet_like_at_the_papers_setting_gives_fig_1():
    """Four poolings, 64 channels at the top, 28 × 28 at the bottom: the 572 × 572 tile of Fig. 1, the
    bottom's 1024 maps of 28 × 28, the crops to 56, 104, 200 and 392 (of 64, 136, 280 and 568), the 2 × 388 × 388
    output; the lowest up-convolution 2×2 from 1024 to 512 maps: 1024 · 512 · 2 · 2 + 512 weights and biases."""
    assert unet_like.tile(4, 28) == 572
    answers = key(questions_of(unet_like, unet_like.network(4, 28, 64, 1, 2)))
    assert answers == {"Q1": (1024, 28, 28),
                       "Q2": (512, 56, 56), "Q3": (256, 104, 104), "Q4": (128, 200, 200), "Q5": (64, 392, 392),
                       "Q6": (568 - 392) // 2,
                       "Q7": (2, 388, 388),
                       "Q8": 1024 * 512 * 2 * 2 + 512}
    assert answers["Q6"] == 88 and answers["Q8"] == 2_097_664
    # the same network as the zoo's unet (written separately): the same parameters
    network, _ = unet_like.network(4, 28, 64, 1, 2)
    assert archcalc.analyze(network).totals.params == archcalc.analyze("unet").totals.params == 31_030_658


def test_yolo_output_at_the_papers_setting():
    """S = 7, B = 2, C = 20 on the 7 × 7 × 1024 map with 4096 hidden units: 7 × 7 × 30 = 1,470 outputs; the
    last fully connected layer 4096 · 1470 + 1470 = 6,022,590 parameters, the first 7·7·1024 · 4096 + 4096."""
    answers = key(questions_of(yolo_output, yolo_output.network(7, 2, 20, 1024, 4096)))
    assert answers == {"Q1": 7 * 7 * 30, "Q2": (30, 7, 7), "Q3": 4096 * 1470 + 1470, "Q4": 7 * 7 * 1024 * 4096 + 4096}
    assert answers["Q1"] == 1470 and answers["Q3"] == 6_022_590


def unet_by_hand(ex) -> dict[str, object]:
    """The key from the description's numbers: unpadded 3×3 convolutions take 2 off a side's size, a pool
    halves it, an up-convolution doubles it and halves the channels."""
    c, size, _ = ex.network["input"]
    levels = len(re.findall(r"pool\d", " ".join(entry["name"] for entry in ex.network["layers"])))
    width = ex.network["layers"][0]["out_channels"]
    classes = ex.network["layers"][-1]["out_channels"]
    skips = []
    for level in range(levels):
        size -= 4
        skips.append((width * 2 ** level, size))
        size //= 2
    size -= 4
    answers: dict[str, object] = {"Q1": (width * 2 ** levels, size, size)}
    for channels, skip in reversed(skips):
        size *= 2
        answers[f"Q{len(answers) + 1}"] = (channels, size, size)
        top_cut = (skip - size) // 2
        size -= 4
    answers[f"Q{len(answers) + 1}"] = top_cut
    answers[f"Q{len(answers) + 1}"] = (classes, size, size)
    deepest = width * 2 ** levels
    answers[f"Q{len(answers) + 1}"] = deepest * (deepest // 2) * 4 + deepest // 2
    return answers


def yolo_by_hand(ex) -> dict[str, object]:
    depth, s, _ = ex.network["input"]
    b, c = ex.network["reference"]["B"], ex.network["reference"]["C"]
    units = ex.network["layers"][1]["out_features"]
    out = s * s * (b * 5 + c)
    return {"Q1": out, "Q2": (b * 5 + c, s, s), "Q3": units * out + out, "Q4": depth * s * s * units + units}


@pytest.mark.parametrize("kind, by_hand", [("unet-like", unet_by_hand), ("yolo-output", yolo_by_hand)])
def test_thirty_seeds_give_keys_that_match_the_formulas_and_grade_their_sheets(kind, by_hand):
    for seed in SEEDS:
        ex = archcalc.exercise(kind, seed)
        assert key(ex.questions) == by_hand(ex), seed
        assert all(q.arithmetic for q in ex.questions)
        for fmt in ("markdown", "csv"):
            full = archcalc.check(kind, ex.sheet(fmt, filled=True))
            assert full.score == 1.0 and full.all_correct, full.to_text(brief=True)
            blank = archcalc.check(kind, ex.sheet(fmt))
            assert blank.score == 0.0 and blank.graded == len(ex.questions)


def test_wrong_answers_get_the_usual_feedback():
    ex = archcalc.exercise("yolo-output", 3)
    s, b, c = (ex.network["reference"][k] for k in "SBC")
    wrong = s * s * b * (5 + c)   # the classes per box, as YOLO v2 has them
    sheet = ex.sheet("csv", filled=True).replace(f'"{ex.questions[0].answer}"', str(wrong))
    grade = archcalc.check("yolo-output", sheet)
    assert grade.cell("Q1", "values").diagnosis == ("counted the classes once per box (as YOLO v2 does): "
                                                    "S × S × B·(5 + C)",)
    ex = archcalc.exercise("unet-like", 3)
    cut = next(q for q in ex.questions if q.column == "cut")
    lines = [line.rsplit(",", 1)[0] + f",{2 * cut.value}" if line.startswith(f"{cut.id},") else line
             for line in ex.sheet("csv", filled=True).splitlines()]
    sheet = "\n".join(lines) + "\n"
    grade = archcalc.check("unet-like", sheet)
    assert not grade.cell(cut.id, "cut").correct
    assert grade.cell(cut.id, "cut").diagnosis[0].startswith("gave the rows cut in all")


def test_the_command_line_writes_both(tmp_path):
    from click.testing import CliRunner

    from archcalc.cli import main

    for kind in ("unet-like", "yolo-output"):
        result = CliRunner().invoke(main, ["exercise", kind, "--seed", "4", "-o", str(tmp_path / f"{kind}.md")])
        assert result.exit_code == 0, result.output
        graded = CliRunner().invoke(main, ["check", kind, str(tmp_path / f"{kind}.md")])
        assert "0 wrong" in graded.output and "not answered" in graded.output
