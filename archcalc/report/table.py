"""The table model every style produces and every format renders: columns, rows of cells, a
totals row and footer lines. Styles decide *what* is shown, formats *how*."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ..errors import SpecError
from ..units import Units

Align = Literal["left", "right", "center"]
Layout = Literal["grid", "lines"]


@dataclass(frozen=True)
class Column:
    """One column: `key` (for --columns and machine formats), its header, alignment, a note on
    its unit, and `priority` (higher is dropped first when a terminal is too narrow)."""

    key: str
    header: str
    align: Align = "left"
    unit: str = ""
    priority: int = 0


@dataclass(frozen=True)
class Cell:
    """What a cell shows, and the number behind it (for JSON) where there is one."""

    text: str = ""
    value: int | float | None = None


@dataclass(frozen=True)
class Table:
    """A titled table. `layout="lines"` tables (cs231n) read as `label: value` lines in text. `split`:
    rows right under the totals that split one of them (the parameters: trainable + statistics)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    totals: tuple[Cell, ...] | None = None
    footer: tuple[str, ...] = ()
    layout: Layout = "grid"
    split: tuple[tuple[Cell, ...], ...] = ()

    def select(self, keys: list[str]) -> Table:
        """Only the columns named by key, in that order; SpecError for an unknown key."""
        index = {c.key: i for i, c in enumerate(self.columns)}
        unknown = [k for k in keys if k not in index]
        if unknown:
            raise SpecError(f"unknown column {unknown[0]!r}; this table has: {', '.join(index)}")
        chosen = [index[k] for k in keys]
        return replace(
            self,
            columns=tuple(self.columns[i] for i in chosen),
            rows=tuple(tuple(row[i] for i in chosen) for row in self.rows),
            totals=tuple(self.totals[i] for i in chosen) if self.totals else None,
            split=tuple(tuple(row[i] for i in chosen) for row in self.split),
        )

    def without(self, keys: set[str]) -> Table:
        return self.select([c.key for c in self.columns if c.key not in keys])


@dataclass(frozen=True)
class Options:
    """How a style shows its numbers: `units` (None: the style's own, e.g. the paper's K),
    `ops` (the MACs or the FLOPs column) and `depth` (collapse paths deeper than this into one
    summed row)."""

    units: Units | None = None
    ops: Literal["macs", "flops"] = "macs"
    depth: int | None = None
