"""Plain aligned text: what `terminal` prints into a pipe or a file (no escape codes)."""

from __future__ import annotations

from ..model import Table

GAP = "  "


def widths(table: Table) -> list[int]:
    rows = [[c.header for c in table.columns], *([x.text for x in r] for r in table.rows)]
    if table.totals:
        rows.append([x.text for x in table.totals])
    return [max(len(row[i]) for row in rows) for i in range(len(table.columns))]


def total_width(table: Table) -> int:
    return sum(widths(table)) + len(GAP) * (len(table.columns) - 1)


def _line(cells: list[str], table: Table, sizes: list[int]) -> str:
    out = []
    for text, column, size in zip(cells, table.columns, sizes):
        if column.align == "right":
            out.append(text.rjust(size))
        elif column.align == "center":
            out.append(text.center(size))
        else:
            out.append(text.ljust(size))
    return GAP.join(out).rstrip()


def render(table: Table) -> str:
    if table.layout == "lines":
        return _render_lines(table)
    sizes = widths(table)
    rule = "-" * (sum(sizes) + len(GAP) * (len(sizes) - 1))
    lines = [table.title, "", _line([c.header for c in table.columns], table, sizes), rule]
    lines += [_line([c.text for c in row], table, sizes) for row in table.rows]
    if table.totals:
        lines += [rule, _line([c.text for c in table.totals], table, sizes)]
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
