"""A sweep cut into chunks of consecutive variants, computed here, by joblib or on a Dask cluster.

A chunk is `(start, stop)`; what computes it needs the validated file, the grid and the options
(`Job`), which travel once per task (joblib) or once per worker (Dask). Each process or thread keeps
its `Sweeper` for a job (`sweeper_for`), so that the file is read and expanded once per worker, not
once per chunk. Chunks come back in grid order whichever finished first, at most `window` of them
in flight, so that memory does not grow with the grid.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import ArchcalcError
from ..gc_pause import cycle_collection_paused
from ..spec import ArchFile
from .engine import Sweeper
from .grid import Grid
from .rows import rows

DEFAULT_CHUNK = 1000
_local = threading.local()
_KEPT = 4  # sweepers kept per process or thread


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to compute chunks of one sweep."""

    spec: ArchFile
    label: str
    grid: Grid
    options: dict[str, Any]
    counts: tuple[str, ...] = ()
    token: str = field(default="", compare=False)

    @classmethod
    def make(cls, spec: ArchFile, label: str, grid: Grid, options: dict[str, Any],
             counts: tuple[str, ...] = ()) -> Job:
        """A job with a token of its own, by which workers find the Sweeper they keep for it."""
        return cls(spec, label, grid, options, counts, uuid.uuid4().hex)


def sweeper_for(job: Job, sweeper: Sweeper | None = None) -> Sweeper:
    """The Sweeper this process or thread keeps for `job` (`sweeper`, where given, becomes it)."""
    kept = getattr(_local, "sweepers", None)
    if kept is None:
        kept = _local.sweepers = {}
    found = kept.get(job.token) if sweeper is None else kept.setdefault(job.token, sweeper)
    if found is None:
        if len(kept) >= _KEPT:
            kept.pop(next(iter(kept)))
        found = kept[job.token] = Sweeper(job.spec, label=job.label, **job.options)
    return found


def compute(job: Job, start: int, stop: int) -> list[dict[str, Any]]:
    """The rows of variants `start` … `stop` − 1 (the cycle collector paused for the chunk, not once per
    analysis: its passes over the rows already made would cost more than the analyses; and a pass over
    the chunk's objects when it ends, which collects the cycles a million variants may leave)."""
    with cycle_collection_paused(promote=False):
        return list(rows(sweeper_for(job), job.grid, start, stop, job.counts))


def ranges(total: int, start: int, chunk: int) -> Iterator[tuple[int, int]]:
    for first in range(start, total, chunk):
        yield first, min(first + chunk, total)


def serial(job: Job, start: int, chunk: int) -> Iterator[list[dict[str, Any]]]:
    for first, last in ranges(len(job.grid), start, chunk):
        yield compute(job, first, last)


def with_joblib(job: Job, start: int, chunk: int, jobs: int) -> Iterator[list[dict[str, Any]]]:
    """Chunks computed by `jobs` joblib workers (processes), in order, two per worker dispatched ahead."""
    Parallel, delayed = _needs("joblib", "sweep", "Parallel", "delayed")
    parallel = Parallel(n_jobs=jobs, return_as="generator", pre_dispatch="2*n_jobs")
    yield from parallel(delayed(compute)(job, first, last) for first, last in ranges(len(job.grid), start, chunk))


def with_dask(job: Job, start: int, chunk: int, address: Any) -> Iterator[list[dict[str, Any]]]:
    """Chunks computed on the Dask cluster at `address` (a scheduler address, or a `distributed.Client`),
    in order, at most two per worker thread in flight."""
    Client, as_completed = _needs("distributed", "dask", "Client", "as_completed")
    client = _connect(Client, address) if isinstance(address, str) else address
    try:
        shared = client.scatter(job, broadcast=True)
        window = max(2, 2 * sum(client.nthreads().values()))
        pending = ranges(len(job.grid), start, chunk)
        waiting = as_completed()
        for first, last in _take(pending, window):
            waiting.add(client.submit(compute, shared, first, last, key=f"archcalc-sweep-{job.token[:12]}-{first}"))
        done: dict[int, list] = {}
        following = start
        for future in waiting:
            rows_ = future.result()
            done[rows_[0]["variant"]] = rows_
            future.release()
            for first, last in _take(pending, 1):
                waiting.add(client.submit(compute, shared, first, last,
                                          key=f"archcalc-sweep-{job.token[:12]}-{first}"))
            while following in done:
                ready = done.pop(following)
                following += len(ready)
                yield ready
    finally:
        if client is not address:
            client.close()


def _take(iterator: Iterator, count: int) -> list:
    taken = []
    for item in iterator:
        taken.append(item)
        if len(taken) >= count:
            break
    return taken


def _connect(Client: Any, address: str) -> Any:
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ArchcalcError(f"--dask: cannot reach the scheduler at {address}: {exc}") from None


def _needs(module: str, extra: str, *names: str) -> list[Any]:
    """The names from `module`, or one line naming the extra that installs it."""
    from importlib import import_module

    try:
        imported = import_module(module)
    except ImportError:
        raise ArchcalcError(f"this needs {module}: pip install 'archcalc[{extra}]'") from None
    return [getattr(imported, name) for name in names]
