"""`archcalc list`: the zoo as a table (name, title, input, params, MACs, source)."""

from __future__ import annotations

from ..errors import ArchcalcError
from ..units import count
from .model import Cell, Column, Table
from .rows import chw


def zoo_table(pattern: str = "", units: str = "exact") -> Table:
    """Every zoo architecture whose name (or title) contains `pattern`, case-insensitive."""
    from .. import zoo
    from ..analysis import analyze

    columns = (Column("name", "Name"), Column("title", "Title", priority=2),
               Column("input", "Input (C×H×W)", "right"), Column("params", "Params", "right"),
               Column("macs", "MACs", "right"), Column("source", "Source", priority=1))
    rows = []
    needle = pattern.lower()
    for name in zoo.names():
        try:
            report = analyze(name)
        except ArchcalcError as exc:
            rows.append((Cell(name), Cell(f"error: {exc}"), Cell(), Cell(), Cell(), Cell()))
            continue
        spec = report.architecture.spec
        if needle and needle not in name.lower() and needle not in spec.title.lower():
            continue
        source = " ".join(spec.source.split())
        rows.append((Cell(name), Cell(spec.title), Cell(chw(report.input_shape)),
                     Cell(count(report.totals.params, units), report.totals.params),
                     Cell(count(report.totals.macs, units), report.totals.macs),
                     Cell(source if len(source) <= 60 else source[:59] + "…")))
    footer = (f"{len(rows)} architecture(s); MACs for one sample at the listed input size",)
    return Table("archcalc zoo" + (f" matching {pattern!r}" if pattern else ""), columns, tuple(rows), None, footer)
