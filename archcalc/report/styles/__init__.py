"""Styles: each turns a Report into a Table laid out like one lecture or tool."""

from __future__ import annotations

from importlib import import_module

from ...errors import SpecError

#: Each style (a module of this package) with the table options it honours; others get a warning,
#: which therefore needs no style loaded.
HONOURED = {"full": ("units", "ops", "count", "depth"), "lecture": ("units",), "structural": ("units",),
            "keras": ("units",), "keras3": ("units",), "cs231n": ("units",), "paper": ("units", "depth"),
            "torch": ("units", "depth")}
STYLES = tuple(HONOURED)


def ignored(style: str, given: list[str]) -> list[str]:
    """Which of the `given` options (`depth`, `ops`, `count`, `units`) `style` cannot honour."""
    return [option for option in given if option not in HONOURED[style]]


def build(report, style: str, options):
    """The Table of `report` in `style`."""
    if style not in STYLES:
        raise SpecError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    return import_module(f"{__name__}.{style}").build(report, options)
