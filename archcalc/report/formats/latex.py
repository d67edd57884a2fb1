"""`latex`: a booktabs tabular, ready for a slide (needs `\\usepackage{booktabs}`)."""

from __future__ import annotations

from ...escaping import latex_text as escape
from ..table import Table

_ALIGN = {"left": "l", "right": "r", "center": "c"}


def render(table: Table) -> str:
    spec = "".join(_ALIGN[c.align] for c in table.columns)
    lines = [f"% {escape(table.title)}", f"\\begin{{tabular}}{{{spec}}}", r"\toprule",
             " & ".join(escape(c.header) for c in table.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(escape(c.text) for c in row) + r" \\" for row in table.rows]
    if table.totals:
        lines += [r"\midrule", " & ".join(escape(c.text) for c in table.totals) + r" \\"]
        lines += [" & ".join(escape(c.text) for c in row) + r" \\" for row in table.split]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [f"% {escape(line)}" for line in table.footer]
    return "\n".join(lines) + "\n"
