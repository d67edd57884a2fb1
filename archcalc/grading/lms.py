"""The gradebook in the columns a learning management system imports (see docs/grading.md for the sources).

- **Canvas** (Grades → Import): `Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section`, then one
  column per assignment, as Canvas's own gradebook export has them. The identifying columns are copied
  from the roster's columns of the same name (a roster exported from Canvas has them all); a roster
  with none of `ID`, `SIS User ID` and `SIS Login ID` gives its id as the `SIS User ID`.
- **Moodle** (Grades → Import → CSV file): `Full name`, `ID number`, `Email address`, the assignment and
  its `Feedback`; the instructor maps `ID number` (or `Email address`) to the user field of that name.
  A row without either is left out: Moodle would refuse the file, or give the grade to the row above.

The score is in percent (an assignment of 100 points); a sheet not graded has an empty score, which
both systems read as "no grade" rather than 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ArchcalcError

if TYPE_CHECKING:
    from .gradebook import Entry, Gradebook

FORMATS = ("csv", "canvas", "moodle")
_CANVAS_IDS = ("ID", "SIS User ID", "SIS Login ID")


def score(entry: Entry) -> str:
    return f"{100 * entry.grade.score:.1f}" if entry.grade else ""


def table(book: Gradebook, format: str, assignment: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the gradebook for `format` (`canvas` or `moodle`)."""
    if format == "canvas":
        return ["Student", *_CANVAS_IDS, "Section", assignment], [_canvas(e) for e in book.entries]
    if format == "moodle":
        rows = [_moodle(e) for e in book.entries]
        return ["Full name", "ID number", "Email address", assignment, "Feedback"], [r for r in rows if r]
    raise ArchcalcError(f"unknown gradebook format {format!r}; known: {', '.join(FORMATS)}")


def left_out(book: Gradebook, format: str) -> list[Entry]:
    """The entries the gradebook of `format` cannot identify and so leaves out."""
    return [e for e in book.entries if format == "moodle" and not _moodle(e)]


def _column(entry: Entry, *headers: str) -> str | None:
    return entry.roster.column(*headers) if entry.roster else None


def _canvas(entry: Entry) -> list[str]:
    ids = {header: _column(entry, header) for header in _CANVAS_IDS}
    if all(value is None for value in ids.values()):
        ids["SIS User ID"] = entry.id
    return [entry.student, *(ids[h] or "" for h in _CANVAS_IDS), _column(entry, "Section") or "", score(entry)]


def _moodle(entry: Entry) -> list[str]:
    number = _column(entry, "ID number", "idnumber")
    email = _column(entry, "Email address", "email", "e-mail")
    if number is None and email is None:
        number, email = ("", entry.id) if "@" in entry.id else (entry.id, "")
    if not (number or email):
        return []
    said = entry.status or entry.grade.summary()
    return [entry.student, number or "", email or "", score(entry), said]
