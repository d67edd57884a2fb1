"""Styles: each turns a Report into a Table laid out like one lecture or tool."""

from __future__ import annotations

from importlib import import_module

from ...errors import SpecError

STYLES = ("full", "lecture", "structural", "keras", "cs231n", "paper", "torch")


def build(report, style: str, options):
    """The Table of `report` in `style`."""
    if style not in STYLES:
        raise SpecError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    return import_module(f"{__name__}.{style}").build(report, options)
