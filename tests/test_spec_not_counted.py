"""`not_counted:`: what a file's network does that archcalc does not count (a detector's anchor
decoding and non-maximum suppression), named in every table style's footer, the JSON and the page."""

from __future__ import annotations

import pytest

import archcalc
from archcalc.errors import ArchcalcError
from archcalc.report import STYLES, to_table
from archcalc.report.page import fragment

SKIPPED = ["anchor generation and box decoding", "non-maximum suppression"]
LINE = "Not counted: anchor generation and box decoding; non-maximum suppression"


def detector(**top) -> dict:
    return {"name": "det", "input": [3, 8, 8], "layers": [
        {"name": "head", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1}], **top}


@pytest.mark.parametrize("style", STYLES)
def test_every_style_names_what_is_not_counted_in_one_footer_line(style):
    footer = to_table(archcalc.analyze(detector(not_counted=SKIPPED)), style).footer
    assert [line for line in footer if line.startswith("Not counted")] == [LINE]
    assert not any(line.startswith("Not counted") for line in to_table(archcalc.analyze(detector()), style).footer)


def test_the_json_and_the_page_carry_the_list():
    report = archcalc.analyze(detector(not_counted=SKIPPED))
    assert report.to_dict()["not_counted"] == SKIPPED
    assert "not_counted" not in archcalc.analyze(detector()).to_dict()
    assert "Not counted: anchor generation" in fragment(report)


def test_it_is_inherited_through_extends_and_may_be_replaced(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\ninput: [3, 8, 8]\nnot_counted: [non-maximum suppression]\n"
        "layers:\n  - {type: conv, out_channels: 2, kernel_size: 1}\n")
    (tmp_path / "same.yaml").write_text("name: same\nextends: base.yaml\n")
    (tmp_path / "other.yaml").write_text("name: other\nextends: base.yaml\nnot_counted: [box decoding]\n")
    assert archcalc.load(str(tmp_path / "same.yaml")).spec.not_counted == ["non-maximum suppression"]
    assert archcalc.load(str(tmp_path / "other.yaml")).spec.not_counted == ["box decoding"]


@pytest.mark.parametrize("value", ["non-maximum suppression", [""], [3], {"nms": 1}])
def test_anything_but_a_list_of_phrases_is_one_line_naming_the_key(value):
    with pytest.raises(ArchcalcError) as caught:
        archcalc.analyze(detector(not_counted=value))
    assert "not_counted" in str(caught.value) and "\n" not in str(caught.value)
