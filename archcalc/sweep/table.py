"""A sweep's rows as a report Table, for every format the other commands write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..report.table import Cell, Column, Table
from ..units import count, nbytes
from .rows import NUMBERS

_HEADERS = {"params": "Params", "trainable_params": "Trainable", "macs": "MACs", "flops": "FLOPs",
            "forward_memory_bytes": "Forward memory", "peak_memory_bytes": "Peak memory",
            "param_bytes": "Param memory", "rf_height": "RF height", "rf_width": "RF width", "layers": "Layers"}
_UNITS = {"count": "count", "bytes": "bytes", "pixels": "pixels"}
# shown on a terminal first; the others are dropped first when it is narrow
_PRIORITY = {"params": 0, "macs": 0, "flops": 3, "trainable_params": 4, "forward_memory_bytes": 2,
             "peak_memory_bytes": 2, "param_bytes": 4, "rf_height": 3, "rf_width": 4, "layers": 5}


def sweep_table(rows: Sequence[dict[str, Any]], keys: Sequence[str], counts: Sequence[str], title: str,
                units: str = "si", footer: Sequence[str] = ()) -> Table:
    """One row per variant: `variant`, the grid's names, the numbers, and the error of an invalid variant."""
    numbers = [*NUMBERS, *(f"flops_{c}" for c in counts)]
    columns = [Column("variant", "#", "right"), *(Column(k, k) for k in keys)]
    for key in numbers:
        unit = _UNITS[NUMBERS[key][1]] if key in NUMBERS else "count"
        header = _HEADERS.get(key) or f"FLOPs ({key.removeprefix('flops_')})"
        columns.append(Column(key, header, "right", unit=unit, priority=_PRIORITY.get(key, 3)))
    columns.append(Column("error", "Error", priority=1))
    table_rows = []
    for row in rows:
        cells = [Cell(str(row["variant"]), row["variant"])]
        cells += [_value_cell(row.get(k)) for k in keys]
        for key in numbers:
            value = row.get(key)
            if value is None:
                cells.append(Cell())
            elif key.endswith("_bytes"):
                cells.append(Cell(nbytes(value, units), value))
            else:
                cells.append(Cell(count(value, units) if key not in ("rf_height", "rf_width", "layers")
                                  else f"{value:,}", value))
        cells.append(Cell(row.get("error") or ""))
        table_rows.append(tuple(cells))
    return Table(title, tuple(columns), tuple(table_rows), None, tuple(footer))


def _value_cell(value: Any) -> Cell:
    if isinstance(value, bool) or value is None:
        return Cell(str(value).lower() if value is not None else "null")
    if isinstance(value, int | float):
        return Cell(f"{value:g}" if isinstance(value, float) else str(value), value)
    if isinstance(value, list):
        import json

        return Cell(json.dumps(value))
    return Cell(value)
