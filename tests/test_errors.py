"""Every error path: one ArchcalcError line that names the file, the layer (or key) and what was wrong.

Each case is a small file with one mistake; the test asserts the error class, the exact location
prefix `file: layer:` and the words that say what was expected and what was found.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.errors import (
    MAX_SUGGESTION_CANDIDATES,
    ArchcalcError,
    GraphError,
    ShapeError,
    SpecError,
    TilingError,
    suggestion,
)

HEAD = "name: t\ninput: [3, 8, 8]\n"


def fails(text: str, label: str = "t.yaml", **options) -> ArchcalcError:
    with pytest.raises(ArchcalcError) as info:
        archcalc.analyze(archcalc.load(label, text=text), **options)
    return info.value


# (id, file text, error class, location "file: where", words the message must contain)
CASES = [
    # --- syntax and the top level -----------------------------------------------------------
    ("yaml-syntax", "name: t\ninput: [1, 8\n", SpecError, "t.yaml", ["not valid YAML", "line 2"]),
    ("top-not-mapping", "- 1\n- 2\n", SpecError, "t.yaml", ["top level must be a mapping", "got list"]),
    ("missing-input", "name: t\nlayers: [{type: relu}]\n", SpecError, "t.yaml: input", ["missing key"]),
    ("unknown-top-key", HEAD + "layer: []\nlayers: [{type: relu}]\n", SpecError, "t.yaml: layer",
     ["unknown key"]),
    ("input-too-long", "name: t\ninput: [1, 2, 3, 4, 5]\nlayers: [{type: relu}]\n", SpecError, "t.yaml: input",
     ["at most 4 items", "[1, 2, 3, 4, 5]"]),
    ("input-zero", "name: t\ninput: [0, 8, 8]\nlayers: [{type: relu}]\n", SpecError, "t.yaml: input",
     ["positive integers", "[0, 8, 8]"]),
    ("input-huge", "name: t\ninput: [3, 100000000, 100000000]\nlayers: [{type: relu}]\n", ShapeError,
     "t.yaml: input", ["impossibly large", "100000000"]),
    ("duplicate-key", HEAD + "layers: [{name: a, type: relu, type: conv}]\n", SpecError, "t.yaml",
     ["duplicate key 'type'", "line 3"]),
    ("python-tag", "name: !!python/object/apply:os.system [ls]\ninput: [1]\nlayers: [{type: relu}]\n",
     SpecError, "t.yaml", ["not valid YAML", "python/object"]),
    ("output-unknown", HEAD + "output: reluu\nlayers: [{name: relu, type: relu}]\n", GraphError,
     "t.yaml: output", ["'reluu' names no layer", "did you mean 'relu'"]),
    ("defaults-unknown-type", HEAD + "defaults: {cnv: {bias: false}}\nlayers: [{type: relu}]\n", SpecError,
     "t.yaml: defaults.cnv", ["unknown layer type 'cnv'", "did you mean 'conv'"]),
    ("defaults-unknown-key", HEAD + "defaults: {conv: {bais: false}}\nlayers: [{type: relu}]\n", SpecError,
     "t.yaml: defaults.conv", ["no hyper-parameter 'bais'", "did you mean 'bias'"]),
    ("extends-unknown", HEAD + "extends: resnet9000\nlayers: [{type: relu}]\n", SpecError, "t.yaml",
     ["'resnet9000' is neither a file nor a zoo architecture"]),
    # --- layer entries ----------------------------------------------------------------------
    ("unknown-type", HEAD + "layers: [{name: c1, type: cnov, out_channels: 4, kernel_size: 3}]\n", SpecError,
     "t.yaml: c1", ["unknown layer type 'cnov'", "did you mean 'conv'"]),
    ("unknown-hyper", HEAD + "layers: [{name: c1, type: conv, out_chanels: 4, kernel_size: 3}]\n", SpecError,
     "t.yaml: c1", ["conv: out_chanels: unknown key", "did you mean 'out_channels'"]),
    ("missing-hyper", HEAD + "layers: [{name: c1, type: conv, kernel_size: 3}]\n", SpecError, "t.yaml: c1",
     ["out_channels: missing key"]),
    ("negative-hyper", HEAD + "layers: [{name: c1, type: conv, out_channels: -4, kernel_size: 3}]\n",
     SpecError, "t.yaml: c1", ["out_channels", "greater than 0", "got -4"]),
    ("alias-auto-named", HEAD + "layers: [{type: conv2d, out_channels: 2.5, kernel_size: 3}]\n", SpecError,
     "t.yaml: conv2d", ["t.yaml:3: conv2d: out_channels: is not a whole number", "2.5"]),
    ("padding-word", HEAD + "layers: [{name: c1, type: conv, out_channels: 4, kernel_size: 3, padding: full}]\n",
     SpecError, "t.yaml: c1", ["padding: should be", "'same' or 'valid'", "got 'full'"]),
    ("kernel-three-values", HEAD + "layers: [{name: c1, type: conv, out_channels: 4, kernel_size: [1, 2, 3]}]\n",
     SpecError, "t.yaml: c1", ["kernel_size", "got [1, 2, 3]"]),
    ("type-not-string", HEAD + "layers: [{name: a, type: relu}, {name: b, type: 3}]\n", SpecError,
     "t.yaml: b", ["type: should be a string", "got 3"]),
    ("first-type-not-string", HEAD + "layers: [{type: 3}]\n", SpecError, "t.yaml: layers[0]",
     ["type: should be a string", "got 3"]),
    ("from-not-string", HEAD + "layers: [{name: a, type: relu, from: 3}]\n", SpecError, "t.yaml: a",
     ["from", "got 3"]),
    ("layer-not-mapping", HEAD + "layers: [{name: a, type: relu}, 7]\n", SpecError, "t.yaml", ["layers.1",
                                                                                              "got 7"]),
    ("slash-in-name", HEAD + "layers: [{name: a/b, type: relu}]\n", SpecError, "t.yaml: a/b", ["no '/'"]),
    ("late-input", HEAD + "layers: [{name: a, type: relu}, {name: b, type: input}]\n", SpecError, "t.yaml: b",
     ["only the first entry", "input"]),
    ("input-entry-extra", HEAD + "layers: [{name: x, type: input, shape: [3, 8, 8]}, {type: relu}]\n",
     SpecError, "t.yaml: layers[0]", ["only a name", "'shape'"]),
    ("when-not-bool", HEAD + "layers: [{name: a, type: relu, when: '3'}]\n", SpecError, "t.yaml: a",
     ["when must be true or false", "got 3"]),
    ("repeat-not-int", HEAD + "layers: [{name: a, type: relu, repeat: '2.5'}]\n", SpecError, "t.yaml: a",
     ["repeat must be an integer", "2.5"]),
    ("repeat-huge", HEAD + "layers: [{name: a, type: relu, repeat: 100000000}]\n", SpecError, "t.yaml: a",
     ["repeat must be between 0 and 100,000", "100,000,000"]),
    # --- expressions ------------------------------------------------------------------------
    ("expr-syntax", HEAD + "layers: [{name: c1, type: conv, out_channels: '2*', kernel_size: 3}]\n",
     SpecError, "t.yaml: c1", ["cannot parse expression '2*'"]),
    ("expr-unknown-name", HEAD + "args: {width: 4}\n"
     "layers: [{name: c1, type: conv, out_channels: '2*widht', kernel_size: 3}]\n", SpecError, "t.yaml: c1",
     ["unknown name 'widht'", "did you mean 'width'"]),
    ("expr-attribute", HEAD + "layers: [{name: c1, type: conv, out_channels: '().__class__', kernel_size: 3}]\n",
     SpecError, "t.yaml: c1", ["Attribute is not allowed"]),
    ("expr-call", HEAD + "layers: [{name: c1, type: conv, out_channels: 'open(\"x\")', kernel_size: 3}]\n",
     SpecError, "t.yaml: c1", ["only the functions", "may be called"]),
    ("expr-power-tower", HEAD + "layers: [{name: c1, type: conv, out_channels: '9**9**9', kernel_size: 3}]\n",
     SpecError, "t.yaml: c1", ["exponent too large"]),
    ("expr-big-power", HEAD + "layers: [{name: c1, type: conv, out_channels: '999999**64', kernel_size: 3}]\n",
     SpecError, "t.yaml: c1", ["out of range"]),
    ("expr-big-literal", HEAD + "layers: [{name: c1, type: conv, out_channels: '" + "9" * 400
     + "', kernel_size: 3}]\n", SpecError, "t.yaml: c1", ["out of range", "..."]),
    ("expr-long", HEAD + "layers: [{name: c1, type: conv, out_channels: '" + "1+" * 1100
     + "1', kernel_size: 3}]\n", SpecError, "t.yaml: c1", ["longer than 2000 characters"]),
    ("expr-division-by-zero", HEAD + "layers: [{name: c1, type: conv, out_channels: '4 // 0', kernel_size: 3}]\n",
     SpecError, "t.yaml: c1", ["'4 // 0'", "division"]),
    ("expr-list-times", HEAD + "layers: [{name: c1, type: conv, out_channels: '[1]*10**9', kernel_size: 3}]\n",
     SpecError, "t.yaml: c1", ["arithmetic needs numbers"]),
    ("expr-complex", HEAD + "layers: [{name: c1, type: conv, out_channels: '(-8)**0.5', kernel_size: 3}]\n",
     SpecError, "t.yaml: c1", ["not a real number"]),
    ("expr-in-number", HEAD + "layers: [{name: a, type: relu, when: '1 in \"abc\"'}]\n", SpecError,
     "t.yaml: a", ["in expression"]),
    # --- blocks -----------------------------------------------------------------------------
    ("block-unknown-arg", HEAD + "blocks: {b: {args: {width: 4}, layers: [{type: conv, out_channels: width, "
     "kernel_size: 1}]}}\nlayers: [{name: s1, type: b, wdith: 8}]\n", SpecError, "t.yaml: s1",
     ["block 'b' has no argument 'wdith'", "did you mean 'width'"]),
    ("block-missing-arg", HEAD + "blocks: {b: {args: {width: null}, layers: [{type: conv, out_channels: width, "
     "kernel_size: 1}]}}\nlayers: [{name: s1, type: b}]\n", SpecError, "t.yaml: s1",
     ["block 'b' needs argument 'width'"]),
    ("block-recursive", HEAD + "blocks: {b: {layers: [{name: inner, type: b}]}}\nlayers: [{name: s1, type: b}]\n",
     SpecError, "t.yaml: s1/inner", ["nested deeper than 32", "does a block use itself"]),
    ("block-bad-output", HEAD + "blocks: {b: {output: nope, layers: [{name: r, type: relu}]}}\n"
     "layers: [{name: s1, type: b}]\n", GraphError, "t.yaml: s1", ["output 'nope' names no layer"]),
    ("block-inner-error", HEAD + "blocks: {b: {layers: [{name: c, type: conv, out_channels: 4, "
     "kernel_size: 3, groups: 2}]}}\nlayers: [{name: s1, type: b, repeat: 2}]\n", ShapeError, "t.yaml: s1/0/c",
     ["groups=2 must divide in_channels=3"]),
    ("nested-repeats", HEAD + "blocks: {b: {layers: [{type: relu, repeat: 100000}]}}\n"
     "layers: [{name: s, type: b, repeat: 100000}]\n", SpecError, "t.yaml: s: ", ["more than 50,000 layers"]),
    # --- the graph --------------------------------------------------------------------------
    ("dangling-from", HEAD + "layers: [{name: conv1, type: conv, out_channels: 4, kernel_size: 3}, "
     "{name: r, type: relu, from: conv2}]\n", GraphError, "t.yaml: r",
     ["from: 'conv2' names no layer", "did you mean 'conv1'"]),
    ("dangling-from-in-block", HEAD + "blocks: {b: {layers: [{name: c, type: conv, out_channels: 3, "
     "kernel_size: 1}, {name: add, type: add, from: [input, cc]}]}}\nlayers: [{name: s1, type: b}]\n",
     GraphError, "t.yaml: s1/add", ["from: 'cc' names no layer", "did you mean 'c'"]),
    ("duplicate-name", HEAD + "layers: [{name: a, type: relu}, {name: a, type: relu}]\n", GraphError,
     "t.yaml: a", ["duplicate layer name 'a'"]),
    ("cycle", HEAD + "layers: [{name: a, type: add, from: [input, b]}, {name: b, type: relu, from: a}]\n",
     GraphError, "t.yaml: a", ["cycle", "a → b → a"]),
    # --- shapes -----------------------------------------------------------------------------
    ("add-shapes", HEAD + "layers: [{name: c, type: conv, out_channels: 4, kernel_size: 3}, "
     "{name: sum, type: add, from: [input, c]}]\n", ShapeError, "t.yaml: sum",
     ["cannot add input's 3×8×8 and c's 4×6×6 (C×H×W)"]),
    ("concat-shapes", HEAD + "layers: [{name: p, type: maxpool, kernel_size: 2}, "
     "{name: cat, type: concat, from: [input, p]}]\n", ShapeError, "t.yaml: cat",
     ["cannot concatenate input's 3×8×8 and p's 3×4×4 (C×H×W)"]),
    ("window-too-big", HEAD + "layers: [{name: c, type: conv, out_channels: 4, kernel_size: 11}]\n", ShapeError,
     "t.yaml: c", ["window 11 is larger than the padded input 8"]),
    ("linear-on-map", HEAD + "layers: [{name: fc, type: linear, out_features: 10}]\n", ShapeError, "t.yaml: fc",
     ["flat input", "(3, 8, 8)", "flatten"]),
    ("conv-on-vector", "name: t\ninput: [10]\nlayers: [{name: c, type: conv, out_channels: 2, kernel_size: 1}]\n",
     ShapeError, "t.yaml: c", ["needs a (C, H, W) input", "(10)"]),
    ("add-one-input", HEAD + "layers: [{name: s, type: add}]\n", ShapeError, "t.yaml: s",
     ["add takes at least 2 input(s), got 1"]),
    ("huge-channels", HEAD + "layers: [{name: c, type: conv, out_channels: '10**12', kernel_size: 3}]\n",
     ShapeError, "t.yaml: c", ["impossibly large", "1000000000000"]),
    ("huge-features", "name: t\ninput: [4]\nlayers: [{name: fc, type: linear, out_features: 1000000000000}]\n",
     ShapeError, "t.yaml: fc", ["impossibly large", "1000000000000"]),
    ("huge-weight", "name: t\ninput: [1000, 1000, 1000]\n"
     "layers: [{name: c, type: conv, out_channels: 1000000, kernel_size: 1000}]\n", ShapeError, "t.yaml: c",
     ["parameter weight", "impossibly large"]),
    ("huge-side", HEAD + "layers: [{name: p, type: adaptiveavgpool, output_size: [1, 300000000]}]\n",
     ShapeError, "t.yaml: p", ["impossibly large", "height or width"]),
]


@pytest.mark.parametrize(("text", "cls", "where", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_names_file_layer_and_the_mistake(text, cls, where, words):
    error = fails(text)
    assert isinstance(error, cls), f"{type(error).__name__}: {error}"
    assert re.sub(r"^([^:]*)(:\d+)+", r"\1", str(error)).startswith(where), str(error)  # less file:line:column
    for word in words:
        assert word in str(error), str(error)
    assert "\n" not in str(error)


def test_location_is_separate_from_the_message():
    error = fails(HEAD + "layers: [{name: c1, type: conv, out_channels: 4, kernel_size: 30}]\n", "net.yaml")
    assert (error.file, error.line, error.layer) == ("net.yaml", 3, "c1")
    assert str(error) == f"net.yaml:3: c1: {error.message}"


def test_error_in_a_file_on_disk_names_the_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(HEAD + "layers: [{name: c1, type: conv, out_channels: 4, kernel_size: 30}]\n")
    with pytest.raises(ShapeError, match=r"^mine\.yaml:3: c1: window 30"):
        archcalc.analyze(str(path))


def test_missing_file_and_binary_and_non_utf8(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        archcalc.load(str(tmp_path / "absent.yaml"))
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(SpecError, match=r"^b\.yaml: file is binary"):
        archcalc.load(str(binary))
    latin = tmp_path / "l.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(SpecError, match=r"^l\.yaml: file is not UTF-8"):
        archcalc.load(str(latin))


def test_json_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "n.json"
    path.write_text('{"name": "t",\n "input": [1, 8, 8],,\n}')
    with pytest.raises(SpecError, match=r"^n\.json: not valid JSON at line 2, column 21"):
        archcalc.load(str(path))


# A JSON file: strings holding quotes, commas and brackets, a block, and layer entries on lines 8 … 11.
JSON_NET = """{
  "name": "t",
  "input": [1, 28, 28],
  "blocks": {"b": {"layers": [
      {"name": "c", "type": "conv", "out_channels": 4, "kernel_size": KERNEL},
      {"name": "x\\\\\\"y,{[:", "type": "relu"}]}},
  "layers": [
    {"name": "a", "type": "conv", "out_channels": 6, "kernel_size": 5},
    {"name": "p", "type": "maxpool", "kernel_size": 2},
    {"name": "blk", "type": "b"},
    {"name": "fc", "type": "linear", "out_features": 10}
  ]
}"""


@pytest.mark.parametrize(("kernel", "where"), [(3, "t.json:11: fc: "), (30, "t.json:5: blk/c: ")])
def test_json_errors_name_the_line_of_the_layer_entry(kernel, where):
    error = fails(JSON_NET.replace("KERNEL", str(kernel)), "t.json")
    assert str(error).startswith(where), error
    # the same file as YAML (JSON is YAML) names the same lines
    assert str(fails(JSON_NET.replace("KERNEL", str(kernel)))).startswith(where.replace(".json", ".yaml"))


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * (3 * 1024 * 1024))
    with pytest.raises(SpecError, match=r"^big\.yaml: file is larger than 2048 KiB"):
        archcalc.load(str(path))


def test_alias_bomb_fails_fast():
    lines = ["l0: &l0 [1]"] + [f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 9) + "]" for k in range(1, 9)]
    with pytest.raises(SpecError, match=r"^bomb\.yaml: more than 200,000 values once YAML aliases are expanded"):
        archcalc.load("bomb.yaml", text="\n".join(lines))


def test_self_containing_alias_is_refused():
    with pytest.raises(SpecError, match="YAML aliases|nested deeper"):
        archcalc.load("loop.yaml", text=HEAD + "args: {a: &a [*a]}\nlayers: [{type: relu}]\n")


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "a: " + "[" * 41 + "]" * 41 + "\n",
                                  "".join("  " * k + f"k{k}:\n" for k in range(45)) + "  " * 45 + "v\n"])
def test_deep_nesting_is_refused_before_anything_is_built(text):
    with pytest.raises(SpecError, match=r"^deep\.yaml: nested deeper than 40 levels"):
        archcalc.load("deep.yaml", text=text)


def test_many_aliases_are_refused():
    text = "a: &a [1]\nb: [" + ", ".join(["*a"] * 201) + "]\n"
    with pytest.raises(SpecError, match=r"^many\.yaml: more than 200 YAML aliases"):
        archcalc.load("many.yaml", text=text)


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n" + HEAD + "layers: [{type: relu}]\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n" + HEAD + "layers: [{type: relu}]\n")
    with pytest.raises(SpecError, match="forms a cycle"):
        archcalc.load(str(tmp_path / "a.yaml"))


def test_tiling_is_a_warning_and_an_error_under_strict():
    text = HEAD + "layers: [{name: pool, type: maxpool, kernel_size: 3, stride: 2}]\n"
    # 8 rows, window 3, stride 2: windows start at 0, 2, 4 and cover rows 0..6; row 7 is never read.
    report = archcalc.analyze(archcalc.load("t.yaml", text=text))
    assert report.layer("pool").warnings and "last row and column are skipped" in report.warnings[0]
    error = fails(text, strict=True)
    assert isinstance(error, TilingError)
    assert str(error).startswith("t.yaml:3: pool: 3×3/2 on 8: the last row and column are skipped")


@pytest.mark.parametrize(("option", "words"), [({"batch": 0}, "batch must be a positive integer"),
                                               ({"dtype": "float8"}, "dtype must be one of"),
                                               ({"input": [3, -1, 8]}, "input must be positive integers")])
def test_bad_analysis_options(option, words):
    error = fails(HEAD + "layers: [{type: relu}]\n", **option)
    assert str(error).startswith("t.yaml") and words in str(error)


def test_unknown_zoo_name_suggests():
    with pytest.raises(SpecError, match=r"'lenet' is neither a file nor a zoo architecture \(did you mean 'lenet5'"):
        archcalc.load("lenet")


def test_unknown_layer_in_report_suggests():
    with pytest.raises(ArchcalcError, match=r"^lenet5\.yaml: no layer 'C33' \(did you mean 'C"):
        archcalc.analyze("lenet5").layer("C33")


def test_unused_output_is_a_warning_not_an_error():
    report = archcalc.analyze(archcalc.load("t.yaml", text=HEAD + "layers: [{name: a, type: relu}, "
                                            "{name: b, type: relu, from: input}]\n"))
    assert "a: output is never used" in report.warnings


# --- the command line ---------------------------------------------------------------------------


def _cli(*args):
    from archcalc.cli import main

    return CliRunner().invoke(main, list(args))


def test_cli_prints_one_line_and_exits_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + "layers: [{name: c1, type: conv, out_channels: 4, kernel_size: 30}]\n")
    result = _cli("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr == "archcalc: error: bad.yaml:3: c1: window 30 is larger than the padded input 8\n"
    result = _cli("table", str(path))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_cli_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + "layers: [{name: c1, type: conv, out_channels: 4, kernel_size: 30}]\n")
    result = _cli("--debug", "table", str(path))
    assert result.exit_code != 0
    assert isinstance(result.exception, ShapeError)


def test_pool_padding_beyond_half_the_kernel_is_refused_even_when_dilated():
    # torch.nn.MaxPool2d(3, 1, 2, dilation=2) raises "pad should be smaller than or equal to half of kernel size"
    spec = {"name": "t", "input": [1, 10, 10],
            "layers": [{"name": "pool", "type": "maxpool", "kernel_size": 3, "stride": 1, "padding": 2, "dilation": 2}]}
    with pytest.raises(archcalc.ShapeError, match="t: pool: padding 2 is more than half the window 3"):
        archcalc.analyze(spec)


@pytest.mark.parametrize("entry, message", [
    ({"name": "x", "type": "relu", "repeat": True}, "repeat: should be"),
    ({"name": "", "type": "relu"}, "name: should be a string \\(at least 1 character\\) or null"),
])
def test_a_boolean_repeat_and_an_empty_name_are_refused(entry, message):
    with pytest.raises(archcalc.SpecError, match=message):
        archcalc.load({"name": "t", "input": [1, 4, 4], "layers": [entry]})


def test_deep_flow_nesting_on_one_line_is_refused_by_archcalc():
    # libyaml (in some PyYAML releases) refuses 1,000 levels itself while reading ahead: archcalc's
    # limit must still be the one reported, whatever the PyYAML version
    with pytest.raises(SpecError, match=r"^deep\.yaml: nested deeper than 40 levels"):
        archcalc.load("deep.yaml", text="a: " + "[1, " * 5000 + "]" * 5000 + "\n")


def test_a_syntax_error_is_still_reported_as_one():
    with pytest.raises(SpecError, match=r"^bad\.yaml:1:4: not valid YAML: a \[ or \{ that is never closed"):
        archcalc.load("bad.yaml", text="a: [1, 2\n")


def test_a_lone_surrogate_in_text():
    with pytest.raises(SpecError, match=r"^s\.yaml: text is not valid Unicode"):
        archcalc.load("s.yaml", text=HEAD + "notes: '\ud800'\nlayers: [{type: relu}]\n")


def test_a_mapping_gets_the_bounds_of_a_file():
    loop: list = []
    loop.append(loop)
    deep: list = []
    inner = deep
    for _ in range(100_000):
        inner.append([])
        inner = inner[0]
    for value in (loop, deep):
        mapping = {"name": "m", "input": [3, 8, 8], "layers": [{"type": "relu", "inplace": value}]}
        with pytest.raises(SpecError, match=r"^m: nested deeper than 40 levels"):
            archcalc.analyze(mapping)
    with pytest.raises(SpecError, match=r"^<mapping>: an integer of more than 100 digits"):
        archcalc.load({"name": 10**5000})
    with pytest.raises(SpecError, match="type set is not allowed"):
        archcalc.load({"name": "m", "input": [3, 8, 8], "layers": [{"type": "conv", "out_channels": {4}}]})


def test_duplicate_keys_in_json_text():
    with pytest.raises(SpecError, match=r"^d\.json: duplicate key 'input'"):
        archcalc.load("d.json", text='{"name": "d", "input": [3, 8, 8], "input": [1, 4, 4], "layers": []}')


def test_every_part_of_a_message_is_one_printable_line():
    error = SpecError("bad\nvalue \x1b[2J", file="a\nb.yaml", layer="c\rd\u2028e")
    assert str(error) == "a\\nb.yaml: c\\rd\\u2028e: bad value \\x1b[2J"


def test_a_suggestion_compares_a_bounded_number_of_names():
    pulled = []

    def names():
        for k in range(100_000):
            pulled.append(k)
            yield f"l{k}"

    assert suggestion("l5x", names()) == " (did you mean 'l5'?)"
    assert len(pulled) <= 2 * MAX_SUGGESTION_CANDIDATES


def test_an_error_in_an_extended_file_names_the_file_read_and_the_line_in_its_parent(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text("name: small\nextends: vgg11\ninput: [3, 16, 16]\n")  # too small for vgg11's last pool
    with pytest.raises(ShapeError) as caught:
        archcalc.analyze(archcalc.load(str(path)))
    assert re.match(r"^small\.yaml, from _vgg_torchvision\.yaml:\d+: features/20: window 2 is larger",
                    str(caught.value))
