"""The CuPy branches of the executor, wired up with NumPy standing in for CuPy.

CI has no GPU, so `tests/test_execute.py`'s CuPy tests skip there. These tests install a module
named `cupy` that is NumPy plus the few CUDA calls archcalc makes (device count, free memory,
memory pool, stream synchronisation), so that every branch taken when the array module is CuPy —
backend choice, the GPU memory check, GPU tile sizes, profiling synchronisation, GELU's masked
float64 arithmetic — runs on every machine. They say nothing about CUDA
itself; that is what the GPU tests and benchmarks/results/execute.md are for.
"""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest

import archcalc
from archcalc.errors import ExecutionError
from archcalc.executor import backend, runner

LENET_X = np.random.default_rng(0).normal(size=(2, 1, 32, 32))


class _StandIn(types.ModuleType):
    """`cupy` as NumPy: every array function is NumPy's; the CUDA calls are recorded."""

    def __init__(self, free_bytes: int):
        super().__init__("cupy")
        self.calls: list[str] = []
        runtime = types.SimpleNamespace(getDeviceCount=lambda: 1, memGetInfo=lambda: self.record(
            "memGetInfo", (free_bytes, 2 * free_bytes)))
        stream = types.SimpleNamespace(synchronize=lambda: self.calls.append("synchronize"))
        self.cuda = types.SimpleNamespace(runtime=runtime, Stream=types.SimpleNamespace(null=stream))
        self.get_default_memory_pool = lambda: types.SimpleNamespace(free_bytes=lambda: 0)

    def record(self, call: str, result=None):
        self.calls.append(call)
        return result

    def __getattr__(self, name):
        return getattr(np, name)


@pytest.fixture
def standin(monkeypatch):
    cupy = _StandIn(free_bytes=1 << 34)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    return cupy


def test_cupy_and_auto_choose_the_gpu_module_when_a_device_is_there(standin):
    assert backend.cupy_problem() is None
    assert backend.array_module("cupy") is standin
    assert backend.array_module("auto") is standin


def test_the_fast_path_and_the_reference_walk_run_on_the_gpu_branch(standin):
    weights = archcalc.init_weights("lenet5", seed=0)
    expected = archcalc.execute("lenet5", LENET_X, weights, dtype="float64")
    fast = archcalc.execute("lenet5", LENET_X, weights, backend="cupy", dtype="float64")
    np.testing.assert_allclose(backend.to_numpy(fast), expected, rtol=1e-12)
    result = runner.run("lenet5", LENET_X, weights, backend="cupy", dtype="float64", profile=True)
    assert result.backend == "cupy"
    np.testing.assert_allclose(backend.to_numpy(result.output), expected, rtol=1e-12)
    assert standin.calls.count("synchronize") == len(result.report.layers)  # one per timed layer
    assert "memGetInfo" in standin.calls  # the memory check asked the device


def test_gelu_runs_on_the_gpu_branch(standin):
    spec = {"name": "g", "input": [2, 3, 3], "layers": [{"type": "gelu"}]}
    x = np.random.default_rng(1).normal(size=(1, 2, 3, 3))
    gpu = archcalc.execute(spec, x, backend="cupy", dtype="float64")
    np.testing.assert_allclose(gpu, 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))), rtol=1e-12)


def test_a_model_larger_than_the_device_memory_is_refused_on_the_gpu(monkeypatch):
    small = _StandIn(free_bytes=1000)
    monkeypatch.setitem(sys.modules, "cupy", small)
    with pytest.raises(ExecutionError, match=r"exceeds 80 % of the 1,000 bytes available on the GPU"):
        archcalc.execute("lenet5", LENET_X, backend="cupy")
