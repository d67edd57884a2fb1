"""Hostile and broken files: whatever comes in, only an ArchcalcError comes out, and quickly.

Inputs: random bytes, truncated zoo files, zoo files with random key/value mutations or YAML tags
on values they cannot convert, deep nesting, YAML alias bombs and huge repeats. (tools/fuzz.py is
the long, coverage-guided run; tests/test_fuzz_corpus.py keeps what it found.) Each example must
finish within the deadline.

Mutated integers are drawn small (−3..40) or absurd (≥ 10⁶): a value in between can make a valid
file of a hundred thousand layers, which is legitimate work, not a hostile input.
"""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path

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
