"""Bounded, safe reading of YAML and JSON architecture files.

A hostile file cannot run code (safe loader only), exhaust memory through alias expansion, or
recurse without end: size, aliases and nesting are capped, and every failure is a SpecError that
names the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ALIASES = 200
MAX_NESTING = 40


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses many aliases or deep nesting before building anything."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise SpecError(f"more than {MAX_ALIASES} YAML aliases")
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise SpecError(f"nested deeper than {MAX_NESTING} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_text(text: str, source: str) -> Any:
    """Parse YAML (a superset of JSON) with the bounds above."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"file is larger than {MAX_FILE_BYTES // 1024} KiB", file=source)
    if "\x00" in text:
        raise SpecError("file is binary, not YAML or JSON", file=source)
    try:
        if source.endswith(".json"):
            return json.loads(text)
        loader = _BoundedLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except SpecError as exc:
        raise exc.located(file=source) from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif isinstance(exc, json.JSONDecodeError):
            where = f" at line {exc.lineno}, column {exc.colno}"
        problem = getattr(exc, "problem", None) or getattr(exc, "msg", None) or "syntax error"
        raise SpecError(f"not valid {'JSON' if source.endswith('.json') else 'YAML'}{where}: {problem}",
                        file=source) from None
    except RecursionError:
        raise SpecError(f"nested deeper than {MAX_NESTING} levels", file=source) from None


def read_file(path: Path) -> Any:
    """Read and parse one file; errors name the file."""
    source = path.name
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"file is larger than {MAX_FILE_BYTES // 1024} KiB", file=source)
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("file is not UTF-8 text", file=source) from None
    return parse_text(text, source)
