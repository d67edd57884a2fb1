"""The error hierarchy: every failure a user can cause is an ArchcalcError that names where."""

from __future__ import annotations

from collections.abc import Iterable


class ArchcalcError(Exception):
    """A user-facing error: `file:line: layer: message` on one line, as compilers write it; an error
    in a file that the one read `extends` says both: `net.yaml, from _vgg.yaml:21: conv3: ...`.

    `file`, `line` and `layer` are filled in as the error travels outwards (the loader knows the
    file and the line of each layer entry, the analyzer the layer), so the innermost code only has
    to say what was wrong. `line` and `column` count from 1.
    """

    def __init__(self, message: str, *, file: str | None = None, layer: str | None = None,
                 line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.layer = layer
        self.line = line
        self.column = column
        self.via: str | None = None  # the file that was read, when the error lies in a file it extends

    def located(self, *, file: str | None = None, layer: str | None = None,
                where: tuple[str, int] | None = None) -> ArchcalcError:
        """Fill in the location where it is still unknown; `where` is the (file, line) of the
        layer's entry. Returns self for `raise ... from`."""
        if self.line is None and where is not None:
            if self.file is not None and self.file != where[0]:
                self.via = self.file
            self.file, self.line = where
        if file is not None and self.file is None:
            self.file = file
        elif file is not None and file != self.file and self.via is None:
            self.via = file
        if self.layer is None and layer is not None:
            self.layer = layer
        return self

    def __str__(self) -> str:
        place = self.file and printable(self.file) + "".join(f":{n}" for n in (self.line, self.column) if n)
        if place and self.via:
            place = f"{printable(self.via)}, from {place}"
        parts = [p for p in (place, self.layer and printable(self.layer)) if p]
        parts.append(printable(" ".join(self.message.split())))
        return ": ".join(parts)


class SpecError(ArchcalcError):
    """The file is not a valid architecture description (syntax, keys, values, limits)."""


class GraphError(ArchcalcError):
    """The layers do not form a valid graph (names, references, cycles)."""


class ShapeError(ArchcalcError):
    """A layer cannot accept the shapes that reach it."""


class MismatchError(ShapeError):
    """Inputs of a join (`add`, `concat`, ...) whose shapes do not fit together."""

    def __init__(self, verb: str, shapes: list[tuple[int, ...]]):
        super().__init__(f"cannot {verb} " + " and ".join(dims(s) for s in shapes) + " (C×H×W)")
        self.verb, self.shapes = verb, shapes

    def naming(self, inputs: list[str]) -> MismatchError:
        """The message with each shape said as its input's: `cannot add conv2's 16×6×6 and ...`."""
        shown = " and ".join(f"{name}'s {dims(s)}" for name, s in zip(inputs, self.shapes, strict=False))
        self.message = f"cannot {self.verb} {shown} (C×H×W)"
        return self


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


def dims(shape: tuple[int, ...]) -> str:
    """A shape as the lectures write it: `16×6×6`."""
    return "×".join(str(d) for d in shape)


def channels_last_hint(shape: tuple[int, ...] | list) -> str:
    """A hint when an input shape looks written as H×W×C (the Keras habit), e.g. [32, 32, 1]."""
    if len(shape) == 3 and all(isinstance(d, int) for d in shape) and shape[2] in (1, 3, 4) \
            and shape[0] > 4 and shape[1] > 4:
        return (f" (hint: input is C×H×W, but {list(shape)} looks like H×W×C; "
                f"did you mean [{shape[2]}, {shape[0]}, {shape[1]}]?)")
    return ""


def shorten(text: str, limit: int = 60) -> str:
    """A user's value as an error message quotes it: cut to `limit` characters, ending in "..."."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


MAX_SUGGESTION_CANDIDATES = 1000
MIN_CONTAINED = 3  # the shortest name suggested for containing, or being contained in, the word


def suggestion(word: str, choices: Iterable[str], count: int = 1) -> str:
    """` (did you mean 'x'?)` naming the closest of `choices` to `word`; empty when none is close.

    Close is alike letter by letter (`kernal_size`, `kernel_size`) or, failing that, one containing the
    other (`downsample`, `down`; `conv`, `conv1`), the likest first. The choices are read until
    MAX_SUGGESTION_CANDIDATES of about the word's length are found, so that a typo among a hundred
    thousand names is still reported at once."""
    import difflib

    word = str(word)
    near: list[str] = []
    related: list[str] = []
    for choice in map(str, choices):
        if abs(len(choice) - len(word)) <= 3:
            near.append(choice)
        contained = len(choice) >= MIN_CONTAINED and (choice in word or word in choice)
        if contained and len(related) < MAX_SUGGESTION_CANDIDATES:
            related.append(choice)
        if len(near) >= MAX_SUGGESTION_CANDIDATES:
            break
    close = difflib.get_close_matches(word, near, n=count)
    if not close and len(word) >= MIN_CONTAINED:
        close = sorted(related, key=lambda c: -difflib.SequenceMatcher(None, word, c).ratio())[:count]
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
