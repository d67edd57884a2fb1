"""The one-pass YAML build (archcalc.spec.events) against PyYAML's own composition and construction:
the same values, of the same types, and the same line of every key and layer entry; and the full
loader, with its errors, wherever the one-pass build does not apply."""

from __future__ import annotations

import math
import re

import pytest
import yaml

from archcalc import zoo
from archcalc.errors import SpecError
from archcalc.spec import events, loader


def _full_loader(text: str, source: str) -> tuple:
    """What the loader built before the one-pass path: PyYAML's node graph, then its values."""
    bounded = loader._BoundedLoader(text)
    try:
        root = bounded.root = bounded.get_single_node()
        data = bounded.construct_document(root)
    finally:
        bounded.dispose()
    return data, loader._entry_lines(root, source)


def _one_pass(text: str) -> tuple | None:
    return events.build(text, "t.yaml", loader._SafeLoader, loader.MAX_NESTING, loader.MAX_VALUES,
                        loader.MAX_INT_DIGITS)


def _same(a, b) -> bool:
    """Equal with the same types all the way down (1, 1.0 and true are three different values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@pytest.mark.parametrize("name", [p.stem for p in sorted(zoo.zoo_dir().glob("*.yaml"))])
def test_every_zoo_file_is_built_in_one_pass_as_pyyaml_builds_it(name):
    text = (zoo.zoo_dir() / f"{name}.yaml").read_text()
    built = _one_pass(text)
    assert built is not None
    data, lines = _full_loader(text, "t.yaml")
    assert _same(built[0], data)
    assert built[1] == lines


SCALARS = """\
name: 'quoted'
ints: [0, -7, +3, 0x1F, 0o17, 017, 0b101, 1_000, "12", 1:30]
digits: [10, 250, 00, 010, 09, 0_1, ٣, ²]
floats: [1.5, 1e3, -.5, .inf, -.INF, .nan, 6.8523015e+5, 1_0.5]
truths: [true, True, yes, no, on, OFF, "true"]
nulls: [null, ~, Null, '', "null"]
empty:
nested: {a: [1, {b: [2, 3]}], c: {}}
layers:
  - {name: conv, type: conv, out_channels: 2 * width, kernel_size: 3}
  - name: relu
    type: relu
  - flatten
  - [1, 2]
blocks:
  basic:
    args: {out: null}
    layers:
      - {name: c, type: conv,
         out_channels: out}
  other: [1, 2]
"""


def test_scalars_of_every_kind_and_the_lines_of_entries_match_pyyaml():
    built = _one_pass(SCALARS)
    assert built is not None
    data, lines = _full_loader(SCALARS, "t.yaml")
    assert _same(built[0], data)
    assert built[1] == lines
    assert lines[("blocks", "basic", 0, "out_channels")] == ("t.yaml", 20)  # counted from the text above
    assert lines[("layers", 3)] == ("t.yaml", 14)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",                    # an anchor and an alias
    "a: !!str 1\n",                        # a tag
    "base: {x: 1}\nmore: {<<: {x: 1}}\n",  # a merge key
    "a: 1\na: 2\n",                        # a duplicate key
    "1: a\n01: b\n",                       # two keys of one value (1, the second in octal)
    "? [a, b]\n: 1\n",                     # a key that is not a scalar
    "when: 2001-12-14\n",                  # a timestamp
    "a: =\n",                              # the value key
    "a: 1\n---\nb: 2\n",                   # two documents
    "- 1\n- 2\n",                          # a top level that is not a mapping
    "a: [" + "[" * 60 + "]" * 60 + "]\n",  # deeper than the loader's limit
    "a: " + "9" * 500 + "\n",              # an integer too long to convert
    "a: " + "9" * 101 + "\n",              # an integer of more digits than the loader allows
    "a: " + "9" * 5_000 + "\n",            # more digits than Python converts to an integer by default
    "a: " + "[" * 39 + "1" + "]" * 39 + "\n",  # a value as deep as the loader's limit (41 levels)
    "a: [" + "0, " * 200_000 + "]\n",     # more values than the loader's limit (200,002)
    "a: [1, 2\n",                          # a syntax error
])
def test_anything_else_is_left_to_the_full_loader(text):
    assert _one_pass(text) is None


@pytest.mark.parametrize(("text", "message"), [
    ("a: 1\na: 2\n", "duplicate key 'a' at line 2"),
    ("a: [" + "[" * 60 + "]" * 60 + "]\n", "nested deeper than 40 levels"),
    ("a: !!int three\n", "the tag !!int does not fit 'three' at line 1"),
    ("a: " + "9" * 500 + "\n", "an integer of more than 100 digits at line 1"),
    ("a: " + "9" * 101 + "\n", "an integer of more than 100 digits"),
    ("a: " + "[" * 39 + "1" + "]" * 39 + "\n", "nested deeper than 40 levels"),
    ("a: [" + "0, " * 200_000 + "]\n", "more than 200,000 values"),
])
def test_the_full_loader_still_reports_what_is_wrong(text, message):
    with pytest.raises(SpecError, match=message):
        loader.parse_text(text, "t.yaml")


def test_a_loader_that_resolves_other_than_by_first_character_is_left_to_itself():
    class Wildcard(loader._SafeLoader):
        pass

    Wildcard.add_implicit_resolver("tag:yaml.org,2002:null", re.compile("nothing$"), None)  # any first character
    assert yaml.load("a: nothing\n", Loader=Wildcard) == {"a": None}
    assert events.build("a: nothing\n", "t.yaml", Wildcard, loader.MAX_NESTING, loader.MAX_VALUES,
                        loader.MAX_INT_DIGITS) is None
