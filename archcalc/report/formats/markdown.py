"""`markdown`: a GitHub-flavoured pipe table, the totals as a bold last row, the footer below."""

from __future__ import annotations

from ..model import Table

_RULE = {"left": ":---", "right": "---:", "center": ":---:"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(table: Table) -> str:
    lines = [f"**{table.title}**", "", "| " + " | ".join(_cell(c.header) for c in table.columns) + " |",
             "|" + "|".join(_RULE[c.align] for c in table.columns) + "|"]
    lines += ["| " + " | ".join(_cell(c.text) for c in row) + " |" for row in table.rows]
    if table.totals:
        lines.append("| " + " | ".join(f"**{_cell(c.text)}**" if c.text else "" for c in table.totals) + " |")
    if table.footer:
        lines += [""] + [f"{line}  " for line in table.footer]
    return "\n".join(lines) + "\n"
