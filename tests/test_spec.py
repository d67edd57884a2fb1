"""The file format: blocks, repeat, when, from, extends, defaults, expressions, JSON, the JSON Schema.

Expected shapes and counts are worked out by hand in the comments (output size
floor((n + 2p − k)/s) + 1, conv params k·k·C_in·C_out (+ C_out), BatchNorm 2·C + 2·C).
"""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

import archcalc
from archcalc import zoo
from archcalc.errors import SpecError
from archcalc.expr import evaluate

TINY_RESNET = """
name: tiny-resnet
input: [3, 32, 32]
args: {width: 16}
defaults:
  conv: {bias: false, padding: 1, kernel_size: 3}
blocks:
  basic:
    args: {out: null, stride: 1, project: false}
    layers:
      - {name: conv1, type: conv, out_channels: out, stride: stride}
      - {name: bn1, type: batchnorm}
      - {name: relu, type: relu, inplace: true}
      - {name: conv2, type: conv, out_channels: out}
      - {name: bn2, type: batchnorm}
      - {name: down, type: conv, from: input, out_channels: out, kernel_size: 1, stride: stride, padding: 0,
         when: "stride != 1 or project"}
      - {name: add, type: add, from: [bn2, down]}
      - {name: relu2, type: relu}
layers:
  - {name: stem, type: conv, out_channels: width}
  - {name: layer1, type: basic, out: width, repeat: 2}
  - {name: layer2, type: basic, out: 2*width, stride: "2 if i == 0 else 1", repeat: 2}
  - {type: globalavgpool, keepdims: false}
  - {name: fc, type: linear, out_features: 10}
"""


def load(text: str, label: str = "t.yaml"):
    return archcalc.load(label, text=text)


def test_blocks_repeat_and_nested_names():
    arch = load(TINY_RESNET)
    names = [n.path for n in arch.nodes]
    assert names[:3] == ["input", "stem", "layer1/0/conv1"]
    assert "layer1/1/relu2" in names and "layer2/1/add" in names
    # `when` keeps the projection only where the stride is 2 (layer2/0).
    assert [n for n in names if n.endswith("/down")] == ["layer2/0/down"]
    assert "globalavgpool" in names  # an unnamed entry is named after its type


def test_when_dropped_entry_stands_for_its_input():
    arch = load(TINY_RESNET)
    # layer1/0 has no projection: its add reads the block input (the stem) instead.
    assert arch.node("layer1/0/add").inputs == ["layer1/0/bn2", "stem"]
    assert arch.node("layer2/0/add").inputs == ["layer2/0/bn2", "layer2/0/down"]
    assert arch.node("layer2/0/down").inputs == ["layer1/1/relu2"]


def test_repeat_index_and_block_arguments_reach_the_layers():
    report = archcalc.analyze(load(TINY_RESNET))
    # 32×32, 3×3 pad 1 stride 2: floor((32 + 2 − 3)/2) + 1 = 16; stride 1 keeps 16.
    assert report.layer("layer2/0/conv1").output_shape == (32, 16, 16)
    assert report.layer("layer2/1/conv1").output_shape == (32, 16, 16)
    assert report.layer("layer1/1/conv2").output_shape == (16, 32, 32)
    assert report.layer("fc").output_shape == (10,)


def test_groups_record_block_instances_and_repeats():
    groups = {g.path: g for g in load(TINY_RESNET).groups}
    assert groups["layer2/0"].block == "basic"
    assert groups["layer2/0"].args == {"out": 32, "stride": 2, "project": False}
    assert groups["layer2/1"].args["stride"] == 1
    assert groups["layer1"].args == {"repeat": 2}


def test_defaults_apply_and_explicit_values_win():
    report = archcalc.analyze(load(TINY_RESNET))
    stem = report.layer("stem")
    assert stem.layer.bias is False and stem.layer.padding == (1, 1)
    assert report.layer("layer2/0/down").layer.padding == (0, 0)


def test_tiny_resnet_parameter_count_by_hand():
    totals = archcalc.analyze(load(TINY_RESNET)).totals
    stem = 3 * 3 * 3 * 16                                   # 432, no bias
    layer1 = 4 * (3 * 3 * 16 * 16) + 4 * (2 * 16)           # four 3×3 convs, four BN (γ, β)
    layer2 = (3 * 3 * 16 * 32 + 3 * 3 * 32 * 32 + 16 * 32   # first block: conv1, conv2, 1×1 projection
              + 3 * 3 * 32 * 32 * 2                         # second block
              + 4 * (2 * 32))                               # four BN
    fc = 32 * 10 + 10
    stats = 4 * (2 * 16) + 4 * (2 * 32)                     # running mean and var
    assert totals.trainable_params == stem + layer1 + layer2 + fc
    assert totals.non_trainable_params == stats
    assert totals.params == stem + layer1 + layer2 + fc + stats


