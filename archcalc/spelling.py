"""How archcalc compares a name a person typed with its own: case, `_` and `-` ignored."""

from __future__ import annotations


def folded(name: str) -> str:
    """`MaxPool2D`, `max_pool2d` and `maxpool2d` alike: `maxpool2d`."""
    return name.lower().replace("_", "").replace("-", "")
