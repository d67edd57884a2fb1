"""`archcalc compare`: the totals of several architectures side by side with their ratio to the
first, then per-layer or per-block rows aligned by name (blank where a name is missing)."""

from __future__ import annotations

from ..analysis import Report
from ..rows import entries
from ..units import count, nbytes, unit_note
from .styles.common import STATISTICS
from .table import Cell, Column, Table

_METRICS = (("params", "Params", "params", False), ("macs", "MACs", "MACs", False),
            ("flops", "FLOPs (2 × MACs)", "FLOPs", False),
            ("forward_memory_bytes", "Forward memory", "forward memory", True),
            ("peak_memory_bytes", "Peak memory", "peak memory", True),
            ("param_bytes", "Parameter memory", "parameter memory", True))


def ratio(first: int, other: int, what: str, is_bytes: bool = False) -> str:
    """`21× fewer MACs`, `2.0× more params`, `1.3× less peak memory`: two significant digits, and
    `about the same` within 5 %."""
    if first == other:
        return f"same {what}"
    if not first or not other:
        return ""
    factor = max(first, other) / min(first, other)
    if factor < 1.05:
        return f"about the same {what}"
    shown = f"{factor:.1f}" if factor < 9.95 else f"{float(f'{factor:.2g}'):,.0f}"
    fewer = "less" if is_bytes else "fewer"
    return f"{shown}× {fewer if other < first else 'more'} {what}"


def compare_table(reports: list[Report], units: str = "si", depth: int | None = 1) -> Table:
    """Totals, then rows of MACs and params per aligned name, each with the ratio to the first."""
    names = [r.name for r in reports]
    columns = [Column("metric", "")]
    for index, name in enumerate(names):
        columns.append(Column(f"a{index}", name, "right"))
        if index:
            columns.append(Column(f"r{index}", f"{name} vs {names[0]}", "left"))
    rows = []
    for key, label, what, is_bytes in _METRICS:
        rows.append(_row(label, [getattr(r.totals, key) for r in reports], is_bytes, units, what))
        if key == "params" and any(r.totals.non_trainable_params for r in reports):
            rows.append(_row("  trainable", [r.totals.trainable_params for r in reports], False, units,
                             "trainable params"))
            if any(r.totals.frozen_params for r in reports):
                rows.append(_row("  + frozen", [r.totals.frozen_params for r in reports], False, units,
                                 "frozen params"))
            rows.append(_row(f"  + {STATISTICS}", [r.totals.statistics for r in reports], False, units,
                             STATISTICS))
    aligned = _aligned(reports, depth)
    for name, per in aligned.items():
        rows.append(_row(f"{name}: MACs", [p[0] if p else None for p in per], False, units, "MACs"))
        rows.append(_row(f"{name}: params", [p[1] if p else None for p in per], False, units, "params"))
    lines = [_breakdown(r, depth, units) for r in reports]
    footer = tuple(line for line in lines if line) + (f"Units: {unit_note(units)}; MACs = multiply-accumulates",)
    return Table("Comparison: " + " vs ".join(names), tuple(columns), tuple(rows), None, footer)


def _row(label: str, values: list[int | None], is_bytes: bool, units, what: str) -> tuple[Cell, ...]:
    show = nbytes if is_bytes else count
    cells = [Cell(label)]
    for index, value in enumerate(values):
        cells.append(Cell("—" if value is None else show(value, units), value))
        if index:
            text = ratio(values[0], value, what, is_bytes) if values[0] is not None and value is not None else ""
            cells.append(Cell(text))
    return tuple(cells)


def _aligned(reports: list[Report], depth: int | None) -> dict[str, list[tuple[int, int] | None]]:
    """Name → per report (MACs, params) of the layer or block of that name, in first-seen order."""
    found: dict[str, list[tuple[int, int] | None]] = {}
    for index, report in enumerate(reports):
        for entry in entries(report, depth):
            if not entry.first.input_shapes or not (entry.total("macs") or entry.total("params")):
                continue
            slot = found.setdefault(entry.name, [None] * len(reports))
            slot[index] = (entry.total("macs"), entry.total("params"))
    return found


def _breakdown(report: Report, depth: int | None, units) -> str:
    """`inception-1x1: MACs 5.3M = 1.5M (reduce1x1) + 3.8M (conv5x5)` when several rows add up."""
    parts = [(e.name, e.total("macs")) for e in entries(report, depth) if e.total("macs")]
    if len(parts) < 2:
        return ""
    terms = " + ".join(f"{count(macs, units)} ({name})" for name, macs in parts)
    return f"{report.name}: MACs {count(report.totals.macs, units)} = {terms}"
