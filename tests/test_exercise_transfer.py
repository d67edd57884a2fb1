"""The `transfer` exercise: its key checked against the lecture formulas written out here, independently
of the analysis (conv params F·F·D·K + K, linear params n·u + u, MACs H·W·K·(D·F·F) and n·u), and the
training-step conventions of docs/training.md: a frozen layer computes no weight gradient, a layer computes
its input's gradient only when a trained layer lies before it, each gradient costs the forward's MACs."""

from __future__ import annotations

import re

from click.testing import CliRunner

import archcalc
from archcalc.cli import main

SEEDS = range(30)
ORDER = ("C1", "C3", "F5", "F6")


def by_hand(network: dict, batch: int) -> dict[str, object]:
    channels, size, _ = network["input"]
    c1, _, c3, _, _, f5, _ = network["layers"]
    out = lambda n, f, s, p: (n - f + 2 * p) // s + 1  # noqa: E731
    s1 = out(size, c1["kernel_size"], c1["stride"], c1["padding"])
    s3 = out(s1 // 2, c3["kernel_size"], 1, c3["padding"])
    s4 = s3 // 2
    k1, k3, f1, f3, units = c1["out_channels"], c3["out_channels"], c1["kernel_size"], c3["kernel_size"], \
        f5["out_features"]
    flat = k3 * s4 * s4
    params = {"C1": f1 * f1 * channels * k1 + k1, "C3": f3 * f3 * k1 * k3 + k3, "F5": flat * units + units,
              "F6": units * 10 + 10}
    macs = {"C1": s1 * s1 * k1 * channels * f1 * f1, "C3": s3 * s3 * k3 * k1 * f3 * f3, "F5": flat * units,
            "F6": units * 10}
    trained = [name for name in ORDER if name not in network["freeze"]]
    first = ORDER.index(trained[0])
    input_grads = ORDER[first + 1:]
    step = sum(macs.values()) + sum(macs[n] for n in input_grads) + sum(macs[n] for n in trained)
    return {"Q1": sum(params[n] for n in trained), "Q2": ", ".join(trained), "Q3": batch * step}


def batch_of(ex) -> int:
    return int(re.search(r"a batch of (\d+) images", ex.questions[2].text).group(1))


def test_thirty_seeds_give_keys_that_match_the_formulas_and_grade_their_sheets():
    setups = set()
    for seed in SEEDS:
        ex = archcalc.exercise("transfer", seed)
        setups.add(tuple(ex.network["freeze"]))
        key = {q.id: q.value for q in ex.questions}
        assert key == by_hand(ex.network, batch_of(ex)), seed
        assert all(q.arithmetic for q in ex.questions)
        for fmt in ("markdown", "csv"):
            full = archcalc.check("transfer", ex.sheet(fmt, filled=True))
            assert full.score == 1.0 and full.all_correct, full.to_text(brief=True)
            blank = archcalc.check("transfer", ex.sheet(fmt))
            assert blank.score == 0.0 and blank.graded == 3
    assert setups == {("C1",), ("C1", "C3"), ("C1", "C3", "F5"), ("C3",)}


def test_layer_lists_are_read_in_any_order_and_case():
    ex = next(e for e in map(lambda s: archcalc.exercise("transfer", s), SEEDS) if e.network["freeze"] == ["C1"])
    sheet = ex.sheet("csv", filled=True).replace('"C3, F5, F6"', "f6 and c3; F5")
    assert archcalc.check("transfer", sheet).cell("Q2", "layers").correct


def test_wrong_answers_get_the_usual_feedback():
    ex = archcalc.exercise("transfer", 0)           # C1 and C3 frozen: F5 and F6 train
    assert ex.network["freeze"] == ["C1", "C3"]
    hand = by_hand(ex.network, batch_of(ex))
    everything = archcalc.analyze(ex.network).totals.params
    forward = hand["Q3"] - batch_of(ex) * (2 * 100 * 10 + 288 * 100)   # seed 0: F5 is 288 → 100, F6 100 → 10
    sheet = ex.sheet("csv", filled=True)
    sheet = sheet.replace(f'"{hand["Q1"]:,}"', str(everything)).replace('"F5, F6"', '"C3, F6"')
    sheet = sheet.replace(f'"{hand["Q3"]:,}"', str(forward))
    grade = archcalc.check("transfer", sheet)
    assert grade.correct == 0
    assert grade.cell("Q1", "trainable").diagnosis == ("counted the frozen parameters too",)
    assert grade.cell("Q2", "layers").diagnosis == (
        "missing F5: its weights train", "C3 computes no weight gradient (frozen, or without weights)")
    assert grade.cell("Q3", "training").diagnosis == ("counted the forward pass only",)
    unknown = archcalc.check("transfer", ex.sheet("csv", filled=True).replace('"F5, F6"', "F5 X9"))
    assert unknown.cell("Q2", "layers").verdict == "unparseable"


def test_the_command_line_writes_and_grades_a_transfer_sheet(tmp_path):
    runner = CliRunner()
    written = runner.invoke(main, ["exercise", "transfer", "--seed", "5", "-o", str(tmp_path / "sheet.md")])
    assert written.exit_code == 0, written.output
    text = (tmp_path / "sheet.md").read_text()
    assert "exercise=transfer seed=5" in text and "frozen (pretrained and not updated)" in text
    graded = runner.invoke(main, ["check", "transfer", str(tmp_path / "sheet.md")])
    assert "0/3" in graded.output
