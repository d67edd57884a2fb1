"""Bounded, safe reading of YAML and JSON architecture files.

A hostile file cannot run code (safe loader only), exhaust memory through alias expansion, or
recurse without end: size, aliases, nesting, integer digits and the number of values after alias
expansion are capped, duplicate keys are refused (in JSON too), values are JSON's types, and every
failure is a SpecError that names the file. A plain file (no tags, anchors or duplicate keys) is
built in one pass over the parser's events (`events`); any other goes through PyYAML's composer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from bisect import bisect_left
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from ..errors import SpecError, shorten
from . import events

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
        for index, (key_node, _) in enumerate(node.value):
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise self._duplicate(node, index)
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)

    def _duplicate(self, node: yaml.MappingNode, index: int) -> SpecError:
        """A key written twice; in a list item, a second `name` or `type` is most likely the next layer
        written without its '- '."""
        key = node.value[index][0]
        message = f"duplicate key {key.value!r} at line {key.start_mark.line + 1}"
        if key.value in ("name", "type") and not node.flow_style and _is_item(self.root, node):
            before = node.value[index - 1][0] if index else None
            if key.value == "type" and isinstance(before, yaml.ScalarNode) and before.value == "name":
                key = before  # the next layer starts with its name
            message += (f"; did you forget '- ' before line {key.start_mark.line + 1}? "
                        "(each layer of a list starts with '- ')")
        return SpecError(message)


def _is_item(root: yaml.Node | None, wanted: yaml.Node) -> bool:
    """Whether `wanted` is an item of a list somewhere under `root`."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            if any(item is wanted for item in node.value):
                return True
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(value for _, value in node.value)
    return False


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


class Document(dict):
    """A file's top-level mapping with `lines`: (key path) → (file, line) of the entries errors name:
    each top-level key (`("input",)`), each layer entry (`("layers", 3)`) and each block's layer
    entry (`("blocks", "basic", 0)`), and each key of those entries (`("layers", 3, "kernel_size")`);
    and `files`: every file it was read from (`FileRead`), itself first, then those it `extends`."""

    lines: dict[tuple, tuple[str, int]]
    files: tuple[FileRead, ...] = ()


class FileRead(NamedTuple):
    """A file an architecture was read from: the name that found it (a file that `extends` another:
    its `extends` value and the folder it was looked for from; the file read first: None), where it
    is and the SHA-256 of its bytes, so that a result kept for it can be checked against it later."""

    reference: str | None
    folder: str | None
    path: str
    sha256: str


def _entry_lines(root: yaml.Node | None, source: str) -> dict[tuple, tuple[str, int]]:
    lines: dict[tuple, tuple[str, int]] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        lines[(key.value,)] = (source, key.start_mark.line + 1)
        if key.value == "layers":
            lines.update(_item_lines(value, ("layers",), source))
        elif key.value == "blocks" and isinstance(value, yaml.MappingNode):
            for name, block in value.value:
                for block_key, items in block.value if isinstance(block, yaml.MappingNode) else ():
                    if block_key.value == "layers":
                        lines.update(_item_lines(items, ("blocks", name.value), source))
    return lines


def _item_lines(node: yaml.Node, prefix: tuple, source: str) -> dict[tuple, tuple[str, int]]:
    """The line of each item of a list of layer entries, and of each key of those entries."""
    lines: dict[tuple, tuple[str, int]] = {}
    for index, item in enumerate(node.value if isinstance(node, yaml.SequenceNode) else ()):
        lines[(*prefix, index)] = (source, item.start_mark.line + 1)
        for key, _ in item.value if isinstance(item, yaml.MappingNode) else ():
            if isinstance(key, yaml.ScalarNode):
                lines[(*prefix, index, key.value)] = (source, key.start_mark.line + 1)
    return lines


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')


