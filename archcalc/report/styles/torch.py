"""`torch`: a torchinfo-like tree — `├─Conv2d: 1-1` names with depth and index, output shape
[N, C, H, W], Param #, Mult-Adds; blocks are header rows with their kind (a repeat is a
`Sequential`, a block instance its block's name) and output shape (their layers carry the numbers),
and `--depth K` sums everything below depth K into its block's row."""

from __future__ import annotations

from ...analysis import Report
from ...layers import Shape
from ...rows import Entry, entries
from ...units import count, nbytes
from ..table import Cell, Column, Options, Table
from .common import param_summary_lines, warning_lines


def torch_shape(shape: Shape, batch: int) -> str:
    return "[" + ", ".join(str(d) for d in (batch, *shape)) + "]"


def build(report: Report, options: Options) -> Table:
    units = options.units or "exact"
    columns = (
        Column("layer", "Layer (type:depth-idx)"),
        Column("output", "Output Shape"),
        Column("params", "Param #", "right", unit="count"),
        Column("macs", "Mult-Adds", "right", unit="MACs"),
    )
    blocks = {g.path: "Sequential" if "repeat" in g.args else g.block for g in report.architecture.groups}
    outputs = {}  # block path → the output shape of its last layer, as torchinfo shows a module's
    for record in report.layers:
        parts = record.name.split("/")
        for level in range(1, len(parts)):
            outputs["/".join(parts[:level])] = record.output_shape
    out_shape = torch_shape(report.layer(report.architecture.output_path).output_shape, report.batch)
    rows = [(Cell(report.name), Cell(out_shape), Cell("--"), Cell("--"))]
    opened: set[str] = set()
    counters: dict[str, int] = {}
    for entry in entries(report, options.depth):
        if not entry.first.input_shapes:
            continue
        parts = entry.name.split("/")
        for level in range(1, len(parts)):
            prefix = "/".join(parts[:level])
            if prefix not in opened:
                opened.add(prefix)
                label = _label(blocks.get(prefix, "Sequential"), prefix, counters)
                rows.append((Cell(label), Cell(torch_shape(outputs[prefix], report.batch)), Cell("--"), Cell("--")))
        rows.append(_row(entry, counters, blocks, units, report.batch))
    t = report.totals
    footer = (
        *param_summary_lines(report, units),
        f"Total mult-adds: {count(t.macs, units)}",
        f"Forward memory ({report.dtype}): {nbytes(t.forward_memory_bytes, units)}",
        f"Params size ({report.dtype}): {nbytes(t.param_bytes, units)}",
        *warning_lines(report),
    )
    totals = (Cell("Total"), Cell(), Cell(count(t.params, units), t.params), Cell(count(t.macs, units), t.macs))
    return Table(f"{report.architecture.title}", columns, tuple(rows), totals, footer)


def _label(kind: str, path: str, counters: dict[str, int]) -> str:
    parts = path.split("/")
    parent = "/".join(parts[:-1])
    counters[parent] = counters.get(parent, 0) + 1
    depth = len(parts)
    return "│    " * (depth - 1) + f"├─{kind}: {depth}-{counters[parent]}"


def _row(entry: Entry, counters, blocks, units, batch) -> tuple[Cell, ...]:
    kind = blocks.get(entry.name, "Sequential") if entry.group else (entry.first.layer.torch_form.name or entry.type)
    params, macs = entry.total("params"), entry.total("macs")
    return (
        Cell(_label(kind, entry.name, counters)),
        Cell(torch_shape(entry.output_shape, batch)),
        Cell(count(params, units) if params else "--", params),
        Cell(count(macs, units) if macs else "--", macs),
    )
