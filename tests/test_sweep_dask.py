"""`archcalc sweep --dask`: a Dask LocalCluster (two workers, threads in this process) computes a grid of
ten thousand variants; its rows equal the serial ones, row by row, and streamed to Parquet by a run
stopped midway and resumed. (CSV's resume is tested in test_sweep.py: the writer is the same.)"""

from __future__ import annotations

import pytest

import archcalc
from archcalc.errors import ArchcalcError

distributed = pytest.importorskip("distributed")

# small enough that ten thousand variants take seconds; `k` past the input makes invalid variants
TINY = {"name": "tiny", "input": [3, "size", "size"], "args": {"width": 8, "k": 3, "size": 16},
        "layers": [{"name": "conv", "type": "conv", "out_channels": "width", "kernel_size": "k"},
                   {"name": "relu", "type": "relu"},
                   {"name": "pool", "type": "globalavgpool"},
                   {"name": "flat", "type": "flatten"},
                   {"name": "fc", "type": "linear", "out_features": 10}]}
GRID = {"width": list(range(1, 101)), "k": list(range(1, 21)), "size": [8, 12, 16, 20, 24]}  # 10,000


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    # workers in this process measure the whole test process's memory: no limit, or a long session pauses them
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                      memory_limit=0) as cluster, \
            Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def serial():
    rows = archcalc.sweep(TINY, GRID)
    assert len(rows) == 10_000 and any(r["error"] for r in rows) and any(r["error"] is None for r in rows)
    return rows


def test_a_cluster_gives_the_serial_rows(client, serial):
    assert archcalc.sweep(TINY, GRID, dask=client, chunk=500) == serial


def test_a_cluster_streams_to_parquet_and_resumes(client, serial, tmp_path, monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet")
    from archcalc.sweep import sinks

    out = tmp_path / "rows.parquet"
    original, written = sinks.ParquetSink.write, []

    def stopping(self, rows):  # the writer stops after seven chunks, as an interrupted run would
        if len(written) == 7:
            raise KeyboardInterrupt
        written.append(rows[0]["variant"])
        original(self, rows)

    monkeypatch.setattr(sinks.ParquetSink, "write", stopping)
    with pytest.raises(KeyboardInterrupt):
        archcalc.sweep(TINY, GRID, dask=client, chunk=500, output=out)
    assert written == [0, 500, 1000, 1500, 2000, 2500, 3000]  # in grid order, whichever finished first
    monkeypatch.setattr(sinks.ParquetSink, "write", original)
    assert archcalc.sweep(TINY, GRID, dask=client, chunk=700, output=out, resume=True) == 10_000
    assert pq.read_table(out).to_pylist() == serial


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    def unreachable(address, timeout):  # what distributed.Client raises when no scheduler answers in time
        raise OSError(f"Timed out trying to connect to {address} after {timeout}")

    monkeypatch.setattr(distributed, "Client", unreachable)
    with pytest.raises(ArchcalcError, match="cannot reach the scheduler at tcp://127.0.0.1:1"):
        archcalc.sweep(TINY, {"width": [1]}, dask="tcp://127.0.0.1:1")
