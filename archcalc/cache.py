"""The user's cache folder, for results that are slow to make and cheap to check: `$XDG_CACHE_HOME/archcalc/`
(default `~/.cache/archcalc/`). Every entry depends on archcalc's code (`code_stamp`); a folder that
cannot be written only costs the next run its time, and `ARCHCALC_NO_CACHE=1` turns the cache off."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from . import __version__


def enabled() -> bool:
    return os.environ.get("ARCHCALC_NO_CACHE", "") in ("", "0")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "archcalc"


def code_stamp() -> list:
    """What archcalc computes with: its version and every module of the package as (path, size,
    modification time), so that an edited or reinstalled archcalc never reads an older result."""
    package = Path(__file__).resolve().parent
    stamps = []
    for folder, _, files in sorted(os.walk(package)):
        for name in sorted(files):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(folder, name))
                stamps.append([os.path.join(folder, name), stat.st_size, stat.st_mtime_ns])
    return [__version__, stamps]


def read(path: Path) -> Any:
    """The JSON kept at `path`, or None where there is none (or it cannot be read)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def keep(path: Path, data: Any) -> None:
    """Write `data` as JSON at `path` atomically; a folder that cannot be written is no error."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
