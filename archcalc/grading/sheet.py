"""Reading an answer sheet: CSV/TSV, a markdown table, JSON, or a list of dicts, into rows of cells.

Columns are recognised by their header (`Output Shape`, `Param #`, `# of Param`, `MACs`, `ops`,
`memory`, ...); a header containing `given` marks data handed out with the sheet, not graded.
Reading is bounded (size, rows, columns) so a hostile sheet fails fast with a clear message.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError
from ..escaping import csv_cell
from .numbers import MAX_CELL_LENGTH

MAX_SHEET_BYTES = 1_000_000
MAX_ROWS = 5_000
MAX_COLUMNS = 40

GRADED = ("input", "output", "params", "ops", "memory")
ANSWER = "answer"
UNWRITABLE = "a value too large to write out"
_SILENT = {"type", "kernel", "stride", "pad", "padding", "in", "out", "connected to", "no", "#", "index",
           "note", "notes", "comment", "description", "asks", "points"}
#: `# archcalc sheet: ops=flops ...` and `# student: Ada` (also `<!-- ... -->`, or a spreadsheet's cell: quoted,
#: with the row's empty cells after it)
_META = re.compile(r"^\s*(\")?[\s#<!-]*(archcalc sheet|student)\s*:\s*(.*)$", re.IGNORECASE)
_ROW_END = re.compile(r"[\s,;]*$")
#: A backslash escape of markdown (CommonMark: before any ASCII punctuation character).
_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_DELIMITERS = re.compile(r"[,;\t]")
_PIPE = re.compile(r"(?<!\\)\|")   # a markdown table's cell border: a pipe not escaped


class SheetError(ArchcalcError):
    """The answer sheet cannot be read at all (format, size, columns, layer names)."""


@dataclass(frozen=True)
class Row:
    """One data row: its number in the sheet (1 = first row under the header), name and cells."""

    number: int
    name: str | None
    cells: dict[str, Any]
    problem: str | None = None


@dataclass(frozen=True)
class Sheet:
    label: str
    format: str
    headers: dict[str, str]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = field(default=())
    asks: str = ""
    student: str | None = None


def column_of(header: str) -> str | None:
    """The graded column a header names (`name` for the layer column); None if not graded."""
    text = " ".join(re.sub(r"[^a-z0-9#]+", " ", header.lower()).split())
    if not text or "given" in text:
        return None
    if text.startswith("question"):
        return "name"
    if text in ("answer", "your answer", "answers"):
        return ANSWER
    if text.startswith("layer") or text in ("name", "layer name"):
        return "name"
    if text.startswith("input"):
        return "input"
    if "output" in text or "shape" in text or text in ("size", "out size"):
        return "output"
    if "param" in text or "weight" in text:
        return "params"
    if re.search(r"mac|flop|\bops?\b|operation|mult", text):
        return "ops"
    if "mem" in text or "activation" in text:
        return "memory"
    return None


def read_sheet_bytes(data: bytes, label: str) -> Sheet:
    """A sheet from the bytes of a file, named `label` in its errors."""
    return _from_text(_decode(data, label), label)


def read_sheet(answers: Any) -> Sheet:
    """A sheet from a path, text (CSV, markdown or JSON), bytes, or a list of row dicts."""
    if isinstance(answers, Path):
        return _from_text(_read_file(answers), str(answers))
    if isinstance(answers, bytes):
        return _from_text(_decode(answers, "<answers>"), "<answers>")
    if isinstance(answers, str):
        if "\n" not in answers and len(answers) < 1024 and (
                Path(answers).suffix.lower() in (".csv", ".tsv", ".md", ".json", ".txt") or _is_file(answers)):
            return _from_text(_read_file(Path(answers)), answers)
        return _from_text(answers, "<answers>")
    if isinstance(answers, list | dict):
        return _from_records(answers, "<answers>", "records")
    raise SheetError(f"answers must be a path, text or a list of dicts, got {type(answers).__name__}")


def _is_file(text: str) -> bool:
    """Whether `text` names a file (False for a name the system cannot even look up, such as one too long)."""
    try:
        return Path(text).is_file()
    except OSError:
        return False


def _read_file(path: Path) -> str:
    """A file's text, read no further than the size limit (so a pipe or a device works, and cannot
    feed an endless stream)."""
    label = str(path)
    try:
        if path.is_dir():
            raise SheetError("is a folder, not a sheet", file=label)
        with path.open("rb") as stream:
            data = stream.read(MAX_SHEET_BYTES + 1)
    except OSError as exc:
        raise SheetError(f"cannot read the sheet: {exc.strerror or exc}", file=label) from None
    if len(data) > MAX_SHEET_BYTES:
        raise SheetError(f"the sheet is over {MAX_SHEET_BYTES:,} bytes; larger sheets are refused", file=label)
    return _decode(data, label)


def _decode(data: bytes, label: str) -> str:
    if len(data) > MAX_SHEET_BYTES:
        raise SheetError(f"the sheet is {len(data):,} bytes; sheets over {MAX_SHEET_BYTES:,} bytes are refused",
                         file=label)
    if b"\0" in data:
        raise SheetError("this is binary data, not a table (CSV, markdown or JSON)", file=label)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SheetError("this is not UTF-8 text; save the sheet as UTF-8 CSV, markdown or JSON",
                         file=label) from None


def _from_text(text: str, label: str) -> Sheet:
    if len(text) > MAX_SHEET_BYTES:
        raise SheetError(f"the sheet has {len(text):,} characters; sheets over {MAX_SHEET_BYTES:,} are refused",
                         file=label)
    if "\0" in text:
        raise SheetError("this is binary data, not a table (CSV, markdown or JSON)", file=label)
    stripped = text.strip()
    if not stripped:
        raise SheetError("the sheet is empty", file=label)
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped, parse_int=lambda digits: int(digits) if len(digits) <= MAX_CELL_LENGTH
                              else UNWRITABLE)
        except (json.JSONDecodeError, RecursionError) as exc:
            message = getattr(exc, "msg", "nested too deeply")
            where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
            raise SheetError(f"invalid JSON{where}: {message}", file=label) from None
        return _from_records(data, label, "JSON")
    lines, meta = _meta_lines(stripped.splitlines())
    if not lines:
        raise SheetError("the sheet has no table under its header lines", file=label)
    student = meta.get("student")
    if any(line.lstrip().startswith("|") for line in lines):
        sheet = _from_grid(_markdown_grid(lines, label), label, "markdown")
        student = student and _unescape_markdown(student)
    else:
        sheet = _from_grid(_csv_grid(lines, label), label, "CSV")
    return replace(sheet, asks=meta.get("archcalc sheet", ""), student=student or None)


def _meta_value(line: str) -> tuple[str, str] | None:
    """(`archcalc sheet` or `student`, what it says) for such a line; None for any other line."""
    match = _META.match(line)
    if not match or line.lstrip().startswith("|"):
        return None
    value = _ROW_END.sub("", match.group(3))
    if match.group(1):          # a quoted spreadsheet cell: "# student: O'Brien ""Bob""",,
        value = value.removesuffix('"').replace('""', '"')
    return match.group(2).lower(), value.removesuffix("-->").strip()


