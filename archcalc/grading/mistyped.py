"""Rows whose label names no layer (`fcc2` for `fc2`): graded as the layer where they stand.

Rows are matched to layers by name first. A row left over lies between two matched rows (or the start
or end of the table, or its TOTAL row); the layers between those two that the sheet asks and that no
row names are its candidates. When a gap holds as many unmatched rows as candidates, they pair in order
(its position); otherwise a row pairs with the candidate its label is closest to when that candidate is
the first or last of the gap, that is, where the row stands. Every such pairing is said in a note, and
the sheet asks the same cells as a sheet without the typo.
"""

from __future__ import annotations

import difflib
from typing import Any

from ..analysis import LayerRecord, Report
from .sheet import Row

Pair = tuple[Row, Any, "str | None"]


def read_mistyped(pairs: list[Pair], asked: frozenset[str], report: Report, total: str
                  ) -> tuple[list[Pair], list[str]]:
    """`pairs` (row, record or `total` or None, problem) with the unmatched named rows paired with the
    `asked` layers where their position or label leaves no doubt; and a note for each."""
    layers = list(report.layers)
    order = {record.name: index for index, record in enumerate(layers)}
    taken = {record.name for _, record, _ in pairs if isinstance(record, LayerRecord)}
    pairs, notes = list(pairs), []
    for gap, start, end in list(_gaps(pairs, order, len(layers), total)):
        free = [r for r in layers[start + 1:end] if r.name not in taken and r.name in asked]
        if not free:
            continue
        if len(gap) == len(free):
            found = [(index, record, "its position") for index, record in zip(gap, free)]
        else:
            found = []
            for index in gap:
                record = _closest(pairs[index][0].name or "", free)
                if record is not None and record in (free[0], free[-1]):
                    found.append((index, record, "the closest name where it stands"))
        for index, record, how in found:
            if record.name in taken:
                continue
            row = pairs[index][0]
            taken.add(record.name)
            pairs[index] = (row, record, None)
            notes.append(f"row {row.number} is labelled {row.name!r}, which is no layer of {report.name}: graded as "
                         f"{record.name} ({how})")
    return pairs, notes


def _gaps(pairs: list[Pair], order: dict[str, int], end: int, total: str):
    """(indices of consecutive unmatched named rows, the layer index before them, the one after them)."""
    anchor, gap = -1, []
    for index, (row, record, _) in enumerate(pairs):
        if isinstance(record, LayerRecord) or record == total:
            position = end if record == total else order[record.name]
            if gap:
                yield gap, anchor, position
            anchor, gap = position, []
        elif row.name:
            gap.append(index)
    if gap:
        yield gap, anchor, end


def _closest(label: str, records: list[LayerRecord]) -> LayerRecord | None:
    names = {record.name.casefold(): record for record in records}
    close = difflib.get_close_matches(label.strip().casefold(), list(names), n=1)
    return names[close[0]] if close else None
