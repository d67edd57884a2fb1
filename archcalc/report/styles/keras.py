"""`keras`: Keras `model.summary()` as printed in the NTUST lecture ("VGG Parameters") —
Layer (type) | Output Shape (None, H, W, C) | Param # | Connected to, then the totals."""

from __future__ import annotations

from ...analysis import LayerRecord, Report
from ...layers import Shape
from ...units import count
from ..table import Cell, Column, Options, Table
from .common import param_summary_lines, warning_lines


def keras_shape(shape: Shape) -> str:
    """(C, H, W) as Keras's channels-last `(None, H, W, C)`."""
    dims = (shape[1], shape[2], shape[0]) if len(shape) == 3 else shape
    return "(" + ", ".join(["None", *(str(d) for d in dims)]) + ")"


def build(report: Report, options: Options) -> Table:
    units = options.units or "exact"
    columns = (
        Column("layer", "Layer (type)"),
        Column("output", "Output Shape"),
        Column("params", "Param #", "right", unit="weights + biases + statistics"),
        Column("connected", "Connected to"),
    )
    rows = tuple(_row(r, units) for r in report.layers)
    footer = (*param_summary_lines(report, units), *warning_lines(report))
    return Table(f"Model: \"{report.name}\"", columns, rows, None, footer)


def _row(record: LayerRecord, units) -> tuple[Cell, ...]:
    kind = record.layer.keras_form.keras1_name or record.type.capitalize()
    return (
        Cell(f"{record.name} ({kind})"),
        Cell(keras_shape(record.output_shape)),
        Cell(count(record.params, units), record.params),
        Cell(", ".join(f"{src}[0][0]" for src in record.inputs)),
    )
