"""Random block files expanded and analysed twice: as archcalc does it (block instances replayed or
rebound, arguments bound once per values, layers built once per values read) and with every one of
those shortcuts turned off, each instance and layer worked out afresh. Both must give the same layers,
inputs, groups and numbers, or the same error. And swept (an expansion kept for the variants that read
the same arguments, one layer cache for all): each row must be that of the variant analysed alone."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archcalc
from archcalc.errors import ArchcalcError
from archcalc.sweep.rows import numbers

expand_module = importlib.import_module("archcalc.spec.expand")
analysis_module = importlib.import_module("archcalc.analysis")

# what the blocks' argument defaults, the arguments given and the entries may say: channel counts (1 to
# 9), a kernel choice as a list (`k[0]` is 0 or 1: a 1×1 or a padded 3×3, so 8×8 stays 8×8), conditions
# and repeat counts, reading the file's `w` and `flag`, the repeat index `i` and the arguments in scope
DEFAULT_CHANNELS = ["4", "w", "4 + i % 2", "w + i", "[w, 1][0]"]  # a default sees `w`, `flag`, `i`
GIVEN_CHANNELS = ["4", "c", "c + 1", "w", "c + i % 2", "[c, 1][0]", "k[0] + 3"]  # inside `outer`
TOP_CHANNELS = ["4", "w", "4 + i % 2", "w - i % 2", "5"]
KERNELS = [[0, 1], [1, 1], ["i % 2", 1], ["flag and 1 or 0", 0], ["w % 2", 1]]
CONDITIONS = ["true", "false", '"flag"', '"i == 0"', '"c > 4"', '"k[0] == 1"', '"not flag and i < 2"']  # as written
REPEATS = ["1", "2", "1 + i % 2", "w % 3", "3"]
# two alternatives of one entry (`x`): the first kept where the condition holds, else the second
ALTERNATIVES = [("true", "false"), ('"flag"', '"not flag"'), ('"i % 2 == 0"', '"i % 2 == 1"'),
                ('"c > 4"', '"c <= 4"'), ('"k[0] == 0"', '"k[0] != 0"')]
# how the reference code runs some layers (`calls:`), which the count profiles other than archcalc's follow
CALLS = ["", 'calls: {"relu:*": functional}\n', 'calls: {"s/1/*": functional, "concat:*": operator}\n']
COUNTS = ["archcalc", "ptflops", "thop", "torch"]


def text_of(w: int, flag: bool, inner_c: str, inner_k: list, when: str, outer_c: str, outer_k: list,
            inner_repeat: str, given_c: str, top_repeat: int, top_c: str, top_k: list | None, tail: str,
            frozen: bool, alternatives: tuple[str, str] = ("true", "false"), calls: str = "") -> str:
    top_k_text = "" if top_k is None else f", k: {top_k}"
    return f"""
name: t
input: [3, 8, 8]
args: {{w: {w}, flag: {str(flag).lower()}}}
{calls}blocks:
  inner:
    args: {{c: "{inner_c}", k: {inner_k}}}
    layers:
      - {{name: a, type: conv, out_channels: c, kernel_size: "1 + 2 * k[0]", padding: "k[0]"}}
      - {{name: gate, type: relu, when: {when}}}
  outer:
    args: {{c: "{outer_c}", k: {outer_k}}}
    layers:
      - {{name: x, type: inner, c: "{given_c}", repeat: "{inner_repeat}", when: {alternatives[0]}}}
      - {{name: x, type: inner, c: "c + 2", when: {alternatives[1]}}}
      - {{name: y, type: inner, k: k}}
      - {{name: side, type: conv, out_channels: c, kernel_size: 1, from: input}}
      - {{name: join, type: concat, from: [y, side]}}
layers:
  - {{name: stem, type: conv, out_channels: 4, kernel_size: 1}}
  - {{name: s, type: outer, repeat: {top_repeat}, c: "{top_c}"{top_k_text}}}
  - {{name: f, type: outer, repeat: 1, c: "{tail}", trainable: {str(not frozen).lower()}}}
