"""Scores an instructor can trust, sheets that say what they ask, a class at once, and the displays.

LeNet-5 values are the lecture's (seed 000, Example 3.1): shapes W×H×D, params with biases, total
61,706; MACs by the formula H·W·K·(D·F·F) as in tests/sheets/lenet5-macs.csv (total 416,520).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main

# layer: (output W×H×D, params with biases, biases, MACs) — seed 000 Example 3.1 and the MACs formula
LENET = {
    "input": ("32×32×1", 156 - 156, 0, 0), "C1": ("28×28×6", 156, 6, 117_600), "S2": ("14×14×6", 0, 0, 0),
    "C3": ("10×10×16", 2_416, 16, 240_000), "S4": ("5×5×16", 0, 0, 0), "C5": ("1×1×120", 48_120, 120, 48_000),
    "F6": ("1×1×84", 10_164, 84, 10_080), "F7": ("1×1×10", 850, 10, 840),
}


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def fill(template_text: str, values: dict[str, list[str]], total: list[str] | None = None) -> str:
    """The CSV template with each layer row's blank cells replaced by `values[layer]` (header lines kept)."""
    lines = template_text.splitlines()
    head = [line for line in lines if line.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(line for line in lines if not line.startswith("#")))))
    for row in rows[1:]:
        if row[0] in values:
            row[1:] = values[row[0]]
        elif row[0] == "TOTAL" and total:
            row[1:] = total
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return "\n".join(head) + "\n" + buffer.getvalue()


def test_the_lazy_one_cell_sheet_scores_1_of_17():
    sheet = fill(archcalc.template("lenet5"), {"C1": ["", "156"]})
    grade = archcalc.check("lenet5", sheet)
    assert (grade.correct, grade.graded, grade.answered) == (1, 17, 1)      # 8 layers × (output, params) + TOTAL
    assert grade.score == grade.completeness == 1 / 17 and not grade.all_correct
    result = run("check", "lenet5", "-", input=sheet)
    assert result.exit_code == 1 and "Score: 1/17 cells correct (5.9%)" in result.output
    assert "completeness 1/17 (5.9%)" in result.output


def test_three_of_eight_rows_score_below_a_half():
    rows = {name: [LENET[name][0], str(LENET[name][1])] for name in ("input", "C1", "S2")}
    grade = archcalc.check("lenet5", fill(archcalc.template("lenet5"), rows))
    assert grade.correct == 6 and grade.score == 6 / 17 < 0.5
    deleted = "layer,output,params\n" + "".join(f"{n},{v[0]},{v[1]}\n" for n, v in rows.items())
    assert archcalc.check("lenet5", deleted).score < 0.5                   # rows deleted count as not answered


def flops_sheet(**options) -> str:
    template = archcalc.template("lenet5", "params,ops", conventions={"bias": False, "ops": "flops"}, **options)
    assert "params (without biases)" in template and "FLOPs" in template
    # params without biases, FLOPs = 2 × MACs; totals 61,706 − 236 biases = 61,470 and 2 × 416,520 = 833,040
    values = {name: [str(params - biases), str(2 * macs)] for name, (_, params, biases, macs) in LENET.items()}
    return fill(template, values, ["61470", "833040"])


