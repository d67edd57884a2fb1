"""`lecture`: the LeNet-5 table of the NTUST lecture (Example 3.1) — Layer Name | Input W×H×D |
Kernel W×H×D/S | Output W×H×D | Params, with the arithmetic of every parameter count."""

from __future__ import annotations

from ...analysis import LayerRecord, Report
from ...rows import edge_text, is_listed, kernel_window, whd, windows
from ...units import count
from ..table import Cell, Column, Options, Table
from .common import params_split, warning_lines


def build(report: Report, options: Options) -> Table:
    units = options.units or "exact"
    columns = (
        Column("layer", "Layer Name"),
        Column("input", "Input W×H×D", "center"),
        Column("kernel", "Kernel W×H×D/S", "center"),
        Column("output", "Output W×H×D", "center"),
        Column("params", "Params", "right", unit="weights + biases"),
    )
    rows = tuple(_row(r) for r in report.layers if is_listed(r))
    t = report.totals
    totals = (Cell("Total"), Cell(), Cell(), Cell(), Cell(count(t.params, units), t.params))
    return Table(f"{report.architecture.title} — parameters", columns, rows, totals,
                 tuple(warning_lines(report)), split=params_split(report, columns, units))


def _row(record: LayerRecord) -> tuple[Cell, ...]:
    return (
        Cell(f"{record.name}: {_label(record)}"),
        Cell(whd(record.input_shapes[0])),
        Cell(_kernel(record)),
        Cell(whd(record.output_shape)),
        Cell(record.arithmetic().params if record.params else "0", record.params),
    )


def _label(record: LayerRecord) -> str:
    window = windows(record)
    if record.params == 0 and window is not None and edge_text(record) is None:
        return f"pool/{window[-1].stride}"
    return record.layer.lecture_name or record.type


def _kernel(record: LayerRecord) -> str:
    """`3 × 3 × 64 / 2` (kernel and filters, stride); a pooling's window; a crop's sizes and cut (U-Net's
    `64 → 56, 4 cut per side`)."""
    cut = edge_text(record)
    if cut is not None:
        return cut
    window = kernel_window(record)
    if window is None:
        return f"1 × 1 × {record.output_shape[0]}"
    strides = [axis.stride for axis in reversed(window)]  # width first, as the lecture writes them
    stride = strides[0] if len(set(strides)) == 1 else "×".join(map(str, strides))
    extent = " × ".join(str(axis.kernel) for axis in reversed(window))
    if record.params == 0:
        return f"{extent} / {stride}"
    kernel = f"{extent} × {record.output_shape[0]}"
    return kernel if stride == 1 else f"{kernel} / {stride}"
