"""`kind="graph"`: the layer graph as boxes and arrows (layout.py places them), one box per layer or
folded block, coloured by family, each edge labelled with the tensor it carries."""

from __future__ import annotations

from .diagram import Diagram, shape_text
from .layout import Layout, layout
from .palette import FILL, LABEL, legend
from .pooled import pooled_layout
from .sides import side_layout
from .svg import Drawing, attrs, document, markup, text
from .ushape import u_layout

_HEADER = 30  # the title
_LEGEND_ROW = 20
_MIN_WIDTH = 420


def render(diagram: Diagram, note: str = "") -> Drawing:
    """The drawing of `diagram`, with `note` (why it is folded) under the legend."""
    families = {v.family for v in diagram.vertices}
    keys = legend(families)
    width_guess = _MIN_WIDTH
    rows = _legend_rows(keys, width_guess)
    below_legend = _HEADER + len(rows) * _LEGEND_ROW
    below = below_legend + 14 + (_LEGEND_ROW if note else 0)
    placed = (u_layout(diagram, top=below) or pooled_layout(diagram, top=below)
              or side_layout(diagram, top=below) or layout(diagram, top=below))
    width = max(placed.width, _MIN_WIDTH, 24 + len(note) * 5.8)
    _shift(placed, (width - placed.width) / 2)
    body = [text(12, 20, diagram.title, font_size=15, font_weight="bold"), *_legend(rows, _HEADER),
            *([text(12, below_legend + 8, note, font_size=10, fill="#a00", class_="note")] if note else []),
            '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
            'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>']
    body += _edges(diagram, placed) + _boxes(diagram, placed)
    if placed.crossings:
        body.append(text(12, placed.height + 4, f"{placed.why}, {placed.crossings} edge crossings", font_size=10,
                         fill="#a00"))
    return document(width, placed.height + 10, body, diagram.title)


def _shift(placed: Layout, dx: float) -> None:
    for box in placed.boxes.values():
        box.x += dx
    for route in placed.routes:
        route.points = [(x + dx, y) for x, y in route.points]
        if route.label_at:
            route.label_at = (route.label_at[0] + dx, route.label_at[1])


def _legend_rows(keys: list[tuple[str, str]], width: float) -> list[list[tuple[str, str, float]]]:
    rows: list[list[tuple[str, str, float]]] = [[]]
    x = 12.0
    for label, fill in keys:
        item = 22 + len(label) * 6.3 + 14
        if x + item > width and rows[-1]:
            rows.append([])
            x = 12.0
        rows[-1].append((label, fill, x))
        x += item
    return rows


def _legend(rows, top: float) -> list[str]:
    out = ['<g class="legend">']
    for index, row in enumerate(rows):
        y = top + index * _LEGEND_ROW
        for label, fill, x in row:
            out.append(f"<rect{attrs(x=x, y=y, width=16, height=12, rx=2, fill=fill, stroke='#666')}/>")
            out.append(text(x + 22, y + 10, label, font_size=11))
    return out + ["</g>"]


def _edges(diagram: Diagram, placed: Layout) -> list[str]:
    shapes = {(a.source, a.target): shape_text(a.shape) for a in diagram.arcs}
    out = []
    for route in placed.routes:
        shape = shapes[(route.source, route.target)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in route.points)
        out.append(f'<g class="edge"{attrs(data_source=route.source, data_target=route.target, data_shape=shape)}>'
                   f"<title>{markup(route.source)} → {markup(route.target)}: {shape}</title>"
                   f'<polyline points="{points}" fill="none" stroke="#555" stroke-width="1.2" '
                   'marker-end="url(#arrow)"/>')
        if route.label_at:
            out.append(text(*route.label_at, shape, font_size=9.5, fill="#444", class_="shape"))
        out.append("</g>")
    return out


def _boxes(diagram: Diagram, placed: Layout) -> list[str]:
    out = []
    for vertex in diagram.vertices:
        box = placed.boxes[vertex.name]
        name, kind, shape = vertex.lines
        out.append(f'<g class="node"{attrs(data_name=vertex.name, data_family=vertex.family)}>'
                   f"<title>{markup(vertex.name)}: {markup(LABEL[vertex.family])}</title>")
        border = "#2a7a75" if vertex.block else "#555"
        frame = attrs(x=box.x, y=box.y, width=box.w, height=box.h, rx=6, fill=FILL[vertex.family], stroke=border,
                      stroke_width=2.0 if vertex.block else 1.0)
        out.append(f"<rect{frame}/>")
        out.append(text(box.cx, box.y + 15, name, font_size=12, font_weight="bold", text_anchor="middle"))
        out.append(text(box.cx, box.y + 30, kind, font_size=11, text_anchor="middle"))
        out.append(text(box.cx, box.y + 44, shape, font_size=11, text_anchor="middle", class_="shape",
                        fill="#234"))
        out.append("</g>")
    return out
