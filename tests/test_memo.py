"""archcalc's memos across calls (archcalc.memo): every one is registered, and forgetting them changes
no number (the analysis benchmark's cold figure is taken after `memo.clear()`)."""

from pathlib import Path

import archcalc
from archcalc import memo

PACKAGE = Path(archcalc.__file__).parent


def test_every_memo_of_the_package_is_made_by_archcalc_memo():
    # a functools.lru_cache made elsewhere would outlive memo.clear() and warm the benchmark's cold runs
    elsewhere = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if path.name != "memo.py" and "lru_cache" in path.read_text(encoding="utf-8")]
    assert elsewhere == []


def test_clear_forgets_every_memo_and_changes_no_number():
    first = archcalc.analyze("resnet50").to_dict()
    assert any(cached.cache_info().currsize for cached in memo._MEMOS)
    memo.clear()
    assert all(cached.cache_info().currsize == 0 for cached in memo._MEMOS)
    assert archcalc.analyze("resnet50").to_dict() == first
