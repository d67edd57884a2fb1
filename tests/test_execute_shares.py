"""The executor runs a layer that `shares:` with its owner's weights: the same outputs as the network
written without sharing, its copies given the owner's arrays."""

from __future__ import annotations

import copy

import numpy as np

import archcalc
from archcalc.executor.plan import Plan

HEAD = {"layers": [{"name": "c1", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1},
                   {"name": "bn", "type": "batchnorm"},  # shared too, folded into each level's c1
                   {"type": "relu"},
                   {"name": "c2", "type": "conv", "out_channels": 2, "kernel_size": 1}]}


def pyramid(shared: bool) -> dict:
    return {"name": "pyramid", "input": [3, 16, 16], "blocks": {"head": copy.deepcopy(HEAD)}, "layers": [
        {"name": "p3", "type": "conv", "out_channels": 4, "kernel_size": 1},
        {"name": "p4", "type": "conv", "out_channels": 4, "kernel_size": 1, "stride": 2},
        {"name": "h3", "type": "head", "from": "p3"},
        {"name": "h4", "type": "head", "from": "p4", **({"shares": "h3"} if shared else {})}],
        "outputs": ["h3", "h4"]}


def _weights_and_copies():
    weights = archcalc.init_weights(pyramid(True), seed=3, random_stats=True)
    assert not any(key.startswith("h4/") for key in weights)
    copies = dict(weights)
    copies |= {key.replace("h3/", "h4/", 1): value for key, value in weights.items() if key.startswith("h3/")}
    return weights, copies


def test_execute_with_shared_weights_equals_the_copies():
    weights, copies = _weights_and_copies()
    x = np.random.default_rng(0).standard_normal((2, 3, 16, 16))
    shared = archcalc.execute(pyramid(True), x, weights, dtype="float64")
    alone = archcalc.execute(pyramid(False), x, copies, dtype="float64")
    for name in ("h3", "h4"):
        np.testing.assert_allclose(shared[name], alone[name], rtol=1e-12, atol=1e-12)


def test_the_plan_with_shared_weights_folds_batchnorm_on_each_level():
    weights, copies = _weights_and_copies()
    x = np.random.default_rng(1).standard_normal((2, 3, 16, 16))
    shared = Plan(pyramid(True), weights, dtype="float64")(x)
    alone = archcalc.execute(pyramid(False), x, copies, dtype="float64")
    for name in ("h3", "h4"):
        np.testing.assert_allclose(shared[name], alone[name], rtol=1e-12, atol=1e-12)
