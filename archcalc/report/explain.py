"""`archcalc explain`: every number of one layer with the arithmetic a student would write (names from
the file printable: `errors.printable`)."""

from __future__ import annotations

from shlex import quote

from ..analysis import DTYPE_BYTES, LayerRecord, Report
from ..errors import printable
from ..rows import whd
from .styles.common import flops_unit


def explain(report: Report, layer: str, architecture: str | None = None) -> str:
    """The worked arithmetic of `layer` (a path) in `report`, one fact per line; for a block's path
    (`layer1`), the block's totals and its layers, and the command that explains one of them
    (`architecture`: the zoo name or path as the user gave it; default: the file's name)."""
    inside = block_records(report, layer)
    if inside:
        return _block(report, layer, inside, architecture or report.name)
    record = report.layer(layer)
    maths = record.arithmetic()
    size = DTYPE_BYTES[report.dtype]
    title = f"{report.name} / {record.name}: {record.type}"
    shapes = list(record.input_shapes)
    hyper = " ".join(filter(None, (record.layer.describe() if shapes else "", record.layer.grouping_label(shapes))))
    lines = [title + (f" {hyper}" if hyper else ""), ""]
    if record.input_shapes:
        ins = ", ".join(whd(s) for s in record.input_shapes)
        lines.append(f"input (W × H × D):  {ins}" + (f"   from {', '.join(record.inputs)}" if record.inputs else ""))
    out = whd(record.output_shape)
    lines.append(f"output size:        {maths.output}" + (f"   → {out}" if maths.output != out else ""))
    lines.append(f"output (W × H × D): {out}")
    lines.append(f"params:             {maths.params}")
    if record.param_tensors:
        parts = ", ".join(f"{p.name} {'×'.join(map(str, p.shape))} ({p.role})" for p in record.param_tensors)
        lines.append(f"                    tensors: {parts}")
        frozen = record.frozen_params
        lines.append(f"                    = {record.weights:,} weights + {record.biases:,} biases"
                     f" + {record.non_trainable_params - frozen:,} non-trainable = {record.params:,}")
        if frozen:
            lines.append(f"                    frozen: its {frozen:,} weights and biases are not trained")
    if record.shares:
        lines.append(f"                    shared: it applies the weights of {record.shares}, counted there (0 here)")
    batch = f"{report.batch} × " if report.batch > 1 else ""
    lines.append(f"MACs:               {batch}{maths.macs}" + (f" = {record.macs:,}" if batch else ""))
    lines.append(f"FLOPs:              {flops_unit(report)} = {record.flops:,}")
    lines.append(_memory(record, batch, size, report.dtype))
    lines.append(_field(record))
    lines += [f"warning:            {w}" for w in record.warnings]
    return "\n".join(map(printable, lines)) + "\n"


def block_records(report: Report, path: str) -> list[LayerRecord]:
    """The layers inside the block or repeat at `path`; empty when `path` is not one."""
    prefix = path.rstrip("/") + "/"
    if any(r.name == path for r in report.layers):
        return []
    return [r for r in report.layers if r.name.startswith(prefix)]


def _block(report: Report, path: str, records: list[LayerRecord], architecture: str) -> str:
    kind = next((g.block for g in report.architecture.groups if g.path == path), "group of layers")
    inside = {r.name for r in records}
    first = next(r for r in records if any(src not in inside for src in r.inputs))
    outside = [src for src in first.inputs if src not in inside]
    lines = [f"{report.name} / {path}: a block ({kind}) of {len(records)} layers, not one layer; "
             f"explain one of them, e.g. `archcalc explain {quote(architecture)} {quote(records[0].name)}`", "",
             f"input (W × H × D):  {whd(first.input_shapes[first.inputs.index(outside[0])])}   from {outside[0]}",
             f"output (W × H × D): {whd(records[-1].output_shape)}",
             f"params:             {sum(r.params for r in records):,}",
             f"MACs:               {sum(r.macs for r in records):,}", "", "layers:"]
    lines += [f"  {r.name:<28} {r.type:<16} {whd(r.output_shape)}" for r in records]
    return "\n".join(map(printable, lines)) + "\n"


def _memory(record: LayerRecord, batch: str, size: int, dtype: str) -> str:
    dims = " × ".join(str(d) for d in record.output_shape)
    text = (f"memory:             {batch}{dims} = {record.activation_elements:,} values × {size} bytes ({dtype})"
            f" = {record.activation_bytes:,} bytes")
    return text if record.allocates else text + " (shares its input's storage: adds nothing)"


def _field(record: LayerRecord) -> str:
    field = record.receptive_field
    if field is None:
        return "receptive field:    —"
    # width first, as the input's W × H × D
    size = " × ".join(str(s) for s in reversed(field.size))
    jump = field.jump[0] if len(set(field.jump)) == 1 else " × ".join(str(j) for j in reversed(field.jump))
    start = ", ".join(f"{s:g}" for s in reversed(field.start))
    return f"receptive field:    {size} input pixels, jump (effective stride) {jump}, first centre at ({start})"
