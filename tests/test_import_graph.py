"""archcalc's subpackages import one another in layers, never in a circle: the graph of imports between
them (each folder `archcalc/X/` one node, each top-level module `archcalc/x.py` its own node) has no
cycle. Every import counts, at the top of a module or inside a function, absolute or relative."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).parent.parent / "archcalc"


def module_name(path: Path, package: Path) -> str:
    """The dotted name of the module at `path` inside `package` (a package's `__init__` is the package)."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every module or name `path` imports, relative imports resolved; for
    `from m import n` both `m` and `m.n` (`n` may be a module)."""
    name = module_name(path, package)
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            found += [(node.lineno, source), *((node.lineno, f"{source}.{alias.name}") for alias in node.names)]
    return found


def unit(dotted: str, package: Path) -> str | None:
    """The node of the graph that the module `dotted` belongs to: its subpackage `X` or top-level module
    `x`; None for the package itself (`archcalc/__init__.py`) and for anything outside it."""
    parts = dotted.split(".")
    if parts[0] != package.name or len(parts) < 2:
        return None
    first = package / parts[1]
    return parts[1] if first.is_dir() or first.with_suffix(".py").is_file() else None


def import_graph(package: Path) -> nx.DiGraph:
    """Edges between the units of `package`, each holding the imports that make it (`module:line -> name`)."""
    graph = nx.DiGraph()
    for path in sorted(package.rglob("*.py")):
        source = unit(module_name(path, package), package)
        if source is None:
            continue
        graph.add_node(source)
        witnesses = defaultdict(set)
        for line, name in imported_names(path, package):
            target = unit(name, package)
            if target is not None and target != source:
                witnesses[target].add(f"{module_name(path, package)}:{line} -> {name}")
        for target, found in witnesses.items():
            if not graph.has_edge(source, target):
                graph.add_edge(source, target, imports=set())
            graph.edges[source, target]["imports"] |= found
    return graph


def cycles(graph: nx.DiGraph) -> list[str]:
    """Each cycle of `graph`, with the imports along it."""
    found = []
    for cycle in nx.simple_cycles(graph):
        steps = list(zip(cycle, [*cycle[1:], cycle[0]]))
        found.append(" -> ".join([*cycle, cycle[0]]) + "\n" + "\n".join(
            f"    {line}" for a, b in steps for line in sorted(graph.edges[a, b]["imports"])))
    return found


def test_no_cycle_between_subpackages():
    found = cycles(import_graph(PACKAGE))
    assert not found, "subpackages import one another in a circle:\n" + "\n".join(found)


def test_the_graph_sees_every_kind_of_import(tmp_path):
    package = tmp_path / "pkg"
    (package / "low").mkdir(parents=True)
    (package / "high").mkdir()
    for path in ("__init__.py", "low/__init__.py", "high/__init__.py", "top.py"):
        (package / path).write_text("")
    (package / "low" / "a.py").write_text("def f():\n    from ..high import b\n")
    (package / "high" / "b.py").write_text("from . import c\nimport pkg.top\n")
    (package / "top.py").write_text("from pkg.low.a import f\n")
    graph = import_graph(package)
    assert set(graph.edges) == {("low", "high"), ("high", "top"), ("top", "low")}
    assert len(cycles(graph)) == 1


def test_the_graph_sees_archcalcs_own_layers():
    graph = import_graph(PACKAGE)
    assert graph.has_edge("report", "analysis")
    assert graph.has_edge("analysis", "layers")
    assert not graph.has_edge("layers", "report")
