"""Safe arithmetic in architecture files: `2*width`, `stride if i == 0 else 1`, `cfg[2]`.

Expressions are parsed with `ast` and walked over a small whitelist of node types; nothing is
ever passed to `eval`. Names come from the block's arguments and the layer's context
(`in_channels`, `i` for the repeat index, ...).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .errors import SpecError, shorten, suggestion

MAX_EXPRESSION_LENGTH = 500
MAX_EXPRESSION_DEPTH = 100
MAX_MAGNITUDE = 10**15
MAX_ROUND_DIGITS = 20

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_FUNCTIONS = {"min": min, "max": max, "int": int, "round": round, "abs": abs, "len": len}


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate `text` with `names` in scope; raise SpecError on anything else."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise SpecError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    return _Evaluator(names, text).visit(_parse(text.strip()))


@lru_cache(maxsize=4096)
def _parse(text: str) -> ast.expr:
    """The syntax tree of one expression (a file repeats the same few expressions many times)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise SpecError(f"cannot parse expression {shorten(text)!r}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise SpecError(f"cannot parse expression {shorten(text)!r}") from None
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPRESSION_DEPTH:
            raise SpecError(f"expression {shorten(text)!r} is nested deeper than {MAX_EXPRESSION_DEPTH} levels")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree


class _Evaluator:
    def __init__(self, names: Mapping[str, Any], text: str):
        self.names = names
        self.text = text

    def fail(self, why: str) -> SpecError:
        return SpecError(f"in expression {shorten(self.text)!r}: {why}")

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.fail(f"{type(node).__name__} is not allowed")
        value = method(node)
        if isinstance(value, int | float) and not isinstance(value, bool) and not abs(value) <= MAX_MAGNITUDE:
            raise self.fail("a number beyond ±10**15 is out of range")
        return value

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, bool | int | float | str) or node.value is None:
            return node.value
        raise self.fail(f"constant {node.value!r} is not allowed")

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.names:
            return self.names[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        raise self.fail(f"unknown name {node.id!r}{suggestion(node.id, self.names)}")

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise self.fail(f"operator {type(node.op).__name__} is not allowed")
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Pow) and isinstance(right, int | float) and abs(right) > 64:
            raise self.fail("exponent too large")
        if isinstance(left, str | list) or isinstance(right, str | list):
            raise self.fail("arithmetic needs numbers")
        try:
            result = op(left, right)
        except (ZeroDivisionError, TypeError, OverflowError, ValueError) as exc:
            raise self.fail(str(exc)) from None
        if isinstance(result, complex):
            raise self.fail("the result is not a real number")
        if isinstance(node.op, ast.Div) and isinstance(result, float) and result.is_integer():
            result = int(result)
        return result

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.USub) and isinstance(value, int | float):
            return -value
        if isinstance(node.op, ast.UAdd) and isinstance(value, int | float):
            return value
        if isinstance(node.op, ast.Not):
            return not value
        raise self.fail(f"operator {type(node.op).__name__} is not allowed here")

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        """`and`/`or` as in Python: stop at the first value that decides and return that value
        (`c or 64` is c when c is non-zero, else 64)."""
        stop = not isinstance(node.op, ast.And)
        value = None
        for operand in node.values:
            value = self.visit(operand)
            if bool(value) == stop:
                return value
        return value

    def visit_Compare(self, node: ast.Compare) -> Any:
        left = self.visit(node.left)
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.visit(right_node)
            op = _COMPARE.get(type(op_node))
            if op is None:
                if isinstance(op_node, ast.In | ast.NotIn) and isinstance(right, list | str):
                    try:
                        ok = (left in right) == isinstance(op_node, ast.In)
                    except TypeError as exc:
                        raise self.fail(str(exc)) from None
                else:
                    raise self.fail(f"comparison {type(op_node).__name__} is not allowed")
            else:
                try:
                    ok = op(left, right)
                except TypeError as exc:
                    raise self.fail(str(exc)) from None
            if not ok:
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        container = self.visit(node.value)
        index = self.visit(node.slice)
        if not isinstance(container, list | tuple | dict) or isinstance(index, bool):
            raise self.fail("only lists and mappings can be indexed")
        try:
            return container[index]
        except (IndexError, KeyError, TypeError):
            raise self.fail(f"index {index!r} is out of range") from None

    def visit_List(self, node: ast.List) -> Any:
        return [self.visit(e) for e in node.elts]

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        return [self.visit(e) for e in node.elts]

    def visit_Call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
            raise self.fail(f"only the functions {', '.join(_FUNCTIONS)} may be called")
        args = [self.visit(a) for a in node.args]
        if node.func.id == "round" and len(args) == 2 and isinstance(args[1], int) \
                and not abs(args[1]) <= MAX_ROUND_DIGITS:
            raise self.fail(f"round to at most {MAX_ROUND_DIGITS} digits")
        try:
            return _FUNCTIONS[node.func.id](*args)
        except (TypeError, ValueError) as exc:
            raise self.fail(str(exc)) from None
