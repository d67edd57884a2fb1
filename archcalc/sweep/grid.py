"""The grid of a sweep: which values each argument takes, and the variants they make.

A grid maps names (a file's `args`, or `input`) to lists of values. Its variants are the product of
the lists, the last name changing fastest (as `itertools.product`), or with `zipped` the lists read
side by side. Variant `k` is computed from `k` alone, so a chunk of a million-variant grid is two
numbers and the grid is never held as rows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import SpecError, shorten
from ..expr import MAX_MAGNITUDE

INPUT = "input"  # the grid key that sets the input size (C×H×W) instead of an argument
MAX_VALUES = 1_000_000  # values of one name
MAX_VARIANTS = 10**9
MAX_TEXT = 2000  # characters of one value
MAX_NESTING = 8  # lists in lists in one value


@dataclass(frozen=True)
class Grid:
    """Names and their values; `zipped`: the i-th variant takes the i-th value of every name."""

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    zipped: bool = False

    def __post_init__(self) -> None:
        if not self.keys:
            raise SpecError("a sweep needs at least one name with values (--set name=v1,v2)")
        for key, values in zip(self.keys, self.values):
            if not values:
                raise SpecError(f"{key}: no values")
        if self.zipped and len({len(v) for v in self.values}) > 1:
            counts = ", ".join(f"{k}: {len(v)}" for k, v in zip(self.keys, self.values))
            raise SpecError(f"--zip pairs the values, so every name needs as many ({counts})")
        if len(self) > MAX_VARIANTS:
            raise SpecError(f"the grid has {len(self):,} variants, more than {MAX_VARIANTS:,}")

    def __len__(self) -> int:
        if self.zipped:
            return len(self.values[0])
        return math.prod(len(v) for v in self.values)

    def variant(self, index: int) -> dict[str, Any]:
        """The values of variant `index` (0 ≤ index < len(self)), by name."""
        if self.zipped:
            return {key: values[index] for key, values in zip(self.keys, self.values)}
        chosen: list[Any] = []
        for values in reversed(self.values):
            index, position = divmod(index, len(values))
            chosen.append(values[position])
        return dict(zip(self.keys, reversed(chosen)))

    def variants(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """(index, values) of the variants from `start` up to `stop` (default: the end)."""
        for index in range(start, len(self) if stop is None else min(stop, len(self))):
            yield index, self.variant(index)


def grid_of(settings: Mapping[str, Any], zipped: bool = False) -> Grid:
    """A Grid from `{name: values}` given in Python: values is an iterable (a range, a list) or one value."""
    if not isinstance(settings, Mapping):
        raise SpecError(f"the grid must be a mapping of names to values, got {type(settings).__name__}")
    keys, lists = [], []
    for key, given in settings.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise SpecError(f"a grid name must be an identifier, got {shorten(repr(key))}")
        values = [given] if isinstance(given, str | bytes | Mapping) or not isinstance(given, Iterable) else given
        checked = []
        for value in values:
            if len(checked) >= MAX_VALUES:
                raise SpecError(f"{key}: more than {MAX_VALUES:,} values")
            checked.append(checked_value(key, value))
        keys.append(key)
        lists.append(tuple(checked))
    return Grid(tuple(keys), tuple(lists), zipped)


def parse_settings(settings: Iterable[str], zipped: bool = False) -> Grid:
    """A Grid from command-line settings `name=v1,v2,...` (a value may be a range `start:stop:step`,
    stop included, and a list `[3, 4, 6, 3]`); a name given twice is an error."""
    grid: dict[str, list[Any]] = {}
    for setting in settings:
        key, equals, text = setting.partition("=")
        key = key.strip()
        if not equals or not key:
            raise SpecError(f"--set {shorten(setting)!r}: write name=value1,value2,...")
        if key in grid:
            raise SpecError(f"--set {key}: given twice")
        values: list[Any] = []
        for piece in _split(text, key):
            values.extend(_range(piece, key) if _is_range(piece) else [_parse(piece, key)])
            if len(values) > MAX_VALUES:
                raise SpecError(f"{key}: more than {MAX_VALUES:,} values")
        grid[key] = values
    return grid_of(grid, zipped)


def _split(text: str, key: str) -> list[str]:
    """`text` cut at the commas outside brackets: `1,[3,4],2` is three values."""
    pieces, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"[": 1, "(": 1, "]": -1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    pieces.append(text[start:])
    pieces = [p.strip() for p in pieces]
    if any(not p for p in pieces):
        raise SpecError(f"--set {key}: an empty value in {shorten(text)!r}")
    return pieces


def _is_range(text: str) -> bool:
    return text.count(":") in (1, 2) and not text.startswith(("[", "(", "'", '"'))


def _range(text: str, key: str) -> list[int | float]:
    """`start:stop` or `start:stop:step`, stop included when a step lands on it; exact in decimal, so
    `0.25:1:0.25` is 0.25, 0.5, 0.75, 1.0. Integers stay integers."""
    parts = text.split(":")
    try:
        start, stop, step = (Decimal(p.strip()) for p in (parts + ["1"])[:3])
    except InvalidOperation:
        raise SpecError(f"--set {key}: {shorten(text)!r} is not a range start:stop:step of numbers") from None
    if not all(d.is_finite() and abs(d) <= MAX_MAGNITUDE for d in (start, stop, step)):
        raise SpecError(f"--set {key}: {shorten(text)!r}: a number beyond ±10**15 is out of range")
    if step <= 0 or stop < start:
        raise SpecError(f"--set {key}: the range {shorten(text)!r} needs start ≤ stop and a step above 0")
    count = int((stop - start) // step) + 1
    if count > MAX_VALUES:
        raise SpecError(f"--set {key}: the range {shorten(text)!r} has more than {MAX_VALUES:,} values")
    whole = all(":" not in p and "." not in p and "e" not in p.lower() for p in parts)
    made = (start + k * step for k in range(count))
    return [int(v) for v in made] if whole else [float(v) for v in made]


def _parse(text: str, key: str) -> Any:
    """One value as the files write it: a number, a list, true/false, or a word (a string)."""
    from ..errors import ArchcalcError
    from ..spec import resolve_value

    if key == INPUT:
        return _shape(text)
    try:
        value = resolve_value(text, {"true": True, "false": False, "null": None, "none": None})
    except ArchcalcError as exc:
        raise SpecError(f"--set {key}: {exc.message}") from None
    return checked_value(key, value)


def _shape(text: str) -> list[int]:
    parts = text.replace("×", "x").lower().split("x")
    try:
        shape = [int(p) for p in parts]
    except ValueError:
        raise SpecError(f"--set input: {shorten(text)!r} is not a shape like 3x224x224") from None
    return checked_value(INPUT, shape)


def checked_value(key: str, value: Any, depth: int = 0) -> Any:
    """`value` if a file could hold it (numbers within ±10**15, finite; text; lists of those); an input
    size is a list of 1 to 4 positive integers (`[3, 224, 224]`, or `"3x224x224"`; a clip's `3x16x112x112`)."""
    if key == INPUT and depth == 0:
        if isinstance(value, str):
            return _shape(value)
        if (not isinstance(value, list | tuple) or not 1 <= len(value) <= 4
                or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 < v <= MAX_MAGNITUDE
                           for v in value)):
            raise SpecError(f"input: {shorten(repr(value))} is not a size (C, H, W) of positive integers")
        return [int(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral | float):
        if isinstance(value, float) and not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
            raise SpecError(f"{key}: {shorten(repr(value))} is out of range (beyond ±10**15, or not finite)")
        return int(value) if isinstance(value, numbers.Integral) else float(value)
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise SpecError(f"{key}: a value longer than {MAX_TEXT} characters")
        return value
    if isinstance(value, list | tuple) and depth < MAX_NESTING and len(value) <= MAX_TEXT:
        return [checked_value(key, v, depth + 1) for v in value]
    raise SpecError(f"{key}: a value must be a number, text, true/false or a list of those, "
                    f"got {shorten(repr(value))}")
