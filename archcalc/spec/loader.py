"""Bounded, safe reading of YAML and JSON architecture files.

A hostile file cannot run code (safe loader only), exhaust memory through alias expansion, or
recurse without end: size, aliases, nesting, integer digits and the number of values after alias
expansion are capped, duplicate keys are refused (in JSON too), values are JSON's types, and every
failure is a SpecError that names the file.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError, shorten

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ALIASES = 200
MAX_NESTING = 40
MAX_VALUES = 200_000
MAX_INT_DIGITS = 100
_MAX_INT = 10**MAX_INT_DIGITS
_VALUE_TYPES = (str, int, float, type(None))  # with dict and list: JSON's types (bool is an int)
_INT_TAG = "tag:yaml.org,2002:int"


#: PyYAML's safe loader, with its C parser (libyaml) where PyYAML was built with it: 5-10× faster.
_SafeLoader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def check_events(text: str) -> None:
    """Refuse many aliases or deep nesting from the parser's event stream, before anything is built
    (building recurses once per level)."""
    try:
        _count_events(text, _SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # libyaml has a nesting limit of its own (1,000 levels in some releases), which reading
        # ahead can reach before the first event: the pure-Python parser, which has none, reads
        # the same text up to the error, so that archcalc's limit is the one reported.
        mark = exc.problem_mark
        if _SafeLoader is not yaml.SafeLoader and mark is not None:
            with contextlib.suppress(yaml.YAMLError):
                _count_events(text[:mark.index + 1], yaml.SafeLoader)
        raise


def _count_events(text: str, loader: type) -> None:
    depth = aliases = 0
    for event in yaml.parse(text, Loader=loader):
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
    """The safe loader, refusing duplicate keys, over-long integers and tags that do not fit
    their value (`!!int three`, `!!set [1, 2]`) in one line rather than with PyYAML's exceptions."""

    def construct_object(self, node, deep=False):  # noqa: D401 - PyYAML hook
        if node.tag == _INT_TAG and isinstance(node, yaml.ScalarNode) and len(node.value) > 4 * MAX_INT_DIGITS:
            raise _too_long(node.value, node)
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError, AttributeError, IndexError, TypeError, OverflowError):
            raise _misfit(node) from None

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        if not isinstance(node, yaml.MappingNode):
            raise _misfit(node)
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise SpecError(f"duplicate key {key_node.value!r} at line {key_node.start_mark.line + 1}")
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def _misfit(node: yaml.Node) -> SpecError:
    what = repr(shorten(node.value)) if isinstance(node, yaml.ScalarNode) else f"a {node.id}"
    return SpecError(f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} does not fit {what} "
                     f"at line {node.start_mark.line + 1}")


def _too_long(digits: str, node: yaml.Node | None = None) -> SpecError:
    where = f" at line {node.start_mark.line + 1}" if node is not None else ""
    return SpecError(f"an integer of more than {MAX_INT_DIGITS} digits{where} ({digits[:20]}...)")


def _json_int(digits: str) -> int:
    if len(digits) > MAX_INT_DIGITS + 1:
        raise _too_long(digits)
    return int(digits)


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) < len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise SpecError(f"duplicate key {duplicate!r}")
    return data


def check_size(data: Any) -> None:
    """Refuse data with more than MAX_VALUES values or MAX_NESTING levels once aliases are expanded
    (a few lines of YAML aliases can stand for billions of values, or for a value containing itself),
    values of other than JSON's types, and integers of more than MAX_INT_DIGITS digits."""
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
            for key in item:
                _check_scalar(key)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        else:
            _check_scalar(item)


def _check_scalar(item: Any) -> None:
    if not isinstance(item, _VALUE_TYPES):
        raise SpecError(f"a value of type {type(item).__name__} is not allowed (only mappings, lists, "
                        "strings, numbers, booleans and null)")
    if isinstance(item, int) and not -_MAX_INT < item < _MAX_INT:
        raise _too_long(hex(item))


def parse_text(text: str, source: str) -> Any:
    """Parse YAML (a superset of JSON) with the bounds above."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"file is larger than {MAX_FILE_BYTES // 1024} KiB", file=source)
    if "\x00" in text:
        raise SpecError("file is binary, not YAML or JSON", file=source)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SpecError(f"text is not valid Unicode (a lone surrogate at character {exc.start + 1})",
                        file=source) from None
    try:
        if source.endswith(".json"):
            data = json.loads(text, parse_int=_json_int, object_pairs_hook=_json_object)
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
