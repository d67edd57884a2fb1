"""What a sheet says it asks: the `archcalc sheet:` line a template writes, and its column headers.

    # archcalc sheet: architecture=lenet5 input=1x32x32 columns=output,params total=yes bias=no ops=flops ...

The line holds the conventions (bias, ops, memory, units, shapes, batch, dtype), the input size, the
columns to fill in and whether the TOTAL row is asked, and the architecture's name (an exercise sheet:
its kind and seed). Without it, headers written by
`archcalc template` still say some of them: `params (without biases)`, `FLOPs`, `memory (bytes)`.
An option given at check time that contradicts the sheet is reported in one warning; the sheet
wins unless the grading is told to override it.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from .conventions import Conventions
from .sheet import GRADED, Sheet, SheetError

_BOOL = {"yes": True, "true": True, "no": False, "false": False}
_ORDER = ("architecture", "exercise", "seed", "input", "columns", "total", "bias", "ops", "memory", "units",
          "shapes", "batch", "dtype")
_CONVENTIONS = tuple(f.name for f in fields(Conventions))


def sheet_line(values: dict[str, Any]) -> str:
    """The `archcalc sheet:` line (without a comment prefix) for these values."""
    return "archcalc sheet: " + " ".join(f"{key}={_text(values[key])}" for key in _ORDER if key in values)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ("," if value and isinstance(value[0], str) else "x").join(map(str, value))
    return str(value)


def parse_line(text: str, label: str) -> dict[str, Any]:
    """The values of an `archcalc sheet:` line, typed (bias and total bools, batch and seed ints, input and
    columns lists)."""
    values: dict[str, Any] = {}
    for item in text.split():
        key, _, value = item.partition("=")
        if key not in _ORDER or not value:
            raise SheetError(f"the 'archcalc sheet:' line has {item!r}; it knows {', '.join(_ORDER)}", file=label)
        try:
            if key in ("bias", "total"):
                values[key] = _BOOL[value.lower()]
            elif key == "columns":
                values[key] = [_column(c) for c in value.split(",")]
            elif key in ("batch", "seed"):
                values[key] = int(value)
            elif key == "input":
                values[key] = [int(d) for d in re.split(r"[x×,]", value)]
            else:
                values[key] = value
        except (KeyError, ValueError):
            raise SheetError(f"the 'archcalc sheet:' line has an unreadable {key}={value!r}", file=label) from None
    return values


def _column(name: str) -> str:
    if name not in GRADED:
        raise ValueError(name)
    return name


def from_headers(sheet: Sheet) -> dict[str, Any]:
    """The conventions the template's column headers name."""
    values: dict[str, Any] = {}
    params, ops, memory = (sheet.headers.get(c, "").lower() for c in ("params", "ops", "memory"))
    if "without bias" in params:
        values["bias"] = False
    if re.search(r"\bflops?\b", ops):
        values["ops"] = "flops"
    elif re.search(r"\bmacs?\b", ops):
        values["ops"] = "macs"
    for unit in ("bytes", "elements"):
        if f"({unit})" in memory:
            values["memory"] = unit
    return values


def sheet_asks(sheet: Sheet) -> dict[str, Any]:
    """Everything the sheet says it asks; its `archcalc sheet:` line before its headers."""
    return {**from_headers(sheet), **parse_line(sheet.asks, sheet.label)}


def resolve(sheet: Sheet, given: dict[str, Any], override: bool = False
            ) -> tuple[Conventions, list[int] | None, bool | None, str | None]:
    """(conventions, input size, whether the TOTAL row is asked (None: neither says), one warning line or
    None) from the sheet and the options given."""
    asks = sheet_asks(sheet)
    keys = (*_CONVENTIONS, "input", "total")
    clash = [k for k in keys if k in given and k in asks and _text(given[k]) != _text(asks[k])]
    first, second = (asks, given) if override else (given, asks)
    chosen = {**{k: v for k, v in first.items() if k in keys}, **{k: v for k, v in second.items() if k in keys}}
    warning = None
    if clash:
        sheet_says = " ".join(f"{k}={_text(asks[k])}" for k in clash)
        options = " ".join(f"{k}={_text(given[k])}" for k in clash)
        warning = (f"{sheet.label}: the sheet asks for {sheet_says}; graded by the options {options} (override)"
                   if override else f"{sheet.label}: the sheet asks for {sheet_says}; the options {options} "
                   "are ignored (--override, or override=True, grades by them)")
    input_size, total = chosen.pop("input", None), chosen.pop("total", None)
    return Conventions.coerce(chosen), input_size, total, warning


def sheet_decides(asks: dict[str, Any], given: dict[str, Any], override: bool = False) -> bool:
    """Whether `resolve` takes a convention, the input size or the total from the sheet's line."""
    return any(k in asks and (override or k not in given) for k in (*_CONVENTIONS, "input", "total"))


def given_fields(conventions: Conventions | dict[str, Any] | None) -> dict[str, Any]:
    """The conventions a caller chose: a mapping's keys, or the fields an instance sets off their defaults."""
    if conventions is None:
        return {}
    if isinstance(conventions, dict):
        Conventions.coerce(conventions)
        return dict(conventions)
    instance = Conventions.coerce(conventions)
    default = Conventions()
    return {k: getattr(instance, k) for k in _CONVENTIONS if getattr(instance, k) != getattr(default, k)}
