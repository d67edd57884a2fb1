"""`markdown`: a GitHub-flavoured pipe table, the totals as a bold last row, the footer below; every
text shown as written (`escaping.markdown_text`), so a layer named `<img src=x onerror=...>` stays text."""

from __future__ import annotations

from ...escaping import markdown_text
from ..table import Table
from ..table_writer import pipe_table


def render(table: Table) -> str:
    rows = [[c.text for c in row] for row in table.rows]
    totals = [c.text for c in table.totals] if table.totals else None
    split = [[c.text for c in row] for row in table.split]
    lines = [f"**{markdown_text(table.title)}**", "", *pipe_table([c.header for c in table.columns], rows,
                                                                  [c.align for c in table.columns], totals, split)]
    if table.footer:
        lines += [""] + [f"{markdown_text(line)}  " for line in table.footer]
    return "\n".join(lines) + "\n"
