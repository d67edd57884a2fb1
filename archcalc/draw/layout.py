"""A layered layout of a Diagram, top to bottom, computed here (no Graphviz).

A network is almost always series-parallel: chains, and forks whose branches meet again (a residual
block, an Inception module). Such a graph is reduced to its decomposition tree (a series step joins
the two edges of a node with one input and one output; a parallel step joins edges between the same
two nodes), and the tree is laid out directly: a series stacks its parts, a parallel puts its branches
side by side (direct edges, such as an identity shortcut, as narrow lanes on the right). Every box
takes one row; each branch keeps to its own column, so no two boxes overlap and no two edges cross.
A graph that is not series-parallel is drawn as one column in execution order, the edges of a box
that skip rows sharing one lane on the right (they may cross; `Layout.crossings` says how often).
Time and memory grow about linearly with the boxes and edges: each reduction step joins two edges,
the tree is measured and placed without recursion, and crossings are counted in one pass.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from math import ceil

from .diagram import Diagram

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
    why: str = "not series-parallel: drawn in one column"   # said with the crossings, if any


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


@dataclass
class _Reduction:
    """The graph being reduced: its live edges, by end nodes and by pair."""

    edges: dict[int, _Edge] = field(default_factory=dict)
    between: dict[tuple[str, str], int] = field(default_factory=dict)
    out: dict[str, dict[int, None]] = field(default_factory=dict)  # insertion-ordered sets of edge keys
    into: dict[str, dict[int, None]] = field(default_factory=dict)
    made: int = 0

    def add(self, source: str, target: str, tree) -> None:
        new = tree.branches if isinstance(tree, _Parallel) else [tree]
        key = self.between.get((source, target))
        if key is not None:  # parallel step
            edge = self.edges[key]
            if isinstance(edge.tree, _Parallel):
                edge.tree.branches.extend(new)
            else:
                edge.tree = _Parallel([edge.tree, *new])
            return
        key, self.made = self.made, self.made + 1
        self.edges[key] = _Edge(source, target, tree)
        self.between[(source, target)] = key
        self.out.setdefault(source, {})[key] = None
        self.into.setdefault(target, {})[key] = None

    def drop(self, key: int) -> _Edge:
        edge = self.edges.pop(key)
        del self.between[(edge.source, edge.target)]
        del self.out[edge.source][key]
        del self.into[edge.target][key]
        return edge


def decompose(names: list[str], pairs: list[tuple[str, str]]):
    """The series-parallel decomposition tree from a virtual source to a virtual sink, or None.
    Each step joins two edges into one, so the reduction takes time linear in the edges."""
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
        ins, outs = graph.into.get(node, {}), graph.out.get(node, {})
        if len(ins) != 1 or len(outs) != 1:
            continue
        first, second = graph.drop(next(iter(ins))), graph.drop(next(iter(outs)))
        graph.add(first.source, second.target, _Series([first.tree, node, second.tree]))  # flattened at the end
        pending += [first.source, second.target]
    if len(graph.edges) != 1:
        return None
    root = next(iter(graph.edges.values())).tree
    _flatten(root)
    return root


def _flatten(root) -> None:
    """Every series of the tree as one flat list of parts (a series inside a series is spliced in)."""
    stack = [root]
    while stack:
        tree = stack.pop()
        if isinstance(tree, _Series):
            parts, todo = [], list(reversed(tree.parts))
            while todo:
                part = todo.pop()
                if isinstance(part, _Series):
                    todo += reversed(part.parts)
                else:
                    parts.append(part)
            tree.parts = parts
            stack += [p for p in parts if isinstance(p, _Parallel)]
        elif isinstance(tree, _Parallel):
            stack += [b for b in tree.branches if not isinstance(b, _Leaf)]


def _inner(tree) -> list:
    """The subtrees directly inside `tree`."""
    if isinstance(tree, _Series):
        return [p for p in tree.parts if not isinstance(p, str)]
    return tree.branches if isinstance(tree, _Parallel) else []


# --- placement -----------------------------------------------------------------------------------

class _Placer:
    def __init__(self, widths: dict[str, float], order: dict[str, int]):
        self.widths = widths
        self.order = order
        self.rows: dict[str, int] = {}
        self.lefts: dict[str, float] = {}
        self.lanes: dict[tuple[str, str], float] = {}
        self.sizes: dict[int, tuple[float, int]] = {}
        self.width = 0.0

    def measure(self, root) -> None:
        """(width, rows) of every subtree's inner part (its end nodes belong to the parent), children
        first; a parallel's branches sorted in file order, direct edges last (on the right)."""
        below, stack = [], [root]
        while stack:  # parents before children; measured in the reverse order
            tree = stack.pop()
            below.append(tree)
            stack += _inner(tree)
        first: dict[int, float] = {}
        for tree in reversed(below):
            if isinstance(tree, _Leaf):
                first[id(tree)], size = float("inf"), (LANE, 0)
            elif isinstance(tree, _Series):
                first[id(tree)] = min(self.order[p] if isinstance(p, str) else first[id(p)] for p in tree.parts)
                sizes = [self.sizes[id(p)] if not isinstance(p, str) else (self.widths[p], 1) for p in tree.parts]
                size = (max(w for w, _ in sizes), sum(r for _, r in sizes))
            else:
                tree.branches.sort(key=lambda branch: first[id(branch)])
                first[id(tree)] = first[id(tree.branches[0])]
                sizes = [self.sizes[id(b)] for b in tree.branches]
                size = (sum(w for w, _ in sizes) + HGAP * (len(sizes) - 1), max(r for _, r in sizes))
            self.sizes[id(tree)] = size

    def place(self, root, left: float, row: int) -> None:
        stack = [(root, left, row)]
        while stack:
            tree, left, row = stack.pop()
            width, _ = self.sizes[id(tree)]
            if isinstance(tree, _Leaf):
                self.lanes[(tree.source, tree.target)] = left + width / 2
            elif isinstance(tree, _Series):
                for part in tree.parts:
                    if isinstance(part, str):
                        self.rows[part] = row
                        self.lefts[part] = left + (width - self.widths[part]) / 2
                        row += 1
                    else:
                        part_width, rows = self.sizes[id(part)]
                        stack.append((part, left + (width - part_width) / 2, row))
                        row += rows
            else:
                for branch in tree.branches:
                    stack.append((branch, left, row))
                    left += self.sizes[id(branch)][0] + HGAP


