"""A U (ushape.py) with boxes that each read several levels and lead only to outputs: Faster R-CNN's
RoIAlign, which pools each region from four levels of the feature pyramid, then the box head and the
predictors (Mask and Keypoint R-CNN have a second).

Each such box and what hangs below it (a `tail`) are left out, the rest is drawn as a U, and each tail
is laid out by the layered layout below it, on the right, one under the other. Each box a pooling
reads leaves along its own lane on the far right, down to the pooling's right side: the lanes of boxes
higher up outside and entering lower, so that no two cross; a second pooling's lanes lie outside the
first's and cross them (two poolings of the same levels make the graph non-planar), and the layout
counts how often. `pooled_layout` returns None where the graph has no such box, the rest is no U, an
edge would run through a box, or a single pooling's lanes would cross.
"""

from __future__ import annotations

from math import ceil

from .diagram import Diagram
from .layout import (
    GAP,
    HGAP,
    LANE,
    Box,
    Layout,
    Route,
    count_crossings,
    exact_layout,
)
from .ushape import through_a_box, u_layout


def pooled_layout(diagram: Diagram, top: float = 0.0, margin: float = 16.0) -> Layout | None:
    """The U of `diagram` without its poolings' tails, each tail below the one before on the right; or
    None. Two poolings that read the same levels cross each other's lanes (Mask R-CNN's graph is not
    planar): the drawing then says how often."""
    tails = _tails(diagram)
    if not tails:
        return None
    tail = set().union(*tails)
    rest = Diagram(diagram.title, tuple(v for v in diagram.vertices if v.name not in tail),
                   tuple(a for a in diagram.arcs if a.source not in tail and a.target not in tail))
    placed = u_layout(rest, top, margin)
    if placed is None:
        return None
    right = ceil(placed.width - margin)
    boxes = dict(placed.boxes)
    routes = list(placed.routes)
    outer = right + HGAP
    for members in tails:
        pool = next(v.name for v in diagram.vertices if v.name in members)
        read = sorted({a.source for a in diagram.arcs if a.target == pool}, key=lambda n: boxes[n].y)
        if not all(n in placed.boxes for n in read):
            return None
        below = exact_layout(Diagram(diagram.title, tuple(v for v in diagram.vertices if v.name in members),
                                     tuple(a for a in diagram.arcs if a.source in members and a.target in members)))
        if below is None:
            return None
        lanes = {name: outer + LANE * (len(read) - 1 - k) for k, name in enumerate(read)}
        outer += LANE * len(read)
        dx = right - below.width   # the whole tail left of the lanes
        dy = max(b.bottom for b in boxes.values()) + GAP
        boxes.update({n: Box(n, b.x + dx, b.y + dy, b.w) for n, b in below.boxes.items()})
        head = boxes[pool]
        for r in below.routes:
            r.points = [(x + dx, y + dy) for x, y in r.points]
            r.label_at = r.label_at and (r.label_at[0] + dx, r.label_at[1] + dy)
            routes.append(r)
        for k, name in enumerate(read):   # the lane of a box higher up enters lower down
            source, y_in = boxes[name], head.y + round(head.h * (len(read) - k) / (len(read) + 1))
            y = source.y + source.h / 2
            routes.append(Route(name, pool, [(source.x + source.w, y), (lanes[name], y), (lanes[name], y_in),
                                             (head.x + head.w, y_in)]))
    shift = margin - min(b.x for b in boxes.values())
    if shift > 0:
        for box in boxes.values():
            box.x += shift
        for r in routes:
            r.points = [(x + shift, y) for x, y in r.points]
            if r.label_at:
                r.label_at = (r.label_at[0] + shift, r.label_at[1])
    width = max(max(b.x + b.w for b in boxes.values()), outer + max(shift, 0)) + margin
    crossings = count_crossings([r.points for r in routes])
    if crossings and len(tails) == 1 or through_a_box(routes, boxes):
        return None
    return Layout(boxes, routes, width, max(b.bottom for b in boxes.values()) + margin, True, crossings,
                  "not planar (two poolings read the same levels)")


def _tails(diagram: Diagram) -> list[set[str]]:
    """Each box that reads several boxes and of which everything after it hangs (each box reading one),
    with all of that, in the order of the file."""
    sources: dict[str, list[str]] = {v.name: [] for v in diagram.vertices}
    targets: dict[str, list[str]] = {v.name: [] for v in diagram.vertices}
    for arc in diagram.arcs:
        sources[arc.target].append(arc.source)
        targets[arc.source].append(arc.target)
    hangs: set[str] = set()   # boxes read by one box, all of whose readers hang too
    found = []
    for vertex in reversed(diagram.vertices):
        name = vertex.name
        if len(sources[name]) >= 2 and all(t in hangs for t in targets[name]) and targets[name]:
            found.append(_below(name, targets))
        elif len(sources[name]) == 1 and all(t in hangs for t in targets[name]):
            hangs.add(name)
    return found[::-1]


def _below(name: str, targets: dict[str, list[str]]) -> set[str]:
    found, todo = {name}, [name]
    while todo:
        for t in targets[todo.pop()]:
            if t not in found:
                found.add(t)
                todo.append(t)
    return found