def _json_entry_lines(text: str, source: str) -> dict[tuple, tuple[str, int]]:
    """`_entry_lines` of a JSON file, whose parser keeps no positions: a scan of the strings and
    punctuation of the text (valid JSON by now) that follows the path of every value."""
    breaks = [match.start() for match in re.finditer("\n", text)]
    lines: dict[tuple, tuple[str, int]] = {}
    stack: list[list] = []  # per open container: its path, the key or index inside it, whether a key is next
    for match in _JSON_TOKEN.finditer(text):
        token, top = match.group(), (stack[-1] if stack else None)
        if token in "{[":
            path = (*top[0], top[1]) if top else ()
            entry = _layer_entry(path)
            if token == "{" and entry:
                lines[entry] = (source, bisect_left(breaks, match.start()) + 1)
            stack.append([path, 0 if token == "[" else None, token == "{"])
        elif token in "}]":
            stack.pop()
        elif token == ",":
            if isinstance(top[1], int):
                top[1] += 1
            else:
                top[2] = True
        elif token == ":":
            top[2] = False
        elif top is not None and top[2]:
            top[1] = json.loads(token)
            entry = (top[1],) if len(stack) == 1 else _layer_entry(top[0])
            if entry is not None:
                lines[entry if len(stack) == 1 else (*entry, top[1])] = (source, bisect_left(breaks, match.start()) + 1)
    return lines


def _layer_entry(path: tuple) -> tuple | None:
    """The `lines` key of a layer entry at this JSON path (`layers.3`, `blocks.basic.layers.0`)."""
    if len(path) == 2 and path[0] == "layers":
        return path
    if len(path) == 4 and path[0] == "blocks" and path[2] == "layers":
        return ("blocks", path[1], path[3])
    return None


def merged_lines(parent: dict, child: dict) -> dict[tuple, tuple[str, int]]:
    """The `lines` of a file that `extends` a parent: the child's, and the parent's where the
    merged file still has the parent's value (its layers, a block the child does not redefine)."""
    replaced = {key for key in child if key != "blocks"}  # in one pass over the parent's lines
    blocks = child.get("blocks")
    redefined = {("blocks", name) for name in blocks} if isinstance(blocks, dict) else set()
    lines = {k: v for k, v in getattr(parent, "lines", {}).items()
             if k[0] not in replaced and (not redefined or k[:2] not in redefined)}  # most redefine no block
    lines.update(getattr(child, "lines", {}))
    return lines


def line_of(lines: dict[tuple, tuple[str, int]], where: str) -> tuple[str, int] | None:
    """The (file, line) of the deepest entry on a dotted key path (`layers.3.kernel_size`)."""
    parts = tuple(int(p) if p.isdigit() else p for p in where.split("."))
    return next((lines[parts[:n]] for n in range(len(parts), 0, -1) if parts[:n] in lines), None)


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
        fast = None if source.endswith(".json") else \
            events.build(text, source, _SafeLoader, MAX_NESTING, MAX_VALUES, MAX_INT_DIGITS)
        if fast is not None:
            data = Document(fast[0])  # within the bounds of check_size by construction
            data.lines = fast[1]
            return data
        if source.endswith(".json"):
            data = json.loads(text, parse_int=_json_int, object_pairs_hook=_json_object)
            if isinstance(data, dict):
                data = Document(data)
                data.lines = _json_entry_lines(text, source)
        else:
            check_events(text)
            loader = _BoundedLoader(text)
            try:
                root = loader.root = loader.get_single_node()
                data = loader.construct_document(root) if root is not None else None
            finally:
                loader.dispose()
            if isinstance(data, dict):
                data = Document(data)
                data.lines = _entry_lines(root, source)
        check_size(data)
        return data
    except SpecError as exc:
        raise exc.located(file=source) from None
    except yaml.MarkedYAMLError as exc:
        raise syntax_error(exc, text, source) from None
    except json.JSONDecodeError as exc:
        raise json_error(exc, source) from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "msg", None) or "syntax error"
        raise SpecError(f"not valid YAML: {problem}", file=source) from None
    except RecursionError:
        raise SpecError(f"nested deeper than {MAX_NESTING} levels", file=source) from None


def json_error(exc: json.JSONDecodeError, source: str) -> SpecError:
    """A JSON syntax error with its line; a comma before a closing bracket (which YAML and Python allow
    and JSON does not) said as such, on the comma's line."""
    before = exc.doc[:exc.pos].rstrip()
    if before.endswith(",") and exc.doc[exc.pos:exc.pos + 1] in ("]", "}"):
        line = before.count("\n") + 1
        return SpecError(f"not valid JSON: a trailing comma at line {line} (JSON allows no ',' before "
                         f"'{exc.doc[exc.pos]}'; remove it)", file=source)
    return SpecError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=source)


