"""Hostile architecture files: each is refused by `archcalc validate` in one line naming the file
(and the layer where there is one), with exit status 2, fast and in little memory.

Each file runs in a fresh process; the bounds are generous (2 s of CPU, 300 MB peak memory) so that
they hold on any machine, while every case here took far more (or crashed) before it was bounded.
CPU time rather than wall time is measured because the wall time of a loaded machine says little.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

CPU_SECONDS = 2.0
PEAK_MB = 300
KILL_AFTER = 60  # a hang still ends the test

HEAD = "name: t\ninput: [3, 8, 8]\n"
BIG = "1" * 5000  # an integer over Python's 4,300-digit conversion limit


# The child reports its own peak memory (VmHWM, which starts afresh at exec): the rusage of a child
# forked from a large test process counts the pages it shared before exec.
_MEASURED = """
import atexit, os, runpy, sys

def peak():
    with open("/proc/self/status") as status:
        kilobytes = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as out:
        out.write(kilobytes)

if os.path.exists("/proc/self/status"):
    atexit.register(peak)
sys.argv[0] = "archcalc"
runpy.run_module("archcalc", run_name="__main__")
"""


def run_archcalc(tmp_path, *args: str) -> tuple[int, str, str]:
    """Run `python -m archcalc ARGS` in tmp_path; return (status, stdout, stderr), checking the bounds."""
    out, err, peak = tmp_path / "stdout", tmp_path / "stderr", tmp_path / "peak"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", _MEASURED, *args], cwd=tmp_path, stdout=stdout,
                                stderr=stderr, env=dict(os.environ, PEAK_FILE=str(peak)))
        deadline = time.monotonic() + KILL_AFTER
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                pytest.fail(f"archcalc {' '.join(a[:40] for a in args)} ran longer than {KILL_AFTER} s")
            time.sleep(0.01)
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    assert cpu < CPU_SECONDS, f"took {cpu:.1f} s of CPU"
    if peak.exists():  # Linux
        assert int(peak.read_text()) / 1024 < PEAK_MB, f"peak memory {int(peak.read_text()) / 1024:.0f} MB"
    return proc.returncode, out.read_text(errors="replace"), err.read_text(errors="replace")


def refused(tmp_path, name: str, content: str | bytes, *, layer: str | None = None,
            command: tuple[str, ...] = ("validate",)) -> str:
    """Write `content` to `name`, run the command on it, assert a one-line refusal; return that line."""
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    status, _, stderr = run_archcalc(tmp_path, *command, name)
    lines = stderr.splitlines()
    assert status == 2, stderr[-2000:]
    assert len(lines) == 1, stderr[-2000:]
    line = lines[0]
    assert line.isprintable(), line
    assert line.startswith(f"archcalc: error: {name[:40]}"), line
    if layer is not None:
        assert f": {layer}: " in line, line
    return line


WRONG_TAGS = ["!!int three", "!!int ''", "!!int 0.819", "!!float three", "!!float a:b", "!!bool maybe",
              "!!timestamp x", "!!map ab", "!!set [1, 2]", "!!int [1]", "!!str {a: 1}"]


@pytest.mark.parametrize("tagged", WRONG_TAGS)
def test_a_tag_on_the_wrong_value(tmp_path, tagged):
    line = refused(tmp_path, "tag.yaml", HEAD + f"layers: [{{type: relu, inplace: {tagged}}}]\n")
    assert "line 3" in line


@pytest.mark.parametrize("tagged", WRONG_TAGS)
def test_a_tag_on_the_wrong_value_at_the_document_root(tmp_path, tagged):
    refused(tmp_path, "root.yaml", tagged + "\n")


@pytest.mark.parametrize("value", ["!!set {4: null}", "{1: a, b: 2}", "!!binary aGVsbG8="])
def test_values_of_no_json_type_or_mixed_keys(tmp_path, value):
    refused(tmp_path, "odd.yaml", HEAD + f"layers: [{{name: c, type: conv, kernel_size: 1, out_channels: {value}}}]\n")


def test_mixed_key_types_in_a_hyper_parameter(tmp_path):
    refused(tmp_path, "pad.yaml", HEAD + "layers: [{name: c, type: conv, out_channels: 4, kernel_size: 1, "
                                         "padding: {1: a, b: 2}}]\n", layer="c")


@pytest.mark.parametrize(("name", "content"), [
    ("big.json", '{"name": "t", "input": [3, 8, 8], "layers": [{"type": "relu"}], "notes": ' + BIG + "}"),
    ("big.yaml", HEAD + f"notes: {BIG}\nlayers: [{{type: relu}}]\n"),
    ("big_input.yaml", f"name: t\ninput: [3, 8, {BIG}]\nlayers: [{{type: relu}}]\n"),
    ("hex.yaml", HEAD + f"notes: 0x{'f' * 4000}\nlayers: [{{type: relu}}]\n"),
    ("bin.yaml", HEAD + f"notes: 0b{'1' * 15000}\nlayers: [{{type: relu}}]\n"),
    ("sexagesimal.yaml", HEAD + f"notes: 1{':59' * 2500}\nlayers: [{{type: relu}}]\n"),
    ("channels.yaml", HEAD + f"layers: [{{type: conv, kernel_size: 1, out_channels: 0x{'f' * 4000}}}]\n"),
])
def test_integers_beyond_the_digit_limit(tmp_path, name, content):
    line = refused(tmp_path, name, content)
    assert "digits" in line


def test_many_unary_minus_signs(tmp_path):
    expression = "-" * 498 + "1"
    refused(tmp_path, "minus.yaml", HEAD + f"layers: [{{name: c, type: conv, kernel_size: 1, "
                                           f"out_channels: '{expression}'}}]\n", layer="c")


@pytest.mark.parametrize("expression", ["round(1, -10**15)", "round(1, -10**7)", "round(1.5, -10**15)"])
def test_round_to_a_huge_number_of_digits(tmp_path, expression):
    refused(tmp_path, "round.yaml", HEAD + f"layers: [{{name: c, type: conv, kernel_size: 1, "
                                           f"out_channels: '{expression}'}}]\n", layer="c")


def test_a_file_name_too_long_for_the_system(tmp_path):
    status, _, stderr = run_archcalc(tmp_path, "validate", "n" * 300 + ".yaml")
    assert status == 2 and len(stderr.splitlines()) == 1 and "n" * 40 in stderr


def test_an_extends_value_too_long_for_the_system(tmp_path):
    refused(tmp_path, "ext.yaml", f"extends: {'e' * 300}.yaml\n" + HEAD + "layers: [{type: relu}]\n")


# --- expansion -------------------------------------------------------------------------------

def test_nested_repeats_of_a_dropped_layer(tmp_path):
    text = HEAD + ("blocks:\n"
                   "  inner: {layers: [{type: relu, when: false}]}\n"
                   "  outer: {layers: [{type: inner, repeat: 100000}]}\n"
                   "layers: [{type: outer, repeat: 100000}]\n")
    assert "instances" in refused(tmp_path, "nested.yaml", text)


def test_a_repeated_dropped_layer_in_a_repeated_block(tmp_path):
    text = HEAD + ("blocks:\n"
                   "  b: {layers: [{type: relu, when: false, repeat: 100000}]}\n"
                   "layers: [{type: b, repeat: 100000}]\n")
    assert "instances" in refused(tmp_path, "dropped.yaml", text)


def test_a_binary_tree_of_blocks(tmp_path):
    blocks = "".join(f"  b{k}: {{layers: [{{type: b{k + 1}}}, {{type: b{k + 1}}}]}}\n" for k in range(31))
    text = HEAD + "blocks:\n" + blocks + "  b31: {layers: [{type: relu, when: false}]}\nlayers: [{type: b0}]\n"
    assert "instances" in refused(tmp_path, "tree.yaml", text)


def test_a_million_empty_instances(tmp_path):
    text = HEAD + ("blocks:\n"
                   "  e: {layers: [{type: relu, repeat: 0}]}\n"
                   "  ten: {layers: [{type: e, repeat: 1000}]}\n"
                   "layers: [{type: ten, repeat: 1000}]\n")
    assert "instances" in refused(tmp_path, "empty.yaml", text)


def test_a_long_from_list_through_an_alias_in_a_repeated_block(tmp_path):
    names = ", ".join(["r"] * 1000)
    text = HEAD + ("blocks:\n  b:\n    args: {names: &refs [" + names + "]}\n    layers:\n"
                   "      - {name: r, type: relu}\n"
                   "      - {name: cat, type: concat, from: *refs}\n"
                   "layers: [{type: b, repeat: 100000}]\n")
    assert "edges" in refused(tmp_path, "edges.yaml", text)


def test_many_args_times_a_long_repeat(tmp_path):
    args = ", ".join(f"a{k}: {k}" for k in range(5000))
    text = HEAD + f"args: {{{args}}}\nlayers: [{{type: relu, repeat: 100000}}, {{type: relu, repeat: 100000}}, " \
                  "{type: relu, repeat: 100000}]\n"
    assert "50,000 layers" in refused(tmp_path, "args.yaml", text)


def test_many_args_in_a_repeated_block(tmp_path):
    args = ", ".join(f"a{k}: {k}" for k in range(5000))
    text = HEAD + (f"args: {{{args}}}\nblocks:\n  b: {{args: {{w: 1}}, layers: [{{type: relu, when: false}}]}}\n"
                   "layers: [{type: b, repeat: 100000}, {type: b, repeat: 100000}, {type: b, repeat: 100000}]\n")
    assert "instances" in refused(tmp_path, "blockargs.yaml", text)


def test_many_block_args_times_a_long_repeat(tmp_path):
    # each instance binds every argument of its block: 5,000 × 100,000 bindings grew past 1.5 GB;
    # 5,000 × 200 is past the bound, and still under every other limit
    args = ", ".join(f"a{k}: {k}" for k in range(5000))
    text = HEAD + (f"blocks:\n  b: {{args: {{{args}}}, layers: [{{type: relu}}]}}\n"
                   "layers: [{type: b, repeat: 200}]\n")
    assert "block arguments bound" in refused(tmp_path, "bargs.yaml", text)


def test_many_calls_patterns(tmp_path):
    calls = "".join(f"  'relu:x{k}*': functional\n" for k in range(20000))
    text = HEAD + "calls:\n" + calls + "layers: [{type: relu, repeat: 100000}]\n"
    assert "calls" in refused(tmp_path, "calls.yaml", text)


def test_an_unknown_from_among_many_layers(tmp_path):
    text = HEAD + "layers:\n  - {type: relu, repeat: 49999}\n  - {name: last, type: relu, from: relu/5x999}\n"
    refused(tmp_path, "unknown.yaml", text, layer="last")


@pytest.mark.parametrize("entries", [
    "[{type: relu, repeat: 100000}, {type: relu, repeat: 100000}, {type: relu, repeat: 100000}]",
    "[{type: b, repeat: 100000}, {type: b, repeat: 100000}, {type: b, repeat: 100000}]",
])
def test_too_many_layers_are_refused_before_they_are_built(tmp_path, entries):
    text = HEAD + "blocks: {b: {layers: [{type: relu}, {type: relu}, {type: relu}]}}\nlayers: " + entries + "\n"
    assert "50,000 layers" in refused(tmp_path, "many.yaml", text)


# --- silently wrong, or not one line ---------------------------------------------------------

def test_duplicate_keys_in_json(tmp_path):
    text = '{"name": "t", "input": [3, 8, 8], "layers": [{"type": "relu"}], "name": "u"}'
    assert "duplicate key 'name'" in refused(tmp_path, "dup.json", text)


@pytest.mark.parametrize("name", ["a\nb", "a\rb", "a\x1b[31mb", "a\u2028b", "a\x85b"])
def test_control_characters_in_a_layer_name(tmp_path, name):
    text = json.dumps({"name": "t", "input": [3, 8, 8],
                       "layers": [{"name": name, "type": "conv", "kernel_size": 1, "out_channels": -1}]})
    line = refused(tmp_path, "ctl.json", text)
    assert "out_channels" in line


@pytest.mark.parametrize("name", ["bad\nname.yaml", "bad\rname.yaml", "bad\x1b[2Jname.yaml"])
def test_control_characters_in_a_file_name(tmp_path, name):
    (tmp_path / name).write_text(HEAD + "layers: [{type: conv, kernel_size: 1, out_channels: -1}]\n")
    status, _, stderr = run_archcalc(tmp_path, "validate", name)
    assert status == 2 and len(stderr.splitlines()) == 1 and stderr.rstrip("\n").isprintable(), stderr
    assert "bad" in stderr and "name.yaml" in stderr


# --- valid but big -----------------------------------------------------------------------------

def test_a_long_valid_repeat_through_the_json_table(tmp_path):
    (tmp_path / "long.yaml").write_text(HEAD + "layers: [{type: relu, repeat: 20000}]\n")
    status, stdout, stderr = run_archcalc(tmp_path, "table", "long.yaml", "--format", "json")
    assert status == 0, stderr
    assert len(json.loads(stdout)["layers"]) == 20001
