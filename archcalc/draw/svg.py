"""A few helpers to write SVG text (no dependency), and `Drawing`, SVG text that notebooks display."""

from __future__ import annotations

from html import escape

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


class Drawing(str):
    """SVG text (a `str`); Jupyter shows it as the picture."""

    def _repr_svg_(self) -> str:
        return str(self)


def attrs(**values) -> str:
    """` key="value"` pairs; `_` in a key becomes `-`, None values are left out; numbers get 1 decimal."""
    out = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.1f}".rstrip("0").rstrip(".")
        out.append(f' {key.rstrip("_").replace("_", "-")}="{escape(str(value))}"')
    return "".join(out)


def text(x: float, y: float, content: str, **style) -> str:
    return f"<text{attrs(x=float(x), y=float(y), **style)}>{escape(content)}</text>"


def document(width: float, height: float, body: list[str], title: str) -> Drawing:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg"{attrs(width=float(width), height=float(height))} '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}">')
    return Drawing("\n".join([head, f"<title>{escape(title)}</title>",
                              '<rect width="100%" height="100%" fill="white"/>', *body, "</svg>"]) + "\n")
