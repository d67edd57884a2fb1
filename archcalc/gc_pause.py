"""Pausing Python's cycle collector while archcalc builds many small objects.

Expansion and analysis make one or more objects per layer and no reference cycles; the
collector's passes over all of them while they are being made would make the cost per layer grow
with the network's size (a 100,000-layer file would pay several full passes). When the pause ended,
the collector's next pass would read every object made in it again (a tenth of a cold analysis of a
ResNet, tens of milliseconds for the objects of 50,000 layers): they are moved to the oldest
generation instead, at no cost per object (`gc.freeze` then `gc.unfreeze`), where the collector's
full passes, rare and paced by the size of that generation, take them up with the rest. So that the
caller's own young objects do not move with them (a cycle among those that is already garbage would
then wait for a full pass, with whatever memory it holds), the collector first passes over the young
generations as it would have anyway (`gc.collect(1)`: cheap, they are young). A block that ends in an
error moves nothing: its objects are passed over as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused(promote: bool = True) -> Iterator[None]:
    """The cycle collector off for the block (as it was afterwards); nested uses are harmless. With
    `promote` false, the block's objects stay young and are passed over as usual (for work run again
    and again, such as a sweep's chunks, whose passes then also collect the cycles it leaves). Nothing
    is moved where the program keeps objects frozen itself (`gc.freeze`), which `gc.unfreeze` would
    release."""
    if not gc.isenabled():  # a pause around this one, or a program that keeps the collector off
        yield
        return
    promoting = promote and not gc.get_freeze_count()
    if promoting:
        gc.collect(1)
    gc.disable()
    try:
        yield
    except BaseException:
        gc.enable()
        raise
    if promoting:
        gc.freeze()
        gc.unfreeze()
    gc.enable()
