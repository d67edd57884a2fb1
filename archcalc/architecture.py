"""The architecture as a validated DAG: `Architecture`, what `archcalc.load` returns.

Ordering and cycle detection are a plain Kahn walk (fast to import and run); the networkx view
of the same graph, `Architecture.graph`, is built on first use for users who want it.
`last_readers` is the one liveness rule: the analyzer's peak memory, the executor's reference walk
and fast path, and the torch graph all free a tensor after the step it names.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import ArchcalcError, GraphError
from .gc_pause import cycle_collection_paused
from .spec import ArchFile, Group, Node, expand, load_spec


@dataclass(frozen=True)
class Architecture:
    """A loaded architecture: its file, its layers in execution order and its graph."""

    spec: ArchFile
    source: str
    nodes: tuple[Node, ...]
    groups: tuple[Group, ...]
    input_path: str
    output_path: str
    warnings: tuple[str, ...]
    #: `outputs:` of the file: output name → layer path, the first `output_path`; empty for one output.
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def output_paths(self) -> tuple[str, ...]:
        """The paths of every output layer, the network's output first."""
        return tuple(self.outputs.values()) or (self.output_path,)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title or self.spec.name

    @property
    def files(self) -> tuple:
        """The files it was read from, itself first, then those it `extends` (`spec.FileRead`)."""
        return self.spec._files

    @cached_property
    def _by_path(self) -> dict[str, Node]:
        return {node.path: node for node in self.nodes}

    def node(self, path: str) -> Node:
        return self._by_path[path]

    @cached_property
    def graph(self) -> Any:
        """The layers as a networkx DiGraph (nodes are paths, attribute `node`; edges follow data)."""
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from((node.path, {"node": node}) for node in self.nodes)
        graph.add_edges_from((src, node.path) for node in self.nodes for src in node.inputs)
        return graph

    def __repr__(self) -> str:
        return f"Architecture({self.name!r}, {len(self.nodes)} layers, from {self.source})"


def load(source: str | Path | dict[str, Any], *, text: str | None = None) -> Architecture:
    """Load a zoo name, a file path, a mapping, or YAML/JSON `text` (with `source` as its label)."""
    if isinstance(source, Architecture):
        return source
    with cycle_collection_paused():  # reading, validating and expanding a file make no reference cycles
        spec, label = load_spec(source, text)
        try:
            return build(spec, label)
        except ArchcalcError as exc:
            raise exc.located(file=label) from None


def build(spec: ArchFile, source: str) -> Architecture:
    """Expand the file, build the DAG, check references and cycles, order the layers."""
    expansion = expand(spec)
    if spec.freeze:
        from .freezing import freeze_named

        try:
            freeze_named(expansion.nodes, spec.freeze)
        except ArchcalcError as exc:
            raise exc.located(where=spec._lines.get(("freeze",))) from None
    ordered = execution_order(expansion.nodes)
    used = {src for node in expansion.nodes for src in node.inputs}
    ends = {expansion.output_path, *expansion.outputs.values()}
    unused = [n.path for n in ordered if n.path not in used and n.path not in ends]
    warnings = tuple(f"{path}: output is never used" for path in unused)
    return Architecture(spec, source, tuple(ordered), tuple(expansion.groups),
                        expansion.input_path, expansion.output_path, warnings, expansion.outputs)


def execution_order(nodes: list[Node]) -> list[Node]:
    """The nodes in an order where every input comes first, ties kept in file order (Kahn)."""
    earlier: set[str] = set()
    for node in nodes:  # most files list every layer after its inputs: kept as they are
        if not earlier.issuperset(node.inputs):
            break
        earlier.add(node.path)
    else:
        return list(nodes)
    position = {node.path: index for index, node in enumerate(nodes)}
    waiting = {node.path: len(set(node.inputs)) for node in nodes}
    readers: dict[str, list[Node]] = {}
    for node in nodes:
        for src in set(node.inputs):
            readers.setdefault(src, []).append(node)
    ready = [(position[n.path], n.path) for n in nodes if not waiting[n.path]]
    heapq.heapify(ready)
    ordered: list[Node] = []
    while ready:
        _, path = heapq.heappop(ready)
        ordered.append(nodes[position[path]])
        for reader in readers.get(path, ()):
            waiting[reader.path] -= 1
            if not waiting[reader.path]:
                heapq.heappush(ready, (position[reader.path], reader.path))
    if len(ordered) < len(nodes):
        loop = _a_cycle(nodes, {n.path for n in ordered})
        later = [(a, b) for a, b in zip(loop, loop[1:], strict=False) if position[a] > position[b]]
        hint = f" ({later[0][1]} takes from: {later[0][0]!r}, a layer later in the file)" if later else ""
        raise GraphError(f"the layers form a cycle: {' → '.join(loop)}{hint}",
                         layer=later[0][1] if later else loop[0]).located(
            where=nodes[position[later[0][1] if later else loop[0]]].where)
    return ordered


def _a_cycle(nodes: list[Node], done: set[str]) -> list[str]:
    """One cycle among the nodes Kahn's walk could not order, in data order (first repeated last)."""
    by_path = {node.path: node for node in nodes}
    path = next(n.path for n in nodes if n.path not in done)
    seen: list[str] = []
    while path not in seen:
        seen.append(path)
        path = next(src for src in by_path[path].inputs if src not in done)
    return list(reversed(seen[seen.index(path):] + [path]))


def last_readers(steps: Iterable[tuple[str, Sequence[str]]], output: str | tuple[str, ...]) -> dict[str, int]:
    """For (name, inputs) steps in execution order: the index of the last step that reads each name
    (its own index when nothing does; one past the end for the network's `output`, or each of several)."""
    last: dict[str, int] = {}
    count = 0
    for index, (name, inputs) in enumerate(steps):
        last.setdefault(name, index)
        for src in inputs:
            last[src] = index
        count = index + 1
    for name in (output,) if isinstance(output, str) else output:
        last[name] = count
    return last
