"""The JSON Schema of architecture files, generated from the pydantic models of every layer type."""

from __future__ import annotations

from typing import Any

from ..layers import registered_types
from .model import ArchFile, LayerEntry

_EXPRESSION = {"type": "string", "description": "an arithmetic expression, e.g. 2*width"}


def _allow_expressions(schema: dict[str, Any]) -> dict[str, Any]:
    """Numbers and booleans may also be written as expression strings."""
    if schema.get("type") in ("integer", "number", "boolean") or "anyOf" in schema or "type" not in schema:
        return {"anyOf": [schema, _EXPRESSION]}
    return schema


def layer_schema(type_name: str, cls) -> dict[str, Any]:
    """Schema of one layer entry of this type: structural keys plus its hyper-parameters."""
    own = cls.model_json_schema()
    structural = LayerEntry.model_json_schema()["properties"]
    properties = {k: v for k, v in structural.items() if k != "type"}
    properties["type"] = {"const": type_name}
    for key, value in own.get("properties", {}).items():
        properties[key] = _allow_expressions(value)
    return {
        "type": "object",
        "title": type_name,
        "description": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
        "properties": properties,
        "required": ["type", *own.get("required", [])],
        "additionalProperties": False,
        **({"$defs": own["$defs"]} if "$defs" in own else {}),
    }


def json_schema() -> dict[str, Any]:
    """The whole file's schema: layer entries are one of the registered types or a block use."""
    schema = ArchFile.model_json_schema()
    variants = [layer_schema(name, cls) for name, cls in sorted(registered_types().items())]
    block_use = {
        "type": "object", "title": "block",
        "description": "a use of a block from `blocks`; its arguments are the other keys",
        "properties": {"type": {"type": "string"}}, "required": ["type"],
    }
    entry = {"anyOf": [*variants, block_use]}
    schema["properties"]["layers"]["items"] = entry
    schema.setdefault("$defs", {})["BlockDef"]["properties"]["layers"]["items"] = entry
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archcalc architecture file"
    return schema
