"""A layered layout of a Diagram, top to bottom, computed here (no Graphviz).

A network is almost always series-parallel: chains, and forks whose branches meet again (a residual
block, an Inception module). Such a graph is reduced to its decomposition tree (a series step joins
the two edges of a node with one input and one output; a parallel step joins edges between the same
two nodes), and the tree is laid out directly: a series stacks its parts, a parallel puts its branches
side by side (direct edges, such as an identity shortcut, as narrow lanes on the right). Every box
takes one row; each branch keeps to its own column, so no two boxes overlap and no two edges cross.
A graph that is not series-parallel is drawn as one column in execution order, the edges that skip
rows running down lanes on the right (they may cross; `Layout.crossings` says how often).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Diagram

BOX_H = 50  # three lines of text
GAP = 30  # between rows: edges and their labels
HGAP = 24  # between branches
LANE = 18  # width of a direct edge's lane
MIN_W = 124
CHAR_W = {"name": 7.3, "text": 6.3}  # average advance of the name (bold 12px) and other lines (11px)

_SOURCE, _SINK = "\0source", "\0sink"


@dataclass
class Box:
    name: str
    x: float  # left
    y: float  # top
    w: float
    h: float = BOX_H

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class Route:
    source: str
    target: str
    points: list[tuple[float, float]]
    label_at: tuple[float, float] | None = None  # where the tensor's shape is written, if here


@dataclass
class Layout:
    boxes: dict[str, Box]
    routes: list[Route]
    width: float
    height: float
    series_parallel: bool
    crossings: int = 0


def box_width(lines: tuple[str, ...]) -> float:
    name, *rest = lines
    return max(MIN_W, len(name) * CHAR_W["name"] + 16, *(len(t) * CHAR_W["text"] + 16 for t in rest))


# --- the decomposition tree ----------------------------------------------------------------------

@dataclass
class _Leaf:
    source: str
    target: str


@dataclass
class _Series:
    parts: list  # tree, node, tree, node, ..., tree


@dataclass
class _Parallel:
    branches: list


@dataclass
class _Edge:
    source: str
    target: str
    tree: object
    alive: bool = True


@dataclass
class _Reduction:
    edges: list[_Edge] = field(default_factory=list)
    out: dict[str, list[int]] = field(default_factory=dict)
    into: dict[str, list[int]] = field(default_factory=dict)

    def add(self, source: str, target: str, tree) -> int:
        for index in self.out.get(source, ()):
            edge = self.edges[index]
            if edge.target == target:  # parallel step
                old = edge.tree.branches if isinstance(edge.tree, _Parallel) else [edge.tree]
                new = tree.branches if isinstance(tree, _Parallel) else [tree]
                edge.tree = _Parallel(old + new)
                return index
        self.edges.append(_Edge(source, target, tree))
        index = len(self.edges) - 1
        self.out.setdefault(source, []).append(index)
        self.into.setdefault(target, []).append(index)
        return index

    def drop(self, index: int) -> _Edge:
        edge = self.edges[index]
        edge.alive = False
        self.out[edge.source].remove(index)
        self.into[edge.target].remove(index)
        return edge


def decompose(names: list[str], pairs: list[tuple[str, str]]):
    """The series-parallel decomposition tree from a virtual source to a virtual sink, or None."""
    graph = _Reduction()
    has_in = {t for _, t in pairs}
    has_out = {s for s, _ in pairs}
    for name in names:
        if name not in has_in:
            graph.add(_SOURCE, name, _Leaf(_SOURCE, name))
    for source, target in pairs:
        graph.add(source, target, _Leaf(source, target))
    for name in names:
        if name not in has_out:
            graph.add(name, _SINK, _Leaf(name, _SINK))
    pending = list(names)
    while pending:
        node = pending.pop()
        ins, outs = graph.into.get(node, []), graph.out.get(node, [])
        if len(ins) != 1 or len(outs) != 1:
            continue
        first, second = graph.drop(ins[0]), graph.drop(outs[0])
        parts = _flat(first.tree) + [node] + _flat(second.tree)
        graph.add(first.source, second.target, _Series(parts))
        pending += [first.source, second.target]
    alive = [e for e in graph.edges if e.alive]
    return alive[0].tree if len(alive) == 1 else None


def _flat(tree) -> list:
    return tree.parts if isinstance(tree, _Series) else [tree]


# --- placement -----------------------------------------------------------------------------------

class _Placer:
    def __init__(self, widths: dict[str, float], order: dict[str, int]):
        self.widths = widths
        self.order = order
        self.rows: dict[str, int] = {}
        self.lefts: dict[str, float] = {}
        self.lanes: dict[tuple[str, str], float] = {}
        self.memo: dict[int, tuple[float, int]] = {}

    def size(self, tree) -> tuple[float, int]:
        """(width, rows) of a tree's inner part (its end nodes belong to the parent)."""
        key = id(tree)
        if key not in self.memo:
            if isinstance(tree, _Leaf):
                found = (LANE, 0)
            elif isinstance(tree, _Series):
                sizes = [self.size(p) if not isinstance(p, str) else (self.widths[p], 1) for p in tree.parts]
                found = (max(w for w, _ in sizes), sum(r for _, r in sizes))
            else:
                tree.branches.sort(key=self.first_index)
                sizes = [self.size(b) for b in tree.branches]
                found = (sum(w for w, _ in sizes) + HGAP * (len(sizes) - 1), max(r for _, r in sizes))
            self.memo[key] = found
        return self.memo[key]

    def first_index(self, tree) -> float:
        """Branches in file order; direct edges last (on the right)."""
        if isinstance(tree, _Leaf):
            return float("inf")
        if isinstance(tree, _Series):
            return min(self.order[p] if isinstance(p, str) else self.first_index(p) for p in tree.parts)
        return min(self.first_index(b) for b in tree.branches)

    def place(self, tree, left: float, row: int) -> None:
        width, _ = self.size(tree)
        if isinstance(tree, _Leaf):
            self.lanes[(tree.source, tree.target)] = left + width / 2
        elif isinstance(tree, _Series):
            for part in tree.parts:
                if isinstance(part, str):
                    self.rows[part] = row
                    self.lefts[part] = left + (width - self.widths[part]) / 2
                    row += 1
                else:
                    part_width, rows = self.size(part)
                    self.place(part, left + (width - part_width) / 2, row)
                    row += rows
        else:
            for branch in tree.branches:
                self.place(branch, left, row)
                left += self.size(branch)[0] + HGAP


