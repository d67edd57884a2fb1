"""An encoder–decoder laid out as a U (U-Net's Fig. 1): the contracting path down the left, the deepest
level across the bottom, the expansive path up the right, each skip an arrow across at its resolution.

A box's level is how many times the map has been halved since the input: a window's stride adds its
log₂, an upsampling takes it back (`levels`). The boxes before the first of the deepest level are the
contracting path, those after its last the expansive path, and the boxes of the expansive part that
read only the contracting path (U-Net's crops, FCN's score layers; a crop's `like:` layer, drawn back
into it, gives only its size) stand between the two columns, in the row of what they read. Each level
is a band of rows, so a skip's source and target lie in the same band. A contracting path that is not
a chain (a ResNet body under a feature pyramid) is drawn as the layered layout draws it, its rows in
the bands of their levels. Branches that hang off one box and end in outputs (a detector's head per
level) are drawn to the right of the U from that box's row. The U is drawn only where the graph fits
it (the expansive path a chain, a skip across at one level) and the result is clean (no edge through
a box, no two edges crossing); otherwise `u_layout` returns None and the layered layout draws the
graph as before.
"""

from __future__ import annotations

from math import ceil, log2

from .diagram import Diagram, Vertex
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

MAX_U_BOXES = 500   # above this, the layered layout (the clean-check below is quadratic)


def levels(vertices: tuple[Vertex, ...]) -> dict[str, int]:
    """Per layer (by name), the times its map has been halved since the input: the first input's level,
    plus log₂ of the stride of a layer that slides windows over a map, minus log₂ of an upsampling's
    factor (rounded: an unpadded convolution or a crop changes no level)."""
    found: dict[str, int] = {}
    for vertex in vertices:
        for record in vertex.records:
            base = found.get(record.inputs[0], 0) if record.inputs else 0
            found[record.name] = base + _step(record)
    return found


def _step(record) -> int:
    if not record.input_shapes or len(record.output_shape) < 2 or len(record.input_shapes[0]) < 2:
        return 0
    size_in, size_out = record.input_shapes[0][-1], record.output_shape[-1]
    windows = record.layer.windows(list(record.input_shapes))
    if windows is not None:
        return round(log2(windows[-1].stride)) if windows[-1].stride > 1 else 0
    return -round(log2(size_out / size_in)) if size_out > size_in else 0


def u_layout(diagram: Diagram, top: float = 0.0, margin: float = 16.0) -> Layout | None:
    """The U of `diagram`, or None where it is not an encoder–decoder with skips or would not draw cleanly.
    The branches that hang off one box and end in outputs (a detector's head per level) are left out of
    the U and each drawn, as the layered layout draws it, to the right of the U from the row of that box."""
    hanging = _hanging(diagram)
    core = Diagram(diagram.title, tuple(v for v in diagram.vertices if v.name not in hanging),
                   tuple(a for a in diagram.arcs if a.target not in hanging))
    vertices = core.vertices
    if not 4 <= len(vertices) <= MAX_U_BOXES:
        return None
    per_layer = levels(vertices)
    level = {v.name: per_layer[v.records[-1].name] for v in vertices}
    names = [v.name for v in vertices]
    deepest = max(level.values())
    deep = [k for k, n in enumerate(names) if level[n] == deepest]
    encoder, bottom, rest = names[:deep[0]], names[deep[0]:deep[-1] + 1], names[deep[-1] + 1:]
    if not encoder or not rest:
        return None
    sized = _size_arcs(vertices)
    sources: dict[str, list[str]] = {n: [] for n in names}
    for arc in core.arcs:
        if (arc.source, arc.target) not in sized:
            sources[arc.target].append(arc.source)
    left = set(encoder)
    bridge: list[str] = []
    for name in rest:
        if sources[name] and all(s in left or s in bridge for s in sources[name]):
            bridge.append(name)
    decoder = [n for n in rest if n not in bridge]
    if not decoder:
        return None
    column = None
    if not _fits(core, encoder, bottom, bridge, decoder, level, deepest, sized):
        column = _left_column(core, encoder + bottom, level, deepest)
        if column is None:
            return None
        placer, encoder, bottom, level = column
        if not _fits_beside(core, encoder, bottom, bridge, decoder, level, deepest, sized):
            return None
    branches = _branches(diagram, hanging)
    if branches is None:
        return None
    return _place(diagram, core, encoder, bottom, bridge, decoder, level, branches, top, margin, column and column[0])


