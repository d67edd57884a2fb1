"""Formats: each renders any Table as text (terminal, markdown, csv, json, latex, html)."""

from __future__ import annotations

from importlib import import_module

from ...errors import SpecError

FORMATS = ("terminal", "markdown", "csv", "json", "latex", "html")
_MODULES = {"terminal": "terminal", "markdown": "markdown", "csv": "csv_", "json": "json_",
            "latex": "latex", "html": "html"}


def render(table, fmt: str, *, color: bool | None = None, width: int | None = None) -> str:
    """`table` as text in `fmt`; the terminal format is coloured only when `color` (None: when
    standard output is a terminal) and fits `width` columns by dropping low-priority columns."""
    if fmt not in FORMATS:
        raise SpecError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    module = import_module(f"{__name__}.{_MODULES[fmt]}")
    if fmt == "terminal":
        return module.render(table, color=color, width=width)
    return module.render(table)
