"""Structure-aware mutation of architecture files for tools/fuzz.py.

`mutate(data, rng, vocabulary)` parses the file and changes its tree (values of other types, small
or absurd integers, hostile expressions, deleted, duplicated and added keys, other `type`, `from`,
`repeat`, deeper nesting), then sometimes edits the text (YAML tags, anchors, duplicate keys,
dropped lines). Integers are drawn small (−3..40) or absurd (≥ 10⁶): a value in between can make a
valid file of a hundred thousand layers, which is legitimate work, not a hostile input.
"""

from __future__ import annotations

import copy
import json
import random
import re
from dataclasses import dataclass, field

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

EXPRESSIONS = [
    "2*width", "10**12", "9**9**9", "10**15", "-10**15", "2**64", "1/0", "1 % 0", "i", "in_channels // 0",
    "round(1, -10**15)", "round(1, -10**7)", "round(10**15, 10**15)", "round(1e308*10)", "int(1e308*10)",
    "int(-1e308*10)", "abs(-10**15)", "max()", "min(1)", "len(1)", "len('x'*10**9)", "'a'*10**9", "[0]*10**8",
    "cfg[99]", "cfg[-10**15]", "layers[0:10**15]", "(1, 2)[5]", "__import__('os')", "x.y", "lambda: 1",
    "not not not 1", "1 if 2 else", "1e308 * 1e308", "2 ** -1", "0 ** -1", "(-8) ** 0.5", "1 < 2 < 3",
    "in_channels * 10**6", "int('9' * 4400)", "round(0.5, 10**15)", "max(1, 2, 3) // min(0, 1)",
]
SNIPPETS = [
    "!!int three", "!!int ''", "!!int 0.819", "!!float three", "!!float a:b", "!!bool maybe", "!!timestamp x",
    "!!map ab", "!!set [1, 2]", "!!set {4: null}", "!!omap [a: 1]", "!!pairs [[a, 1]]", "!!binary AAAA",
    "!!str 5", "!!null x", "!!seq a", "!!python/object:os.system x", "&a [*a]", "{1: a, b: 2}",
    "{[1]: 2}", "[[[[[[[[[[1]]]]]]]]]]", "0x" + "f" * 3600, "0b" + "1" * 14300, "1" + ":00" * 2500,
    "9" * 4400, "1e309", "-.inf", ".nan", "2001-12-14", "~", "'a\\nb'", '"a\\rb"', '"\\e[31mred"', '"\\ud800"',
    '"\\x00"', "*undefined", "? [a, b]", "<<: *a", "=", "|\n  x", "'" + "a" * 300 + "'",
]
STRINGS = ["", "input", "same", "valid", "a/b", "..", "-1", "none", "relu", "x" * 300, "a\nb", "a\rb",
           "\x1b[31mred", "\u2028", "\ufeffname", "../../etc/passwd", "*", "[", "{}", "layer1/0/conv1"]
STRUCTURAL = ["type", "name", "from", "repeat", "when", "args", "layers", "blocks", "defaults", "extends",
              "input", "output", "calls", "notes", "title", "zz"]


@dataclass
class Vocabulary:
    """Keys, names and layer types seen in the seed files: mutations reuse them to stay near-valid."""

    keys: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)

    def add(self, data) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                self.keys.add(str(key))
                if key == "name" and isinstance(value, str):
                    self.names.add(value)
                elif key == "type" and isinstance(value, str):
                    self.types.add(value)
                self.add(value)
        elif isinstance(data, list):
            for item in data:
                self.add(item)

    def frozen(self) -> Vocabulary:
        """The same vocabulary as sorted lists (a seeded generator then draws reproducibly)."""
        return Vocabulary(sorted(self.keys), sorted(self.names), sorted(self.types))


