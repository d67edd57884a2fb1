"""The cycle collector paused while archcalc builds, as it was afterwards; the block's objects moved to the
oldest generation rather than passed over, the caller's young garbage collected rather than moved, nothing
moved after an error, and objects the program froze itself left frozen."""

from __future__ import annotations

import gc
import weakref

import pytest

from archcalc.gc_pause import cycle_collection_paused

MANY = 20_000  # objects made in a block: more than the collector's threshold for a pass


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


def test_the_blocks_objects_join_the_oldest_generation(collector):
    gc.collect()
    with cycle_collection_paused():
        made = [[index] for index in range(MANY)]
    oldest = {id(item) for item in gc.get_objects(generation=2)}
    assert id(made[0]) in oldest and id(made[-1]) in oldest  # not passed over as young objects
    assert gc.get_freeze_count() == 0  # none left frozen


def test_without_promote_young_objects_stay_young(collector):
    gc.collect()
    with cycle_collection_paused(promote=False):
        made = [[index] for index in range(MANY)]
    assert id(made[0]) not in {id(item) for item in gc.get_objects(generation=2)}


def test_a_cycle_made_meanwhile_is_still_collected(collector):
    class Cycle:
        pass

    with cycle_collection_paused():
        made = [[index] for index in range(MANY)]
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
        made = [[index] for index in range(MANY)]
    assert gc.get_freeze_count() == frozen
    del kept, made


class _Node:
    pass


def test_the_callers_young_garbage_is_collected_not_moved(collector):
    gc.collect()  # no young object left: no pass of the collector's own comes before the block's end
    cycle = _Node()
    cycle.me = cycle
    ref = weakref.ref(cycle)
    del cycle  # garbage only the collector can find
    with cycle_collection_paused():
        made = [[index] for index in range(10)]
    assert ref() is None  # collected when the pause began, not moved to wait for a full pass
    assert id(made[0]) in {id(item) for item in gc.get_objects(generation=2)}


def test_a_block_ending_in_an_error_moves_nothing(collector):
    gc.collect()
    made = []
    with pytest.raises(ValueError), cycle_collection_paused():
        made += [[index] for index in range(100)]
        raise ValueError
    assert gc.isenabled()
    assert id(made[0]) not in {id(item) for item in gc.get_objects(generation=2)}
