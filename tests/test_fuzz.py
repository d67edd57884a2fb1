"""Hostile and broken files: whatever comes in, only an ArchcalcError comes out, and quickly.

Inputs: random bytes, truncated zoo files, zoo files with random key/value mutations or YAML tags
on values they cannot convert, deep nesting, YAML alias bombs and huge repeats. (tools/fuzz.py is
the long, coverage-guided run; tests/test_fuzz_corpus.py keeps what it found.) Each example must
finish within the deadline.

The harness itself: a short run of every surface of tools/fuzz.py finds nothing, and defects planted
in what a surface runs (code that runs a payload, reads through a link, leaks the secret into an
output or a written file, overwrites a sheet, writes an import that does not load back, raises an
error naming no file) are each reported as the finding they are.

Mutated integers are drawn small (−3..40) or absurd (≥ 10⁶): a value in between can make a valid
file of a hundred thousand layers, which is legitimate work, not a hostile input.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import archcalc
from archcalc import zoo
from archcalc.errors import ArchcalcError

DEADLINE_MS = 2000
FUZZ = settings(deadline=DEADLINE_MS, max_examples=60, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ZOO = {p.name: p.read_text() for p in sorted(zoo.zoo_dir().iterdir()) if p.suffix == ".yaml"}
# Mutations of a file that `extends` another are checked on the file itself (its parent is in the zoo).
ZOO_NAMES = sorted(ZOO)


def run(source, text=None):
    """Load and analyze; anything but an ArchcalcError fails the test."""
    try:
        if text is None:
            archcalc.analyze(archcalc.load(source))
        else:
            archcalc.analyze(archcalc.load(source, text=text))
    except ArchcalcError as error:
        message = str(error)
        assert message and "\n" not in message and "Traceback" not in message


@given(st.binary(max_size=2000))
@FUZZ
def test_random_bytes(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.yaml"
        path.write_bytes(data)
        run(str(path))


@given(st.text(max_size=300))
@FUZZ
def test_random_text(text):
    run("random.yaml", text)


@given(st.sampled_from(ZOO_NAMES), st.floats(0, 1))
@FUZZ
def test_truncated_zoo_files(name, fraction):
    text = ZOO[name]
    run(name, text[: int(len(text) * fraction)])


VALUES = st.one_of(
    st.integers(-3, 40),
    st.integers(10**6, 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["2*width", "10**12", "9**9**9", "in_channels*10**6", "i", "input", "same", "valid",
                     "stem", "layer1", "conv1", "a/b", "", "-1", "cfg[99]", "1/0", "__import__('os')",
                     "relu", "conv", "add", "concat", "maxpool", "linear", "flatten", "batchnorm"]),
    st.lists(st.integers(-2, 64), max_size=5),
    st.dictionaries(st.sampled_from(["type", "name", "from", "repeat", "out_channels", "x"]),
                    st.integers(-2, 64), max_size=3),
)


def _containers(data, found):
    """Every dict and list inside `data` (found in place, so they can be mutated)."""
    found.append(data)
    children = data.values() if isinstance(data, dict) else data
    for child in children:
        if isinstance(child, dict | list):
            _containers(child, found)
    return found


@st.composite
def mutated_zoo_file(draw):
    name = draw(st.sampled_from(ZOO_NAMES))
    data = copy.deepcopy(yaml.safe_load(ZOO[name]))
    for _ in range(draw(st.integers(1, 3))):
        containers = _containers(data, [])
        target = draw(st.sampled_from(containers))
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target, key=str)))
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                target[key] = draw(VALUES)
            elif action == "delete":
                del target[key]
            else:
                target[draw(st.sampled_from(["type", "from", "repeat", "when", "stride", "groups", "zz"]))] = \
                    draw(VALUES)
        elif isinstance(target, list) and target:
            index = draw(st.integers(0, len(target) - 1))
            action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
            if action == "replace":
                target[index] = draw(VALUES)
            elif action == "delete":
                del target[index]
            else:
                target.insert(index, copy.deepcopy(target[index]))
    return name, data


@given(mutated_zoo_file())
@FUZZ
def test_mutated_zoo_files(case):
    name, data = case
    run(name, yaml.safe_dump(data))


TAGGED = ["!!int three", "!!int ''", "!!int 0.819", "!!float three", "!!float a:b", "!!bool maybe", "!!timestamp x",
          "!!map ab", "!!set [1, 2]", "!!set {4: null}", "!!binary AAAA", "!!str 5", "!!omap [a: 1]", "!!null x",
          "{1: a, b: 2}", "&a [1, *a]", "'a\\nb'", '"a\\rb"', '"\\e[31m"']


@given(st.sampled_from(ZOO_NAMES), st.integers(0, 10**6), st.sampled_from(TAGGED))
@settings(FUZZ, max_examples=30, phases=[Phase.explicit, Phase.generate])  # a failure at once, unshrunk
def test_tagged_values(name, index, value):
    lines = ZOO[name].split("\n")
    keyed = [i for i, line in enumerate(lines) if re.match(r"^\s*[\w-]+: \S", line)]
    line = keyed[index % len(keyed)]
    lines[line] = lines[line].split(": ")[0] + ": " + value
    run(name, "\n".join(lines))


@given(st.integers(41, 5000), st.sampled_from(["[", "{a: ", "- "]))
@settings(FUZZ, max_examples=20)
def test_deep_nesting(depth, opener):
    text = opener * depth
    run("deep.yaml", text)
    run("deep.json", text)


@given(st.integers(3, 12), st.integers(2, 12))
@settings(FUZZ, max_examples=20)
def test_alias_bombs(levels, width):
    lines = ["name: bomb", "input: [1, 8, 8]", "args:", "  l0: &l0 [1]"]
    lines += [f"  l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * width) + "]" for k in range(1, levels)]
    lines += [f"layers: [{{type: relu, when: 'len(l{levels - 1}) > 0'}}]"]
    run("bomb.yaml", "\n".join(lines))


@given(st.integers(10**4, 10**9), st.integers(10**4, 10**9), st.sampled_from(["relu", "conv"]))
@settings(FUZZ, max_examples=10)
def test_huge_repeats(outer, inner, kind):
    text = f"""