def integer(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.7:
        return rng.randint(-3, 40)
    if roll < 0.97:
        return rng.choice([1, -1]) * 10 ** rng.randint(6, 30) + rng.randint(0, 9)
    return 10 ** rng.randint(4300, 4400)


def value(rng: random.Random, vocabulary: Vocabulary, key=None, depth: int = 0):
    """A value for `key`: mostly one that fits the key, sometimes anything at all."""
    if key == "type" and rng.random() < 0.8:
        return rng.choice(vocabulary.types + vocabulary.names)
    if key == "from" and rng.random() < 0.8:
        count = rng.choice([1, 2, 3, rng.randint(4, 1000)])
        names = [rng.choice(vocabulary.names + ["input"]) for _ in range(count)]
        return names[0] if count == 1 else names
    if key in ("repeat", "when") and rng.random() < 0.5:
        return rng.choice([integer(rng), rng.choice(EXPRESSIONS), rng.random() < 0.5])
    kind = rng.randrange(9 if depth < 2 else 7)
    if kind == 0:
        return integer(rng)
    if kind == 1:
        return rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, 0.5, -0.0, 2.5])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind in (3, 4):
        return rng.choice(EXPRESSIONS)
    if kind == 5:
        return rng.choice(STRINGS + vocabulary.names + vocabulary.types)
    if kind == 6:
        return "-" * rng.randint(1, 498) + "1"
    if kind == 7:
        return [value(rng, vocabulary, None, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(vocabulary.keys): value(rng, vocabulary, None, depth + 1) for _ in range(rng.randint(0, 3))}


def _containers(data, found: list) -> list:
    """Every dict and list inside `data`, found in place so that they can be changed."""
    found.append(data)
    for child in (data.values() if isinstance(data, dict) else data):
        if isinstance(child, dict | list):
            _containers(child, found)
    return found


def mutate_tree(data, rng: random.Random, vocabulary: Vocabulary) -> None:
    """One to four changes to the parsed file, in place."""
    for _ in range(rng.randint(1, 4)):
        containers = _containers(data, [])
        target = rng.choice(containers)
        action = rng.randrange(6)
        if isinstance(target, dict):
            keys = list(target)
            key = rng.choice(keys) if keys else rng.choice(STRUCTURAL)
            if action <= 1 or not keys:
                target[key] = value(rng, vocabulary, key)
            elif action == 2:
                del target[key]
            elif action == 3:
                new = rng.choice(STRUCTURAL + vocabulary.keys)
                target[new] = value(rng, vocabulary, new)
            elif action == 4:
                target[key] = copy.deepcopy(rng.choice(containers))
            else:
                target[key] = [target[key]] if rng.random() < 0.5 else {rng.choice(vocabulary.keys): target[key]}
        elif target:
            index = rng.randrange(len(target))
            if action <= 1:
                target[index] = value(rng, vocabulary)
            elif action == 2:
                del target[index]
            elif action == 3:
                target[index:index] = [copy.deepcopy(target[index])] * rng.choice([1, 2, 50])
            elif action == 4 and isinstance(target[index], dict):
                target[index]["repeat"] = value(rng, vocabulary, "repeat")
            else:
                rng.shuffle(target)
        else:
            target.append(value(rng, vocabulary))


def mutate_text(text: str, rng: random.Random) -> str:
    """A line-level change: a YAML tag or other snippet as a value, a duplicated, dropped or cut line."""
    lines = text.split("\n")
    index = rng.randrange(len(lines))
    action = rng.randrange(5)
    if action <= 1:
        match = re.match(r"^(\s*(?:- )?[^:#]+:\s*)(.*)$", lines[index])
        head = match.group(1) if match else lines[index] + " "
        lines[index] = head + rng.choice(SNIPPETS)
    elif action == 2:
        lines.insert(index, lines[index])
    elif action == 3:
        del lines[index]
    else:
        lines[index] = lines[index][: rng.randrange(len(lines[index]) + 1)]
    return "\n".join(lines)


def mutate(data: bytes, rng: random.Random, vocabulary: Vocabulary) -> bytes:
    """A mutant of `data` (a YAML or JSON file); `data` itself when it cannot be parsed."""
    text = data.decode("utf-8", errors="replace")
    try:
        tree = yaml.load(text, Loader=_LOADER)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        tree = None
    if isinstance(tree, dict | list) and rng.random() < 0.8:
        mutate_tree(tree, rng, vocabulary)
        try:
            if rng.random() < 0.25:
                text = json.dumps(tree, indent=1, default=str)
            else:
                text = yaml.dump(tree, Dumper=_DUMPER, sort_keys=False, allow_unicode=rng.random() < 0.5, width=1000)
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            pass
    if rng.random() < 0.3:
        text = mutate_text(text, rng)
    return text.encode("utf-8", errors="surrogatepass")
