"""What a drawing shows, before any geometry: the boxes (a layer, or a block folded at `depth`) and the
edges between them, each edge carrying the tensor that flows along it; and how far a drawing is
folded to stay within the boxes and edges a picture holds."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import LayerRecord, Report
from ..errors import ArchcalcError
from ..layers import Shape
from ..rows import entries, padding

MAX_BOXES = 2_000  # a drawing with more is folded, or refused when even depth 1 has more
MAX_ARCS = 50_000


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
    """Key hyper-parameters as the lectures write them: `5×5/1 p2`, `3×3/2`, `4096`; a grouped
    convolution marked as Netron marks it (`3×3/2 p1 dw`, `3×3/1 p1 g=32`)."""
    text = record.layer.describe()
    pads = padding(record)
    if pads:
        values = {v for pair in pads for v in pair}
        if values != {0}:
            text += f" p{values.pop()}" if len(values) == 1 else " p" + ",".join(str(v) for pair in pads for v in pair)
    return text + (f" {mark}" if (mark := record.layer.grouping_label(list(record.input_shapes))) else "")



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


class TooLarge(ArchcalcError):
    """More boxes or edges than a picture holds, even with every block folded."""


@dataclass(frozen=True)
class Folding:
    """The depth a drawing is made at, and `note`, why it folds more than was asked ('' if it does not)."""

    depth: int | None
    note: str = ""


def folding(report: Report, depth: int | None = None, most: int = MAX_BOXES) -> Folding:
    """`depth` if the drawing has at most `most` boxes and `MAX_ARCS` edges there, else the deepest
    folding above it that has; TooLarge, naming the limit, if even depth 1 has more."""
    counts = Nesting.of(report)
    levels = [depth, *(d for d in range(counts.deepest, 0, -1) if depth is None or d < depth)]
    edges = sum(len(r.inputs) for r in report.layers)
    asked = None
    for level in levels:
        boxes = counts.boxes(level)
        arcs = _arc_count(report, level) if edges > MAX_ARCS and boxes <= most else 0
        over = f"{boxes:,} boxes, more than the {most:,}" if boxes > most else \
            f"{arcs:,} edges, more than the {MAX_ARCS:,}" if arcs > MAX_ARCS else ""
        if not over:
            unfolded = "unfolded" if depth is None else f"at depth {depth}"
            return Folding(level, f"Blocks below depth {level} are folded into one box each: {unfolded}, the "
                                  f"drawing would have {asked} a drawing holds." if asked else "")
        asked = asked or over
    raise TooLarge(f"the drawing has {over} a drawing holds, even with every block folded",
                   file=report.architecture.source)


def _owner(name: str, depth: int | None) -> str:
    """The box a layer belongs to: its path cut to `depth` parts."""
    if depth is None:
        return name
    parts = name.split("/", depth)
    return name if len(parts) <= depth else "/".join(parts[:depth])


@dataclass(frozen=True)
class Nesting:
    """How many blocks and layers a network has at each depth of its paths, counted in one pass:
    enough to say how many boxes a drawing, or rows a table, has at any folding without making it."""

    blocks: tuple[int, ...]  # blocks[e - 1]: the distinct block paths of e parts
    layers: tuple[int, ...]  # layers[p - 1]: the layers whose path has p parts

    @classmethod
    def of(cls, report: Report) -> Nesting:
        paths: list[set[str]] = []
        layers: list[int] = []
        for record in report.layers:
            name, end, parts = record.name, record.name.find("/"), 1
            while end >= 0:
                if len(paths) < parts:
                    paths.append(set())
                paths[parts - 1].add(name[:end])
                end, parts = name.find("/", end + 1), parts + 1
            layers += [0] * (parts - len(layers))
            layers[parts - 1] += 1
        return cls(tuple(len(p) for p in paths), tuple(layers))

    @property
    def deepest(self) -> int:
        """The most blocks a layer is nested in."""
        return len(self.blocks)

    def boxes(self, depth: int | None) -> int:
        """The boxes of a drawing with the blocks below `depth` folded (None: a box per layer)."""
        if depth is None or depth > self.deepest:
            return sum(self.layers)
        return sum(self.layers[:depth]) + self.blocks[depth - 1]

    def rows(self, depth: int | None) -> int:
        """The rows of a table of every block and layer down to `depth` (None: all of them)."""
        return sum(self.blocks[:depth]) + sum(self.layers[:depth])


def _arc_count(report: Report, depth: int | None) -> int:
    pairs = {(_owner(src, depth), _owner(r.name, depth)) for r in report.layers for src in r.inputs}
    return sum(1 for source, target in pairs if source != target)