def test_the_flops_no_bias_template_filled_correctly_scores_100_without_options(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text(flops_sheet())
    grade = archcalc.check("lenet5", path)
    assert grade.all_correct and grade.score == 1.0 and grade.graded == 8 * 2 + 2 and not grade.warnings
    result = run("check", "lenet5", str(path))
    assert result.exit_code == 0 and "warning" not in result.output


def test_a_contradicting_option_warns_in_one_line_and_the_sheet_wins(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text(flops_sheet())
    result = CliRunner().invoke(main, ["check", "lenet5", str(path), "--ops", "macs"])
    warnings = [line for line in result.output.splitlines() if line.startswith("archcalc: warning:")]
    assert len(warnings) == 1 and "ops=flops" in warnings[0] and "ops=macs" in warnings[0]
    assert result.exit_code == 0
    overridden = archcalc.check("lenet5", path, {"ops": "macs"}, override=True)
    assert overridden.conventions.ops == "macs" and overridden.wrong == 6     # the 5 layers with MACs + TOTAL
    assert all("counted FLOPs" in c.diagnosis[0] for c in overridden.cells if c.verdict == "wrong")


def test_the_input_size_of_the_template_is_graded():
    template = archcalc.template("lenet5", "output", input=[1, 36, 32], total=False)
    assert "input=1x36x32" in template
    # by hand, W×H×D: 32×36 → conv 5 → 28×32 → pool 2 → 14×16 → conv 5 → 10×12 → pool 2 → 5×6 → conv 5 → 1×2
    shapes = {"input": "32×36×1", "C1": "28×32×6", "S2": "14×16×6", "C3": "10×12×16", "S4": "5×6×16",
              "C5": "1×2×120", "F6": "1×2×84", "F7": "1×2×10"}
    grade = archcalc.check("lenet5", fill(template, {k: [v] for k, v in shapes.items()}))
    assert grade.all_correct and grade.graded == 8, grade.to_text(brief=True)


def test_conventions_in_a_markdown_sheet_and_its_student_line():
    template = archcalc.template("lenet5", "params", conventions={"bias": False}, format="markdown")
    assert template.startswith("<!-- archcalc sheet: architecture=lenet5 ")
    filled = re.sub(r"\| C1 +\| +\|", "| C1 | 150 |", template.replace("student:", "student: Ada Lovelace"))
    grade = archcalc.check("lenet5", filled)
    assert grade.student == "Ada Lovelace" and grade.cell("C1", "params").correct     # 5·5·6 weights, no bias


def test_weights_and_partial_credit():
    sheet = "layer,output,params\nC1,28×28×6,156\nC3,10×10×16,2400\n"     # C3: bias forgotten
    plain = archcalc.check("lenet5", sheet)
    layers = 7                                                                     # all but the input
    assert plain.score == 3 / (2 * layers)
    weighted = archcalc.check("lenet5", sheet, weights="params=2,shape=1")
    assert weighted.score == (1 + 2 + 1) / (3 * layers)
    partial = archcalc.check("lenet5", sheet, partial=0.5)
    assert partial.score == 3.5 / (2 * layers)
    with pytest.raises(archcalc.ArchcalcError, match="weights"):
        archcalc.check("lenet5", sheet, weights="params=lots")
    with pytest.raises(archcalc.ArchcalcError, match="partial"):
        archcalc.check("lenet5", sheet, partial=2)


def test_an_error_carried_forward_gets_full_partial_credit():
    # conv2 of AlexNet written 31×31×256 (27×27×256 is right); maxpool2 3×3/2 of 31 gives 15: carried forward
    records = [{"layer": "conv2", "output": "31x31x256"}, {"layer": "maxpool2", "output": "15x15x256"}]
    grade = archcalc.check("alexnet-lecture", records, partial=0.25)
    assert grade.cell("maxpool2", "output").credit(0.25) == 1.0
    assert grade.cell("conv2", "output").credit(0.25) == 0.0          # no known mistake explains 31


def test_grade_and_gradebook_display_as_text_and_html(tmp_path):
    grade = archcalc.check("lenet5", "layer,params\nC1,156\nC3,2400\n")
    assert str(grade) == grade.to_text() and "✗ not answered" in str(grade)
    html = grade._repr_html_()
    assert html.count("background:#f8d7da") == 1 and html.count("background:#fff3cd") == grade.unanswered
    (tmp_path / "a.csv").write_text("layer,params\nC1,156\n")
    (tmp_path / "b.csv").write_bytes(b"\0\1")
    book = archcalc.check_many("lenet5", tmp_path)
    assert str(book).splitlines()[2].split()[:3] == ["student", "sheet", "score"]
    assert "<table>" in book._repr_html_() and book._repr_html_().count("background:#f8d7da") == 2


# the known mistakes planted in generated sheets: (student, changes {layer: (column index, value)}, diagnosis)
MISTAKES = [
    ("bias", {"C3": (1, "2400")}, "forgot the bias"),
    ("depth", {"C5": (1, "3120")}, "forgot the input depth"),
    ("plus-one", {"C1": (0, "27×27×6")}, "forgot the + 1"),
    ("carried", {"C1": (0, "27×27×6"), "S2": (0, "13×13×6")}, "carried forward"),
    ("flops", {"C3": (2, "480000")}, "counted FLOPs"),
    ("k1024", {"C5": (1, "47.0K")}, "used K = 1024"),
    ("total", {}, "does not equal the sum of your own rows"),
]


def class_folder(folder: Path) -> dict[str, str]:
    """≥ 20 sheets from the template: right ones, one per known mistake, lazy ones, garbage and an empty file."""
    template = archcalc.template("lenet5", "output,params,ops")
    right = {n: [v[0], str(v[1]), str(v[3])] for n, v in LENET.items()}
    planted = {}
    for number in range(8):
        (folder / f"right{number}.csv").write_text(fill(template, right, ["—", "61706", "416520"]).replace(
            "# student:", f"# student: Student {number}"))
    for student, changes, diagnosis in MISTAKES:
        rows = {n: list(v) for n, v in right.items()}
        for layer, (index, value) in changes.items():
            rows[layer][index] = value
        total = ["—", "60000" if student == "total" else "61706", "416520"]
        (folder / f"{student}.csv").write_text(fill(template, rows, total))
        planted[student] = diagnosis
    for number in range(3):
        (folder / f"lazy{number}.csv").write_text(fill(template, {"C1": ["28×28×6", "", ""]}))
    (folder / "garbage.csv").write_bytes(bytes(range(256)))
    (folder / "empty.md").write_text("")
    return planted


def test_a_class_folder_gives_one_gradebook_row_each_and_diagnosed_feedback(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    planted = class_folder(folder)
    files = sorted(folder.iterdir())
    assert len(files) >= 20
    result = run("check", "lenet5", str(folder), "--gradebook", str(tmp_path / "g.csv"),
                 "--feedback", str(tmp_path / "fb"))
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader((tmp_path / "g.csv").open(encoding="utf-8-sig")))   # with a BOM, for Excel
    assert len(rows) == len(files)
    by_student = {row["student"]: row for row in rows}
    assert {by_student[f"Student {n}"]["score"] for n in range(8)} == {"100.0"}
    assert by_student["garbage"]["error"] and by_student["empty"]["error"]
    assert by_student["lazy0"]["completeness"] == f"{100 / 26:.1f}"           # 1 of 8 × 3 cells + 2 of TOTAL
    assert by_student["bias"]["forgot the bias"] == "1"
    assert all(float(row["score"]) <= 100 for row in rows if not row["error"])
    assert all(row["score"] == "" and row["error"].startswith("not graded: ") for row in rows if row["error"])
    feedback = {path.stem: path.read_text() for path in (tmp_path / "fb").iterdir()}
    assert len(feedback) == len(files)
    for student, diagnosis in planted.items():
        assert diagnosis in feedback[student], (student, feedback[student])
    assert "2,416" in feedback["bias"] and "6 × 5 × 5 × 16 + 16 = 2,416" in feedback["bias"]   # right value, arithmetic
    assert "could not be graded" in feedback["garbage"]
    assert "Every cell is correct." in feedback["Student_0"]


def test_sheets_as_files_and_globs_and_check_many(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.csv").write_text("layer,params\nC1,156\n")
    result = run("check", "lenet5", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))
    assert result.exit_code == 1 and "2 sheets" in result.output
    book = archcalc.check_many("lenet5", [str(tmp_path / "*.csv")])
    assert [e.student for e in book.entries] == ["a", "b"]
    with pytest.raises(archcalc.ArchcalcError, match="no sheet matches"):
        archcalc.check_many("lenet5", str(tmp_path / "*.tsv"))
    with pytest.raises(archcalc.ArchcalcError):
        archcalc.check_many("no-such-net", tmp_path)


KERAS_SHEET = (Path(__file__).parent / "sheets" / "vgg16-keras.md").read_text()


def test_a_mistyped_row_label_is_graded_as_its_layer_and_the_asked_cells_stay_the_same():
    right = archcalc.check("vgg16", KERAS_SHEET, total=True)
    typo = archcalc.check("vgg16", KERAS_SHEET.replace("| fc2 (Dense)", "| fcc2 (Dense)"), total=True)
    assert (typo.graded, typo.score) == (right.graded, right.score) == (43, 1.0)   # 21 layers × 2 + TOTAL
    assert typo.cell("fc2", "params").correct
    assert "row 22 is labelled 'fcc2 (Dense)', which is no layer of vgg16: graded as fc2 (its position)" in typo.notes
    from archcalc.grading.gradebook import Entry, feedback
    assert "graded as fc2" in feedback(Entry("Ada", "ada.md", typo))               # said in the student's feedback
    # two labels in a row that are no layer's name: by their position between fc1's neighbours
    two = archcalc.check("vgg16", KERAS_SHEET.replace("| fc2 (Dense)", "| dense two").replace("| fc1 (Dense)",
                                                                                             "| dense one"), total=True)
    assert (two.graded, two.score) == (43, 1.0) and two.cell("fc1", "params").correct


def test_a_mistyped_label_in_a_partial_table_is_matched_only_where_it_stands():
    # C3x stands right after C1, where S2 is the next layer: its closest name C3 is not where it stands
    apart = archcalc.check("lenet5", "layer,params\nC1,156\nC3x,2416\n")
    assert "row 2 'C3x' is no layer of lenet5 (did you mean 'C3'?): not graded" in apart.notes
    assert apart.graded == 7 and apart.cell("C3", "params").verdict == "unanswered"
    # right after C1 and before S4, the only layers without a row are S2 and C3: C3x is C3 (the last of the gap)
    near = archcalc.check("lenet5", "layer,params\nC1,156\nC3x,2416\nS4,0\n")
    assert near.cell("C3", "params").correct and near.graded == 7


def test_a_step_right_on_the_students_own_wrong_input_is_not_also_called_a_slip():
    # C1 27×27×6 forgets the + 1; S2 13×13×6 pools that 27 correctly (2×2/2: 13), which is also what
    # forgetting the + 1 in S2 itself would give ((28 − 2)/2 = 13): the feedback says only the first
    grade = archcalc.check("lenet5", [{"layer": "C1", "output": "27x27x6"}, {"layer": "S2", "output": "13x13x6"}])
    assert grade.cell("C1", "output").diagnosis == ("forgot the + 1 in (W − F + 2P)/S + 1",)
    (only,) = grade.cell("S2", "output").diagnosis
    assert "this step is right, the error is carried forward" in only
