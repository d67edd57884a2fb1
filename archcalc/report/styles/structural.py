"""`structural`: the "Structural Details" tables of the NTUST lecture (AlexNet, ResNet18) —
# | Input W H D | Output W H D | Layer | Stride | Pad | Kernel | in | out | # of Param.

Only the layers with weights are numbered, as in the ResNet18 table; an asymmetric total padding
of 1 shows as "0.5" (its half per side)."""

from __future__ import annotations

from ...analysis import LayerRecord, Report
from ...rows import edges, is_listed, kernel_window, padding
from ...units import count
from ..table import Cell, Column, Options, Table
from .common import params_split, warning_lines


def build(report: Report, options: Options) -> Table:
    units = options.units or "exact"
    columns = (
        Column("number", "#", "right"),
        Column("input_w", "Input W", "right"), Column("input_h", "Input H", "right"),
        Column("input_d", "Input D", "right"),
        Column("output_w", "Output W", "right"), Column("output_h", "Output H", "right"),
        Column("output_d", "Output D", "right"),
        Column("layer", "Layer"),
        Column("stride", "Stride", "right"), Column("pad", "Pad", "right"),
        Column("kernel_w", "Kernel W", "right"), Column("kernel_h", "Kernel H", "right"),
        Column("in", "in", "right"), Column("out", "out", "right"),
        Column("params", "# of Param", "right", unit="weights + biases"),
    )
    rows, number = [], 0
    for record in report.layers:
        if not is_listed(record):
            continue
        if record.weights:
            number += 1
        rows.append(_row(record, number if record.weights else None, units))
    t = report.totals
    totals = (Cell("Total"),) + (Cell(),) * 13 + (Cell(count(t.params, units), t.params),)
    return Table(f"{report.architecture.title} — Structural Details", columns, tuple(rows), totals,
                 tuple(warning_lines(report)), split=params_split(report, columns, units, label="layer"))


def _row(record: LayerRecord, number: int | None, units) -> tuple[Cell, ...]:
    before, after = record.input_shapes[0], record.output_shape
    window = kernel_window(record)
    if len(before) == 3 and len(after) == 3:
        shapes = [before[2], before[1], before[0], after[2], after[1], after[0]]
        cells = [Cell(str(v), v) for v in shapes]
    else:
        cells = [Cell()] * 6
    cut = edges(record)
    if cut is not None:   # a crop (a negative pad) or a zero padding: no kernel, no stride
        stride, kernel = Cell(), [Cell(), Cell()]
        pad = Cell(_halves([(-before, -after) for _, _, before, after in cut]))
    elif window is None:
        stride = pad = Cell()
        kernel = [Cell("1", 1), Cell("1", 1)]
    else:
        strides = [axis.stride for axis in window]
        stride = Cell(str(strides[0]) if len(set(strides)) == 1 else "×".join(map(str, strides)))
        pad = Cell(_pad(record))
        if len(window) == 2:
            h, w = window
            kernel = [Cell(str(w.kernel), w.kernel), Cell(str(h.kernel), h.kernel)]
        else:  # the W and H columns of a (C, H, W) table: the whole kernel in the first
            kernel = [Cell("×".join(str(axis.kernel) for axis in window)), Cell()]
    return (
        Cell(str(number) if number else "", number), *cells, Cell(record.name), stride, pad, *kernel,
        Cell(str(before[0]), before[0]), Cell(str(after[0]), after[0]),
        Cell(count(record.params, units), record.params),
    )


def _pad(record: LayerRecord) -> str:
    """Half the total padding per axis (`1`, `0.5`); `H/W` when the axes differ."""
    pads = padding(record)
    return "0" if pads is None else _halves(pads)


def _halves(pads) -> str:
    """Half the total of each axis's (before, after) widths, `H/W` when the axes differ (`−4`: a crop)."""
    halves = [f"{(a + b) / 2:g}".replace("-", "−") for a, b in pads]
    return halves[0] if len(set(halves)) == 1 else "/".join(halves)
