"""Per-layer bars drawn as SVG by archcalc itself (the HTML report's plots need no matplotlib)."""

from __future__ import annotations

from ..analysis import Report
from ..units import count, nbytes
from .metrics import MAX_BARS, WHAT, bars, envelope, total
from .svg import Drawing, attrs, document, markup, text

_HEIGHT = 150
_PROFILE_WIDTH = 900  # pixels; each holds the highest value of its share of the layers


def svg_bars(report: Report, what: str, depth: int | None = None) -> Drawing:
    """One bar per layer (or block below `depth`) with a value, titled with the total; hovering a bar
    names the layer and its value. More than MAX_BARS rows make one profile instead."""
    rows = bars(report, what, depth)
    show = (lambda v: nbytes(v, "si")) if what == "memory" else (lambda v: count(v, "si"))
    step = max(4.0, min(18.0, 900 / max(len(rows), 1)))
    width = max(420.0, 60 + (_PROFILE_WIDTH if len(rows) > MAX_BARS else step * len(rows)))
    top = 28
    peak = max((v for _, v in rows), default=1) or 1
    overall = total(report, what)
    title = WHAT[what][0] + (f": total {show(overall)}" if overall is not None else "")
    body = [text(8, 16, title, font_size=12, font_weight="bold")]
    body.append(f"<line{attrs(x1=50.0, y1=top + _HEIGHT + 0.5, x2=width - 8, y2=top + _HEIGHT + 0.5, stroke='#888')}/>")
    body.append(text(46, top + 8, show(peak), font_size=9, text_anchor="end", fill="#555"))
    if len(rows) > MAX_BARS:
        body += _profile([v for _, v in rows], peak, top)
    for index, (name, value) in enumerate(rows if len(rows) <= MAX_BARS else ()):
        h = _HEIGHT * value / peak
        box = attrs(x=50 + index * step, y=top + _HEIGHT - h, width=step * 0.8, height=h, fill="#4a90c2")
        body.append(f'<rect class="bar"{box}>'
                    f"<title>{markup(name)}: {markup(show(value))}</title></rect>")
    return document(width, top + _HEIGHT + 10, body, f"{report.name}: {title}")


def _profile(values: list[int], peak: int, top: float) -> list[str]:
    """The values in order as one filled outline, a pixel column holding the highest of its share."""
    highest = envelope(values, _PROFILE_WIDTH)
    base, step = top + _HEIGHT, _PROFILE_WIDTH / len(highest)
    outline = " ".join(f"L{50 + i * step:.1f},{base - _HEIGHT * v / peak:.1f} h{step:.1f}"
                       for i, v in enumerate(highest))
    return [f'<path class="profile" d="M50,{base:.1f} {outline} V{base:.1f} Z" fill="#4a90c2"/>',
            text(50, base + 9, f"{len(values):,} layers in order, the highest value of each pixel's share",
                 font_size=9, fill="#555")]
