"""`json`: columns with their units, rows keyed by column (numbers as numbers), totals, footer."""

from __future__ import annotations

import json

from ..model import Cell, Table


def _value(cell: Cell):
    return cell.value if cell.value is not None else cell.text


def render(table: Table) -> str:
    keys = [c.key for c in table.columns]
    data = {
        "title": table.title,
        "columns": [{"key": c.key, "header": c.header, "unit": c.unit} for c in table.columns],
        "rows": [dict(zip(keys, (_value(c) for c in row))) for row in table.rows],
        "totals": dict(zip(keys, (_value(c) for c in table.totals))) if table.totals else None,
        "footer": list(table.footer),
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"
