"""A class roster: one student a row of a CSV file, with a name, an id for the LMS and optionally a seed.

    name,email,seed
    Ada Lovelace,ada@uni.example,
    "Doe, Jane",jane@uni.example,17

The name is the `student`, `name`, `full name` or `student name` column (else the first); the id the first
column among `ID_HEADERS` (a gradebook export of Canvas or Moodle works as it is). Every column is kept,
so that a gradebook for an LMS can repeat the ones it identifies students by. A sheet belongs to the
roster's student whose name gives the sheet's file name (as `archcalc exercise --students` names the
sheets), else whose name its `student:` line or file name says.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ArchcalcError
from .outputs import file_stem

MAX_ROSTER_BYTES = 5_000_000
MAX_SEED_DIGITS = 18
NAME_HEADERS = ("student", "name", "full name", "student name")
ID_HEADERS = ("id", "student id", "sis user id", "sis login id", "id number", "idnumber", "username", "login",
              "login id", "email", "email address", "e-mail")


@dataclass(frozen=True)
class Student:
    """A roster row: the name, the id (empty when the roster has no id column), the seed, and every column."""

    name: str
    id: str = ""
    seed: int | None = None
    columns: dict[str, str] = field(default_factory=dict, compare=False)

    def column(self, *headers: str) -> str | None:
        """The value of the first of `headers` (case-insensitive) the roster has; None when it has none."""
        for header in headers:
            if header.casefold() in self.columns:
                return self.columns[header.casefold()]
        return None


def read_roster(path: str | Path) -> list[Student]:
    """The students of a roster CSV (UTF-8, with or without a byte-order mark), in its order."""
    label = str(path)
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_ROSTER_BYTES + 1)
        if len(data) > MAX_ROSTER_BYTES:
            raise ArchcalcError(f"the roster is over {MAX_ROSTER_BYTES:,} bytes", file=label)
        rows = [row for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
                if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        reason = getattr(exc, "strerror", None) or ("not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc)
        raise ArchcalcError(f"cannot read the roster: {reason}", file=label) from None
    header = [cell.strip().casefold() for cell in rows[0]] if rows else []
    name = next((header.index(k) for k in NAME_HEADERS if k in header), 0)
    ident = next((header.index(k) for k in ID_HEADERS if k in header and header.index(k) != name), None)
    seed = header.index("seed") if "seed" in header else None
    students = []
    for number, row in enumerate(rows[1:], 2):
        cell = dict(zip(header, (c.strip() for c in row)))
        if name >= len(row) or not row[name].strip():
            continue
        text = row[seed].strip() if seed is not None and seed < len(row) else ""
        if text and not (text.isascii() and text.isdigit() and len(text) <= MAX_SEED_DIGITS):
            raise ArchcalcError(f"line {number}: the seed {text[:40]!r} is not a non-negative integer of at most "
                                f"{MAX_SEED_DIGITS} digits", file=label)
        students.append(Student(row[name].strip(), row[ident].strip() if ident is not None and ident < len(row)
                                else "", int(text) if text else None, cell))
    if not students:
        raise ArchcalcError("the roster names no student (a header row, then one student a row)", file=label)
    return students


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


class Matcher:
    """Finds the roster's student a sheet belongs to: by the sheet's file name, else by the name it says."""

    def __init__(self, students: Iterable[Student]):
        self.students = list(students)
        self._by_stem: dict[str, list[Student]] = {}
        self._by_name: dict[str, list[Student]] = {}
        for student in self.students:
            self._by_stem.setdefault(file_stem(student.name).casefold(), []).append(student)
            self._by_name.setdefault(_key(student.name), []).append(student)

    def find(self, sheet: str, said: str) -> tuple[Student | None, str]:
        """(the student, "") or (None, why not) for the sheet at path `sheet` whose student line says `said`."""
        for found in (self._by_stem.get(Path(sheet).stem.casefold()), self._by_name.get(_key(said)),
                      self._by_name.get(_key(Path(sheet).stem))):
            if found and len(found) == 1:
                return found[0], ""
            if found:
                return None, f"{len(found)} students of the roster are named {found[0].name!r}"
        return None, "no student of the roster has this name"
