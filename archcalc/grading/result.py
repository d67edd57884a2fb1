"""A grade: every cell's verdict, the score and completeness, and the feedback as text, markdown and HTML."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import printable
from ..escaping import markdown_text
from ..report.table_writer import aligned, pipe_table
from . import shape_order
from .conventions import Conventions
from .diagnose import CARRIED, kind_of
from .html import escape, html_table

MARKS = {"correct": "✓", "wrong": "✗", "unparseable": "?", "unanswered": "✗"}
UNANSWERED = "not answered"


@dataclass(frozen=True)
class CellResult:
    """The verdict on one cell of the sheet."""

    row: int
    layer: str
    column: str
    answer: str
    verdict: str
    expected: str = ""
    arithmetic: str = ""
    diagnosis: tuple[str, ...] = ()
    note: str = ""

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"

    @property
    def mark(self) -> str:
        """The verdict with its mark: `✓ correct`, `✗ wrong`, `? unparseable`."""
        return f"{MARKS[self.verdict]} {UNANSWERED if self.verdict == 'unanswered' else self.verdict}"

    @property
    def explanation(self) -> str:
        """What the text feedback says after the verdict."""
        if self.verdict == "correct":
            return self.note
        if self.verdict == "unparseable":
            return f"cannot read it: {self.note}" if self.note else "cannot read it"
        if self.verdict == "unanswered":
            return f"expected {self.expected}" + (f" ({self.note})" if self.note else "")
        return f"expected {self.expected}" + (" — " + "; ".join(self.diagnosis) if self.diagnosis else "")

    @property
    def why(self) -> str:
        """The markdown feedback's last column: the diagnosis and arithmetic of a wrong cell, else the note."""
        why = "; ".join(self.diagnosis) if self.verdict == "wrong" else self.note
        if self.verdict in ("wrong", "unanswered") and self.arithmetic:
            return f"{why} (arithmetic: {self.arithmetic})" if why else f"arithmetic: {self.arithmetic}"
        return why

    @property
    def kinds(self) -> list[str]:
        """The short names of its diagnoses (`not answered` for a blank or missing cell)."""
        return [UNANSWERED] if self.verdict == "unanswered" else [kind_of(d) for d in self.diagnosis]

    def credit(self, partial: float) -> float:
        """1 if correct; with partial credit, `partial` for a wrong answer a known mistake explains, 1 for an
        error carried forward (the step itself is right); else 0."""
        if self.correct:
            return 1.0
        if partial and self.verdict == "wrong" and self.diagnosis:
            return 1.0 if CARRIED in self.kinds else partial
        return 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["diagnosis"] = list(self.diagnosis)
        return data


