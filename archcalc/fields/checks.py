"""Checking values against annotations: one checker per annotation (converting what fits,
raising `FieldError` for what does not), and the words that say what an annotation wants."""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from ..errors import shorten
from .marks import Bounds, Length, length_words


class FieldError(ValueError):
    """A value that does not fit its declaration: the key path, what was wanted, and what came."""

    def __init__(self, where: str, text: str, *value: Any):
        if value:
            text += f" (got {shorten(_shown(value[0]))})"
        self.where = where
        self.text = text
        super().__init__(f"{where}: {text}" if where else text)

    def inside(self, prefix: str) -> FieldError:
        """The same error one level down: `layers` + `1.type` → `layers.1.type`."""
        return FieldError(f"{prefix}.{self.where}" if self.where else prefix, self.text)


def _shown(value: Any) -> str:
    """A value as the user wrote it in YAML: true/false/null, strings quoted."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    return repr(value)


Checker = Callable[[Any], Any]


class _Mismatch(Exception):
    """A value that does not fit; the caller says what was wanted."""


def checker(annotation: Any) -> Checker:
    """A function that returns the value converted to the annotation's type or raises FieldError."""
    check = _compile(annotation)
    wanted = "should be " + describe(annotation)

    def run(value: Any) -> Any:
        try:
            return check(value)
        except _Mismatch:
            raise FieldError("", wanted, value) from None

    return run


def _compile(annotation: Any) -> Checker:
    """A checker that raises _Mismatch (a leaf that does not fit) or FieldError (a nested record
    or container item, already located)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is Any:
        return lambda value: value
    if annotation is None or annotation is type(None):
        return _exact(lambda v: v is None)
    if annotation is bool:
        return _exact(lambda v: isinstance(v, bool))
    if annotation is str:
        return _exact(lambda v: isinstance(v, str))
    if annotation is int:
        return _to_int
    if annotation is float:
        return _to_float
    if origin is Literal:
        return _exact(lambda v: any(type(v) is type(a) and v == a for a in args))
    if origin is Annotated:
        return _constrained(_compile(args[0]), args[1:], "character" if args[0] is str else "item")
    if origin in (Union, types.UnionType):
        return _union([_compile(a) for a in args])
    if origin is tuple:
        return _tuple([_compile(a) for a in args]) if Ellipsis not in args else _sequence(checker(args[0]), tuple)
    if origin is list:
        return _sequence(checker(args[0]), list)
    if origin is dict:
        return _mapping(checker(args[1]))
    if _is_record(annotation):
        return annotation.validate
    raise TypeError(f"unsupported field annotation {annotation!r}")


def _exact(test: Callable[[Any], bool]) -> Checker:
    def check(value: Any) -> Any:
        if not test(value):
            raise _Mismatch
        return value

    return check


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Mismatch
    if isinstance(value, float):
        if not value.is_integer():
            raise _Mismatch
        return int(value)
    return value


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Mismatch
    return float(value)


def _constrained(inner: Checker, marks: tuple, unit: str) -> Checker:
    """Bounds make a value that is out of them not fit the type; a wrong length is its own error."""
    def check(value: Any) -> Any:
        value = inner(value)
        for mark in marks:
            if isinstance(mark, Bounds) and not (
                    (mark.gt is None or value > mark.gt) and (mark.ge is None or value >= mark.ge)
                    and (mark.le is None or value <= mark.le)):
                raise _Mismatch
            too_long = isinstance(mark, Length) and mark.max is not None and len(value) > mark.max
            if isinstance(mark, Length) and (len(value) < mark.min or too_long):
                raise FieldError("", "should have " + length_words(mark, unit), value)
        return value

    return check


def _union(options: list[Checker]) -> Checker:
    def check(value: Any) -> Any:
        for option in options:
            try:
                return option(value)
            except (_Mismatch, FieldError):
                continue
        raise _Mismatch

    return check


def _tuple(items: list[Checker]) -> Checker:
    def check(value: Any) -> Any:
        if not isinstance(value, list | tuple) or len(value) != len(items):
            raise _Mismatch
        return tuple(item(v) for item, v in zip(items, value))

    return check


def _sequence(item: Checker, kind: type) -> Checker:
    def check(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise _Mismatch
        out = []
        for position, v in enumerate(value):
            try:
                out.append(item(v))
            except FieldError as exc:
                raise exc.inside(str(position)) from None
        return kind(out)

    return check


def _mapping(item: Checker) -> Checker:
    def check(value: Any) -> Any:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise _Mismatch
        out = {}
        for key, v in value.items():
            try:
                out[key] = item(v)
            except FieldError as exc:
                raise exc.inside(key) from None
        return out

    return check


# --- words: what a declaration wants, for messages ---------------------------------------------

def describe(annotation: Any) -> str:
    """What a value of this annotation is, in words: `an integer greater than 0`."""
    origin, args = get_origin(annotation), get_args(annotation)
    simple = {int: "an integer", float: "a number", bool: "true or false", str: "a string", Any: "anything",
              None: "null", type(None): "null"}
    if annotation in simple:
        return simple[annotation]
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if origin is Annotated:
        return describe(args[0]) + "".join(_describe_mark(m, args[0]) for m in args[1:])
    if origin in (Union, types.UnionType):
        return " or ".join(dict.fromkeys(describe(a) for a in args))
    if origin is tuple and Ellipsis not in args:
        kinds = list(dict.fromkeys(describe(a) for a in args))
        return f"a list of {len(args)} values, each {kinds[0]}" if len(kinds) == 1 else \
            f"a list of {len(args)} values ({', '.join(describe(a) for a in args)})"
    if origin in (tuple, list):
        return f"a list of values, each {describe(args[0])}"
    if origin is dict:
        return "a mapping" + ("" if args[1] is Any else f" of {describe(args[1])}")
    if _is_record(annotation):
        return "a mapping"
    return str(annotation)


def _describe_mark(mark: Any, base: Any) -> str:
    if isinstance(mark, Bounds):
        if mark.ge is not None and mark.le is not None:
            return f" from {mark.ge:g} to {mark.le:g}"
        words = []
        if mark.gt is not None:
            words.append(f"greater than {mark.gt:g}")
        if mark.ge is not None:
            words.append(f"of at least {mark.ge:g}")
        if mark.le is not None:
            words.append(f"of at most {mark.le:g}")
        return " " + " and ".join(words)
    if isinstance(mark, Length):
        return f" ({length_words(mark, 'character' if base is str else 'item')})"
    return ""


def _is_record(annotation: Any) -> bool:
    from .record import Record  # imported here: `record` builds on this module

    return isinstance(annotation, type) and issubclass(annotation, Record)
