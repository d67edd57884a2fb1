"""The common YAML file built in one pass over the parser's events: no node graph, no second parse.

PyYAML's safe loader parses a file, composes a graph of nodes (with their positions) and then
builds the values from it; the bounds of `loader` read the events once more before that. For a
file of plain mappings, lists and untagged scalars this module builds the same values, and the
same `lines` (`loader.Document`), straight from one stream of events, with the same scalar
resolution and construction. It gives up (returns None) on anything else: a tag, an anchor or
alias, a merge key, a duplicate key, a key that is not a scalar, a scalar that is not a string,
integer, number, truth value or null, a parse error, more than one document, a value as deep as
the loader's limit on nesting, more values than its limit or an integer of more digits than it
allows. The loader then reads the file its own, slower way, which reports whatever is wrong exactly
as before. What this module builds is therefore within the loader's bounds (`loader.check_size`).
"""

from __future__ import annotations

from typing import Any

import yaml

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_SCALARS = (_INT, "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null")


_SCALAR, _MAPPING, _SEQUENCE = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
_MAPPING_END, _SEQUENCE_END = yaml.MappingEndEvent, yaml.SequenceEndEvent
_NEW = object()


class _GiveUp(Exception):
    """Something the fast path does not build."""


def build(text: str, source: str, loader: type, max_nesting: int, max_values: int,
          max_int_digits: int) -> tuple[dict, dict] | None:
    """(data, lines) of `text` (a top-level mapping), as the safe `loader` and `loader._entry_lines`
    would make them for the file `source`; None where the file needs the full loader, or passes a bound:
    nesting, values (the mapping itself, each list item and each mapping value) or integer digits."""
    parser = loader(text)
    try:
        return _Builder(parser, source, max_nesting, max_values, max_int_digits).run()
    except (_GiveUp, yaml.YAMLError):
        return None
    finally:
        parser.dispose()


class _Builder:
    def __init__(self, parser: Any, source: str, max_nesting: int, max_values: int, max_int_digits: int):
        self.parser = parser
        self.source = source
        self.max_nesting = max_nesting
        self.values_left = max_values - 1  # the top-level mapping is the first
        self.max_int_chars = 4 * max_int_digits  # digits, signs and underscores, before the value is made
        self.max_int = 10**max_int_digits
        self.scalars: dict[str, Any] = {}  # plain scalar text → its value (they repeat)
        self.lines: dict[tuple, tuple[str, int]] = {}

    def run(self) -> tuple[dict, dict]:
        get = self.parser.get_event
        if not isinstance(get(), yaml.StreamStartEvent) or not isinstance(get(), yaml.DocumentStartEvent):
            raise _GiveUp
        event = get()
        if not isinstance(event, yaml.MappingStartEvent):
            raise _GiveUp
        data = self.container(event, "root", 1)
        if not isinstance(get(), yaml.DocumentEndEvent) or not isinstance(get(), yaml.StreamEndEvent):
            raise _GiveUp
        return data, self.lines

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        if event.anchor is not None or event.tag is not None:
            raise _GiveUp
        value = event.value
        if not event.implicit[0]:
            return value  # quoted: a string
        found = self.scalars.get(value, _NEW)
        return self.plain(value, event.implicit) if found is _NEW else found

    def plain(self, value: str, implicit: tuple[bool, bool]) -> Any:
        """An unquoted scalar's value, resolved and built as the safe loader does."""
        tag = self.parser.resolve(yaml.ScalarNode, value, implicit)
        if tag == _STR:
            found = value
        elif tag in _SCALARS and not (tag == _INT and len(value) > self.max_int_chars):
            try:
                found = self.parser.yaml_constructors[tag](self.parser, yaml.ScalarNode(tag, value))
            except Exception:  # noqa: BLE001 - the full loader reports it
                raise _GiveUp from None
            if tag == _INT and not -self.max_int < found < self.max_int:
                raise _GiveUp
        else:
            raise _GiveUp
        self.scalars[value] = found
        return found

    def container(self, start: yaml.NodeEvent, role: Any, depth: int) -> Any:
        """The mapping or list that `start` opens. `role` says which of its entries `lines` keeps:
        "root" (top-level keys), "blocks", ("block", name), ("items", prefix) (a list of layer
        entries) or ("item", key) (one layer entry); None for none."""
        if depth >= self.max_nesting or start.anchor is not None or start.tag is not None:
            raise _GiveUp
        get, lines, scalar, source = self.parser.get_event, self.lines, self.scalar, self.source
        if start.__class__ is _SEQUENCE:
            items: list[Any] = []
            prefix = role[1] if role is not None and role[0] == "items" else None
            while True:
                event = get()
                kind = event.__class__
                if kind is _SCALAR:
                    if prefix is not None:
                        lines[(*prefix, len(items))] = (source, event.start_mark.line + 1)
                    items.append(scalar(event))
                elif kind is _SEQUENCE_END:
                    return self.counted(items)
                elif kind is _MAPPING or kind is _SEQUENCE:
                    inner = None
                    if prefix is not None:
                        key = (*prefix, len(items))
                        lines[key] = (source, event.start_mark.line + 1)
                        inner = ("item", key)
                    items.append(self.container(event, inner, depth + 1))
                else:
                    raise _GiveUp
        mapping: dict[Any, Any] = {}
        seen: set[str] = set()
        item = role[1] if role is not None and role[0] == "item" else None
        while True:
            event = get()
            kind = event.__class__
            if kind is _MAPPING_END:
                return self.counted(mapping)
            if kind is not _SCALAR or event.value in seen:
                raise _GiveUp
            raw = event.value
            seen.add(raw)
            key = scalar(event)
            if item is not None:
                lines[(*item, raw)] = (source, event.start_mark.line + 1)
            elif role == "root":
                lines[(raw,)] = (source, event.start_mark.line + 1)
            event = get()
            kind = event.__class__
            if kind is _SCALAR:
                mapping[key] = scalar(event)
            elif kind is _MAPPING or kind is _SEQUENCE:
                mapping[key] = self.container(event, self.inner_role(role, raw), depth + 1)
            else:
                raise _GiveUp

    def counted(self, container: list | dict) -> list | dict:
        """`container`, its values (items) counted against the bound."""
        self.values_left -= len(container)
        if self.values_left < 0:
            raise _GiveUp
        return container

    @staticmethod
    def inner_role(role: Any, key: str) -> Any:
        if role == "root":
            return ("items", ("layers",)) if key == "layers" else "blocks" if key == "blocks" else None
        if role == "blocks":
            return ("block", key)
        if role is not None and role[0] == "block" and key == "layers":
            return ("items", ("blocks", role[1]))
        return None
