"""`html`: one self-contained page (inline CSS, no scripts, no external files)."""

from __future__ import annotations

from html import escape

from ..table import Table

_CSS = """body{font-family:system-ui,sans-serif;margin:2em}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.25em .7em;border-bottom:1px solid #ddd}th{border-bottom:2px solid #333}
tfoot td{border-top:2px solid #333;font-weight:bold}.right{text-align:right}.center{text-align:center}
p.footer{color:#555;margin:.2em 0}"""


def fragment(table: Table) -> str:
    """The table and its footer as an HTML fragment (what Report._repr_html_ shows)."""
    def row(cells, tag="td"):
        return "<tr>" + "".join(f'<{tag} class="{col.align}">{escape(text)}</{tag}>'
                                for col, text in zip(table.columns, cells)) + "</tr>"

    parts = [f"<table><caption>{escape(table.title)}</caption>",
             "<thead>" + row([c.header for c in table.columns], "th") + "</thead><tbody>"]
    parts += [row([c.text for c in r]) for r in table.rows]
    parts.append("</tbody>")
    if table.totals:
        parts.append("<tfoot>" + "".join(row([c.text for c in r]) for r in (table.totals, *table.split)) + "</tfoot>")
    parts.append("</table>")
    parts += [f'<p class="footer">{escape(line)}</p>' for line in table.footer]
    return "\n".join(parts)


def render(table: Table) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(table.title)}</title><style>{_CSS}</style></head>\n<body>\n"
            f"{fragment(table)}\n</body></html>\n")
