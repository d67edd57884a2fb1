"""The architecture as a validated networkx DAG: `Architecture`, what `archcalc.load` returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from .errors import ArchcalcError, GraphError
from .spec import ArchFile, Group, Node, expand, load_spec


@dataclass(frozen=True)
class Architecture:
    """A loaded architecture: its file, its layers in execution order and its graph."""

    spec: ArchFile
    source: str
    nodes: tuple[Node, ...]
    graph: nx.DiGraph
    groups: tuple[Group, ...]
    input_path: str
    output_path: str
    warnings: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.title or self.spec.name

    def node(self, path: str) -> Node:
        return self.graph.nodes[path]["node"]

    def __repr__(self) -> str:
        return f"Architecture({self.name!r}, {len(self.nodes)} layers, from {self.source})"


def load(source: str | Path | dict[str, Any], *, text: str | None = None) -> Architecture:
    """Load a zoo name, a file path, a mapping, or YAML/JSON `text` (with `source` as its label)."""
    if isinstance(source, Architecture):
        return source
    spec, label = load_spec(source, text)
    try:
        return build(spec, label)
    except ArchcalcError as exc:
        raise exc.located(file=label) from None


def build(spec: ArchFile, source: str) -> Architecture:
    """Expand the file, build the DAG, check references and cycles, order the layers."""
    expansion = expand(spec)
    order = {node.path: index for index, node in enumerate(expansion.nodes)}
    graph = nx.DiGraph()
    graph.add_nodes_from((node.path, {"node": node}) for node in expansion.nodes)
    graph.add_edges_from((src, node.path) for node in expansion.nodes for src in node.inputs)
    if all(order[src] < order[node.path] for node in expansion.nodes for src in node.inputs):
        ordered = expansion.nodes  # every input comes earlier: file order is an execution order
    else:
        if not nx.is_directed_acyclic_graph(graph):
            cycle = nx.find_cycle(graph)
            loop = " → ".join([edge[0] for edge in cycle] + [cycle[0][0]])
            raise GraphError(f"the layers form a cycle: {loop}", layer=cycle[0][0])
        ordered = [graph.nodes[p]["node"] for p in
                   nx.lexicographical_topological_sort(graph, key=order.__getitem__)]
    used = {src for node in expansion.nodes for src in node.inputs}
    unused = [n.path for n in ordered if n.path not in used and n.path != expansion.output_path]
    warnings = tuple(f"{path}: output is never used" for path in unused)
    return Architecture(spec, source, tuple(ordered), graph, tuple(expansion.groups),
                        expansion.input_path, expansion.output_path, warnings)
