"""`kind="blocks"`: the lecture figure. Each feature map is a 3-D box whose height, depth and width
follow its H, W and C (log-scaled; a legend says how), kernels are drawn from one map into the next,
and labels read as in LeCun's LeNet figure (`C1: 6@28×28`). A vector (or a 1×1 map) is a thin bar, as
fully connected layers are drawn. A clip (C, T, H, W) is a row of frames, each a box of (C, H, W) (the
first few of its T drawn), a signal (C, L) a box of height L and no depth. A branching network is drawn a
module at a time: each Inception module or residual block is one framed box, its branches listed under it."""

from __future__ import annotations

from dataclasses import dataclass
from math import log2

from ..analysis import LayerRecord, Report
from ..layers.family import Group
from ..rows import kernel_window
from .diagram import Diagram, Nesting, TooLarge, Vertex, diagram
from .palette import FILL
from .svg import Drawing, attrs, document, markup, text

_SLANT = 0.6  # the oblique axis (W) at 45°, foreshortened
ROW_WIDTH = 1400  # the figure wraps into rows no wider (pixels)
MAX_STAGES = 300  # a figure with more boxes is folded further, or refused
_BRANCHES, _STEPS = 6, 5  # under a module: at most this many branches, of at most this many layers each
_FRAMES, _FRAME_GAP = 4, 9.0  # a clip: at most this many frames drawn, this far apart (pixels)
#: The layers a figure shows: those that make a new map (normalization and activations keep theirs).
_DRAWN = {Group.CONVOLUTION, Group.FULLY_CONNECTED, Group.POOLING}


def _drawn(record: LayerRecord) -> bool:
    return bool(record.inputs) and record.layer.family.group in _DRAWN


def _height(n: int) -> float:
    return 10 + 22 * log2(n)


def _width(c: int) -> float:
    return 3 + 7 * log2(c)


def _depth(n: int) -> float:
    return (6 + 12 * log2(n)) * _SLANT


def stage_label(vertex: Vertex) -> str:
    """`C1: 6@28×28` for a feature map, `F7: 10` for a vector (`conv1a: 64×16×112×112` for a clip, C×T×H×W,
    and `conv1: 128×8000` for a signal)."""
    shape = vertex.output_shape
    size = f"{shape[0]}@{shape[1]}×{shape[2]}" if len(shape) == 3 else "×".join(str(s) for s in shape)
    return f"{vertex.name}: {size}"


def figure_stages(report: Report, depth: int | None = None) -> tuple[list[Vertex], str]:
    """The boxes of the figure at the deepest folding at or above `depth` whose boxes form a chain
    (every layer if the network is one) and number at most MAX_STAGES, and a note if that limit
    folded it; TooLarge if even depth 1 has more."""
    counts = Nesting.of(report)
    drawn = [0] * (counts.deepest + 1)  # drawn[p - 1]: the layers `stages` shows whose path has p parts
    for index, record in enumerate(report.layers):
        drawn[record.depth] += index == 0 or _drawn(record)
    levels = [depth, *(d for d in range(counts.deepest, 0, -1) if depth is None or d < depth)]
    over = 0
    for level in levels:
        count = sum(drawn) if level is None or level > counts.deepest else sum(drawn[:level]) + counts.blocks[level - 1]
        if count > MAX_STAGES:
            over = over or count
            continue
        found = diagram(report, level)
        if not _is_chain(found) and level != levels[-1]:
            continue
        return stages(found), (f"Blocks below depth {level} are folded into one box each: {over:,} boxes would "
                               f"pass the {MAX_STAGES:,} a figure holds." if over else "")
    raise TooLarge(f"the figure has {over:,} boxes, more than the {MAX_STAGES:,} a figure holds, even with every "
                   "block folded", file=report.architecture.source)


def _is_chain(found: Diagram) -> bool:
    targets = [a.target for a in found.arcs]
    sources = [a.source for a in found.arcs]
    return len(set(targets)) == len(targets) and len(set(sources)) == len(sources)


def stages(found: Diagram) -> list[Vertex]:
    """The boxes the figure shows: the input, every block, and the convolutions, pooling and fully
    connected layers (activations, normalization, dropout and reshapes make no new map)."""
    chosen = []
    for index, vertex in enumerate(found.vertices):
        record = vertex.records[0]
        if index == 0 or vertex.block or _drawn(record):
            chosen.append(vertex)
    return chosen


@dataclass
class _Placed:
    vertex: Vertex
    x: float
    h: float
    w: float
    d: float
    vector: bool
    notes: list[str]  # written under the box
    end: float  # the right end of the room its labels take
    frames: int = 1  # the boxes drawn one behind the other (a clip's first frames)

    @property
    def spread(self) -> float:
        """How far the last frame lies right of the first."""
        return (self.frames - 1) * _FRAME_GAP


