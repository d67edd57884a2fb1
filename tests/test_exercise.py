"""`archcalc exercise`: seeded homework whose key grades its own sheets.

The key is checked against the lecture formulas written out here, independently of the analysis:
output size floor((W − F + 2P)/S) + 1, conv params F·F·D·K + K, MACs H·W·K·(D·F·F), memory
4 B per float32 element, receptive field r += (F − 1)·jump.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main

SEEDS = range(30)


def by_hand(network: dict) -> dict[str, object]:
    """Every answer of a lenet-like exercise from the lecture formulas."""
    channels, size, _ = network["input"]
    c1, _, c3, _, _, f5, _ = network["layers"]
    out = lambda n, f, s, p: (n - f + 2 * p) // s + 1  # noqa: E731
    s1 = out(size, c1["kernel_size"], c1["stride"], c1["padding"])
    s2 = s1 // 2
    s3 = out(s2, c3["kernel_size"], 1, c3["padding"])
    s4 = s3 // 2
    k1, k3, f3 = c1["out_channels"], c3["out_channels"], c3["kernel_size"]
    r, jump = 1, 1
    for f, s in ((c1["kernel_size"], c1["stride"]), (2, 2), (f3, 1), (2, 2)):
        r, jump = r + (f - 1) * jump, jump * s
    return {"Q1": f"{k1}×{s1}×{s1}", "Q2": f"{k3}×{s4}×{s4}", "Q3": f3 * f3 * k1 * k3 + k3,
            "Q4": k3 * s4 * s4 * f5["out_features"], "Q5": s3 * s3 * k3 * k1 * f3 * f3, "Q6": k1 * s1 * s1 * 4, "Q7": r}


def test_thirty_seeds_give_thirty_distinct_valid_exercises_whose_keys_grade_their_sheets():
    seen = set()
    for seed in SEEDS:
        ex = archcalc.exercise("lenet-like", seed)
        report = archcalc.analyze(ex.network, strict=False)
        assert all(min(r.output_shape) >= 1 for r in report.layers)
        c1 = ex.network["layers"][0]
        assert (ex.network["input"][1] - c1["kernel_size"] + 2 * c1["padding"]) % c1["stride"]   # does not tile
        key = {q.id: q.value for q in ex.questions}
        for qid, value in by_hand(ex.network).items():
            shown = "×".join(map(str, key[qid])) if isinstance(key[qid], tuple) else key[qid]
            assert shown == value, (seed, qid)
        assert all(q.arithmetic for q in ex.questions)
        seen.add(tuple(q.answer for q in ex.questions))
        for fmt in ("markdown", "csv"):
            full = archcalc.check("lenet-like", ex.sheet(fmt, filled=True))
            assert full.score == 1.0 and full.all_correct, full.to_text(brief=True)
            blank = archcalc.check("lenet-like", ex.sheet(fmt))
            assert blank.score == blank.completeness == 0.0 and blank.graded == len(ex.questions)
    assert len(seen) == len(SEEDS)


def test_the_same_seed_gives_the_same_exercise():
    assert archcalc.exercise("lenet-like", 11) == archcalc.exercise("lenet-like", 11)
    assert archcalc.exercise("lenet-like", 11).sheet("latex") == archcalc.exercise("lenet-like", 11).sheet("latex")
    assert archcalc.exercise("lenet-like", 11) != archcalc.exercise("lenet-like", 12)


def test_the_bottleneck_and_the_design_questions_by_hand():
    for seed in SEEDS:
        questions = {q.id: q for q in archcalc.exercise("lenet-like", seed).questions}
        depth, narrow, *_ = map(int, re.findall(r"to (\d+) maps", questions["Q8"].text))
        plain = 9 * depth * depth + depth
        slim = (depth * narrow + narrow) + (9 * narrow * narrow + narrow) + (narrow * depth + depth)
        assert questions["Q8"].value == plain - slim
        c, middle, _ = map(int, re.findall(r"to (\d+) maps", questions["Q9"].text))
        a, b = 25 * c * c + c, (9 * c * middle + middle) + (9 * middle * c + c)
        assert questions["Q9"].value == ("A" if a < b else "B")


def test_wrong_answers_are_diagnosed():
    ex = archcalc.exercise("lenet-like", 3)
    q = {q.id: q for q in ex.questions}
    sheet = ex.sheet("csv", filled=True)
    ceil = q["Q1"].value[0], q["Q1"].value[1] + 1, q["Q1"].value[2] + 1
    sheet = sheet.replace(q["Q1"].answer, "×".join(map(str, ceil)), 1)
    c3 = ex.network["layers"][2]["out_channels"]
    sheet = sheet.replace(f'"{q["Q3"].answer}"', str(q["Q3"].value - c3))                  # bias forgotten
    grade = archcalc.check("lenet-like", sheet)
    assert grade.cell("Q1", "output").diagnosis[0].startswith("rounded up (ceil)")
    assert grade.cell("Q3", "params").diagnosis[0].startswith("forgot the bias")
    assert grade.correct == len(ex.questions) - 2


def test_roster_writes_a_sheet_per_student_and_one_key_and_the_folder_grades(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAda,a@x\nAlan,b@x\nGrace,c@x\n")
    result = CliRunner().invoke(main, ["exercise", "lenet-like", "--students", str(roster), "-o",
                                       str(tmp_path / "hw"), "--seed", "5"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "hw").iterdir())
    assert names == ["Ada.md", "Alan.md", "Grace.md", "key.md"]
    key = (tmp_path / "hw" / "key.md").read_text()
    assert key.count("## ") == 3 and "Ada" in key
    sheets = [(tmp_path / "hw" / f"{n}.md").read_text() for n in ("Ada", "Alan", "Grace")]
    assert len({s.split("student:")[0] for s in sheets}) == 3                          # each its own numbers
    book = archcalc.check_many("lenet-like", [str(tmp_path / "hw" / "A*.md"), str(tmp_path / "hw" / "G*.md")])
    assert [e.student for e in book.entries] == ["Ada", "Alan", "Grace"]
    assert all(e.grade.completeness == 0 for e in book.entries)


def test_exercise_formats_and_errors():
    runner = CliRunner()
    latex = runner.invoke(main, ["exercise", "lenet-like", "--seed", "4", "--format", "latex"]).output
    assert latex.startswith("\\documentclass") and "\\end{document}" in latex
    key = runner.invoke(main, ["exercise", "lenet-like", "--seed", "4", "--key", "--format", "csv"]).output
    rows = list(csv.DictReader(io.StringIO(key)))
    assert [r["question"] for r in rows] == [f"Q{n}" for n in range(1, 10)]
    bad = runner.invoke(main, ["exercise", "resnet-like"])
    assert bad.exit_code == 2 and "unknown exercise 'resnet-like'" in bad.output
    with pytest.raises(archcalc.ArchcalcError, match="not a sheet of the exercise"):
        archcalc.check("lenet-like", "layer,params\nC1,156\n")


def with_answer(ex, qid: str, answer: str) -> str:
    return "\n".join(line[:-2] + f"{answer} |" if line.startswith(f"| {qid} ") else line
                     for line in ex.sheet("markdown").splitlines())


def test_a_receptive_field_written_as_the_square_it_covers_is_read_as_its_side():
    ex = archcalc.exercise("lenet-like", 3)
    side = next(q.value for q in ex.questions if q.id == "Q7")
    for answer, verdict in [(f"{side}×{side}", "correct"), (f"{side} x {side}", "correct"), (f"{side} px", "correct"),
                            (str(side), "correct"), (f"{side}×{side + 2}", "wrong"), (str(side * side), "wrong")]:
        cell = archcalc.check("lenet-like", with_answer(ex, "Q7", answer)).cell("Q7", "receptive field")
        assert cell.verdict == verdict, answer


@pytest.mark.parametrize("seed", ["²", "1" * 5000, "-3", "4.5"])
def test_a_roster_seed_that_is_not_a_small_integer_is_a_one_line_error(tmp_path, seed):
    roster = tmp_path / "roster.csv"
    roster.write_text(f"name,seed\nAda,{seed}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["exercise", "lenet-like", "--students", str(roster), "-o", str(tmp_path / "hw")])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "line 2: the seed" in result.output, \
        result.output


def test_roster_names_are_kept_whole_and_quoted_for_each_format(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text('name\n"O\'Brien ""Bob"""\n=cmd|\' /C calc\'!A0\n<img src=x onerror=alert(1)>\nkey\n',
                      encoding="utf-8")
    for fmt, extension in (("markdown", "md"), ("csv", "csv")):
        out = tmp_path / fmt
        result = CliRunner().invoke(main, ["exercise", "lenet-like", "--students", str(roster), "-o", str(out),
                                           "--format", fmt])
        assert result.exit_code == 0 and "4 sheets and key" in result.output, result.output
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{extension}" for n in (
            "O_Brien_Bob", "cmd_C_calc_A0", "img_src_x_onerror_alert_1", "key_", "key"))
        book = archcalc.check_many("lenet-like", out / f"O_Brien_Bob.{extension}")
        assert book.entries[0].student == "O'Brien \"Bob\""
    key = (tmp_path / "csv" / "key.csv").read_text()
    assert not [row[0] for row in csv.reader(io.StringIO(key)) if row[0].startswith(("=", "+", "-", "@"))]
    assert "'=cmd|' /C calc'!A0" in key
    assert not re.search(r"(?<!\\)<img", (tmp_path / "markdown" / "key.md").read_text())
    one = tmp_path / "one.csv"
    one.write_text("name\nAda\n")
    single = CliRunner().invoke(main, ["exercise", "lenet-like", "--students", str(one), "-o", str(tmp_path / "o")])
    assert "1 sheet and key.md written" in single.output
