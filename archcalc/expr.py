"""Safe arithmetic in architecture files: `2*width`, `stride if i == 0 else 1`, `cfg[2]`.

Expressions are parsed with `ast` and turned, once per text, into closures over a small
whitelist of node types; nothing is ever passed to `eval`. Names come from the block's arguments
and the layer's context (`in_channels`, `i` for the repeat index, ...).
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from .errors import SpecError, shorten, suggestion
from .memo import memo

MAX_EXPRESSION_LENGTH = 2000
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


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision's `_make_divisible` (torchvision/models/_utils.py, from TensorFlow's MobileNet code):
    `value` rounded to the nearest multiple of `divisor` (half up), at least `min_value` (default:
    `divisor`), and one `divisor` more where rounding lost more than 10 % of `value`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"make_divisible needs a number, got {value!r}")
    for what, number in (("divisor", divisor), ("min_value", min_value)):
        if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
            raise ValueError(f"make_divisible: {what} must be a positive integer, got {number!r}")
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _whole(function: Callable[[float], int]) -> Callable[[Any], int]:
    """`math.ceil` or `math.floor` of a number only (not of a string or a truth value)."""
    def rounded(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{function.__name__} needs a number, got {value!r}")
        return function(value)

    rounded.__name__ = function.__name__
    return rounded


_FUNCTIONS = {"min": min, "max": max, "int": int, "round": round, "abs": abs, "len": len,
              "ceil": _whole(math.ceil), "floor": _whole(math.floor), "make_divisible": make_divisible}


Compiled = Callable[[Mapping[str, Any]], Any]


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate `text` with `names` in scope; raise SpecError on anything else."""
    return compiled(text)(names)


def compiled(text: str) -> Compiled:
    """`text` as a function of the names in scope (SpecError where it cannot be one)."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise SpecError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    return _compile(text)


@memo()
def _parse(text: str) -> tuple[ast.expr, frozenset[str]]:
    """The syntax tree of one expression and the names it reads (`names_read`), in one walk over it (a
    file repeats the same few expressions many times). A plain ASCII name, the most common expression, is
    its tree without the parser."""
    if text.isascii() and text.isidentifier() and not keyword.iskeyword(text):
        return ast.Name(text, ast.Load()), frozenset((text,))
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise SpecError(f"cannot parse expression {shorten(text)!r}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise SpecError(f"cannot parse expression {shorten(text)!r}") from None
    names: set[str] = set()
    called: set[int] = set()  # ids of the nodes named by a call: `int` in `int(x)` reads no name
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        kind = node.__class__
        fields = _CHILD_FIELDS.get(kind)
        if fields is None:
            fields = _CHILD_FIELDS[kind] = _child_fields(kind)
        # a node with a `ctx` always has that child one level down (`_child_fields` leaves it out)
        if depth + fields[0] > MAX_EXPRESSION_DEPTH:
            raise SpecError(f"expression {shorten(text)!r} is nested deeper than {MAX_EXPRESSION_DEPTH} levels")
        if kind is ast.Name:
            if id(node) not in called:
                names.add(node.id)
            continue
        if kind is ast.Call:
            called.add(id(node.func))  # a node is met before its children
        depth += 1
        for field in fields[1]:  # `ast.iter_child_nodes`, without its generators
            value = getattr(node, field, None)
            if value.__class__ is list:
                stack += [(item, depth) for item in value if isinstance(item, ast.AST)]
            elif isinstance(value, ast.AST):
                stack.append((value, depth))
    return tree, frozenset(names)


#: Fields whose values are leaves without names: a load or store context, an operator.
_LEAF_FIELDS = frozenset(("ctx", "op", "ops"))
_CHILD_FIELDS: dict[type, tuple[int, tuple[str, ...]]] = {}  # `_child_fields` of each node class met


def _child_fields(kind: type) -> tuple[int, tuple[str, ...]]:
    """Of a syntax node class: 1 where it has a `ctx` (a child one level down), else 0; and the fields
    that may hold nodes with names below them (not its context or its operators, which are leaves)."""
    return int("ctx" in kind._fields), tuple(f for f in kind._fields if f not in _LEAF_FIELDS)


@memo()
def names_read(text: str) -> frozenset[str] | None:
    """The names `text` may read from the names in scope (those of the functions it calls aside):
    its value depends on theirs alone. None where it is not a valid expression."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        return None
    try:
        return _parse(text.strip())[1]
    except SpecError:
        return None


