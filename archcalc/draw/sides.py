"""A network whose heads per level join into two outputs (SSD: a class and a box prediction on each of
six feature maps, each kind concatenated into one output), laid out with the joins on two sides.

The boxes that feed only one join (each reading one box) form branches: a branch hangs off the box it
reads, the `spine`, which the layered layout draws down the middle. The first join's branches hang to
the left of the spine, the second's to the right, each from the row of the box it reads; each branch's
last box leaves along its own lane to its join, drawn below everything, the lanes of branches higher
up outside those of lower ones, so that no lane crosses the way into a lower branch. Rows are added to
the spine where two branches on a side would meet. A `stub`, boxes that leave the spine one after
another and end in a head on each side (SSD300's L2 normalisation of its first map), stands in a
column outside the first join's lanes; its branch to the second join hangs below it and goes under
everything into that join. `side_layout` returns None where the graph has not this form or the
drawing would not come out clean (no edge through a box, no two edges crossing).
"""

from __future__ import annotations

from math import ceil

from .diagram import Diagram
from .layout import (
    BOX_H,
    GAP,
    HGAP,
    LANE,
    Box,
    Layout,
    Route,
    box_width,
    count_crossings,
    exact_layout,
    layered_route,
    series_parallel,
)
from .ushape import MAX_U_BOXES, hang_branch, through_a_box

ROW = BOX_H + GAP


def side_layout(diagram: Diagram, top: float = 0.0, margin: float = 16.0) -> Layout | None:
    """The drawing with the two joins' branches on either side of the spine, or None."""
    if not 4 <= len(diagram.vertices) <= MAX_U_BOXES:
        return None
    names = [v.name for v in diagram.vertices]
    sources: dict[str, list[str]] = {n: [] for n in names}
    targets: dict[str, list[str]] = {n: [] for n in names}
    for arc in diagram.arcs:
        sources[arc.target].append(arc.source)
        targets[arc.source].append(arc.target)
    joins = [n for n in names if not targets[n] and len(sources[n]) >= 2]
    if len(joins) != 2:
        return None
    feeds: dict[str, str] = {}   # a box of a branch → its join
    for name in reversed(names):
        ends = {t if t in joins else feeds.get(t) for t in targets[name]}
        if name not in joins and len(sources[name]) == 1 and len(ends) == 1 and None not in ends:
            feeds[name] = ends.pop()
    spine = [n for n in names if n not in feeds and n not in joins]
    stub = _stub(spine, sources, targets)
    if stub is None:
        return None
    main = [n for n in spine if n not in stub]
    widths = {v.name: float(ceil(box_width(v.lines))) for v in diagram.vertices}
    placer = series_parallel(main, widths, [(a.source, a.target) for a in diagram.arcs
                                            if a.source in main and a.target in main])
    if placer is None:
        return None
    branches = [_branches(diagram, spine, feeds, sources, join) for join in joins]
    if any(b is None for b in branches):
        return None
    rows = dict(placer.rows)
    if stub:   # in a column of its own, on the far left, from the row of the box it leaves
        rows.update({n: rows[sources[stub[0]][0]] + 1 + k for k, n in enumerate(stub)})
        if stub[-1] not in branches[0] or stub[-1] not in branches[1]:
            return None
    under = branches[1].pop(stub[-1]) if stub else None   # the stub's right-hand branch: below it, then under all
    row_of, first = _rows(rows, branches)
    if row_of is None:
        return None
    inner = [max((placed.width for _, placed in side.values() if len(placed.boxes) > 1), default=0.0)
             for side in branches]
    lanes = [LANE * len(side) for side in branches]
    stub_w = max([widths[n] for n in stub] + [under[1].width] if stub else [0.0])
    x_lanes = margin + (stub_w + HGAP if stub else 0.0)
    x_spine = x_lanes + lanes[0] + HGAP + inner[0] + HGAP
    boxes = {n: Box(n, x_spine + placer.lefts[n], top + row_of[n] * ROW, widths[n]) for n in main}
    spine_right = x_spine + placer.width
    routes = [layered_route(boxes, {pair: x_spine + x for pair, x in placer.lanes.items()}, a.source, a.target, True)
              for a in diagram.arcs if a.source in boxes and a.target in boxes]
    if stub:
        routes += _stub_boxes(boxes, stub, sources[stub[0]][0], widths, margin + stub_w / 2, top, row_of)
        end = boxes[stub[-1]]
        sub = under[1].boxes[stub[-1]]
        routes += hang_branch(boxes, stub[-1], under[1], end.x - sub.x, end.y - sub.y, None)
    bottom = max(round((b.y - top) / ROW) for b in boxes.values())
    for side, (join, attached) in enumerate(zip(joins, branches)):
        left = x_spine - HGAP - inner[0] if side == 0 else spine_right + HGAP
        order = sorted(attached, key=lambda a: (a not in stub, row_of[a]))   # the stub's comes from outside
        lane_x = {attach: (x_lanes + LANE / 2 + LANE * k if side == 0 else
                           spine_right + HGAP + inner[1] + HGAP + LANE * (len(order) - 1 - k) + LANE / 2)
                  for k, attach in enumerate(order)}
        for attach in order:
            placed = attached[attach][1]
            bus = 1 if attach in stub else side   # the stub's left-hand branch lies to its right
            routes += hang_branch(boxes, attach, placed, left if side else left + inner[0] - placed.width,
                                  top + first[attach] * ROW, bus)
            bottom = max(bottom, first[attach] + _height(placed) - 1)
        xs = sorted(lane_x.values())
        w = max(widths[join], xs[-1] - xs[0] + LANE)
        boxes[join] = Box(join, xs[0] - LANE / 2, top + (bottom + 1) * ROW, w)
        for attach in order:
            exit_box = boxes[attached[attach][0]]
            y = exit_box.y + exit_box.h / 2
            lane = lane_x[attach]
            start = exit_box.x if lane < exit_box.x else exit_box.x + exit_box.w
            routes.append(Route(exit_box.name, join, [(start, y), (lane, y), (lane, boxes[join].y)]))
    if stub:   # down the stub's column, under everything, up into the second join
        exit_box, join = boxes[under[0]], boxes[joins[1]]
        low = max(b.bottom for b in boxes.values()) + GAP / 2
        routes.append(Route(exit_box.name, join.name, [(exit_box.cx, exit_box.bottom), (exit_box.cx, low),
                                                       (join.cx, low), (join.cx, join.bottom)]))
    shift = margin - min(b.x for b in boxes.values())
    for box in boxes.values():
        box.x += shift
    for r in routes:
        r.points = [(px + shift, py) for px, py in r.points]
    labelled: set[str] = set()
    for r in routes:
        if r.source not in labelled:
            labelled.add(r.source)
            (x, y), (nx, ny) = r.points[0], r.points[1]
            r.label_at = (x + 5, y + 10) if ny > y else (x - 70, y - 4) if nx < x else (x + 4, y - 4)
    placed = Layout(boxes, routes, max(b.x + b.w for b in boxes.values()) + margin,
                    max(b.bottom for b in boxes.values()) + margin, True)
    if _overlap(list(boxes.values())) or count_crossings([r.points for r in routes]) or through_a_box(routes, boxes):
        return None
    return placed


