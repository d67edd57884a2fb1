"""The error hierarchy: every failure a user can cause is an ArchcalcError that names where."""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable


class ArchcalcError(Exception):
    """A user-facing error: `file: layer: message` on one line.

    `file` and `layer` are filled in as the error travels outwards (the loader knows the file,
    the analyzer the layer), so the innermost code only has to say what was wrong.
    """

    def __init__(self, message: str, *, file: str | None = None, layer: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.layer = layer

    def located(self, *, file: str | None = None, layer: str | None = None) -> ArchcalcError:
        """Fill in the location where it is still unknown; returns self for `raise ... from`."""
        if self.file is None and file is not None:
            self.file = file
        if self.layer is None and layer is not None:
            self.layer = layer
        return self

    def __str__(self) -> str:
        parts = [printable(p) for p in (self.file, self.layer) if p]
        parts.append(printable(" ".join(self.message.split())))
        return ": ".join(parts)


class SpecError(ArchcalcError):
    """The file is not a valid architecture description (syntax, keys, values, limits)."""


class GraphError(ArchcalcError):
    """The layers do not form a valid graph (names, references, cycles)."""


class ShapeError(ArchcalcError):
    """A layer cannot accept the shapes that reach it."""


class TilingError(ShapeError):
    """A window does not tile its input exactly (raised only in strict mode)."""


class ExecutionError(ArchcalcError):
    """The forward pass cannot run (missing weights, no backend, not enough memory)."""


class ExportError(ArchcalcError):
    """The network cannot be written for another framework (a layer it cannot express)."""


def printable(text: str) -> str:
    """`text` with every control or otherwise unprintable character escaped (`\\n`, `\\x1b`, `\\u2028`),
    so that a name from a file can neither break a message's one line nor drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text)


def shorten(text: str, limit: int = 60) -> str:
    """A user's value as an error message quotes it: cut to `limit` characters, ending in "..."."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


MAX_SUGGESTION_CANDIDATES = 1000


def suggestion(word: str, choices: Iterable[str], count: int = 1) -> str:
    """` (did you mean 'x'?)` naming the closest of `choices` to `word`; empty when none is close.

    Only the first MAX_SUGGESTION_CANDIDATES choices of about the word's length are compared, so
    that a typo among a hundred thousand names is still reported at once."""
    word = str(word)
    near = (c for c in map(str, choices) if abs(len(c) - len(word)) <= 3)
    close = difflib.get_close_matches(word, list(itertools.islice(near, MAX_SUGGESTION_CANDIDATES)), n=count)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
