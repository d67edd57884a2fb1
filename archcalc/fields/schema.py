"""The JSON Schema (draft 2020-12) of declared records, from the same annotations the checks read."""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from .marks import Bounds, Length
from .record import Record, jsonable


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
                prop["default"] = jsonable(default)
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
