"""From an imported flat graph to the mapping a person would write: nested names, one block per module
class (its instances' differences become arguments and `when:`), `repeat:` over numbered siblings,
`defaults:` for the settings most layers of a type share."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from ..errors import SpecError
from .imported import NETWORK_INPUT, ImportedGraph, ImportedLayer, name_part
from .verify import check_written


@dataclass
class Entry:
    """One entry of a scope as it will be written: a layer, or a module written as a block (`block`),
    with the block's `group` and this module's index among its instances (`instance`; None in a block's
    own template, whose `params` may name the block's arguments). `sources` are the sibling names it
    reads (`input`: the scope's input); `when` the argument that keeps it in only some instances;
    `repeat` the copies of a block chained `0 … n−1` it stands for."""

    name: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    block: bool = False
    group: dict | None = None
    instance: int | None = None
    when: str | None = None
    repeat: int | None = None

    def signature(self) -> tuple:
        """What the entry says, without its links to other groups."""
        return (self.name, self.type, self.params, self.sources, self.block, self.when, self.repeat)


def to_mapping(graph: ImportedGraph) -> dict[str, Any]:
    """The architecture mapping (`archcalc.load` and `analyze` accept it) of `graph`."""
    nodes = [ImportedLayer(_names(n.path), n.type, dict(n.params), list(n.inputs), n.call, n.trainable)
             for n in graph.layers]
    output = len(nodes) - 1 if graph.output is None else graph.output
    ends = {output, *graph.outputs.values()}
    _refuse_reused(nodes, graph.name)
    _hoist_and_flatten(nodes, ends)
    _unique_paths(nodes)
    freeze = _freeze(nodes)
    calls = _calls(nodes)
    blocks = _Blocks({_names(path): cls for path, cls in graph.classes.items()})
    entries, out_name, names = _scope(nodes, (), list(range(len(nodes))), blocks, output, ends)
    blocks.settle()
    layers = [_render(e) for e in _repeats(entries)]
    bodies = {name: dict(b) for name, b in blocks.used().items()}
    for body in bodies.values():
        body["layers"] = [_render(e) for e in _repeats(body["layers"], set(body.get("args", {})))]
    _drop_unused(bodies, layers)
    defaults = _defaults([*layers, *(e for b in bodies.values() for e in b["layers"])])
    mapping: dict[str, Any] = {"name": graph.name, "source": graph.source, "input": list(graph.input)}
    for group in [layers, *(b["layers"] for b in bodies.values())]:
        _froms(group)
    if calls:
        mapping["calls"] = calls
    if defaults:
        mapping["defaults"] = defaults
    if bodies:
        mapping["blocks"] = bodies
    if freeze:
        mapping["freeze"] = freeze
    mapping["layers"] = layers
    if graph.outputs:
        mapping["outputs"] = {key: names[index] for key, index in graph.outputs.items()}
    elif out_name != layers[-1]["name"]:
        mapping["output"] = out_name
    check_written(graph, mapping)
    return mapping


def _freeze(nodes: list[ImportedLayer]) -> list[str]:
    """`freeze:` patterns for the layers the source does not train: for each, the shortest module path
    above it (or its own) under which no layer is trained (`layer1` rather than its every layer)."""
    trained = {n.path[:k] for n in nodes if n.trainable for k in range(1, len(n.path) + 1)}
    patterns: list[str] = []
    for node in nodes:
        if node.trainable is False:
            shortest = next(k for k in range(1, len(node.path) + 1) if node.path[:k] not in trained)
            pattern = "/".join(node.path[:shortest])
            if pattern not in patterns:
                patterns.append(pattern)
    return patterns


def _names(path: tuple[str, ...]) -> tuple[str, ...]:
    """A source's path with every part an archcalc name (`../x` → `___x`)."""
    return tuple(name_part(str(part)) for part in path)


def _calls(nodes: list[ImportedLayer]) -> dict[str, str]:
    """The `calls:` mapping of the nodes (by their final paths): per layer type, `"type:*": call` for
    the call most of its layers share (nothing when that is `module`, the default), preceded by a
    pattern for each other layer (the first match wins), as general as it can be without matching a
    layer of that type called otherwise: `*/name`, else the path with indices as `*`, else the path.
    Data movement (flatten, concat, views), which no counting tool counts, gets no pattern."""
    from ..layers.base import registered_types
    from ..layers.family import Family

    types = registered_types()
    sites: dict[str, list[tuple[str, str]]] = {}
    for node in nodes:
        if types[node.type].family is not Family.DATA:
            sites.setdefault(node.type, []).append(("/".join(node.path), node.call))
    calls: dict[str, str] = {}
    for type_, found in sites.items():
        counts = Counter(call for _, call in found)
        common = max(counts, key=lambda call: (counts[call], call == "module"))
        for path, call in found:
            if call != common:
                others = [p for p, c in found if c != call]
                calls.setdefault(f"{type_}:{_pattern(path, others)}", call)
        if common != "module":
            calls[f"{type_}:*"] = common
    return calls


def _pattern(path: str, others: list[str]) -> str:
    """The most general of a few `fnmatch` patterns matching `path` and none of `others`."""
    head, _, name = path.rpartition("/")
    candidates = [f"*/{name}" if head else name, re.sub(r"(?<![^/])\d+(?![^/])", "*", path), path]
    return next(c for c in candidates if not any(fnmatchcase(other, c) for other in others))


def _prefixes(nodes: list[ImportedLayer]) -> list[tuple[str, ...]]:
    found = {n.path[:k] for n in nodes for k in range(1, len(n.path))}
    return sorted(found, key=len, reverse=True)


def _hoist_and_flatten(nodes: list[ImportedLayer], ends: set[int]) -> None:
    """Make every module prefix a block with one input and one output: a leading join of several
    outside tensors (DenseNet's `torch.cat(features)`) moves up a level; a module that still reads or
    exposes several tensors is flattened into its parent (`denselayer1_conv1`)."""
    for prefix in _prefixes(nodes):
        depth = len(prefix)
        members = [i for i, n in enumerate(nodes) if n.path[:depth] == prefix and len(n.path) > depth]
        if not members:
            continue
        inside = set(members)
        for i in members:
            outside = {s for s in nodes[i].inputs if s not in inside}
            if len(outside) < 2 or len(outside) != len(set(nodes[i].inputs)):
                break
            nodes[i].path = prefix[:-1] + (prefix[-1] + "_" + nodes[i].path[-1],)
            inside.discard(i)
        if not _blockable(nodes, inside, ends):
            for i in inside:
                nodes[i].path = prefix[:-1] + ("_".join(nodes[i].path[depth - 1:]),)


def _blockable(nodes: list[ImportedLayer], inside: set[int], ends: set[int]) -> bool:
    external = {s for i in inside for s in nodes[i].inputs if s not in inside}
    read = {s for j, n in enumerate(nodes) if j not in inside for s in n.inputs if s in inside}
    read |= ends & inside
    return len(external) == 1 and len(read) == 1


def _refuse_reused(nodes: list[ImportedLayer], label: str) -> None:
    """Refuse a module with weights that runs more than once (a head on every pyramid level): its
    weights would be counted once per call. The file says it with `shares:`, which import does not write."""
    seen: set[tuple[str, ...]] = set()
    for node in nodes:
        if node.call == "module" and node.trainable is not None:  # trainable None: no parameters
            if node.path in seen:
                raise SpecError(f"module {'/'.join(node.path)!r} holds weights and runs more than once; import "
                                "does not write `shares:` for its later calls (docs/format.md): write those by hand",
                                file=label)
            seen.add(node.path)


def _unique_paths(nodes: list[ImportedLayer]) -> None:
    taken: set[tuple[str, ...]] = {n.path[:k] for n in nodes for k in range(1, len(n.path))}
    for node in nodes:
        path, count = node.path, 0
        while path in taken or not path[-1]:
            count += 1
            path = node.path[:-1] + (f"{node.path[-1]}_{count}",)
        node.path = path
        taken.add(path)


def _scope(nodes, prefix, members, blocks, output, ends) -> tuple[list[Entry], str, dict[int, str]]:
    """The entries of one scope (the top level or one module), the name of its output, and the entry
    names of the layers (`ends`: the network's outputs) whose values leave the scope."""
    depth = len(prefix)
    inside = set(members)
    children: dict[str, list[int]] = {}
    for i in members:
        children.setdefault(nodes[i].path[depth], []).append(i)
    owner = {i: name for name, ids in children.items() for i in ids}
    outputs: dict[str, int] = {}
    entries = []
    for name, ids in children.items():
        node = nodes[ids[0]]
        if len(ids) == 1 and len(node.path) == depth + 1:
            entry = Entry(name, node.type, dict(node.params))
            sources, outputs[name] = node.inputs, ids[0]
        else:
            sub = set(ids)
            readers = {s for j, n in enumerate(nodes) if j not in sub for s in n.inputs if s in sub}
            out = (readers | (ends & sub) or {ids[-1]}).pop()
            body, out_name, _ = _scope(nodes, prefix + (name,), ids, blocks, out, {out})
            group, index = blocks.instance(prefix + (name,), body, out_name)
            entry = Entry(name, group["name"], block=True, group=group, instance=index)
            sources, outputs[name] = sorted({s for i in ids for s in nodes[i].inputs if s not in sub}), out
        entry.sources = ["input" if s not in inside or s == NETWORK_INPUT else owner[s] for s in sources]
        entries.append(entry)
    read_from = {i: name for name, i in outputs.items()}
    out_name = read_from.get(output, entries[-1].name)
    return entries, out_name, read_from


def _type_key(value: Any) -> Any:
    return repr(value)


class _Blocks:
    """Block definitions by module class: instances that unify share one block with arguments."""

    def __init__(self, classes: dict[tuple[str, ...], str]):
        self.classes = classes
        self.groups: dict[str, list[dict]] = {}       # class -> [{"bodies": [...], "name": str}]
        self.names: set[str] = set()
        self.order: list[dict] = []

    def instance(self, path: tuple[str, ...], body: list[Entry], out: str) -> tuple[dict, int]:
        """The group (block) the module at `path` joins, and its index there."""
        cls = self.classes.get(path, "block")
        candidates = self.groups.setdefault(cls, [])
        for group in candidates:
            template = _unify([*group["bodies"], (body, out)])
            if template is not None:
                group["bodies"].append((body, out))
                group["template"] = template
                return group, len(group["bodies"]) - 1
        group = {"bodies": [(body, out)], "name": self._name(cls), "template": _unify([(body, out)])}
        candidates.append(group)
        self.order.append(group)
        return group, 0

    def settle(self) -> None:
        """Re-unify every block until none changes: a block's arguments depend on the final
        arguments of the blocks it uses, whose later instances may have added some."""
        for _ in range(len(self.order) + 1):
            changed = False
            for group in self.order:
                template = _unify(group["bodies"])
                if template is None:
                    raise SpecError(f"cannot write the instances of block {group['name']!r} as one block")
                if _signature(template) != _signature(group["template"]):
                    group["template"], changed = template, True
            if not changed:
                return

    def _name(self, cls: str) -> str:
        from ..layers.base import registered_types

        base = re.sub(r"\W", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls).lower()).strip("_") or "block"
        if base in registered_types() or base[0].isdigit():
            base = f"{base}_block"
        name, count = base, 1
        while name in self.names:
            count += 1
            name = f"{base}_{count}"
        self.names.add(name)
        return name

    def used(self) -> dict[str, dict]:
        return {g["name"]: g["template"]["block"] for g in self.order}


def _args_of(entry: Entry) -> dict:
    """The concrete arguments of a block-typed entry (from its group's current template)."""
    if entry.instance is None:
        return entry.params
    return entry.group["template"]["args"][entry.instance]


def _same_keys(entries: list[Entry]) -> list[dict] | None:
    """The arguments of each entry, all with the same keys, or None: instances of a block that leave
    out an argument get the block's default of it where another passes it."""
    values = [_args_of(e) for e in entries]
    keys = list(dict.fromkeys(k for v in values for k in v))
    if all(len(v) == len(keys) for v in values):
        return values
    defaults = entries[0].group["template"]["block"].get("args", {}) if entries[0].block else {}
    if any(defaults.get(k) is None for k in keys if any(k not in v for v in values)):
        return None
    return [{k: v[k] if k in v else defaults[k] for k in keys} for v in values]


def _unify(bodies: list[tuple[list[Entry], str]]) -> dict | None:
    """One block for every body, or None: entries present in only some become `when:` arguments,
    values that differ become arguments; every instance's `from` must follow from the template's."""
    order: list[str] = []
    for body, _ in bodies:
        previous = None
        for entry in body:
            if entry.name not in order:
                order.insert(order.index(previous) + 1 if previous else 0, entry.name)
            previous = entry.name
    outs = {out for _, out in bodies}
    if len(outs) != 1:
        return None
    by_name = [{e.name: e for e in body} for body, _ in bodies]
    richest = max(range(len(bodies)), key=lambda k: len(bodies[k][0]))
    template_from: dict[str, list[str]] = {}
    for name in order:
        having = [k for k, b in enumerate(by_name) if name in b]
        best = richest if richest in having else having[0]
        template_from[name] = by_name[best][name].sources
    columns: dict[str, list[Any]] = {}       # argument -> its value per instance (_MISSING: not passed)
    layers = []
    for name in order:
        present = [name in b for b in by_name]
        mine = [b[name] for b in by_name if name in b]
        first = mine[0]
        if any(e.type != first.type or e.block != first.block for e in mine):
            return None
        values = _same_keys(mine)
        if values is None:
            return None
        params = {}
        for key in values[0]:
            it = iter(v[key] for v in values)
            column = [next(it) if here else _MISSING for here in present]
            params[key] = _argument(columns, key, name, column)
        entry = Entry(name, first.type, params, template_from[name], first.block,
                      first.group if first.block else None)
        if not all(present):
            entry.when = _argument(columns, f"has_{name}", name, present, constant=False)
        layers.append(entry)
    dropped = [{n for n in order if n not in b} for b in by_name]
    for k, b in enumerate(by_name):
        for name, entry in b.items():
            resolved = [_resolve(s, dropped[k], template_from) for s in template_from[name]]
            if resolved != entry.sources:
                return None
    args = [{a: c[k] for a, c in columns.items() if c[k] is not _MISSING} for k in range(len(bodies))]
    block = {"args": {a: _default(c) for a, c in columns.items()}, "layers": layers}
    if outs != {order[-1]}:
        block["output"] = outs.pop()
    if not block["args"]:
        del block["args"]
    return {"block": block, "args": args}


_MISSING = object()


def _signature(template: dict) -> str:
    """A template without its links to other groups, to tell whether re-unifying changed it."""
    block = template["block"]
    layers = [e.signature() for e in block["layers"]]
    return repr((block.get("args"), block.get("output"), layers, template["args"]))


def _argument(columns: dict[str, list[Any]], key: str, entry: str, column: list[Any], constant: bool = True) -> Any:
    """The value written for one hyper-parameter: itself when every instance has the same, else an
    argument (shared with an earlier one that holds the same value wherever both are passed)."""
    known = [_type_key(v) for v in column if v is not _MISSING]
    if constant and len(set(known)) == 1:
        return next(v for v in column if v is not _MISSING)
    for arg, other in columns.items():
        if all(a is _MISSING or b is _MISSING or _type_key(a) == _type_key(b) for a, b in zip(other, column)) \
                and all(a is not _MISSING for a, b in zip(other, column) if b is not _MISSING):
            return arg
    arg = _identifier(key)
    if arg in columns:
        arg = _identifier(f"{entry}_{key}")
    base, copy = arg, 2
    while arg in columns:  # never reuse a name that holds other values
        arg, copy = f"{base}_{copy}", copy + 1
    columns[arg] = column
    return arg


def _default(column: list[Any]) -> Any:
    """None (required) for an argument every instance passes; else the first value passed."""
    return None if all(v is not _MISSING for v in column) else next(v for v in column if v is not _MISSING)


def _resolve(name: str, dropped: set[str], template_from: dict[str, list[str]]) -> str:
    while name in dropped:
        name = template_from[name][0]
    return name


def _identifier(text: str) -> str:
    text = re.sub(r"\W", "_", text)
    return text if text[0].isalpha() or text[0] == "_" else f"a_{text}"


def _repeats(entries: list[Entry], names: frozenset | set = frozenset()) -> list[Entry]:
    """Entries with concrete arguments; a block whose whole body is the numbered chain `0 … n−1` of
    one block type becomes that block with `repeat: n` (arguments by copy index `i`)."""
    out = []
    for entry in entries:
        if entry.block:
            entry = replace(entry, params=dict(_args_of(entry)))
            entry = replace(entry, **(_chain(entry.group["template"]["block"], entry.params, names) or {}))
        out.append(entry)
    return out


def _chain(inner: dict, args: dict[str, Any], names: frozenset | set) -> dict | None:
    layers = inner["layers"]
    first = layers[0]
    if len(layers) < 2 or "output" in inner or not first.block:
        return None
    if any(e.name != str(k) or e.type != first.type or e.when is not None for k, e in enumerate(layers)):
        return None
    if layers[0].sources != ["input"] or any(e.sources != [str(k)] for k, e in enumerate(layers[1:])):
        return None
    bound = {**{a: d for a, d in inner.get("args", {}).items() if d is not None}, **args}
    columns = [{k: bound[v] if isinstance(v, str) and v in bound else v for k, v in e.params.items()}
               for e in layers]
    if any(c.keys() != columns[0].keys() for c in columns):
        return None
    return {"type": first.type, "params": {key: _by_index([c[key] for c in columns], names) for key in columns[0]},
            "repeat": len(layers), "group": first.group}


def _by_index(values: list[Any], names: frozenset | set) -> Any:
    """A value for copy `i`: the value itself, `a if i == 0 else b`, or `[v0, v1, …][i]`."""
    if all(_type_key(v) == _type_key(values[0]) for v in values):
        return values[0]
    rest = values[1:]
    if all(_type_key(v) == _type_key(rest[0]) for v in rest):
        if values[0] is True and rest[0] is False:
            return "i == 0"
        return f"{_literal(values[0], names)} if i == 0 else {_literal(rest[0], names)}"
    return "[" + ", ".join(_literal(v, names) for v in values) + "][i]"


def _literal(value: Any, names: frozenset | set) -> str:
    """`value` in an expression: an enclosing block's argument by its name, anything else as a literal."""
    if isinstance(value, str):
        return value if value in names else repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v, names) for v in value) + "]"
    return repr(value)


