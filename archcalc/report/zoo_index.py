"""The zoo's totals, kept in the user's cache folder (`archcalc.cache`) so that `archcalc list` need not
analyse every architecture again: an index rebuilt whenever a zoo file or archcalc's own code changes.

The index is keyed by archcalc's code stamp and by the name, size and modification time of every zoo
file; where the cache folder cannot be written the index is computed and used without being kept."""

from __future__ import annotations

from .. import zoo
from ..cache import cache_dir, code_stamp, keep, read

FILE_NAME = "zoo-index.json"

__all__ = ["FILE_NAME", "cache_dir", "entries"]


def entries() -> list[dict]:
    """One dict per zoo architecture, sorted by name: `name`, then either `title`, `input`,
    `params`, `macs` and `source`, or `error` (the one-line message of a file that fails)."""
    key = _fingerprint()
    path = cache_dir() / FILE_NAME
    kept = read(path)
    if isinstance(kept, dict) and kept.get("key") == key and isinstance(kept.get("entries"), list):
        return kept["entries"]
    built = [_entry(name) for name in zoo.names()]
    keep(path, {"key": key, "entries": built})
    return built


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
    """What the index depends on: archcalc's code, and every zoo file as (path, size, mtime)."""
    zoo_files = []
    for path in sorted(zoo.zoo_dir().glob("*")):
        stat = path.stat()
        zoo_files.append([str(path), stat.st_size, stat.st_mtime_ns])
    return [code_stamp(), zoo_files]
