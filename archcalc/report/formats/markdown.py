"""`markdown`: a GitHub-flavoured pipe table, the totals as a bold last row, the footer below."""

from __future__ import annotations

from ..model import Table
from ..table_writer import pipe_table


def render(table: Table) -> str:
    rows = [[c.text for c in row] for row in table.rows]
    if table.totals:
        rows.append([f"**{c.text}**" if c.text else "" for c in table.totals])
    lines = [f"**{table.title}**", "", *pipe_table([c.header for c in table.columns], rows,
                                                   [c.align for c in table.columns])]
    if table.footer:
        lines += [""] + [f"{line}  " for line in table.footer]
    return "\n".join(lines) + "\n"