@memo()
def _compile(text: str) -> Compiled:
    """`text` as a function of the names in scope: the tree is walked once, into closures.
    A node that is not allowed fails when it is reached, as the walk over the tree would."""
    return _Compiler(text).compile(_parse(text.strip())[0])


_NUMBERS = (int, float)  # tuples made once: a `int | float` union is built anew at each use
_TEXTS = (str, list)
_INDEXABLE = (list, tuple, dict)


def _in_range(value: Any) -> bool:
    return not isinstance(value, _NUMBERS) or value.__class__ is bool or abs(value) <= MAX_MAGNITUDE


class _Compiler:
    def __init__(self, text: str):
        self.text = text

    def fail(self, why: str) -> SpecError:
        return SpecError(f"in expression {shorten(self.text)!r}: {why}")

    def failing(self, why: str) -> Compiled:
        def run(names: Mapping[str, Any]) -> Any:
            raise self.fail(why)

        return run

    def checked(self, function: Compiled) -> Compiled:
        """`function` refusing a number beyond ±10**15 (every value an expression makes or reads)."""
        fail = self.fail

        def run(names: Mapping[str, Any]) -> Any:
            value = function(names)
            if isinstance(value, _NUMBERS) and value.__class__ is not bool and not abs(value) <= MAX_MAGNITUDE:
                raise fail("a number beyond ±10**15 is out of range")
            return value

        return run

    def compile(self, node: ast.AST) -> Compiled:
        method = getattr(self, "compile_" + type(node).__name__, None)
        if method is None:
            return self.failing(f"{type(node).__name__} is not allowed")
        return method(node)

    def compile_Constant(self, node: ast.Constant) -> Compiled:
        value = node.value
        if not (isinstance(value, bool | int | float | str) or value is None):
            return self.failing(f"constant {value!r} is not allowed")
        if not _in_range(value):
            return self.failing("a number beyond ±10**15 is out of range")
        return lambda names: value

    def compile_Name(self, node: ast.Name) -> Compiled:
        key, fail = node.id, self.fail
        constant = {"True": True, "False": False, "None": None}

        def run(names: Mapping[str, Any]) -> Any:  # `checked`, inline: names are read the most
            if key in names:
                value = names[key]
                if isinstance(value, _NUMBERS) and value.__class__ is not bool and not abs(value) <= MAX_MAGNITUDE:
                    raise fail("a number beyond ±10**15 is out of range")
                return value
            if key in constant:
                return constant[key]
            raise fail(f"unknown name {key!r}{suggestion(key, names)}")

        return run

    def compile_BinOp(self, node: ast.BinOp) -> Compiled:
        op = _BINARY.get(type(node.op))
        if op is None:
            return self.failing(f"operator {type(node.op).__name__} is not allowed")
        left_of, right_of, fail = self.compile(node.left), self.compile(node.right), self.fail
        power, divide = isinstance(node.op, ast.Pow), isinstance(node.op, ast.Div)

        def run(names: Mapping[str, Any]) -> Any:
            left, right = left_of(names), right_of(names)
            if power and isinstance(right, _NUMBERS) and abs(right) > 64:
                raise fail("exponent too large")
            if isinstance(left, _TEXTS) or isinstance(right, _TEXTS):
                raise fail("arithmetic needs numbers")
            try:
                result = op(left, right)
            except (ZeroDivisionError, TypeError, OverflowError, ValueError) as exc:
                raise fail(str(exc)) from None
            if isinstance(result, complex):
                raise fail("the result is not a real number")
            if divide and isinstance(result, float) and result.is_integer():
                result = int(result)
            return result

        return self.checked(run)

    def compile_UnaryOp(self, node: ast.UnaryOp) -> Compiled:
        operand, fail = self.compile(node.operand), self.fail
        kind = type(node.op)

        def run(names: Mapping[str, Any]) -> Any:
            value = operand(names)
            if kind is ast.USub and isinstance(value, _NUMBERS):
                return -value
            if kind is ast.UAdd and isinstance(value, _NUMBERS):
                return value
            if kind is ast.Not:
                return not value
            raise fail(f"operator {kind.__name__} is not allowed here")

        return run

    def compile_BoolOp(self, node: ast.BoolOp) -> Compiled:
        """`and`/`or` as in Python: stop at the first value that decides and return that value
        (`c or 64` is c when c is non-zero, else 64)."""
        stop = not isinstance(node.op, ast.And)
        operands = [self.compile(v) for v in node.values]

        def run(names: Mapping[str, Any]) -> Any:
            value = None
            for operand in operands:
                value = operand(names)
                if bool(value) == stop:
                    return value
            return value

        return run

    def compile_Compare(self, node: ast.Compare) -> Compiled:
        first = self.compile(node.left)
        steps = [(type(op), _COMPARE.get(type(op)), self.compile(right))
                 for op, right in zip(node.ops, node.comparators, strict=True)]
        fail = self.fail

        def run(names: Mapping[str, Any]) -> Any:
            left = first(names)
            for kind, op, right_of in steps:
                right = right_of(names)
                if op is None:
                    if kind in (ast.In, ast.NotIn) and isinstance(right, list | str):
                        try:
                            ok = (left in right) == (kind is ast.In)
                        except TypeError as exc:
                            raise fail(str(exc)) from None
                    else:
                        raise fail(f"comparison {kind.__name__} is not allowed")
                else:
                    try:
                        ok = op(left, right)
                    except TypeError as exc:
                        raise fail(str(exc)) from None
                if not ok:
                    return False
                left = right
            return True

        return run

    def compile_IfExp(self, node: ast.IfExp) -> Compiled:
        test, body, orelse = self.compile(node.test), self.compile(node.body), self.compile(node.orelse)
        return lambda names: body(names) if test(names) else orelse(names)

    def compile_Subscript(self, node: ast.Subscript) -> Compiled:
        container_of, index_of, fail = self.compile(node.value), self.compile(node.slice), self.fail

        def run(names: Mapping[str, Any]) -> Any:
            container, index = container_of(names), index_of(names)
            if not isinstance(container, _INDEXABLE) or isinstance(index, bool):
                raise fail("only lists and mappings can be indexed")
            try:
                return container[index]
            except (IndexError, KeyError, TypeError):
                raise fail(f"index {index!r} is out of range") from None

        return self.checked(run)

    def compile_List(self, node: ast.List | ast.Tuple) -> Compiled:
        items = [self.compile(e) for e in node.elts]
        return lambda names: [item(names) for item in items]

    compile_Tuple = compile_List

    def compile_Call(self, node: ast.Call) -> Compiled:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
            return self.failing(f"only the functions {', '.join(_FUNCTIONS)} may be called")
        arguments, function, fail = [self.compile(a) for a in node.args], _FUNCTIONS[node.func.id], self.fail
        rounding = node.func.id == "round"

        def run(names: Mapping[str, Any]) -> Any:
            args = [argument(names) for argument in arguments]
            if rounding and len(args) == 2 and isinstance(args[1], int) and not abs(args[1]) <= MAX_ROUND_DIGITS:
                raise fail(f"round to at most {MAX_ROUND_DIGITS} digits")
            try:
                return function(*args)
            except (TypeError, ValueError, OverflowError) as exc:
                raise fail(str(exc)) from None

        return self.checked(run)