@dataclass(frozen=True)
class Grade:
    """Every cell's verdict and the score of one sheet against one architecture.

    The cells are every cell the sheet asks: blank and missing ones are graded `unanswered`. The score
    is the weighted credit over them (`weights` per column, 1 by default; `partial` credit for a wrong
    answer a known mistake explains); completeness is the share of cells answered at all.
    """

    architecture: str
    sheet: str
    sheet_format: str
    matched_by: str
    conventions: Conventions
    cells: tuple[CellResult, ...]
    notes: tuple[str, ...] = field(default=())
    shape_orders: tuple[str, ...] = shape_order.ALL_ORDERS
    student: str | None = None
    warnings: tuple[str, ...] = field(default=())
    weights: dict[str, float] = field(default_factory=dict)
    partial: float = 0.0

    def count(self, verdict: str) -> int:
        return sum(cell.verdict == verdict for cell in self.cells)

    @property
    def correct(self) -> int:
        return self.count("correct")

    @property
    def wrong(self) -> int:
        return self.count("wrong")

    @property
    def unparseable(self) -> int:
        return self.count("unparseable")

    @property
    def unanswered(self) -> int:
        return self.count("unanswered")

    @property
    def graded(self) -> int:
        """The cells the sheet asks (answered or not)."""
        return len(self.cells)

    @property
    def answered(self) -> int:
        return self.graded - self.unanswered

    @property
    def completeness(self) -> float:
        """Answered cells over asked cells (0.0 to 1.0)."""
        return self.answered / self.graded if self.graded else 0.0

    @property
    def score(self) -> float:
        """Weighted credit over the weight of every asked cell (0.0 to 1.0): correct over asked by default."""
        total = sum(self.weights.get(c.column, 1.0) for c in self.cells)
        earned = sum(self.weights.get(c.column, 1.0) * c.credit(self.partial) for c in self.cells)
        return earned / total if total else 0.0

    @property
    def all_correct(self) -> bool:
        return self.graded > 0 and self.correct == self.graded

    def diagnoses(self) -> dict[str, int]:
        """How many cells each mistake (by short name) explains, `not answered` included."""
        counts: dict[str, int] = {}
        for cell in self.cells:
            for kind in cell.kinds:
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    def cell(self, layer: str, column: str) -> CellResult:
        for cell in self.cells:
            if cell.layer == layer and cell.column == column:
                return cell
        raise KeyError(f"no graded cell for {layer!r}, {column!r}")

    def summary(self) -> str:
        text = f"Score: {self.correct}/{self.graded} cells correct ({100 * self.score:.1f}%"
        if self.weights or self.partial:
            rules = [f"weights {' '.join(f'{k}={v:g}' for k, v in self.weights.items())}"] if self.weights else []
            rules += [f"partial credit {self.partial:g}"] if self.partial else []
            text += " with " + ", ".join(rules)
        text += f"): {self.wrong} wrong, {self.unanswered} {UNANSWERED}, {self.unparseable} unparseable"
        return text + f"; completeness {self.answered}/{self.graded} ({100 * self.completeness:.1f}%)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "architecture": self.architecture, "sheet": self.sheet, "student": self.student,
            "format": self.sheet_format, "matched_by": self.matched_by, "conventions": self.conventions.to_dict(),
            "score": self.score, "completeness": self.completeness, "graded": self.graded, "correct": self.correct,
            "wrong": self.wrong, "unparseable": self.unparseable, "unanswered": self.unanswered,
            "weights": self.weights, "partial": self.partial, "diagnoses": self.diagnoses(),
            "notes": list(self.notes), "warnings": list(self.warnings), "shape_orders": list(self.shape_orders),
            "cells": [cell.to_dict() for cell in self.cells],
        }

    def to_markdown(self, *, brief: bool = False) -> str:
        """A markdown table of the cells (only those not correct with `brief`), with the arithmetic of the
        wrong and unanswered ones, and the score: the feedback a student gets."""
        student = f" — {markdown_text(self.student)}" if self.student else ""
        lines = [f"**{markdown_text(self.architecture)}**{student} — {markdown_text(self.sheet)}", "",
                 f"Conventions: {self.conventions.describe()}.", ""]
        lines += [f"- {markdown_text(note)}" for note in self.notes] + ([""] if self.notes else [])
        cells = [c for c in self.cells if not (brief and c.correct)]
        rows = [[cell.layer, cell.column, cell.answer, cell.mark, cell.expected, cell.why] for cell in cells]
        lines += pipe_table(("layer", "column", "answer", "verdict", "expected", "why"), rows, ["left"] * 6)
        lines += ["", f"**{self.summary()}**"]
        return "\n".join(lines) + "\n"

    def to_text(self, *, brief: bool = False) -> str:
        """One line per cell (only the cells that are not correct with `brief`), then the score."""
        rows: list[list[str]] = []
        for cell in (c for c in self.cells if not (brief and c.correct)):
            rows.append([printable(text) for text in (cell.layer, cell.column, cell.answer, cell.mark,
                                                      cell.explanation)])
            if cell.verdict == "wrong" and cell.arithmetic:
                rows.append(["", "", "", f"  arithmetic: {cell.arithmetic}"])  # runs on from the verdict column
        student = f" [{printable(self.student)}]" if self.student else ""
        lines = [f"{printable(self.architecture)} ← {printable(self.sheet)}{student} ({self.sheet_format}, "
                 f"rows matched by {self.matched_by})",
                 f"conventions: {self.conventions.describe()}", *(f"note: {printable(note)}" for note in self.notes),
                 ""]
        # the column names are at most 6 wide; a verdict at most 14 (`✗ not answered`)
        lines += aligned(rows, ["left"] * 5, least=(0, 6, 0, 12), most=(None, None, 24))
        return "\n".join([*lines, "", self.summary()])

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        rows = [([c.layer, c.column, c.answer, c.mark, c.expected, c.why], c.verdict) for c in self.cells]
        title = self.architecture + (f" — {self.student}" if self.student else "") + f" — {self.sheet}"
        return (f"<p><b>{escape(title)}</b><br>{escape(self.conventions.describe())}</p>"
                + html_table(("layer", "column", "answer", "verdict", "expected", "why"), rows)
                + f"<p><b>{escape(self.summary())}</b></p>")