def layout(diagram: Diagram, top: float = 0.0, margin: float = 16.0) -> Layout:
    """Positions of every box and the polyline of every edge."""
    names = [v.name for v in diagram.vertices]
    widths = {v.name: box_width(v.lines) for v in diagram.vertices}
    pairs = [(a.source, a.target) for a in diagram.arcs]
    tree = decompose(names, pairs)
    placer = _Placer(widths, {n: i for i, n in enumerate(names)})
    if tree is not None:
        placer.measure(tree)
        placer.place(tree, margin, 0)
        width = placer.sizes[id(tree)][0] + 2 * margin
    else:
        width = _one_column(placer, names, pairs, margin)
    boxes = {n: Box(n, placer.lefts[n], top + placer.rows[n] * (BOX_H + GAP), widths[n]) for n in names}
    routes = [layered_route(boxes, placer.lanes, s, t, tree is not None) for s, t in pairs]
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


def series_parallel(names: list[str], widths: dict[str, float], pairs: list[tuple[str, str]]):
    """The placement of a series-parallel graph's layered layout, from x = 0 and row 0 (`rows`, `lefts`,
    `lanes` and its `width`), or None for a graph that is not series-parallel."""
    tree = decompose(names, pairs)
    if tree is None:
        return None
    placer = _Placer(widths, {n: i for i, n in enumerate(names)})
    placer.measure(tree)
    placer.place(tree, 0.0, 0)
    placer.width = placer.sizes[id(tree)][0]
    return placer


def exact_layout(diagram: Diagram) -> Layout | None:
    """The layered layout of a series-parallel `diagram` from (0, 0), every box a whole number of pixels
    wide, so that every position is a multiple of half a pixel (exact in binary and in the SVG's one
    decimal); None for a graph that is not series-parallel."""
    names = [v.name for v in diagram.vertices]
    widths = {v.name: float(ceil(box_width(v.lines))) for v in diagram.vertices}
    pairs = [(a.source, a.target) for a in diagram.arcs]
    placer = series_parallel(names, widths, pairs)
    if placer is None:
        return None
    boxes = {n: Box(n, placer.lefts[n], placer.rows[n] * (BOX_H + GAP), widths[n]) for n in names}
    routes = [layered_route(boxes, placer.lanes, s, t, True) for s, t in pairs]
    labelled: set[str] = set()
    for route in routes:
        if route.source not in labelled:
            labelled.add(route.source)
            route.label_at = (route.points[0][0] + 5, route.points[0][1] + 10)
    return Layout(boxes, routes, placer.width, max(b.bottom for b in boxes.values()), True)


