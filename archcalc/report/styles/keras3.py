"""`keras3`: what Keras 3's `model.summary()` prints today — `Conv2D`, `input_layer`, output shapes
`(None, H, W, C)`, `Param #`, `Connected to` only for a model that is not a plain chain, and the
parameter totals with their memory (tests/data/keras3_summaries.txt holds Keras's own). Rows come in
the order a Keras functional model lists its layers, and a path is joined with `_` as Keras names
cannot hold `/`."""

from __future__ import annotations

import re

from ...analysis import DTYPE_BYTES, LayerRecord, Report
from ...units import count
from ..table import Cell, Column, Options, Table
from .common import warning_lines
from .keras import keras_shape

_AUTOMATIC_INPUT = re.compile(r"input(_\d+)?")


def build(report: Report, options: Options) -> Table:
    units = options.units or "exact"
    names = {r.name: _name(r, report) for r in report.layers}
    chain = all(len(r.inputs) <= 1 and (i == 0 or r.inputs[0] == report.layers[i - 1].name)
                for i, r in enumerate(report.layers))
    columns = [Column("layer", "Layer (type)"), Column("output", "Output Shape"),
               Column("params", "Param #", "right", unit="weights + biases + statistics")]
    if not chain:
        columns.append(Column("connected", "Connected to"))
    rows = tuple(_row(r, names, units, chain) for r in keras_order(report.layers))
    return Table(f"Model: \"{report.name}\"", tuple(columns), rows, None,
                 (*summary_lines(report, units), *warning_lines(report)))


def _name(record: LayerRecord, report: Report) -> str:
    """Keras names an unnamed input `input_layer`; a path's parts are joined with `_`."""
    if record.name == report.architecture.input_path and _AUTOMATIC_INPUT.fullmatch(record.name):
        return "input_layer"
    return record.name.replace("/", "_")


def keras_order(layers: tuple[LayerRecord, ...] | list[LayerRecord]) -> list[LayerRecord]:
    """The layers as Keras 3's `Functional` lists them (`keras.src.ops.function.map_graph`): by
    depth, the longest path to an output, deepest first; layers of one depth in the order a
    depth-first walk from the outputs, inputs in order, first reaches them."""
    by_name = {r.name: r for r in layers}
    consumed = {source for r in layers for source in r.inputs}
    reached: dict[str, int] = {}
    finished: list[LayerRecord] = []  # every layer after all its inputs
    for output in (r for r in layers if r.name not in consumed):
        reached.setdefault(output.name, len(reached))
        stack = [(output, iter(output.inputs))]
        while stack:
            record, sources = stack[-1]
            source = next((s for s in sources if s not in reached), None)
            if source is None:
                finished.append(stack.pop()[0])
                continue
            reached[source] = len(reached)
            stack.append((by_name[source], iter(by_name[source].inputs)))
    depth: dict[str, int] = {}
    for record in reversed(finished):
        below = depth.setdefault(record.name, 0) + 1
        for source in record.inputs:
            depth[source] = max(depth.get(source, 0), below)
    return sorted(finished, key=lambda r: (-depth[r.name], reached[r.name]))


def _row(record: LayerRecord, names: dict[str, str], units, chain: bool) -> tuple[Cell, ...]:
    kind = record.layer.keras_form.name or record.type.capitalize()
    cells = (Cell(f"{names[record.name]} ({kind})"), Cell(keras_shape(record.output_shape)),
             Cell(count(record.params, units), record.params))
    if chain:
        return cells
    return (*cells, Cell(", ".join(f"{names[src]}[0][0]" for src in record.inputs) or "-"))


def summary_lines(report: Report, units) -> list[str]:
    """`Total params: 138,357,544 (527.79 MB)` and the trainable and non-trainable lines, the memory
    as Keras shows it (powers of 1024, named KB, MB, GB)."""
    size = DTYPE_BYTES[report.dtype]
    t = report.totals
    return [f"{label}: {count(n, units)} ({keras_memory(n * size)})" for label, n in
            (("Total params", t.params), ("Trainable params", t.trainable_params),
             ("Non-trainable params", t.non_trainable_params))]


def keras_memory(nbytes: float) -> str:
    """Bytes as Keras 3's `readable_memory_size` writes them: `527.79 MB`, `0.00 B`."""
    units = ("B", "KB", "MB", "GB", "TB")
    power = 0
    while nbytes >= 1024 and power < len(units) - 1:
        nbytes /= 1024
        power += 1
    return f"{nbytes:.2f} {units[power]}"
