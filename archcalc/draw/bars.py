"""Per-layer bars drawn as SVG by archcalc itself (the HTML report's plots need no matplotlib)."""

from __future__ import annotations

from html import escape

from ..analysis import Report
from ..units import count, nbytes
from .metrics import WHAT, bars, total
from .svg import Drawing, attrs, document, text

_HEIGHT = 150


def svg_bars(report: Report, what: str, depth: int | None = None) -> Drawing:
    """One bar per layer (or block below `depth`) with a value, titled with the total; hovering a bar
    names the layer and its value."""
    rows = bars(report, what, depth)
    show = (lambda v: nbytes(v, "si")) if what == "memory" else (lambda v: count(v, "si"))
    step = max(4.0, min(18.0, 900 / max(len(rows), 1)))
    width = max(420.0, 60 + step * len(rows))
    top = 28
    peak = max((v for _, v in rows), default=1) or 1
    overall = total(report, what)
    title = WHAT[what][0] + (f": total {show(overall)}" if overall is not None else "")
    body = [text(8, 16, title, font_size=12, font_weight="bold")]
    body.append(f"<line{attrs(x1=50.0, y1=top + _HEIGHT + 0.5, x2=width - 8, y2=top + _HEIGHT + 0.5, stroke='#888')}/>")
    body.append(text(46, top + 8, show(peak), font_size=9, text_anchor="end", fill="#555"))
    for index, (name, value) in enumerate(rows):
        h = _HEIGHT * value / peak
        box = attrs(x=50 + index * step, y=top + _HEIGHT - h, width=step * 0.8, height=h, fill="#4a90c2")
        body.append(f'<rect class="bar"{box}>'
                    f"<title>{escape(name)}: {escape(show(value))}</title></rect>")
    return document(width, top + _HEIGHT + 10, body, f"{report.name}: {title}")
