"""Block instances with other arguments that decide the same structure (the same entries kept by
their `when`s, the same `repeat` counts, the same nested blocks) take an earlier instance's structure
with their own values (`_Expander.rebind`): each layer must still see its own instance's values, a
structure that differs must be expanded afresh, and errors must name the layer a fresh expansion names.
The expected values are worked out by hand from the small files below."""

from __future__ import annotations

import importlib

import pytest

import archcalc
from archcalc.errors import ArchcalcError

expand_module = importlib.import_module("archcalc.spec.expand")


def rebinds(monkeypatch) -> list[str]:
    """The paths of the instances `rebind` adds from now on."""
    calls: list[str] = []
    original = expand_module._Expander.rebind

    def spy(self, template, prefix, *args):
        found = original(self, template, prefix, *args)
        if found is not None:
            calls.append(prefix)
        return found

    monkeypatch.setattr(expand_module._Expander, "rebind", spy)
    return calls


def layers(text: str) -> dict[str, tuple]:
    """path → (type, inputs, output shape, parameter count) of every layer of `text`."""
    report = archcalc.analyze(archcalc.load("t.yaml", text=text))
    return {r.name: (r.type, r.inputs, r.output_shape, r.params) for r in report.layers}


GATED = """
name: t
input: [3, 8, 8]
blocks:
  b:
    args: {c: 4, gate: false}
    layers:
      - {name: conv, type: conv, out_channels: c, kernel_size: 1}
      - {name: opt, type: relu, when: gate}
      - {name: out, type: batchnorm}
layers:
  - {name: s, type: b, repeat: 4, c: 4 + i, gate: i == 2}
"""


def test_a_when_reading_an_argument_keeps_each_instance_its_own_structure(monkeypatch):
    rebound = rebinds(monkeypatch)
    found = layers(GATED)
    # s/0, s/1 and s/3 keep conv and out (c = 4, 5, 7); only s/2 (gate: i == 2) keeps opt
    assert list(found) == ["input", "s/0/conv", "s/0/out", "s/1/conv", "s/1/out", "s/2/conv", "s/2/opt",
                           "s/2/out", "s/3/conv", "s/3/out"]
    assert found["s/2/out"][1] == ("s/2/opt",) and found["s/3/out"][1] == ("s/3/conv",)
    # conv 1×1 from 3 channels (c) or from the previous instance's c channels: c·in + c weights and biases
    assert [found[f"s/{i}/conv"][2] for i in range(4)] == [(4, 8, 8), (5, 8, 8), (6, 8, 8), (7, 8, 8)]
    assert [found[f"s/{i}/conv"][3] for i in range(4)] == [4 * 3 + 4, 5 * 4 + 5, 6 * 5 + 6, 7 * 6 + 7]
    assert rebound == ["s/1", "s/3"]  # s/2's structure (gate true) is new: expanded afresh


NESTED = """
name: t
input: [2, 4, 4]
blocks:
  inner:
    args: {c: null, k: 1}
    layers:
      - {name: a, type: conv, out_channels: c, kernel_size: k, padding: i}
  outer:
    args: {c: 1, twice: "c * 2"}
    layers:
      - {name: x, type: inner, c: twice}
      - {name: y, type: inner, c: c, repeat: 2, k: 1 + 2 * i, from: input}
layers:
  - {name: s, type: outer, repeat: 3, c: 1 + i}
"""


def test_nested_blocks_bind_their_arguments_anew_for_each_instance(monkeypatch):
    rebound = rebinds(monkeypatch)
    arch = archcalc.load("t.yaml", text=NESTED)
    # inner has one structure (a single conv): s/0/x is expanded, y's two instances take its structure
    assert rebound == ["s/0/y/0", "s/0/y/1", "s/1", "s/2"]
    found = layers(NESTED)
    for i in range(3):
        c = 1 + i
        # x/a: 2c channels, 1×1 with padding i (x does not repeat: its `i` is the outer instance's), on the
        # 4×4 the instance reads; y/1/a: c channels, 3×3 (k = 3) with padding 1 (y's own `i`), keeping
        # 4×4, reading y/0/a's c channels: 9c·c weights and c biases
        assert found[f"s/{i}/x/a"][2] == (2 * c, 4 + 2 * i, 4 + 2 * i)
        assert found[f"s/{i}/y/1/a"][2] == (c, 4, 4) and found[f"s/{i}/y/1/a"][3] == 9 * c * c + c
    groups = {g.path: g.args for g in arch.groups}
    assert groups["s/1"] == {"c": 2, "twice": 4} and groups["s/1/x"] == {"c": 4, "k": 1}
    assert groups["s/2/y/1"] == {"c": 3, "k": 3} and groups["s/2/y"] == {"repeat": 2}


