"""Expansion of a validated file into a flat list of layer nodes.

Blocks are instantiated with their arguments, `repeat` and `when` are applied, names are nested
into paths (`layer3/4/conv2`) and every `from:` is resolved to a path, looking outwards through
the enclosing blocks. Hyper-parameters stay unevaluated until the analyzer knows the input shape
(they may use `in_channels`), but each node keeps the names its expressions can see.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

from pydantic import TypeAdapter, ValidationError

from ..errors import ArchcalcError, GraphError, SpecError, suggestion
from ..expr import MAX_EXPRESSION_LENGTH, compiled, names_read
from ..gc_pause import cycle_collection_paused
from ..layers import Layer, layer_class
from ..layers.base import option_words
from ..memo import memo
from ..records import FieldError
from .archfile import STRUCTURAL_KEYS, ArchFile, BlockDef, LayerEntry

MAX_NODES = 50_000
MAX_EDGES = 1_000_000
MAX_INSTANCES = 100_000
MAX_BINDINGS = 500_000
MAX_REPEAT = 100_000
MAX_BLOCK_DEPTH = 32
MAX_CALLS = 100
SMALL_SCOPE = 64  # names a scope copies into each layer's own mapping; beyond, it chains
_SEQUENCES = (list, tuple)  # made once (a `list | tuple` union is built anew at each use)
_ATOMS = frozenset({int, str, bool, float, type(None)})  # values `hashable` pairs with their type at once
_STRUCTURAL = frozenset(STRUCTURAL_KEYS)  # looked up once per key of every entry
_UNSET = object()  # no `i` of its own (a block entry that does not repeat), or a name an instance does not have


@dataclass(slots=True)
class Scope:
    """Names visible in one block instance (or the top level)."""

    prefix: str
    values: Mapping[str, Any]
    parent: Scope | None = None
    input_path: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    frozen: bool = False  # inside a block instance (or definition) written `trainable: false`
    # of a block instance's scope: (the block, its entry's arguments as written, the entry's own `i` where it
    # repeats, else _UNSET), all a rebinding (`_Expander.rebind`) needs to bind its arguments anew
    binding: tuple[str, dict[str, Any], Any] | None = None

    def path(self, name: str) -> str:
        return self.prefix + name

    def lookup(self, ref: str) -> str | None:
        scope: Scope | None = self
        while scope is not None:
            if ref in scope.names:
                return scope.names[ref]
            if ref == "input" and scope.input_path is not None:
                return scope.input_path
            scope = scope.parent
        return None

    def visible(self) -> list[str]:
        seen: list[str] = []
        scope: Scope | None = self
        while scope is not None:
            seen += list(scope.names)
            scope = scope.parent
        return seen


class KeyLines:
    """The (file, line) of each key of one layer entry, looked up in the file's lines when asked (an
    error message is the only reader): `get` as a dict's, for the keys as written (`str` of each)."""

    __slots__ = ("lines", "at")

    def __init__(self, lines: Mapping[tuple, tuple[str, int]], at: tuple):
        self.lines, self.at = lines, at  # `at`: the entry's place, (`layers`, 3) or (`blocks`, name, 0)

    def get(self, key: str, default: Any = None) -> Any:
        return self.lines.get((*self.at, key), default)


@dataclass(slots=True)
class Node:
    """One layer of the expanded graph, before shape inference."""

    path: str
    layer_cls: type[Layer]
    hyper: dict[str, Any]
    values: Mapping[str, Any]
    scope: Scope
    refs: list[str] | None
    previous: str | None
    inputs: list[str] = field(default_factory=list)
    where: tuple[str, int] | None = None  # (file, line) of the entry, for error messages
    key_lines: KeyLines | None = None  # (file, line) of each of the entry's keys
    trainable: bool = True  # false: written `trainable: false`, inside such a block, or named by `freeze:`
    like: str | None = None  # `like:`: a layer read for its size alone, the last input
    twin: Node | None = None  # the node it was replayed from (same class, hyper-parameters and names)
    shares: str | None = None  # `shares:` as written: the layer whose weights it applies
    owner: str | None = None  # the path of that layer (of its block instance's owner, for a block's `shares:`)
    copied: bool = False  # whether another node was replayed from it (it is that node's `twin`)

    def line_of(self, key: str) -> tuple[str, int] | None:
        """The (file, line) of one of the entry's keys (`kernel_size.1`: of `kernel_size`), else of the entry."""
        return (self.key_lines or {}).get(key.split(".", 1)[0], self.where)


@dataclass(slots=True)
class _Entry:
    """A layer entry as validated once: its structural keys, its hyper-parameters, what its `type`
    names (the input, a block or a layer class, with, once expanded, the hyper-parameters over the
    file's defaults) and its `from` as a list."""

    fields: LayerEntry
    hyper: dict[str, Any]
    key_lines: KeyLines
    is_input: bool
    block: BlockDef | None
    refs: list[str] | None
    cls: type[Layer] | None  # None: a block, or a name of no layer type
    merged: dict[str, Any] | None = None
    reads_i: bool | None = None  # of a repeated layer, once asked: whether its hyper-parameters may read `i`


@dataclass(frozen=True)
class Group:
    """A block instance or a repeat: a path prefix that reports can collapse into one row."""

    path: str
    block: str
    args: dict[str, Any]


@dataclass(slots=True)
class _Shape:
    """The structure of one block instance, as every instance with the same structure adds it under its
    own prefix and input: each path the instance holds kept as what follows its prefix (`/conv1`), the
    instance's input as None; each scope by its position (the instance's own first, every parent before
    its children), so that a replay makes its copies in one pass and finds a node's by index."""

    output: str | None
    nodes: list[tuple[str, str | None, int]]  # of each layer: its path, the path of the layer before it, its scope
    groups: list[str]  # the path of each group
    scopes: list[tuple[str, str | None, list[tuple[str, str | None]], int]]  # of each scope: its prefix, input,
    #                                                                 names, its parent's position (-1: the caller)
    instances: int
    bindings: int
    edges: int
    rebinding: _Rebinding | None | bool = False  # once `_Expander.rebinding` has asked; None: it cannot be rebound


