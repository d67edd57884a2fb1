"""A grade: every cell's verdict, the score, and the feedback as text and as markdown."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..report.table_writer import aligned, pipe_table
from . import shape_order
from .conventions import Conventions

MARKS = {"correct": "✓", "wrong": "✗", "unparseable": "?"}


def _md(text: str) -> str:
    return text.replace("|", "\\|")


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
        return f"{MARKS[self.verdict]} {self.verdict}"

    @property
    def explanation(self) -> str:
        """What the text feedback says after the verdict."""
        if self.verdict == "correct":
            return self.note
        if self.verdict == "unparseable":
            return f"cannot read it: {self.note}" if self.note else "cannot read it"
        return f"expected {self.expected}" + (" — " + "; ".join(self.diagnosis) if self.diagnosis else "")

    @property
    def why(self) -> str:
        """The markdown feedback's last column: the diagnosis and arithmetic of a wrong cell, else the note."""
        why = "; ".join(self.diagnosis) if self.verdict == "wrong" else self.note
        if self.verdict == "wrong" and self.arithmetic:
            return f"{why} (arithmetic: {self.arithmetic})" if why else f"arithmetic: {self.arithmetic}"
        return why

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["diagnosis"] = list(self.diagnosis)
        return data


@dataclass(frozen=True)
class Grade:
    """Every cell's verdict and the score of one sheet against one architecture."""

    architecture: str
    sheet: str
    sheet_format: str
    matched_by: str
    conventions: Conventions
    cells: tuple[CellResult, ...]
    blank: int = 0
    notes: tuple[str, ...] = field(default=())
    shape_orders: tuple[str, ...] = shape_order.ALL_ORDERS

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
    def graded(self) -> int:
        return len(self.cells)

    @property
    def score(self) -> float:
        """Correct cells over graded cells (0.0 to 1.0)."""
        return self.correct / self.graded if self.graded else 0.0

    @property
    def all_correct(self) -> bool:
        return self.graded > 0 and self.correct == self.graded

    def cell(self, layer: str, column: str) -> CellResult:
        for cell in self.cells:
            if cell.layer == layer and cell.column == column:
                return cell
        raise KeyError(f"no graded cell for {layer!r}, {column!r}")

    def summary(self) -> str:
        text = f"Score: {self.correct}/{self.graded} cells correct ({100 * self.score:.1f}%)"
        text += f": {self.wrong} wrong, {self.unparseable} unparseable"
        if self.blank:
            text += f"; {self.blank} blank cell{'s' if self.blank > 1 else ''} not graded"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "architecture": self.architecture, "sheet": self.sheet, "format": self.sheet_format,
            "matched_by": self.matched_by, "conventions": self.conventions.to_dict(),
            "score": self.score, "graded": self.graded, "correct": self.correct, "wrong": self.wrong,
            "unparseable": self.unparseable, "blank": self.blank, "notes": list(self.notes),
            "shape_orders": list(self.shape_orders),
            "cells": [cell.to_dict() for cell in self.cells],
        }

    def _repr_html_(self) -> str:
        from ..report.page import grade_fragment

        return grade_fragment(self)

    def to_markdown(self) -> str:
        """A markdown table of every cell, with the arithmetic of the wrong ones, and the score."""
        lines = [f"**{_md(self.architecture)}** — {_md(self.sheet)}", "",
                 f"Conventions: {self.conventions.describe()}.", ""]
        lines += [f"- {_md(note)}" for note in self.notes] + ([""] if self.notes else [])
        rows = [[cell.layer, cell.column, cell.answer, cell.mark, cell.expected, cell.why] for cell in self.cells]
        lines += pipe_table(("layer", "column", "answer", "verdict", "expected", "why"), rows, ["left"] * 6)
        lines += ["", f"**{self.summary()}**"]
        return "\n".join(lines) + "\n"

    def to_text(self, *, brief: bool = False) -> str:
        """One line per cell (only the cells that are not correct with `brief`), then the score."""
        rows: list[list[str]] = []
        for cell in (c for c in self.cells if not (brief and c.correct)):
            rows.append([cell.layer, cell.column, cell.answer, cell.mark, cell.explanation])
            if cell.verdict == "wrong" and cell.arithmetic:
                rows.append(["", "", "", f"  arithmetic: {cell.arithmetic}"])  # runs on from the verdict column
        lines = [f"{self.architecture} ← {self.sheet} ({self.sheet_format}, rows matched by {self.matched_by})",
                 f"conventions: {self.conventions.describe()}", *(f"note: {note}" for note in self.notes), ""]
        # the column names are at most 6 wide; a verdict at most 13 (`? unparseable`)
        lines += aligned(rows, ["left"] * 5, least=(0, 6, 0, 12), most=(None, None, 24))
        return "\n".join([*lines, "", self.summary()])
