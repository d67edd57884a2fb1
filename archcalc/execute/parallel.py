"""Independent tiles of work spread over the CPU's cores (NumPy releases the GIL in its loops).

Only NumPy tiles run in threads: CuPy queues its kernels on one device stream anyway, so there
the tiles run in order on the calling thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_pool: ThreadPoolExecutor | None = None


def workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def for_each(xp: Any, work: Callable[[Any], None], tiles: Iterable[Any]) -> None:
    """Run `work(tile)` for every tile: in threads for NumPy, in order for any other module."""
    global _pool
    tiles = list(tiles)
    if xp.__name__ != "numpy" or len(tiles) < 2 or workers() < 2:
        for tile in tiles:
            work(tile)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="archcalc")
    for _ in _pool.map(work, tiles):
        pass


# Below this many elements a thread hand-off costs more than the loop it would share.
MIN_SPLIT_ELEMENTS = 1 << 16


def over_channels(xp: Any, work: Callable[[slice], None], array: Any) -> None:
    """Run `work(part)` for slices `part` of `array`'s axis 1 that together cover it, in parallel
    when the array is large enough to be worth it."""
    count = array.shape[1] if array.ndim > 1 else 1
    if array.size < MIN_SPLIT_ELEMENTS or count < 2:
        work(slice(None))
        return
    part = -(-count // workers())
    for_each(xp, work, (slice(start, start + part) for start in range(0, count, part)))
