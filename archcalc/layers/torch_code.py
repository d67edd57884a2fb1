"""A layer's PyTorch call as a small expression tree: written as source into an export, run as Python
by `archcalc.to_torch` (which never executes text).

`Input(k)` is the layer's k-th input, `Inputs()` all of them as a list, `Module(suffix)` the layer's
module ("") or one of its further modules (a fused activation, "relu"); `Name("F.pad")` a function
of `torch`, `torch.nn.functional` (`F`) or `torch.nn` (`nn`), looked up when the call runs, so that
tools that patch `F.relu` see it. Every node knows its source (`source(names)`: the placeholders'
text) and its value (`run(values)`: the placeholders' objects). Statements (`SetAttr`, `Delete`,
`Do`) finish building a module.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

_ATOM, _UNARY = 16, 14
_OPERATORS = {"*": 13, "/": 13, "+": 12, "-": 12}


@dataclass(frozen=True)
class Bound:
    """What the placeholders stand for: module suffix → its source text or object, and the inputs."""

    modules: dict[str, Any]
    inputs: list[Any]


def literal(value: Any) -> str:
    """`value` (a number, bool, string, None or a tuple/list of them) as Python source; infinities and
    NaN as `float('inf')`, which `repr` cannot write."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({repr(value)!r})"
    if isinstance(value, tuple):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(literal(v) for v in value)}]"
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    raise TypeError(f"no literal for a {type(value).__name__}")


class Code:
    """An expression of a layer's call."""

    precedence = _ATOM

    def source(self, names: Bound) -> str:
        raise NotImplementedError

    def run(self, values: Bound) -> Any:
        raise NotImplementedError

    def children(self) -> Iterator[Code]:
        for item in fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            for part in value if isinstance(value, tuple) else (value,):
                if isinstance(part, Code):
                    yield part
                elif isinstance(part, Keyword):
                    yield part.value

    def walk(self) -> Iterator[Code]:
        yield self
        for child in self.children():
            yield from child.walk()

    def uses(self, node: Code) -> bool:
        """Whether `node` occurs in this expression."""
        return any(found == node for found in self.walk())

    def replaced(self, old: Code, new: Code) -> Code:
        """This expression with every occurrence of `old` written `new`."""
        if self == old:
            return new
        changes = {}
        for item in fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            if isinstance(value, Code):
                changes[item.name] = value.replaced(old, new)
            elif isinstance(value, tuple):
                changes[item.name] = tuple(
                    v.replaced(old, new) if isinstance(v, Code)
                    else Keyword(v.name, v.value.replaced(old, new)) if isinstance(v, Keyword) else v for v in value)
        return replace(self, **changes)  # type: ignore[type-var]

    # --- building ----------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Call:
        return Call(self, tuple(_code(a) for a in args), tuple(Keyword(k, _code(v)) for k, v in kwargs.items()))

    def attr(self, name: str) -> Attr:
        return Attr(self, name)

    def method(self, name: str, *args: Any, **kwargs: Any) -> Call:
        return self.attr(name)(*args, **kwargs)

    def __getitem__(self, items: tuple) -> Index:
        return Index(self, items if isinstance(items, tuple) else (items,))

    def __add__(self, other: Any) -> BinOp:
        return BinOp("+", self, _code(other))

    def __sub__(self, other: Any) -> BinOp:
        return BinOp("-", self, _code(other))

    def __mul__(self, other: Any) -> BinOp:
        return BinOp("*", self, _code(other))

    def __truediv__(self, other: Any) -> BinOp:
        return BinOp("/", self, _code(other))

    def _operand(self, names: Bound, least: int) -> str:
        text = self.source(names)
        return text if self.precedence >= least else f"({text})"


def _code(value: Any) -> Code:
    return value if isinstance(value, Code) else Const(value)


@dataclass(frozen=True, eq=True)
class Input(Code):
    index: int

    def source(self, names: Bound) -> str:
        return names.inputs[self.index]

    def run(self, values: Bound) -> Any:
        return values.inputs[self.index]


@dataclass(frozen=True, eq=True)
class Inputs(Code):
    """Every input, as a list."""

    def source(self, names: Bound) -> str:
        return f"[{', '.join(names.inputs)}]"

    def run(self, values: Bound) -> Any:
        return list(values.inputs)


@dataclass(frozen=True, eq=True)
class Module(Code):
    suffix: str = ""

    def source(self, names: Bound) -> str:
        return names.modules[self.suffix]

    def run(self, values: Bound) -> Any:
        return values.modules[self.suffix]


