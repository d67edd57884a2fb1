"""Pictures of a network: `draw` makes SVG text (the layer graph, or the lecture's block figure);
`archcalc.draw.plot` charts the numbers with matplotlib (optional extra `plot`).

The package can be called as its `draw` function, so that `archcalc.draw("lenet5")` draws and
`archcalc.draw.plot.layers(...)` charts, whichever was imported first.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import Any

from ..errors import SpecError
from .diagram import MAX_ARCS, MAX_BOXES, TooLarge
from .svg import Drawing

KINDS = ("graph", "blocks")


def draw(arch: Any, kind: str = "graph", *, depth: int | None = None, input: Any = None,
         engine: str = "archcalc") -> Drawing:
    """SVG text of `arch` (a zoo name, path, Architecture or Report): `graph`, one box per layer (or
    per block below `depth`), or `blocks`, feature maps as boxes as in the LeNet and AlexNet figures.
    `engine="dot"` lays the graph out with Graphviz's `dot` program instead (if installed).
    A drawing that would pass `MAX_BOXES` boxes is folded further (the picture says so), and refused
    with a one-line `TooLarge` if even depth 1 passes it."""
    from ..analysis import Report, analyze

    if kind not in KINDS:
        raise SpecError(f"unknown drawing kind {kind!r}; choose one of {', '.join(KINDS)}")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise SpecError(f"depth must be a positive integer, got {depth!r}")
    if engine not in ("archcalc", "dot"):
        raise SpecError(f"unknown layout engine {engine!r}; choose archcalc or dot")
    report = arch if isinstance(arch, Report) else analyze(arch, input=input)
    if kind == "blocks":
        from .blocks import render as blocks

        return blocks(report, depth)
    from .diagram import diagram, folding

    fold = folding(report, depth)
    if engine == "dot":
        from .dot import render as dot

        return dot(diagram(report, fold.depth))
    from .graph import render

    return render(diagram(report, fold.depth), fold.note)


_SUBMODULES = ("bars", "blocks", "convert", "diagram", "dot", "graph", "layout", "metrics", "palette", "plot", "svg")


class _Callable(ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Drawing:
        return draw(*args, **kwargs)


sys.modules[__name__].__class__ = _Callable


def __getattr__(name: str) -> Any:
    """A submodule on first use (`archcalc.draw.plot`)."""
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["KINDS", "MAX_ARCS", "MAX_BOXES", "Drawing", "TooLarge", "draw"]
