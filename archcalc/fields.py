"""Declared fields: the hyper-parameters of layer types and the keys of architecture files.

A `Record` subclass declares its fields as annotated class attributes, the way a dataclass does:

    class Conv(Layer):
        out_channels: PositiveInt
        stride: IntOrPair = 1
        activation: FusedActivation | None = field(None, "fused activation")

`Record.validate(mapping)` checks a mapping against them and returns a read-only instance, or
raises `FieldError`, one line naming the key ("out_channels: should be an integer greater than 0
(got -4)"); `json_schema` describes the same declarations for editors. The annotations understood
are int, float, bool, str, None, Any, Literal, unions, tuple[X, Y] and tuple[X, ...], list[X],
dict[str, X], Record subclasses, and `Annotated` with `Bounds` or `Length`. It is deliberately
small: validation runs on every command, and start-up time is part of what a user waits for.
"""

from __future__ import annotations

import difflib
import math
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin


@dataclass(frozen=True)
class Bounds:
    """Bounds of an `Annotated` int or float."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None


@dataclass(frozen=True)
class Length:
    """Length bounds of an `Annotated` str or list."""

    min: int = 0
    max: int | None = None


PositiveInt = Annotated[int, Bounds(gt=0)]
NonNegativeInt = Annotated[int, Bounds(ge=0)]
PositiveFloat = Annotated[float, Bounds(gt=0)]
Fraction = Annotated[float, Bounds(ge=0, le=1)]

_REQUIRED: Any = object()


class FieldError(ValueError):
    """A value that does not fit its declaration: the key path, what was wanted, and what came."""

    def __init__(self, where: str, text: str, *value: Any):
        if value:
            shown = _shown(value[0])
            text += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
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


@dataclass(frozen=True)
class FieldSpec:
    """One declared field: its annotation, default (or required), description and the key users write."""

    name: str
    annotation: Any
    default: Any = _REQUIRED
    factory: Callable[[], Any] | None = None
    description: str = ""
    alias: str | None = None

    @property
    def key(self) -> str:
        return self.alias or self.name

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED and self.factory is None

    def default_value(self) -> Any:
        return self.factory() if self.factory is not None else self.default


@dataclass(frozen=True)
class _Declared:
    """What `field(...)` leaves on the class until the fields are collected."""

    default: Any
    factory: Callable[[], Any] | None
    description: str
    alias: str | None


def field(default: Any = _REQUIRED, description: str = "", *, factory: Callable[[], Any] | None = None,
          alias: str | None = None) -> Any:
    """A field with a description, a default made by `factory`, or a key (`alias`) that is not a
    Python name (`from`)."""
    return _Declared(default, factory, description, alias)


R = TypeVar("R", bound="Record")


class Record:
    """Base of declared, read-only records; subclasses annotate their fields."""

    #: Whether keys that name no field are refused (True) or ignored (False).
    forbid_extra: ClassVar[bool] = True

    def __init__(self, **values: Any):
        """Keyword arguments are checked as `validate` checks a mapping (keys as users write them)."""
        self.__dict__.update(self._checked(values))

    # --- declaration ---------------------------------------------------------------------------
    @classmethod
    def fields(cls) -> dict[str, FieldSpec]:
        """The declared fields in order, base classes' first (collected once per class)."""
        cached = cls.__dict__.get("_fields")
        if cached is None:
            annotations = {}
            for klass in reversed(cls.__mro__):
                if issubclass(klass, Record):
                    annotations.update(_own_annotations(klass))
            cached = {}
            for name, annotation in annotations.items():
                declared = getattr(cls, name, _REQUIRED)
                if isinstance(declared, _Declared):
                    cached[name] = FieldSpec(name, annotation, declared.default, declared.factory,
                                             declared.description, declared.alias)
                else:
                    cached[name] = FieldSpec(name, annotation, declared)
            cls._fields = cached
            cls._keys = frozenset(spec.key for spec in cached.values())
            cls._required = [spec.key for spec in cached.values() if spec.required]
        return cached

    @classmethod
    def _checks(cls) -> list[tuple[str, str, Checker, FieldSpec]]:
        """(key, name, checker, spec) per field, built on the first validation of this class."""
        checks = cls.__dict__.get("_checks_built")
        if checks is None:
            checks = [(spec.key, name, _checker(spec.annotation), spec) for name, spec in cls.fields().items()]
            cls._checks_built = checks
        return checks

    # --- validation ----------------------------------------------------------------------------
    @classmethod
    def validate(cls: type[R], data: Any) -> R:
        """A record from a mapping; FieldError naming the key otherwise. An unknown key is reported
        first (with a suggestion), then a missing key, then the first value that does not fit."""
        if not isinstance(data, dict):
            raise FieldError("", "should be a mapping", data)
        record = object.__new__(cls)
        record.__dict__.update(cls._checked(data))
        return record

    @classmethod
    def _checked(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Every field's value, converted, from `data` (or its default)."""
        cls.fields()
        missing = [key for key in cls._required if key not in data]
        if cls.forbid_extra and not cls._keys.issuperset(data):
            key = next(str(k) for k in data if k not in cls._keys)
            close = (difflib.get_close_matches(key, missing, n=1)
                     or difflib.get_close_matches(key, sorted(cls._keys), n=1))
            raise FieldError(key, "unknown key" + (f" (did you mean {close[0]!r}?)" if close else ""))
        if missing:
            raise FieldError(missing[0], "missing key")
        values = {}
        for key, name, check, spec in cls._checks():
            if key in data:
                try:
                    values[name] = check(data[key])
                except FieldError as exc:
                    raise exc.inside(key) from None
            else:
                values[name] = spec.default_value()
        return values

    # --- reading back ----------------------------------------------------------------------------
    def changed(self) -> dict[str, Any]:
        """The fields that differ from their defaults, as JSON values (tuples become lists)."""
        out = {}
        for name, spec in self.fields().items():
            value = getattr(self, name)
            if spec.required or value != spec.default_value():
                out[spec.key] = _jsonable(value)
        return out

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.fields())

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.fields())
        return f"{type(self).__name__}({shown})"


