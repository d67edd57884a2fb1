"""The vocabulary of declarations: numeric bounds and lengths for `Annotated`, and the usual
constrained types built from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated


@dataclass(frozen=True)
class Bounds:
    """Bounds of an `Annotated` int or float."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None


@dataclass(frozen=True)
class Length:
    """Length bounds of an `Annotated` str or list."""

    min: int = 0
    max: int | None = None


PositiveInt = Annotated[int, Bounds(gt=0)]
NonNegativeInt = Annotated[int, Bounds(ge=0)]
PositiveFloat = Annotated[float, Bounds(gt=0)]
Fraction = Annotated[float, Bounds(ge=0, le=1)]


def length_words(mark: Length, unit: str) -> str:
    """`at least 1 item and at most 3 items`."""
    parts = []
    if mark.min:
        parts.append(f"at least {mark.min} {unit}{'s' if mark.min != 1 else ''}")
    if mark.max is not None:
        parts.append(f"at most {mark.max} {unit}{'s' if mark.max != 1 else ''}")
    return " and ".join(parts)
