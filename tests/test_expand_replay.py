"""Block instances with the same arguments are expanded once and replayed: the replay must give exactly
the layers, inputs, names, scopes and groups a fresh expansion of each instance gives."""

from __future__ import annotations

import importlib

import pytest

import archcalc
from archcalc import zoo

expand_module = importlib.import_module("archcalc.spec.expand")

EDGE_CASES = {
    # a block reading `i` itself (not through its arguments): each instance differs
    "reads-i": """
name: t
input: [3, 8, 8]
blocks:
  b:
    args: {w: 4}
    layers:
      - {name: conv, type: conv, out_channels: w + i, kernel_size: 1}
layers:
  - {name: s, type: b, repeat: 3}
""",
    # `when`-dropped entries standing for the block input and for an inner layer; a nested block;
    # a `from:` reaching a layer outside the instance; a frozen block
    "aliases-and-outer-refs": """
name: t
input: [3, 8, 8]
blocks:
  inner:
    args: {c: 4}
    layers:
      - {name: a, type: conv, out_channels: c, kernel_size: 1}
      - {name: skip, type: relu, when: false}
      - {name: b, type: conv, out_channels: c, kernel_size: 1, from: skip}
  outer:
    args: {c: 4, gate: false}
    layers:
      - {name: opt, type: relu, when: gate}
      - {name: x, type: inner, c: c, from: opt}
      - {name: side, type: conv, out_channels: c, kernel_size: 1, from: stem}
      - {name: add, type: add, from: [x, side]}
layers:
  - {name: stem, type: conv, out_channels: 4, kernel_size: 1}
  - {name: s, type: outer, repeat: 3, c: 4}
  - {name: f, type: outer, c: 4, trainable: false}
  - {name: g, type: outer, c: 4, gate: true}
freeze: ["s/1/*"]
""",
    # instances with other arguments taking an earlier one's structure (`rebind`): alternatives of one
    # name (an instance and a repeat of the same block, one dropped), `i` reaching a nested block through a
    # default, an input taken from outside the instance, a frozen instance
    "rebound-structures": """
name: t
input: [3, 8, 8]
blocks:
  inner:
    args: {c: 4, k: "1 + 2 * (i % 2)"}
    layers:
      - {name: a, type: conv, out_channels: c, kernel_size: k, padding: k // 2}
      - {name: gate, type: relu, when: c > 4}
  outer:
    args: {c: 4, alt: false}
    layers:
      - {name: x, type: inner, c: c, when: not alt}
      - {name: x, type: inner, c: c + 1, repeat: 2, when: alt}
      - {name: y, type: inner, c: c}
      - {name: side, type: conv, out_channels: c, kernel_size: 1, from: stem}
      - {name: add, type: add, from: [y, side]}
layers:
  - {name: stem, type: conv, out_channels: 4, kernel_size: 1}
  - {name: s, type: outer, repeat: 4, c: 4 + i % 2, alt: i == 3}
  - {name: f, type: outer, c: 5, trainable: false, repeat: 1}
freeze: ["s/2/*"]
""",
}


def expansion(load, replaying: bool, monkeypatch) -> list[tuple]:
    """Every layer of `load()` as (path, type, hyper-parameters, inputs, trainable, and its output shape,
    parameters, MACs and receptive field), then the groups; with replays or with every block instance
    expanded afresh. (The names a layer sees may differ in ones it does not read: a repeat's `i`.)"""
    with monkeypatch.context() as patch:
        if not replaying:
            patch.setattr(expand_module._Expander, "template", lambda self, *args: None)
        arch = load()
        records = archcalc.analyze(arch).layers
    layers = [(n.path, n.layer_cls.type_name, n.hyper, tuple(n.inputs), n.trainable, r.output_shape,
               r.param_tensors, r.macs, r.receptive_field) for n, r in zip(arch.nodes, records, strict=True)]
    return [*layers, *((g.path, g.block, g.args) for g in arch.groups)]


@pytest.mark.parametrize("name", [n for n in zoo.names() if not n.startswith("_")])
def test_every_zoo_file_expands_alike_with_and_without_replays(name, monkeypatch):
    load = lambda: archcalc.load(name)  # noqa: E731
    assert expansion(load, True, monkeypatch) == expansion(load, False, monkeypatch)


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_cases_expand_alike_with_and_without_replays(case, monkeypatch):
    load = lambda: archcalc.load("t.yaml", text=EDGE_CASES[case])  # noqa: E731
    assert expansion(load, True, monkeypatch) == expansion(load, False, monkeypatch)


def test_resnet152_replays_its_repeated_bottlenecks(monkeypatch):
    """The repeated bottlenecks of a stage (same arguments) are replayed, not expanded again."""
    calls = []
    original = expand_module._Expander.replay
    monkeypatch.setattr(expand_module._Expander, "replay",
                        lambda self, *args: calls.append(args[1]) or original(self, *args))
    archcalc.load("resnet152")
    assert "layer3/2" in calls and "layer3/0" not in calls  # layer3/0 downsamples: other arguments


@pytest.mark.parametrize("c", ["4", "4 + i"])  # the same arguments (a replay) or other ones (a rebinding)
def test_a_whole_path_read_inside_an_instance_names_that_layer_in_every_copy(c):
    """`from: s/0/a` names the layer at that path, in s/1 as in s/0: s/1's `skip` (dropped) stands for s/0/a,
    so s/1/z reads s/0/a; s/1's nested block reads s/0/a as its input too."""
    text = f"""
name: t
input: [3, 8, 8]
blocks:
  inner:
    layers:
      - {{name: r, type: relu}}
  b:
    args: {{c: 4}}
    layers:
      - {{name: a, type: conv, out_channels: c, kernel_size: 1}}
      - {{name: skip, type: relu, when: false, from: s/0/a}}
      - {{name: z, type: relu, from: skip}}
      - {{name: n, type: inner, from: s/0/a}}
layers:
  - {{name: s, type: b, repeat: 3, c: "{c}"}}
"""
    inputs = {node.path: node.inputs for node in archcalc.load("t.yaml", text=text).nodes}
    for i in range(3):
        assert inputs[f"s/{i}/z"] == ["s/0/a"] and inputs[f"s/{i}/n/r"] == ["s/0/a"]


def test_an_argument_default_listing_i_binds_each_copy_its_own_i():
    """A block argument whose default is a list reading `i` (`k: [i, 1]`) gives each copy of a repeat its own
    value: kernels 2·i + 1 = 1, 3, 5 on 32×32 without padding leave 32, 30 and 26 (worked by hand)."""
    text = """
name: t
input: [3, 32, 32]
blocks:
  b:
    args: {k: [i, 1]}
    layers:
      - {name: c, type: conv, out_channels: 4, kernel_size: "k[0] * 2 + 1"}
layers:
  - {name: s, type: b, repeat: 3}
"""
    report = archcalc.analyze(archcalc.load("t.yaml", text=text))
    assert [record.output_shape for record in report.layers[1:]] == [(4, 32, 32), (4, 30, 30), (4, 26, 26)]