def _own_annotations(klass: type) -> dict[str, Any]:
    """The fields a class itself annotates (ClassVars and `_names` left out), evaluated once per class
    in its module's namespace."""
    own = klass.__dict__.get("_own_annotations")
    if own is None:
        namespace = vars(sys.modules[klass.__module__])
        own = {}
        for name, annotation in klass.__dict__.get("__annotations__", {}).items():
            if name.startswith("_") or (isinstance(annotation, str) and annotation.startswith("ClassVar")):
                continue
            # the annotation is source text of the class itself, as typing.get_type_hints evaluates it
            value = eval(annotation, namespace) if isinstance(annotation, str) else annotation
            if get_origin(value) is not ClassVar:
                own[name] = value
        klass._own_annotations = own
    return own


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Record):
        return value.changed()
    return value


# --- checking values -----------------------------------------------------------------------------

Checker = Callable[[Any], Any]


class _Mismatch(Exception):
    """A value that does not fit; the caller says what was wanted."""


def _checker(annotation: Any) -> Checker:
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
        return _tuple([_compile(a) for a in args]) if Ellipsis not in args else _sequence(_checker(args[0]), tuple)
    if origin is list:
        return _sequence(_checker(args[0]), list)
    if origin is dict:
        return _mapping(_checker(args[1]))
    if isinstance(annotation, type) and issubclass(annotation, Record):
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
                raise FieldError("", "should have " + _length_words(mark, unit), value)
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


# --- words: what a declaration wants, for messages -------------------------------------------------

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
    if isinstance(annotation, type) and issubclass(annotation, Record):
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
        return f" ({_length_words(mark, 'character' if base is str else 'item')})"
    return ""


def _length_words(mark: Length, unit: str) -> str:
    """`at least 1 item and at most 3 items`."""
    parts = []
    if mark.min:
        parts.append(f"at least {mark.min} {unit}{'s' if mark.min != 1 else ''}")
    if mark.max is not None:
        parts.append(f"at most {mark.max} {unit}{'s' if mark.max != 1 else ''}")
    return " and ".join(parts)


# --- JSON Schema -------------------------------------------------------------------------------------

def json_schema(record: type[Record]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a record; nested records go to `$defs`."""
    defs: dict[str, Any] = {}
    schema = _record_schema(record, defs)
    if defs:
        schema["$defs"] = defs
    return schema


def _record_schema(record: type[Record], defs: dict[str, Any]) -> dict[str, Any]:
    properties = {}
    for spec in record.fields().values():
        prop = _schema(spec.annotation, defs)
        if spec.description:
            prop["description"] = spec.description
        if not spec.required:
            default = spec.default_value()
            if default is None or isinstance(default, int | float | str | bool | list | dict | tuple):
                prop["default"] = _jsonable(default)
        properties[spec.key] = prop
    schema: dict[str, Any] = {"type": "object", "title": record.__name__, "properties": properties}
    if record.__doc__:
        schema["description"] = record.__doc__.strip().splitlines()[0]
    required = [spec.key for spec in record.fields().values() if spec.required]
    if required:
        schema["required"] = required
    if record.forbid_extra:
        schema["additionalProperties"] = False
    return schema


def _schema(annotation: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin, args = get_origin(annotation), get_args(annotation)
    simple = {int: "integer", float: "number", bool: "boolean", str: "string", None: "null", type(None): "null"}
    if annotation is Any:
        return {}
    if annotation in simple:
        return {"type": simple[annotation]}
    if origin is Literal:
        return {"enum": list(args)}
    if origin is Annotated:
        schema = _schema(args[0], defs)
        for mark in args[1:]:
            schema.update(_schema_mark(mark, schema.get("type")))
        return schema
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(a, defs) for a in args]}
    if origin is tuple and Ellipsis not in args:
        return {"type": "array", "prefixItems": [_schema(a, defs) for a in args],
                "minItems": len(args), "maxItems": len(args)}
    if origin in (tuple, list):
        return {"type": "array", "items": _schema(args[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(args[1], defs)}
    if isinstance(annotation, type) and issubclass(annotation, Record):
        if annotation.__name__ not in defs:
            defs[annotation.__name__] = {}
            defs[annotation.__name__] = _record_schema(annotation, defs)
        return {"$ref": f"#/$defs/{annotation.__name__}"}
    raise TypeError(f"unsupported field annotation {annotation!r}")


def _schema_mark(mark: Any, kind: str | None) -> dict[str, Any]:
    if isinstance(mark, Bounds):
        keys = {"exclusiveMinimum": mark.gt, "minimum": mark.ge, "maximum": mark.le}
        return {k: v for k, v in keys.items() if v is not None}
    if isinstance(mark, Length):
        low, high = ("minLength", "maxLength") if kind == "string" else ("minItems", "maxItems")
        return {low: mark.min, **({high: mark.max} if mark.max is not None else {})}
    return {}
