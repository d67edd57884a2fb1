"""The sheets of a class: files named one by one, the entries of a folder, the matches of a glob pattern.

A folder's entries and a pattern's matches are read as a stranger wrote them: only regular files are
graded, and a link only when it leads to a regular file inside the same folder. Every other entry — a
folder, a named pipe, a socket or device, a link to nothing or to anything outside the folder — is kept
as a sheet not graded, with the reason, and is never opened (a pipe would wait for a writer). Hidden
entries (`.name`) are left out. A file named on its own is read as named (a pipe such as `<(…)` too).
"""

from __future__ import annotations

import glob
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError
from .sheet import MAX_SHEET_BYTES, Sheet, SheetError, read_sheet, read_sheet_bytes

_GLOB = re.compile(r"[*?\[]")
_KINDS = ((stat.S_ISDIR, "a folder, not a sheet"), (stat.S_ISFIFO, "a named pipe, not a file"),
          (stat.S_ISSOCK, "a socket, not a file"), (stat.S_ISCHR, "a device, not a file"),
          (stat.S_ISBLK, "a device, not a file"))


@dataclass(frozen=True)
class Source:
    """One sheet as listed: its path, why it is not graded (empty when it is), and whether it was found in a
    folder or by a pattern (then it is read without following a link the check did not see)."""

    path: Path
    skipped: str = ""
    listed: bool = False
    target: Path | None = None    # the regular file inside the folder that a listed link leads to

    def read(self) -> Sheet:
        """The sheet (SheetError when it cannot be read); never called for a skipped source."""
        if not self.listed:
            return read_sheet(self.path)
        return read_sheet_bytes(_read_regular(self.target or self.path, str(self.path)), str(self.path))


def sources(arguments: Any) -> list[Source]:
    """The sheets named by files, folders (their entries, by name) and glob patterns, in that order."""
    arguments = [arguments] if isinstance(arguments, str | Path) else list(arguments)
    found: list[Source] = []
    for argument in map(str, arguments):
        path = Path(argument)
        if path.is_dir():
            found += [listed(entry, path) for entry in _entries(path)]
        elif _GLOB.search(argument) and not path.exists():
            matched = sorted(Path(p) for p in glob.glob(argument))
            if not matched:
                raise ArchcalcError(f"no sheet matches {argument!r}")
            found += [listed(entry, entry.parent) for entry in matched]
        else:
            found.append(Source(path))
    if not found:
        raise ArchcalcError(f"no sheets in {', '.join(map(str, arguments)) or 'the arguments'}")
    return found


def _entries(folder: Path) -> Iterable[Path]:
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except OSError as exc:
        raise ArchcalcError(f"cannot list the folder: {exc.strerror or exc}", file=str(folder)) from None
    return (folder / name for name in names if not name.startswith("."))


def listed(path: Path, folder: Path) -> Source:
    """A folder's entry as a source: graded when it is a regular file, or a link to one inside `folder`."""
    try:
        mode = os.lstat(path).st_mode
        if not stat.S_ISLNK(mode):
            return Source(path, _not_a_file(mode), listed=True)
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return Source(path, "a link to nothing", listed=True)
        if not target.is_relative_to(folder.resolve()):
            return Source(path, "a link to a file outside the folder", listed=True)
        kind = _not_a_file(os.stat(target).st_mode)
        return Source(path, kind and f"a link to {kind.split(',')[0]}", listed=True, target=target)
    except OSError as exc:
        return Source(path, f"cannot be read: {exc.strerror or exc}", listed=True)


def _not_a_file(mode: int) -> str:
    return next((reason for test, reason in _KINDS if test(mode)), "" if stat.S_ISREG(mode) else "not a file")


def _read_regular(path: Path, label: str) -> bytes:
    """The bytes of a regular file, opened without following a link and without waiting on a pipe."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise SheetError(f"cannot read the sheet: {exc.strerror or exc}", file=label) from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise SheetError("not a regular file", file=label)
        chunks, size = [], 0
        while size <= MAX_SHEET_BYTES:
            chunk = os.read(descriptor, MAX_SHEET_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise SheetError(f"cannot read the sheet: {exc.strerror or exc}", file=label) from None
    finally:
        os.close(descriptor)
