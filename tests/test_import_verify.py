"""Every import checks the file it writes against the graph it read (archcalc/interop/verify.py): a
file that does not load (a cycle) or counts otherwise is refused in one line, never returned."""

from __future__ import annotations

import copy

import pytest

from archcalc.errors import SpecError
from archcalc.interop.imported import NETWORK_INPUT, ImportedGraph
from archcalc.interop.structure import to_mapping
from archcalc.interop.verify import check_written


def _graph() -> ImportedGraph:
    """conv → relu → conv, and the sum of the first conv and the last (a residual block)."""
    graph = ImportedGraph("net", [3, 8, 8], "test")
    conv = graph.add(("conv1",), "conv", [NETWORK_INPUT], out_channels=3, kernel_size=3, padding=1)
    relu = graph.add(("relu",), "relu", [conv])
    last = graph.add(("conv2",), "conv", [relu], out_channels=3, kernel_size=3, padding=1)
    graph.add(("add",), "add", [conv, last])
    return graph


def test_a_faithful_file_passes():
    mapping = to_mapping(_graph())
    check_written(_graph(), mapping)
    assert [layer["name"] for layer in mapping["layers"]] == ["conv1", "relu", "conv2", "add"]


def test_a_file_that_counts_otherwise_is_refused():
    mapping = copy.deepcopy(to_mapping(_graph()))
    mapping["layers"][2]["kernel_size"] = 1
    mapping["layers"][2]["padding"] = 0
    with pytest.raises(SpecError, match=r"lacks a conv layer .* 84 parameters"):
        check_written(_graph(), mapping)


def test_a_file_with_a_cycle_is_refused():
    mapping = copy.deepcopy(to_mapping(_graph()))
    mapping["layers"][0]["from"] = "add"        # conv1 reads the sum, which reads conv1
    with pytest.raises(SpecError, match="does not load"):
        check_written(_graph(), mapping)


def test_a_file_with_another_output_is_refused():
    mapping = copy.deepcopy(to_mapping(_graph()))
    mapping["output"] = "relu"
    with pytest.raises(SpecError, match="outputs"):
        check_written(_graph(), mapping)