def _stub(spine: list[str], sources, targets) -> list[str] | None:
    """The boxes of the spine that leave it one after another and end in heads only (SSD300's L2
    normalisation of its first feature map), in order; [] where the spine has one end, None where more
    than two."""
    kept = set(spine)
    ends = [n for n in spine if not any(t in kept for t in targets[n])]
    if len(ends) != 2:
        return [] if len(ends) == 1 else None
    chain = [ends[0]]
    while len(sources[chain[-1]]) == 1 and sum(t in kept for t in targets[sources[chain[-1]][0]]) == 1:
        chain.append(sources[chain[-1]][0])
    if len(sources[chain[-1]]) != 1:
        return None
    return chain[::-1]


def _stub_boxes(boxes: dict[str, Box], stub: list[str], fork: str, widths, centre: float, top: float,
                row_of: dict[str, int]) -> list[Route]:
    """The stub's boxes down a column at `centre`; the edge into it out of the left side of `fork`."""
    for name in stub:
        boxes[name] = Box(name, centre - widths[name] / 2, top + row_of[name] * ROW, widths[name])
    into, start = boxes[stub[0]], boxes[fork]
    y = start.y + start.h / 2
    routes = [Route(fork, stub[0], [(start.x, y), (centre, y), (centre, into.y)])]
    routes += [Route(a, b, [(centre, boxes[a].bottom), (centre, boxes[b].y)]) for a, b in zip(stub, stub[1:])]
    return routes


def _branches(diagram: Diagram, spine: list[str], feeds: dict[str, str], sources, join: str):
    """Per box of the spine that a branch of `join` hangs off: (the branch's box that `join` reads, the
    layered layout of the box and its branch); None where a box has several such."""
    kept_spine = set(spine)
    out: dict[str, tuple[str, Layout]] = {}
    members: dict[str, list[str]] = {}
    for name in [v.name for v in diagram.vertices]:
        if feeds.get(name) == join:
            source = sources[name][0]
            attach = source if source in kept_spine else _attach(source, sources, kept_spine)
            members.setdefault(attach, [attach]).append(name)
    for source in sources[join]:
        attach = source if source in kept_spine else _attach(source, sources, kept_spine)
        if attach in out:
            return None
        kept = set(members.get(attach, [attach]))
        sub = Diagram(diagram.title, tuple(v for v in diagram.vertices if v.name in kept),
                      tuple(a for a in diagram.arcs if a.source in kept and a.target in kept))
        placed = exact_layout(sub)
        if placed is None:
            return None
        out[attach] = (source, placed)
    return out


def _attach(name: str, sources, spine: set[str]) -> str:
    while name not in spine:
        name = sources[name][0]
    return name


def _height(placed: Layout) -> int:
    return round(max(b.y for b in placed.boxes.values()) / ROW) + 1


def _rows(rows: dict[str, int], branches) -> tuple[dict[str, int] | None, dict[str, int]]:
    """Rows of the spine, with rows added above a box whose branches would reach into those of a box
    higher up on the same side; and the row each box's branches begin in (its own)."""
    attaches = sorted({a for side in branches for a in side}, key=rows.__getitem__)
    if len({rows[a] for a in attaches}) < len(attaches):
        return None, {}
    added: list[tuple[int, int]] = []
    free = [0, 0]
    first: dict[str, int] = {}
    for attach in attaches:
        row = rows[attach] + sum(n for _, n in added)
        need = max(free[s] for s, side in enumerate(branches) if attach in side)
        if row < need:
            added.append((rows[attach], need - row))
            row = need
        first[attach] = row
        for s, side in enumerate(branches):
            if attach in side:
                free[s] = row + _height(side[attach][1])
    return {n: r + sum(k for at, k in added if at <= r) for n, r in rows.items()}, first


def _overlap(boxes: list[Box]) -> bool:
    boxes = sorted(boxes, key=lambda b: b.y)
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            if b.y >= a.bottom:
                break
            if a.x < b.x + b.w and b.x < a.x + a.w:
                return True
    return False
