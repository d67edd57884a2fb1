"""Grading a class's folder as a stranger filled it: what the corpus runner (tests/hostile/folders, sheets)
cannot keep in git or check on its own.

Named pipes and dangling links are made here; a pipe must never be opened (it would wait for a writer),
a link out of the folder never followed, and every such entry is a gradebook row with its reason. No
output overwrites a sheet, the roster, the gradebook or another output; markup in names and cells is
escaped in markdown and HTML; the printed text holds no raw control character.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

from click.testing import CliRunner
from hostile import run_archcalc

import archcalc
from archcalc.cli import main
from archcalc.grading.outputs import MAX_STEM_BYTES

FULL = "layer,params\nC1,156\nS2,0\nC3,2416\nS4,0\nC5,48120\nF6,10164\nF7,850\n"
SHEETS = Path(__file__).parent / "hostile" / "sheets"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def test_pipes_and_links_out_are_rows_not_graded_never_opened(canaries):
    folder = canaries.folder / "class"
    folder.mkdir()
    (folder / "ada.csv").write_text(f"# student: Ada\n{FULL}")
    os.mkfifo(folder / "pipe.csv")
    (folder / "dangling.csv").symlink_to(folder / "gone.csv")
    (folder / "secret.csv").symlink_to(canaries.secret_path)                      # absolute, outside
    (folder / "up.csv").symlink_to(Path("..") / ".." / "secret.txt")              # relative, outside
    (folder / "loop.csv").symlink_to("loop.csv")
    (folder / "outside-folder").symlink_to(canaries.folder.parent)
    run = run_archcalc(canaries.folder, "check", "lenet5", "class", "--gradebook", "grades.csv", "--feedback",
                       "feedback")
    assert run.status == 1, run.stderr
    rows = {row["sheet"]: row for row in rows_of(canaries.folder / "grades.csv")}
    assert len(rows) == 7 and rows["class/ada.csv"]["score"] == "100.0"
    reasons = {sheet.split("/")[1]: row["error"].split(": ", 2)[-1] for sheet, row in rows.items() if row["error"]}
    assert reasons == {"dangling.csv": "a link to nothing", "loop.csv": "a link to nothing",
                       "outside-folder": "a link to a file outside the folder", "pipe.csv": "a named pipe, not a file",
                       "secret.csv": "a link to a file outside the folder",
                       "up.csv": "a link to a file outside the folder"}
    assert all(rows[sheet]["score"] == "" for sheet in rows if sheet != "class/ada.csv")
    feedback = [path.read_text() for path in (canaries.folder / "feedback").iterdir()]
    assert len(feedback) == 7
    canaries.assert_untouched(run.stdout, run.stderr, *feedback)


def test_feedback_never_overwrites_a_file_and_replaces_only_earlier_feedback(tmp_path):
    folder, outside = tmp_path / "hw", tmp_path / "notes.txt"
    folder.mkdir()
    outside.write_text("notes")
    (folder / "key.md").write_text("# Key\n\nthe answers\n")
    (folder / "k.csv").write_text(f"# student: key\n{FULL}")
    (folder / "b.csv").write_text(f"# student: Bob\n{FULL}")
    feedback = tmp_path / "feedback"
    feedback.mkdir()
    (feedback / "Bob.md").symlink_to(outside)
    for _ in range(2):                                                # a second run replaces its own feedback
        result = run("check", "lenet5", folder, "--feedback", folder)
        assert result.exit_code == 1 and "hw/key.md is not a feedback file and is kept" in result.output
        run("check", "lenet5", folder / "b.csv", folder / "k.csv", "--feedback", feedback)
    assert (folder / "key.md").read_text() == "# Key\n\nthe answers\n" and outside.read_text() == "notes"
    assert sorted(p.name for p in feedback.iterdir()) == ["Bob-2.md", "Bob.md", "key.md"]
    assert (feedback / "Bob-2.md").read_text().startswith("# Feedback: Bob")
    sheets = {p.name: p.read_text() for p in folder.iterdir() if p.suffix == ".csv"}
    assert sheets == {"k.csv": f"# student: key\n{FULL}", "b.csv": f"# student: Bob\n{FULL}"}


def test_the_gradebook_is_refused_over_a_sheet_or_the_roster(tmp_path):
    (tmp_path / "ada.csv").write_text(FULL)
    (tmp_path / "alias.csv").symlink_to(tmp_path / "ada.csv")
    (tmp_path / "roster.csv").write_text("name,id\nada,1\n")
    for target, extra in ((tmp_path / "ada.csv", ()), (tmp_path / "alias.csv", ()),
                          (tmp_path / "roster.csv", ("--roster", tmp_path / "roster.csv"))):
        result = run("check", "lenet5", tmp_path / "ada.csv", "--gradebook", target, *extra)
        assert result.exit_code == 2 and "the gradebook would overwrite a sheet being graded" in result.output
    assert (tmp_path / "ada.csv").read_text() == FULL and (tmp_path / "roster.csv").read_text() == "name,id\nada,1\n"


def test_a_name_too_long_for_a_file_is_cut_and_stops_no_one(tmp_path):
    names = ["Ada", "L" * 5000, "Ü" * 3000, "Zoë"]
    for number, name in enumerate(names):
        (tmp_path / f"{number}.csv").write_text(f"# student: {name}\n{FULL}", encoding="utf-8")
    written = archcalc.check_many("lenet5", tmp_path).write_feedback(tmp_path / "feedback")
    assert len(written) == 4 and all(len(p.stem.encode()) <= MAX_STEM_BYTES for p in written)
    assert [p.read_text(encoding="utf-8").splitlines()[0] for p in written] == [f"# Feedback: {n}" for n in names]


def test_markup_in_names_and_cells_is_escaped_in_markdown_and_html(tmp_path):
    (tmp_path / "a.md").write_text((SHEETS / "markup.md").read_text())
    book = archcalc.check_many("lenet5", tmp_path)
    grade = book.entries[0].grade
    unescaped = re.compile(r"(?<!\\)<(img|script|b)\b")
    written = book.write_feedback(tmp_path / "feedback")[0].read_text()
    for text in (written, grade.to_markdown(), book.to_markdown()):
        assert "onerror" in text and not unescaped.search(text), text
    assert "\\](javascript:" in written and not re.search(r"(?<!\\)\]\(javascript:", written)   # no link
    for html in (grade._repr_html_(), book._repr_html_()):
        assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html and "<script" not in html


def test_printed_text_shows_control_characters_escaped(tmp_path):
    result = run("check", "lenet5", SHEETS / "control-characters.csv")
    assert result.exit_code == 1
    assert not set(result.output) & {"\x1b", "\x07", "\x08", "\r", "\u202e"}
    assert "\\x1b[2J" in result.output
    book = run("check", "lenet5", SHEETS / "control-characters.csv", SHEETS / "markup.md")
    assert not set(book.output) & {"\x1b", "\x07", "\x08", "\r", "\u202e"}


def test_a_template_quotes_hostile_layer_names_and_its_filled_sheet_grades_back():
    net = {"name": "x", "input": [1, 8, 8], "layers": [
        {"name": "=HYPERLINK(1)", "type": "conv", "out_channels": 2, "kernel_size": 3},
        {"name": "<img src=x onerror=alert(1)>", "type": "relu"}, {"name": "-a_b_", "type": "relu"}]}
    for fmt in ("csv", "markdown"):
        sheet = archcalc.template(net, "params", format=fmt)
        assert not re.search(r"^(=|-|\| <img)", sheet, re.M), sheet
        filled = re.sub(r"(HYPERLINK\(1\)\s*\|)\s*\|", r"\1 20 |", sheet.replace("HYPERLINK(1),", "HYPERLINK(1),20"))
        grade = archcalc.check(net, filled)
        assert grade.cell("=HYPERLINK(1)", "params").correct and grade.graded == 5, grade.to_text()   # 4 + TOTAL
        assert not [note for note in grade.notes if "labelled" in note]             # matched by name
