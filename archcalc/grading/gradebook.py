"""A class at once: grade many sheets into a gradebook (CSV an LMS imports) and one feedback file each.

A sheet that cannot be read or graded is a row "not graded: reason" with no score (an LMS leaves it
blank rather than recording 0), never a stop. With a roster, each row carries the student's id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError, printable
from ..escaping import csv_cell, markdown_text
from ..report.table_writer import aligned, pipe_table
from . import lms, outputs
from .conventions import Conventions
from .diagnose import KINDS
from .folder import sources
from .grade import Analyses, grade_sheet
from .html import escape, html_table
from .result import UNANSWERED, Grade
from .roster import Matcher, Student, read_roster

_FIXED = ("student", "sheet", "score", "completeness", "correct", "asked", "wrong", UNANSWERED, "unparseable")
NOT_GRADED = "not graded"
_TEXT_WIDTH = 40


@dataclass(frozen=True)
class Entry:
    """One student's row: the grade, or why the sheet was not graded; the roster's id and row when known."""

    student: str
    sheet: str
    grade: Grade | None = None
    error: str = ""
    id: str = ""
    roster: Student | None = None

    @property
    def status(self) -> str:
        """Empty for a graded sheet, else `not graded: <why>`."""
        return "" if self.grade else f"{NOT_GRADED}: {self.error}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class Gradebook:
    """One entry per sheet, in the order the sheets were given (a folder's entries by name).

    `ids` is whether a roster gave the entries their ids (the gradebook then has an `id` column);
    `warnings` what matching the sheets to the roster found (a sheet of no student, a student without a sheet).
    """

    architecture: str
    entries: tuple[Entry, ...]
    ids: bool = False
    warnings: tuple[str, ...] = ()

    def kinds(self) -> list[str]:
        """The mistakes (by short name) found in the class, in the order of diagnose.KINDS."""
        found = {k for e in self.entries if e.grade for k in e.grade.diagnoses()} - {UNANSWERED}
        return [k for k, _ in KINDS if k in found] + (["other"] if "other" in found else [])

    def header(self) -> list[str]:
        fixed = [_FIXED[0], "id", *_FIXED[1:]] if self.ids else list(_FIXED)
        return [*fixed, *self.kinds(), "error"]

    def rows(self) -> list[list[str]]:
        """A row of plain numbers per entry (score and completeness in percent), as the CSV writes them; a sheet
        not graded has empty cells and the reason in `error`."""
        kinds = self.kinds()
        rows = []
        for entry in self.entries:
            grade = entry.grade
            first = [entry.student, entry.id] if self.ids else [entry.student]
            if grade is None:
                rows.append([*first, entry.sheet, *[""] * (len(_FIXED) - 2 + len(kinds)), entry.status])
                continue
            counts = grade.diagnoses()
            rows.append([*first, entry.sheet, f"{100 * grade.score:.1f}", f"{100 * grade.completeness:.1f}",
                         str(grade.correct), str(grade.graded), str(grade.wrong), str(grade.unanswered),
                         str(grade.unparseable), *(str(counts.get(k, 0)) for k in kinds), ""])
        return rows

    def to_csv(self, format: str = "csv", assignment: str | None = None) -> str:
        """The gradebook as CSV: archcalc's own columns (`csv`), or what Canvas or Moodle import (`canvas`,
        `moodle`, with the score in percent under the column `assignment`). Every cell a spreadsheet would read
        as a formula is neutralised."""
        if format == "csv":
            header, rows = self.header(), self.rows()
        else:
            header, rows = lms.table(self, format, assignment or self.architecture)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([[csv_cell(c) for c in row] for row in [header, *rows]])
        return buffer.getvalue()

    def write_csv(self, path: str | Path, format: str = "csv", assignment: str | None = None,
                  keep: Iterable[str | Path] = ()) -> None:
        """Write `to_csv(...)` to `path` as UTF-8 with a byte-order mark (as Excel needs to read accents and
        CJK); refused when `path` is a graded sheet or one of `keep`."""
        outputs.write_gradebook(path, self.to_csv(format, assignment), self.inputs() | outputs.identities(keep))

    def to_markdown(self) -> str:
        header = self.header()
        aligns = ["left"] * (2 + self.ids) + ["right"] * (len(header) - 3 - self.ids) + ["left"]
        return "\n".join(pipe_table(header, self.rows(), aligns)) + "\n"

    def to_text(self) -> str:
        header = self.header()
        aligns = ["left"] * (2 + self.ids) + ["right"] * (len(header) - 3 - self.ids) + ["left"]
        lines = aligned([[printable(c) for c in row] for row in [header, *self.rows()]], aligns,
                        most=[_TEXT_WIDTH] * (2 + self.ids))        # a longer name or path overflows its column
        return "\n".join([f"{printable(self.architecture)}: {plural(len(self.entries), 'sheet')}", "", *lines])

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        rows = [(row, "error" if not entry.grade else "wrong" if not entry.grade.all_correct else "")
                for row, entry in zip(self.rows(), self.entries)]
        return f"<p><b>{escape(self.architecture)}</b>: {plural(len(self.entries), 'sheet')}</p>" + html_table(
            self.header(), rows)

    def to_dict(self) -> dict[str, Any]:
        return {"architecture": self.architecture, "warnings": list(self.warnings), "entries": [
            {"student": e.student, "id": e.id, "sheet": e.sheet, "error": e.error,
             "grade": e.grade.to_dict() if e.grade else None} for e in self.entries]}

    def inputs(self) -> set[outputs.Identity]:
        """The files the sheets are (through links too): what no output may overwrite."""
        return outputs.identities(e.sheet for e in self.entries if e.sheet)

    def write_feedback(self, folder: str | Path, keep: Iterable[str | Path] = (),
                       warn: Callable[[str], None] | None = None) -> list[Path]:
        """One markdown file per sheet, named after the student; returns the paths written. No sheet, no file of
        `keep` and no file that is not earlier feedback is overwritten: such feedback goes beside it
        (`name-2.md`), and `warn` is told."""
        files = ((entry.student, feedback(entry)) for entry in self.entries)
        return outputs.write_feedback(files, folder, self.inputs() | outputs.identities(keep), warn)


def feedback(entry: Entry) -> str:
    """The markdown a student gets back: the score, then each cell to review with its right value and arithmetic."""
    lines = [f"{outputs.FEEDBACK_MARK}{markdown_text(entry.student)}", "", f"Sheet: {markdown_text(entry.sheet)}", ""]
    grade = entry.grade
    if grade is None:
        return "\n".join([*lines, f"Your sheet could not be graded: {markdown_text(entry.error)}", ""])
    lines += [f"Architecture: {markdown_text(grade.architecture)}. Conventions: {grade.conventions.describe()}.", "",
              f"**{grade.summary()}**", ""]
    lines += [f"- {markdown_text(note)}" for note in grade.notes] + ([""] if grade.notes else [])
    review = [c for c in grade.cells if not c.correct]
    if not review:
        return "\n".join([*lines, "Every cell is correct.", ""])
    rows = [[c.layer, c.column, c.answer or "—", c.mark, c.expected, c.arithmetic,
             "; ".join(c.diagnosis) if c.verdict == "wrong" else c.note] for c in review]
    lines += ["## To review", ""]
    lines += pipe_table(("layer", "column", "your answer", "verdict", "right value", "arithmetic", "why"), rows,
                        ["left"] * 7)
    return "\n".join(lines) + "\n"


def check_many(arch: Any, sheets: Any, conventions: Conventions | dict[str, Any] | None = None, *,
               input: list[int] | None = None, override: bool = False, weights: dict[str, float] | str | None = None,
               partial: float = 0.0, roster: str | Path | list[Student] | None = None, total: bool | None = None
               ) -> Gradebook:
    """Grade every sheet in `sheets` (files, folders, globs) against `arch`, as `archcalc.check` does each.

    The student is the sheet's `student:` line, else the file's name; with a `roster` (a CSV path or
    `Student`s), the roster's name and id of the student the sheet belongs to. An unknown architecture is
    an error; a sheet that cannot be read or graded is an entry with the reason."""
    from .exercise import KINDS as EXERCISES

    analyses = Analyses(arch)
    if not (isinstance(arch, str) and arch in EXERCISES):
        analyses.report(input, Conventions.coerce(conventions).batch, Conventions.coerce(conventions).dtype)
    entries = []
    for source in sources(sheets):
        if source.skipped:
            entries.append(Entry(source.path.stem, str(source.path), error=str(ArchcalcError(source.skipped,
                                                                                             file=str(source.path)))))
            continue
        try:
            grade = grade_sheet(analyses, source.read(), conventions, input=input, override=override,
                                weights=weights, partial=partial, total=total)
        except ArchcalcError as exc:
            entries.append(Entry(source.path.stem, str(source.path), error=str(exc)))
            continue
        entries.append(Entry(grade.student or source.path.stem, str(source.path), grade))
    name = str(arch) if isinstance(arch, str | Path) else getattr(arch, "get", dict().get)("name", "?")
    if roster is None:
        return Gradebook(name, tuple(entries))
    students = read_roster(roster) if isinstance(roster, str | Path) else list(roster)
    entries, warnings = _with_ids(entries, Matcher(students))
    return Gradebook(name, tuple(entries), ids=True, warnings=tuple(warnings))


def _with_ids(entries: list[Entry], matcher: Matcher) -> tuple[list[Entry], list[str]]:
    """Each entry with its roster student's name and id; warnings for sheets of no student and students with
    no sheet."""
    matched, warnings, seen = [], [], set()
    for entry in entries:
        student, why = matcher.find(entry.sheet, entry.student)
        if student is None:
            warnings.append(f"{entry.sheet}: {why} ({entry.student[:80]!r}); the row has no id")
            matched.append(entry)
            continue
        seen.add(id(student))
        matched.append(replace(entry, student=student.name, id=student.id, roster=student))
    missing = [s.name for s in matcher.students if id(s) not in seen]
    if missing:
        shown = ", ".join(repr(name[:40]) for name in missing[:10]) + (", …" if len(missing) > 10 else "")
        warnings.append(f"{plural(len(missing), 'student')} of the roster handed in no sheet: {shown}")
    return matched, warnings
