"""The zoo's totals, kept in the user's cache folder so that `archcalc list` need not analyse every
architecture again: an index rebuilt whenever a zoo file or archcalc's own code changes.

The index lives in `$XDG_CACHE_HOME/archcalc/` (default `~/.cache/archcalc/`) and is keyed by the
name, size and modification time of every zoo file and every module of the package, and by the
version; where that folder cannot be written the index is computed and used without being kept."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from .. import __version__, zoo

FILE_NAME = "zoo-index.json"


def entries() -> list[dict]:
    """One dict per zoo architecture, sorted by name: `name`, then either `title`, `input`,
    `params`, `macs` and `source`, or `error` (the one-line message of a file that fails)."""
    key = _fingerprint()
    path = cache_dir() / FILE_NAME
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept["key"] == key:
            return kept["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    built = [_entry(name) for name in zoo.names()]
    _keep(path, {"key": key, "entries": built})
    return built


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "archcalc"


def _entry(name: str) -> dict:
    from ..analysis import analyze
    from ..errors import ArchcalcError

    try:
        report = analyze(name)
    except ArchcalcError as exc:
        return {"name": name, "error": str(exc)}
    spec = report.architecture.spec
    return {"name": name, "title": spec.title, "input": list(report.input_shape),
            "params": report.totals.params, "macs": report.totals.macs, "source": " ".join(spec.source.split())}


def _fingerprint() -> list:
    """What the index depends on: the version, and every zoo file and module as (path, size, mtime)."""
    package = Path(__file__).resolve().parent.parent
    stamps = []
    for folder, pattern in ((zoo.zoo_dir(), "*"), (package, "**/*.py")):
        for path in sorted(folder.glob(pattern)):
            stat = path.stat()
            stamps.append([str(path), stat.st_size, stat.st_mtime_ns])
    return [__version__, stamps]


def _keep(path: Path, data: dict) -> None:
    """Write the index atomically; a folder that cannot be written only costs the next run time."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
