"""The architecture file format: reading, `extends`, validation and expansion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import zoo
from ..errors import ArchcalcError, SpecError
from ..records import FieldError
from .archfile import ArchFile, BlockDef, LayerEntry
from .expand import Expansion, Group, Node, expand, resolve_value
from .loader import Document, FileRead, check_size, line_of, merged_lines, parse_text, read_file, real_path

MAX_EXTENDS = 8
_MERGED_MAPPINGS = ("args", "defaults", "blocks")
_NOT_INHERITED = ("reference", "extends", "accuracy")


def load_raw(path: Path, chain: tuple[str, ...] = (), resolved: str | None = None) -> dict[str, Any]:
    """The file's mapping with `extends` applied (parent first, this file's keys on top); `resolved`:
    its absolute path, where known."""
    data = read_file(path, resolved)
    files = getattr(data, "files", ())
    resolved = files[0].path if files else resolved or real_path(path)
    return _with_parent(data, path.name, path.parent, chain + (resolved,))


def _with_parent(data: Any, source: str, folder: Path | None, chain: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SpecError(f"the top level must be a mapping, got {type(data).__name__}", file=source)
    parent_name = data.get("extends")
    if parent_name is None:
        return data
    if not isinstance(parent_name, str):
        raise SpecError("extends must be a zoo name or a path", file=source)
    if len(chain) > MAX_EXTENDS:
        raise SpecError(f"extends chain longer than {MAX_EXTENDS}", file=source)
    try:
        parent_path = zoo.find(parent_name, relative_to=folder)
    except SpecError as exc:
        raise exc.located(file=source) from None
    resolved = real_path(parent_path)
    if resolved in chain:
        raise SpecError(f"extends {parent_name!r} forms a cycle", file=source)
    parent = load_raw(parent_path, chain, resolved)
    merged = {k: v for k, v in parent.items() if k not in _NOT_INHERITED}
    for key, value in data.items():
        if key in _MERGED_MAPPINGS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    document = Document(merged)
    document.lines = merged_lines(parent, data)
    found = getattr(parent, "files", ())
    if found:
        found = (found[0]._replace(reference=parent_name, folder=None if folder is None else str(folder)),
                 *found[1:])
    document.files = (*getattr(data, "files", ()), *found)
    return document


def validate(data: dict[str, Any], source: str) -> ArchFile:
    """Validate the top level; errors become one SpecError line naming the key."""

    try:
        spec = ArchFile.from_mapping(data)
    except FieldError as exc:
        lines = getattr(data, "lines", {})
        raise SpecError(str(exc), file=source).located(where=line_of(lines, exc.where)) from None
    spec._lines = getattr(data, "lines", {})
    spec._files = getattr(data, "files", ())
    return spec


def load_spec(source: str | Path | dict[str, Any], text: str | None = None) -> tuple[ArchFile, str]:
    """Read a zoo name, a path, a mapping or YAML text; return the validated file and its label."""
    if isinstance(source, dict):
        name = source.get("name")
        label = name if isinstance(name, str) and name else "<mapping>"
        try:
            check_size(source)  # a mapping gets the bounds of a file
        except SpecError as exc:
            raise exc.located(file=label) from None
        return validate(_with_parent(source, label, None, ()), label), label
    if text is not None:
        label = str(source)
        return validate(_with_parent(parse_text(text, label), label, None, ()), label), label
    path = zoo.find(str(source))
    raw = load_raw(path)
    return validate(raw, path.name), path.name


__all__ = ["ArchFile", "ArchcalcError", "BlockDef", "Expansion", "FileRead", "Group", "LayerEntry", "Node",
           "expand", "load_spec", "resolve_value"]
