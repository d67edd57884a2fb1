"""A few helpers to write SVG text (no dependency), and `Drawing`, SVG text that notebooks display."""

from __future__ import annotations

import re
from html import escape

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"

#: What XML 1.0 forbids in a document (C0 controls but tab and line breaks, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: White space an XML parser folds to a space inside an attribute, kept as character references.
_ATTRIBUTE_SPACE = {"\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}


class Drawing(str):
    """SVG text (a `str`); Jupyter shows it as the picture."""

    def _repr_svg_(self) -> str:
        return str(self)


def markup(text: str) -> str:
    """`text` as XML (or HTML) character data: `&<>"'` escaped, and each character XML 1.0 forbids
    written as its visible escape (`\\x07`), so that any name from a file makes well-formed SVG."""
    return escape(_NOT_XML.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text))


def attribute(text: str) -> str:
    """`text` as an attribute value in double quotes: `markup`, with tabs and line breaks kept."""
    return "".join(_ATTRIBUTE_SPACE.get(ch, ch) for ch in markup(text))


def attrs(**values) -> str:
    """` key="value"` pairs; `_` in a key becomes `-`, None values are left out; numbers get 1 decimal."""
    out = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.1f}".rstrip("0").rstrip(".")
        out.append(f' {key.rstrip("_").replace("_", "-")}="{attribute(str(value))}"')
    return "".join(out)


def text(x: float, y: float, content: str, **style) -> str:
    return f"<text{attrs(x=float(x), y=float(y), **style)}>{markup(content)}</text>"


def document(width: float, height: float, body: list[str], title: str) -> Drawing:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg"{attrs(width=float(width), height=float(height))} '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}">')
    return Drawing("\n".join([head, f"<title>{markup(title)}</title>",
                              '<rect width="100%" height="100%" fill="white"/>', *body, "</svg>"]) + "\n")