"""


# one random file: a strategy for each argument of `text_of`
CASE = {"w": st.integers(2, 6), "flag": st.booleans(), "inner_c": st.sampled_from(DEFAULT_CHANNELS),
        "inner_k": st.sampled_from(KERNELS), "when": st.sampled_from(CONDITIONS),
        "outer_c": st.sampled_from(DEFAULT_CHANNELS), "outer_k": st.sampled_from(KERNELS),
        "inner_repeat": st.sampled_from(REPEATS), "given_c": st.sampled_from(GIVEN_CHANNELS),
        "top_repeat": st.integers(1, 4), "top_c": st.sampled_from(TOP_CHANNELS),
        "top_k": st.none() | st.sampled_from(KERNELS), "tail": st.sampled_from(TOP_CHANNELS),
        "frozen": st.booleans(), "alternatives": st.sampled_from(ALTERNATIVES), "calls": st.sampled_from(CALLS)}


def outcome(text: str, shortcuts: bool, monkeypatch, count: str = "archcalc") -> object:
    """Every layer (path, type, hyper-parameters, inputs, trainable, output shape, parameters, MACs, FLOPs
    as `count` counts them, receptive field) and group, or the error's one line."""
    with monkeypatch.context() as patch:
        if not shortcuts:
            patch.setattr(expand_module._Expander, "template", lambda self, *args: None)
            patch.setattr(expand_module._Expander, "structure_key", lambda self, *args: None)
            patch.setattr(expand_module._Expander, "reads_i", lambda self, *args: True)
            patch.setattr(analysis_module, "_names_read", lambda hyper: None)
        try:
            arch = archcalc.load("t.yaml", text=text)
            records = archcalc.analyze(arch, count=count).layers
        except ArchcalcError as exc:
            return str(exc)
    layers = [(n.path, n.layer_cls.type_name, n.hyper, tuple(n.inputs), n.trainable, r.output_shape,
               r.param_tensors, r.macs, r.flops, r.receptive_field) for n, r in zip(arch.nodes, records, strict=True)]
    return [*layers, *((g.path, g.block, g.args) for g in arch.groups)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.fixed_dictionaries(CASE), count=st.sampled_from(COUNTS))
def test_shortcuts_give_what_a_fresh_expansion_gives(monkeypatch, case, count):
    text = text_of(**case)
    assert outcome(text, True, monkeypatch, count) == outcome(text, False, monkeypatch, count)


@pytest.mark.parametrize("shortcuts", [True, False])
def test_the_generated_files_are_mostly_valid(shortcuts, monkeypatch):
    """The generator's vocabulary makes files that load (so the comparison above compares layers, not errors):
    one made of its first choices, with a list default reading `i` and a repeat reading it."""
    text = text_of(4, True, "w + i", ["i % 2", 1], '"i == 0"', "4 + i % 2", [0, 1], "1 + i % 2", "c + i % 2", 3,
                   "4 + i % 2", ["i % 2", 1], "w", False)
    found = outcome(text, shortcuts, monkeypatch)
    assert isinstance(found, list) and len(found) > 20


@settings(max_examples=40, deadline=None)
@given(case=st.fixed_dictionaries(CASE), widths=st.lists(st.integers(2, 6), min_size=1, max_size=3, unique=True),
       sizes=st.lists(st.sampled_from([5, 6, 8]), min_size=1, max_size=2, unique=True))
def test_each_sweep_row_is_its_variant_analysed_alone(case, widths, sizes):
    text = text_of(**case)
    grid = {"w": widths, "flag": [True, False], "input": [[3, s, s] for s in sizes]}
    rows = archcalc.sweep(archcalc.load("t.yaml", text=text).spec, grid)
    for row in rows:
        alone = text_of(**{**case, "w": row["w"], "flag": row["flag"]})
        size = int(row["input"].split("x")[-1])
        try:
            expected = {**numbers(archcalc.analyze(archcalc.load("t.yaml", text=alone), input=[3, size, size])),
                        "error": None}
        except ArchcalcError as exc:
            expected = {"error": str(exc)}
        assert {k: row[k] for k in expected} == expected, row
