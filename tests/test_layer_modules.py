"""The modules of layer types are found, not listed: every module of `archcalc/layers/` but its machinery
holds layer types and registers them when the registry loads, a new one with no edit anywhere, and
loading the registry imports none of the exports' helpers (nor NumPy or torch)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from archcalc.layers import MACHINERY, registered_types, type_modules


def _run(script: str, *args: str) -> str:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True).stdout


def test_each_module_found_holds_types_and_the_machinery_none():
    holding = {cls.__module__.rpartition(".")[2] for cls in registered_types().values()}
    assert holding == set(type_modules())
    assert not holding & MACHINERY


def test_importing_every_module_registers_nothing_more():
    script = """
import importlib, pkgutil
import archcalc.layers as layers
loaded = set(layers.registered_types())
for module in pkgutil.iter_modules(layers.__path__):
    importlib.import_module(f"archcalc.layers.{module.name}")
print(sorted(set(layers.registered_types()) - loaded))
"""
    assert _run(script).strip() == "[]"


# A module of one new type, as a contributor would add it to archcalc/layers/.
NEW_MODULE = '''
from archcalc.layers.base import Layer, register
from archcalc.layers.family import Family


@register
class Twice(Layer):
    """A stand-in new type."""

    type_name = "twice_for_test"
    family = Family.DATA
'''


def test_a_new_module_registers_its_types_with_no_edit(tmp_path):
    (tmp_path / "twice.py").write_text(NEW_MODULE)
    script = """
import sys
from pathlib import Path
import archcalc.layers as layers
layers.__path__.append(sys.argv[1])
print(layers.registered_types()["twice_for_test"].__module__)
"""
    assert _run(script, str(tmp_path)).strip() == "archcalc.layers.twice"


def test_loading_the_registry_imports_no_helper_of_the_exports():
    script = """
import sys
from pathlib import Path
from archcalc.layers import MACHINERY, ensure_loaded
ensure_loaded()
helpers = {f"archcalc.layers.{name}" for name in MACHINERY - {"base", "family", "foreign"}}
print(sorted(name for name in sys.modules if name in helpers | {"numpy", "torch", "onnx"}))
"""
    assert _run(script).strip() == "[]"


def layer_fields_read_by_name(path: Path) -> list[str]:
    """Where `path` reads a layer's attribute by a name in a string, `getattr(x.layer, "bias", ...)`:
    an undeclared protocol between a layer class and its reader."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr") \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            target = node.args[0]
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name == "layer":
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_readers_ask_layers_through_declared_properties():
    package = Path(__file__).parent.parent / "archcalc"
    found = [hit for path in sorted(package.rglob("*.py")) if path.relative_to(package).parts[0] != "layers"
             for hit in layer_fields_read_by_name(path)]
    assert found == []


def test_the_scan_finds_a_field_read_by_name(tmp_path):
    path = tmp_path / "rule.py"
    path.write_text('def rule(site):\n    return getattr(site.layer, "affine", True) and hasattr(layer, "bias")\n')
    assert len(layer_fields_read_by_name(path)) == 2
