"""A class at once: grade many sheets into a gradebook (CSV an LMS imports) and one feedback file each.

A sheet that cannot be read is a row with its error, never a stop.
"""

from __future__ import annotations

import csv
import glob
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError
from ..report.table_writer import aligned, pipe_table
from .conventions import Conventions
from .diagnose import KINDS
from .grade import Analyses, grade_sheet
from .html import escape, html_table
from .result import UNANSWERED, Grade
from .sheet import read_sheet

_GLOB = re.compile(r"[*?\[]")
_FIXED = ("student", "sheet", "score", "completeness", "correct", "asked", "wrong", UNANSWERED, "unparseable")


@dataclass(frozen=True)
class Entry:
    """One student's row: the grade, or the error that kept the sheet from being graded."""

    student: str
    sheet: str
    grade: Grade | None = None
    error: str = ""


@dataclass(frozen=True)
class Gradebook:
    """One entry per sheet, in the order the sheets were given (a folder's files by name)."""

    architecture: str
    entries: tuple[Entry, ...]

    def kinds(self) -> list[str]:
        """The mistakes (by short name) found in the class, in the order of diagnose.KINDS."""
        found = {k for e in self.entries if e.grade for k in e.grade.diagnoses()} - {UNANSWERED}
        return [k for k, _ in KINDS if k in found] + (["other"] if "other" in found else [])

    def header(self) -> list[str]:
        return [*_FIXED, *self.kinds(), "error"]

    def rows(self) -> list[list[str]]:
        """A row of plain numbers per entry (score and completeness in percent), as the CSV writes them."""
        kinds = self.kinds()
        rows = []
        for entry in self.entries:
            grade = entry.grade
            if grade is None:
                rows.append([entry.student, entry.sheet, "0.0", "0.0", *[""] * (len(_FIXED) - 4 + len(kinds)),
                             entry.error])
                continue
            counts = grade.diagnoses()
            rows.append([entry.student, entry.sheet, f"{100 * grade.score:.1f}", f"{100 * grade.completeness:.1f}",
                         str(grade.correct), str(grade.graded), str(grade.wrong), str(grade.unanswered),
                         str(grade.unparseable), *(str(counts.get(k, 0)) for k in kinds), ""])
        return rows

    def to_csv(self) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([self.header(), *self.rows()])
        return buffer.getvalue()

    def to_markdown(self) -> str:
        header = self.header()
        return "\n".join(pipe_table(header, self.rows(), ["left", "left", *["right"] * (len(header) - 3), "left"])) \
            + "\n"

    def to_text(self) -> str:
        lines = aligned([self.header(), *self.rows()], ["left", "left", *["right"] * (len(self.header()) - 3), "left"])
        return "\n".join([f"{self.architecture}: {len(self.entries)} sheets", "", *lines])

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        rows = [(row, "error" if entry.error else "wrong" if entry.grade and not entry.grade.all_correct else "")
                for row, entry in zip(self.rows(), self.entries)]
        return f"<p><b>{escape(self.architecture)}</b>: {len(self.entries)} sheets</p>" + html_table(
            self.header(), rows)

    def to_dict(self) -> dict[str, Any]:
        return {"architecture": self.architecture, "entries": [
            {"student": e.student, "sheet": e.sheet, "error": e.error,
             "grade": e.grade.to_dict() if e.grade else None} for e in self.entries]}

    def write_feedback(self, folder: str | Path) -> list[Path]:
        """One markdown file per entry, named after the student; returns the paths written."""
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            written: list[Path] = []
            for entry in self.entries:
                stem = re.sub(r"[^\w.-]+", "_", entry.student).strip("._") or "sheet"
                path, number = folder / f"{stem}.md", 2
                while path in written:
                    path, number = folder / f"{stem}-{number}.md", number + 1
                path.write_text(feedback(entry), encoding="utf-8")
                written.append(path)
        except OSError as exc:
            raise ArchcalcError(f"cannot write the feedback: {exc.strerror or exc}", file=str(folder)) from None
        return written


def feedback(entry: Entry) -> str:
    """The markdown a student gets back: the score, then each cell to review with its right value and arithmetic."""
    lines = [f"# Feedback: {entry.student}", "", f"Sheet: `{entry.sheet}`", ""]
    grade = entry.grade
    if grade is None:
        return "\n".join([*lines, f"Your sheet could not be graded: {entry.error}", ""])
    lines += [f"Architecture: {grade.architecture}. Conventions: {grade.conventions.describe()}.", "",
              f"**{grade.summary()}**", ""]
    review = [c for c in grade.cells if not c.correct]
    if not review:
        return "\n".join([*lines, "Every cell is correct.", ""])
    rows = [[c.layer, c.column, c.answer or "—", c.mark, c.expected, c.arithmetic,
             "; ".join(c.diagnosis) if c.verdict == "wrong" else c.note] for c in review]
    lines += ["## To review", ""]
    lines += pipe_table(("layer", "column", "your answer", "verdict", "right value", "arithmetic", "why"), rows,
                        ["left"] * 7)
    return "\n".join(lines) + "\n"


def sheet_paths(sources: Any) -> list[Path]:
    """The sheets named by files, folders (their files, by name) and glob patterns."""
    sources = [sources] if isinstance(sources, str | Path) else list(sources)
    paths: list[Path] = []
    for source in map(str, sources):
        path = Path(source)
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        elif _GLOB.search(source) and not path.exists():
            matched = sorted(Path(p) for p in glob.glob(source) if Path(p).is_file())
            if not matched:
                raise ArchcalcError(f"no sheet matches {source!r}")
            paths += matched
        else:
            paths.append(path)
    if not paths:
        raise ArchcalcError(f"no sheets in {', '.join(map(str, sources)) or 'the arguments'}")
    return paths


def check_many(arch: Any, sheets: Any, conventions: Conventions | dict[str, Any] | None = None, *,
               input: list[int] | None = None, override: bool = False, weights: dict[str, float] | str | None = None,
               partial: float = 0.0) -> Gradebook:
    """Grade every sheet in `sheets` (files, folders, globs) against `arch`, as `archcalc.check` does each.

    The student is the sheet's `student:` line, else the file's name. An unknown architecture is an
    error; a sheet that cannot be read or graded is an entry with its error."""
    from .exercise import KINDS as EXERCISES

    analyses = Analyses(arch)
    if not (isinstance(arch, str) and arch in EXERCISES):
        analyses.report(input, Conventions.coerce(conventions).batch, Conventions.coerce(conventions).dtype)
    entries = []
    for path in sheet_paths(sheets):
        try:
            sheet = read_sheet(path)
            grade = grade_sheet(analyses, sheet, conventions, input=input, override=override, weights=weights,
                                partial=partial)
        except ArchcalcError as exc:
            entries.append(Entry(path.stem, str(path), error=str(exc)))
            continue
        entries.append(Entry(grade.student or path.stem, str(path), grade))
    return Gradebook(str(arch) if isinstance(arch, str | Path) else getattr(arch, "get", dict().get)("name", "?"),
                     tuple(entries))
