"""`archcalc layers`: every layer type a file may name, with its aliases, the PyTorch and Keras class
names `type:` also reads, and its arguments with their defaults — read from the registry itself, and
kept in the cache folder (`archcalc.cache`) until archcalc's code changes, so that the listing
does not wait for the registry to load."""

from __future__ import annotations

from typing import Any

from .. import cache
from ..spelling import folded
from .table import Cell, Column, Table

FILE_NAME = "layer-types.json"


def type_entries(pattern: str = "") -> list[dict[str, Any]]:
    """One dict per layer type, by name: `type`, `aliases`, `foreign_names`, `family`, `description`
    and `arguments` (each `name`, `required`, `default` when not required, and `accepts`). `pattern`
    keeps the types with a name, alias or foreign name containing it (case and `_` ignored)."""
    wanted = folded(pattern)
    return [entry for entry in _kept_entries()
            if any(wanted in folded(name) for name in (entry["type"], *entry["aliases"], *entry["foreign_names"]))]


def _kept_entries() -> list[dict[str, Any]]:
    key = cache.code_stamp()
    path = cache.cache_dir() / FILE_NAME
    kept = cache.read(path) if cache.enabled() else None
    if isinstance(kept, dict) and kept.get("key") == key and isinstance(kept.get("entries"), list):
        return kept["entries"]
    entries = _entries()
    if cache.enabled():
        cache.keep(path, {"key": key, "entries": entries})
    return entries


def _entries() -> list[dict[str, Any]]:
    from ..layers.base import accepted_foreign_names, registered_types
    from ..records import annotation, describe

    classes = sorted(dict.fromkeys(registered_types().values()), key=lambda cls: cls.type_name)
    entries = []
    for cls in classes:
        foreign = accepted_foreign_names(cls)
        arguments = []
        for key, info in cls.model_fields.items():
            argument: dict[str, Any] = {"name": info.alias or key, "required": info.is_required()}
            if not info.is_required():
                argument["default"] = _json_value(info.get_default(call_default_factory=True))
            argument["accepts"] = describe(annotation(cls, key))
            arguments.append(argument)
        entries.append({"type": cls.type_name, "aliases": list(cls.aliases), "foreign_names": list(foreign),
                        "family": cls.family.value, "description": " ".join((cls.__doc__ or "").split()),
                        "arguments": arguments})
    return entries


def _json_value(value: Any) -> Any:
    """A default as a file writes it: a pair of equal values as one value, tuples as lists."""
    if isinstance(value, tuple):
        return value[0] if len(value) == 2 and value[0] == value[1] else list(value)
    return value


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    return str(value).replace("'", "")


def layer_types_table(entries: list[dict[str, Any]]) -> Table:
    """The entries as a table: type, aliases, foreign names, arguments (`name=default`; required ones bare)."""
    columns = (Column("type", "Type"), Column("aliases", "Aliases"),
               Column("foreign_names", "PyTorch / Keras names"), Column("arguments", "Arguments (default)"))
    rows = []
    for entry in entries:
        arguments = ", ".join(a["name"] if a["required"] else f"{a['name']}={_shown(a['default'])}"
                              for a in entry["arguments"])
        rows.append((Cell(entry["type"]), Cell(", ".join(entry["aliases"])),
                     Cell(", ".join(entry["foreign_names"])), Cell(arguments or "—")))
    footer = (f"{len(rows)} layer type(s). A type is read whatever its case; arguments without a default are "
              "required; docs/layers.md has the formulas.",)
    return Table("archcalc layer types", columns, tuple(rows), None, footer)
