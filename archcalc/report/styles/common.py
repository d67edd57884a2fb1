"""Footer lines several styles share: the totals block, the parameter summary, what is not counted
and the warnings."""

from __future__ import annotations

from ...analysis import Report, Totals
from ...rows import chw
from ...tiling import grouped
from ...units import Units, count, nbytes, unit_note
from ..table import Cell, Column

#: The words for the parameters that are not trainable: BatchNorm's running mean and variance (PyTorch's
#: buffers, which Keras counts as parameters), Keras Normalization's mean, variance and count.
STATISTICS = "running statistics"
SHOWN_PAIRS = 3  # layers named in the `shares:` line


def params_words(totals: Totals, units: Units = "exact") -> str:
    """`25,610,152 params = 25,557,032 trainable + 53,120 running statistics` (PyTorch's count is the
    trainable one), with `+ N frozen` when layers are frozen; `61,706 params` when every parameter is
    trainable."""
    words = f"{count(totals.params, units)} params"
    if totals.non_trainable_params:
        words += f" = {count(totals.trainable_params, units)} trainable" + "".join(
            f" + {count(n, units)} {what}" for what, n in _not_trained(totals))
    return words


def _not_trained(totals: Totals) -> list[tuple[str, int]]:
    """The frozen weights and the running statistics, those that are not zero."""
    return [(what, n) for what, n in (("frozen", totals.frozen_params), (STATISTICS, totals.statistics)) if n]


def params_split(report: Report, columns: tuple[Column, ...], units: Units, key: str = "params",
                 label: str | None = None) -> tuple[tuple[Cell, ...], ...]:
    """The rows under a table's totals that split its parameter total (in the column `key`) into the
    trainable parameters and the running statistics, labelled in the column `label` (default: the
    first); none when every parameter is trainable."""
    t = report.totals
    if not t.non_trainable_params:
        return ()
    label = label or columns[0].key

    def row(words: str, n: int) -> tuple[Cell, ...]:
        return tuple(Cell(words) if c.key == label else Cell(count(n, units), n) if c.key == key else Cell()
                     for c in columns)

    return (row("  trainable", t.trainable_params), *(row(f"  + {what}", n) for what, n in _not_trained(t)))


def totals_lines(report: Report, units: Units) -> list[str]:
    """Params trainable/non-trainable/total, MACs, FLOPs, memory and parameter bytes."""
    t = report.totals
    batch = f" (batch {report.batch})" if report.batch > 1 else ""
    statistics = (f" ({STATISTICS}: PyTorch keeps them as buffers, Keras counts them)"
                  if t.non_trainable_params else "")
    if t.frozen_params:
        statistics = (f" ({count(t.frozen_params, units)} frozen + {count(t.statistics, units)} {STATISTICS},"
                      " as Keras counts them)" if t.statistics else " (frozen)")
    outputs = report.architecture.outputs
    named = ["Outputs: " + ", ".join(f"{name}{'' if name == path else f' = {path}'} "
                                     f"({chw(report.layer(path).output_shape)})"
                                     for name, path in outputs.items())] if outputs else []
    return [
        *named,
        f"Params: {count(t.params, units)} total = {count(t.trainable_params, units)} trainable"
        f" + {count(t.non_trainable_params, units)} non-trainable{statistics}",
        f"MACs{batch}: {count(t.macs, units)}   "
        f"FLOPs ({flops_unit(report)}): "
        f"{count(t.flops, units)}",
        f"Forward memory (input + every activation, {report.dtype}){batch}: "
        f"{nbytes(t.forward_memory_bytes, units)}   peak (inference): {nbytes(t.peak_memory_bytes, units)}",
        f"Parameter memory ({report.dtype}): {nbytes(t.param_bytes, units)}",
        f"Training memory (estimate, {report.dtype}: activations kept for backward and their gradients, weights, "
        f"gradients and two Adam moments; see docs/training.md): {nbytes(t.training_memory_bytes, units)}",
        f"Units: {unit_note(units)}; MB = 1000² bytes, MiB = 1024² bytes",
    ]


def param_summary_lines(report: Report, units: Units) -> list[str]:
    """The three parameter lines that Keras's `model.summary()` and torchinfo both end with."""
    t = report.totals
    return [
        f"Total params: {count(t.params, units)}",
        f"Trainable params: {count(t.trainable_params, units)}",
        f"Non-trainable params: {count(t.non_trainable_params, units)}",
    ]


def warning_lines(report: Report) -> list[str]:
    """What the network does that is not counted (the file's `not_counted:`, one line), the layers that
    apply another's weights (`shares:`, one line), then the warnings, tiling notes merged into one line
    per kind (archcalc.tiling)."""
    skipped = report.architecture.spec.not_counted
    return ([f"Not counted: {'; '.join(skipped)}"] if skipped else []) + shared_lines(report) + [
        w if w.startswith("note: ") else f"warning: {w}" for w in grouped(report.warnings)]


def shared_lines(report: Report) -> list[str]:
    """`Shared weights: 8 layers apply the weights of an earlier layer (0 params in their rows, counted once
    with it): head/p4/conv1 → head/p3/conv1, …`; none when no layer `shares:`."""
    pairs = [f"{r.name} → {r.shares}" for r in report.layers if r.shares]
    if not pairs:
        return []
    shown = ", ".join(pairs[:SHOWN_PAIRS]) + (", …" if len(pairs) > SHOWN_PAIRS else "")
    layers = "1 layer applies" if len(pairs) == 1 else f"{len(pairs)} layers apply"
    return [f"Shared weights: {layers} the weights of an earlier layer (0 params in their rows, counted once "
            f"with it): {shown}"]


def flops_unit(report: Report) -> str:
    """What the FLOPs numbers are: 2 × MACs, or the count of the tool whose profile was chosen."""
    return "2 × MACs" if report.count == "archcalc" else f"as {report.count} counts"
