"""The value a cell is asked to hold under the instructor's conventions, with its arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import LayerRecord, Report
from ..units import exact
from .conventions import Conventions

COUNT_COLUMNS = ("params", "ops", "memory")
SHAPE_COLUMNS = ("input", "output")


@dataclass(frozen=True)
class Expected:
    """What one cell should say: a count or a per-sample shape, and how it is computed."""

    value: int | tuple[int, ...]
    arithmetic: str = ""


def layer_input(record: LayerRecord) -> tuple[int, ...]:
    return record.input_shapes[0] if record.input_shapes else record.output_shape


def bias_count(record: LayerRecord, conventions: Conventions) -> int:
    """The biases the params column leaves out under these conventions."""
    return 0 if conventions.bias else record.biases


def expected_cell(column: str, record: LayerRecord, conventions: Conventions, report: Report) -> Expected:
    """The expected answer of `column` for one layer."""
    arithmetic = record.arithmetic()
    if column == "input":
        return Expected(layer_input(record))
    if column == "output":
        return Expected(record.output_shape, arithmetic.output)
    if column == "params":
        value = record.params - bias_count(record, conventions)
        if conventions.bias or not record.biases:
            return Expected(value, arithmetic.params)
        terms = [" × ".join(str(d) for d in p.shape) for p in record.param_tensors if p.role != "bias"]
        return Expected(value, f"{' + '.join(terms)} = {exact(value)} (biases not counted)")
    if column == "ops":
        # a layer's MACs arithmetic is per sample and ends in its total; the batch multiplies it
        macs = f"{report.batch} × {arithmetic.macs} → {exact(record.macs)}" if report.batch > 1 and record.macs \
            else arithmetic.macs
        if conventions.ops == "macs":
            return Expected(record.macs, macs)
        return Expected(record.flops, f"{macs} MACs, × 2 = {exact(record.flops)} FLOPs" if record.macs else "0")
    return _memory(record, conventions, report)


def _memory(record: LayerRecord, conventions: Conventions, report: Report) -> Expected:
    dims = " × ".join(str(d) for d in record.output_shape)
    batch = f"{report.batch} × " if report.batch > 1 else ""
    elements = record.activation_elements
    if conventions.memory == "elements":
        return Expected(elements, f"{batch}{dims} = {exact(elements)}")
    size = record.activation_bytes // max(elements, 1)
    return Expected(record.activation_bytes, f"{batch}{dims} × {size} B = {exact(record.activation_bytes)} B")


def expected_total(column: str, report: Report, conventions: Conventions) -> Expected | None:
    """The expected TOTAL row answer of `column` (None for shape columns)."""
    totals = report.totals
    if column == "params":
        removed = 0 if conventions.bias else sum(r.biases for r in report.layers)
        value = totals.params - removed
        return Expected(value, _sum_text(report, [r.params - bias_count(r, conventions) for r in report.layers],
                                         value, "params"))
    if column == "ops":
        value = totals.macs if conventions.ops == "macs" else totals.flops
        column_values = [r.macs if conventions.ops == "macs" else r.flops for r in report.layers]
        return Expected(value, _sum_text(report, column_values, value, conventions.ops.upper()))
    if column == "memory":
        allocating = [r.activation_elements for r in report.layers if r.allocates]
        if conventions.memory == "elements":
            return Expected(totals.activation_elements,
                            _sum_text(report, allocating, totals.activation_elements, "activation elements"))
        return Expected(totals.forward_memory_bytes,
                        f"{exact(totals.activation_elements)} elements × "
                        f"{totals.forward_memory_bytes // max(totals.activation_elements, 1)} B = "
                        f"{exact(totals.forward_memory_bytes)} B (input + every activation, forward only)")
    return None


def _sum_text(report: Report, values: list[int], total: int, what: str) -> str:
    terms = [v for v in values if v]
    if 1 < len(terms) <= 12:
        return f"{' + '.join(exact(v) for v in terms)} = {exact(total)}"
    return f"sum of {what} over the {len(report.layers)} layers = {exact(total)}"
