"""What a drawing shows, before any geometry: the boxes (a layer, or a block folded at `depth`) and the
edges between them, each edge carrying the tensor that flows along it."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import LayerRecord, Report
from ..layers import Shape
from ..report.rows import entries, padding


def shape_text(shape: Shape) -> str:
    """A tensor per sample in C×H×W order (`6×28×28`; a vector is its length)."""
    return "×".join(str(v) for v in shape)


@dataclass(frozen=True)
class Vertex:
    """One box: a layer (`records` holds it alone) or a folded block (`block` names its type)."""

    name: str
    kind: str
    detail: str
    output_shape: Shape
    family: str
    records: tuple[LayerRecord, ...]
    block: bool = False

    @property
    def lines(self) -> tuple[str, str, str]:
        """Name, type with key hyper-parameters, output shape: the box's three lines."""
        return (self.name, f"{self.kind} {self.detail}".strip(), shape_text(self.output_shape))


@dataclass(frozen=True)
class Arc:
    """An edge from box `source` to box `target`, carrying a tensor of `shape`."""

    source: str
    target: str
    shape: Shape


@dataclass(frozen=True)
class Diagram:
    """The boxes in execution order and the edges (one per connected pair of boxes)."""

    title: str
    vertices: tuple[Vertex, ...]
    arcs: tuple[Arc, ...]


def hyper_text(record: LayerRecord) -> str:
    """Key hyper-parameters as the lectures write them: `5×5/1 p2`, `3×3/2`, `4096`."""
    text = record.layer.describe()
    pads = padding(record)
    if pads:
        values = {v for pair in pads for v in pair}
        if values != {0}:
            text += f" p{values.pop()}" if len(values) == 1 else " p" + ",".join(str(v) for pair in pads for v in pair)
    return text


def diagram(report: Report, depth: int | None = None) -> Diagram:
    """The boxes and edges of `report`, the layers below `depth` folded into one box per block."""
    owner: dict[str, str] = {}
    vertices: list[Vertex] = []
    for entry in entries(report, depth):
        for record in entry.records:
            owner[record.name] = entry.name
        if entry.group:
            layers = len(entry.records)
            vertices.append(Vertex(entry.name, entry.type, f"· {layers} layer{'s' * (layers > 1)}",
                                   _exit_shape(entry.records), "block", entry.records, True))
        else:
            record = entry.first
            vertices.append(Vertex(record.name, record.type, hyper_text(record), record.output_shape,
                                   record.layer.family.name, (record,)))
    shapes = {r.name: r.output_shape for r in report.layers}
    arcs: dict[tuple[str, str], Arc] = {}
    for record in report.layers:
        for src in record.inputs:
            pair = (owner[src], owner[record.name])
            if pair[0] != pair[1] and pair not in arcs:
                arcs[pair] = Arc(*pair, shapes[src])
    return Diagram(report.architecture.title, tuple(vertices), tuple(arcs.values()))


def _exit_shape(records: tuple[LayerRecord, ...]) -> Shape:
    """A block's output: its last layer that nothing inside the block reads (its last layer otherwise)."""
    inside = {r.name for r in records}
    read = {src for r in records for src in r.inputs if src in inside}
    unread = [r for r in records if r.name not in read]
    return (unread or list(records))[-1].output_shape
