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

Modules: `marks` (the vocabulary: bounds, lengths, PositiveInt, ...), `checks` (a checker and the
words of a message per annotation), `record` (`Record` and `field`), `schema` (`json_schema`).
"""

from .checks import FieldError, describe
from .marks import Bounds, Fraction, Length, NonNegativeInt, PositiveFloat, PositiveInt
from .record import FieldSpec, Record, field
from .schema import json_schema

__all__ = ["Bounds", "FieldError", "FieldSpec", "Fraction", "Length", "NonNegativeInt", "PositiveFloat",
           "PositiveInt", "Record", "describe", "field", "json_schema"]
