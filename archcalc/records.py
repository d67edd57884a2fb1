"""Read-only records of declared fields, on pydantic: the base class, the field types, and
validation whose every error is one line naming the key.

A `Record` subclass declares its fields as annotated class attributes:

    class Conv(Layer):
        out_channels: PositiveInt
        stride: IntOrPair = (1, 1)
        activation: FusedActivation | None = Field(None, description="fused activation")

`Record.from_mapping(mapping)` returns a frozen instance or raises `FieldError`, one line such as
"out_channels: should be an integer greater than 0 (got -4)"; pydantic's own report is never shown.
Values are checked strictly, as JSON Schema reads them: no "3" for 3, no 1 for true; a whole
float (an expression's `width/2`) is an integer. Int-or-pair values are stored as pairs.
Models are built on first use (`defer_build`), so that a command pays only for the types it meets.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, MaxLen, MinLen
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationError

from .errors import shorten, suggestion


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


# --- field types -------------------------------------------------------------------------------

def _whole(value: Any) -> Any:
    """2.0 → 2: a whole float (`width/2`) is an integer, as JSON Schema's `integer` says."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _as_pair(value: Any) -> Any:
    """n → (n, n); pairs, four values and words stay as they are."""
    return (value, value) if isinstance(value, int) else value


def _compact(value: Any) -> Any:
    """A pair as JSON shows it: (n, n) → n, as it was most likely written."""
    if isinstance(value, tuple):
        return value[0] if len(value) == 2 and value[0] == value[1] else list(value)
    return value


Int = Annotated[int, BeforeValidator(_whole)]
PositiveInt = Annotated[int, Gt(0), BeforeValidator(_whole)]
NonNegativeInt = Annotated[int, Ge(0), BeforeValidator(_whole)]
PositiveFloat = Annotated[float, Gt(0)]
Fraction = Annotated[float, Ge(0), Le(1)]
_PositivePair = Annotated[tuple[PositiveInt, PositiveInt], BeforeValidator(_as_tuple)]
_NonNegativePair = Annotated[tuple[NonNegativeInt, NonNegativeInt], BeforeValidator(_as_tuple)]
_NonNegativeQuad = Annotated[tuple[NonNegativeInt, NonNegativeInt, NonNegativeInt, NonNegativeInt],
                             BeforeValidator(_as_tuple)]
_PAIRED, _SHOWN = AfterValidator(_as_pair), PlainSerializer(_compact)
#: (height, width): one positive int for both, or two.
IntOrPair = Annotated[PositiveInt | _PositivePair, _PAIRED, _SHOWN]
#: (height, width) of a padding or a length that may be 0.
NonNegativePair = Annotated[NonNegativeInt | _NonNegativePair, _PAIRED, _SHOWN]
_WIDTHS = NonNegativeInt | _NonNegativePair | _NonNegativeQuad
#: Padding widths: one int (all sides), (pad_h, pad_w) or (top, bottom, left, right).
PadWidths = Annotated[_WIDTHS, _PAIRED, _SHOWN]
#: A padding: widths, `same` or `valid`.
Padding = Annotated[_WIDTHS | Literal["same", "valid"], _PAIRED, _SHOWN]

def _axes_types(axes: int) -> tuple[Any, Any, Any]:
    """(int-or-axes, non-negative int-or-axes, padding) field types of a layer over `axes` spatial axes
    ((L,) or (T, H, W)): one int for every axis (stored as one per axis), one per axis, and for a padding
    also (before, after) per axis, `same` or `valid`. (H, W) layers use the pair types above."""

    def spread(value: Any) -> Any:
        return (value,) * axes if isinstance(value, int) else value

    def shown(value: Any) -> Any:
        if isinstance(value, tuple):
            return value[0] if len(value) == axes and len(set(value)) == 1 else list(value)
        return value

    def each(kind: Any, count: int) -> Any:
        return Annotated[tuple[(kind,) * count], BeforeValidator(_as_tuple)]

    spreading, showing = AfterValidator(spread), PlainSerializer(shown)
    positive = Annotated[PositiveInt | each(PositiveInt, axes), spreading, showing]
    lengths = NonNegativeInt | each(NonNegativeInt, axes)
    nonnegative = Annotated[lengths, spreading, showing]
    widths = lengths | each(NonNegativeInt, 2 * axes)
    return positive, nonnegative, Annotated[widths, spreading, showing], \
        Annotated[widths | Literal["same", "valid"], spreading, showing]


#: (L,) of a 1-D layer and (T, H, W) of a 3-D one: kernel sizes, strides and dilations; lengths that may be
#: 0; padding widths; paddings.
IntOrSingle, NonNegativeSingle, PadWidthsSingle, PaddingSingle = _axes_types(1)
IntOrTriple, NonNegativeTriple, PadWidthsTriple, PaddingTriple = _axes_types(3)



