"""`archcalc check` and `archcalc template` on the command line, and sheets that cannot be graded."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main

SHEETS = Path(__file__).parent / "sheets"


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_exit_0_when_all_correct():
    result = run("check", "lenet5", str(SHEETS / "lenet5-lecture.md"), "--total")
    assert result.exit_code == 0, result.output
    assert "Score: 22/22 cells correct (100.0%)" in result.output


def test_exit_1_when_some_are_wrong_with_expected_value_and_arithmetic():
    result = run("check", "lenet5", str(SHEETS / "lenet5-mistakes.md"))
    assert result.exit_code == 1
    assert "expected 2,416 — forgot the bias: 2,400 weights + 16 biases" in result.output
    assert "arithmetic: 6 × 5 × 5 × 16 + 16 = 2,416" in result.output


def test_cs231n_conventions_on_the_command_line():
    result = run("check", "vgg16", str(SHEETS / "vgg16-cs231n.tsv"), "--no-bias")
    assert result.exit_code == 0, result.output
    assert run("check", "vgg16", str(SHEETS / "vgg16-cs231n.tsv")).exit_code == 1   # biases counted: wrong


def test_json_and_markdown_formats():
    data = json.loads(run("check", "lenet5", str(SHEETS / "lenet5-mistakes.md"), "--total", "--format",
                          "json").output)
    assert (data["correct"], data["wrong"], data["unparseable"]) == (12, 3, 0)
    markdown = run("check", "lenet5", str(SHEETS / "lenet5-mistakes.md"), "--format", "markdown").output
    assert markdown.startswith("**lenet5** — ") and "| C5 | params | 3,120 | ✗ wrong | 48,120 |" in markdown


def test_markdown_shows_an_answer_with_markup_escaped_once(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("layer,output shape (W×H×D),params\nC1,32×32×1,1_2<b>\n")
    markdown = run("check", "lenet5", str(sheet), "--format", "markdown").output
    assert "| C1 | params | 1\\_2\\<b\\> |" in markdown


def test_brief_lists_only_what_is_not_correct():
    output = run("check", "lenet5", str(SHEETS / "lenet5-mistakes.md"), "--brief").output
    assert "C3" in output and "S2" not in output


# every params cell of LeNet-5, as seed 000 Example 3.1 prints them
FULL = "layer,params\ninput,0\nC1,156\nS2,0\nC3,2416\nS4,0\nC5,48120\nF6,10164\nF7,850\n"


def test_stdin():
    result = run("check", "lenet5", "-", input=FULL)
    assert result.exit_code == 0, result.output


def test_stdin_is_the_sheet_itself_even_when_it_reads_like_a_file_name():
    # a one-line stdin naming a real sheet is not followed to that file
    result = run("check", "lenet5", "-", input=str(SHEETS / "lenet5-lecture.md") + "\n")
    _error(result, "<answers>")


def test_stdin_that_is_not_utf8_is_refused():
    _error(run("check", "lenet5", "-", input=b"layer,params\nC1,\xff\xfe156\n"), "<answers>", "UTF-8")


def test_template_to_a_missing_folder_is_a_one_line_error():
    _error(run("template", "lenet5", "-o", "/nonexistent/folder/sheet.csv"), "cannot write the sheet")


@pytest.mark.parametrize("args", [["run", "lenet5", "--dtype", "float16"], ["template", "lenet5", "--given", "x", "-x"],
                                  ["check", "lenet5", "x.csv", "--shapes", "sideways"], ["nope"]])
def test_a_bad_command_line_is_one_error_line_without_the_usage_block(args):
    result = run(*args)
    assert result.exit_code == 2 and result.output.startswith("Error: ") and result.output.count("\n") == 1, \
        result.output


def test_an_unreadable_cell_gives_exit_1_not_an_error():
    result = run("check", "lenet5", "-", input="layer,params\nC1,lots\n")
    assert result.exit_code == 1 and "unparseable" in result.output


def _error(result, *words):
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line and line.startswith("archcalc: error:")
    for word in words:
        assert word in line
    return line


def test_garbage_sheets_are_one_line_errors(tmp_path):
    cases = {
        "empty.csv": (b"", ["the sheet is empty"]),
        "blank.md": (b"  \n\n", ["the sheet is empty"]),
        "binary.csv": (bytes(range(256)) * 4, ["binary data"]),
        "latin1.csv": ("layer,params\nC1,156 \u00e9\n".encode("latin-1"), ["not UTF-8"]),
        "columns.csv": (b"colour,taste\nred,sweet\n", ["no column to grade", "'colour'"]),
        "names.csv": (b"layer,params\nconv1,156\nconv2,10\n", ["none of the sheet's layer names", "C1"]),
        "json.json": (b'{"rows": [1, 2', ["invalid JSON"]),
        "shape.json": (b'{"rows": [1, 2]}', ["list of rows"]),
        "header.csv": (b"layer,params\n", ["header but no rows"]),
        "count.csv": (b"params\n1\n2\n", ["2 rows and no layer names", "add a layer column"]),
        "duplicate.csv": (b"layer,params,weights\nC1,1,2\n", ["both read as params"]),
    }
    for name, (data, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        _error(run("check", "lenet5", str(path)), name, *words)


def test_a_blank_sheet_scores_0_with_completeness_0():
    result = run("check", "lenet5", "-", input="layer,params\nC1,\nC3,\n")
    assert result.exit_code == 1
    # C1, C3 blank; S2, S4, C5, F6, F7 missing; the input row is not asked of a sheet without it
    assert "Score: 0/7 cells correct (0.0%): 0 wrong, 7 not answered" in result.output
    assert "completeness 0/7 (0.0%)" in result.output


def test_missing_sheet_and_unknown_architecture():
    _error(run("check", "lenet5", "no/such/file.csv"), "no/such/file.csv")
    _error(run("check", "no-such-net", str(SHEETS / "lenet5-lecture.md")))


def test_a_million_rows_are_refused_fast(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("layer,params\n" + "C1,156\n" * 10**6)
    _error(run("check", "lenet5", str(path)), "refused")
    text = "layer,params\n" + "C1,156\n" * 10**6
    with pytest.raises(archcalc.ArchcalcError, match="refused"):
        archcalc.check("lenet5", text)
    with pytest.raises(archcalc.ArchcalcError, match="at most 5,000"):
        archcalc.check("lenet5", [{"layer": "C1", "params": 156}] * 10**6)


def test_many_rows_under_the_limit_are_read_and_a_repeated_row_is_graded_once():
    text = "layer,params\n" + "C1,156\n" * 4000
    result = archcalc.check("lenet5", text)
    assert result.correct == 1 and result.unanswered == 6 and result.graded == 7   # no rows for 6 layers
    assert "row 2 'C1' is a second row for C1 (row 1 is graded): not graded" in result.notes
    assert "3979 more rows are not graded" in result.notes and len(result.notes) == 22   # 20 by name, the rest


@pytest.mark.parametrize(("path", "words"), [("/dev/null", "the sheet is empty")])
def test_the_command_line_reads_answers_as_a_file_whatever_kind(path, words):
    _error(run("check", "lenet5", path), path, *words)


def test_answers_from_a_pipe_are_read(tmp_path):
    fifo = tmp_path / "answers.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(FULL))
    writer.start()
    result = run("check", "lenet5", str(fifo))
    writer.join()
    assert result.exit_code == 0 and "C1" in result.output


def test_a_misaligned_csv_row_is_unparseable_with_a_hint():
    result = archcalc.check("lenet5", "layer,params\nC1,156\nC3,2,416\n")
    cell = result.cell("C3", "params")
    assert cell.verdict == "unparseable" and "must be quoted" in cell.note


def test_template_csv_lists_every_layer_and_a_total():
    result = run("template", "lenet5", "--columns", "output,params")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("# archcalc sheet: architecture=lenet5 input=1x32x32 columns=output,params total=yes "
                               "bias=yes ops=macs")
    assert lines[1] == "# student:"
    rows = list(csv.reader(io.StringIO("\n".join(lines[2:]))))
    assert rows[0] == ["layer", "output shape", "params"]
    assert [r[0] for r in rows[1:]] == ["input", "C1", "S2", "C3", "S4", "C5", "F6", "F7", "TOTAL"]
    assert all(cell == "" for r in rows[1:-1] for cell in r[1:])


def test_template_given_output_is_prefilled_and_not_graded(tmp_path):
    result = run("template", "lenet5", "--columns", "params", "--given", "output", "--format", "markdown")
    assert "| C1    | 28×28×6              |" in result.output            # seed 000 Example 3.1: 28 × 28 × 6
    assert "output shape (given)" in result.output
    filled = result.output.replace("| C1    | 28×28×6              |        |", "| C1    | 28×28×6  | 156 |")
    path = tmp_path / "filled.md"
    path.write_text(filled)
    graded = archcalc.check("lenet5", str(path))
    assert [c.layer for c in graded.cells] == ["input", "C1", "S2", "C3", "S4", "C5", "F6", "F7", "TOTAL"]
    assert {c.column for c in graded.cells} == {"params"}                      # the given shapes are not asked
    assert graded.correct == 1 and graded.unanswered == 8


def test_template_round_trip_with_the_truth_filled_in(tmp_path):
    path = tmp_path / "sheet.csv"
    result = run("template", "lenet5", "--columns", "output,params,ops,memory", "--given", "output,params,ops,memory",
                 "-o", str(path))
    assert result.exit_code == 0
    text = path.read_text().replace(" (given)", "")
    graded = archcalc.check("lenet5", text)
    assert graded.all_correct and graded.graded == 8 * 4 + 3


def test_template_bad_column():
    _error(run("template", "lenet5", "--columns", "colour"), "unknown column 'colour'")


def test_the_instructors_walk_through_in_docs_runs_as_written(tmp_path, monkeypatch):
    import re
    import shlex
    import shutil

    section = (Path(__file__).parent.parent / "docs" / "grading.md").read_text().split(
        "## An instructor's walk-through")[1].split("\n## ")[0]
    make, grade, canvas = re.findall(r"```bash\n\s*(archcalc [^\n]*)\n\s*```", section)
    monkeypatch.chdir(tmp_path)
    Path("roster.csv").write_text("name,email\nAda,ada@uni.example\n\"O'Brien, Bob\",bob@uni.example\n")
    assert run(*shlex.split(make)[1:]).exit_code == 0
    Path("returned").mkdir()
    for sheet in Path("hw").glob("*.md"):
        if sheet.name != "key.md":
            shutil.copy(sheet, "returned")
    for command in (grade, canvas):
        result = run(*shlex.split(command)[1:])
        assert result.exit_code == 1 and "warning" not in result.output, result.output   # blank sheets: 0 %
    rows = list(csv.DictReader(io.StringIO(Path("grades.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["student"], r["id"], r["score"]) for r in rows] == [("Ada", "ada@uni.example", "0.0"),
                                                                   ("O'Brien, Bob", "bob@uni.example", "0.0")]
    assert Path("canvas.csv").read_text(encoding="utf-8-sig").splitlines()[0] == \
        "Student,ID,SIS User ID,SIS Login ID,Section,HW 3"
    assert sorted(p.name for p in Path("feedback").iterdir()) == ["Ada.md", "O_Brien_Bob.md"]
