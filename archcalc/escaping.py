"""Text from an input file made safe for the format archcalc writes it into.

Names, titles and answers come from files that students and strangers write: every writer of CSV,
markdown or LaTeX passes such text through the function for its format, so that a name is shown as
written and never read as a formula, markup or a command.
"""

from __future__ import annotations

from typing import Any

#: Characters that make a spreadsheet read a cell as a formula (OWASP's list; tab and carriage return
#: too, which some spreadsheets strip before looking).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: numbers as they are, text that a spreadsheet would read as a formula
    behind a leading apostrophe (the OWASP rule), any other text unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def one_line(text: str) -> str:
    """`text` on one line: every line break and control character a space."""
    return "".join(" " if ch in "\r\n\t\v\f\x85\u2028\u2029" or (ord(ch) < 32 or ord(ch) == 127) else ch
                   for ch in text)


_MARKDOWN = {ch: "\\" + ch for ch in "\\`*_[]<>|~"}
_MARKDOWN["&"] = "&amp;"


def markdown_text(text: str) -> str:
    """`text` as literal markdown on one line: markup characters backslash-escaped (and a heading,
    list or quote marker at its start), `&` and angle brackets unable to open HTML."""
    escaped = "".join(_MARKDOWN.get(ch, ch) for ch in one_line(text))
    return "\\" + escaped if escaped[:1] in ("#", "+", "-", "!", "=") else escaped


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
          "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
          "×": r"$\times$", "−": r"$-$", "≈": r"$\approx$", "→": r"$\to$", "·": r"$\cdot$",
          "²": r"$^2$", "³": r"$^3$", "⁶": r"$^6$", "─": "-", "│": "|", "├": "+"}


def latex_text(text: str) -> str:
    """`text` as literal LaTeX on one line (safe in a `%` comment too): special characters escaped."""
    return "".join(_LATEX.get(ch, ch) for ch in one_line(text))