def _left_column(core: Diagram, left: list[str], level: dict[str, int], deepest: int):
    """A contracting path that is not a chain (a ResNet's blocks), its bottom below it: its layered layout
    as the left column, each row at the deepest level of its boxes and of the rows above it.
    (placement, encoder, bottom, levels with the encoder's boxes at their row's) or None."""
    kept = set(left)
    widths = {v.name: float(ceil(box_width(v.lines))) for v in core.vertices if v.name in kept}
    placer = series_parallel(left, widths, [(a.source, a.target) for a in core.arcs
                                            if a.source in kept and a.target in kept])
    if placer is None:
        return None
    row_level: dict[int, int] = {}
    for name in left:
        row = placer.rows[name]
        row_level[row] = max(row_level.get(row, level[name]), level[name])
    deepest_yet = 0
    for row in sorted(row_level):   # a row below a deeper one belongs to that one's level
        deepest_yet = row_level[row] = max(deepest_yet, row_level[row])
    if row_level[0] == deepest:
        return None
    encoder = [n for n in left if row_level[placer.rows[n]] < deepest]
    bottom = [n for n in left if row_level[placer.rows[n]] == deepest]
    return placer, encoder, bottom, {**level, **{n: row_level[placer.rows[n]] for n in encoder}}


def _fits_beside(core: Diagram, encoder, bottom, bridge, decoder, level, deepest, sized) -> bool:
    """`_fits` for a left column laid out as a whole: from it, skips across at one level and the way out
    of its bottom into the decoder's first box; the decoder a chain."""
    side = {**{n: "left" for n in (*encoder, *bottom)}, **{n: "bridge" for n in bridge},
            **{n: "dec" for n in decoder}}
    position = {n: k for k, n in enumerate(decoder)}
    skip = False
    for arc in core.arcs:
        s, t = side[arc.source], side[arc.target]
        if (s, t) == ("dec", "dec"):
            if position[arc.target] != position[arc.source] + 1:
                return False
        elif s == "left" and t != "left":
            across = arc.source in encoder and level[arc.source] == level[arc.target] < deepest
            if not across and (arc.source not in bottom or arc.target != decoder[0]):
                return False
            skip = skip or across
        elif s != "left" and (s, t) not in (("bridge", "bridge"), ("bridge", "dec")) and \
                not ((s, t) == ("dec", "bridge") and (arc.source, arc.target) in sized):
            return False
    return skip


def _hanging(diagram: Diagram) -> dict[str, str]:
    """Each box of a branch that hangs off one box: read by nothing outside the branch, and each of its
    boxes reading one box (found from the outputs back) → the box it hangs off. A box that nothing but
    such branches read goes on into its first one (a U-Net's last convolution stays in its column)."""
    sources: dict[str, list[str]] = {v.name: [] for v in diagram.vertices}
    targets: dict[str, list[str]] = {v.name: [] for v in diagram.vertices}
    for arc in diagram.arcs:
        sources[arc.target].append(arc.source)
        targets[arc.source].append(arc.target)
    pendant: set[str] = set()
    for vertex in reversed(diagram.vertices):
        name = vertex.name
        if len(sources[name]) == 1 and all(t in pendant for t in targets[name]):
            pendant.add(name)
    for vertex in diagram.vertices:   # a box that would end in branches only goes on into the first
        name = vertex.name
        if name not in pendant and targets[name] and all(t in pendant for t in targets[name]):
            pendant.discard(targets[name][0])
    hanging: dict[str, str] = {}
    for vertex in diagram.vertices:
        if vertex.name in pendant:
            source = sources[vertex.name][0]
            hanging[vertex.name] = hanging.get(source, source)
    return hanging


