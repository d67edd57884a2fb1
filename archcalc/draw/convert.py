"""SVG text as PNG or PDF bytes (cairosvg, extra `draw`). A PNG is scaled down to fit what cairo
can paint (at most MAX_SIDE pixels a side, MAX_PIXELS in all), and refused in one line where that
would shrink it below MIN_SCALE, too small to read."""

from __future__ import annotations

import re

from ..errors import ArchcalcError

MAX_SIDE = 32_000  # cairo's image surfaces stop at 32,767 pixels a side
MAX_PIXELS = 25_000_000  # 100 MB of pixels
MIN_SCALE = 0.25  # 12-pixel names would be 3 pixels high

_PIXELS_PER = {"": 1.0, "px": 1.0, "pt": 96 / 72, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_SIZE = re.compile(r'\s(width|height)="([0-9.]+)([a-z]*)"')


def size(svg: str) -> tuple[float, float]:
    """The width and height in pixels that the `<svg>` element declares (archcalc's, or dot's in points)."""
    head = svg[svg.index("<svg"):svg.index(">", svg.index("<svg"))]
    found = {key: float(value) * _PIXELS_PER.get(unit, 1.0) for key, value, unit in _SIZE.findall(head)}
    return found.get("width", 0.0), found.get("height", 0.0)


def png_scale(width: float, height: float) -> float:
    """The scale at which a drawing of `width` × `height` pixels fits a PNG (1 if it fits as it is)."""
    return min(1.0, MAX_SIDE / max(width, height, 1.0), (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)


def convert(svg: str, suffix: str, output: str = "the drawing") -> bytes:
    """`svg` as `png` or `pdf` bytes; ArchcalcError naming `output` where it cannot be written."""
    try:
        import cairosvg
    except (ImportError, OSError):
        raise ArchcalcError(f"drawing {suffix.upper()} needs cairosvg: pip install 'archcalc[draw]'") from None
    scale = 1.0
    if suffix == "png":
        width, height = size(svg)
        scale = png_scale(width, height)
        if scale < MIN_SCALE:
            raise ArchcalcError(f"{output}: the drawing is {width:,.0f}×{height:,.0f} pixels, too large for a PNG (at "
                                f"most {MAX_SIDE:,} pixels a side and {MAX_PIXELS:,} in all) at a readable scale; "
                                "write .svg or .pdf, or fold blocks with --depth")
    paint = cairosvg.svg2png if suffix == "png" else cairosvg.svg2pdf
    try:
        return paint(bytestring=svg.encode("utf-8"), scale=scale)
    except Exception as exc:  # whatever cairo says, one line
        raise ArchcalcError(f"{output}: cairosvg could not paint the drawing ({type(exc).__name__})") from None
