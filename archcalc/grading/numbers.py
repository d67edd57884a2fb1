"""A forgiving reader of numbers and shapes as people write them in homework tables.

Counts: `1,728` · `1728` · `1.7K` · `3.2M` · `138M` · `112.9M` · `1.8×10^9` · `1.8e9` ·
`(3 × 3 × 64) × 128` · `1 × 5 × 5 × 6 + 6 = 156` (the part after the last `=` is the answer).
Memory: `0.8 MB` · `93MB` · `12 KiB` · `150528 B`. Shapes: `14x14x512` · `(None, 112, 112, 64)` ·
`28 × 28 × 6` · `[1x1x4096]`.

Tolerance: a number written exactly (digits only) must be exact. A number written in shorthand
(a K/M/G suffix, decimals, a power of ten) must round to the same shorthand: `3.2M` stands for
[3.15M, 3.25M]. Trailing zeros before a suffix are ambiguous (`800K` is 8.0×10⁵ in the cs231n
slides, written for 802,816), so they count as two significant digits: `800K` = [795K, 805K].
A zero has no significant digit to round: `0`, `0K`, `0.0M` and `0e9` all stand for exactly 0.
A count of 10^30 or more (`1e309`, a 40-digit integer) is unreadable: no network has one.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction

from .conventions import SHAPE_ORDERS, read_in, written_in

MAX_CELL_LENGTH = 200
MAX_DIGITS = 30
MAX_COUNT = 10**MAX_DIGITS
MAX_SHAPE_SIZE = 10**9

# suffix → (power of K, is a byte unit, forced binary)
_COUNT_SUFFIXES = {
    "": 0, "k": 1, "thousand": 1, "m": 2, "mil": 2, "mio": 2, "mn": 2, "million": 2,
    "g": 3, "b": 3, "bn": 3, "billion": 3, "t": 4, "trillion": 4,
}
_BYTE_SUFFIXES = {
    "b": (0, None), "byte": (0, None), "bytes": (0, None),
    "kb": (1, None), "mb": (2, None), "gb": (3, None), "tb": (4, None),
    "kib": (1, True), "mib": (2, True), "gib": (3, True), "tib": (4, True),
}
_UNIT_WORDS = re.compile(
    r"\s*(?:/\s*image|per image|parameters|params|param|weights|multiply-adds|mult-adds|macs|mac|flops|flop|ops|"
    r"operations|elements|floats|values|activations)\s*$", re.IGNORECASE)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_NUMBER = re.compile(
    r"^(?P<mantissa>\d+(?:\.\d*)?|\.\d+)"
    r"(?:\s*[eE](?P<e>[+-]?\d{1,3})|\s*[x×*·]\s*10\s*(?:\^|\*\*)?\s*(?P<e10>[+-]?\d{1,3}))?"
    r"\s*(?P<suffix>[A-Za-z]*)$", re.ASCII)
_GROUPED = re.compile(r"^\d{1,3}(?:([,' _\u2009\u202f\u00a0])\d{3})(?:\1\d{3})*(?=$|[.\sA-Za-z])", re.ASCII)
_DECIMAL_COMMA = re.compile(r"^(\d+),(\d{1,2})(?=$|\s*[A-Za-z])", re.ASCII)
_EXPRESSION = re.compile(r"^[0-9\s+*()×x·.]+$")
_SHAPE_SPLIT = re.compile(r"[x×X*,\s]+")
_BATCH_TOKENS = {"none", "n", "?", "-1", "batch", "b"}


class Unreadable(ValueError):
    """A cell that cannot be read as the number or shape its column asks for."""


@dataclass(frozen=True)
class Number:
    """A number as written: mantissa, the unit of its last written digit, and its scale.

    `step` is 0 for an exact integer. `power` counts K/M/G prefixes (their base, 1000 or 1024,
    is chosen when comparing unless `binary` is forced by a KiB-style unit). `byte_unit` tells
    that the text carried a byte unit (B, KB, MiB, ...).
    """

    text: str
    mantissa: Fraction
    step: Fraction = Fraction(0)
    exp10: int = 0
    power: int = 0
    byte_unit: bool = False
    binary: bool | None = None
    suffix: str = ""

    @property
    def shorthand(self) -> bool:
        """Whether the answer is written in rounded form (and so is compared by rounding)."""
        return self.step != 0

    @property
    def prefixed(self) -> bool:
        """Whether a K/M/G prefix makes the value depend on K = 1000 or 1024."""
        return self.power > 0 and self.binary is None

    def scale(self, base: int = 1000) -> Fraction:
        base = 1024 if self.binary else base
        return Fraction(10) ** self.exp10 * Fraction(base) ** self.power

    def value(self, base: int = 1000) -> Fraction:
        return self.mantissa * self.scale(base)

    def bounds(self, base: int = 1000, truncated: bool = False) -> tuple[Fraction, Fraction]:
        """The exact values this answer stands for: rounding (or truncation) to its last digit."""
        scale = self.scale(base)
        if truncated:
            return self.mantissa * scale, (self.mantissa + self.step) * scale
        return (self.mantissa - self.step / 2) * scale, (self.mantissa + self.step / 2) * scale

    def matches(self, value: int | Fraction, base: int = 1000) -> bool:
        low, high = self.bounds(base)
        return low <= value <= high

    def truncates(self, value: int | Fraction, base: int = 1000) -> bool:
        """Whether the answer is `value` cut off (not rounded) at its last digit."""
        if not self.shorthand:
            return False
        low, high = self.bounds(base, truncated=True)
        return low <= value < high

    def rounded(self, value: int | Fraction, base: int = 1000) -> str:
        """`value` written with this answer's precision and suffix (`51,380,224` → `51.4M`)."""
        if not self.shorthand:
            return f"{int(value):,}"
        units = round(Fraction(value) / self.scale(base) / self.step) * self.step
        decimals = len(str(self.step.denominator)) - 1 if self.step < 1 else 0
        text = f"{float(units):.{decimals}f}"
        if self.exp10:
            text += f"×10^{self.exp10}"
        return text + self.suffix


