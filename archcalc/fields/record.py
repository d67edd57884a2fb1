"""`Record`: a read-only record of declared fields, validated from a mapping, and `field`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, get_origin

from ..errors import suggestion
from .checks import Checker, FieldError, checker

_REQUIRED: Any = object()


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
            checks = [(spec.key, name, checker(spec.annotation), spec) for name, spec in cls.fields().items()]
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
            raise FieldError(key, "unknown key" + (suggestion(key, missing) or suggestion(key, sorted(cls._keys))))
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
                out[spec.key] = jsonable(value)
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


def jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, Record):
        return value.changed()
    return value
