"""The per-layer quantities the plots show (`--what`), one place for their names and units."""

from __future__ import annotations

from ..analysis import LayerRecord, Report
from ..rows import entries

MAX_BARS = 200  # more rows are drawn as one profile, without a bar or a name per layer

WHAT = {  # key → (axis label, what the total is)
    "params": ("parameters", "params"),
    "macs": ("multiply-accumulates (MACs)", "macs"),
    "memory": ("activation memory (bytes)", "forward_memory_bytes"),
    "rf": ("receptive field (pixels, height)", None),
}


def value(records: tuple[LayerRecord, ...], what: str) -> int:
    """The quantity of one layer or folded block."""
    if what == "params":
        return sum(r.params for r in records)
    if what == "macs":
        return sum(r.macs for r in records)
    if what == "memory":
        return sum(r.activation_bytes for r in records if r.allocates)
    field = records[-1].receptive_field
    return field.size[0] if field else 0


def bars(report: Report, what: str, depth: int | None = None) -> list[tuple[str, int]]:
    """(layer or block name, value) of every row that has one (layers without it are left out)."""
    if depth is None:  # a row per layer
        return [(r.name, v) for r in report.layers if r.inputs and (v := value((r,), what))]
    return [(e.name, v) for e in entries(report, depth) if e.first.inputs and (v := value(e.records, what))]


def total(report: Report, what: str) -> int | None:
    """The network's total of `what` (None for the receptive field, which does not add up)."""
    key = WHAT[what][1]
    return getattr(report.totals, key) if key else None


def envelope(values: list[int], columns: int) -> list[int]:
    """`values` in at most `columns` equal shares, in order, each share its highest value (a profile
    of thousands of layers drawn in a few hundred pixels loses no peak)."""
    columns = min(columns, len(values))
    return [max(values[i * len(values) // columns:(i + 1) * len(values) // columns]) for i in range(columns)]