def _unescape_markdown(text: str) -> str:
    """Markdown text as it reads: backslash escapes resolved, `&amp;` an ampersand."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text).replace("&amp;", "&")


def _meta_lines(lines: list[str]) -> tuple[list[str], dict[str, str]]:
    """The lines without the `archcalc sheet:` and `student:` lines (and, outside a markdown table, comment
    lines: `#` and no delimiter), and what those two say."""
    meta: dict[str, str] = {}
    kept = []
    for line in lines:
        found = _meta_value(line)
        if found:
            meta.setdefault(*found)
        elif not (line.lstrip().startswith("#") and not _DELIMITERS.search(line.strip().rstrip(",;\t"))):
            kept.append(line)
    while kept and not kept[0].strip():
        kept.pop(0)
    return kept, meta


def _markdown_grid(lines: list[str], label: str) -> list[tuple[int, list[str]]]:
    grid, started = [], False
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line.startswith("|"):
            if started:
                break
            continue
        started = True
        cells = [_unescape_markdown(c.strip()) for c in _PIPE.split(line.removeprefix("|").removesuffix("|"))]
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c) and any(cells):
            continue
        grid.append((number, cells))
    return grid


def _csv_grid(lines: list[str], label: str) -> list[tuple[int, list[str]]]:
    header = lines[0]
    delimiter = "\t" if "\t" in header else ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    grid = []
    try:
        for number, cells in enumerate(reader, 1):
            if len(grid) > MAX_ROWS + 1:
                break
            if any(c.strip() for c in cells):
                grid.append((number, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise SheetError(f"not a readable CSV: {exc}", file=label) from None
    return grid


def _headers(raw: list[str], label: str) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """Map column positions to graded columns; notes for headers that are not graded."""
    if len(raw) > MAX_COLUMNS:
        raise SheetError(f"the header has {len(raw)} columns; at most {MAX_COLUMNS} are read", file=label)
    positions: dict[int, str] = {}
    named: dict[str, str] = {}
    ignored = []
    for index, header in enumerate(raw):
        column = column_of(str(header))
        if column is None:
            if str(header).strip() and str(header).strip().lower() not in _SILENT:
                ignored.append(str(header).strip())
            continue
        if column in named:
            raise SheetError(f"columns {named[column]!r} and {str(header).strip()!r} both read as {column}",
                             file=label)
        positions[index] = column
        named[column] = str(header).strip()
    if not set(named) & {*GRADED, ANSWER}:
        found = ", ".join(repr(str(h)) for h in raw[:8]) or "none"
        raise SheetError("no column to grade: expected a header among layer, input, output, params, "
                         f"ops (MACs/FLOPs), memory; found {found}", file=label)
    notes = [f"column {h!r} is not graded" for h in ignored[:5]]
    return positions, named, notes


def _from_grid(grid: list[tuple[int, list[str]]], label: str, kind: str) -> Sheet:
    if not grid:
        raise SheetError(f"no table found in this {kind} text", file=label)
    if len(grid) - 1 > MAX_ROWS:
        raise SheetError(f"the sheet has more than {MAX_ROWS:,} rows; no network table is that long", file=label)
    positions, named, notes = _headers(grid[0][1], label)
    width = len(grid[0][1])
    rows = []
    for number, (line, cells) in enumerate(grid[1:], 1):
        problem = None
        if len(cells) != width:
            hint = " (a number with a comma must be quoted in CSV)" if kind == "CSV" else ""
            problem = f"line {line} has {len(cells)} cells but the header has {width}{hint}"
        row = {positions[i]: c for i, c in enumerate(cells) if i in positions}
        rows.append(_row(number, row, problem))
    if not rows:
        raise SheetError("the sheet has a header but no rows", file=label)
    return Sheet(label, kind, named, tuple(rows), tuple(notes))


def _row(number: int, cells: dict[str, Any], problem: str | None = None) -> Row:
    name = cells.pop("name", None)
    name = str(name).strip() if name is not None and str(name).strip() else None
    if name and name.startswith("'") and csv_cell(name[1:]) == name:
        name = name[1:]         # a layer name as a CSV template writes it when a spreadsheet would run it
    return Row(number, name, cells, problem)


def _from_records(data: Any, label: str, kind: str) -> Sheet:
    student = data.get("student") if isinstance(data, dict) and isinstance(data.get("student"), str) else None
    if isinstance(data, dict):
        for key in ("rows", "layers", "answers"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            if all(isinstance(v, dict) for v in data.values()):
                data = [{"layer": k, **v} for k, v in data.items()]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SheetError(f"{kind} answers must be a list of rows (objects with a layer and answer fields)",
                         file=label)
    if not data:
        raise SheetError("the sheet is empty", file=label)
    if len(data) > MAX_ROWS:
        raise SheetError(f"the sheet has {len(data):,} rows; at most {MAX_ROWS:,} are read", file=label)
    keys: list[str] = []
    for record in data:
        keys += [str(_plain(k)) for k in record if str(_plain(k)) not in keys][: MAX_COLUMNS + 1 - len(keys)]
    positions, named, notes = _headers(keys, label)
    rows = []
    for number, record in enumerate(data, 1):
        by_key = {str(_plain(k)): _plain(v) for k, v in record.items()}
        cells = {positions[i]: by_key[k] for i, k in enumerate(keys) if i in positions and k in by_key}
        rows.append(_row(number, {c: v for c, v in cells.items() if v is not None}))
    return Sheet(label, kind, named, tuple(rows), tuple(notes), student=student)


def _plain(value: Any) -> Any:
    """A record's key or value as read, or `UNWRITABLE` where Python cannot write it as text (an
    integer of over 4,300 digits, even inside a list; a list nested too deeply)."""
    if isinstance(value, str):
        return value
    try:
        str(value)
    except (ValueError, RecursionError):
        return UNWRITABLE
    return value
