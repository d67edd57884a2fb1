"""Pausing Python's cycle collector while archcalc builds many small objects.

Expansion and analysis make one or more objects per layer and no reference cycles; the
collector's passes over all of them while they are being made would make the cost per layer grow
with the network's size (a 100,000-layer file would pay several full passes). When the pause ends,
the collector's next pass would read every young object again: cheap while they are few and still
in the processor's caches, but tens of milliseconds for the objects of 50,000 layers, more per layer
the larger the network. So where more than `PROMOTED_AT` young objects are waiting, they are moved to
the oldest generation instead, at no cost per object (`gc.freeze` then `gc.unfreeze`), where the
collector's full passes, rare and paced by the size of that generation, take them up with the rest.
The caller's objects in the younger generations move with them (`gc` cannot tell them apart): a cycle
among them that is already garbage then waits for the next full pass, with whatever memory it holds;
so the move is kept for large networks alone.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

PROMOTED_AT = 10_000  # young objects (some 5,000 layers' worth): fewer are passed over as usual


@contextmanager
def cycle_collection_paused(promote: bool = True) -> Iterator[None]:
    """The cycle collector off for the block (as it was afterwards); nested uses are harmless. With
    `promote` false, the young objects are passed over as usual even where there are many (for work
    run again and again, such as a sweep's chunks, whose passes then also collect the cycles it leaves)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if promote:
                _promote_if_many()
            gc.enable()


def _promote_if_many() -> None:
    """The young objects moved to the oldest generation where there are many, unless the program keeps
    objects frozen itself (`gc.freeze`), which `gc.unfreeze` would release."""
    if gc.get_count()[0] > PROMOTED_AT and not gc.get_freeze_count():
        gc.freeze()
        gc.unfreeze()
