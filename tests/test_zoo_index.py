"""`archcalc list` reads the zoo's totals from an index in the cache folder: rebuilt when a zoo file
changes, recomputed when the index is damaged, and not needed where the folder cannot be written."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from archcalc import zoo
from archcalc.report import zoo_index
from archcalc.report.zoo_table import zoo_table

LENET5_PARAMS = 61_706  # seed 000, Example 3.1: "Total params: 61,706"


@pytest.fixture
def small_zoo(tmp_path, monkeypatch):
    """A zoo of one file (LeNet-5) and an empty cache folder."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    shutil.copy(zoo.zoo_dir() / "lenet5.yaml", folder / "lenet5.yaml")
    monkeypatch.setattr(zoo, "zoo_dir", lambda: folder)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return folder


def _params() -> list:
    return [row[3].value for row in zoo_table().rows]


def test_the_index_is_kept_and_reused(small_zoo, monkeypatch):
    assert _params() == [LENET5_PARAMS]
    index = zoo_index.cache_dir() / zoo_index.FILE_NAME
    assert json.loads(index.read_text())["entries"][0]["params"] == LENET5_PARAMS

    def no_analysis(name):
        raise AssertionError("analysed again although nothing changed")

    monkeypatch.setattr(zoo_index, "_entry", no_analysis)
    assert _params() == [LENET5_PARAMS]


def test_a_changed_zoo_file_rebuilds_the_index(small_zoo):
    assert _params() == [LENET5_PARAMS]
    path = small_zoo / "lenet5.yaml"
    text = path.read_text()
    assert "out_channels: 10" in text  # F7, the last layer: 84·10 + 10 parameters
    path.write_text(text.replace("out_channels: 10", "out_channels: 11"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new mtime even on coarse clocks
    assert _params() == [LENET5_PARAMS + 85]


def test_a_new_zoo_file_appears(small_zoo):
    assert [row[0].text for row in zoo_table().rows] == ["lenet5"]
    shutil.copy(small_zoo / "lenet5.yaml", small_zoo / "lenet5-copy.yaml")
    assert [row[0].text for row in zoo_table().rows] == ["lenet5", "lenet5-copy"]


def test_a_damaged_index_is_rebuilt(small_zoo):
    _params()
    index = zoo_index.cache_dir() / zoo_index.FILE_NAME
    for damage in ("{not json", "[]", '{"key": 1}', ""):
        index.write_text(damage)
        assert _params() == [LENET5_PARAMS]


def test_an_unwritable_cache_folder_only_costs_time(small_zoo, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # its archcalc/ folder cannot be made
    assert _params() == [LENET5_PARAMS]
    assert _params() == [LENET5_PARAMS]
    assert not list(tmp_path.glob("**/*.tmp"))


def test_a_broken_zoo_file_is_a_row_with_its_error(small_zoo):
    (small_zoo / "broken.yaml").write_text("name: broken\ninput: [1, 8, 8]\nlayers:\n  - {type: conv}\n")
    rows = {row[0].text: row for row in zoo_table().rows}
    assert rows["broken"][1].text.startswith("error: ") and "out_channels" in rows["broken"][1].text
    assert rows["lenet5"][3].value == LENET5_PARAMS
