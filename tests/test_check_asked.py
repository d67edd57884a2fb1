"""What a sheet asks is a property of the exercise, not of what a student wrote: two sheets of one exercise
that differ only in rows or columns the exercise does not ask have the same denominator, and the rows
left out are named in the feedback.

LeNet-5's numbers are seed 000's Example 3.1 (C1 156 params, total 61,706).
"""

from __future__ import annotations

import csv
import io

from click.testing import CliRunner

import archcalc
from archcalc.cli import main

# output shape (W×H×D), params and MACs of each LeNet-5 layer (seed 000 Example 3.1; MACs by hand:
# C1 28·28·6·25 = 117,600, C3 10·10·16·150 = 240,000, C5 120·400 = 48,000, F6 84·120 = 10,080, F7 840)
LENET = {"input": ("32×32×1", 0, 0), "C1": ("28×28×6", 156, 117_600), "S2": ("14×14×6", 0, 0),
         "C3": ("10×10×16", 2416, 240_000), "S4": ("5×5×16", 0, 0), "C5": ("1×1×120", 48_120, 48_000),
         "F6": ("1×1×84", 10_164, 10_080), "F7": ("1×1×10", 850, 840)}


def filled(template: str, rows: dict[str, list[str]], total: list[str] | None = None,
           extra: list[list[str]] = ()) -> str:
    """A CSV template with its layer rows (and TOTAL row) filled in and `extra` rows added before the TOTAL row."""
    lines = template.splitlines()
    head = [line for line in lines if line.startswith("#")]
    table = list(csv.reader(io.StringIO("\n".join(line for line in lines if not line.startswith("#")))))
    out = [table[0]]
    for row in table[1:]:
        if row[0] == "TOTAL":
            out += [list(r) for r in extra]
            out.append(["TOTAL", *(total or row[1:])])
        else:
            out.append([row[0], *rows.get(row[0], row[1:])])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(out)
    return "\n".join(head) + "\n" + buffer.getvalue()


def right_rows(*names: str) -> dict[str, list[str]]:
    return {name: [LENET[name][0], str(LENET[name][1])] for name in names or LENET}


def test_extra_rows_of_a_template_sheet_are_named_and_do_not_change_the_denominator():
    template = archcalc.template("lenet5", "output,params")
    plain = archcalc.check("lenet5", filled(template, right_rows("C1", "C3")))
    noisy = archcalc.check("lenet5", filled(template, right_rows("C1", "C3"), extra=[
        ["C9", "1×1×10", "850"],                 # a label that is no layer, where no layer is left to pair with
        ["C1", "28×28×6", "999"],                # a second row for C1
        ["", "1×1×1", "7"]]))                    # no label at all
    assert (noisy.graded, noisy.correct, noisy.score) == (plain.graded, plain.correct, plain.score) == (17, 4, 4 / 17)
    assert noisy.cell("C1", "params").correct                                   # the first C1 row is graded
    assert "row 9 'C9' is no layer of lenet5: not graded" in noisy.notes
    assert "row 10 'C1' is a second row for C1 (row 2 is graded): not graded" in noisy.notes
    assert "row 11 has no layer name: not graded" in noisy.notes
    from archcalc.grading.gradebook import Entry, feedback
    assert "row 9 'C9' is no layer of lenet5" in feedback(Entry("Ada", "ada.csv", noisy))    # the student reads it


def test_a_template_with_a_total_row_asks_it_whether_it_is_written_or_deleted():
    template = archcalc.template("lenet5", "output,params")
    written = archcalc.check("lenet5", filled(template, right_rows(), ["—", "61706"]))
    blank = archcalc.check("lenet5", filled(template, right_rows()))
    deleted = archcalc.check("lenet5", filled(template, right_rows()).replace("TOTAL,—,\n", ""))
    assert written.graded == blank.graded == deleted.graded == 8 * 2 + 1
    assert written.all_correct and written.cell("TOTAL", "params").expected == "61,706"
    assert blank.cell("TOTAL", "params").verdict == deleted.cell("TOTAL", "params").verdict == "unanswered"
    assert deleted.cell("TOTAL", "params").note == "no TOTAL row"


def test_a_total_where_the_template_asks_none_is_named_and_not_graded():
    template = archcalc.template("lenet5", "output,params", total=False)
    assert " total=no " in template.splitlines()[0]
    without = archcalc.check("lenet5", filled(template, right_rows()))
    added = archcalc.check("lenet5", filled(template, right_rows()) + "TOTAL,,60000\n")
    assert without.graded == added.graded == 8 * 2 and added.all_correct
    assert "row 9 'TOTAL' is a total, which this sheet does not ask: not graded" in added.notes
    # the instructor's --total contradicts the sheet: the sheet wins, with a warning, unless overridden
    asked = archcalc.check("lenet5", filled(template, right_rows()) + "TOTAL,,60000\n", total=True)
    assert asked.graded == 16 and "total=no" in asked.warnings[0]
    forced = archcalc.check("lenet5", filled(template, right_rows()) + "TOTAL,,60000\n", total=True, override=True)
    assert forced.graded == 17 and forced.cell("TOTAL", "params").verdict == "wrong"


