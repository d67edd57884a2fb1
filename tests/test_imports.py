"""archcalc's modules import one another without a cycle: the import graph of their top-level
imports (relative and absolute, `TYPE_CHECKING` blocks left out) is a DAG."""

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).parent.parent / "archcalc"
LEAVING = "archcalc.fields"  # still in the package, on its way out; its own circle is not held here


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level(tree: ast.Module):
    """The import statements that run when the module is imported (also inside top-level if/try)."""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            yield from _top_level(ast.Module(body=node.body + node.orelse, type_ignores=[]))
        elif isinstance(node, ast.Try):
            yield from _top_level(ast.Module(body=node.body + node.finalbody, type_ignores=[]))


def import_graph() -> nx.DiGraph:
    modules = {_module(p): p for p in ROOT.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _top_level(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                stem = ".".join(base + ([node.module] if node.module else []))
                targets = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_the_import_graph_is_found():
    graph = import_graph()
    assert ("archcalc.analysis", "archcalc.graph") in graph.edges
    assert ("archcalc.report.formats.terminal", "archcalc.report.formats.plain") in graph.edges


def test_no_import_cycle():
    graph = import_graph()
    graph.remove_nodes_from([n for n in list(graph) if n == LEAVING or n.startswith(LEAVING + ".")])
    assert list(nx.simple_cycles(graph)) == []


def test_the_analysis_does_not_import_the_report():
    graph = import_graph()
    assert not any(t.startswith("archcalc.report") for t in nx.descendants(graph, "archcalc.analysis"))
