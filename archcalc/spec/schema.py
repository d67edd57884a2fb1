"""The JSON Schema of architecture files, generated from the pydantic models.

The file's keys come from `ArchFile`; a layer entry is a union discriminated on `type`: one
branch per layer type (its `type` one of the type's names, its title and description the class's
doc, its keys the structural ones and the type's hyper-parameters), and one branch for a use of a
block. A block's name is any other string, except one slip of the keyboard away from a type name
of four or more letters (a letter inserted, left out or replaced, or two neighbours swapped),
which an editor then flags as a misspelling (`covn`; `conv1` stays a fine block name).
"""

from __future__ import annotations

import re
from typing import Any

from ..layers import Layer, registered_types
from .archfile import ArchFile, LayerEntry

_EXPRESSION = {"type": "string", "description": "an arithmetic expression, e.g. 2*width"}
_SHORTEST_CHECKED = 4


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


def _properties(model_schema: dict[str, Any]) -> dict[str, Any]:
    """A model's properties without pydantic's generated titles ("Out Channels")."""
    properties = model_schema["properties"]
    return {k: {key: v for key, v in value.items() if key != "title"} for k, value in properties.items()}


def layer_schema(cls: type[Layer], structural: dict[str, Any]) -> dict[str, Any]:
    """Schema of one layer entry of this type: its `type`, the structural keys and its hyper-parameters."""
    doc = cls.model_json_schema().get("description", "")
    own = {k: _allow_expressions(v) for k, v in _properties(cls.model_json_schema()).items()}
    kind = {"enum": [cls.type_name, *cls.aliases], "title": cls.type_name, "description": doc}
    return {
        "type": "object",
        "title": cls.type_name,
        "description": doc,
        "properties": {"type": kind, **structural, **own},
        "required": ["type"],  # other keys may come from the file's `defaults`
        "additionalProperties": False,
    }


def _one_edit(name: str) -> set[str]:
    """Regular expressions for every string one slip (of a letter) away from `name`. Leaving out the last
    letter after a digit is none: that is a numbered name (`conv1` of `conv1d`)."""
    e = re.escape
    near = {e(name[:i]) + "[A-Za-z]" + e(name[i:]) for i in range(len(name) + 1)}
    near |= {e(name[:i]) + "[A-Za-z]" + e(name[i + 1:]) for i in range(len(name))}
    near |= {e(name[:i] + name[i + 1:]) for i in range(len(name))
             if not (i == len(name) - 1 and name[i - 1:i].isdigit())}
    near |= {e(name[:i] + name[i + 1] + name[i] + name[i + 2:]) for i in range(len(name) - 1)}
    return near


def json_schema() -> dict[str, Any]:
    """The whole file's schema (draft 2020-12)."""
    types = registered_types()
    structural = {k: v for k, v in _properties(LayerEntry.model_json_schema()).items() if k != "type"}
    classes = sorted(set(types.values()), key=lambda cls: cls.type_name)
    branches = {cls.__name__: layer_schema(cls, structural) for cls in classes}
    misspelt = sorted(set().union(*(_one_edit(n) for n in types if len(n) >= _SHORTEST_CHECKED)))
    branches["BlockUse"] = {
        "type": "object", "title": "block",
        "description": "a use of a block from `blocks`; its arguments are the other keys",
        "properties": {"type": {"type": "string", "description": "the name of a block from `blocks`",
                                "not": {"anyOf": [{"enum": sorted(types)},
                                                  {"pattern": "^(?:" + "|".join(misspelt) + ")$"}]}},
                       **structural},
        "required": ["type"],
    }
    entry = {"oneOf": [{"$ref": f"#/$defs/{name}"} for name in branches]}
    schema = ArchFile.model_json_schema()
    schema["properties"] = _properties(schema)
    schema["properties"]["layers"]["items"] = entry
    block = schema["$defs"]["BlockDef"]
    block["properties"] = _properties(block)
    block["properties"]["layers"]["items"] = entry
    schema["$defs"].update(branches)
    # A file that `extends` another may take its input and layers from it.
    schema["required"] = [k for k in schema.get("required", []) if k not in ("input", "layers")]
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {"required": ["input", "layers"]}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archcalc architecture file"
    return schema
