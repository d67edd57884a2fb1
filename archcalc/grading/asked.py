"""What an exercise asks — its columns, its layers, its TOTAL — whatever a student wrote on the sheet.

Every student of one exercise has the same denominator. A sheet written by `archcalc template` (it has
an `archcalc sheet:` line) asks the columns and the TOTAL row its line names, of every layer; a line
from before `columns=` and `total=` were written asks the sheet's graded columns and, as the template
did by default, a TOTAL when a count column is asked. A sheet without the line asks its graded columns
of every layer after the input that allocates memory (lecture tables leave out the input and views such
as flatten), and a TOTAL only when the instructor asks one (`--total`, `total=True`).

A row the exercise does not ask is named in a note and not graded: a label that is no layer, a second
row for one layer, a layer the sheet does not ask, a total where none is asked, a second total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analysis import LayerRecord, Report
from .expected import COUNT_COLUMNS, expected_total
from .sheet import GRADED, Row, Sheet

MAX_ROW_NOTES = 20   # then one note says how many more rows are not graded


@dataclass(frozen=True)
class Asked:
    """The cells a sheet of the exercise asks."""

    columns: tuple[str, ...]
    layers: tuple[LayerRecord, ...]
    total_columns: tuple[str, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(record.name for record in self.layers)


def asked_layers(sheet: Sheet, report: Report) -> tuple[LayerRecord, ...]:
    """Every layer for a template's sheet; else every layer after the input that allocates memory."""
    layers = report.layers
    return tuple(layers) if sheet.asks else tuple(r for r in layers[1:] if r.allocates)


def asked(sheet: Sheet, report: Report, asks: dict[str, Any], total: bool | None, conventions: Any) -> Asked:
    """What `sheet` asks of `report`: `asks` is what its `archcalc sheet:` line says, `total` whether the
    TOTAL row is asked (None: as the line says, else as the template did by default)."""
    columns = tuple(asks["columns"]) if "columns" in asks else tuple(c for c in GRADED if c in sheet.headers)
    if total is None:
        total = bool(sheet.asks) and any(c in COUNT_COLUMNS for c in columns)
    total_columns = tuple(c for c in columns if total and expected_total(c, report, conventions) is not None)
    return Asked(columns, asked_layers(sheet, report), total_columns)


def column_notes(sheet: Sheet, asked: Asked) -> list[str]:
    """A note for each graded column of the sheet its exercise does not ask."""
    return [f"column {sheet.headers[c]!r} is not asked by this sheet: not graded"
            for c in GRADED if c in sheet.headers and c not in asked.columns]


@dataclass
class SortedRows:
    """A sheet's rows: those to grade with their layer, the TOTAL row to grade, the rows of layers the sheet
    does not ask (a TOTAL still adds up their numbers), and a note for each row not graded."""

    graded: list[tuple[Row, LayerRecord]]
    total: Row | None
    unasked: list[Row]
    notes: list[str]


def sort_rows(pairs: list[tuple[Row, Any, str | None]], asked: Asked, report: Report, total: str) -> SortedRows:
    """The rows `pairs` (row, layer or `total` or None, problem) sorted by what the exercise asks."""
    graded: list[tuple[Row, LayerRecord]] = []
    unasked: list[Row] = []
    seen: dict[str, int] = {}
    total_row: Row | None = None
    notes = []
    for row, target, problem in pairs:
        label = f"row {row.number}" + (f" {row.name!r}" if row.name else "")
        if target == total:
            if not asked.total_columns:
                notes.append(f"{label} is a total, which this sheet does not ask: not graded")
            elif total_row is not None:
                notes.append(f"{label} is a second total (row {total_row.number} is graded): not graded")
            else:
                total_row = row
        elif not isinstance(target, LayerRecord):
            notes.append(f"{label} {problem or 'is no layer'}: not graded")
        elif target.name in seen:
            notes.append(f"{label} is a second row for {target.name} (row {seen[target.name]} is graded): "
                         "not graded")
        elif target.name not in asked.names:
            what = "the input" if target is report.layers[0] else "a view that allocates no memory"
            named = f" ({target.name})" if (row.name or "").casefold() != target.name.casefold() else ""
            notes.append(f"{label} is {what}{named}, which this sheet does not ask: not graded")
            unasked.append(row)
        else:
            seen[target.name] = row.number
            graded.append((row, target))
    if len(notes) > MAX_ROW_NOTES:
        notes = notes[:MAX_ROW_NOTES] + [f"{len(notes) - MAX_ROW_NOTES} more rows are not graded"]
    return SortedRows(graded, total_row, unasked, notes)
