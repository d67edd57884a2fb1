"""archcalc's modules import one another without a cycle: the graph of every import statement,
top-level or inside a function (relative and absolute; `TYPE_CHECKING` blocks and a module's imports
of its own packages, which Python has loaded first anyway, left out), is a DAG."""

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).parent.parent / "archcalc"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(node: ast.AST):
    """Every import statement under `node`, outside `if TYPE_CHECKING:` blocks."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            yield from _imports(ast.Module(body=child.orelse, type_ignores=[]))
        else:
            yield from _imports(child)


def import_graph() -> nx.DiGraph:
    modules = {_module(p): p for p in ROOT.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                stem = ".".join(base + ([node.module] if node.module else []))
                targets = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
            graph.add_edges_from((name, t) for t in targets if t in modules and not f"{name}.".startswith(f"{t}."))
    return graph


def test_the_import_graph_is_found():
    graph = import_graph()
    assert ("archcalc.analysis", "archcalc.architecture") in graph.edges                       # top level
    assert ("archcalc.layers.conv", "archcalc.layers.torch_modules") in graph.edges     # in a function


def test_no_import_cycle():
    graph = import_graph()
    assert list(nx.simple_cycles(graph)) == []


def test_the_analysis_does_not_import_the_report():
    graph = import_graph()
    assert not any(t.startswith("archcalc.report") for t in nx.descendants(graph, "archcalc.analysis"))