# --- records -----------------------------------------------------------------------------------

class Record(BaseModel):
    """Base of declared, frozen records; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False, defer_build=True)

    @classmethod
    def from_mapping(cls, data: Any) -> Any:
        """A record from a mapping; FieldError naming the key otherwise. An unknown key is reported
        first (with a suggestion), then a missing key, then the first value that does not fit."""
        if not isinstance(data, dict):
            raise FieldError("", "should be a mapping", data)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _first_error(cls, data, exc.errors(include_url=False)) from None

    @classmethod
    def unknown_key_hint(cls, key: str) -> str:
        """What to say after "unknown key" when `key` is another library's name of a field (` (did you
        mean 'out_channels'? ...)`); empty for the nearest field's name to be suggested instead."""
        return ""

    def changed(self) -> dict[str, Any]:
        """The fields that differ from their defaults, as JSON values (keys as users write them)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def keys(cls: type[Record]) -> dict[str, str]:
    """Each field's key as users write it (`from`) → its attribute name (`from_`)."""
    return {info.alias or name: name for name, info in cls.model_fields.items()}


def _first_error(cls: type[Record], data: dict, errors: list[dict[str, Any]]) -> FieldError:
    fields = keys(cls)
    missing = [key for key, name in fields.items() if cls.model_fields[name].is_required() and key not in data]
    extra = [str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1]
    if extra:
        hint = cls.unknown_key_hint(extra[0]) or suggestion(extra[0], missing) or suggestion(extra[0], fields)
        return FieldError(extra[0], "unknown key" + hint)
    if missing:
        return FieldError(missing[0], "missing key")
    error = errors[0]
    key = error["loc"][0]
    return _locate(annotation(cls, fields[key]), data[key], error["loc"][1:], error["type"]).inside(str(key))


def annotation(cls: type[Record], name: str) -> Any:
    """A field's full annotation, with the bounds and lengths pydantic keeps apart."""
    info = cls.model_fields[name]
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


_LENGTH_ERRORS = ("too_short", "too_long", "string_too_short", "string_too_long")


def _locate(annotation: Any, value: Any, rest: tuple, kind: str) -> FieldError:
    """The error for `value` of `annotation`, `rest` being what is left of pydantic's location:
    containers and nested records say which item; a union or a pair is wrong as a whole."""
    base, marks = _unwrap(annotation)
    origin, args = get_origin(base), get_args(base)
    if rest and _is_record(base):
        try:
            base.from_mapping(value)
        except FieldError as exc:
            return exc
    if rest and (origin is list or (origin is tuple and Ellipsis in args)):
        return _locate(args[0], value[rest[0]], rest[1:], kind).inside(str(rest[0]))
    if rest and origin is dict and rest[1:2] != ("[key]",):
        return _locate(args[1], value[rest[0]], rest[1:], kind).inside(str(rest[0]))
    if not rest and kind in _LENGTH_ERRORS and _length_words(marks, base):
        return FieldError("", "should have " + _length_words(marks, base), value)
    wanted = describe(annotation)
    if isinstance(value, float) and value == value and not value.is_integer() and "integer" in wanted:
        return FieldError("", "is not a whole number", value)
    return FieldError("", "should be " + wanted, value)


def _unwrap(annotation: Any) -> tuple[Any, tuple]:
    if get_origin(annotation) is Annotated:
        return get_args(annotation)[0], get_args(annotation)[1:]
    return annotation, ()


def _is_record(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Record)


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
        words = describe(args[0]) + _bound_words(args[1:])
        length = _length_words(args[1:], args[0])
        return words + (f" ({length})" if length else "")
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


def _bound_words(marks: tuple) -> str:
    gt = next((m.gt for m in marks if isinstance(m, Gt)), None)
    ge = next((m.ge for m in marks if isinstance(m, Ge)), None)
    le = next((m.le for m in marks if isinstance(m, Le)), None)
    if ge is not None and le is not None:
        return f" from {ge:g} to {le:g}"
    words = [f"{w} {v:g}" for w, v in (("greater than", gt), ("of at least", ge), ("of at most", le)) if v is not None]
    return " " + " and ".join(words) if words else ""


def _length_words(marks: tuple, base: Any) -> str:
    """`at least 1 item and at most 3 items`; empty without length marks."""
    unit = "character" if base is str else "item"
    low = next((m.min_length for m in marks if isinstance(m, MinLen)), 0)
    high = next((m.max_length for m in marks if isinstance(m, MaxLen)), None)
    parts = [f"{word} {n} {unit}{'s' if n != 1 else ''}" for word, n in (("at least", low or None),
                                                                        ("at most", high)) if n is not None]
    return " and ".join(parts)
