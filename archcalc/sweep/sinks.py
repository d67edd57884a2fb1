"""Rows streamed to a file as they come, and a run resumed from what a file already holds.

Rows arrive in grid order, so a file always holds a prefix of the sweep: resuming starts at the
variant after its last complete row. CSV is one file, appended chunk by chunk (each row on one line:
text cells are made one-line and neutralised against spreadsheet formulas). Parquet is written as
parts in `<file>.parts/`, each chunk's part appearing whole (written aside, then renamed); at the
end they are joined, row group after row group, into `<file>` and the folder removed. Nothing holds
more than one chunk.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError
from ..escaping import csv_cell, one_line
from .grid import Grid

INT64 = 2**63 - 1


def open_sink(path: str | Path, columns: Sequence[str], grid: Grid, resume: bool = False):
    """A CSV or Parquet writer for `path` (by its suffix); with `resume`, one that continues the file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ArchcalcError(f"{path}: the output must end in .csv or .parquet")
    kind = CsvSink if suffix == ".csv" else ParquetSink
    exists = path.exists() or (kind is ParquetSink and ParquetSink.parts_of(path).exists())
    if exists and not resume:
        raise ArchcalcError(f"{path} exists: --resume continues it, or remove it first")
    return kind(path, list(columns), grid, resume and exists)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class CsvSink:
    def __init__(self, path: Path, columns: list[str], grid: Grid, resume: bool):
        self.path, self.columns, self.grid = path, columns, grid
        self.done = self._resume() if resume else 0
        if not resume:
            self._write_lines([columns])
        self.written = self.done

    def _resume(self) -> int:
        """Rows already written (a torn last line is cut off); ArchcalcError where the file is not this sweep's."""
        with open(self.path, "rb+") as file:
            header = file.readline()
            if next(csv.reader([header.decode("utf-8", "replace")]), []) != self.columns:
                raise ArchcalcError(f"{self.path} holds other columns than this sweep's; remove it or choose "
                                    "another output")
            complete, count, last = file.tell(), 0, None
            for line in file:
                if not line.endswith(b"\n"):
                    break
                complete += len(line)
                count, last = count + 1, line
            file.truncate(complete)
        if last is not None:
            self._check_last(next(csv.reader([last.decode("utf-8")])), count - 1)
        return count

    def _check_last(self, cells: list[str], index: int) -> None:
        expected = self.cells({"variant": index, **self.grid.variant(index)} if index < len(self.grid) else {})
        keys = ["variant", *self.grid.keys]
        if [cells[self.columns.index(k)] for k in keys] != [str(expected[self.columns.index(k)]) for k in keys]:
            raise ArchcalcError(f"{self.path} was written by another sweep (its row {index} has other values); "
                                "remove it or choose another output")

    def cells(self, row: dict[str, Any]) -> list[Any]:
        shown = []
        for key in self.columns:
            value = row.get(key)
            if key == "input" and isinstance(value, list):
                value = "x".join(map(str, value))
            if value is None:
                shown.append("")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                shown.append(csv_cell(one_line(_text(value))))
            else:
                shown.append(value)
        return shown

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._write_lines([self.cells(r) for r in rows])
        self.written += len(rows)

    def _write_lines(self, lines: list[list[Any]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(lines)
        with open(self.path, "a", encoding="utf-8", newline="") as file:
            file.write(buffer.getvalue())
            file.flush()
            os.fsync(file.fileno())

    def close(self) -> None:
        pass


class ParquetSink:
    def __init__(self, path: Path, columns: list[str], grid: Grid, resume: bool):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ArchcalcError("writing Parquet needs pyarrow: pip install 'archcalc[dask]'") from None
        self.pa, self.pq = pa, pq
        self.path, self.columns, self.grid = path, columns, grid
        self.schema = pa.schema([(c, self._type(c)) for c in columns])
        self.parts = self.parts_of(path)
        self.complete = resume and path.exists() and not self.parts.exists()  # a finished run's file
        self.done = self._resume() if resume else 0
        if not self.complete:
            self.parts.mkdir(parents=True, exist_ok=True)
        self.written = self.done
        self.count = 0 if self.complete else len(list(self.parts.glob("part-*.parquet")))

    @staticmethod
    def parts_of(path: Path) -> Path:
        return path.with_name(path.name + ".parts")

    def _type(self, column: str) -> Any:
        pa = self.pa
        if column == "error":
            return pa.string()
        if column in self.grid.keys:
            values = self.grid.values[self.grid.keys.index(column)]
            if all(isinstance(v, bool) for v in values):
                return pa.bool_()
            if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                return pa.int64()
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                return pa.float64()
            return pa.string()
        return pa.int64()

    def _resume(self) -> int:
        if self.complete:
            rows = self.pq.read_metadata(self.path).num_rows
            self._check(self.pq.read_schema(self.path), rows if rows == len(self.grid) else len(self.grid) + 1)
            return rows
        total = 0
        for part in sorted(self.parts.glob("part-*.parquet")):
            total += self.pq.read_metadata(part).num_rows
            self._check(self.pq.read_schema(part), total, part)
        for torn in self.parts.glob("*.tmp"):
            torn.unlink()
        return total

    def _check(self, schema: Any, rows: int, part: Path | None = None) -> None:
        if not schema.equals(self.schema) or rows > len(self.grid):
            raise ArchcalcError(f"{self.path} was written by another sweep; remove it (and {self.parts.name}) "
                                "or choose another output")
        if part is not None and rows:
            table = self.pq.read_table(part, columns=["variant", *self.grid.keys])
            last = table.slice(table.num_rows - 1).to_pylist()[0]
            expected = self.values({"variant": rows - 1, **self.grid.variant(rows - 1)})
            if any(last[k] != expected[k] for k in last):
                raise ArchcalcError(f"{self.path} was written by another sweep (its row {rows - 1} has other "
                                    "values); remove it or choose another output")

    def values(self, row: dict[str, Any]) -> dict[str, Any]:
        """`row` as the schema stores it: text for lists, and a count past 2**63 as an error."""
        stored = {}
        for field in self.schema:
            value = row.get(field.name)
            if field.name == "input" and isinstance(value, list):
                value = "x".join(map(str, value))
            if value is not None and field.type == self.pa.string() and not isinstance(value, str):
                value = _text(value)
            stored[field.name] = value
        if any(isinstance(v, int) and abs(v) > INT64 for v in stored.values()):
            stored.update({k: None for k, v in stored.items() if isinstance(v, int) and k not in self.grid.keys})
            stored["error"] = "a count beyond 2**63 does not fit a Parquet int64 column"
        return stored

    def write(self, rows: list[dict[str, Any]]) -> None:
        table = self.pa.Table.from_pylist([self.values(r) for r in rows], schema=self.schema)
        final = self.parts / f"part-{self.count:08d}.parquet"
        aside = final.with_suffix(".tmp")
        self.pq.write_table(table, aside)
        os.replace(aside, final)
        self.count += 1
        self.written += len(rows)

    def close(self) -> None:
        """Join the parts into the file, once every variant is written."""
        if self.complete or self.written < len(self.grid):
            return
        aside = self.path.with_name(self.path.name + ".tmp")
        with self.pq.ParquetWriter(aside, self.schema) as writer:
            for part in sorted(self.parts.glob("part-*.parquet")):
                writer.write_table(self.pq.read_table(part, schema=self.schema))
        os.replace(aside, self.path)
        shutil.rmtree(self.parts)
