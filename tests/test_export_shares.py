"""Exports of a network whose layers `shares:` weights: in the PyTorch module the sharer's module holds
the owner's tensors (one set of parameters, as PyTorch counts them), the ONNX model reads the owner's
initializers; both compute what the executor computes."""

from __future__ import annotations

import numpy as np
import pytest

import archcalc
from archcalc.interop.export_onnx import onnx_model
from archcalc.interop.export_torch import torch_source
from tests.test_execute_shares import pyramid

torch = pytest.importorskip("torch")


def _extra() -> dict:
    spec = pyramid(True)
    spec["layers"].append({"name": "extra", "type": "conv", "out_channels": 2, "kernel_size": 1, "from": "p4",
                           "shares": "h3/c2"})
    spec["outputs"] = ["h3", "h4", "extra"]
    return spec


def test_to_torch_shares_the_tensors_and_computes_what_execute_does():
    spec = _extra()
    weights = archcalc.init_weights(spec, seed=4, random_stats=True)
    network = archcalc.to_torch(spec, weights, dtype="float64")
    assert network.h4.c1.weight is network.h3.c1.weight and network.extra.bias is network.h3.c2.bias
    assert network.h4.bn.running_var is network.h3.bn.running_var
    assert sum(p.numel() for p in network.parameters()) == archcalc.analyze(spec).totals.trainable_params
    x = np.random.default_rng(2).standard_normal((2, 3, 16, 16))
    _, values = network(torch.as_tensor(x), return_intermediates=True)
    expected = archcalc.execute(spec, x, weights, dtype="float64")
    for name, path in (("h3", "h3/c2"), ("h4", "h4/c2"), ("extra", "extra")):
        np.testing.assert_allclose(values[path].detach().numpy(), expected[name], rtol=1e-10, atol=1e-10)


def test_the_exported_source_shares_the_tensors():
    source = torch_source(archcalc.analyze(_extra()))
    assert "self.h4.c1.weight = self.h3.c1.weight" in source.text
    namespace: dict = {}
    exec(compile(source.text, "export", "exec"), namespace)  # noqa: S102 - the export's own text
    network = namespace[source.class_name]()
    assert network.h4.bn.weight is network.h3.bn.weight and network.extra.weight is network.h3.c2.weight
    assert sum(p.numel() for p in network.parameters()) == archcalc.analyze(_extra()).totals.trainable_params


def test_onnx_reads_the_owner_initializers():
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    spec = _extra()
    report = archcalc.analyze(spec)
    weights = archcalc.init_weights(report, seed=5, random_stats=True)
    model = onnx_model(report, weights)
    names = {tensor.name for tensor in model.graph.initializer}
    assert names == set(weights) and not any(name.startswith("h4/") for name in names)
    x = np.random.default_rng(3).standard_normal((2, 3, 16, 16)).astype(np.float32)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input": x})))
    expected = archcalc.execute(spec, x.astype(np.float64), weights, dtype="float64")
    for name, path in (("h3", "h3/c2"), ("h4", "h4/c2"), ("extra", "extra")):
        np.testing.assert_allclose(got[path], expected[name], rtol=1e-4, atol=1e-4)
