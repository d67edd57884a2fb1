"""`json`: columns with their units, rows keyed by column (numbers as numbers), totals, footer;
and the analysis itself (docs/json.md), written piece by piece."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..table import Cell, Table


def _value(cell: Cell):
    return cell.value if cell.value is not None else cell.text


def render(table: Table) -> str:
    keys = [c.key for c in table.columns]
    data = {
        "title": table.title,
        "columns": [{"key": c.key, "header": c.header, "unit": c.unit} for c in table.columns],
        "rows": [dict(zip(keys, (_value(c) for c in row))) for row in table.rows],
        "totals": dict(zip(keys, (_value(c) for c in table.totals))) if table.totals else None,
        "split": [dict(zip(keys, (_value(c) for c in row))) for row in table.split],
        "footer": list(table.footer),
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def analysis(report, records_per_chunk: int = 1000, training=None) -> Iterator[str]:
    """`report.to_dict()` as JSON text in chunks: the top level indented, each layer, group and
    warning on one line. Made one record at a time by the C encoder, so a 100,000-layer report
    streams out in time linear in its size and in the memory of one chunk. With `training` (a
    `TrainingCost`), the step's totals follow `totals` and each layer carries its own (docs/json.md)."""
    chunk: list[str] = []
    for piece in _pieces(report, training):
        chunk.append(piece)
        if len(chunk) >= records_per_chunk:
            yield "".join(chunk)
            chunk.clear()
    yield "".join(chunk)


def _pieces(report, training=None) -> Iterator[str]:
    data = report.to_dict(layers=False)
    layers = (r.to_dict() for r in report.layers)
    if training is not None:
        data = _with_training(data, training)
        steps = training.layers
        layers = ({**r.to_dict(), "training": step.to_dict()} for r, step in zip(report.layers, steps))
    keys = list(data)
    yield "{"
    for index, key in enumerate(keys):
        yield ("\n " if index == 0 else ",\n ") + json.dumps(key) + ": "
        if key in _LISTS:
            items = layers if key == "layers" else data[key]
            empty = True
            for item in items:
                yield ("[\n  " if empty else ",\n  ") + json.dumps(item)
                empty = False
            yield "[]" if empty else "\n ]"
        else:
            yield json.dumps(data[key], indent=1).replace("\n", "\n ")
    yield "\n}\n"


_LISTS = ("layers", "groups", "warnings")


def _with_training(data: dict, training) -> dict:
    """`data` with the training step's totals (the profile that counted its FLOPs, and its memory) after
    `totals`."""
    out = {}
    for key, value in data.items():
        out[key] = value
        if key == "totals":
            out["training"] = {"count": training.count, **training.totals(), "memory": training.memory.to_dict()}
    return out
