"""HTML tables for notebooks (`_repr_html_`): the rows that need attention highlighted."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

#: Row background by the state of its row: a wrong cell red, an unanswered one amber, an unreadable one grey.
COLOURS = {"wrong": "#f8d7da", "unanswered": "#fff3cd", "unparseable": "#e2e3e5", "error": "#f8d7da"}


def html_table(header: Sequence[str], rows: Sequence[tuple[Sequence[str], str]]) -> str:
    """A table of `(cells, state)` rows; the state (a verdict, `error`, or anything else) sets the colour."""
    head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in header)
    body = []
    for cells, state in rows:
        style = f" style='background:{COLOURS[state]}'" if state in COLOURS else ""
        body.append(f"<tr{style}>" + "".join(f"<td style='text-align:left'>{escape(c)}</td>" for c in cells)
                    + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
