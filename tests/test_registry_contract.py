"""The registry's round trip: every layer type, and every zoo file, sent out through `archcalc.to_torch`
and read back by the PyTorch importer, and sent out as ONNX and read back by the ONNX importer, comes
back as itself with the same parameters and MACs; and every type's PyTorch module and ONNX nodes
compute its forward.

A type's sample is the case named after it in `tests/test_execute_layers.py` (`CASES`, which also
holds its forward against PyTorch), with arguments other than their defaults: a type added later is
covered by that one case, and a type without one fails here. "Comes back as itself" is what
docs/importing.md promises: the network's totals (parameters, trainable ones, MACs) and output shape
are the same, and so is, in order, every layer that computes something (all but data movement): its
parameters, MACs and output size, and its type, or a type of the same family (what counting tools
see: `to_torch` writes a global pooling as an adaptive pooling to 1×1), or one its ONNX form declares
it reads back as (`OnnxForm.reads_back_as`: an adaptive pooling that tiles is a plain pooling). A
fused activation comes back as a layer of its own, a layer that is the identity at inference may
vanish, and a sample's own type comes back. A zoo file whose layers share weights (`shares:`, which
import does not write) is refused by both importers with that reason. Modules are built on the meta
device and ONNX is written with shapes alone, so that the zoo takes about a minute.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import archcalc
from archcalc import zoo
from archcalc.layers import registered_types
from archcalc.layers.family import Family

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from archcalc.interop.export_onnx import onnx_model  # noqa: E402
from tests.test_execute_layers import CASES  # noqa: E402

TYPES = sorted({cls.type_name for cls in registered_types().values()} - {"input"})   # the input: every network's


def through_torch(report, tmp_path):
    with torch.device("meta"):
        module = archcalc.to_torch(report.architecture)
    return archcalc.analyze(archcalc.import_model(module, input=report.input_shape, name="back"))


def through_onnx(report, tmp_path):
    path = tmp_path / "back.onnx"
    onnx.save(onnx_model(report, shapes_only=True), str(path))
    return archcalc.analyze(archcalc.import_model(path))


ROUTES = {"torch": through_torch, "onnx": through_onnx}


def counted(report) -> list[tuple]:
    """(layer, params, MACs, output size) of every layer that computes something, a fused activation as a
    layer of its own, identities at inference left out. (The size, not the shape: a global pooling that
    drops the spatial axes comes back as one that keeps them, then a flatten.)"""
    rows = []
    for record in report.layers[1:]:
        layer, size = record.layer, math.prod(record.output_shape)
        if layer.identity_at_inference:
            continue
        if layer.family is not Family.DATA:
            rows.append((layer, record.params, record.macs, size))
        if layer.fused_activation is not None:
            rows.append((layer.fused_activation, 0, 0, size))
    return rows


def alike(ours, theirs, route: str) -> bool:
    return type(ours) is type(theirs) or ours.family is theirs.family or \
        route == "onnx" and theirs.type_name in ours.onnx_form.reads_back_as


def assert_comes_back(report, back, route: str) -> None:
    totals = lambda r: (r.totals.params, r.totals.trainable_params, r.totals.frozen_params, r.totals.macs)  # noqa: E731
    if route == "onnx":  # ONNX has no frozen parameters: the frozen come back trainable
        totals = lambda r: (r.totals.params, r.totals.trainable_params + r.totals.frozen_params, r.totals.macs)  # noqa: E731
    assert totals(back) == totals(report)
    output = lambda r: r.layer(r.architecture.output_path).output_shape  # noqa: E731
    assert output(back) == output(report)
    ours, theirs = counted(report), counted(back)
    assert [row[1:] for row in theirs] == [row[1:] for row in ours]
    for (mine, *_), (found, *_) in zip(ours, theirs):
        assert alike(mine, found, route), f"{mine.type_name} came back as {found.type_name}"


def test_every_type_has_its_sample():
    assert [t for t in TYPES if t not in CASES] == []


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_comes_back(type_name, route, tmp_path):
    report = archcalc.analyze(CASES[type_name][0])
    back = ROUTES[route](report, tmp_path)
    assert_comes_back(report, back, route)
    sample = report.layer("L").layer
    if not sample.identity_at_inference:
        assert any(alike(sample, r.layer, route) for r in back.layers[1:]), [r.type for r in back.layers]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", zoo.names())
def test_every_zoo_file_comes_back(name, route, tmp_path):
    report = archcalc.analyze(name)
    if any(r.shares for r in report.layers):  # import does not write `shares:`: refused, never counted twice
        with pytest.raises(archcalc.ArchcalcError, match="shares:"):
            ROUTES[route](report, tmp_path)
        return
    assert_comes_back(report, ROUTES[route](report, tmp_path), route)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("kind", ["identity", "dropout", "stochasticdepth"])
def test_a_network_of_nothing_but_an_identity_imports(kind, route, tmp_path):
    """Everything passes through (ONNX drops a dropout): the network is one identity, never a traceback."""
    layer = {"name": "only", "type": kind, **({"p": 0.2} if kind == "stochasticdepth" else {})}
    report = archcalc.analyze({"name": "nothing", "input": [3, 4, 4], "layers": [layer]})
    back = ROUTES[route](report, tmp_path)
    assert back.totals.params == 0 and back.layers[-1].output_shape == (3, 4, 4)
    assert [r.type for r in back.layers[1:]] in (["identity"], ["dropout"])


def test_a_bare_module_that_returns_its_input_imports():
    for module in (torch.nn.Identity(), torch.nn.Sequential(torch.nn.Dropout(0.1)).eval()):
        mapping = archcalc.import_model(module, input=(2, 3, 3), name="bare")
        assert archcalc.analyze(mapping).layers[-1].output_shape == (2, 3, 3)


@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_s_pytorch_module_computes_its_forward(type_name):
    report = archcalc.analyze(CASES[type_name][0])
    weights = archcalc.init_weights(report, seed=3, random_stats=True)
    x = np.random.default_rng(3).normal(size=(2, *report.input_shape))
    network = archcalc.to_torch(report.architecture, weights, dtype="float64")
    with torch.no_grad():
        theirs = network(torch.from_numpy(x)).numpy()
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    np.testing.assert_allclose(theirs, ours, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(ours).max())))


@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_s_onnx_form_computes_its_forward(type_name):
    ort = pytest.importorskip("onnxruntime")
    report = archcalc.analyze(CASES[type_name][0])
    weights = archcalc.init_weights(report, seed=3, random_stats=True)
    x = np.random.default_rng(3).normal(size=(2, *report.input_shape)).astype(np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_model(report, weights).SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    theirs = session.run(None, {report.architecture.input_path: x})[0]
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(ours).max())))