def test_from_names_branches_and_input_inside_a_block_is_the_block_input():
    text = """
name: branches
input: [4, 8, 8]
blocks:
  two:
    layers:
      - {name: a, type: conv, out_channels: 2, kernel_size: 1}
      - {name: b, type: conv, out_channels: 3, kernel_size: 1, from: input}
      - {name: cat, type: concat, from: [a, b]}
layers:
  - {name: pre, type: relu}
  - {name: m, type: two}
  - {name: tail, type: concat, from: [m, pre]}
"""
    report = archcalc.analyze(load(text))
    assert report.layer("m/b").inputs == ("pre",)
    assert report.layer("m/cat").output_shape == (5, 8, 8)   # 2 + 3 channels
    assert report.layer("tail").inputs == ("m/cat", "pre")
    assert report.layer("tail").output_shape == (9, 8, 8)    # 5 + 4


def test_explicit_input_entry_names_the_input():
    text = "name: t\ninput: [3, 8, 8]\nlayers:\n  - {name: input_1, type: input}\n  - {name: r, type: relu}\n" \
           "  - {name: s, type: add, from: [r, input_1]}\n"
    arch = load(text)
    assert arch.input_path == "input_1" and arch.nodes[0].path == "input_1"
    assert arch.node("s").inputs == ["r", "input_1"]


def test_repeat_zero_and_auto_names():
    text = "name: t\ninput: [3, 8, 8]\nlayers:\n  - {type: relu}\n  - {type: relu}\n" \
           "  - {name: gone, type: conv, out_channels: 2, kernel_size: 1, repeat: 0}\n" \
           "  - {name: s, type: add, from: [gone, input]}\n"
    arch = load(text)
    assert [n.path for n in arch.nodes] == ["input", "relu", "relu_1", "s"]
    assert arch.node("s").inputs == ["relu_1", "input"]


def test_in_channels_in_hyper_parameters():
    text = "name: t\ninput: [6, 8, 8]\nlayers:\n" \
           "  - {name: dw, type: conv, out_channels: in_channels, groups: in_channels, kernel_size: 3}\n" \
           "  - {name: pw, type: conv, out_channels: 2*in_channels, kernel_size: 1}\n"
    report = archcalc.analyze(load(text))
    assert report.layer("dw").params == 6 * 3 * 3 + 6       # depthwise: one 3×3 filter per channel + bias
    assert report.layer("pw").output_shape == (12, 6, 6)
    assert report.layer("pw").params == 6 * 12 + 12


def test_output_key_and_unused_warning():
    text = "name: t\ninput: [3, 8, 8]\noutput: a\nlayers:\n  - {name: a, type: relu}\n  - {name: b, type: relu}\n"
    arch = load(text)
    assert arch.output_path == "a"
    assert arch.warnings == ("b: output is never used",)


def test_extends_merges_args_defaults_blocks_and_drops_reference(tmp_path):
    (tmp_path / "base.yaml").write_text("""
name: base
input: [3, 16, 16]
reference: {paper: {params: 1}}
args: {width: 4, depth: 2}
defaults: {conv: {bias: false}}
blocks:
  unit: {args: {w: null}, layers: [{type: conv, out_channels: w, kernel_size: 3, padding: 1}]}
layers:
  - {name: body, type: unit, w: width, repeat: depth}
""")
    (tmp_path / "child.yaml").write_text("name: child\nextends: base.yaml\nargs: {width: 8}\n")
    child = archcalc.load(str(tmp_path / "child.yaml"))
    assert child.spec.reference == {}
    assert child.spec.args == {"width": 8, "depth": 2}
    report = archcalc.analyze(child)
    # two 3×3 convs without bias: 3·9·8 + 8·9·8
    assert report.totals.params == 3 * 9 * 8 + 8 * 9 * 8
    assert archcalc.load(str(tmp_path / "base.yaml")).spec.reference == {"paper": {"params": 1}}


def test_the_files_read_are_named_by_their_real_paths_and_bytes(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "base.yaml").write_text("name: base\ninput: [1, 4, 4]\nlayers:\n  - {type: relu}\n")
    (real / "child.yaml").write_text("name: child\nextends: base.yaml\n")
    (tmp_path / "link").symlink_to(real)  # the child read through a linked folder, its parent found beside it
    files = archcalc.load(str(tmp_path / "link" / "child.yaml")).files
    assert [(f.reference, f.path) for f in files] == [
        (None, str((real / "child.yaml").resolve())), ("base.yaml", str((real / "base.yaml").resolve()))]
    assert [f.sha256 for f in files] == [hashlib.sha256(p.read_bytes()).hexdigest()
                                         for p in (real / "child.yaml", real / "base.yaml")]


