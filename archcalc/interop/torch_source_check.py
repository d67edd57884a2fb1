"""`check_source`: the PyTorch source an export writes, held to the form it always has before it leaves
archcalc, so that no name or title from a file can have become code in it.

The source imports torch alone and defines classes of `nn.Module` (or of an `nn` class) holding a
docstring and methods; a method reads only its own arguments and variables, the defined classes,
`torch`, `nn`, `F` and `super`, `range`, `zip`, `getattr` and `float`; no attribute is a dunder but
`super().__init__`, `getattr` only reads a submodule of `self`, and nothing but plain statements and
expressions occur (no lambda, import, `global`, `with`, `try`, f-string or walrus).
"""

from __future__ import annotations

import ast
from typing import NoReturn

from ..errors import ExportError

_IMPORTS = {"import torch", "import torch.nn.functional as F", "from torch import nn"}
_GLOBALS = frozenset({"torch", "nn", "F", "super", "range", "zip", "getattr", "float"})
_NODES = (ast.FunctionDef, ast.arguments, ast.arg, ast.Expr, ast.Assign, ast.Return, ast.For, ast.Delete,
          ast.Name, ast.Load, ast.Store, ast.Del, ast.Attribute, ast.Call, ast.keyword, ast.Constant,
          ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Dict, ast.Starred, ast.ListComp, ast.comprehension,
          ast.BinOp, ast.UnaryOp, ast.USub, ast.Add, ast.Sub, ast.Mult, ast.Div)


def check_source(text: str) -> None:
    """ExportError unless `text` has the form of archcalc's PyTorch source (see the module)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        _fail(f"it does not parse ({type(exc).__name__} at line {getattr(exc, 'lineno', '?')})")
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            if ast.unparse(node) not in _IMPORTS:
                _fail(f"it imports {ast.unparse(node)!r}")
        elif isinstance(node, ast.ClassDef):
            _check_class(node, classes)
        else:
            _fail(f"line {node.lineno} is neither an import nor a class")


def _check_class(node: ast.ClassDef, classes: set[str]) -> None:
    bases = [ast.unparse(base) for base in node.bases]
    if node.decorator_list or node.keywords or len(bases) != 1 or not bases[0].startswith("nn."):
        _fail(f"class {node.name} is not a plain nn.Module")
    body = node.body[1:] if _docstring(node.body[0]) else node.body
    for method in body:
        if not isinstance(method, ast.FunctionDef) or method.decorator_list:
            _fail(f"line {method.lineno} of class {node.name} is not a method")
        _check_method(method, classes)


def _docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _check_method(method: ast.FunctionDef, classes: set[str]) -> None:
    arguments = method.args
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.posonlyargs:
        _fail(f"method {method.name} takes more than plain arguments")
    own = {a.arg for a in arguments.args}
    read = []
    for node in ast.walk(method):
        if not isinstance(node, _NODES):
            _fail(f"line {getattr(node, 'lineno', method.lineno)} holds a {type(node).__name__}")
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            read.append(node)
        elif isinstance(node, ast.Name):
            own.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__") and not _super_init(node):
            _fail(f"line {node.lineno} reads attribute {node.attr!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and not _submodule(node):
            _fail(f"line {node.lineno} calls getattr on something else than a submodule")
    readable = own | classes | _GLOBALS
    for node in read:
        if node.id not in readable:
            _fail(f"line {node.lineno} reads {node.id!r}")


def _super_init(node: ast.Attribute) -> bool:
    value = node.value
    return node.attr == "__init__" and isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
        and value.func.id == "super" and not value.args


def _submodule(call: ast.Call) -> bool:
    """`getattr(self, 'name')`, the name no dunder."""
    if len(call.args) != 2 or call.keywords:
        return False
    owner, name = call.args
    return isinstance(owner, ast.Name) and owner.id == "self" and isinstance(name, ast.Constant) \
        and isinstance(name.value, str) and not name.value.startswith("__")


def _fail(why: str) -> NoReturn:
    raise ExportError(f"the PyTorch source written for this architecture failed archcalc's safety check: {why}; "
                      "nothing was written (please report this)")
