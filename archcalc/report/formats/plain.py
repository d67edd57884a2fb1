"""Plain aligned text: what `terminal` prints into a pipe or a file (no escape codes)."""

from __future__ import annotations

from .. import table_writer
from ..model import Table
from ..table_writer import GAP


def _texts(table: Table) -> list[list[str]]:
    rows = [[c.header for c in table.columns], *([x.text for x in r] for r in table.rows)]
    return rows + ([[x.text for x in table.totals]] if table.totals else [])


def widths(table: Table) -> list[int]:
    return table_writer.widths(_texts(table))


def total_width(table: Table) -> int:
    return sum(widths(table)) + len(GAP) * (len(table.columns) - 1)


def render(table: Table) -> str:
    if table.layout == "lines":
        return _render_lines(table)
    texts, aligns = _texts(table), [c.align for c in table.columns]
    sizes = table_writer.widths(texts)
    rule = "-" * (sum(sizes) + len(GAP) * (len(sizes) - 1))
    body = [table_writer.line(row, aligns, sizes) for row in texts]
    lines = [table.title, "", body[0], rule, *body[1:len(table.rows) + 1]]
    if table.totals:
        lines += [rule, body[-1]]
    if table.footer:
        lines += [""] + list(table.footer)
    return "\n".join(lines) + "\n"


def _render_lines(table: Table) -> str:
    """`LABEL: value  header: value …` per row, padded so the fields line up."""
    sizes = widths(table)
    lines = [table.title, ""]
    for row in table.rows:
        parts = [(row[0].text + ":").ljust(sizes[0] + 1), row[1].text.ljust(sizes[1])]
        for cell, column, size in zip(row[2:], table.columns[2:], sizes[2:]):
            parts.append(f"{column.header}: {cell.text.ljust(size)}")
        lines.append(" ".join(parts).rstrip())
    if table.footer:
        lines += [""] + list(table.footer)
    return "\n".join(lines) + "\n"