def test_json_yaml_and_mapping_give_the_same_numbers(tmp_path):
    data = yaml.safe_load(TINY_RESNET)
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data))
    expected = archcalc.analyze(load(TINY_RESNET)).to_dict()
    assert archcalc.analyze(str(path)).to_dict() == expected
    assert archcalc.analyze(archcalc.load(data)).to_dict() == expected


# --- expressions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "names", "value"), [
    ("2*width", {"width": 32}, 64),
    ("width // 3 + 1", {"width": 32}, 11),
    ("8 / 2", {}, 4),
    ("7 / 2", {}, 3.5),
    ("2**10 % 1000", {}, 24),
    ("-(3 - 5)", {}, 2),
    ("stride if i == 0 else 1", {"stride": 2, "i": 0}, 2),
    ("stride if i == 0 else 1", {"stride": 2, "i": 3}, 1),
    ("cfg[2]", {"cfg": [64, 128, 256]}, 256),
    ("cfg[i][1]", {"cfg": [[1, 2], [3, 4]], "i": 1}, 4),
    ("min(a, 3) + max(a, 3) + abs(-2) + len(cfg)", {"a": 5, "cfg": [1, 2]}, 12),
    ("int(width * 0.75) + round(2.6)", {"width": 10}, 10),
    ("i in [0, 3]", {"i": 3}, True),
    ("i not in [0, 3]", {"i": 3}, False),
    ("0 < i <= 4", {"i": 4}, True),
    ("not x and y", {"x": False, "y": True}, True),
    ("first or undefined_name", {"first": True}, True),
])
def test_expressions(text, names, value):
    assert evaluate(text, names) == value


@pytest.mark.parametrize("text", ["__import__('os')", "x.y", "lambda: 1", "[i for i in cfg]", "{1: 2}",
                                  "f'{1}'", "cfg[0:2]", "print(1)", "a := 1", "1 << 4", "~1", "3 @ 4"])
def test_expressions_outside_the_whitelist_are_refused(text):
    with pytest.raises(SpecError):
        evaluate(text, {"cfg": [1, 2, 3], "x": 1})


@pytest.mark.parametrize(("text", "value"), [("-" * 98 + "x", 3), ("-" * 97 + "y[0]", -3),
                                             ("[" * 98 + "x" + "]" * 98, [3])])
def test_expressions_nested_to_the_limit_are_read(text, value):
    """A name is two levels (itself, its load context), each sign, index or list one more: 100 in all."""
    result = evaluate(text, {"x": 3, "y": [3]})
    while isinstance(result, list) and result != [3]:
        result = result[0]
    assert result == value


@pytest.mark.parametrize("text", ["-" * 99 + "x", "(" * 99 + "x" + ")" * 99 + " + " + "-" * 99 + "x",
                                  "[" * 99 + "x" + "]" * 99, "-" * 300 + "x"])
def test_expressions_nested_past_the_limit_are_refused(text):
    with pytest.raises(SpecError, match="nested deeper than 100 levels"):
        evaluate(text, {"x": 1})


def test_bare_words_stay_strings():
    text = "name: t\ninput: [3, 8, 8]\nlayers: [{name: c, type: conv, out_channels: 4, kernel_size: 3, " \
           "padding: same}]\n"
    assert archcalc.analyze(load(text)).layer("c").output_shape == (4, 8, 8)


# --- the JSON Schema ------------------------------------------------------------------------------


def test_when_alternatives_share_a_name_and_a_dropped_add_stands_for_its_first_input():
    # an optional residual: with residual false the add drops out and the chain continues from conv2
    block = {"args": {"k": None, "residual": None}, "layers": [
        {"name": "conv", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1, "when": "k == 3"},
        {"name": "conv", "type": "conv", "out_channels": 4, "kernel_size": 5, "padding": 2, "when": "k == 5"},
        {"name": "conv2", "type": "conv", "out_channels": 4, "kernel_size": 1},
        {"name": "add", "type": "add", "from": ["conv2", "input"], "when": "residual"},
        {"name": "relu", "type": "relu"}]}
    spec = {"name": "alt", "input": [4, 8, 8], "blocks": {"unit": block},
            "layers": [{"name": "a", "type": "unit", "k": 5, "residual": False},
                       {"name": "b", "type": "unit", "k": 3, "residual": True}]}
    report = archcalc.analyze(spec)
    names = [r.name for r in report.layers]
    assert names == ["input", "a/conv", "a/conv2", "a/relu", "b/conv", "b/conv2", "b/add", "b/relu"]
    assert report.layer("a/conv").param_tensors[0].shape == (4, 4, 5, 5)  # the k == 5 alternative
    assert report.layer("a/relu").inputs == ("a/conv2",)
    assert report.layer("b/add").inputs == ("b/conv2", "a/relu")


