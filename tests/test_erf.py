"""GELU without SciPy: vectorised rational approximations of erf and erfc in float64, checked
against Python's own `math.erfc` (the C library's) and PyTorch's exact GELU."""

from __future__ import annotations

import math

import numpy as np
import pytest

from archcalc.arrays.kernels import gelu


def _reference(x: np.ndarray) -> np.ndarray:
    """x·Φ(x) with Φ(x) = erfc(−x/√2)/2, in float64 (erfc keeps the negative tail accurate)."""
    return np.array([v * math.erfc(-v / math.sqrt(2)) / 2 for v in x.astype(np.float64)])


def _points() -> np.ndarray:
    """Every range of the approximations and their edges (|x|/√2 = 0.5, 4, 27), tails, zero."""
    edges = np.array([0.0, 1e-300, 1e-8]) + np.array([[0.0], [0.5], [4.0], [27.0]]) * math.sqrt(2)
    dense = np.concatenate([np.linspace(0, 9, 90_001), np.geomspace(1e-8, 40, 5_001), edges.ravel()])
    return np.concatenate([dense, -dense])


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 3e-7), (np.float64, 1e-13)])
def test_gelu_is_accurate_to_its_dtype(dtype, rtol):
    x = np.concatenate([_points(), np.random.default_rng(0).standard_normal(20_000) * 4]).astype(dtype)
    out = gelu(np, x)
    assert out.dtype == dtype and out.shape == x.shape
    np.testing.assert_allclose(out, _reference(x), rtol=rtol, atol=1e-36)


def test_gelu_keeps_shape_nan_and_infinity():
    x = np.array([[np.nan, np.inf], [-50.0, 1.0]], dtype=np.float32)
    out = gelu(np, x)
    assert np.isnan(out[0, 0]) and out[0, 1] == np.inf and out[1, 0] == 0
    assert gelu(np, np.zeros((3, 0))).shape == (3, 0)


def test_gelu_matches_torch_exact_gelu_within_float32():
    torch = pytest.importorskip("torch")
    x = np.concatenate([np.random.default_rng(1).standard_normal(20_000) * 4,
                        np.linspace(-12, 12, 4_801)]).astype(np.float32)
    theirs = torch.nn.functional.gelu(torch.from_numpy(x), approximate="none").numpy()
    eps = np.finfo(np.float32).eps
    np.testing.assert_array_less(np.abs(gelu(np, x) - theirs), 4 * eps * (np.abs(x) + 1))