def _branches(diagram: Diagram, hanging: dict[str, str]) -> dict[str, Layout] | None:
    """Per box that branches hang off, the layered layout of it and its branches (it alone in the first
    row); None where one is not series-parallel."""
    members: dict[str, list[str]] = {}
    for name, root in hanging.items():
        members.setdefault(root, [root]).append(name)
    out = {}
    for root, names in members.items():
        kept = set(names)
        sub = Diagram(diagram.title, tuple(v for v in diagram.vertices if v.name in kept),
                      tuple(a for a in diagram.arcs if a.source in kept and a.target in kept))
        placed = exact_layout(sub)
        if placed is None:
            return None
        out[root] = placed
    return out


def _size_arcs(vertices: tuple[Vertex, ...]) -> set[tuple[str, str]]:
    """The arcs that carry only a size (a crop's `like:` layer): (source, target) of the boxes."""
    owner = {r.name: v.name for v in vertices for r in v.records}
    return {(owner[v.records[0].inputs[1]], v.name) for v in vertices
            if len(v.records) == 1 and v.records[0].layer.sized_by_second_input and len(v.records[0].inputs) == 2}


def _fits(diagram: Diagram, encoder, bottom, bridge, decoder, level, deepest, sized) -> bool:
    """Each path a chain in its column, the bottom entered from the encoder's last box and left into the
    decoder's first, at least one skip from the encoder across to the same level higher up, and from the
    decoder back across only the size a crop takes (`like:`)."""
    side = {**{n: "enc" for n in encoder}, **{n: "bottom" for n in bottom}, **{n: "bridge" for n in bridge},
            **{n: "dec" for n in decoder}}
    chains = {"enc": encoder, "bottom": bottom, "dec": decoder}
    position = {n: k for chain in chains.values() for k, n in enumerate(chain)}
    skip = False
    for arc in diagram.arcs:
        s, t = side[arc.source], side[arc.target]
        if s == t and s in chains:
            if position[arc.target] != position[arc.source] + 1:
                return False
        elif (s, t) == ("enc", "bottom"):
            if arc.source != encoder[-1] or arc.target != bottom[0]:
                return False
        elif (s, t) == ("bottom", "dec"):
            if arc.source != bottom[-1] or arc.target != decoder[0]:
                return False
        elif (s, t) in (("enc", "bridge"), ("enc", "dec")):
            skip = skip or level[arc.source] == level[arc.target] < deepest
        elif (s, t) not in (("bridge", "bridge"), ("bridge", "dec")) and \
                not ((s, t) == ("dec", "bridge") and (arc.source, arc.target) in sized):
            return False
    return skip


