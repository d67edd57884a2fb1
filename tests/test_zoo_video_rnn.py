"""The CNN+LSTM and CNN+GRU video classifiers of the zoo against PyTorch implementations written here
(the frames folded into the batch for the CNN, as PyTorch code runs a per-frame CNN): the same
parameters, and the same MACs — the convolutions' and the linear layer's measured with forward hooks,
the recurrent layer's from its weight matrices' shapes × the 8 steps — and, under `convention: keras`,
Keras' own count of the model the files follow (tests/data/reference_video.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcalc

torch = pytest.importorskip("torch")
nn = torch.nn

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_video.json").read_text())["keras"]
FRAMES = 8


class CNNRecurrent(nn.Module):
    """Two 3×3 convolutions with ReLU, a 2×2 max pooling between, global average pooling: on each frame; the
    recurrent layer over the 8 frames' features; a linear classifier on its last hidden state."""

    def __init__(self, recurrent: type):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 32, 3), nn.Conv2d(32, 64, 3)
        self.pool = nn.MaxPool2d(2)
        self.rnn = recurrent(64, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        n, t = x.shape[:2]
        frames = x.flatten(0, 1)
        features = self.conv2(self.pool(self.conv1(frames).relu())).relu().mean((2, 3))
        out, _ = self.rnn(features.unflatten(0, (n, t)))
        return self.fc(out[:, -1]).softmax(1)


def measured_macs(model: nn.Module) -> int:
    macs = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            macs.append(output.numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1])
        else:
            macs.append(module.in_features * module.out_features * output.shape[0])

    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            module.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, FRAMES, 3, 64, 64))
    recurrent = sum(p.numel() for name, p in model.rnn.named_parameters() if name.startswith("weight"))
    return sum(macs) + FRAMES * recurrent


@pytest.mark.parametrize("name, recurrent", [("cnn-lstm-video", "LSTM"), ("cnn-gru-video", "GRU")])
def test_equals_its_pytorch_implementation(name, recurrent):
    model = CNNRecurrent(getattr(nn, recurrent))
    report = archcalc.analyze(name)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.macs == measured_macs(model)
    with torch.no_grad():
        assert tuple(model(torch.zeros(1, *report.input_shape)).shape[1:]) == report.layers[-1].output_shape


@pytest.mark.parametrize("name, key", [("cnn-lstm-video", "cnn_lstm_video"), ("cnn-gru-video", "cnn_gru_video")])
def test_under_keras_convention_equals_keras(name, key):
    mapping = archcalc.load(name).spec.model_dump(by_alias=True, exclude_none=True)
    report = archcalc.analyze({**mapping, "convention": "keras"})
    keras = REFERENCE[key]
    assert report.totals.params == keras["count_params"] == archcalc.load(name).spec.reference["keras"]["params"]
    recurrent = next(r for r in report.layers if r.type in ("lstm", "gru"))
    assert recurrent.params == next(row["params"] for row in keras["layers"] if row["class"] in ("LSTM", "GRU"))


@pytest.mark.parametrize("name, recurrent", [("cnn-lstm-video", "LSTM"), ("cnn-gru-video", "GRU")])
def test_forward_equals_the_pytorch_implementation(name, recurrent):
    import numpy as np

    report = archcalc.analyze(name)
    weights = archcalc.init_weights(report, seed=5)
    model = CNNRecurrent(getattr(nn, recurrent)).double()
    renamed = {"conv1": "conv1", "conv2": "conv2", "lstm": "rnn", "gru": "rnn", "fc": "fc"}
    model.load_state_dict({f"{renamed[key.split('.')[0]]}.{key.split('.', 1)[1]}": torch.from_numpy(np.asarray(v))
                           for key, v in weights.items()})
    x = np.random.default_rng(5).normal(size=(2, *report.input_shape))
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    with torch.no_grad():
        theirs = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
