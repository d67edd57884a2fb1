"""`archcalc list`: the zoo as a table (name, title, input, params, MACs, source)."""

from __future__ import annotations

import re

from ..errors import ArchcalcError
from ..units import count
from .model import Cell, Column, Table
from .rows import chw


def zoo_table(pattern: str = "", units: str = "exact") -> Table:
    """Every zoo architecture with a word of its name or title starting with `pattern`
    (case-insensitive): `resnet` finds resnet50 and se-resnet50, `lenet` finds LeNet-5, not GoogLeNet."""
    from .. import zoo
    from ..analysis import analyze
    from ..graph import load

    columns = (Column("name", "Name"), Column("title", "Title", priority=2),
               Column("input", "Input (C×H×W)", "right"), Column("params", "Params", "right"),
               Column("macs", "MACs", "right"), Column("source", "Source", priority=1))
    rows = []
    for name in zoo.names():
        try:
            arch = load(name)
            if not _matches(pattern, name, arch.spec.title):
                continue
            report = analyze(arch)
        except ArchcalcError as exc:
            rows.append((Cell(name), Cell(f"error: {exc}"), Cell(), Cell(), Cell(), Cell()))
            continue
        spec = report.architecture.spec
        source = " ".join(spec.source.split())
        rows.append((Cell(name), Cell(spec.title), Cell(chw(report.input_shape)),
                     Cell(count(report.totals.params, units), report.totals.params),
                     Cell(count(report.totals.macs, units), report.totals.macs),
                     Cell(source if len(source) <= 60 else source[:59] + "…")))
    footer = (f"{len(rows)} architecture(s); MACs for one sample at the listed input size",)
    return Table("archcalc zoo" + (f" matching {pattern!r}" if pattern else ""), columns, tuple(rows), None, footer)


def _matches(pattern: str, name: str, title: str) -> bool:
    needle = pattern.lower()
    words = re.split(r"[^0-9a-z]+", f"{name} {title}".lower())
    return not needle or name.lower().startswith(needle) or any(w.startswith(needle) for w in words)
