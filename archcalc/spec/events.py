"""The common YAML file built in one pass over the parser's events: no node graph, no second parse.

PyYAML's safe loader parses a file, composes a graph of nodes (with their positions) and then
builds the values from it; the bounds of `loader` read the events once more before that. For a
file of plain mappings, lists and untagged scalars this module builds the same values, and the
same `lines` (`loader.Document`), straight from one stream of events, with the same scalar
resolution and construction. It gives up (returns None) on anything else: a tag, an anchor or
alias, a merge key, a key met twice (or two keys of one value, `1` and `01`), a key that is not a
scalar, a scalar that is not a string, integer, number, truth value or null, a parse error, more
than one document, a value as deep as the loader's limit on nesting, more values than its limit or
an integer of more digits than it allows. The loader then reads the file its own, slower way,
which reports whatever is wrong exactly as before. What this module builds is therefore within the
loader's bounds (`loader.check_size`).
"""

from __future__ import annotations

from typing import Any

import yaml

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_SCALARS = (_INT, "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null")


_SCALAR, _MAPPING, _SEQUENCE = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
_MAPPING_END, _SEQUENCE_END = yaml.MappingEndEvent, yaml.SequenceEndEvent


class _GiveUp(Exception):
    """Something the fast path does not build."""


def build(text: str, source: str, loader: type, max_nesting: int, max_values: int,
          max_int_digits: int) -> tuple[dict, dict] | None:
    """(data, lines) of `text` (a top-level mapping), as the safe `loader` and `loader._entry_lines`
    would make them for the file `source`; None where the file needs the full loader, or passes a bound:
    nesting, values (the mapping itself, each list item and each mapping value) or integer digits."""
    if None in loader.yaml_implicit_resolvers or loader.yaml_path_resolvers:
        return None  # resolvers other than by a scalar's first character, which `_Builder.plain` follows
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
        self.get = parser.get_event
        self.source = source
        self.max_nesting = max_nesting
        self.values_left = max_values - 1  # the top-level mapping is the first
        self.max_int_chars = 4 * max_int_digits  # digits, signs and underscores, before the value is made
        self.max_int = 10**max_int_digits
        self.scalars: dict[str, Any] = {}  # plain scalar text → its value (they repeat)
        self.lines: dict[tuple, tuple[str, int]] = {}

    def run(self) -> tuple[dict, dict]:
        get = self.get
        if not isinstance(get(), yaml.StreamStartEvent) or not isinstance(get(), yaml.DocumentStartEvent):
            raise _GiveUp
        event = get()
        if not isinstance(event, yaml.MappingStartEvent):
            raise _GiveUp
        data = self.mapping(event, "root", 1)
        if not isinstance(get(), yaml.DocumentEndEvent) or not isinstance(get(), yaml.StreamEndEvent):
            raise _GiveUp
        return data, self.lines

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        if event.anchor is not None or event.tag is not None:
            raise _GiveUp
        value = event.value
        if not event.implicit[0]:
            return value  # quoted: a string
        found = self.scalars.get(value, event)  # the event itself: not met before
        if found is event:
            found = self.scalars[value] = self.plain(value)
        return found

    def plain(self, value: str) -> Any:
        """An unquoted scalar's value, resolved and built as the safe loader does. Its resolver tries
        the patterns kept under the scalar's first character (`build` makes sure there are no others),
        in order; a scalar that none matches, most names ("conv", "width"), is a string."""
        tag = _STR
        for candidate, pattern in self.parser.yaml_implicit_resolvers.get(value[:1], ()):
            if pattern.match(value):
                tag = candidate
                break
        if tag == _STR:
            return value
        if tag not in _SCALARS or tag == _INT and len(value) > self.max_int_chars:
            raise _GiveUp
        if tag == _INT and value.isdigit() and value[0] != "0":
            found = int(value)  # decimal digits (the pattern allows no others), read as the constructor does
        else:
            try:
                found = self.parser.yaml_constructors[tag](self.parser, yaml.ScalarNode(tag, value))
            except Exception:  # noqa: BLE001 - the full loader reports it
                raise _GiveUp from None
        if tag == _INT and not -self.max_int < found < self.max_int:
            raise _GiveUp
        return found

    def sequence(self, start: yaml.SequenceStartEvent, role: Any, depth: int) -> list:
        """The list that `start` opens. `role` says which of its entries `lines` keeps (`mapping`)."""
        get, scalar, lines, source = self.opened(start, depth)
        items: list[Any] = []
        prefix = role[1] if role is not None and role[0] == "items" else None
        while True:
            event = get()
            kind = event.__class__
            if kind is _SEQUENCE_END:
                break
            if prefix is not None:
                key = prefix + (len(items),)
                lines[key] = (source, event.start_mark.line + 1)
            if kind is _SCALAR:
                items.append(scalar(event))
            else:
                items.append(self.container(event, None if prefix is None else ("item", key), depth + 1))
        return self.counted(items)

    def mapping(self, start: yaml.MappingStartEvent, role: Any, depth: int) -> dict:
        """The mapping that `start` opens. `role` says which of its entries `lines` keeps: "root"
        (top-level keys), "blocks", ("block", name), ("items", prefix) (a list of layer entries) or
        ("item", key) (one layer entry); None for none."""
        get, scalar, lines, source = self.opened(start, depth)
        mapping: dict[Any, Any] = {}
        # the path under which `lines` keeps its keys: a layer entry's, or () at the top level; None: not kept
        at = role[1] if role is not None and role[0] == "item" else () if role == "root" else None
        while True:
            event = get()
            kind = event.__class__
            if kind is _MAPPING_END:
                break
            if kind is not _SCALAR:
                raise _GiveUp
            raw = event.value
            key = scalar(event)
            if key in mapping:
                raise _GiveUp
            if at is not None:
                lines[at + (raw,)] = (source, event.start_mark.line + 1)
            event = get()
            kind = event.__class__
            if kind is _SCALAR:
                mapping[key] = scalar(event)
            else:
                mapping[key] = self.container(event, self.inner_role(role, raw), depth + 1)
        return self.counted(mapping)

    def container(self, event: Any, role: Any, depth: int) -> list | dict:
        """The list or mapping that `event` opens, `role` as `mapping` takes it; _GiveUp for any other event."""
        kind = event.__class__
        if kind is _MAPPING:
            return self.mapping(event, role, depth)
        if kind is _SEQUENCE:
            return self.sequence(event, role, depth)
        raise _GiveUp

    def opened(self, start: yaml.NodeEvent, depth: int) -> tuple:
        """What reading a list or mapping opened at `depth` uses (the parser's next event, the scalar reader,
        `lines`, the source); _GiveUp at the loader's nesting limit or on an anchor or tag."""
        if depth >= self.max_nesting or start.anchor is not None or start.tag is not None:
            raise _GiveUp
        return self.get, self.scalar, self.lines, self.source

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
