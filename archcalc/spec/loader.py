"""Bounded, safe reading of YAML and JSON architecture files.

A hostile file cannot run code (safe loader only), exhaust memory through alias expansion, or
recurse without end: size, aliases, nesting and the number of values after alias expansion are
capped, duplicate keys are refused, and every failure is a SpecError that names the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ALIASES = 200
MAX_NESTING = 40
MAX_VALUES = 200_000


#: PyYAML's safe loader, with its C parser (libyaml) where PyYAML was built with it: 5-10× faster.
_SafeLoader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def check_events(text: str) -> None:
    """Refuse many aliases or deep nesting from the parser's event stream, before anything is built
    (building recurses once per level)."""
    depth = aliases = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, _OPENS):
            depth += 1
            if depth > MAX_NESTING:
                raise SpecError(f"nested deeper than {MAX_NESTING} levels")
        elif isinstance(event, _CLOSES):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise SpecError(f"more than {MAX_ALIASES} YAML aliases")


class _BoundedLoader(_SafeLoader):
    """The safe loader, refusing duplicate keys."""

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise SpecError(f"duplicate key {key_node.value!r} at line {key_node.start_mark.line + 1}")
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def check_size(data: Any) -> None:
    """Refuse data with more than MAX_VALUES values or MAX_NESTING levels once aliases are expanded
    (a few lines of YAML aliases can stand for billions of values, or for a value containing itself)."""
    budget = MAX_VALUES
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise SpecError(f"more than {MAX_VALUES:,} values once YAML aliases are expanded")
        if depth > MAX_NESTING:
            raise SpecError(f"nested deeper than {MAX_NESTING} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def parse_text(text: str, source: str) -> Any:
    """Parse YAML (a superset of JSON) with the bounds above."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"file is larger than {MAX_FILE_BYTES // 1024} KiB", file=source)
    if "\x00" in text:
        raise SpecError("file is binary, not YAML or JSON", file=source)
    try:
        if source.endswith(".json"):
            data = json.loads(text)
        else:
            check_events(text)
            loader = _BoundedLoader(text)
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
        check_size(data)
        return data
    except SpecError as exc:
        raise exc.located(file=source) from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif isinstance(exc, json.JSONDecodeError):
            where = f" at line {exc.lineno}, column {exc.colno}"
        problem = getattr(exc, "problem", None) or getattr(exc, "msg", None) or "syntax error"
        raise SpecError(f"not valid {'JSON' if source.endswith('.json') else 'YAML'}{where}: {problem}",
                        file=source) from None
    except RecursionError:
        raise SpecError(f"nested deeper than {MAX_NESTING} levels", file=source) from None


def read_file(path: Path) -> Any:
    """Read and parse one file; errors name the file."""
    source = path.name
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"file is larger than {MAX_FILE_BYTES // 1024} KiB", file=source)
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("file is not UTF-8 text", file=source) from None
    return parse_text(text, source)