def _place(diagram: Diagram, core: Diagram, encoder, bottom, bridge, decoder, level, branches, top,
           margin, column=None) -> Layout | None:
    """The boxes and edges of the U, the left column one box wide or, with `column`, its layered layout."""
    widths = {v.name: float(ceil(box_width(v.lines))) for v in core.vertices}   # whole pixels: exact sums
    bands = sorted({level[n] for n in (*encoder, *bridge, *decoder)})
    band_of = {lv: k for k, lv in enumerate(bands)}
    rows: dict[str, tuple[int, int]] = {}   # name → (band, row within the band)
    filled = [0] * len(bands)
    if column is None:
        for name in encoder:
            band = band_of[level[name]]
            rows[name], filled[band] = (band, filled[band]), filled[band] + 1
    else:
        first_row: dict[int, int] = {}
        for name in encoder:
            band, row = band_of[level[name]], column.rows[name]
            first_row[band] = min(first_row.get(band, row), row)
            filled[band] = max(filled[band], row - first_row[band] + 1)
        rows.update({n: (band_of[level[n]], column.rows[n] - first_row[band_of[level[n]]]) for n in encoder})
    sources = {n: [a.source for a in core.arcs if a.target == n] for n in bridge}
    bridge_next = [0] * len(bands)
    for name in bridge:   # in the row of what it reads, below the bridge boxes placed before it
        band = band_of[level[name]]
        wanted = max((rows[s][1] + (s in sources) for s in sources[name] if rows.get(s, (None,))[0] == band),
                     default=0)
        rows[name] = (band, max(wanted, bridge_next[band]))
        bridge_next[band] = rows[name][1] + 1
    counts = [0] * len(bands)
    for name in decoder:
        counts[band_of[level[name]]] += 1
    height = [max(filled[k], bridge_next[k], counts[k], 1) for k in range(len(bands))]
    seen = [0] * len(bands)
    for name in decoder:   # the flow goes up: a band's first decoder box in its last row
        band = band_of[level[name]]
        rows[name] = (band, height[band] - 1 - seen[band])
        seen[band] += 1
    start = [sum(height[:k]) for k in range(len(bands))]
    row_of = {n: start[b] + r for n, (b, r) in rows.items()}
    if column is None:
        row_of.update({name: sum(height) + k for k, name in enumerate(bottom)})
    else:
        below = min(column.rows[n] for n in bottom)
        row_of.update({name: sum(height) + column.rows[name] - below for name in bottom})
    hung = _hang(row_of, branches)
    if hung is None:
        return None

    on_left, into_right = set(encoder), set(decoder)
    first_gap = [a for a in core.arcs if a.source in on_left and a.target in bridge]
    second_gap = [a for a in core.arcs if a.source not in into_right and a.source not in bottom
                  and a.target in into_right or a.source in into_right and a.target in bridge]
    middle = (*bottom, *bridge) if column is None else bridge
    enc_w = max(widths[n] for n in encoder) if column is None else column.width
    mid_w = max((widths[n] for n in middle), default=0.0)
    dec_w = max(widths[n] for n in decoder)
    x_enc = margin
    x_mid = x_enc + enc_w + HGAP + LANE * len(first_gap)
    x_dec = x_mid + mid_w + HGAP + LANE * len(second_gap)
    at = {**{n: (x_enc, enc_w) for n in encoder}, **{n: (x_mid, mid_w) for n in middle},
          **{n: (x_dec, dec_w) for n in decoder}}
    if column is not None:
        at.update({n: (x_enc + column.lefts[n], widths[n]) for n in (*encoder, *bottom)})
    boxes, centre = {}, {}
    for name in row_of:
        x, w = at[name]
        centre[name] = x + w / 2   # one x per column, so that its edges are exactly vertical
        boxes[name] = Box(name, centre[name] - widths[name] / 2, top + row_of[name] * (BOX_H + GAP), widths[name])
    lanes = {(a.source, a.target): x_enc + enc_w + HGAP / 2 + LANE * k for k, a in enumerate(first_gap)}
    lanes.update({(a.source, a.target): x_mid + mid_w + HGAP / 2 + LANE * k for k, a in enumerate(second_gap)})
    left = set() if column is None else {*encoder, *bottom}
    inner = {pair: x_enc + x for pair, x in column.lanes.items()} if column is not None else {}
    routes = [layered_route(boxes, inner, a.source, a.target, True) if a.source in left and a.target in left else
              _route(boxes[a.source], boxes[a.target], centre[a.source], centre[a.target],
                     lanes.get((a.source, a.target))) for a in core.arcs]
    x_hang = x_dec + dec_w + HGAP
    for root, first in hung.items():
        routes += hang_branch(boxes, root, branches[root], x_hang, top + first * (BOX_H + GAP), 1)
    labelled: set[str] = set()
    for route in routes:
        if route.source not in labelled:
            labelled.add(route.source)
            (x, y), ny = route.points[0], route.points[1][1]
            route.label_at = (x + 5, y + 10) if ny > y else (x + 5, y - 5) if ny < y else (x + 4, y - 4)
    width = max([x_dec + dec_w, *(x_hang + branches[root].width for root in hung)]) + margin
    height_px = max(b.bottom for b in boxes.values()) + margin
    placed = Layout(boxes, routes, width, height_px, True)
    if count_crossings([r.points for r in routes]) or through_a_box(routes, boxes):
        return None
    return placed