@dataclass(slots=True)
class _Template:
    """One block instance, to be added again by every instance of the same block with the same arguments
    at the same depth (`_Expander.replay`), or with its shape by one with other arguments that decide the
    same structure (`_Expander.rebind`): its shape and its own layers, groups and scopes, in the shape's order."""

    shape: _Shape
    nodes: list[Node]
    groups: list[Group]
    scopes: list[Scope]


@dataclass(slots=True)
class _Rebinding:
    """What `_Expander.rebind` adds to a `_Shape` to give it other arguments' values: of each layer, its
    own `i` (a copy of a repeated entry) or _UNSET (it sees its scope's names); of each group, the position
    of the scope of the block instance it stands for, or -1 (a repeat: copied)."""

    own_i: list[Any]
    group_scopes: list[int]


class _FirstInstance(NamedTuple):
    """The first instance of a block with its arguments (or its structure), made a `_Template` only when a
    second one comes (most instances in a network are the only ones with their arguments):
    `_Expander.template`'s argument."""

    inner: Scope
    prefix: str
    input_path: str
    output: str
    start: tuple[int, ...]  # (nodes, groups, instances, bindings, edges, whole paths read) before the instance
    end: tuple[int, ...]  # and after it
    rebound: tuple[_Shape, list[Scope]] | None = None  # added by `rebind`: its shape and its scopes


@dataclass
class Expansion:
    nodes: list[Node]
    groups: list[Group]
    input_path: str
    output_path: str
    outputs: dict[str, str] = field(default_factory=dict)  # `outputs:`: output name → layer path


def hashable(value: Any) -> Any:
    """A hashable stand-in for a value read from a file (mapping keys may be of mixed types); the type
    is part of it, so that `true` and `1`, equal in Python, stay apart."""
    kind = value.__class__
    if kind in _ATOMS:  # the common case, at once
        return kind, value
    if isinstance(value, dict):
        return (dict, *((k, hashable(v)) for k, v in value.items()))
    if isinstance(value, _SEQUENCES):
        return (list, *(hashable(v) for v in value))
    return kind, value


def with_names(base: Mapping[str, Any], extra: dict[str, Any]) -> Mapping[str, Any]:
    """The names of `extra` over those of `base`: one flat dict (fast to read) when `base` is a small
    dict, a ChainMap otherwise (so that a file's thousands of `args` are not copied for every layer)."""
    if isinstance(base, dict) and len(base) <= SMALL_SCOPE:
        return {**base, **extra}
    return ChainMap(extra, base)


def resolve_value(value: Any, names: dict[str, Any]) -> Any:
    """Evaluate expression strings; bare words that name nothing (`same`, `relu`) stay strings."""
    if isinstance(value, str):
        return _resolver(value)(names)
    if isinstance(value, list):
        return [resolve_value(v, names) for v in value]
    return value


@memo()
def _resolver(value: str) -> Callable[[Mapping[str, Any]], Any]:
    """`resolve_value` of one string, as a function of the names in scope (made once per text)."""
    text = value.strip()
    if text.isidentifier() and text not in ("True", "False", "None"):  # refused as too long only when read
        read = compiled(text) if len(text) <= MAX_EXPRESSION_LENGTH else lambda names: compiled(text)(names)
        return lambda names: read(names) if text in names else value
    return compiled(text)


