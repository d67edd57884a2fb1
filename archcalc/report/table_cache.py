"""Tables kept in the user's cache folder (`archcalc.cache`), so that `archcalc table` on files that did
not change prints without loading the analysis again (pydantic, the layer registry, YAML): what
makes a repeated command start fast.

A table is found by archcalc's code stamp, the command's options and the file named on the command
line (its resolved path and the SHA-256 of its bytes); it is used only while every other file it was
read from (those it `extends`) still resolves from its `extends` name to the same file with the same
bytes. Anything unexpected in the cache reads as no entry: the table is then made afresh.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .. import cache
from ..errors import ArchcalcError
from .table import Cell, Column, Table

FOLDER = "tables"
MAX_ENTRIES = 64
MAX_BYTES = 2 * 1024 * 1024  # a larger table is made again rather than kept


def lookup(architecture: str, options: dict[str, Any]) -> Table | None:
    """The table kept for `architecture` (a zoo name or path, as given) with these options, or None."""
    if not cache.enabled():
        return None
    try:
        key = _key(architecture, options)
        kept = cache.read(cache.cache_dir() / FOLDER / f"{key}.json")
        if not isinstance(kept, dict) or not all(_unchanged(*read) for read in kept["files"]):
            return None
        return _table(kept["table"])
    except (ArchcalcError, OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def keep(architecture: str, options: dict[str, Any], table: Table, files: tuple) -> None:
    """Keep `table`, made from `files` (`Architecture.files`: the file given first, then those it extends)."""
    if not cache.enabled() or not files:
        return
    try:
        key = _key(architecture, options, files[0].sha256)
    except (ArchcalcError, OSError, ValueError):
        return
    data = {"files": [list(read) for read in files[1:]], "table": _data(table)}
    if len(json.dumps(data)) > MAX_BYTES:
        return
    folder = cache.cache_dir() / FOLDER
    cache.keep(folder / f"{key}.json", data)
    _prune(folder)


def _key(architecture: str, options: dict[str, Any], sha256: str | None = None) -> str:
    from .. import zoo

    path = zoo.find(architecture).resolve()
    digest = sha256 or hashlib.sha256(path.read_bytes()).hexdigest()
    text = json.dumps([cache.code_stamp(), str(path), digest, sorted(options.items())], default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _unchanged(reference: str, folder: str | None, path: str, sha256: str) -> bool:
    """Whether the `extends` name still finds the same file with the same bytes."""
    from .. import zoo
    from ..spec.loader import real_path

    try:
        found = zoo.find(reference, relative_to=None if folder is None else Path(folder))
    except ArchcalcError:
        return False
    return real_path(found) == path and hashlib.sha256(found.read_bytes()).hexdigest() == sha256


def _prune(folder: Path) -> None:
    """Remove the oldest entries beyond MAX_ENTRIES."""
    try:
        entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for old in entries[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _cells(cells) -> list:
    return [[c.text, c.value] for c in cells]


def _data(table: Table) -> dict[str, Any]:
    return {"title": table.title, "layout": table.layout, "footer": list(table.footer),
            "columns": [[c.key, c.header, c.align, c.unit, c.priority] for c in table.columns],
            "rows": [_cells(row) for row in table.rows], "split": [_cells(row) for row in table.split],
            "totals": None if table.totals is None else _cells(table.totals)}


def _row(cells: list) -> tuple[Cell, ...]:
    return tuple(Cell(str(text), value if isinstance(value, int | float) and not isinstance(value, bool) else None)
                 for text, value in cells)


def _table(data: dict[str, Any]) -> Table:
    columns = tuple(Column(str(key), str(header), align, str(unit), int(priority))
                    for key, header, align, unit, priority in data["columns"])
    if any(c.align not in ("left", "right", "center") for c in columns) or data["layout"] not in ("grid", "lines"):
        raise ValueError("not a table")
    return Table(str(data["title"]), columns, tuple(_row(r) for r in data["rows"]),
                 None if data["totals"] is None else _row(data["totals"]), tuple(map(str, data["footer"])),
                 data["layout"], tuple(_row(r) for r in data["split"]))

