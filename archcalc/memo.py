"""Memos of pure functions of what a file says (an expression's text, a window's values, a file's call
patterns), kept for the life of the process: a file analysed again, or another file that writes the
same expressions, skips that work. Every such memo is made here (`memo`), so that `clear` can forget
them all: a benchmark's cold figure is taken without them."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

F = TypeVar("F", bound=Callable)

_MEMOS: list = []


def memo(maxsize: int = 4096) -> Callable[[F], F]:
    """`functools.lru_cache(maxsize)`, registered for `clear`."""

    def wrap(function: F) -> F:
        cached = lru_cache(maxsize=maxsize)(function)
        _MEMOS.append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def clear() -> None:
    """Forget every memo, as in a process that has analysed nothing yet."""
    for cached in _MEMOS:
        cached.cache_clear()
