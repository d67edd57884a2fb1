"""The JSON Schema of architecture files, generated from the declared fields of every layer type."""

from __future__ import annotations

from typing import Any

from ..fields import json_schema as record_schema
from ..layers import registered_types
from .model import ArchFile, LayerEntry

_EXPRESSION = {"type": "string", "description": "an arithmetic expression, e.g. 2*width"}


def _allow_expressions(schema: Any) -> Any:
    """Numbers and booleans, also inside lists and unions, may be written as expression strings."""
    if isinstance(schema, list):
        return [_allow_expressions(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    inner = {k: _allow_expressions(v) if k in ("anyOf", "items", "prefixItems") else v for k, v in schema.items()}
    if inner.get("type") in ("integer", "number", "boolean"):
        return {"anyOf": [inner, _EXPRESSION]}
    if "anyOf" in inner and _EXPRESSION not in inner["anyOf"]:
        inner["anyOf"] = [*inner["anyOf"], _EXPRESSION]
    return inner


def layer_schema(type_name: str, cls) -> dict[str, Any]:
    """Schema of one layer entry of this type: structural keys plus its hyper-parameters."""
    own = record_schema(cls)
    structural = record_schema(LayerEntry)["properties"]
    properties = {k: v for k, v in structural.items() if k != "type"}
    properties["type"] = {"const": type_name}
    for key, value in own.get("properties", {}).items():
        properties[key] = _allow_expressions(value)
    return {
        "type": "object",
        "title": type_name,
        "description": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
        "properties": properties,
        "required": ["type"],  # other keys may come from the file's `defaults`
        "additionalProperties": False,
        **({"$defs": own["$defs"]} if "$defs" in own else {}),
    }


def json_schema() -> dict[str, Any]:
    """The whole file's schema: layer entries are one of the registered types or a block use."""
    schema = record_schema(ArchFile)
    variants = [layer_schema(name, cls) for name, cls in sorted(registered_types().items())]
    block_use = {
        "type": "object", "title": "block",
        "description": "a use of a block from `blocks`; its arguments are the other keys",
        "properties": {"type": {"type": "string", "not": {"enum": sorted(registered_types())}}},
        "required": ["type"],
    }
    entry = {"anyOf": [*variants, block_use]}
    schema["properties"]["layers"]["items"] = entry
    schema.setdefault("$defs", {})["BlockDef"]["properties"]["layers"]["items"] = entry
    # A file that `extends` another may take its input and layers from it.
    schema["required"] = [k for k in schema.get("required", []) if k not in ("input", "layers")]
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {"required": ["input", "layers"]}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archcalc architecture file"
    return schema