def _render(entry: Entry) -> dict[str, Any]:
    """A layer entry as written (`from` still as the list `_from`, settled by `_froms`)."""
    out = {"name": entry.name, "type": entry.type}
    out.update(entry.params)
    if entry.repeat is not None:
        out["repeat"] = entry.repeat
    if entry.when is not None:
        out["when"] = entry.when
    out["_from"] = entry.sources
    return out


def _froms(layers: list[dict[str, Any]]) -> None:
    """`from` only where an entry does not read the previous one (the first: the scope's input)."""
    previous = "input"
    for layer in layers:
        sources = layer.pop("_from")
        if sources != [previous]:
            layer["from"] = sources[0] if len(sources) == 1 else sources
        previous = layer["name"]


def _drop_unused(bodies: dict[str, dict], layers: list[dict]) -> None:
    """Remove the blocks only a collapsed `repeat` chain used."""
    used, todo = set(), [layers]
    while todo:
        for layer in todo.pop():
            if layer["type"] in bodies and layer["type"] not in used:
                used.add(layer["type"])
                todo.append(bodies[layer["type"]]["layers"])
    for name in [n for n in bodies if n not in used]:
        del bodies[name]


def _defaults(layers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Drop the values every type already defaults to; set `defaults:` for a value most layers of a
    type share (other than the built-in one); `from` only where it is not the previous entry."""
    from ..layers.base import registered_types

    types = registered_types()
    by_type: dict[str, list[dict]] = {}
    for layer in layers:
        if layer["type"] in types:
            by_type.setdefault(layer["type"], []).append(layer)
    defaults: dict[str, dict[str, Any]] = {}
    for type_, group in by_type.items():
        fields = types[type_].model_fields
        keys = {k for layer in group for k in layer if k in fields}
        for key in sorted(keys):
            if fields[key].is_required() and any(key not in layer for layer in group):
                continue    # the layer without it is refused when the file loads back: no default fills it in
            builtin = _plain(fields[key].default)
            counts = Counter(_type_key(_plain(layer[key])) for layer in group if key in layer)
            common, seen = counts.most_common(1)[0]
            value = next(_plain(layer[key]) for layer in group if _type_key(_plain(layer.get(key))) == common)
            chosen = builtin
            if common != _type_key(builtin) and seen * 2 > len(group) and len(group) > 2 and _is_literal(value):
                defaults.setdefault(type_, {})[key] = chosen = value
            for layer in group:
                if key in layer and _type_key(_plain(layer[key])) == _type_key(chosen):
                    del layer[key]
                elif key not in layer and chosen is not builtin:
                    layer[key] = builtin
    return defaults


def _is_literal(value: Any) -> bool:
    return not isinstance(value, str)


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        items = [_plain(v) for v in value]
        return items[0] if items and all(_type_key(v) == _type_key(items[0]) for v in items) else items
    return value
