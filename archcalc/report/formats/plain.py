"""Plain aligned text: what `terminal` prints into a pipe or a file (no escape codes). Every text is
shown printable (`errors.printable`): a name holding a line break, an escape sequence or a
right-to-left mark prints as `\\n`, `\\x1b`, `\\u202e`, never drives the terminal."""

from __future__ import annotations

from ...errors import printable
from .. import table_writer
from ..table import Table
from ..table_writer import GAP


def _texts(table: Table) -> list[list[str]]:
    rows = [[c.header for c in table.columns], *([x.text for x in r] for r in table.rows)]
    rows += [[x.text for x in table.totals]] if table.totals else []
    rows += [[x.text for x in row] for row in table.split]
    return [[printable(text) for text in row] for row in rows]


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
    lines = [printable(table.title), "", body[0], rule, *body[1:len(table.rows) + 1]]
    if table.totals:
        lines += [rule, *body[len(table.rows) + 1:]]
    if table.footer:
        lines += [""] + [printable(line) for line in table.footer]
    return "\n".join(lines) + "\n"


def _render_lines(table: Table) -> str:
    """`LABEL: value  header: value …` per row, padded so the fields line up."""
    sizes = widths(table)
    lines = [printable(table.title), ""]
    for row in table.rows:
        texts = [printable(cell.text) for cell in row]
        parts = [(texts[0] + ":").ljust(sizes[0] + 1), texts[1].ljust(sizes[1])]
        for text, column, size in zip(texts[2:], table.columns[2:], sizes[2:]):
            parts.append(f"{column.header}: {text.ljust(size)}")
        lines.append(" ".join(parts).rstrip())
    if table.footer:
        lines += [""] + [printable(line) for line in table.footer]
    return "\n".join(lines) + "\n"
