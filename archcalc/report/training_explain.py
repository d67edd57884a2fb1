"""`archcalc explain --training`: one layer's share of a training step, with the arithmetic of both
gradients (archcalc.training) and what FlopCounterMode counts for them (the `torch-train` profile)."""

from __future__ import annotations

from ..analysis import LayerRecord, Report
from ..training import LayerTraining

NO_INPUT_GRADIENT = "not computed: no trainable parameter lies before the layer"
NO_WEIGHT_GRADIENT = "not computed: its weight is frozen"


def gradient_arithmetic(record: LayerRecord, step: LayerTraining, batch: int) -> dict[str, str]:
    """The worked arithmetic of the layer's input and weight gradients, and of its update."""
    maths = record.arithmetic().macs
    if batch > 1:
        maths = f"{batch} samples × ({maths}) = {record.macs:,}"
    if not record.macs:
        work = "elementwise: 0 MACs, as its forward (docs/training.md)"
        grad_input = work if step.input_grad else NO_INPUT_GRADIENT
        weighted = any(p.role == "weight" for p in record.layer.parameters(list(record.input_shapes)))
        grad_weight = (work if step.weight_grad else NO_WEIGHT_GRADIENT) if weighted else "no weights"
    else:
        grad_input = (f"the output's gradient sent back through the same weights, the forward's work: {maths}"
                      if step.input_grad else NO_INPUT_GRADIENT)
        grad_weight = _weight(record, step, batch) if step.weight_grad else NO_WEIGHT_GRADIENT
    update = (f"{step.update:,} operations, one per trainable parameter" if step.update
              else "nothing: no trainable parameter")
    return {"grad_input": grad_input, "grad_weight": grad_weight, "update": update}


def _weight(record: LayerRecord, step: LayerTraining, batch: int) -> str:
    """Each weight sums one product per position it touched: weights × positions (× batch)."""
    weight = next(p for p in record.layer.parameters(list(record.input_shapes)) if p.role == "weight")  # a sharer's too
    per_sample = record.macs // batch
    positions = per_sample // weight.size
    shape = " × ".join(map(str, weight.shape))
    times = f" × {batch} samples" if batch > 1 else ""
    where = _positions(record, positions)
    return (f"each of the {shape} = {weight.size:,} weights sums one product per position it touched: "
            f"{weight.size:,} × {where}{times} = {step.grad_weight:,}")


def _positions(record: LayerRecord, positions: int) -> str:
    """`112 × 112 output positions` where the output's H × W is the count (the input's for a transposed
    convolution), else the number."""
    for shape, which in ((record.output_shape, "output"), (record.input_shapes[0], "input")):
        if len(shape) == 3 and shape[1] * shape[2] == positions:
            return f"{shape[1]} × {shape[2]} {which} positions"
    return f"{positions:,} position" + ("s" if positions != 1 else "")


def training_lines(report: Report, record: LayerRecord, step: LayerTraining, tool: LayerTraining) -> list[str]:
    """The training section of `explain --training`: `step` as archcalc counts it, `tool` as torch-train does."""
    maths = gradient_arithmetic(record, step, report.batch)
    batch = f", batch {report.batch}" if report.batch > 1 else ""
    lines = ["", f"training step{batch} (docs/training.md):",
             f"forward:            {step.forward:,} MACs",
             f"grad-input:         {step.grad_input:,} MACs — {maths['grad_input']}"]
    if step.input_grad:
        lines.append(f"                    (a trainable parameter lies before it: {step.after})")
    lines += [f"grad-weight:        {step.grad_weight:,} MACs — {maths['grad_weight']}",
              f"update:             {maths['update']}",
              f"backward:           {step.grad_input:,} + {step.grad_weight:,} = {step.backward:,} MACs"]
    if record.macs:
        bank = record.layer.filter_bank(list(record.input_shapes))
        groups = bank[4] if bank else 1
        quirk = (f" + {groups} × 2 × {step.grad_weight:,} (its weight-gradient formula ignores the {groups} groups)"
                 if groups > 1 and step.weight_grad else f" + 2 × {step.grad_weight:,}")
        lines.append(f"torch-train:        FlopCounterMode counts {tool.backward_flops:,} FLOPs backward"
                     f" = 2 × {step.grad_input:,}{quirk}")
    return lines
