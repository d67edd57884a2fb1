"""Writing a class's gradebook and feedback files without overwriting what was handed in or each other.

The gradebook is refused when its path is one of the graded sheets (the same file, through a link
too). Feedback goes to one markdown file per student, named after the student (cut to
`MAX_STEM_BYTES` bytes, so that no name is too long for the file system). A file already there is
replaced only when it is an earlier feedback file (a regular file that starts as feedback does); a
sheet, a key, the gradebook, a link or anything else of that name is kept, and the feedback is
written beside it as `name-2.md`, which the caller is told.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import ArchcalcError

MAX_STEM_BYTES = 100
FEEDBACK_MARK = "# Feedback: "
BOM = "\ufeff"
Identity = tuple[int, int]


def file_stem(name: str, fallback: str = "sheet") -> str:
    """A file name (without extension) for `name`: letters, digits, `.`, `-` and `_` only, at most
    `MAX_STEM_BYTES` bytes in UTF-8, never empty or hidden."""
    stem = re.sub(r"[^\w.-]+", "_", name).strip("._")
    encoded = stem.encode("utf-8")
    if len(encoded) > MAX_STEM_BYTES:
        stem = encoded[:MAX_STEM_BYTES].decode("utf-8", errors="ignore").rstrip("._")
    return stem or fallback


def identity(path: str | Path) -> Identity | None:
    """The file a path leads to (device, inode), following links; None when there is none."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return found.st_dev, found.st_ino


def identities(paths: Iterable[str | Path]) -> set[Identity]:
    return {found for found in map(identity, paths) if found is not None}


def write_gradebook(path: str | Path, text: str, inputs: set[Identity]) -> None:
    """Write the gradebook as UTF-8 with a byte-order mark (so that Excel reads accents and CJK right);
    refused when `path` is one of the `inputs`."""
    if identity(path) in inputs:
        raise ArchcalcError("the gradebook would overwrite a sheet being graded: write it outside the sheets' "
                            "folder", file=str(path))
    try:
        with open(path, "w", encoding="utf-8", newline="") as stream:
            stream.write(BOM + text)
    except OSError as exc:
        raise ArchcalcError(f"cannot write the gradebook: {exc.strerror or exc}", file=str(path)) from None


def write_feedback(files: Iterable[tuple[str, str]], folder: str | Path, keep: set[Identity],
                   warn: Callable[[str], None] | None = None) -> list[Path]:
    """Write each (student, markdown) into `folder` as `<student>.md`; files in `keep` and any file that is not
    an earlier feedback file are never overwritten (the feedback goes beside, and `warn` says so)."""
    folder = Path(folder)
    written: list[Path] = []
    done: set[Identity] = set()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for student, text in files:
            stem, number = file_stem(student), 1
            while True:
                path = folder / (f"{stem}.md" if number == 1 else f"{stem}-{number}.md")
                state = _state(path, keep | done)
                if state != "taken" and _write_new(path, text, replace=state == "earlier"):
                    break
                number += 1
            if number > 1 and warn and identity(folder / f"{stem}.md") not in done:
                warn(f"{folder / f'{stem}.md'} is not a feedback file and is kept; the feedback for "
                     f"{student[:80]!r} is in {path.name}")
            written.append(path)
            done.add(identity(path))
    except OSError as exc:
        raise ArchcalcError(f"cannot write the feedback: {exc.strerror or exc}", file=str(folder)) from None
    return written


def _state(path: Path, keep: set[Identity]) -> str:
    """`free` (no such file), `earlier` (an earlier feedback file, to replace) or `taken` (anything else)."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return "free"
    if not stat.S_ISREG(found.st_mode) or (found.st_dev, found.st_ino) in keep:
        return "taken"
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return "taken"
    try:
        start = os.read(descriptor, len(FEEDBACK_MARK.encode()))
    finally:
        os.close(descriptor)
    return "earlier" if start == FEEDBACK_MARK.encode() else "taken"


def _write_new(path: Path, text: str, replace: bool) -> bool:
    """Write `text` to a new file at `path` (or over an earlier feedback file), never through a link; False
    when a file appeared there in between."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | (os.O_TRUNC if replace else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, 0o644)
    except FileExistsError:
        return False
    with open(descriptor, "w", encoding="utf-8", newline="") as stream:
        stream.write(text)
    return True
