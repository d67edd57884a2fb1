"""Random graphs (tests/graphgen.py) cross-checked against the same networks in PyTorch.

For each graph: every node's output shape from a PyTorch forward pass equals the analyzer's,
the trainable and non-trainable parameter counts equal PyTorch's parameters and buffers, and
`execute` gives PyTorch's outputs at every node with the same weights, and the exported module's
readable forward its output. Then the zoo models.
"""

import numpy as np
import pytest

import archcalc
from tests.graphgen import random_graph

torch = pytest.importorskip("torch")

GRAPHS = 240


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def torch_counts(module):
    trainable = sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for name, b in module.named_buffers() if not name.endswith("num_batches_tracked"))
    return trainable, buffers


@pytest.mark.parametrize("seed", range(GRAPHS))
def test_random_graph_matches_pytorch(seed):
    mapping = random_graph(seed)
    report = archcalc.analyze(mapping)
    weights = archcalc.init_weights(report, seed=seed, random_stats=True)
    x = np.random.default_rng(seed).normal(size=(2, *mapping["input"]))
    network = archcalc.to_torch(report.architecture, weights, dtype="float64")
    with torch.no_grad():
        _, theirs = network(torch.from_numpy(x), return_intermediates=True)
        readable = network(torch.from_numpy(x)).numpy()
    for record in report.layers:
        assert tuple(theirs[record.name].shape[1:]) == record.output_shape, record.name
    assert torch_counts(network) == (report.totals.trainable_params, report.totals.non_trainable_params)
    _, ours = archcalc.execute(report.architecture, x, weights, dtype="float64", return_intermediates=True)
    for name, value in ours.items():
        np.testing.assert_allclose(value, theirs[name].numpy(), rtol=1e-9, atol=1e-9, err_msg=name)
    fast = archcalc.execute(report.architecture, x, weights, dtype="float64")  # the prepared fast path
    np.testing.assert_allclose(fast, theirs[report.architecture.output_path].numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(readable, fast, rtol=1e-9, atol=1e-9)


def test_random_graphs_cover_every_generated_feature():
    layers = [layer for seed in range(GRAPHS) for layer in random_graph(seed)["layers"]]
    kinds = {layer["type"] for layer in layers}
    assert {"conv", "maxpool", "avgpool", "batchnorm", "add", "concat", "flatten", "linear"} <= kinds
    convs = [{"padding": 0, "groups": 1, "dilation": 1, "stride": 1, "bias": True, **layer}
             for layer in layers if layer["type"] == "conv"]
    assert {str(c["padding"]) for c in convs} >= {"same", "valid"}
    assert any(isinstance(c["padding"], list) and len(c["padding"]) == 4 and c["padding"][0] != c["padding"][1]
               for c in convs)
    assert any(c["groups"] > 1 for c in convs) and any(c["dilation"] > 1 for c in convs)
    assert any(c["stride"] > 1 for c in convs) and any(not c["bias"] for c in convs)
    assert any(layer.get("ceil_mode") for layer in layers)


def test_random_graphs_are_reproducible():
    assert random_graph(17) == random_graph(17)
    assert random_graph(17) != random_graph(18)


# --- the zoo, end to end at a small input size ----------------------------------------------

ZOO = {
    # name: small input (C, H, W) that every layer still accepts
    "lenet5": [1, 32, 32],
    "alexnet-lecture": [3, 127, 127],
    "resnet18": [3, 64, 64],
    "resnet18-v1": [3, 64, 64],
    "mobilenet_v2": [3, 64, 64],
    "googlenet": [3, 96, 96],
}


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_model_matches_pytorch_end_to_end(name):
    report = archcalc.analyze(name, input=ZOO[name])
    weights = archcalc.init_weights(report, seed=1, random_stats=True)
    x = np.random.default_rng(1).normal(size=(1, *ZOO[name])).astype("float32")
    network = archcalc.to_torch(report.architecture, weights, input=ZOO[name])
    with torch.no_grad():
        expected = network(torch.from_numpy(x)).numpy()
    ours = archcalc.execute(report.architecture, x, weights)
    assert torch_counts(network) == (report.totals.trainable_params, report.totals.non_trainable_params)
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
