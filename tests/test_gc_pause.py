"""The cycle collector paused while archcalc builds, as it was afterwards; many young objects moved to the
oldest generation rather than passed over, and objects the program froze itself left frozen."""

from __future__ import annotations

import gc

import pytest

from archcalc.gc_pause import PROMOTED_AT, cycle_collection_paused


@pytest.fixture
def collector():
    enabled = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not enabled:
        gc.disable()


def test_the_collector_is_off_inside_and_as_it_was_after(collector):
    with cycle_collection_paused():
        assert not gc.isenabled()
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with cycle_collection_paused():
        pass
    assert not gc.isenabled()


def test_many_young_objects_join_the_oldest_generation(collector):
    gc.collect()
    with cycle_collection_paused():
        made = [[index] for index in range(2 * PROMOTED_AT)]
    oldest = {id(item) for item in gc.get_objects(generation=2)}
    assert id(made[0]) in oldest and id(made[-1]) in oldest  # not passed over as young objects
    assert gc.get_freeze_count() == 0  # none left frozen


def test_without_promote_young_objects_stay_young(collector):
    gc.collect()
    with cycle_collection_paused(promote=False):
        made = [[index] for index in range(2 * PROMOTED_AT)]
    assert id(made[0]) not in {id(item) for item in gc.get_objects(generation=2)}


def test_a_cycle_made_meanwhile_is_still_collected(collector):
    class Cycle:
        pass

    with cycle_collection_paused():
        made = [[index] for index in range(2 * PROMOTED_AT)]
        cycle = Cycle()
        cycle.me = cycle
        del cycle
    assert gc.collect() >= 1
    del made


def test_objects_the_program_froze_stay_frozen(collector):
    kept = [[index] for index in range(10)]
    gc.freeze()
    frozen = gc.get_freeze_count()
    with cycle_collection_paused():
        made = [[index] for index in range(2 * PROMOTED_AT)]
    assert gc.get_freeze_count() == frozen
    del kept, made
