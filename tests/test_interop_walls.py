"""What other frameworks call things lives in the layer classes (`archcalc.layers.foreign`) and is read
by `archcalc/interop/` alone: no other module names a framework's layer class, and the importers keep
no table of layer types that the registry could give them (a table per type would be one more place
to edit for each new type)."""

from __future__ import annotations

import ast
from pathlib import Path

from archcalc.layers import registered_types

PACKAGE = Path(__file__).parent.parent / "archcalc"
FRAMEWORK_MODULES = {"nn", "torch", "keras", "layers", "tf", "onnx"}


def _classes():
    return dict.fromkeys(registered_types().values())


def _foreign_classes() -> set[str]:
    """Every PyTorch module class and Keras class a layer type declares, and the class names summaries print."""
    return {name for cls in _classes() for name in (*cls.torch_form.modules, *cls.keras_form.classes,
                                                      *cls.summary_names())}


def _type_names() -> set[str]:
    return set(registered_types())


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body \
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            found.add(id(node.body[0].value))
    return found


def names_of_foreign_classes(path: Path, foreign: set[str]) -> list[str]:
    """Where `path` names a foreign class: a string (not a docstring) or `nn.Conv2d`-like attribute."""
    tree = ast.parse(path.read_text())
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs \
                and node.value in foreign:
            found.append(f"{path.name}:{node.lineno}: {node.value!r}")
        if isinstance(node, ast.Attribute) and node.attr in foreign and isinstance(node.value, ast.Name) \
                and node.value.id in FRAMEWORK_MODULES:
            found.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_outside_interop_and_layers_names_a_foreign_class():
    foreign = _foreign_classes()
    found = [hit for path in sorted(PACKAGE.rglob("*.py"))
             if path.relative_to(PACKAGE).parts[0] not in ("interop", "layers")
             for hit in names_of_foreign_classes(path, foreign)]
    assert found == []


def test_the_scan_finds_a_foreign_class(tmp_path):
    path = tmp_path / "module.py"
    path.write_text('"""A module."""\nKIND = "MaxPooling2D"\nmodule = nn.Conv2d(3, 4, 1)\n')
    assert len(names_of_foreign_classes(path, _foreign_classes())) == 2


def per_type_tables(path: Path, names: set[str]) -> list[str]:
    """Literal tuples, lists, sets and dicts in `path` holding two or more layer type names or foreign
    class names: the shape of a table the registry could give."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [*node.keys, *node.values]
        else:
            continue
        named = [item.value for item in items if isinstance(item, ast.Constant) and item.value in names]
        if len(named) >= 2:
            found.append(f"{path.name}:{node.lineno}: {named}")
    return found


# The PyTorch export is being reworked (modules built directly); its table of functional spellings
# (`FUNCTIONAL`: ReLU → F.relu, ...) moves to the layer classes' `torch_form` with that work. The
# torch.export capture's tables of ATen op names (`FUNCTIONS`, `METHODS`: aten.relu → F.relu) move there
# too, as an `aten` field of `TorchForm`.
BEING_REWORKED = {"torch_tree.py", "torch_export.py"}


# PyTorch's own vocabulary, spelt as layer types are: the tensor methods a module's parameter goes through and
# stays a parameter (`w.reshape(...)`, `w.flatten()`, as the types `reshape` and `flatten` are named).
VOCABULARY = {"import_torch.py": {"PARAMETER_METHODS"}}


def _vocabulary_lines(path: Path) -> set[int]:
    """The lines of the assignments `VOCABULARY` names in `path`."""
    names = VOCABULARY.get(path.name, set())
    return {node.lineno for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id in names for t in node.targets)}


def test_interop_holds_no_per_type_table():
    names = _type_names() | _foreign_classes()
    found = [hit for path in sorted((PACKAGE / "interop").glob("*.py")) if path.name not in BEING_REWORKED
             for hit in per_type_tables(path, names)
             if int(hit.split(":")[1]) not in _vocabulary_lines(path)]
    assert found == []


def test_the_scan_finds_a_per_type_table(tmp_path):
    path = tmp_path / "importer.py"
    path.write_text('ACTIVATIONS = {"ReLU": "relu", "Sigmoid": "sigmoid"}\nKNOWN = {"Conv2D", "Dense"}\n')
    assert len(per_type_tables(path, _type_names() | _foreign_classes())) == 2
