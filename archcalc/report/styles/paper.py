"""`paper`: GoogLeNet's Table 1 (Szegedy et al. 2015, as in the lecture "Deep Learning & Tools") —
type | patch size/stride | output size | depth | #1×1 | #3×3 reduce | #3×3 | #5×5 reduce | #5×5 |
pool proj | params | ops, one row per top-level layer or module.

As in the paper, params are weights only in K = 1024 and ops are MACs in M = 10⁶, unless
`--units` asks otherwise; the module columns are the block arguments of the same names."""

from __future__ import annotations

from ...analysis import Report
from ...rows import Entry, edges, entries, is_reshape, kernel_window, whd
from ...units import count, paper_k, paper_m
from ..table import Cell, Column, Options, Table
from .common import warning_lines

MODULE_ARGS = (("c1x1", "#1×1"), ("c3x3_reduce", "#3×3 reduce"), ("c3x3", "#3×3"),
               ("c5x5_reduce", "#5×5 reduce"), ("c5x5", "#5×5"), ("pool_proj", "pool proj"))


def build(report: Report, options: Options) -> Table:
    units = options.units
    columns = (
        Column("type", "type"), Column("patch", "patch size/stride"), Column("output", "output size"),
        Column("depth", "depth", "right"),
        *(Column(key, header, "right") for key, header in MODULE_ARGS),
        Column("params", "params", "right", unit="weights"),
        Column("ops", "ops", "right", unit="MACs"),
    )
    groups = {g.path: g for g in report.architecture.groups}
    rows = []
    for entry in entries(report, depth=options.depth or 1):
        if not entry.first.input_shapes or (not entry.group and is_reshape(entry.first)):
            continue
        rows.append(_row(entry, groups.get(entry.name), units))
    weights = sum(r.weights for r in report.layers)
    macs = report.totals.macs
    totals = (Cell("total"),) + (Cell(),) * 9 + (Cell(_k(weights, units), weights), Cell(_m(macs, units), macs))
    footer = (f"params: weights only ({units or 'K = 1024'}); ops: multiply-accumulates ({units or 'M = 10⁶'})",
              f"Total: {weights:,} weights ({report.totals.params:,} parameters with biases), {macs:,} MACs",
              *warning_lines(report))
    return Table(f"{report.architecture.title} — per module", columns, tuple(rows), totals, footer)

def _k(n: int, units) -> str:
    return "" if not n else paper_k(n) if units is None else count(n, units)


def _m(n: int, units) -> str:
    return "" if not n else paper_m(n) if units is None else count(n, units)


def _row(entry: Entry, group, units) -> tuple[Cell, ...]:
    args = group.args if group is not None else {}
    weights, macs = entry.total("weights"), entry.total("macs")
    return (
        Cell(_type(entry, group)), Cell(_patch(entry) if _is_chain(entry) else ""),
        Cell(whd(entry.output_shape, "x")), Cell(str(entry.weight_depth), entry.weight_depth),
        *(Cell(str(args[key]), args[key]) if key in args else Cell() for key, _ in MODULE_ARGS),
        Cell(_k(weights, units), weights), Cell(_m(macs, units), macs),
    )


def _is_chain(entry: Entry) -> bool:
    """A single layer, or a block without branches (its patch is its last layer's)."""
    return all(len(r.inputs) == 1 for r in entry.records) and len({r.inputs[0] for r in entry.records}) == len(
        entry.records)


def _type(entry: Entry, group) -> str:
    if group is not None and group.block == "convolution":
        return "convolution"
    if group is not None:
        suffix = entry.name.split("/")[-1]
        suffix = suffix[len(group.block) + 1:] if suffix.startswith(group.block + "_") else suffix
        return f"{group.block} ({suffix})"
    return entry.first.layer.paper_label()


def _patch(entry: Entry) -> str:
    window = kernel_window(entry.last)
    if window is None or edges(entry.last) is not None:   # a crop or padding has no patch
        return ""
    strides = [axis.stride for axis in reversed(window)]  # width first, as the paper writes them
    stride = strides[0] if len(set(strides)) == 1 else "x".join(map(str, strides))
    return "x".join(str(axis.kernel) for axis in reversed(window)) + f"/{stride}"