def render(report: Report, depth: int | None = None) -> Drawing:
    """The figure, wrapped into rows at most `ROW_WIDTH` wide, folded at `depth` (further where the
    network is not a chain there, or has more than `MAX_STAGES` boxes)."""
    shown, note = figure_stages(report, depth)
    title = report.architecture.title
    body = [text(12, 22, title, font_size=15, font_weight="bold")]
    if note:
        body.append(text(12, 40, note, font_size=10, fill="#a00", class_="note"))
    top = 40.0 + (16 if note else 0)
    rows = _wrapped(shown)
    for index, row in enumerate(rows):
        label_y = top + 16
        half = max(p.h for p in row) / 2
        middle = label_y + 20 + max(p.d for p in row) + half
        for before, after in zip(row, row[1:]):
            body += _kernel(before, after, middle)
        if index:  # the figure goes on from the row above
            body.append(_carried(row[0], middle, into=True))
        if index < len(rows) - 1:
            body.append(_carried(row[-1], middle, into=False))
        notes_top = middle + half + 22
        for item in row:
            body += _stage(item, middle, label_y, notes_top)
        top = notes_top + 14 * max(len(item.notes) for item in row) + 18
    clips = any(item.frames > 1 for row in rows for item in row)
    body += _legend(top, clips)
    width = max(max(row[-1].end for row in rows) + 30, 560)
    return document(width, top + 26 + (13 if clips else 0), body, title)


def _wrapped(shown: list[Vertex]) -> list[list[_Placed]]:
    """The boxes placed left to right in as few rows as fit ROW_WIDTH, the rows about equally long."""
    sized = []
    for vertex in shown:
        shape = vertex.output_shape
        vector = len(shape) == 1 or all(n == 1 for n in shape[1:])
        h = _height(shape[0]) * 0.8 if vector else _height(shape[-2] if len(shape) > 2 else shape[1])
        w = 8.0 if vector else _width(shape[0])
        d = 0.0 if vector or len(shape) == 2 else _depth(shape[-1])
        frames = min(shape[1], _FRAMES) if len(shape) == 4 and not vector else 1
        notes = _notes(vertex)
        room = max([w + d + (frames - 1) * _FRAME_GAP, len(stage_label(vertex)) * 8.6, *(len(n) * 5.6 for n in notes)])
        sized.append((vertex, h, w, d, vector, notes, room, frames))
    fewest = len(_rows(sized, ROW_WIDTH))
    width = sum(item[6] + 30 for item in sized) / fewest
    while len(rows := _rows(sized, width)) > fewest:
        width += 30
    return rows


def _rows(sized: list[tuple], width: float) -> list[list[_Placed]]:
    """The boxes placed left to right, a new row where the next one would pass `width`."""
    rows: list[list[_Placed]] = [[]]
    x = 24.0
    for vertex, h, w, d, vector, notes, room, frames in sized:
        if rows[-1] and x + room > width:
            rows.append([])
            x = 24.0
        spread = (frames - 1) * _FRAME_GAP
        rows[-1].append(_Placed(vertex, x + (room - w - d - spread) / 2, h, w, d, vector, notes, x + room, frames))
        x += room + 30
    return rows


def _carried(item: _Placed, middle: float, into: bool) -> str:
    """A dashed stub into the first box of a row, or out of the last: the figure goes on in the next row."""
    y = middle - item.d / 2
    x = item.x + item.d / 2 if into else item.x + item.w + item.d / 2 + item.spread
    ends = (x - 22, x) if into else (x, x + 22)
    line = attrs(x1=ends[0], y1=y, x2=ends[1], y2=y, stroke="#777", stroke_dasharray="3 2", class_="carried")
    return f"<line{line}/>"


def _notes(vertex: Vertex) -> list[str]:
    """What is written under a box: the layer's operation, or a module's branches."""
    if not vertex.block:
        record = vertex.records[0]
        return [f"{record.type} {_brief(record)}".strip()] if record.inputs else ["input"]
    return [f"[{vertex.kind}]", *_branches(vertex.records)]


def _brief(record: LayerRecord) -> str:
    window = kernel_window(record)
    if window is None:
        return record.layer.describe()
    mark = record.layer.grouping_label(list(record.input_shapes))
    if len(window) == 2:
        kh, kw = window
        return (f"{kh.kernel}×{kw.kernel}" + (f"/{kh.stride}" if kh.stride > 1 else "")
                + (f" {mark}" if mark else ""))
    strides = [axis.stride for axis in window]
    stride = str(strides[0]) if len(set(strides)) == 1 else "×".join(map(str, strides))
    return ("×".join(str(axis.kernel) for axis in window) + (f"/{stride}" if max(strides) > 1 else "")
            + (f" {mark}" if mark else ""))


def _branches(records: tuple[LayerRecord, ...]) -> list[str]:
    """One line per branch of a module (the first _BRANCHES): its listed layers (the first _STEPS) from
    where it reads the module's input."""
    inside = {r.name: r for r in records}
    readers: dict[str, list[LayerRecord]] = {}
    for r in records:
        for src in r.inputs:
            readers.setdefault(src, []).append(r)
    lines = []
    for start in (r for r in records if any(s not in inside for s in r.inputs)):
        chain, record = [], start
        while len(chain) <= _STEPS:
            if _drawn(record):
                chain.append(f"{_brief(record)} {record.type} {record.output_shape[0]}" if len(chain) < _STEPS
                             else "…")
            following = readers.get(record.name, [])
            if len(following) != 1 or len(following[0].inputs) != 1:
                break
            record = following[0]
        if len(start.inputs) > 1 and not chain:  # the join reads the module's input: a shortcut
            chain = ["identity"]
        if chain:
            lines.append(" → ".join(chain))
        if len(lines) == _BRANCHES:
            break
    return lines


