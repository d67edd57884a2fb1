"""`csv`: the header, every row and the totals row (RFC 4180 quoting). Cells that stand for a
number hold that number as is (`138357544`, no separators, no unit letters), so spreadsheets and
pandas read numbers; a column's unit is in its header (`Params (count)`). Text that a spreadsheet
would run as a formula (a layer named `=HYPERLINK(...)`) is neutralised (`escaping.csv_cell`)."""

from __future__ import annotations

import csv
import io

from ...escaping import csv_cell
from ..table import Cell, Column, Table


def header(column: Column) -> str:
    return csv_cell(f"{column.header} ({column.unit})" if column.unit else column.header)


def _cell(cell: Cell) -> str | int | float:
    if cell.value is not None:
        return cell.value
    # dashes alone (torchinfo's `--`, Keras's `-` for "none") are a placeholder, no formula
    return cell.text if cell.text and not cell.text.strip("-") else csv_cell(cell.text)


def render(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([header(c) for c in table.columns])
    writer.writerows([_cell(c) for c in row] for row in table.rows)
    if table.totals:
        writer.writerow([_cell(c) for c in table.totals])
    return buffer.getvalue()
