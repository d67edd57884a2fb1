"""Rows of strings as aligned text or as a markdown pipe table: the one writer behind the report
formats, grading's feedback and `archcalc run --profile`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ..escaping import markdown_text

Align = Literal["left", "right", "center"]
GAP = "  "
_RULE = {"left": ":---", "right": "---:", "center": ":---:"}


def widths(rows: Sequence[Sequence[str]], least: Sequence[int] = (), most: Sequence[int | None] = ()) -> list[int]:
    """Per column the widest cell, at least `least[i]` and at most `most[i]` wide (a wider cell
    overflows). A row shorter than the longest ends in a cell that runs on: that cell is not measured."""
    count = max((len(row) for row in rows), default=0)
    sizes = [0] * count
    for row in rows:
        for index, text in enumerate(row if len(row) == count else row[:-1]):
            sizes[index] = max(sizes[index], len(text))
    sizes = [max(size, bound) for size, bound in zip(sizes, [*least, *[0] * count])]
    return [size if bound is None else min(size, bound) for size, bound in zip(sizes, [*most, *[None] * count])]


def line(cells: Sequence[str], aligns: Sequence[Align], sizes: Sequence[int], gap: str = GAP) -> str:
    """One row, each cell padded to its column's size and alignment, trailing spaces removed."""
    out = []
    for text, align, size in zip(cells, aligns, sizes):
        out.append(text.rjust(size) if align == "right" else text.center(size) if align == "center"
                   else text.ljust(size))
    return gap.join(out).rstrip()


def aligned(rows: Sequence[Sequence[str]], aligns: Sequence[Align], least: Sequence[int] = (),
            most: Sequence[int | None] = ()) -> list[str]:
    """Every row as a line of aligned columns (`widths` decides the sizes)."""
    sizes = widths(rows, least, most)
    return [line(row, aligns, sizes) for row in rows]


def pipe_table(header: Sequence[str], rows: Sequence[Sequence[str]], aligns: Sequence[Align],
               strong: Sequence[str] | None = None, after: Sequence[Sequence[str]] = ()) -> list[str]:
    """A GitHub-flavoured markdown table: the header, the alignment rule, the rows, in bold the `strong`
    row (a table's totals), then the rows `after` it. Every cell is text shown as written
    (`escaping.markdown_text`: `|`, `*`, `<img ...>` and the like cannot become markup)."""
    def row_line(cells: Sequence[str], bold: bool = False) -> str:
        texts = (markdown_text(text) for text in cells)
        return "| " + " | ".join(f"**{text}**" if bold and text else text for text in texts) + " |"

    lines = [row_line(header), "|" + "|".join(_RULE[a] for a in aligns) + "|", *map(row_line, rows)]
    return lines + ([row_line(strong, bold=True)] if strong is not None else []) + [row_line(row) for row in after]