@dataclass(frozen=True)
class ShapeAnswer:
    """A shape as written: its sizes in the order written, and a leading batch entry if any."""

    text: str
    dims: tuple[int, ...]
    batch: str | int | None = None


def _clean(text: str) -> str:
    if len(text) > MAX_CELL_LENGTH:
        raise Unreadable(f"longer than {MAX_CELL_LENGTH} characters")
    text = text.strip().strip("\"'`$").replace("−", "-").replace("\\times", "×").replace("\\", "")
    for sign in ("≈", "="):
        if sign in text:
            text = text.rsplit(sign, 1)[1]
    text = re.sub(r"^(?:~|about|approx\.?|ca\.?)\s*", "", text.strip(), flags=re.IGNORECASE)
    text = re.sub(r"\s*\([^()]*\)\s*$", "", text) if re.search(r"\d.*\([^()\d]*\)\s*$", text) else text
    return text.strip()


def parse_count(text: str | int | float, *, memory: bool = False) -> Number:
    """Read a count (params, MACs, elements) or, with `memory`, possibly a byte amount."""
    if isinstance(text, bool):
        raise Unreadable("a true/false value is not a number")
    if isinstance(text, int):
        if text < 0:
            raise Unreadable("negative")
        if text >= MAX_COUNT:
            raise Unreadable(f"beyond 10^{MAX_DIGITS}: no network has that many")
        return Number(str(text), Fraction(text))
    if isinstance(text, float):
        if text != text or text in (float("inf"), float("-inf")) or text < 0:
            raise Unreadable(f"{text} is not a count")
        return parse_count(repr(text), memory=memory)
    raw = str(text)
    cleaned = _clean(raw)
    if not cleaned:
        raise Unreadable("empty")
    if cleaned.startswith("-"):
        raise Unreadable("negative")
    cleaned = _UNIT_WORDS.sub("", cleaned).strip() or cleaned
    cleaned = re.sub(r"10\s*([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)$", lambda m: "10^" + m[1].translate(_SUPERSCRIPTS), cleaned)
    cleaned = _DECIMAL_COMMA.sub(r"\1.\2", cleaned)
    grouped = _GROUPED.match(cleaned)
    if grouped:
        cleaned = re.sub(r"[,' _\u2009\u202f\u00a0]", "", grouped.group(0)) + cleaned[grouped.end():]
    match = _NUMBER.match(cleaned)
    if match is None:
        if _EXPRESSION.match(cleaned) and re.search(r"[+*×x·]", cleaned):
            return _expression(raw, cleaned)
        raise Unreadable(f"{raw.strip()!r} is not a number")
    return _number(raw.strip(), match, memory)


