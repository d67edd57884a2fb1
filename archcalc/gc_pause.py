"""Pausing Python's cycle collector while archcalc builds many small objects.

Expansion and analysis make one or more objects per layer and no reference cycles; the
collector's passes over all of them while they are being made would make the cost per layer grow
with the network's size (a 100,000-layer file would pay several full passes).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """The cycle collector off for the block (as it was afterwards); nested uses are harmless."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
