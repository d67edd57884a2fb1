"""The tiling note: what a window that does not tile its input leaves out, said once per kind.

A 1×1 stride-2 convolution on a 56×56 map reads rows 0, 2, ..., 54: row and column 55 are never
read. PyTorch and Keras do the same (they round the output size down), so this is a note, not a
mistake; `--strict` makes it an error. docs/faq.md explains it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NOTE = re.compile(r"^(?P<path>.+?): (?P<window>\S+) on (?P<size>\S+): (?P<lost>the last .+ skipped)$")


#: What a skipped input position is called along each axis, by the number of spatial axes.
_POSITIONS = {1: ("position",), 2: ("row", "column"), 3: ("frame", "row", "column")}


def tiling_note(windows, size: tuple[int, ...], remainders: tuple[int, ...]) -> str:
    """One layer's note: `1×1/2 on 56: the last row and column are skipped` (positions of a 1-D input,
    frames, rows and columns of a 3-D one)."""
    kernel = _sizes(tuple(w.kernel for w in windows))
    stride = _sizes(tuple(w.stride for w in windows), square=False)
    lost = [f"{'' if n == 1 else f'{n} '}{what}{'' if n == 1 else 's'}"
            for n, what in zip(remainders, _POSITIONS[len(remainders)]) if n]
    verb = "is" if len(lost) == 1 and lost[0] == "position" else "are"
    return f"{kernel}/{stride} on {_sizes(size, square=False)}: the last {_and(lost)} {verb} skipped"


def _sizes(values: tuple[int, ...], square: bool = True) -> str:
    """`3×3` (`3` unless `square`) where every axis agrees, `3×5` otherwise."""
    if len(set(values)) == 1:
        return "×".join([str(values[0])] * len(values)) if square else str(values[0])
    return "×".join(map(str, values))


def grouped(warnings: Iterable[str]) -> list[str]:
    """The warnings with the tiling notes of one kind (window and what is skipped) merged into one
    line that says where, and why it is no mistake; other warnings as they are, in order."""
    kinds: dict[tuple[str, str], list[tuple[str, str]]] = {}
    lines: list[str | tuple[str, str]] = []
    for warning in warnings:
        match = _NOTE.match(warning)
        if match is None:
            lines.append(warning)
            continue
        key = (match["window"], match["lost"])
        if key not in kinds:
            kinds[key] = []
            lines.append(key)
        kinds[key].append((match["path"], match["size"]))
    return [line if isinstance(line, str) else _merged(*line, kinds[line]) for line in lines]


def _merged(window: str, lost: str, places: list[tuple[str, str]]) -> str:
    sizes = list(dict.fromkeys(size for _, size in places))
    paths = [path for path, _ in places]
    where = paths[0] if len(paths) == 1 else f"{paths[0]} and {len(paths) - 1} more"
    like = "as in torchvision's ResNet" if window == "1×1/2" else "as PyTorch and Keras do"
    return (f"note: {window} on {_and(sizes)} ({where}): {lost}, {like} (the output size is rounded down); "
            "--strict makes this an error; see docs/faq.md")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
