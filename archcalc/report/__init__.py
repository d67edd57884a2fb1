"""Reports: styles (which columns, laid out like which lecture) × formats (how it is written).

    table = to_table(report, "lecture")          # a Table
    text = render(table, "markdown")             # any style in any format
"""

from __future__ import annotations

from .formats import FORMATS, render
from .styles import STYLES
from .table import Cell, Column, Options, Table


def to_table(report, style: str = "full", *, units=None, ops: str = "macs", depth: int | None = None,
             columns: list[str] | tuple[str, ...] | None = None) -> Table:
    """The Table of `report` in `style`, with the numbers' units, MACs or FLOPs, `depth`
    collapse and a choice of columns (by key)."""
    from ..errors import SpecError
    from ..units import UNITS
    from .styles import build

    if units is not None and units not in UNITS:
        raise SpecError(f"unknown units {units!r}; choose one of {', '.join(UNITS)}")
    if ops not in ("macs", "flops"):
        raise SpecError(f"ops must be 'macs' or 'flops', got {ops!r}")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise SpecError(f"depth must be a positive integer, got {depth!r}")
    table = build(report, style, Options(units, ops, depth))
    return table.select(list(columns)) if columns else table


__all__ = ["FORMATS", "STYLES", "Cell", "Column", "Options", "Table", "render", "to_table"]
