"""The blank answer sheet a student fills in: one row per layer, optionally with given cells."""

from __future__ import annotations

import csv
import io

from ..analysis import Report
from .conventions import SHAPE_ORDER_NAMES, Conventions, written_in
from .expected import expected_cell, expected_total
from .shape_order import short
from .sheet import GRADED, SheetError

COLUMN_ALIASES = {"macs": "ops", "flops": "ops", "shape": "output", "weights": "params", "mem": "memory"}


def column_names(text: str | list[str] | tuple[str, ...], what: str = "--columns") -> list[str]:
    """Column keys from `output,params` (aliases: macs/flops → ops, shape → output)."""
    items = text.split(",") if isinstance(text, str) else list(text)
    columns = []
    for item in (i.strip().lower() for i in items if i.strip()):
        column = COLUMN_ALIASES.get(item, item)
        if column not in GRADED:
            raise SheetError(f"{what}: unknown column {item!r}; choose among {', '.join(GRADED)}")
        if column not in columns:
            columns.append(column)
    return columns


def header(column: str, conventions: Conventions, given: bool) -> str:
    order = "" if conventions.shapes == "auto" else f" ({short(SHAPE_ORDER_NAMES[conventions.shapes])})"
    text = {
        "input": f"input shape{order}", "output": f"output shape{order}",
        "params": "params" if conventions.bias else "params (without biases)",
        "ops": "MACs" if conventions.ops == "macs" else "FLOPs",
        "memory": f"memory ({conventions.memory})",
    }[column]
    return f"{text} (given)" if given else text


def _shape(shape: tuple[int, ...], style: str) -> str:
    """A given shape as the sheet's order writes it (Keras as `(None, H, W, C)`)."""
    if len(shape) != 3:
        return "×".join(str(d) for d in shape)
    dims = written_in(shape, SHAPE_ORDER_NAMES[style])
    return f"(None, {', '.join(map(str, dims))})" if style == "keras" else "×".join(map(str, dims))


def template_rows(report: Report, columns: list[str], given: list[str], conventions: Conventions,
                  total: bool = True) -> list[list[str]]:
    """The sheet as rows of text, header first; given columns come first and are filled in, their shapes in
    the conventions' order (W×H×D for auto)."""
    shape_style = "lecture" if conventions.shapes == "auto" else conventions.shapes
    order = [c for c in columns if c in given] + [c for c in columns if c not in given]
    rows = [["layer"] + [header(c, conventions, c in given) for c in order]]
    for record in report.layers:
        cells = [record.name]
        for column in order:
            if column not in given:
                cells.append("")
                continue
            value = expected_cell(column, record, conventions, report).value
            cells.append(_shape(value, shape_style) if isinstance(value, tuple) else f"{value:,}")
        rows.append(cells)
    if total and any(c in ("params", "ops", "memory") for c in order):
        cells = ["TOTAL"]
        for column in order:
            expected = expected_total(column, report, conventions)
            cells.append("—" if expected is None else f"{expected.value:,}" if column in given else "")
        rows.append(cells)
    return rows


def render_template(rows: list[list[str]], fmt: str) -> str:
    """The rows as CSV or as a markdown table."""
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue()
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines) + "\n"
