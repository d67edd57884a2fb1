"""Files naming several `outputs:` (a segmentation network's main and auxiliary classifiers): the
analysis, the table's footer, the JSON, the executor and the ONNX and PyTorch exports carry every one of them."""

from __future__ import annotations

import json

import numpy as np
import pytest

import archcalc
from archcalc.errors import ArchcalcError


def two_heads(outputs) -> dict:
    return {"name": "heads", "input": [3, 8, 8], "outputs": outputs, "layers": [
        {"name": "c1", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"name": "bn", "type": "batchnorm"},
        {"name": "aux_head", "type": "conv", "out_channels": 2, "kernel_size": 1},
        {"name": "c2", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1, "from": "bn"},
        {"name": "head", "type": "conv", "out_channels": 3, "kernel_size": 1}]}


MAPPING = two_heads({"out": "head", "aux": "aux_head"})


def test_outputs_are_named_in_the_table_and_json_and_raise_no_unused_warning():
    report = archcalc.analyze(MAPPING)
    assert report.architecture.outputs == {"out": "head", "aux": "aux_head"}
    assert report.architecture.output_path == "head" and not report.warnings
    assert "Outputs: out = head (3×8×8), aux = aux_head (2×8×8)" in report.render()
    data = json.loads(json.dumps(report.to_dict()))
    assert data["outputs"] == {"out": {"layer": "head", "shape": [3, 8, 8]},
                               "aux": {"layer": "aux_head", "shape": [2, 8, 8]}}


def test_a_list_names_each_output_after_its_layer():
    report = archcalc.analyze(two_heads(["aux_head", "head"]))
    assert report.architecture.outputs == {"aux_head": "aux_head", "head": "head"}
    assert report.architecture.output_path == "aux_head"
    assert "Outputs: aux_head (2×8×8), head (3×8×8)" in report.render()      # the name is the layer's: once


def test_an_output_stays_alive_to_the_end_of_the_pass():
    """aux_head (2·8·8 floats, 512 B) is alive beside the main path's largest pair of maps."""
    one = archcalc.analyze({**MAPPING, "outputs": None, "output": "head"})
    both = archcalc.analyze(MAPPING)
    assert both.totals.peak_memory_bytes == one.totals.peak_memory_bytes + 2 * 8 * 8 * 4


@pytest.mark.parametrize("outputs, words", [
    ({"out": "nowhere"}, "'nowhere' names no layer"),
    ([], "at least one layer"),
    (["head", "head"], "one layer twice"),
])
def test_wrong_outputs_are_one_line(outputs, words):
    with pytest.raises(ArchcalcError) as found:
        archcalc.analyze(two_heads(outputs))
    assert words in str(found.value) and "\n" not in str(found.value)


def test_output_and_outputs_together_are_refused():
    with pytest.raises(ArchcalcError, match="output or outputs"):
        archcalc.analyze({**MAPPING, "output": "head"})


def test_the_executor_returns_every_output_by_name():
    x = np.random.default_rng(1).normal(size=(2, 3, 8, 8))
    fast = archcalc.execute(MAPPING, x, dtype="float64", seed=3)      # BatchNorm folded: not into an output
    walked, values = archcalc.execute(MAPPING, x, dtype="float64", seed=3, return_intermediates=True)
    assert set(fast) == set(walked) == {"out", "aux"}
    for name, layer in (("out", "head"), ("aux", "aux_head")):
        np.testing.assert_allclose(fast[name], values[layer], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(walked[name], values[layer], rtol=0, atol=0)


def test_the_onnx_export_has_every_output():
    onnx = pytest.importorskip("onnx")
    from archcalc.interop.export_onnx import onnx_model

    model = onnx_model(archcalc.analyze(MAPPING), shapes_only=True)
    onnx.checker.check_model(model)
    assert [o.name for o in model.graph.output] == ["head", "aux_head"]


def test_the_pytorch_export_returns_every_output_by_name():
    torch = pytest.importorskip("torch")
    from archcalc.interop.export_torch import torch_source

    assert "return {'out': x, 'aux': out}" in torch_source(archcalc.analyze(MAPPING)).text
    network = archcalc.to_torch(MAPPING).double().eval()
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8))
    with torch.no_grad():
        found = network(torch.from_numpy(x))
    expected = archcalc.execute(MAPPING, x, weights=network, dtype="float64")
    assert set(found) == {"out", "aux"}
    for name in found:
        np.testing.assert_allclose(found[name].numpy(), expected[name], rtol=1e-10, atol=1e-12)


def test_a_block_read_outside_at_several_layers_is_written_inline():
    """A module returns one value: a block whose two layers feed two heads (a detector's backbone) becomes
    its parent's layers, `body_a` and `body_b`, and the network still computes what the executor does."""
    torch = pytest.importorskip("torch")
    spec = {"name": "levels", "input": [3, 8, 8], "outputs": {"one": "head_a", "two": "head_b"},
            "blocks": {"body": {"layers": [
                {"name": "a", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1},
                {"name": "b", "type": "conv", "out_channels": 5, "kernel_size": 3, "stride": 2, "padding": 1}]}},
            "layers": [{"name": "body", "type": "body"},
                       {"name": "head_a", "type": "conv", "out_channels": 2, "kernel_size": 1, "from": "body/a"},
                       {"name": "head_b", "type": "conv", "out_channels": 2, "kernel_size": 1, "from": "body/b"}]}
    network = archcalc.to_torch(spec).double().eval()
    assert {key.rpartition(".")[0] for key in network.state_dict()} == {"body_a", "body_b", "head_a", "head_b"}
    x = np.random.default_rng(2).standard_normal((1, 3, 8, 8))
    with torch.no_grad():
        found = network(torch.from_numpy(x))
    expected = archcalc.execute(spec, x, weights=network, dtype="float64")
    for name in ("one", "two"):
        np.testing.assert_allclose(found[name].numpy(), expected[name], rtol=1e-10, atol=1e-12)