def layered_route(boxes: dict[str, Box], lanes: dict[tuple[str, str], float], source: str, target: str,
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
    """Every box in its own row in execution order; the edges of a box that skip rows share one lane
    on the right (down to its last such target), lanes reused where their rows do not overlap."""
    column = max(placer.widths.values())
    for row, name in enumerate(names):
        placer.rows[name] = row
        placer.lefts[name] = margin + (column - placer.widths[name]) / 2
    reach: dict[str, int] = {}  # a box with edges that skip rows → the last row they reach
    for source, target in pairs:
        start, end = placer.rows[source], placer.rows[target]
        if end > start + 1:
            reach[source] = max(reach.get(source, 0), end)
    busy: list[tuple[int, int]] = []  # (first row free again, lane)
    free: list[int] = []  # lanes free now, lowest first
    lanes: dict[str, int] = {}
    made = 0
    for source in sorted(reach, key=placer.rows.__getitem__):
        while busy and busy[0][0] <= placer.rows[source]:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if not free:
            free.append(made)
            made += 1
        lanes[source] = heapq.heappop(free)
        heapq.heappush(busy, (reach[source] + 1, lanes[source]))
    for source, target in pairs:
        if placer.rows[target] > placer.rows[source] + 1:
            placer.lanes[(source, target)] = margin + column + HGAP + lanes[source] * LANE
    return column + HGAP + made * LANE + 2 * margin


def count_crossings(polylines: list[list[tuple[float, float]]]) -> int:
    """Pairs of segments of different polylines that cross properly (touching ends and overlaps do not
    count), for polylines of vertical and horizontal segments. One pass over the distinct x of the
    vertical segments, left to right, keeps how many of those met so far run strictly across each
    height where a horizontal segment lies; a horizontal segment crosses the ones met between its ends."""
    import numpy as np

    vertical, horizontal = [], []  # (x, low y, high y) and (y, low x, high x)
    for line in polylines:
        for (px, py), (qx, qy) in zip(line, line[1:]):
            if px == qx and py != qy:
                vertical.append((px, min(py, qy), max(py, qy)))
            elif py == qy and px != qx:
                horizontal.append((py, min(px, qx), max(px, qx)))
    if not vertical or not horizontal:
        return 0
    v, h = np.array(vertical), np.array(horizontal)
    xs, heights = np.unique(v[:, 0]), np.unique(h[:, 0])
    starts = np.searchsorted(heights, v[:, 1], "right")  # the first height strictly past one end
    ends = np.searchsorted(heights, v[:, 2], "left")  # the first height not strictly before the other
    across_any = starts < ends  # a segment too short to span a height crosses nothing
    column, starts, ends = np.searchsorted(xs, v[across_any, 0]), starts[across_any], ends[across_any]
    order = np.argsort(column, kind="stable")
    starts, ends = starts[order], ends[order]
    bounds = np.searchsorted(column[order], np.arange(len(xs) + 1))
    at = np.searchsorted(heights, h[:, 0])
    after = np.searchsorted(xs, h[:, 1], "right")  # the first x strictly right of the left end
    before = np.searchsorted(xs, h[:, 2], "left")  # the first x not strictly left of the right end
    spans = before > after
    at, after, before = at[spans], after[spans], before[spans]
    by_after, by_before = np.argsort(after, kind="stable"), np.argsort(before, kind="stable")
    cut_after = np.searchsorted(after[by_after], np.arange(len(xs) + 2))
    cut_before = np.searchsorted(before[by_before], np.arange(len(xs) + 2))
    across = np.zeros(len(heights), dtype=np.int64)  # of the x met so far, the segments strictly across each height
    crossings = 0
    for k in range(len(xs) + 1):
        crossings += int(across[at[by_before[cut_before[k]:cut_before[k + 1]]]].sum())
        crossings -= int(across[at[by_after[cut_after[k]:cut_after[k + 1]]]].sum())
        if k < len(xs):
            first, last = starts[bounds[k]:bounds[k + 1]], ends[bounds[k]:bounds[k + 1]]
            change = np.bincount(first, minlength=len(heights) + 1) - np.bincount(last, minlength=len(heights) + 1)
            across += np.cumsum(change)[:len(heights)]
    return crossings - sum(_own_crossings(line) for line in polylines if len(line) > 4)


def _own_crossings(line: list[tuple[float, float]]) -> int:
    """Proper crossings between segments of the same polyline (the count above takes them in too)."""
    segments = list(zip(line, line[1:]))
    return sum(1 for k, one in enumerate(segments) for other in segments[k + 2:] if _cross(one, other))


def _cross(one, other) -> bool:
    """Whether a vertical and a horizontal segment cross with neither's end on the other."""
    (px, py), (qx, qy) = one
    (rx, ry), (sx, sy) = other
    if px == qx and ry == sy:
        return min(rx, sx) < px < max(rx, sx) and min(py, qy) < ry < max(py, qy)
    if py == qy and rx == sx:
        return min(px, qx) < rx < max(px, qx) and min(ry, sy) < py < max(ry, sy)
    return False
