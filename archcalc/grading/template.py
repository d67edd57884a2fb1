"""The blank answer sheet a student fills in: one row per layer, optionally with given cells.

The sheet opens with what it asks: an `archcalc sheet:` line (conventions, input size, architecture)
that `archcalc check` reads back, and a `student:` line for the student's name.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from ..analysis import Report, analyze
from ..escaping import csv_cell, markdown_text
from .asks import sheet_line
from .conventions import SHAPE_ORDER_NAMES, Conventions, written_in
from .expected import COUNT_COLUMNS, expected_cell, expected_total
from .shape_order import short
from .sheet import GRADED, SheetError

#: A layer name that no markdown reads as markup (an `_` inside a word is not emphasis), written as it is in
#: a markdown sheet, which students edit by hand; any other name is escaped.
_PLAIN = re.compile(r"[A-Za-z0-9](?:[\w./ -]*[A-Za-z0-9])?")
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
    if has_total_row(order, total):
        cells = ["TOTAL"]
        for column in order:
            expected = expected_total(column, report, conventions)
            cells.append("—" if expected is None else f"{expected.value:,}" if column in given else "")
        rows.append(cells)
    return rows


def has_total_row(columns: list[str], total: bool) -> bool:
    """Whether a sheet of `columns` ends with a TOTAL row: when asked for one and a column has a total."""
    return total and any(c in COUNT_COLUMNS for c in columns)


FORMATS = ("csv", "tsv", "markdown")


def render_template(rows: list[list[str]], fmt: str, asks: dict[str, Any] | None = None,
                    describe: str = "") -> str:
    """The rows as CSV, TSV or a markdown table, under the `archcalc sheet:` line of `asks` and a `student:` line."""
    if fmt in ("csv", "tsv"):
        buffer = io.StringIO()
        csv.writer(buffer, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n").writerows(
            [[csv_cell(cell) for cell in row] for row in rows])
        head = [f"# {sheet_line(asks)}", "# student:"] if asks else []
        return "".join(line + "\n" for line in head) + buffer.getvalue()
    rows = [[cell if _PLAIN.fullmatch(cell) else markdown_text(cell) for cell in row] for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    head = [f"<!-- {sheet_line(asks)} -->", "", "student:", "", f"Conventions: {describe}.", ""] if asks else []
    return "\n".join(head + lines) + "\n"


def sheet_asks_of(report: Report, conventions: Conventions, columns: list[str], given: list[str], total: bool
                  ) -> dict[str, Any]:
    """What a sheet of `report` under `conventions` asks, as its `archcalc sheet:` line says it: the `columns`
    not `given`, and whether its TOTAL row is."""
    asked = [c for c in columns if c not in given]
    return {"architecture": report.name, "input": list(report.layers[0].output_shape),
            **({"columns": asked} if asked else {}), "total": has_total_row(columns, total), **conventions.to_dict()}


def template(arch: Any, columns: str | list[str] = "output,params", *, given: str | list[str] = (),
             conventions: Conventions | dict[str, Any] | None = None, input: list[int] | None = None,
             format: str = "csv", total: bool = True) -> str:
    """The blank sheet of `arch` (a zoo name, path or mapping) as text: `columns` to fill in, `given`
    columns filled in, in `format` (csv, tsv or markdown), saying its conventions and input size."""
    from .sheet import SheetError

    if format not in FORMATS:
        raise SheetError(f"template format must be one of {', '.join(FORMATS)}, got {format!r}")
    conventions = Conventions.coerce(conventions)
    handed = column_names(given, "given") if given else []
    chosen = column_names(columns) + [c for c in handed if c not in column_names(columns)]
    report = analyze(arch, input=input, batch=conventions.batch, dtype=conventions.dtype)
    rows = template_rows(report, chosen, handed, conventions, total)
    asks = sheet_asks_of(report, conventions, chosen, handed, total)
    return render_template(rows, format, asks, describe(report, conventions))


def describe(report: Report, conventions: Conventions) -> str:
    """The sheet's conventions and input size in words."""
    return f"{conventions.describe()}, input {'×'.join(map(str, report.layers[0].output_shape))} (C×H×W)"
