"""`shares:`: a layer that applies the weights of an earlier one (a detector's head run on every pyramid
level with one set of weights). Its parameters count once, with the owner; its MACs, FLOPs and
activations in full. The expected numbers are the convolution formulas worked by hand:
params = C_out·(C_in·k² + 1), MACs = C_out·C_in·k²·H_out·W_out."""

from __future__ import annotations

import copy

import pytest

import archcalc
from archcalc.errors import ArchcalcError
from archcalc.report import STYLES, to_table
from archcalc.report.explain import explain

HEAD = {"layers": [{"name": "c1", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1},
                   {"type": "relu"},
                   {"name": "c2", "type": "conv", "out_channels": 2, "kernel_size": 1}]}


def pyramid(**extra) -> dict:
    """p3 (4×16×16) and p4 (4×8×8), a head block on each, the second sharing the first's weights."""
    return {"name": "pyramid", "input": [3, 16, 16], "blocks": {"head": copy.deepcopy(HEAD)}, "layers": [
        {"name": "p3", "type": "conv", "out_channels": 4, "kernel_size": 1},
        {"name": "p4", "type": "conv", "out_channels": 4, "kernel_size": 1, "stride": 2},
        {"name": "h3", "type": "head", "from": "p3"},
        {"name": "h4", "type": "head", "from": "p4", "shares": "h3"}],
        "outputs": ["h3", "h4"], **extra}


# p3: 4·(3 + 1) = 16; p4: 4·(4 + 1) = 20; c1: 4·(4·9 + 1) = 148; c2: 2·(4 + 1) = 10
OWNED = 16 + 20 + 148 + 10


def test_a_block_instance_shares_layer_by_layer_params_once_macs_in_full():
    report = archcalc.analyze(pyramid())
    c1, c2 = report.layer("h4/c1"), report.layer("h4/c2")
    assert (c1.shares, c2.shares, report.layer("h4/relu").shares) == ("h3/c1", "h3/c2", None)
    assert c1.params == c2.params == 0
    assert report.totals.params == OWNED
    assert c1.macs == 4 * 4 * 9 * 8 * 8 and c2.macs == 2 * 4 * 8 * 8
    assert c1.flops == 2 * c1.macs and c1.activation_elements == 4 * 8 * 8
    unshared = pyramid()
    del unshared["layers"][3]["shares"]
    alone = archcalc.analyze(unshared)
    assert alone.totals.params == OWNED + 148 + 10
    assert (alone.totals.macs, alone.totals.activation_elements) == (report.totals.macs,
                                                                     report.totals.activation_elements)


def test_a_layer_shares_a_layer_named_as_from_names_it():
    spec = pyramid()
    spec["layers"].append({"name": "extra", "type": "conv", "out_channels": 2, "kernel_size": 1, "from": "p4",
                           "shares": "h3/c2"})
    report = archcalc.analyze(spec)
    assert report.layer("extra").shares == "h3/c2" and report.totals.params == OWNED


def test_inside_a_block_a_name_is_looked_up_in_its_own_instance_first():
    twice = {"layers": [{"name": "a", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1},
                        {"name": "b", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1,
                         "shares": "a"}]}
    spec = {"name": "t", "input": [4, 8, 8], "blocks": {"twice": twice},
            "layers": [{"name": "one", "type": "twice"}, {"name": "two", "type": "twice"}]}
    report = archcalc.analyze(spec)
    assert report.layer("one/b").shares == "one/a" and report.layer("two/b").shares == "two/a"
    assert report.totals.params == 2 * 4 * (4 * 9 + 1)


def test_an_instance_inside_a_block_shares_within_its_own_enclosing_instance():
    spec = pyramid()
    spec["blocks"]["levels"] = {"layers": [
        {"name": "p3", "type": "conv", "out_channels": 4, "kernel_size": 1},
        {"name": "h3", "type": "head"}, {"name": "h4", "type": "head", "from": "p3", "shares": "h3"}]}
    spec["layers"] = [{"name": "a", "type": "levels"}, {"name": "b", "type": "levels", "from": "input"}]
    spec["outputs"] = ["a/h4/c2", "b/h4/c2"]
    report = archcalc.analyze(spec)
    assert report.layer("a/h4/c1").shares == "a/h3/c1" and report.layer("b/h4/c1").shares == "b/h3/c1"
    assert report.totals.params == 2 * (16 + 148 + 10)


def test_a_chain_of_sharers_leads_to_the_owner():
    spec = pyramid()
    spec["layers"].append({"name": "h5", "type": "head", "from": "p4", "shares": "h4"})
    report = archcalc.analyze(spec)
    assert report.layer("h5/c1").shares == "h3/c1" and report.totals.params == OWNED


def test_json_and_every_style_say_so():
    report = archcalc.analyze(pyramid())
    layers = {layer["name"]: layer for layer in report.to_dict()["layers"]}
    assert layers["h4/c1"]["shares"] == "h3/c1" and layers["h4/c1"]["params"] == 0
    assert "shares" not in layers["h3/c1"]
    for style in STYLES:
        footer = to_table(report, style).footer
        assert [line for line in footer if line.startswith("Shared weights")] == [
            "Shared weights: 2 layers apply the weights of an earlier layer (0 params in their rows, counted once "
            "with it): h4/c1 → h3/c1, h4/c2 → h3/c2"], style


def test_explain_says_whose_weights_a_layer_applies():
    text = explain(archcalc.analyze(pyramid()), "h4/c1")
    assert "shared: it applies the weights of h3/c1, counted there (0 here)" in text


def _entry(spec: dict, name: str) -> dict:
    return next(entry for entry in spec["layers"] if entry.get("name") == name)


def _bigger_kernel(spec):
    spec["layers"].append({"name": "x", "type": "conv", "out_channels": 2, "kernel_size": 3, "from": "p4",
                           "shares": "h3/c2"})


def _other_channels(spec):
    spec["layers"].append({"name": "x", "type": "conv", "out_channels": 2, "kernel_size": 1, "from": "input",
                           "shares": "h3/c2"})


def _later(spec):
    _entry(spec, "p3")["shares"] = "p4"


def _no_weights(spec):
    spec["layers"].append({"name": "x", "type": "relu", "from": "p4", "shares": "h3/relu"})


def _nothing(spec):
    _entry(spec, "h4")["shares"] = "h9"


def _other_block(spec):
    spec["blocks"]["tail"] = copy.deepcopy(HEAD)
    _entry(spec, "h4")["type"] = "tail"


def _layer_names_an_instance(spec):
    _entry(spec, "p4")["shares"] = "h3"


@pytest.mark.parametrize("change, words", [
    (_bigger_kernel, "'h3/c2' is a conv with out_channels=2, kernel_size=1"),
    (_other_channels, "'h3/c2' reads 4 channels, this layer 3"),
    (_later, "must name a layer with parameters before it"),
    (_no_weights, "must name a layer with parameters before it"),
    (_nothing, "'h9' names no earlier instance of block 'head'"),
    (_other_block, "'h3' is an instance of block 'head', not of 'tail'"),
    (_layer_names_an_instance, "'h3/c2' must name a layer"),
])
def test_a_wrong_share_is_one_line_naming_file_and_layer(change, words):
    spec = pyramid()
    change(spec)
    with pytest.raises(ArchcalcError) as caught:
        archcalc.analyze(spec)
    text = str(caught.value)
    assert words in text and "pyramid" in text and "\n" not in text