def _hang(row_of: dict[str, int], branches: dict[str, Layout]) -> dict[str, int] | None:
    """The row each box's branches begin in (its own): rows of the U are added above a box whose branches
    would reach into those of a box higher up (`row_of` moved down to match). None where two boxes
    with branches share a row."""
    roots = sorted(branches, key=row_of.__getitem__)
    if len({row_of[r] for r in roots}) < len(roots):
        return None
    added: list[tuple[int, int]] = []   # (row of the U, rows added above it)
    free, first = 0, {}
    for root in roots:
        row = row_of[root] + sum(n for at, n in added)
        if row < free:
            added.append((row_of[root], free - row))
            row = free
        first[root] = row
        free = row + _rows(branches[root])
    for name, row in row_of.items():
        row_of[name] = row + sum(n for at, n in added if at <= row)
    return first


def _rows(placed: Layout) -> int:
    return round((max(b.y for b in placed.boxes.values()) + GAP) / (BOX_H + GAP)) + 1


def hang_branch(boxes: dict[str, Box], attach: str, placed: Layout, left: float, top: float,
                side: int | None) -> list[Route]:
    """The boxes of `attach`'s branch (from `placed`, moved to `left`, `top`) added to `boxes`; their
    edges, the one out of `attach` along its row from its left (`side` 0) or right side (1) and down
    into the branch, or (None) as `placed` draws it, `attach` where `placed` has it."""
    anchor = boxes[attach]
    for name, box in placed.boxes.items():
        if name != attach:
            boxes[name] = Box(name, left + box.x, top + box.y, box.w)
    routes = []
    for r in placed.routes:
        if r.source == attach and side is not None:
            target = boxes[r.target]
            y = anchor.y + anchor.h / 2
            start = anchor.x if side == 0 else anchor.x + anchor.w
            routes.append(Route(attach, r.target, [(start, y), (target.cx, y), (target.cx, target.y)]))
        else:
            routes.append(Route(r.source, r.target, [(left + x, top + y) for x, y in r.points]))
    return routes


def _route(a: Box, b: Box, ax: float, bx: float, lane: float | None) -> Route:
    """Down or up a column (at its centre `ax` = `bx`); across a gap along the arc's lane; into and out
    of the bottom."""
    ay, by = a.y + a.h / 2, b.y + b.h / 2
    if ax == bx:
        points = [(ax, a.bottom), (bx, b.y)] if b.y > a.y else [(ax, a.y), (bx, b.bottom)]
    elif lane is not None and b.x < a.x:   # a size back to a crop: into its right side below its own way out
        low = b.y + b.h * 3 / 4
        points = [(a.x, ay), (lane, ay), (lane, low), (b.x + b.w, low)]
    elif lane is not None:   # a skip: out of the source's right side, along its lane, into the target's left
        points = [(a.x + a.w, ay), (lane, ay), (lane, by), (b.x, by)] if ay != by else [(a.x + a.w, ay), (b.x, by)]
    elif b.y > a.bottom:     # down the encoder's column, into the bottom's left side
        points = [(ax, a.bottom), (ax, by), (b.x, by)]
    else:                    # out of the bottom's right side, up into the decoder
        points = [(a.x + a.w, ay), (bx, ay), (bx, b.bottom)]
    return Route(a.name, b.name, points)


def through_a_box(routes: list[Route], boxes: dict[str, Box]) -> bool:
    """Whether a segment runs through a box's inside (touching its border is allowed), or any segment
    is slanted."""
    for route in routes:
        for (px, py), (qx, qy) in zip(route.points, route.points[1:]):
            if px != qx and py != qy:
                return True
            lo_x, hi_x, lo_y, hi_y = min(px, qx), max(px, qx), min(py, qy), max(py, qy)
            for box in boxes.values():
                if lo_x < box.x + box.w and hi_x > box.x and lo_y < box.bottom and hi_y > box.y:
                    return True
    return False