name: huge
input: [1, 8, 8]
blocks:
  b: {{layers: [{{type: {kind}, out_channels: 1, kernel_size: 1, repeat: {inner}}}]}}
layers: [{{name: s, type: b, repeat: {outer}}}]
"""
    if kind == "relu":
        text = text.replace(", out_channels: 1, kernel_size: 1", "")
    run("huge.yaml", text)


# ---- the harness, tools/fuzz.py ----------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"


@pytest.mark.parametrize(("surface", "runs", "counts"), [
    ("all", 200, "per surface: onnx 50, keras 50, sheets 50, folders 50"), ("arch", 40, "per surface: arch 40")])
def test_a_short_run_of_each_surface_finds_nothing(surface, runs, counts, tmp_path):
    if surface == "all":
        pytest.importorskip("onnx")
    run = subprocess.run([sys.executable, str(TOOLS / "fuzz.py"), "--surface", surface, "--engine", "random",
                          "--runs", str(runs), "--jobs", "1", "--seconds", "600", "--seed", "3",
                          "--corpus", str(tmp_path / "corpus"), "--crashes", str(tmp_path / "crashes")],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f" {runs} inputs in " in run.stdout and counts in run.stdout, run.stdout


BROKEN = "name: n\ninput: [1, 8, 8]\nlayers: [{type: conv}]\n"


def planted_findings() -> dict:
    """Run in a child process (the harness's audit hook stays in the process it is added to): each
    defect planted in a surface's run, checked by the harness on one input; {defect: [kind, key] or None}."""
    sys.path.insert(0, str(TOOLS))
    import fuzz
    import fuzz_hostile
    from fuzz_surfaces import Sandbox, Surface

    import archcalc.interop.yaml_writer
    from archcalc.errors import ArchcalcError

    root = Path(tempfile.mkdtemp())
    sandbox = Sandbox(root)
    os.chdir(sandbox.folder)
    real = fuzz.surfaces_of("all", root / "corpus")
    sheet = (ROOT / "tests" / "hostile" / "folders" / "names" / "01.csv").read_bytes()
    folder = json.dumps({"entries": [["file", "ada.csv", sheet.decode()], ["secret-link", "up.csv"],
                                     ["absolute-secret-link", "abs.csv"], ["fifo", "pipe.csv"]]}).encode()
    model = (ROOT / "tests" / "hostile" / "keras" / "version-injection.json").read_bytes()

    def raises(path, box):
        raise ArchcalcError("something is wrong")

    def overwrites(path, box):
        for entry in path.iterdir():
            if entry.is_file() and not entry.is_symlink():
                entry.write_text("graded")
        return []

    plants = {
        "clean sheet": (real["sheets"], sheet),
        "clean folder": (real["folders"], folder),
        "clean import": (real["keras"], model),
        "runs code": (real["sheets"], f"{fuzz_hostile.PAYLOADS[1]}".encode(),
                      lambda path, box: [str(eval(path.read_text()))]),
        "follows links": (real["folders"], folder,
                          lambda path, box: [p.read_text() for p in sorted(path.iterdir()) if p.is_file()]),
        "leaks to output": (real["sheets"], sheet, lambda path, box: [subprocess.run(
            ["cat", "../" + fuzz_hostile.SECRET], capture_output=True, text=True).stdout]),
        "leaks to a file": (real["sheets"], sheet, lambda path, box: [subprocess.run(
            ["cp", "../" + fuzz_hostile.SECRET, str(box.out / "feedback.md")]).args[0]]),
        "overwrites a sheet": (real["folders"], folder, overwrites),
        "unnamed error": (real["keras"], model, raises),
        "import not loadable": (real["keras"], model, "broken writer"),
    }
    found = {}
    for name, (surface, data, *run) in plants.items():
        if run == ["broken writer"]:              # the written file: a convolution without its channels
            archcalc.interop.yaml_writer.loadable = lambda text, source: BROKEN
            run = []
        if run:
            surface = Surface(surface.name, surface.seeds, surface.vocabulary, surface.mutate, surface.file_name,
                              run[0])
        finding = fuzz.check(surface, sandbox.write(surface, data), sandbox)
        found[name] = finding and [finding["kind"], finding["key"]]
    return found


def test_the_harness_reports_each_planted_defect():
    code = "import json, test_fuzz; print(json.dumps(test_fuzz.planted_findings()))"
    here = Path(__file__).parent
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=here,
                           env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(here), str(ROOT)])))
    assert child.returncode == 0, child.stderr[-3000:]
    found = json.loads(child.stdout.splitlines()[-1])
    kind, key = found.pop("unnamed error")
    assert kind == "message" and key.startswith("keras: message does not name the file (ArchcalcError at test_fuzz.py:")
    assert found == {
        "clean sheet": None,
        "clean folder": None,
        "clean import": None,
        "runs code": ["canary", "sheets: canary file created (code ran)"],
        "follows links": ["canary", "folders: canary secret opened"],
        "leaks to output": ["canary", "sheets: canary secret in an output"],
        "leaks to a file": ["canary", "sheets: canary secret in a written file"],
        "overwrites a sheet": ["overwrite", "folders: a sheet of the folder overwritten"],
        "import not loadable": ["roundtrip", "keras: written file does not load back (SpecError)"],
    }