def _number(raw: str, match: re.Match, memory: bool) -> Number:
    digits = match["mantissa"]
    if len(digits) > MAX_DIGITS:
        raise Unreadable("too many digits")
    exponent = int(match["e"] or match["e10"] or 0)
    suffix = match["suffix"].lower()
    byte_unit, binary = False, None
    if memory and suffix in _BYTE_SUFFIXES:
        power, binary = _BYTE_SUFFIXES[suffix]
        byte_unit = True
    elif suffix in _COUNT_SUFFIXES:
        power = _COUNT_SUFFIXES[suffix]
    else:
        raise Unreadable(f"unknown unit {match['suffix']!r} in {raw!r}")
    mantissa = Fraction(digits)
    if mantissa * Fraction(10) ** exponent * 1024 ** power >= MAX_COUNT:
        raise Unreadable(f"{raw!r} is beyond 10^{MAX_DIGITS}: no network has that many")
    if mantissa == 0:
        step = Fraction(0)
    elif "." in digits:
        step = Fraction(1, 10 ** len(digits.split(".")[1]))
    elif power or exponent:
        stripped = digits.rstrip("0") or "0"
        significant = len(stripped) if stripped == digits else max(len(stripped), 2)
        step = Fraction(10) ** max(len(digits) - significant, 0)
    else:
        step = Fraction(0)
    spacing = " " if byte_unit and " " in raw else ""
    return Number(raw, mantissa, step, exponent, power, byte_unit, binary, spacing + match["suffix"])


def _expression(raw: str, cleaned: str) -> Number:
    from ..errors import ArchcalcError
    from ..expr import evaluate

    try:
        value = evaluate(re.sub(r"[×x·]", "*", cleaned), {})
    except ArchcalcError:
        raise Unreadable(f"{raw.strip()!r} is not a number or a product") from None
    if not isinstance(value, int) or value < 0:
        raise Unreadable(f"{raw.strip()!r} does not give a whole number")
    return Number(raw.strip(), Fraction(value))


def parse_shape(text: str | int | list | tuple) -> ShapeAnswer:
    """Read a shape: `14x14x512`, `(None, 112, 112, 64)`, `28 × 28 × 6`, `[1x1x4096]`, 4096."""
    if isinstance(text, bool):
        raise Unreadable("a true/false value is not a shape")
    if isinstance(text, int):
        if not 0 < text < MAX_SHAPE_SIZE:
            raise Unreadable("not a shape like 28×28×6")
        return ShapeAnswer(str(text), (text,))
    if isinstance(text, list | tuple):
        if any(isinstance(t, int) and abs(t) >= MAX_SHAPE_SIZE for t in text):
            raise Unreadable("not a shape like 28×28×6")
        tokens = ["None" if t is None else str(t) for t in text]
        raw = str(list(text))
    else:
        raw = str(text).strip()
        if len(raw) > MAX_CELL_LENGTH:
            raise Unreadable(f"longer than {MAX_CELL_LENGTH} characters")
        body = raw.replace("\\times", "×").strip().strip("$").strip().strip("()[]{} ").strip()
        tokens = [t for t in _SHAPE_SPLIT.split(body) if t]
    if not tokens:
        raise Unreadable("empty")
    batch: str | int | None = None
    if tokens[0].lower() in _BATCH_TOKENS:
        batch = tokens.pop(0)
    dims = []
    for token in tokens:
        if not (token.isascii() and token.isdigit()) or len(token) > 9:
            raise Unreadable(f"{raw!r} is not a shape like 28×28×6")
        dims.append(int(token))
    if not dims or len(dims) > 5 or min(dims) < 1:
        raise Unreadable(f"{raw!r} is not a shape like 28×28×6")
    return ShapeAnswer(raw, tuple(dims), batch)


def shape_readings(answer: ShapeAnswer, expected: tuple[int, ...], batch: int = 1,
                   orders: Collection[str] = tuple(SHAPE_ORDERS)) -> list[str]:
    """The conventions (among `orders` for a 3-D shape) under which `answer` is `expected` (a per-sample
    (C, H, W) or (F,)); [] if none."""
    dims = answer.dims
    if answer.batch is None and len(dims) == len(expected) + 1 and dims[0] == batch and len(expected) in (1, 3):
        dims = dims[1:]
    if len(expected) == 3:
        return [name for name in SHAPE_ORDERS if name in orders and dims == written_in(expected, name)]
    if len(expected) == 1:
        if dims == expected:
            return ["flat"]
        if dims in ((1, 1, expected[0]), (expected[0], 1, 1)):
            return ["1×1×F (flat)"]
        return []
    return ["as written"] if dims == expected else []


def as_chw(answer: ShapeAnswer, batch: int = 1, orders: Collection[str] = tuple(SHAPE_ORDERS)
           ) -> dict[str, tuple[int, ...]]:
    """Each way (among `orders`) to read a 3-D answer as (C, H, W), by convention name (for carried-forward
    errors)."""
    dims = answer.dims[1:] if answer.batch is None and len(answer.dims) == 4 and answer.dims[0] == batch \
        else answer.dims
    if len(dims) != 3:
        return {"as written": dims}
    return {name: read_in(dims, name) for name in SHAPE_ORDERS if name in orders}
