"""`archcalc list`: the zoo as a table (name, title, input, params, MACs, source)."""

from __future__ import annotations

import re

from ..units import count
from .table import Cell, Column, Table

SHORT_SOURCE = 60


def zoo_table(pattern: str = "", units: str = "exact", shorten: bool = False) -> Table:
    """Every zoo architecture with a word of its name or title starting with `pattern`
    (case-insensitive): `resnet` finds resnet50 and se-resnet50, `lenet` finds LeNet-5, not GoogLeNet.
    `shorten` cuts long sources with "…" (for a terminal; machine formats get every field whole)."""
    from .zoo_index import entries

    columns = (Column("name", "Name"), Column("title", "Title", priority=2),
               Column("input", "Input (C×H×W)", "right"), Column("params", "Params", "right", unit="count"),
               Column("macs", "MACs", "right", unit="multiply-accumulates"), Column("source", "Source", priority=1))
    rows = []
    for entry in entries():
        name = entry["name"]
        if "error" in entry:
            if _matches(pattern, name, ""):
                rows.append((Cell(name), Cell(f"error: {entry['error']}"), Cell(), Cell(), Cell(), Cell()))
            continue
        if not _matches(pattern, name, entry["title"]):
            continue
        source = entry["source"]
        if shorten and len(source) > SHORT_SOURCE:
            source = source[:SHORT_SOURCE - 1] + "…"
        rows.append((Cell(name), Cell(entry["title"]), Cell("×".join(str(v) for v in entry["input"])),
                     Cell(count(entry["params"], units), entry["params"]),
                     Cell(count(entry["macs"], units), entry["macs"]), Cell(source)))
    footer = (f"{len(rows)} architecture(s); MACs for one sample at the listed input size",)
    return Table("archcalc zoo" + (f" matching {pattern!r}" if pattern else ""), columns, tuple(rows), None, footer)


def _matches(pattern: str, name: str, title: str) -> bool:
    needle = pattern.lower()
    words = re.split(r"[^0-9a-z]+", f"{name} {title}".lower())
    return not needle or name.lower().startswith(needle) or any(w.startswith(needle) for w in words)
