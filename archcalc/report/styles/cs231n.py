"""`cs231n`: the VGG-16 memory and parameter walk-through (Warsaw lecture "Convnets part I",
after cs231n): `CONV3-64: [224x224x64] memory: 224*224*64=3.2M weights: (3*3*3)*64 = 1,728`.

One line per tensor that takes memory (the input and every allocating output), weights without
biases as the slide counts them, and TOTAL lines with the correct sums (the slide's "24M" does
not match its own rows; docs/errata.md). Shorthand: two significant digits, K = 1000, M = 1000²
(the rule that reproduces every shorthand on the slide); below 10,000 in full."""

from __future__ import annotations

from ...analysis import DTYPE_BYTES, LayerRecord, Report
from ...rows import edges, whd_dims, windows
from ...units import count, nbytes, shorthand, slide_shorthand
from ..table import Cell, Column, Options, Table
from .common import warning_lines


def build(report: Report, options: Options) -> Table:
    units = options.units
    producers = {r.name: r for r in report.layers}
    columns = (
        Column("layer", "layer"),
        Column("shape", "shape", unit="W×H×D"),
        Column("memory", "memory", unit="values"),
        Column("weights", "weights", unit="biases not counted"),
    )
    rows = []
    for record in report.layers:
        if record.allocates:
            rows.append(_row(record, producers, units, report.batch))
    t = report.totals
    size = DTYPE_BYTES[report.dtype]
    weights = sum(r.weights for r in report.layers)
    per = "image" if report.batch == 1 else f"batch of {report.batch}"
    short = count if units else (lambda n, _u: shorthand(n))
    footer = (
        f"TOTAL memory: {t.activation_elements:,} ≈ {short(t.activation_elements, units)} values × {size} bytes"
        f" = {t.forward_memory_bytes:,} bytes ≈ {nbytes(t.forward_memory_bytes, 'binary')} / {per}"
        " (only forward! ≈ ×2 for bwd)",
        f"TOTAL weights: {weights:,} ≈ {short(weights, units)} (with the {t.params - weights:,} biases"
        f" and statistics: {t.params:,} parameters)",
        "Shorthand: " + ("per layer two significant digits, in the totals one decimal; K = 1000, M = 1000²"
                         " (the slide's rule); below 10,000 in full"
                         if units is None else f"the {units} units"),
        *warning_lines(report),
    )
    return Table(f"{report.architecture.title} — memory and weights per layer", columns, tuple(rows),
                 None, footer, layout="lines")


def _row(record: LayerRecord, producers: dict[str, LayerRecord], units, batch: int) -> tuple[Cell, ...]:
    shape = record.output_shape
    dims = whd_dims(shape)   # a signal's L×D, a clip's W×H×T×D, a vector's 1×1×n
    elements = record.activation_elements
    factors = ([batch] if batch > 1 else []) + [d for d in dims if d != 1 or len(shape) == 3]
    product = "*".join(str(d) for d in factors)
    short = count(elements, units) if units else slide_shorthand(elements)
    memory = short if product == str(elements) and short == str(elements) else f"{product}={short}"
    return (
        Cell(_label(record)), Cell("[" + "x".join(str(d) for d in dims) + "]"),
        Cell(memory, elements), Cell(_weights(record, producers), record.weights),
    )


def _label(record: LayerRecord) -> str:
    if not record.input_shapes:
        return "INPUT"
    window = windows(record)
    if _fully_connected(record):
        return "FC"
    if window is not None and record.weights:
        return f"CONV{window[-1].kernel}-{record.output_shape[0]}"
    if window is not None and edges(record) is None:
        return f"POOL{window[-1].kernel}"
    return record.type.upper()


def _weights(record: LayerRecord, producers: dict[str, LayerRecord]) -> str:
    """`(3*3*3)*64 = 1,728` for a convolution, `7*7*512*4096 = …` for a fully connected layer
    (its input written as the feature map it was flattened from)."""
    if not record.weights:
        return "0"
    window = windows(record)
    weight = next(p for p in record.param_tensors if p.role == "weight")
    if window is not None and len(weight.shape) == 4:
        out, depth, kh, kw = weight.shape
        return f"({kh}*{kw}*{depth})*{out} = {record.weights:,}"
    if _fully_connected(record):
        source = _unflattened(record, producers)
        return "*".join(str(d) for d in (*source, weight.shape[0])) + f" = {record.weights:,}"
    return f"{record.weights:,}"


def _fully_connected(record: LayerRecord) -> bool:
    """A layer with a weight matrix (in, out) on a flat input: the slide's `FC`."""
    return len(record.input_shapes[0]) == 1 and any(
        p.role == "weight" and len(p.shape) == 2 for p in record.param_tensors)


def _unflattened(record: LayerRecord, producers: dict[str, LayerRecord]) -> tuple[int, ...]:
    """The input as H, W, C when it is a view (flatten) of a feature map."""
    shape = record.input_shapes[0]
    source = producers.get(record.inputs[0])
    while source is not None and not source.allocates and source.input_shapes:
        shape = source.input_shapes[0]
        source = producers.get(source.inputs[0])
    return (shape[1], shape[2], shape[0]) if len(shape) == 3 else shape
