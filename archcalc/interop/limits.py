"""What an importer reads, bounded before the work: the bytes of a file, of a gzip stream or of a
`.keras` archive's `config.json`, counted while they are decompressed (a small file that would grow
to gigabytes is refused at the limit, never decompressed first)."""

from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import Path

from ..errors import SpecError

MiB = 1024 * 1024
CHUNK = 1024 * 1024


def read_bounded(path: Path, limit: int, *, what: str) -> bytes:
    """The bytes of the regular file `path`, gunzipped when it ends in `.gz`; refused past `limit` bytes."""
    _regular(path)
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as stream:
            return _read_stream(stream, path, limit, what)
    except (OSError, EOFError, zlib.error) as exc:
        raise SpecError(f"cannot read {what}: {' '.join(str(exc).split())[:200]}", file=str(path)) from None


def read_archive_member(path: Path, member: str, limit: int, *, what: str) -> bytes:
    """The bytes of the one entry `member` of the zip archive `path`, refused past `limit` bytes, and
    refused when the archive holds an entry that no writer of such an archive makes (a name twice, an
    absolute or `..` name, encryption, an unusual compression)."""
    _regular(path)
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_entries(path, entries)
            found = [e for e in entries if e.filename == member]
            if not found:
                raise SpecError(f"the archive has no {member}", file=str(path))
            if found[0].file_size > limit:
                raise _too_large(path, what, limit)
            with archive.open(found[0]) as stream:
                return _read_stream(stream, path, limit, what)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        raise SpecError(f"cannot read {what}: {' '.join(str(exc).split())[:200]}", file=str(path)) from None


def _regular(path: Path) -> None:
    """Refuse what is not a regular file (a directory, a device, a FIFO that would block)."""
    if not path.is_file():
        raise SpecError("no such file" if not path.exists() else "not a regular file", file=str(path))


def _check_entries(path: Path, entries: list[zipfile.ZipInfo]) -> None:
    names: set[str] = set()
    for entry in entries:
        name = entry.filename
        parts = name.replace("\\", "/").split("/")
        if name in names:
            raise SpecError(f"the archive holds {name!r} twice", file=str(path))
        names.add(name)
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0] or "\x00" in name:
            raise SpecError(f"the archive holds an entry named {name!r} outside it", file=str(path))
        if entry.flag_bits & 0x1:
            raise SpecError(f"the archive's entry {name!r} is encrypted", file=str(path))
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise SpecError(f"the archive's entry {name!r} uses compression method {entry.compress_type} "
                            "(only stored and deflated entries are read)", file=str(path))


def _read_stream(stream, path: Path, limit: int, what: str) -> bytes:
    data = bytearray()
    while chunk := stream.read(min(CHUNK, limit + 1 - len(data))):
        data += chunk
        if len(data) > limit:
            raise _too_large(path, what, limit)
    return bytes(data)


def _too_large(path: Path, what: str, limit: int) -> SpecError:
    return SpecError(f"{what} is larger than {limit // MiB} MiB (decompressed)", file=str(path))
