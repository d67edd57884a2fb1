"""The gradebook an LMS imports: the roster's ids, Canvas's and Moodle's columns, UTF-8 with a byte-order
mark, names exactly as written (quotes, commas, accents, CJK), formula cells neutralised, and sheets that
could not be graded left blank instead of scoring 0.

Canvas's columns are those of its gradebook export (Student, ID, SIS User ID, SIS Login ID, Section);
Moodle's grade import maps any column to a user field (docs/grading.md names the sources).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main

# every params cell of LeNet-5, as seed 000 Example 3.1 prints them
FULL = "layer,params\ninput,0\nC1,156\nS2,0\nC3,2416\nS4,0\nC5,48120\nF6,10164\nF7,850\n"
CLASS = [  # (name, id): quotes, commas, accents (composed), CJK; ids of letters, digits and punctuation
    ("O'Brien \"Bob\"", "obrien@uni.example"),
    ("Doe, Jane", "20240017"),
    ("Müller, Jürgen", "s-0042"),
    ("王小明", "wang.xm@uni.example"),
    ("Zoë Ångström", "Z9"),
]


def run(*args):
    return CliRunner().invoke(main, list(args))


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def class_folder(root: Path, header: tuple[str, str] = ("name", "id")) -> tuple[Path, Path]:
    """A folder with one right sheet per student of CLASS (named by its `student:` line) and one binary file,
    and the roster."""
    folder = root / "returned"
    folder.mkdir()
    for number, (name, _) in enumerate(CLASS):
        (folder / f"sheet{number}.csv").write_text(f"# student: {name}\n{FULL}", encoding="utf-8")
    (folder / "xlsx.csv").write_bytes(b"PK\x03\x04\0\0binary")
    roster = write_csv(root / "roster.csv", [list(header), *map(list, CLASS), ["Late, Larry", "L1"]])
    return folder, roster


def read_rows(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode())                           # UTF-8 with a BOM, as Excel needs
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_a_student_line_keeps_its_quotes_as_text_and_as_a_spreadsheet_cell():
    name = "O'Brien \"Bob\""
    assert archcalc.check("lenet5", f"# student: {name}\n{FULL}").student == name
    assert archcalc.check("lenet5", f"\"# student: O'Brien \"\"Bob\"\"\",,\n{FULL}").student == name
    assert archcalc.check("lenet5", f"# student: {name},,\n{FULL}").student == name


def test_the_roster_gives_each_row_its_id_and_names_stay_as_written(tmp_path):
    folder, roster = class_folder(tmp_path)
    result = run("check", "lenet5", str(folder), "--roster", str(roster), "--gradebook", str(tmp_path / "g.csv"))
    assert result.exit_code == 1, result.output
    rows = read_rows(tmp_path / "g.csv")
    assert list(rows[0])[:3] == ["student", "id", "sheet"]
    graded = [(row["student"], row["id"]) for row in rows if row["score"]]
    assert graded == CLASS and {row["score"] for row in rows if row["score"]} == {"100.0"}
    assert "1 student of the roster handed in no sheet: 'Late, Larry'" in result.output
    assert "xlsx.csv: no student of the roster has this name" in result.output


def test_a_sheet_not_graded_is_blank_in_every_format_never_zero(tmp_path):
    folder, roster = class_folder(tmp_path, ("Student", "SIS User ID"))
    book = archcalc.check_many("lenet5", folder, roster=roster)
    entry = next(e for e in book.entries if e.grade is None)
    assert "binary data" in entry.error
    plain = list(csv.DictReader(io.StringIO(book.to_csv())))
    row = next(r for r in plain if r["sheet"].endswith("xlsx.csv"))
    assert row["score"] == row["completeness"] == "" and row["error"].startswith("not graded: ")
    canvas = list(csv.reader(io.StringIO(book.to_csv("canvas", "HW 1"))))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW 1"]
    assert canvas[1:] == [[name, "", ident, "", "", "100.0"] for name, ident in CLASS] + [["xlsx", "", "", "", "", ""]]
    assert "1 sheet" in str(archcalc.check_many("lenet5", folder / "sheet0.csv")).splitlines()[0]
    assert "1 sheets" not in archcalc.check_many("lenet5", folder / "sheet0.csv")._repr_html_()


def test_the_formats_the_command_offers_are_those_the_gradebook_writes(tmp_path):
    from archcalc.commands.check import GRADEBOOK_FORMATS
    from archcalc.grading.lms import FORMATS

    assert GRADEBOOK_FORMATS == FORMATS
    (tmp_path / "a.csv").write_text(FULL)
    with pytest.raises(archcalc.ArchcalcError, match="unknown gradebook format 'blackboard'"):
        archcalc.check_many("lenet5", tmp_path).to_csv("blackboard")


def test_moodle_rows_carry_id_number_or_email_and_a_row_without_either_is_left_out(tmp_path):
    folder, roster = class_folder(tmp_path)
    result = run("check", "lenet5", str(folder), "--roster", str(roster), "--format", "moodle", "--assignment", "HW 1",
                 "--gradebook", str(tmp_path / "m.csv"))
    rows = read_rows(tmp_path / "m.csv")
    assert list(rows[0]) == ["Full name", "ID number", "Email address", "HW 1", "Feedback"]
    assert [(r["Full name"], r["ID number"] or r["Email address"]) for r in rows] == CLASS
    assert {r["ID number"] for r in rows if r["Email address"]} == {""}          # an email is not an ID number
    assert all(r["HW 1"] == "100.0" and r["Feedback"].startswith("Score: 7/7 cells correct") for r in rows)
    assert "xlsx.csv: left out of the moodle gradebook" in result.output


def test_canvas_columns_come_from_a_canvas_roster(tmp_path):
    folder, _ = class_folder(tmp_path)
    roster = write_csv(tmp_path / "export.csv", [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
                                                 ["Doe, Jane", "101", "S-101", "jdoe", "CS 1 A"]])
    result = run("check", "lenet5", str(folder / "sheet1.csv"), "--roster", str(roster), "--format", "canvas")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["Student,ID,SIS User ID,SIS Login ID,Section,lenet5",
                                          '"Doe, Jane",101,S-101,jdoe,CS 1 A,100.0']


def test_every_cell_a_spreadsheet_would_run_is_neutralised(tmp_path):
    (tmp_path / "a.json").write_text('{"student": "=HYPERLINK(\\"http://x\\")", "rows": [{"layer": "C1", '
                                     '"params": 156}]}')
    (tmp_path / "b.csv").write_text(f"# student: +cmd|' /C calc'!A0\n{FULL}")
    (tmp_path / "-c.csv").write_text(FULL)
    roster = write_csv(tmp_path / "roster.csv", [["name", "id"], ["-c", "@SUM(1)"]])
    book = archcalc.check_many("lenet5", [tmp_path / "a.json", tmp_path / "b.csv", tmp_path / "-c.csv"],
                               roster=roster)
    for fmt in ("csv", "canvas", "moodle"):
        cells = [cell for row in csv.reader(io.StringIO(book.to_csv(fmt))) for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], (fmt, cells)
        assert {"'=HYPERLINK(\"http://x\")", "'+cmd|' /C calc'!A0", "'-c", "'@SUM(1)"} & set(cells)
    rows = list(csv.DictReader(io.StringIO(book.to_csv())))
    assert [r["score"] for r in rows] == [f"{100 / 7:.1f}", "100.0", "100.0"]       # numbers stay numbers


def test_the_gradebook_opens_in_libreoffice_with_ids_and_names_intact(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("no LibreOffice on PATH (.ci/run installs libreoffice-calc)")
    folder, roster = class_folder(tmp_path)
    result = run("check", "lenet5", str(folder), "--roster", str(roster), "--gradebook", str(tmp_path / "g.csv"))
    assert result.exit_code == 1, result.output
    # opened as the import dialog offers it for this file: comma separated, quoted with ", UTF-8 (76)
    out = tmp_path / "out"
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--infilter=CSV:44,34,76,1", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1",
                    "--outdir", str(out), str(tmp_path / "g.csv")], check=True, capture_output=True, timeout=180,
                   env=dict(os.environ, HOME=str(tmp_path)))
    rows = list(csv.DictReader(io.StringIO((out / "g.csv").read_text(encoding="utf-8"), newline="")))
    assert list(rows[0])[:2] == ["student", "id"]                    # the BOM is not part of the first header
    assert [(row["student"], row["id"]) for row in rows if row["score"]] == CLASS