def test_a_sheet_without_the_line_asks_a_total_only_when_the_instructor_does(tmp_path, monkeypatch):
    rows = "layer,params\n" + "".join(f"{n},{v[1]}\n" for n, v in LENET.items() if n != "input")
    without, written = archcalc.check("lenet5", rows), archcalc.check("lenet5", rows + "Total,61706\n")
    assert without.graded == written.graded == 7 and written.all_correct
    assert "row 8 'Total' is a total, which this sheet does not ask: not graded" in written.notes
    asked_without = archcalc.check("lenet5", rows, total=True)
    asked_written = archcalc.check("lenet5", rows + "Total,61706\n", total=True)
    assert asked_without.graded == asked_written.graded == 8 and asked_written.all_correct
    assert asked_without.cell("TOTAL", "params").verdict == "unanswered"
    # the same on the command line, and for a class: every sheet has the same denominator
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text(rows)
    (tmp_path / "b.csv").write_text(rows + "Total,61706\n")
    book = archcalc.check_many("lenet5", ["a.csv", "b.csv"], total=True)
    assert [e.grade.graded for e in book.entries] == [8, 8]
    runner = CliRunner()
    result = runner.invoke(main, ["check", "lenet5", "b.csv", "--total"])
    assert result.exit_code == 0 and "Score: 8/8 cells correct" in result.output
    result = runner.invoke(main, ["check", "lenet5", "b.csv"])
    assert result.exit_code == 0 and "Score: 7/7 cells correct" in result.output
    assert "note: row 8 'Total' is a total, which this sheet does not ask: not graded" in result.output


def test_the_input_and_view_rows_of_a_sheet_without_the_line_are_named_and_not_graded():
    rows = "".join(f"{n},{v[0]},{v[1]}\n" for n, v in LENET.items() if n != "input")
    bare = archcalc.check("lenet5", "layer,output,params\n" + rows)
    with_input = archcalc.check("lenet5", "layer,output,params\ninput,32×32×1,0\n" + rows)
    assert bare.graded == with_input.graded == 7 * 2 and with_input.all_correct
    assert "row 1 'input' is the input, which this sheet does not ask: not graded" in with_input.notes


def test_the_columns_a_template_asks_are_asked_whatever_columns_the_sheet_has():
    template = archcalc.template("lenet5", "output,params")
    assert " columns=output,params " in template.splitlines()[0]
    full = filled(template, right_rows(), ["—", "61706"])
    dropped = "\n".join(line.rsplit(",", 1)[0] if not line.startswith("#") else line for line in full.splitlines())
    added = "\n".join(line + ("," + ("MACs" if line.startswith("layer,") else "0")) if not line.startswith("#")
                      else line for line in full.splitlines())
    graded = [archcalc.check("lenet5", text) for text in (full, dropped, added)]
    assert [g.graded for g in graded] == [17, 17, 17]
    assert graded[1].cell("C1", "params").verdict == "unanswered" and graded[1].cell("C1", "params").note == \
        "no column for this"
    assert graded[2].all_correct and "column 'MACs' is not asked by this sheet: not graded" in graded[2].notes


def test_a_line_written_before_columns_and_total_asks_the_sheets_columns_and_a_total():
    line = "# archcalc sheet: architecture=lenet5 input=1x32x32 bias=yes ops=macs memory=elements units=si"
    rows = "".join(f"{n},{v[1]}\n" for n, v in LENET.items())
    grade = archcalc.check("lenet5", f"{line}\nlayer,params\n{rows}")
    assert grade.graded == 8 + 1 and grade.cell("TOTAL", "params").verdict == "unanswered"


def test_an_exercise_sheet_names_rows_that_are_no_question():
    ex = archcalc.exercise("lenet-like", seed=3)
    sheet = ex.sheet("csv")
    grade = archcalc.check("lenet-like", sheet)
    noisy = archcalc.check("lenet-like", sheet + "Q10,5\nQ1,1×1×1\n")
    assert grade.graded == noisy.graded == len(ex.questions)
    assert any(note.endswith("'Q10' is no question of this exercise: not graded") for note in noisy.notes)
    assert any("is a second row for Q1" in note for note in noisy.notes)
