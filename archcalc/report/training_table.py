"""`archcalc table --training`: the cost of one training step per layer (archcalc.training) — forward,
grad-input and grad-weight MACs and the parameters each layer updates; the backward, the update, the
step and its memory (archcalc.step_memory) in the footer; with a tool's profile (`--count
torch-train`), its forward and backward FLOPs too."""

from __future__ import annotations

from ..analysis import Report
from ..rows import Entry, chw, entries
from ..step_memory import NOT_INCLUDED
from ..training import TrainingCost
from ..units import Units, count, nbytes
from .styles.common import warning_lines
from .table import Cell, Column, Table

_MACS = "multiply-accumulates"


def training_table(report: Report, cost: TrainingCost, units: Units | None = None, depth: int | None = None) -> Table:
    """The training view of `report` (`cost` = `training_cost(report, count)`), blocks summed below `depth`."""
    units = units or "exact"
    tool = cost.count if cost.count != "archcalc" else None
    columns = [
        Column("layer", "Layer"),
        Column("type", "Type", priority=2),
        Column("output", "Output (C×H×W)", "right", priority=1),
        Column("trainable", "Trainable", "right", unit="count"),
        Column("forward", "Forward MACs", "right", unit=_MACS),
        Column("grad_input", "Grad-input MACs", "right", unit=_MACS),
        Column("grad_weight", "Grad-weight MACs", "right", unit=_MACS),
    ]
    if tool:
        columns += [Column("forward_flops", "Forward FLOPs", "right", unit=f"FLOPs as {tool} counts"),
                    Column("backward_flops", "Backward FLOPs", "right", unit=f"FLOPs as {tool} counts")]
    by_name = {layer.name: layer for layer in cost.layers}
    keys = [c.key for c in columns[3:]]
    rows = []
    for entry in entries(report, depth):
        sums = {key: sum(_value(by_name[r.name], key) for r in entry.records) for key in keys}
        rows.append((*_labels(entry), *(Cell(count(sums[k], units), sums[k]) for k in keys)))
    totals_values = {k: sum(_value(layer, k) for layer in cost.layers) for k in keys}
    totals = (Cell("Total"), Cell(), Cell(), *(Cell(count(totals_values[k], units), totals_values[k]) for k in keys))
    batch = f", batch {report.batch}"
    title = f"{report.architecture.title} — one training step, input {chw(report.input_shape)}{batch}"
    return Table(title, tuple(columns), tuple(rows), totals,
                 tuple(footer_lines(cost, units, report.dtype) + warning_lines(report)))


def footer_lines(cost: TrainingCost, units: Units, dtype: str) -> list[str]:
    """The step's totals, its memory, and the conventions behind them (docs/training.md)."""
    n = lambda value: count(value, units)  # noqa: E731
    batch = f" (batch {cost.batch})" if cost.batch > 1 else ""
    lines = [
        f"Forward MACs{batch}: {n(cost.forward)}",
        f"Backward MACs{batch}: {n(cost.backward)} = {n(cost.grad_input)} grad-input"
        f" + {n(cost.grad_weight)} grad-weight",
        f"Update: {n(cost.update)} operations, one per trainable parameter (whatever the batch)",
        f"Training step MACs{batch}: {n(cost.forward + cost.backward)} (forward + backward)",
    ]
    if cost.count != "archcalc":
        lines.append(f"FLOPs as {cost.count} counts{batch}: forward {n(cost.forward_flops)}, "
                     f"backward {n(cost.backward_flops)}")
    m = cost.memory
    lines += [
        f"Training memory ({m.optimizer}, {dtype}){batch}: {nbytes(m.total, units)} = {nbytes(m.parameters, units)}"
        f" parameters and statistics + {nbytes(m.gradients, units)} gradients + {nbytes(m.optimizer_state, units)}"
        f" optimizer state + {nbytes(m.activations, units)} activations kept for backward"
        f" + {nbytes(m.activation_gradients, units)} their gradients",
        f"Not included in the training memory: {NOT_INCLUDED}",
    ]
    lines.append("grad-input: computed where a trainable parameter lies before the layer; grad-weight: where its "
                 "weight is trained; each costs the forward's MACs (see docs/training.md)")
    return lines


def _labels(entry: Entry) -> tuple[Cell, Cell, Cell]:
    kind = f"{entry.type} ({len(entry.records)} layers)" if entry.group else entry.type
    return Cell(entry.name), Cell(kind), Cell(chw(entry.output_shape))


_FIELDS = {"trainable": "update", "forward": "forward", "grad_input": "grad_input", "grad_weight": "grad_weight",
           "forward_flops": "forward_flops", "backward_flops": "backward_flops"}


def _value(layer, key: str) -> int:
    return getattr(layer, _FIELDS[key])
