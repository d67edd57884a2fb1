"""Number formatting: exact counts (1,728), decimal (1.7K, K = 1000) or binary (1.7K, K = 1024)
shorthands, byte sizes (93.0 MB · 88.7 MiB), and the lecture's own shorthands.

Which K a shorthand means is never left implicit: `unit_note(units)` is the sentence a table
prints next to its numbers.
"""

from __future__ import annotations

from typing import Literal

Units = Literal["exact", "si", "binary"]
UNITS: tuple[str, ...] = ("exact", "si", "binary")

_PREFIXES = ("", "K", "M", "G", "T", "P", "E")


def exact(n: int | float) -> str:
    """Thousands separators: 138357544 → `138,357,544`."""
    return f"{n:,}" if isinstance(n, int) else f"{n:,.6g}"


def _scaled(n: float, base: int) -> tuple[float, str]:
    value, index = float(n), 0
    while abs(value) >= base and index < len(_PREFIXES) - 1:
        value /= base
        index += 1
    return value, _PREFIXES[index]


def shorthand(n: int | float, base: int = 1000) -> str:
    """One decimal of the largest prefix: 1728 → `1.7K`, 112896000 → `112.9M`; numbers below
    `base` are written in full."""
    if abs(n) < base:
        return exact(n)
    value, prefix = _scaled(n, base)
    if round(abs(value), 1) >= base and prefix != _PREFIXES[-1]:
        value, prefix = value / base, _PREFIXES[_PREFIXES.index(prefix) + 1]
    return f"{value:.1f}{prefix}"


def count(n: int | float, units: Units = "exact") -> str:
    """A count (parameters, MACs, elements) in the chosen units."""
    if units == "exact":
        return exact(n)
    return shorthand(n, 1000 if units == "si" else 1024)


def nbytes(n: int, units: Units = "exact") -> str:
    """A byte size: `60,950,432 B`, `61.0 MB` (10⁶) or `58.1 MiB` (2²⁰)."""
    if units == "exact":
        return f"{n:,} B"
    base = 1000 if units == "si" else 1024
    value, prefix = _scaled(n, base)
    if not prefix:
        return f"{n:,} B"
    unit = f"{prefix}B" if units == "si" else f"{prefix}iB"
    return f"{value:.1f} {unit}"


def unit_note(units: Units) -> str:
    """The sentence that says what the shorthand letters mean."""
    return {
        "exact": "counts are exact",
        "si": "K = 1000, M = 1000², G = 1000³ (decimal)",
        "binary": "K = 1024, M = 1024², G = 1024³ (binary)",
    }[units]


def slide_shorthand(n: int) -> str:
    """The cs231n VGG-16 slide's memory shorthand: two significant digits with decimal prefixes
    (3,211,264 → `3.2M`, 802,816 → `800K`, 150,528 → `150K`, 25,088 → `25K`); numbers below
    10,000 in full (`4096`, `1000`), as the slide writes them."""
    if n < 10_000:
        return str(n)
    digits = len(str(n)) - 2
    rounded = round(n, -digits)
    value, prefix = _scaled(rounded, 1000)
    return f"{value:.1f}".rstrip("0").rstrip(".") + prefix


def paper_k(n: int) -> str:
    """GoogLeNet Table 1's params shorthand: K = 1024, truncated, one decimal below 10K — the rule
    its correct rows follow (163,328 → `159K`, 114,688 → `112K`, 1,024,000 → `1000K`)."""
    value = n / 1024
    return f"{int(value * 10) / 10:.1f}K" if value < 10 else f"{int(value)}K"


def paper_m(n: int) -> str:
    """GoogLeNet Table 1's ops shorthand: M = 10⁶, rounded to a whole number (`128M`)."""
    return f"{n / 1e6:.0f}M"
