"""Styles: each turns a Report into a Table laid out like one lecture or tool."""

from __future__ import annotations

from importlib import import_module

from ...errors import SpecError

STYLES = ("full", "lecture", "structural", "keras", "keras3", "cs231n", "paper", "torch")


def ignored(style: str, given: list[str]) -> list[str]:
    """Which of the `given` options (`depth`, `ops`, `count`, `units`) `style` cannot honour."""
    honoured = import_module(f"{__name__}.{style}").OPTIONS
    return [option for option in given if option not in honoured]


def build(report, style: str, options):
    """The Table of `report` in `style`."""
    if style not in STYLES:
        raise SpecError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    return import_module(f"{__name__}.{style}").build(report, options)