def test_two_real_layers_may_not_share_a_name():
    spec = {"name": "dup", "input": [1, 4, 4], "layers": [
        {"name": "x", "type": "relu"}, {"name": "x", "type": "relu", "when": "True"}]}
    with pytest.raises(archcalc.ArchcalcError, match="duplicate layer (name|path) 'x'"):
        archcalc.load(spec)


@pytest.mark.parametrize("where", ["file", "block"])
def test_an_argument_named_like_an_option_value_is_refused(where):
    # `args: {same: 3}` would otherwise turn `padding: same` into `padding: 3` without a word
    conv = {"name": "conv", "type": "conv", "out_channels": 2, "kernel_size": 3, "padding": "same"}
    if where == "file":
        spec = {"name": "t", "input": [2, 8, 8], "args": {"same": 3}, "layers": [conv]}
    else:
        spec = {"name": "t", "input": [2, 8, 8], "blocks": {"b": {"args": {"same": 3}, "layers": [conv]}},
                "layers": [{"name": "b1", "type": "b"}]}
    with pytest.raises(archcalc.SpecError, match="argument 'same' has the name of an option value"):
        archcalc.load(spec)


def test_without_libyaml_the_pure_python_parser_reads_the_same_and_keeps_the_bounds(monkeypatch):
    import importlib

    from archcalc.spec import loader

    text = zoo.find("inception_v3").read_text()
    fast = loader.parse_text(text, "inception_v3.yaml")
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    slow_loader = importlib.reload(loader)
    try:
        assert slow_loader._SafeLoader is yaml.SafeLoader
        assert slow_loader.parse_text(text, "inception_v3.yaml") == fast
        with pytest.raises(SpecError, match="duplicate key 'a' at line 2"):
            slow_loader.parse_text("a: 1\na: 2\n", "t.yaml")
        with pytest.raises(SpecError, match="nested deeper than 40 levels"):
            slow_loader.parse_text("[" * 1000 + "]" * 1000, "t.yaml")
    finally:
        monkeypatch.undo()
        importlib.reload(loader)


def test_the_networkx_graph_has_one_node_per_layer_and_an_edge_per_input():
    """ResNet-18's graph (torchvision: 8 BasicBlocks, 3 of them with a downsample branch): every
    block's add has two inputs, and the execution order is a topological order."""
    networkx = pytest.importorskip("networkx")
    arch = archcalc.load("resnet18")
    graph = arch.graph
    assert set(graph.nodes) == {node.path for node in arch.nodes}
    assert graph.number_of_edges() == sum(len(node.inputs) for node in arch.nodes)
    adds = [path for path in graph.nodes if path.endswith("/add")]
    assert len(adds) == 8 and all(graph.in_degree(path) == 2 for path in adds)
    assert {path.split("/downsample")[0] for path in graph.nodes if "/downsample" in path} == \
        {"layer2/0", "layer3/0", "layer4/0"}
    order = {node.path: i for i, node in enumerate(arch.nodes)}
    assert all(order[a] < order[b] for a, b in graph.edges) and networkx.is_directed_acyclic_graph(graph)


def test_call_styles_follow_the_first_matching_pattern():
    from fnmatch import fnmatchcase

    from archcalc.profiles.calls import call_style

    calls = {"relu:*": "functional", "avgpool": "operator", "*pool*": "functional", "x:y:z*": "operator",
             "conv:s/[ab]?": "functional", "*": "module"}

    def by_definition(path, kind):  # the rule as docs/format.md states it, pattern by pattern
        for pattern, call in calls.items():
            where_kind, _, where = pattern.rpartition(":")
            if (not where_kind or where_kind == kind) and fnmatchcase(path, where):
                return call
        return "module"

    for path, kind in [("a/relu", "relu"), ("avgpool", "avgpool"), ("avgpool", "relu"), ("s/maxpool", "maxpool"),
                       ("s/a1", "conv"), ("s/c1", "conv"), ("s/a1", "relu"), ("z1", "x:y"), ("z1", "y"),
                       ("line\nbreak", "relu"), ("s/a1/b", "conv")]:
        assert call_style(calls, path, kind) == by_definition(path, kind), (path, kind)
    assert call_style({}, "a", "relu") == "module"
