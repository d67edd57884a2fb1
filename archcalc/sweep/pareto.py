"""The Pareto front of a sweep: the variants that no other variant beats on every chosen number."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import SpecError
from .rows import NUMBERS


def check_keys(keys: Sequence[str], counts: Sequence[str] = ()) -> list[str]:
    """The keys of `--pareto macs,params`, each a number of the rows; SpecError otherwise."""
    known = [*NUMBERS, *(f"flops_{c}" for c in counts)]
    keys = [k.strip() for k in keys if k.strip()]
    if len(keys) < 2:
        raise SpecError("--pareto needs two numbers or more, e.g. macs,params")
    for key in keys:
        if key not in known:
            raise SpecError(f"--pareto: {key!r} is not a number of the rows; choose among {', '.join(known)}")
    return keys


def front(rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """The rows (without an error) that no other row equals or betters on every key while bettering it
    on one (smaller is better), in the order they came; rows with equal numbers are all kept.
    Memory: the front only, so that rows may stream past."""
    kept: list[tuple[tuple, dict[str, Any]]] = []
    for row in rows:
        if row.get("error") is not None or any(row.get(k) is None for k in keys):
            continue
        point = tuple(row[k] for k in keys)
        if any(_dominates(other, point) for other, _ in kept):
            continue
        kept = [(other, r) for other, r in kept if not _dominates(point, other)]
        kept.append((point, row))
    return [row for _, row in kept]


def _dominates(a: tuple, b: tuple) -> bool:
    return all(x <= y for x, y in zip(a, b)) and a != b