class _Expander:
    def __init__(self, spec: ArchFile):
        self.spec = spec
        if len(spec.calls) > MAX_CALLS:
            raise SpecError(f"more than {MAX_CALLS} patterns", layer="calls")
        self.refuse_option_words(spec.args, "args")
        for name, block in spec.blocks.items():
            self.refuse_option_words(block.args, f"blocks.{name}.args")
        self.lines = spec._lines
        self.nodes: list[Node] = []
        self.groups: list[Group] = []
        self.paths: set[str] = set()
        self.edges = 0
        self.whole_paths = 0  # `from:`s read as a whole path while the layers were added (`layer_before`)
        self.instances = 0  # block instances and dropped copies: work that adds no layer
        self.bindings = 0  # block arguments bound, summed over instances
        self.entries: dict[int, _Entry] = {}  # validated entries by id of their mapping
        # (id of a list, its key, first) → (it, the line of each entry, each entry's `LayerEntry` or None)
        self.places: dict[tuple, tuple[list, list, list[LayerEntry] | None]] = {}
        self.costs: dict[str, tuple[int, int]] = {}  # least_cost of each block
        self.templates: dict[tuple, _Template | _FirstInstance | None] = {}  # by depth, frozen, key of `bound`
        self.structures: dict[tuple, _Template | _FirstInstance | None] = {}  # by `structure_key`
        self.made: dict[tuple, _Template | None] = {}  # `template` of each first instance, by its `start`
        self.deciding: dict[str, tuple[str, ...] | None] = {}  # `structure_names` of each block
        self.reading_i: dict[str, bool] = {}  # reads_i of each block
        self.bound: dict[tuple, dict[str, Any]] = {}  # bound_args by block, `i` and the values given
        self.classes: dict[str, type] = {"input": layer_class("input")}  # by type name; SpecError: none
        self.defaults = {}
        for type_name, values in spec.defaults.items():
            where = f"defaults.{type_name}"
            if type_name in spec.blocks:
                raise SpecError(f"{type_name!r} is a block, not a layer type", layer=where)
            try:
                cls = layer_class(type_name)
            except SpecError as exc:
                raise exc.located(layer=where) from None
            for key in values:
                if key not in cls.model_fields:
                    hint = cls.unknown_key_hint(key) or suggestion(key, cls.model_fields)
                    raise SpecError(f"{type_name} has no hyper-parameter {key!r}{hint}", layer=where)
            self.defaults[cls] = values

    def run(self) -> Expansion:
        args = self.spec.args
        # a mapping that is not a dict is read through, not copied: archcalc.sweep binds each variant's
        # arguments late through one (and learns which of them the expansion read)
        values = dict(args) if isinstance(args, dict) else args
        top = Scope(prefix="", values=values)
        entries = list(self.spec.layers)
        input_name = "input"
        first = 0
        if isinstance(entries[0], dict) and self.is_input(entries[0].get("type")):
            input_name = self.input_entry(entries[0])
            entries, first = entries[1:], 1
        self.add_node(top, input_name, layer_class("input"), {}, refs=[], previous=None,
                      where=self.lines.get(("layers", 0) if first else ("input",)))
        top.input_path = input_name
        top.names[input_name] = input_name
        last = self.expand_list(entries, top, input_name, depth=0, key=("layers",), first=first)
        output = last if self.spec.output is None else self.output_path(self.spec.output, top, "output")
        outputs = self.outputs(top)
        if outputs:
            output = next(iter(outputs.values()))
        for node in self.nodes:
            if node.refs is not None or node.like is not None or node.shares is not None:
                try:
                    self.resolve_inputs(node)
                except ArchcalcError as exc:
                    raise exc.located(where=node.where) from None
        return Expansion(self.nodes, self.groups, input_name, output, outputs)

    def output_path(self, name: Any, top: Scope, key: str) -> str:
        """The path of the layer an `output` or `outputs` entry names."""
        found = top.lookup(name) or name
        if found not in self.paths:
            raise GraphError(f"{name!r} names no layer{suggestion(name, sorted(self.paths))}", layer=key)
        return found

    def outputs(self, top: Scope) -> dict[str, str]:
        """`outputs:` as output name → layer path (a list names each output after its layer)."""
        named = self.spec.outputs
        if named is None:
            return {}
        where = self.spec._lines.get(("outputs",))
        if self.spec.output is not None:
            raise SpecError("write output or outputs, not both").located(where=where)
        if not named:
            raise SpecError("outputs must name at least one layer").located(where=where)
        pairs = named.items() if isinstance(named, dict) else ((name, name) for name in named)
        found = {key: self.output_path(name, top, "outputs") for key, name in pairs}
        if len(set(found.values())) < len(named):
            raise SpecError("outputs names one layer twice").located(where=where)
        return found

    def input_entry(self, raw: dict) -> str:
        """The name of an explicit first `{name: ..., type: input}` entry."""
        extra = [k for k in raw if k not in ("name", "type")]
        name = raw.get("name", "input")
        if extra:
            raise SpecError(f"an input entry takes only a name (its shape is the file's `input`), "
                            f"got {extra[0]!r}", layer="layers[0]")
        if not isinstance(name, str) or not name or "/" in name:
            raise SpecError(f"layer name {name!r} must be a non-empty string without '/'", layer="layers[0]")
        return name

    # --- lists and entries -----------------------------------------------------------------
    def expand_list(self, entries: list[Any], scope: Scope, previous: str, depth: int, key: tuple,
                    first: int = 0) -> str:
        """Expand entries in order inside `scope`; return the path of the last output. `key` and
        `first` place the entries in the file: `lines[(*key, first + position)]`."""
        if depth > MAX_BLOCK_DEPTH:
            raise SpecError(f"blocks nested deeper than {MAX_BLOCK_DEPTH} (does a block use itself?)")
        counters: dict[str, int] = {}
        placed = self.places.get((id(entries), key, first))
        if placed is None:  # kept with the list, so that its id stays its own
            placed = self.places[(id(entries), key, first)] = (
                entries, [self.lines.get((*key, first + position)) for position in range(len(entries))],
                _validated(entries))
        wheres, validated = placed[1], placed[2]
        for position, raw in enumerate(entries):
            where = wheres[position]
            if not isinstance(raw, dict):
                raise SpecError(f"{scope.prefix}layers[{position}]: a layer must be a mapping, "
                                f"got {type(raw).__name__}").located(where=where)
            entry = self.entries.get(id(raw))
            if entry is None:
                key_lines = KeyLines(self.lines, (*key, first + position))
                try:
                    fields = validated[position] if validated is not None else LayerEntry.from_mapping(raw)
                except FieldError as exc:
                    label = raw.get("name") if isinstance(raw.get("name"), str) else f"layers[{position}]"
                    raise SpecError(str(exc), layer=scope.path(str(label))).located(
                        where=key_lines.get(exc.where.split(".", 1)[0], where)) from None
                block = self.spec.blocks.get(fields.type)
                cls = None if block is not None else self.layer_class(fields.type, None)
                refs = [fields.from_] if isinstance(fields.from_, str) else fields.from_
                entry = self.entries[id(raw)] = _Entry(
                    fields, {k: v for k, v in raw.items() if k not in _STRUCTURAL}, key_lines,
                    cls is self.classes["input"], block, refs, cls)
            name = entry.fields.name or self.auto_name(entry.fields.type, scope, counters)
            if "/" in name or not name:
                raise SpecError(f"layer name {name!r} must be non-empty and contain no '/'",
                                layer=scope.path(name)).located(where=where)
            try:
                previous = self.expand_entry(entry, name, scope, previous, depth, where)
            except ArchcalcError as exc:
                raise exc.located(layer=scope.path(name), where=where) from None
        return previous

    def is_input(self, type_name: Any) -> bool:
        """Whether an entry's `type` names the input (`input`, Keras's `InputLayer`), not a block."""
        if not isinstance(type_name, str) or type_name in self.spec.blocks:
            return False
        return self.layer_class(type_name, None) is self.classes["input"]

    def layer_class(self, type_name: str, unknown: Any = SpecError) -> type[Layer] | Any:
        """`layers.layer_class`, looked up once per type name; `unknown` for a name of no type,
        where it is not SpecError (which is then raised)."""
        found = self.classes.get(type_name)
        if found is None:
            try:
                found = self.classes[type_name] = layer_class(type_name)
            except SpecError:
                found = self.classes[type_name] = SpecError
        if found is SpecError:
            if unknown is SpecError:
                layer_class(type_name)  # raises its error
            return unknown
        return found

    @staticmethod
    def refuse_option_words(args: dict[str, Any], where: str) -> None:
        """`args: {same: 3}` would silently turn `padding: same` into `padding: 3`: refuse it."""
        clash = sorted(set(args) & option_words())
        if clash:
            raise SpecError(f"argument {clash[0]!r} has the name of an option value (as in `padding: same`, "
                            f"`activation: relu`); rename it", layer=where)

    def auto_name(self, type_name: str, scope: Scope, counters: dict[str, int]) -> str:
        while True:
            count = counters.get(type_name, 0)
            counters[type_name] = count + 1
            name = type_name if count == 0 else f"{type_name}_{count}"
            if name not in scope.names:
                return name

    def expand_entry(self, known: _Entry, name: str, scope: Scope, previous: str, depth: int,
                     where: tuple[str, int] | None = None) -> str:
        entry, hyper = known.fields, known.hyper
        if name in scope.names and name not in scope.dropped and entry.when is None:
            raise GraphError(f"duplicate layer name {name!r}")
        if known.is_input:
            raise SpecError("only the first entry of the file may be the input")
        repeat = 1 if entry.repeat is None else self.repeat_count(entry, scope.values)
        refs, block = known.refs, known.block
        if block is None and known.merged is None:
            if known.cls is None:
                self.layer_class(entry.type)  # a name of no layer type: raises its error
            convention = {"convention": self.spec.convention} \
                if self.spec.convention and "convention" in known.cls.model_fields else {}
            known.merged = {**convention, **self.defaults.get(known.cls, {}), **hyper}
        cls, merged = known.cls, known.merged  # merged: shared by every copy of the entry (read-only)
        if entry.repeat is not None and block is None and known.reads_i is None:
            texts = _texts(list(merged.values()))
            known.reads_i = any(names is None or "i" in names for names in map(names_read, texts))
        frozen = scope.frozen or entry.trainable is False
        if entry.when is None and (block is not None or repeat > 1):  # one layer: add_node checks the same
            self.refuse_early(repeat, block, entry.type)
        # each copy sees its `i`, unless nothing of it reads `i` (a plain chain: no mapping per layer)
        numbered = entry.repeat is not None and (block is not None or known.reads_i or entry.when is not None)
        output = None
        owner = None if block is None or entry.shares is None else self.owner_instance(entry, scope)
        for r in range(repeat):
            values = with_names(scope.values, {"i": r}) if numbered else scope.values
            if entry.when is not None and not self.truth(entry.when, values):
                self.count_instance()
                continue
            path_name = f"{name}/{r}" if entry.repeat is not None else name
            first_refs = refs if output is None else None
            if block is not None:
                if entry.like is not None:
                    raise SpecError(f"like: gives a size to a layer (upsample, crop), not to the block {entry.type!r}")
                start = len(self.nodes)
                output = self.expand_block(entry.type, block, hyper, scope, path_name, values,
                                           first_refs, output or previous, depth, frozen)
                if owner is not None:
                    self.share_instance(scope.path(path_name), owner, start)
            else:
                output = self.add_node(scope, scope.prefix + path_name, cls, merged, first_refs,
                                       output or previous, values, where, known.key_lines, not frozen, entry.like,
                                       entry.shares)
        if entry.repeat is not None:
            self.groups.append(Group(scope.path(name), entry.type, {"repeat": repeat}))
        if output is None:
            output = self.skipped_alias(refs, scope, previous)
            if name in scope.names and name not in scope.dropped:
                return output  # an alternative of a layer that exists: the name stays with it
            scope.dropped.add(name)
        else:
            scope.dropped.discard(name)
        scope.names[name] = output
        return output

    def owner_instance(self, entry: LayerEntry, scope: Scope) -> str:
        """The path of the earlier instance of the same block that a block entry's `shares:` names,
        looked up in the enclosing block instance first, then from the top."""
        instances = {group.path: group.block for group in self.groups}
        for path in (scope.path(entry.shares), entry.shares):
            if path in instances:
                if instances[path] != entry.type:
                    raise SpecError(f"shares: {entry.shares!r} is an instance of block {instances[path]!r}, "
                                    f"not of {entry.type!r}")
                return path
        hint = suggestion(entry.shares, [p for p, block in instances.items() if block == entry.type])
        raise GraphError(f"shares: {entry.shares!r} names no earlier instance of block {entry.type!r}{hint}")

    def share_instance(self, prefix: str, owner: str, start: int) -> None:
        """Each layer of the block instance at `prefix` (the nodes from `start`) applies the weights of the
        layer at the same place in the instance at `owner`."""
        cut = len(prefix)
        for node in self.nodes[start:]:
            twin = owner + node.path[cut:]
            if twin not in self.paths:
                raise GraphError(f"shares: {owner!r} has no layer {node.path[cut + 1:]!r} to share with {node.path!r}")
            node.owner = twin

    def skipped_alias(self, refs: list[str] | None, scope: Scope, previous: str) -> str:
        """An entry that `when` (or `repeat: 0`) removes stands for its (first) input, so an optional
        layer, or an optional residual `add`, simply drops out of the chain; a later entry may reuse
        its name (alternatives: `{name: conv, when: k == 3}` then `{name: conv, when: k == 5}`)."""
        if not refs:
            return previous
        found = self.layer_before(refs[0], scope)
        if found is None:
            raise GraphError(f"from: {refs[0]!r} must name a layer defined before it")
        return found

    def layer_before(self, ref: str, scope: Scope) -> str | None:
        """The path of the layer a `from:` names, while the layers are being added: looked up in the
        enclosing scopes, else taken as a whole path. A whole path is counted in `whole_paths`: an instance
        that reads one is not replayed, as its copies would read their own layer at that place, not it."""
        found = scope.lookup(ref)
        if found is None and ref in self.paths:
            self.whole_paths += 1
            return ref
        return found

    def expand_block(self, block_name: str, block: BlockDef, given: dict[str, Any], scope: Scope,
                     path_name: str, caller_values: Mapping[str, Any], refs: list[str] | None,
                     previous: str, depth: int, frozen: bool = False) -> str:
        unknown = [k for k in given if k not in block.args]
        if unknown:
            hint = suggestion(unknown[0], block.args)
            raise SpecError(f"block {block_name!r} has no argument {unknown[0]!r}{hint}")
        self.count_instance()
        self.count_bindings(len(block.args))
        prefix = scope.path(path_name)
        args, bound, local = self.bind_arguments(block_name, block, given, caller_values)
        frozen = frozen or not block.trainable
        input_path = previous
        if refs:
            if len(refs) != 1:
                raise SpecError(f"a block takes one input, got from: {refs}")
            found = self.layer_before(refs[0], scope)
            if found is None:
                self.global_ref(refs[0], scope, prefix)
                raise GraphError(f"a block's from: must name a layer defined before it, got {refs[0]!r}")
            input_path = found
        binding = (block_name, given, _UNSET if caller_values is scope.values else caller_values["i"])
        # the same block, `i` (where it reads it) and values given bind the same arguments (`bound_args`)
        key = None if bound is None else (depth, frozen, bound)
        template = None if key is None else self.templates.get(key)
        if isinstance(template, _FirstInstance):
            template = self.templates[key] = self.template(template)
            for node in template.nodes if template is not None else ():  # the `twin` of those replayed
                node.copied = True
        if template is not None:
            return self.replay(template, prefix, input_path, scope, binding)
        values = with_names(self.spec.args, local)
        group = Group(prefix, block_name, args)
        start = (len(self.nodes), len(self.groups), self.instances, self.bindings, self.edges, self.whole_paths)
        # other arguments that decide the same structure: an earlier instance's, with this instance's values
        structure = self.structure_key(block_name, depth, frozen, local)
        earlier = None if structure is None else self.structures.get(structure)
        if isinstance(earlier, _FirstInstance):
            earlier = self.structures[structure] = self.template(earlier)
        rebound = None if earlier is None else self.rebind(earlier, prefix, input_path, scope, values, group, binding)
        if rebound is not None:
            _, (inner, *_), output = rebound
        else:
            inner = Scope(prefix + "/", values, scope, input_path, frozen=frozen, binding=binding)
            self.groups.append(group)
            output = self.expand_list(block.layers, inner, input_path, depth + 1, ("blocks", block_name))
            if block.output is not None:
                output = inner.names.get(block.output)
                if output is None:
                    raise GraphError(f"block {block_name!r}: output {block.output!r} names no layer")
        first = _FirstInstance(inner, prefix, input_path, output, start,
                               (len(self.nodes), len(self.groups), self.instances, self.bindings, self.edges,
                                self.whole_paths),
                               None if rebound is None else rebound[:2])
        if key is not None and key not in self.templates:
            self.templates[key] = first
        if structure is not None and structure not in self.structures:
            self.structures[structure] = first
        return output

    def bind_arguments(self, block_name: str, block: BlockDef, given: dict[str, Any],
                       caller_values: Mapping[str, Any]) -> tuple[dict[str, Any], tuple | None, dict[str, Any]]:
        """An instance's arguments (those `given` evaluated over the caller's names), the key `bound_args`
        returns with them, and the names the instance adds over the file's `args`: `i` (the caller's) and
        its arguments."""
        local = {"i": caller_values["i"]} if "i" in caller_values else {}
        args, bound = self.bound_args(block_name, block, {arg: resolve_value(given[arg], caller_values)
                                                          for arg in block.args if arg in given}, local)
        local.update(args)
        return args, bound, local

    def bound_args(self, block_name: str, block: BlockDef, given: dict[str, Any],
                   local: dict[str, Any]) -> tuple[dict[str, Any], tuple | None]:
        """A block instance's arguments in the block's order: those `given` (evaluated where it is used)
        and the defaults of the others, evaluated over the file's `args`, `local` (`i`) and the arguments
        before them: once per block, values given and `i` (where the block reads it), that key returned
        with them (None where a value cannot be part of one)."""
        reads_i = self.reading_i.get(block_name)
        if reads_i is None:
            reads_i = self.reads_i(block_name)
        try:
            key: tuple | None = (block_name, local.get("i") if reads_i else None,
                                 *[(arg, hashable(value)) for arg, value in given.items()])
            found = self.bound.get(key)
        except TypeError:  # a value that cannot be part of a key
            key = found = None
        if found is not None:
            return found, key
        args: dict[str, Any] = {}
        names = None  # the names a default sees: the file's `args`, `local`, then the arguments before it
        for arg, default in block.args.items():
            if arg in given:
                args[arg] = given[arg]
            elif default is None:
                raise SpecError(f"block {block_name!r} needs argument {arg!r}")
            else:
                if names is None:
                    names = with_names(self.spec.args, {**local, **args})
                args[arg] = resolve_value(default, names)
            if names is not None:
                names[arg] = args[arg]
        if key is not None:
            self.bound[key] = args
        return args, key

    def template(self, first: _FirstInstance) -> _Template | None:
        """A block instance expanded earlier (its nodes, groups and counts from `start` to `end`) as a
        `_Template` (made once, whether asked for its arguments or its structure); None where it leads to
        a layer outside it other than its input (a `when`-dropped entry standing for an outer layer), or
        read a `from:` as a whole path (`layer_before`): that is not moved."""
        if first.start not in self.made:
            nodes = self.nodes[first.start[0]:first.end[0]]
            # not moved either: an instance whose layers a block's `shares:` gave an `owner`
            if first.end[5] != first.start[5] or any(node.owner is not None for node in nodes):
                self.made[first.start] = None
            elif first.rebound is not None:
                self.made[first.start] = self.rebound_template(first, nodes)
            else:
                self.made[first.start] = self.new_template(first, nodes)
        return self.made[first.start]

    def rebound_template(self, first: _FirstInstance, nodes: list[Node]) -> _Template:
        """The `_Template` of an instance that `rebind` added: the shape it was rebound from, with the
        instance's own layers, groups and scopes."""
        shape, scopes = first.rebound
        return _Template(shape, nodes, self.groups[first.start[1]:first.end[1]], scopes)

    def new_template(self, first: _FirstInstance, nodes: list[Node]) -> _Template | None:
        inner, prefix, input_path, output, start, end, _ = first
        position: dict[int, int] = {id(inner): 0}  # by id of each scope, its place in `scopes`
        scopes = [inner]
        for node in nodes:
            chain, scope = [], node.scope
            while id(scope) not in position:
                chain.append(scope)
                scope = scope.parent
            for scope in reversed(chain):
                position[id(scope)] = len(scopes)
                scopes.append(scope)
        cut, inside, outside = len(prefix), prefix + "/", _Outside()

        def rest(path: str) -> str | None:
            if path == input_path:
                return None
            if path != prefix and not path.startswith(inside):
                raise outside
            return path[cut:]

        groups = self.groups[start[1]:end[1]]
        try:
            shape = _Shape(
                rest(output), [(rest(node.path), rest(node.previous), position[id(node.scope)]) for node in nodes],
                [group.path[cut:] for group in groups],
                [(rest(scope.prefix[:-1]), rest(scope.input_path),
                  [(name, rest(path)) for name, path in scope.names.items()],
                  -1 if scope is inner else position[id(scope.parent)]) for scope in scopes],
                end[2] - start[2], end[3] - start[3], end[4] - start[4])
        except _Outside:
            return None
        return _Template(shape, nodes, groups, scopes)

    def reads_i(self, block_name: str) -> bool:
        """Whether an instance of the block may read `i` (the caller's repeat index) other than through
        its arguments: an expression of its layers, or of a block it uses, names it (or does not parse)."""
        found = self.reading_i.get(block_name)
        if found is None:
            self.reading_i[block_name] = True  # a block that uses itself is refused by its depth
            blocks = self.spec.blocks
            texts = _texts(list(blocks[block_name].args.values()))
            found = False
            for raw in blocks[block_name].layers:
                if not isinstance(raw, dict):
                    continue
                for key, value in raw.items():  # one pass over every entry of every block
                    if key == "type":
                        if isinstance(value, str) and value in blocks and self.reads_i(value):
                            found = True
                    elif key != "name" and key != "from":
                        texts += _texts(value)
            found = found or any(names is None or "i" in names for names in map(names_read, texts))
            self.reading_i[block_name] = found
        return found

    def replay(self, template: _Template, prefix: str, input_path: str, caller: Scope,
               binding: tuple[str, dict[str, Any], Any]) -> str:
        """Add `template`'s layers, scopes and groups again under `prefix`, reading `input_path`, for an
        instance bound as `binding` (`Scope.binding`)."""
        shape = template.shape
        if len(self.nodes) + len(shape.nodes) > MAX_NODES:
            self.too_many_nodes()
        self.count_instance(shape.instances)
        self.count_bindings(shape.bindings)
        self.edges += shape.edges
        if self.edges > MAX_EDGES:
            raise SpecError(f"more than {MAX_EDGES:,} edges (inputs of layers) after expansion")
        copies: list[Scope] = []
        for old, (at, given, names, parent) in zip(template.scopes, shape.scopes):
            # `dropped` is shared: it changes only while its own scope is being expanded, never after
            copies.append(Scope(prefix + at + "/", old.values, caller if parent < 0 else copies[parent],
                                input_path if given is None else prefix + given,
                                {name: input_path if path is None else prefix + path for name, path in names},
                                old.dropped, old.frozen, binding if parent < 0 else old.binding))
        new_paths = [prefix + rest for rest, _, _ in shape.nodes]
        if not self.paths.isdisjoint(new_paths):
            taken = next(path for path in new_paths if path in self.paths)
            raise GraphError(f"duplicate layer path {taken!r}")
        self.paths.update(new_paths)
        self.nodes += [Node(path, node.layer_cls, node.hyper, node.values, copies[scope], node.refs, previous,
                            [previous] if node.refs is None else [], node.where, node.key_lines, node.trainable,
                            node.like, node, node.shares)  # by position: keywords cost a third more
                       for path, node, (_, before, scope) in zip(new_paths, template.nodes, shape.nodes)
                       for previous in (input_path if before is None else prefix + before,)]
        self.groups += [Group(prefix + rest, group.block, group.args)
                        for group, rest in zip(template.groups, shape.groups)]
        return input_path if shape.output is None else prefix + shape.output

    def rebind(self, template: _Template, prefix: str, input_path: str, caller: Scope, values: Mapping[str, Any],
               group: Group, binding: tuple[str, dict[str, Any], Any]) -> tuple[_Shape, list[Scope], str] | None:
        """Add `template`'s shape again under `prefix`, reading `input_path`, for an instance of the same
        block with other arguments that decide the same structure (`structure_key`): its layers, scopes and
        groups as `replay` adds them, but each scope with the names of this instance (`values` for its own,
        `group` its group; a nested block's arguments bound anew over them), so each layer sees what a
        fresh expansion gives it. The shape, the new scopes (its own first) and its output; None, having
        added nothing, where a fresh expansion is to say what goes wrong (a limit passed, a path taken, an
        argument that fails)."""
        shape = template.shape
        plan = shape.rebinding if shape.rebinding is not False else self.rebinding(template)
        if plan is None:
            return None
        if (len(self.nodes) + len(shape.nodes) > MAX_NODES or self.instances + shape.instances > MAX_INSTANCES
                or self.bindings + shape.bindings > MAX_BINDINGS or self.edges + shape.edges > MAX_EDGES):
            return None
        new_paths = [prefix + rest for rest, _, _ in shape.nodes]
        if not self.paths.isdisjoint(new_paths):
            return None
        copies: list[Scope] = []
        groups = [group]  # of each scope, its block instance's group
        try:
            for old, (at, given, names, parent) in zip(template.scopes, shape.scopes):
                if parent < 0:
                    own, scope_binding = values, binding
                else:
                    scope_binding = old.binding
                    block_name, written, own_i = scope_binding
                    outer = copies[parent].values
                    args, _, local = self.bind_arguments(
                        block_name, self.spec.blocks[block_name], written,
                        outer if own_i is _UNSET else with_names(outer, {"i": own_i}))
                    own = with_names(self.spec.args, local)
                    groups.append(Group(prefix + at, block_name, args))
                copies.append(Scope(prefix + at + "/", own, caller if parent < 0 else copies[parent],
                                    input_path if given is None else prefix + given,
                                    {name: input_path if path is None else prefix + path for name, path in names},
                                    old.dropped, old.frozen, scope_binding))
        except ArchcalcError:
            return None
        self.count_instance(shape.instances)
        self.count_bindings(shape.bindings)
        self.edges += shape.edges
        self.paths.update(new_paths)
        self.nodes += [Node(path, node.layer_cls, node.hyper,
                            copy.values if layer_i is _UNSET else with_names(copy.values, {"i": layer_i}), copy,
                            node.refs, previous, [previous] if node.refs is None else [], node.where, node.key_lines,
                            node.trainable, node.like, None, node.shares)
                       for path, node, (_, before, scope), layer_i in zip(new_paths, template.nodes, shape.nodes,
                                                                          plan.own_i)
                       for previous, copy in ((input_path if before is None else prefix + before, copies[scope]),)]
        self.groups += [Group(prefix + rest, old.block, old.args) if at < 0 else groups[at]
                        for old, rest, at in zip(template.groups, shape.groups, plan.group_scopes)]
        return shape, copies, input_path if shape.output is None else prefix + shape.output

    def rebinding(self, template: _Template) -> _Rebinding | None:
        """What `rebind` needs beyond `template`'s shape, kept with the shape; None where the shape cannot
        be rebound: a scope that is not a block instance's, a block instance's group not found by its path."""
        shape, scopes = template.shape, template.scopes
        at = {scope[0]: position for position, scope in enumerate(shape.scopes)}
        group_scopes = [at.get(rest, -1) for rest in shape.groups]
        found = sorted(position for position in group_scopes if position >= 0)
        if (all(scope.binding is not None for scope in scopes) and found == list(range(len(scopes)))
                and all(group.block == scopes[position].binding[0]
                        for group, position in zip(template.groups, group_scopes) if position >= 0)):
            shape.rebinding = _Rebinding([_UNSET if node.values is scopes[place[2]].values else node.values["i"]
                                          for node, place in zip(template.nodes, shape.nodes)], group_scopes)
        else:
            shape.rebinding = None
        return shape.rebinding

    def structure_key(self, block_name: str, depth: int, frozen: bool, local: dict[str, Any]) -> tuple | None:
        """What decides the structure of an instance of block `block_name` (its layers, names, inputs,
        scopes and groups; not the values its layers see): the block, the depth, whether it is frozen and
        the values of the names of `structure_names` that the instance binds (the file's `args` are the same
        for every instance). None where that cannot be told."""
        names = self.structure_names(block_name)
        if names is None:
            return None
        try:
            return (block_name, depth, frozen, *[hashable(local.get(name, _UNSET)) for name in names])
        except TypeError:  # a value that cannot be part of a key
            return None

    def structure_names(self, block_name: str) -> tuple[str, ...] | None:
        """The arguments of block `block_name`, and `i`, whose values may decide the structure of an
        instance: those read by its entries' `when` and `repeat`, and by the values of the arguments that
        decide the structure of the blocks it uses. None where that cannot be told: an expression that does
        not parse, a block that uses itself, a block used that may add no layer (its group would be found
        by no layer's scope: `rebinding`)."""
        if block_name in self.deciding:
            return self.deciding[block_name]
        self.deciding[block_name] = None  # while it is worked out: a block that uses itself has none
        blocks = self.spec.blocks
        read: set[str] = set()
        used: dict[str, tuple[str, ...] | None] = {}  # of each block used: its own, None where it cannot be told
        for raw in blocks[block_name].layers:
            if not isinstance(raw, dict):
                return None
            for text in (raw.get("when"), raw.get("repeat")):  # else true, false, a count (or refused on the way)
                if isinstance(text, str):
                    names = names_read(text)
                    if names is None:
                        return None
                    read |= names
            kind = raw.get("type")
            if isinstance(kind, str) and kind in blocks:
                if kind not in used:
                    inner = self.structure_names(kind)
                    used[kind] = None if inner is None or self.least_cost(kind)[0] == 0 else inner
                if used[kind] is None:
                    return None
                if used[kind]:  # else every instance of it has one structure
                    names = self.caller_names(kind, raw, used[kind])
                    if names is None:
                        return None
                    read |= names
        found = self.deciding[block_name] = tuple(sorted(read & {*blocks[block_name].args, "i"}))
        return found

    def caller_names(self, block_name: str, raw: dict[str, Any], wanted: tuple[str, ...]) -> set[str] | None:
        """The names of the caller's scope that the names `wanted` of an instance of block `block_name`
        (made by entry `raw`) may depend on: its `i` is the caller's; an argument given is read from the
        caller's names, a default from the file's `args`, `i` and the arguments before it. None where an
        expression does not parse."""
        args = self.spec.blocks[block_name].args
        found: set[str] = set()
        todo, seen = list(wanted), set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name == "i":
                found.add("i")
            if name not in args:  # `i`, or a name of the file's `args`: the same for every instance
                continue
            given = name in raw and name not in _STRUCTURAL
            for text in _texts(raw[name] if given else args[name]):
                names = names_read(text)
                if names is None:
                    return None
                if given:
                    found |= names
                else:
                    todo += names
        return found

    def add_node(self, scope: Scope, path: str, cls: type[Layer], hyper: dict[str, Any],
                 refs: list[str] | None, previous: str | None, values: dict[str, Any] | None = None,
                 where: tuple[str, int] | None = None, key_lines: Mapping[str, tuple[str, int]] | None = None,
                 trainable: bool = True, like: str | None = None, shares: str | None = None) -> str:
        if like is not None and not cls.sized_by_second_input:
            raise SpecError(f"like: gives a size to upsample and crop, not to {cls.type_name}")
        if path in self.paths:
            raise GraphError(f"duplicate layer path {path!r}")
        if len(self.nodes) >= MAX_NODES:
            self.too_many_nodes()
        self.edges += 1 if refs is None else len(refs)
        if self.edges > MAX_EDGES:
            raise SpecError(f"more than {MAX_EDGES:,} edges (inputs of layers) after expansion")
        self.paths.add(path)
        inputs = [previous] if refs is None and previous is not None else []  # `from:`: resolved at the end
        self.nodes.append(Node(path, cls, hyper, values if values is not None else scope.values,  # by position
                               scope, refs, previous, inputs, where, key_lines, trainable, like, None, shares))
        return path

    def refuse_early(self, repeat: int, block: BlockDef | None, name: str) -> None:
        """Refuse an entry whose copies are sure to pass a limit, before building any of them."""
        layers, instances = (1, 0) if block is None else self.least_cost(name)
        if len(self.nodes) + repeat * layers > MAX_NODES:
            self.too_many_nodes()
        if self.instances + repeat * instances > MAX_INSTANCES:
            self.count_instance(repeat * instances)
        if block is not None:
            self.count_bindings(0, repeat * len(block.args))

    def least_cost(self, name: str, depth: int = 0) -> tuple[int, int]:
        """The fewest (layers, block instances and dropped copies) that one instance of block `name`
        adds, counting only the entries whose `repeat` and `when` are constants."""
        if name in self.costs or depth > MAX_BLOCK_DEPTH:
            return self.costs.get(name, (0, 0))
        self.costs[name] = (0, 0)  # a block that uses itself is refused later, by its depth
        layers, instances = 0, 1
        for raw in self.spec.blocks[name].layers:
            repeat, when, kind = raw.get("repeat", 1), raw.get("when", True), raw.get("type")
            if isinstance(repeat, bool) or not isinstance(repeat, int) or not isinstance(when, bool):
                continue
            if not when:
                instances += repeat
            elif isinstance(kind, str) and kind in self.spec.blocks:
                inner_layers, inner_instances = self.least_cost(kind, depth + 1)
                layers, instances = layers + repeat * inner_layers, instances + repeat * inner_instances
            else:
                layers += repeat
        self.costs[name] = (min(layers, MAX_NODES + 1), min(instances, MAX_INSTANCES + 1))
        return self.costs[name]

    @staticmethod
    def too_many_nodes():
        raise SpecError(f"more than {MAX_NODES:,} layers after expansion")

    def count_instance(self, count: int = 1) -> None:
        self.instances += count
        if self.instances > MAX_INSTANCES:
            raise SpecError(f"more than {MAX_INSTANCES:,} block instances and dropped entries after expansion")

    def count_bindings(self, count: int, ahead: int = 0) -> None:
        """Add `count` block arguments bound; refuse when that, plus `ahead` sure to come, passes the limit."""
        self.bindings += count
        if self.bindings + ahead > MAX_BINDINGS:
            raise SpecError(f"more than {MAX_BINDINGS:,} block arguments bound after expansion "
                            "(block arguments × block instances)")

    # --- evaluation helpers ----------------------------------------------------------------
    def repeat_count(self, entry: LayerEntry, values: dict[str, Any]) -> int:
        if entry.repeat is None:
            return 1
        count = resolve_value(entry.repeat, values)
        if isinstance(count, bool) or not isinstance(count, int):
            raise SpecError(f"repeat must be an integer, got {count!r}")
        if not 0 <= count <= MAX_REPEAT:
            raise SpecError(f"repeat must be between 0 and {MAX_REPEAT:,}, got {count:,}")
        return count

    def truth(self, condition: bool | str, values: dict[str, Any]) -> bool:
        result = resolve_value(condition, values) if isinstance(condition, str) else condition
        if not isinstance(result, bool):
            raise SpecError(f"when must be true or false, got {result!r}")
        return result

    def resolve_inputs(self, node: Node) -> None:
        """A node's `from:`, `like:` and `shares:` as paths, once every layer exists (one without them has
        its inputs from its creation: the layer before it)."""
        if node.refs is not None:
            node.inputs = [node.scope.lookup(ref) or self.global_ref(ref, node.scope, node.path)
                           for ref in node.refs]
        if node.like is not None:
            like = node.scope.lookup(node.like) or self.global_ref(node.like, node.scope, node.path, "like")
            node.inputs.append(like)
        if node.shares is not None and node.owner is None:  # a block's `shares:` has set it already
            node.owner = node.scope.lookup(node.shares) or self.global_ref(node.shares, node.scope, node.path,
                                                                            "shares")

    def global_ref(self, ref: str, scope: Scope, where: str, key: str = "from") -> str:
        if ref in self.paths:
            return ref
        candidates = scope.visible() + sorted(self.paths)
        hint = suggestion(ref, candidates)
        raise GraphError(f"{key}: {ref!r} names no layer{hint}", layer=where)


class _Outside(Exception):
    """A block instance leads to a layer outside it (`_Expander.template`)."""


@cache
def _entry_list() -> TypeAdapter:
    """The validator of a list of layer entries: one call into pydantic for all of them."""
    return TypeAdapter(list[LayerEntry])


def _validated(entries: list[Any]) -> list[LayerEntry] | None:
    """Each entry's structural keys (`LayerEntry`), validated at once; None where one does not validate:
    each is then validated when it is reached, so that what is wrong is said where a fresh walk says it."""
    try:
        return _entry_list().validate_python(entries)
    except ValidationError:
        return None


def _texts(value: Any) -> list[str]:
    """The strings in a value read from a file (in lists too)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def expand(spec: ArchFile) -> Expansion:
    """Expand blocks, repeats and names of a validated file."""
    with cycle_collection_paused():
        return _Expander(spec).run()