def syntax_error(exc: yaml.MarkedYAMLError, text: str, source: str) -> SpecError:
    """A YAML syntax error in plain words, with its likely cause and the line it is on:
    `t.yaml:5:4: not valid YAML: ... (line 5, indented 3 spaces: "out_channels: 6")`."""
    context = str(exc.context or "")
    opened = exc.context_mark is not None and ("quoted scalar" in context or "flow" in context)
    mark = exc.context_mark if opened else exc.problem_mark
    lines = text.splitlines()
    number = min(mark.line, len(lines) - 1) if lines else 0
    line = lines[number] if lines else ""
    words = _likely_cause(exc, lines, number) or f"{exc.problem}"
    shown = ""
    if line.strip():
        body = line.lstrip(" ").rstrip().replace("\t", "\\t")
        indent = f", indented {_indent(line)} spaces" if _indent(line) else ""
        shown = f' (line {number + 1}{indent}: "{shorten(body)}")'
    return SpecError(f"not valid YAML: {words}{shown}", file=source, line=number + 1, column=mark.column + 1)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _likely_cause(exc: yaml.MarkedYAMLError, lines: list[str], number: int) -> str | None:
    """What a student most likely did, judged from the text (PyYAML's two parsers word it apart)."""
    line = lines[number] if number < len(lines) else ""
    problem, context = str(exc.problem), str(exc.context or "")
    if any("\t" in lines[n] for n in range(max(number - 1, 0), min(number + 1, len(lines)))):
        return "a tab; YAML indents with spaces only (replace the tab with spaces)"
    if "quoted scalar" in context:
        return "a quote that is never closed"
    if "flow" in context:
        return "a [ or { that is never closed (or a missing comma between its items)"
    above = next((lines[n] for n in range(number - 1, -1, -1) if lines[n].strip()), "")
    if problem.startswith("mapping values are not allowed"):
        if ": " in line.split(": ", 1)[-1]:
            return "a value containing ': ' must be quoted (write key: \"a: b\")"
        if above and ":" not in above:
            return "the line above has no ':' after its key"
        return "this line is indented deeper than the keys above it; the keys of one layer must line up"
    item = line.lstrip().startswith("- ")
    dash = next((_indent(lines[n]) for n in range(number - 1, -1, -1) if lines[n].lstrip().startswith("- ")), None)
    if "block collection" in context and not item and _indent(line) == dash:
        return "a missing '-': each layer in a list starts with '- '"
    if ("block collection" in context or "block mapping" in context) and item and dash is not None:
        return (f"this '- ' item starts in column {_indent(line) + 1}, the items above it in column {dash + 1}: "
                "the items of one list must line up")
    if "block collection" in context or "block mapping" in context:
        keys = _indent(above) + (2 if above.lstrip().startswith("- ") else 0)
        return (f"this key starts in column {_indent(line) + 1}, the keys above it in column {keys + 1}: "
                "the keys of one layer must line up")
    return None


def read_file(path: Path, resolved: str | None = None) -> Any:
    """Read and parse one file (`resolved`: its absolute path, where known); errors name the file."""
    source = path.name
    try:
        with open(path, "rb") as file:  # its size from the open file: one look-up of the path, not two
            if os.fstat(file.fileno()).st_size > MAX_FILE_BYTES:
                raise SpecError(f"file is larger than {MAX_FILE_BYTES // 1024} KiB", file=source)
            raw = file.read()
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("file is not UTF-8 text", file=source) from None
    data = parse_text(text, source)
    if isinstance(data, Document):
        data.files = (FileRead(None, None, resolved or real_path(path), hashlib.sha256(raw).hexdigest()),)
    return data


def real_path(path: Path) -> str:
    """The absolute path of an existing file, its links resolved: `str(path.resolve())` without the
    Path object and the second look-up of the file that `resolve` makes to report a loop of links
    (a file just found or read is in none)."""
    return os.path.realpath(path)