def layout(diagram: Diagram, top: float = 0.0, margin: float = 16.0) -> Layout:
    """Positions of every box and the polyline of every edge."""
    names = [v.name for v in diagram.vertices]
    widths = {v.name: box_width(v.lines) for v in diagram.vertices}
    pairs = [(a.source, a.target) for a in diagram.arcs]
    tree = decompose(names, pairs)
    placer = _Placer(widths, {n: i for i, n in enumerate(names)})
    if tree is not None:
        placer.place(tree, margin, 0)
        width = placer.size(tree)[0] + 2 * margin
    else:
        width = _one_column(placer, names, pairs, margin)
    boxes = {n: Box(n, placer.lefts[n], top + placer.rows[n] * (BOX_H + GAP), widths[n]) for n in names}
    routes = [_route(boxes, placer.lanes, s, t, tree is not None) for s, t in pairs]
    labelled: set[str] = set()
    for route in routes:  # every edge out of a box carries the same tensor: written once, under the box
        if route.source not in labelled:
            labelled.add(route.source)
            x, y = route.points[0]
            route.label_at = (x + 5, y + 10)
    rows = max(placer.rows.values(), default=0) + 1
    result = Layout(boxes, routes, width, top + rows * (BOX_H + GAP) - GAP + margin, tree is not None)
    result.crossings = 0 if tree is not None else count_crossings([r.points for r in routes])
    return result


def _route(boxes: dict[str, Box], lanes: dict[tuple[str, str], float], source: str, target: str,
           series_parallel: bool) -> Route:
    """Down from the source's bottom to its lane, along the lane, into the target's top. In one
    column the lanes leave and arrive a third of a gap from the boxes, so that they never run along
    an edge between neighbouring rows."""
    a, b = boxes[source], boxes[target]
    if (source, target) not in lanes:
        return Route(source, target, [(a.cx, a.bottom), (b.cx, b.y)])
    lane = lanes[(source, target)]
    step = GAP / 2 if series_parallel else GAP / 3
    leave, arrive = a.bottom + step, b.y - step
    points = [(a.cx, a.bottom), (a.cx, leave), (lane, leave), (lane, arrive), (b.cx, arrive), (b.cx, b.y)]
    return Route(source, target, _simplified(points))


def _simplified(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Without repeated points and without the middle one of three on a line."""
    out: list[tuple[float, float]] = []
    for point in points:
        if out and point == out[-1]:
            continue
        if len(out) >= 2 and (out[-2][0] == out[-1][0] == point[0] or out[-2][1] == out[-1][1] == point[1]):
            out[-1] = point
        else:
            out.append(point)
    return out


def _one_column(placer: _Placer, names: list[str], pairs: list[tuple[str, str]], margin: float) -> float:
    """Every box in its own row in execution order; an edge that skips rows gets a lane on the right,
    lanes reused where their rows do not overlap."""
    column = max(placer.widths.values())
    for row, name in enumerate(names):
        placer.rows[name] = row
        placer.lefts[name] = margin + (column - placer.widths[name]) / 2
    free_from: list[int] = []  # per lane: the first row it is free again
    for source, target in sorted(pairs, key=lambda p: (placer.rows[p[0]], placer.rows[p[1]])):
        start, end = placer.rows[source], placer.rows[target]
        if end == start + 1:
            continue
        lane = next((i for i, free in enumerate(free_from) if free <= start), None)
        if lane is None:
            lane = len(free_from)
            free_from.append(end + 1)
        free_from[lane] = end + 1
        placer.lanes[(source, target)] = margin + column + HGAP + lane * LANE
    return column + HGAP + len(free_from) * LANE + 2 * margin


def count_crossings(polylines: list[list[tuple[float, float]]]) -> int:
    """Pairs of segments of different polylines that cross properly (touching ends do not count)."""
    segments = [(i, p, q) for i, line in enumerate(polylines) for p, q in zip(line, line[1:])]
    return sum(1 for k, (i, p, q) in enumerate(segments) for j, r, s in segments[k + 1:]
               if i != j and _cross(p, q, r, s))


def _cross(p, q, r, s) -> bool:
    def side(a, b, c):
        value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (value > 1e-9) - (value < -1e-9)

    return side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0
