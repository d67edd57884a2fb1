"""`terminal`: a rich table with colour on a terminal, plain aligned text otherwise."""

from __future__ import annotations

import io
import shutil
import sys
from dataclasses import replace

from ...errors import printable
from ..table import Table
from . import plain


def render(table: Table, *, color: bool | None = None, width: int | None = None) -> str:
    if color is None:
        color = sys.stdout.isatty()
    width = width or shutil.get_terminal_size((200, 50)).columns
    table = narrowed(table, width)
    if not color:
        return plain.render(table)
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False)
    console.print(rich_table(table))
    return buffer.getvalue()


def narrowed(table: Table, width: int) -> Table:
    """Drop the highest-priority-number columns until the table fits `width` characters; a footer
    line says which were hidden and how to see them."""
    hidden = []
    while plain.total_width(table) > width:
        droppable = [c for c in table.columns if c.priority > 0]
        if not droppable:
            break
        column = max(droppable, key=lambda c: c.priority)
        hidden.append(column)
        table = table.without({column.key})
    if not hidden:
        return table
    names = ", ".join(f"{c.header} ({c.key})" for c in hidden)
    note = (f"note: hidden to fit {width} columns: {names}; widen the terminal, pick columns with "
            "--columns, or use --format markdown")
    return replace(table, footer=(*table.footer, note))


def rich_table(table: Table):
    """The Table as a rich renderable (also what Report.__rich__ returns)."""
    from rich import box
    from rich.console import Group
    from rich.table import Table as RichTable
    from rich.text import Text

    if table.layout == "lines":
        return Group(Text(plain.render(table).rstrip("\n")))
    def text(words: str, style: str = "") -> Text:
        """Printable text, never markup: a layer named `[link=...]x` prints as written."""
        return Text(printable(words), style=style)

    out = RichTable(title=text(table.title), box=box.SIMPLE_HEAVY, show_footer=bool(table.totals),
                    header_style="bold cyan", footer_style="bold", title_style="bold")
    for index, column in enumerate(table.columns):
        footer = text("\n".join([table.totals[index].text, *(row[index].text for row in table.split)]),
                      ) if table.totals else ""
        out.add_column(text(column.header), justify=column.align, footer=footer,
                       style="green" if column.unit else None)
    for row in table.rows:
        out.add_row(*(text(cell.text) for cell in row))
    if not table.footer:
        return out
    return Group(out, Text("\n".join(printable(line) for line in table.footer), style="dim"))