@dataclass(frozen=True, eq=True)
class Const(Code):
    """A literal; `text` where it is written otherwise than `repr` writes it (`1e-7`)."""

    value: Any
    text: str | None = None

    @property
    def precedence(self) -> int:  # type: ignore[override]
        return _UNARY if isinstance(self.value, int | float) and self.value < 0 else _ATOM

    def source(self, names: Bound) -> str:
        return self.text or literal(self.value)

    def run(self, values: Bound) -> Any:
        return self.value


@dataclass(frozen=True, eq=True)
class Name(Code):
    """A function or class of `torch`, `F` (torch.nn.functional) or `nn`, or `float`."""

    dotted: str

    def source(self, names: Bound) -> str:
        return self.dotted

    def run(self, values: Bound) -> Any:
        import torch
        import torch.nn.functional as F
        from torch import nn

        root, *rest = self.dotted.split(".")
        found: Any = {"torch": torch, "F": F, "nn": nn, "float": float}[root]
        for part in rest:
            found = getattr(found, part)
        return found


@dataclass(frozen=True, eq=True)
class Attr(Code):
    obj: Code
    name: str

    def source(self, names: Bound) -> str:
        return f"{self.obj._operand(names, _ATOM)}.{self.name}"

    def run(self, values: Bound) -> Any:
        return getattr(self.obj.run(values), self.name)


@dataclass(frozen=True, eq=True)
class Keyword:
    name: str
    value: Code


@dataclass(frozen=True, eq=True)
class Call(Code):
    func: Code
    args: tuple[Code, ...] = ()
    keywords: tuple[Keyword, ...] = ()

    def source(self, names: Bound) -> str:
        words = [a.source(names) for a in self.args] + [f"{k.name}={k.value.source(names)}" for k in self.keywords]
        return f"{self.func._operand(names, _ATOM)}({', '.join(words)})"

    def run(self, values: Bound) -> Any:
        return self.func.run(values)(*(a.run(values) for a in self.args),
                                     **{k.name: k.value.run(values) for k in self.keywords})


@dataclass(frozen=True, eq=True)
class Index(Code):
    """`obj[items]`, each item an int or a slice."""

    obj: Code
    items: tuple

    def source(self, names: Bound) -> str:
        return f"{self.obj._operand(names, _ATOM)}[{', '.join(_item(i) for i in self.items)}]"

    def run(self, values: Bound) -> Any:
        return self.obj.run(values)[self.items[0] if len(self.items) == 1 else self.items]


def _item(item: int | slice) -> str:
    if isinstance(item, slice):
        start = "" if item.start is None else str(item.start)
        return f"{start}:{'' if item.stop is None else item.stop}"
    return str(item)


@dataclass(frozen=True, eq=True)
class Group(Code):
    """An expression in parentheses, as a person writes it before indexing a call's result."""

    inner: Code

    def source(self, names: Bound) -> str:
        return f"({self.inner.source(names)})"

    def run(self, values: Bound) -> Any:
        return self.inner.run(values)


@dataclass(frozen=True, eq=True)
class BinOp(Code):
    op: str
    left: Code
    right: Code

    @property
    def precedence(self) -> int:  # type: ignore[override]
        return _OPERATORS[self.op]

    def source(self, names: Bound) -> str:
        level = self.precedence
        return f"{self.left._operand(names, level)} {self.op} {self.right._operand(names, level + 1)}"

    def run(self, values: Bound) -> Any:
        left, right = self.left.run(values), self.right.run(values)
        if self.op == "+":
            return left + right
        if self.op == "-":
            return left - right
        if self.op == "*":
            return left * right
        return left / right


# --- statements that finish building a module -------------------------------------------------------
@dataclass(frozen=True, eq=True)
class SetAttr:
    """`target = value`, `target` an attribute."""

    target: Attr
    value: Code

    def source(self, names: Bound) -> str:
        return f"{self.target.source(names)} = {self.value.source(names)}"

    def run(self, values: Bound) -> None:
        setattr(self.target.obj.run(values), self.target.name, self.value.run(values))


@dataclass(frozen=True, eq=True)
class Delete:
    """`del target`, with a comment saying why."""

    target: Attr
    why: str = ""

    def source(self, names: Bound) -> str:
        return f"del {self.target.source(names)}" + (f"  # {self.why}" if self.why else "")

    def run(self, values: Bound) -> None:
        delattr(self.target.obj.run(values), self.target.name)


@dataclass(frozen=True, eq=True)
class Do:
    """An expression run for its effect (`m.register_buffer(...)`)."""

    call: Code

    def source(self, names: Bound) -> str:
        return self.call.source(names)

    def run(self, values: Bound) -> None:
        self.call.run(values)


Statement = SetAttr | Delete | Do
