"""Design-space sweeps: one architecture file analysed over a grid of its `args` and input size.

    rows = archcalc.sweep("mobilenet_v1", {"alpha": [1, 0.75, 0.5, 0.25], "resolution": [224, 160]})
    rows[0]["macs"]                        # 568740352

The package is also its `sweep` function (as `archcalc.draw` is `draw`). Each row holds `variant`
(the index in the grid), the grid's values, the network's totals (`rows.NUMBERS`), one
`flops_<profile>` per count profile asked for, and `error` (None, or the one-line message that makes
this variant invalid). `engine` reuses what the variants share,
`chunks` spreads the work (here, joblib, Dask), `sinks` streams rows to CSV or Parquet and resumes.
docs/sweeps.md is the user's page.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .grid import INPUT, Grid, grid_of, parse_settings
from .pareto import front

__all__ = ["INPUT", "Grid", "front", "grid_of", "parse_settings", "stream", "sweep"]


def sweep(file: str | Path | Mapping[str, Any], grid: Grid | Mapping[str, Any], *, zip: bool = False,
          count: Sequence[str] = (), batch: int = 1, dtype: str = "float32", strict: bool = False,
          jobs: int = 1, dask: Any = None, chunk: int | None = None, output: str | Path | None = None,
          resume: bool = False) -> list[dict[str, Any]] | int:
    """Analyse `file` (a zoo name, a path or a mapping) for every variant of `grid` (`{name: values}`,
    names from the file's `args` or `input`; `zip`: the lists side by side instead of their product).

    Returns the rows, or with `output` (a .csv or .parquet path) writes them there as they come and
    returns how many rows the file holds; `resume` continues a file an interrupted run left. `jobs`
    > 1 runs on joblib workers, `dask` on a Dask cluster (a scheduler address or a Client)."""
    stream_ = stream(file, grid, zip=zip, count=count, batch=batch, dtype=dtype, strict=strict, jobs=jobs,
                     dask=dask, chunk=chunk, output=output, resume=resume)
    if output is None:
        return [row for rows in stream_ for row in rows]
    for _ in stream_:
        pass
    return stream_.written


class stream:  # noqa: N801 - used as a function: `for rows in stream(...)`
    """The chunks of rows of a sweep, in grid order, as they are computed (and written to `output`);
    `columns`, `grid` and, once done, `written` (the rows the output holds)."""

    def __init__(self, file: Any, grid: Grid | Mapping[str, Any], *, zip: bool = False, count: Sequence[str] = (),
                 batch: int = 1, dtype: str = "float32", strict: bool = False, jobs: int = 1, dask: Any = None,
                 chunk: int | None = None, output: str | Path | None = None, resume: bool = False):
        from .. import profiles
        from ..errors import SpecError
        from .chunks import DEFAULT_CHUNK, Job, sweeper_for
        from .engine import Sweeper
        from .rows import columns

        self.grid = grid if isinstance(grid, Grid) else grid_of(grid, zip)
        counts = tuple(count)
        for name in counts:
            profiles.get(name)
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise SpecError(f"jobs must be a positive integer, got {jobs!r}")
        chunk = DEFAULT_CHUNK if chunk is None else chunk
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise SpecError(f"chunk must be a positive integer, got {chunk!r}")
        options = {"batch": batch, "dtype": dtype, "strict": strict}
        local = Sweeper(file, **options)  # reads and validates the file once, here, and checks the names
        local.check(self.grid)
        self.job = Job.make(local.spec, local.label, self.grid, options, counts)
        sweeper_for(self.job, local)  # the serial run, and a run on threads of this process, use it
        self.columns = columns(self.grid, counts)
        self.jobs, self.dask, self.chunk = jobs, dask, chunk
        self.sink = None
        if output is not None:
            from .sinks import open_sink

            self.sink = open_sink(output, self.columns, self.grid, resume)
        self.start = self.sink.done if self.sink else 0
        self.written = self.start

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        from . import chunks

        if self.dask is not None:
            produced = chunks.with_dask(self.job, self.start, self.chunk, self.dask)
        elif self.jobs > 1:
            produced = chunks.with_joblib(self.job, self.start, self.chunk, self.jobs)
        else:
            produced = chunks.serial(self.job, self.start, self.chunk)
        for rows in produced:
            if self.sink is not None:
                self.sink.write(rows)
            self.written += len(rows)
            yield rows
        if self.sink is not None:
            self.sink.close()


class _Callable(ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]] | int:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _Callable