def _shade(fill: str, factor: float) -> str:
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{max(0, min(255, int(v * factor))):02x}" for v in (r, g, b))


def _family(vertex: Vertex) -> str:
    return vertex.family if not vertex.block else "block"


def _stage(item: _Placed, middle: float, label_y: float, notes_top: float) -> list[str]:
    vertex = item.vertex
    fill = FILL[_family(vertex)]
    top, bottom = middle - item.h / 2, middle + item.h / 2
    dx, dy = item.d, item.d
    centre = item.x + (item.w + item.d + item.spread) / 2
    out = [f'<g class="stage"{attrs(data_name=vertex.name, data_label=stage_label(vertex))}>',
           f"<title>{markup(stage_label(vertex))}</title>"]
    if vertex.block:
        pad = 8
        frame = attrs(x=item.x - pad, y=top - dy - pad, width=item.w + dx + item.spread + 2 * pad,
                      height=item.h + dy + 2 * pad, rx=8, fill="none", stroke="#2a7a75", stroke_dasharray="4 3")
        out.append(f"<rect{frame}/>")
    for frame_index in reversed(range(item.frames)):  # the last frame first: the first one in front
        x = item.x + frame_index * _FRAME_GAP
        box = attrs(x=x, y=top, width=item.w, height=item.h, fill=fill, stroke="#333", stroke_width=0.8)
        out.append(f"<rect{box}/>")
        if dx:
            out.append(_polygon([(x, top), (x + dx, top - dy), (x + item.w + dx, top - dy), (x + item.w, top)],
                                _shade(fill, 1.12)))
            out.append(_polygon([(x + item.w, top), (x + item.w + dx, top - dy), (x + item.w + dx, bottom - dy),
                                 (x + item.w, bottom)], _shade(fill, 0.85)))
    out.append(text(centre, label_y, stage_label(vertex), font_size=11, font_weight="bold",
                    text_anchor="middle", class_="label"))
    for index, note in enumerate(item.notes):
        out.append(text(centre, notes_top + 14 * index, note, font_size=10, text_anchor="middle", fill="#333"))
    return out + ["</g>"]


def _polygon(points, fill: str) -> str:
    return (f'<polygon points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"'
            f"{attrs(fill=fill, stroke='#333', stroke_width=0.8)}/>")


def _kernel(before: _Placed, after: _Placed, middle: float) -> list[str]:
    """The window of the layer that makes `after`, as a small square on `before`'s side, with lines
    to the point of `after` it computes (a plain arrow for blocks and vectors)."""
    start = (before.x + before.w + before.d / 2 + before.spread, middle - before.d / 2)
    end = (after.x + after.d / 2, middle - after.d / 2)
    window = None if after.vertex.block or before.vector else kernel_window(after.vertex.records[0])
    if window is None:
        line = attrs(x1=start[0], y1=start[1], x2=end[0], y2=end[1], stroke="#777", stroke_dasharray="3 2")
        return [f"<line{line}/>"]
    shape = before.vertex.output_shape
    axis = -2 if len(window) > 1 else -1  # the height's (a clip's frames have one)
    side = max(4.0, before.h * min(1.0, window[axis].kernel / shape[axis]))
    sx, sy = start
    square = [(sx - side / 2 * _SLANT, sy - side / 2), (sx + side / 2 * _SLANT, sy - side / 2 - side / 2 * _SLANT),
              (sx + side / 2 * _SLANT, sy + side / 2 - side / 2 * _SLANT), (sx - side / 2 * _SLANT, sy + side / 2)]
    out = [f'<g class="kernel"{attrs(data_name=after.vertex.name)}>',
           _polygon(square, "#f4a582").replace('stroke="#333"', 'stroke="#b2182b"')]
    out += [f'<line{attrs(x1=px, y1=py, x2=end[0], y2=end[1], stroke="#b2182b", stroke_width=0.7)}/>'
            for px, py in square]
    return out + ["</g>"]


def _legend(top: float, clips: bool = False) -> list[str]:
    """The legend; `clips`: a line on how a clip's frames are drawn."""
    lines = [text(12, top, "Each box is a layer's output, labelled C@H×W: height 10 + 22·log₂ H, depth",
                  font_size=10, fill="#333"),
             text(12, top + 13, "0.6 × (6 + 12·log₂ W), width 3 + 7·log₂ C pixels. Red: the window of the next layer.",
                  font_size=10, fill="#333")]
    if clips:
        lines.append(text(12, top + 26, f"A clip, C×T×H×W, is a row of frames: the first {_FRAMES} of its T.",
                          font_size=10, fill="#333"))
    return ['<g class="legend">', *lines, "</g>"]
