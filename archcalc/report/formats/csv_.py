"""`csv`: the header, every row and the totals row, cells as displayed (RFC 4180 quoting)."""

from __future__ import annotations

import csv
import io

from ..model import Table


def render(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.header for c in table.columns])
    writer.writerows([c.text for c in row] for row in table.rows)
    if table.totals:
        writer.writerow([c.text for c in table.totals])
    return buffer.getvalue()
