"""Count profiles: the "FLOPs" of archcalc and of the popular counting tools, layer by layer.

`archcalc.analyze(arch, count="fvcore")` makes every record's `flops` (and the total) the number
that tool reports for that layer; the default, `archcalc`, is 2·MACs. docs/conventions.md
("Count profiles") explains what each tool counts.
"""

from __future__ import annotations

from ..errors import SpecError
from .base import Call, Profile, Site
from .calls import call_style
from .tools import PROFILES

NAMES = tuple(PROFILES)


def get(name: str) -> Profile:
    """The profile called `name`; a SpecError listing the choices otherwise."""
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise SpecError(f"count must be one of {', '.join(NAMES)}, got {name!r}") from None


__all__ = ["NAMES", "Call", "Profile", "Site", "call_style", "get"]