def test_a_replay_of_a_rebound_instance_keeps_its_values(monkeypatch):
    """s/2 is rebound from s/0 with c = 4; s/3 (c = 4 again) is replayed from s/2, not from s/0."""
    text = """
name: t
input: [1, 4, 4]
blocks:
  b:
    args: {c: 1}
    layers:
      - {name: conv, type: conv, out_channels: c, kernel_size: 1, bias: false}
layers:
  - {name: s, type: b, repeat: 4, c: "2 ** min(i, 2)"}
"""
    rebound = rebinds(monkeypatch)
    found = layers(text)
    assert [found[f"s/{i}/conv"][2][0] for i in range(4)] == [1, 2, 4, 4]
    assert [found[f"s/{i}/conv"][3] for i in range(4)] == [1 * 1, 2 * 1, 4 * 2, 4 * 4]  # c · in, no bias
    assert rebound == ["s/1", "s/2"]


def test_an_argument_read_through_i_and_a_repeat_count_from_an_argument(monkeypatch):
    text = """
name: t
input: [1, 4, 4]
blocks:
  b:
    args: {n: 1, w: "8 * (i + 1)"}
    layers:
      - {name: conv, type: conv, out_channels: w, kernel_size: 1, repeat: n}
layers:
  - {name: s, type: b, repeat: 4, n: "2 if i == 1 else 1"}
"""
    rebound = rebinds(monkeypatch)
    found = layers(text)
    assert list(found) == ["input", "s/0/conv/0", "s/1/conv/0", "s/1/conv/1", "s/2/conv/0", "s/3/conv/0"]
    assert [found[p][2][0] for p in list(found)[1:]] == [8, 16, 16, 24, 32]  # w = 8 (i + 1)
    assert rebound == ["s/2", "s/3"]  # s/1 repeats its conv twice: a structure of its own


def test_an_argument_failing_only_in_a_later_instance_names_its_layer():
    text = """
name: t
input: [3, 8, 8]
blocks:
  inner:
    args: {c: null}
    layers:
      - {name: a, type: conv, out_channels: c, kernel_size: 1}
  outer:
    args: {c: 1}
    layers:
      - {name: x, type: inner, c: 12 // c}
layers:
  - {name: s, type: outer, repeat: 3, c: 2 - i}
"""
    with pytest.raises(ArchcalcError) as caught:
        archcalc.load("t.yaml", text=text)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("t.yaml:") and " s/2/x: " in message
    assert "in expression '12 // c'" in message  # the expression named (the reason is Python's own words)


def test_a_limit_passed_by_a_later_instance_names_its_layer(monkeypatch):
    """With at most 5 layers: the input and s/0, s/1 (a and b each) make 5; s/2/a is the sixth."""
    monkeypatch.setattr(expand_module, "MAX_NODES", 5)
    text = """
name: t
input: [3, 8, 8]
blocks:
  b:
    args: {c: 1}
    layers:
      - {name: a, type: relu}
      - {name: b, type: relu, when: c > 0}
layers:
  - {name: s, type: b, repeat: 3, c: 1 + i}
"""
    with pytest.raises(ArchcalcError) as caught:
        archcalc.load("t.yaml", text=text)
    message = str(caught.value)
    assert "\n" not in message and " s/2/a: " in message and "more than 5 layers" in message


def test_an_argument_only_a_nested_block_reads_for_its_structure(monkeypatch):
    """The inner block's `when` reads its argument, given from the outer block's `k`: instances whose
    `k` differs are not rebound from each other (those whose `w` alone differs are)."""
    text = """
name: t
input: [3, 8, 8]
blocks:
  inner:
    args: {gate: false}
    layers:
      - {name: a, type: relu}
      - {name: b, type: sigmoid, when: gate}
  outer:
    args: {k: 0, w: 1}
    layers:
      - {name: x, type: inner, gate: k > 1}
      - {name: c, type: conv, out_channels: w, kernel_size: 1}
layers:
  - {name: s, type: outer, repeat: 4, k: "0 if i < 2 else 2", w: 1 + i}
"""
    rebound = rebinds(monkeypatch)
    found = layers(text)
    assert list(found) == ["input", "s/0/x/a", "s/0/c", "s/1/x/a", "s/1/c", "s/2/x/a", "s/2/x/b", "s/2/c",
                           "s/3/x/a", "s/3/x/b", "s/3/c"]
    assert [found[f"s/{i}/c"][2][0] for i in range(4)] == [1, 2, 3, 4]  # w = 1 + i
    assert rebound == ["s/1", "s/3"]


def test_resnet50_takes_the_structure_of_its_first_stage_for_the_others(monkeypatch):
    """Every stage's first bottleneck downsamples, every later one does not (`downsample: i == 0`)."""
    rebound = rebinds(monkeypatch)
    arch = archcalc.load("resnet50")
    assert rebound == ["layer2/0", "layer2/1", "layer3/0", "layer3/1", "layer4/0", "layer4/1"]
    groups = {g.path: g.args for g in arch.groups}
    # torchvision's resnet50: layer3's first block has 256 planes, stride 2, a 1×1 downsample to 1024
    assert groups["layer3/0"]["planes"] == 256 and groups["layer3/0"]["stride"] == 2
    assert groups["layer3/0/downsample"] == {"out_channels": 1024, "stride": 2}
