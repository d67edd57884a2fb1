"""`full`: every number per layer in one wide table, plus the totals block."""

from __future__ import annotations

from ...analysis import Report
from ...rows import Entry, chw, entries, padding
from ...units import count, nbytes
from ..table import Cell, Column, Options, Table
from .common import flops_unit, params_split, totals_lines, warning_lines

#: How the shape columns name the axes of a (C, L) signal and a (C, T, H, W) clip.
AXES_ORDER = {2: "C×L", 4: "C×T×H×W"}


def build(report: Report, options: Options) -> Table:
    units = options.units or "exact"
    ops = options.ops
    ops_header = "MACs" if ops == "macs" else "FLOPs"
    order = AXES_ORDER.get(len(report.input_shape), "C×H×W")  # a signal's C×L, a clip's C×T×H×W
    columns = (
        Column("layer", "Layer"),
        Column("type", "Type", priority=3),
        Column("input", f"Input ({order})", "right", priority=2),
        Column("output", f"Output ({order})", "right"),
        Column("window", "Kernel/stride pad", "left", priority=4),
        Column("params", "Params", "right", unit="count"),
        Column(ops, ops_header, "right", unit="multiply-accumulates" if ops == "macs" else flops_unit(report)),
        Column("memory", f"Activation ({report.dtype})", "right", unit="bytes", priority=1),
        Column("rf", "Receptive field", "right", priority=5),
    )
    rows = tuple(_row(entry, units, ops) for entry in entries(report, options.depth))
    t = report.totals
    totals = (Cell("Total"), Cell(), Cell(), Cell(), Cell(),
              Cell(count(t.params, units), t.params),
              Cell(count(getattr(t, ops), units), getattr(t, ops)),
              Cell(nbytes(t.forward_memory_bytes, units), t.forward_memory_bytes), Cell())
    title = f"{report.architecture.title} — input {chw(report.input_shape)}, batch {report.batch}"
    return Table(title, columns, rows, totals, tuple(totals_lines(report, units) + warning_lines(report)),
                 split=params_split(report, columns, units))


def _row(entry: Entry, units, ops: str) -> tuple[Cell, ...]:
    params = entry.total("params")
    op_count = entry.total(ops)
    memory = entry.memory_bytes
    shape_in = chw(entry.input_shape) if entry.input_shape else ""
    kind = f"{entry.type} ({len(entry.records)} layers)" if entry.group else entry.type
    field = entry.last.receptive_field
    rf = ""
    if field and set(field.size) != {1}:
        jump = str(field.jump[0]) if len(set(field.jump)) == 1 else "×".join(map(str, field.jump))
        rf = f"{'×'.join(map(str, field.size))} /{jump}"
    memory_text = nbytes(memory, units) if entry.first.allocates or entry.group else "0 (shared)"
    return (
        Cell(entry.name), Cell(kind), Cell(shape_in), Cell(chw(entry.output_shape)),
        Cell("" if entry.group else _window(entry)),
        Cell(count(params, units), params), Cell(count(op_count, units), op_count),
        Cell(memory_text, memory), Cell(rf),
    )


def _window(entry: Entry) -> str:
    """`3×3/2 p1 dw`: kernel/stride, padding, and a grouped convolution's groups (`Layer.grouping_label`)."""
    record = entry.first
    text = record.layer.describe() if record.input_shapes else ""
    pads = padding(record)
    if pads and any(any(p) for p in pads):
        widths = [p for side in pads for p in side]
        text += f" p{widths[0]}" if len(set(widths)) == 1 else f" p({','.join(map(str, widths))})"
    return " ".join(filter(None, (text, record.layer.grouping_label(list(record.input_shapes)))))
