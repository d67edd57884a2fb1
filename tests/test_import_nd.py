"""`archcalc import` of networks over one and three spatial axes: Keras `Conv1D`/`Conv3D` models (their
`model.to_json()` configs in tests/data/keras/nd/, written by tools/keras_configs_nd.py from the same Python
that measured their numbers in tests/data/reference_video.json), PyTorch modules (torch.fx) and ONNX
files (written by `archcalc.to_onnx`, read back)."""

from __future__ import annotations

import json
from math import prod

import pytest

import archcalc
from tests.import_data import DATA

KERAS = json.loads((DATA / "reference_video.json").read_text())["keras"]


def channels_first(shape: list) -> tuple[int, ...]:
    """A Keras per-sample shape (…, C) as archcalc's (C, …)."""
    return (shape[-1], *shape[:-1])


@pytest.mark.parametrize("key", ["conv1d", "conv1d_nobias_dilated", "conv3d"])
def test_keras_conv1d_and_conv3d_count_as_keras(key):
    reference = KERAS[key]
    report = archcalc.analyze(archcalc.import_model(DATA / "keras" / "nd" / f"{key}.json"))
    assert (report.totals.trainable_params, report.totals.non_trainable_params) == (
        reference["trainable_params"], reference["non_trainable_params"])
    ours = {record.name: record for record in report.layers}
    for row in reference["layers"]:
        assert ours[row["name"]].output_shape == channels_first(row["output_shape"][1:]), row["name"]
        assert ours[row["name"]].params == row["params"], row["name"]


torch = pytest.importorskip("torch")
nn = torch.nn


def audio_net() -> nn.Module:
    return nn.Sequential(nn.Conv1d(2, 8, 9, stride=2, padding=4), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(3, 2),
                         nn.Conv1d(8, 8, 3, groups=4, dilation=2), nn.AvgPool1d(2), nn.ZeroPad1d((1, 2)),
                         nn.AdaptiveAvgPool1d(4), nn.Flatten(), nn.Linear(32, 5))


def video_net() -> nn.Module:
    return nn.Sequential(nn.Conv3d(3, 6, (3, 5, 5), stride=(1, 2, 2), padding=(1, 2, 2), bias=False),
                         nn.BatchNorm3d(6), nn.ReLU(), nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
                         nn.ConvTranspose3d(6, 4, 2, stride=2), nn.AvgPool3d(2, ceil_mode=True),
                         nn.ZeroPad3d((1, 0, 0, 1, 1, 1)), nn.AdaptiveMaxPool3d(1), nn.Flatten(), nn.Linear(4, 3))


def conv_macs(model: nn.Module, shape: tuple[int, ...]) -> tuple[int, list[tuple[int, ...]]]:
    """Conv/ConvTranspose/Linear MACs of one sample and every module's output shape, by forward hooks."""
    macs, shapes = [], []

    def hook(module, inputs, output):
        shapes.append(tuple(output.shape[1:]))
        if isinstance(module, nn.Linear):
            macs.append(module.in_features * module.out_features)
        elif isinstance(module, nn.ConvTranspose3d):
            macs.append(inputs[0][0].numel() * module.out_channels // module.groups * prod(module.kernel_size))
        elif isinstance(module, (nn.Conv1d, nn.Conv3d)):
            macs.append(output[0].numel() * module.in_channels // module.groups * prod(module.kernel_size))

    for module in model:
        module.register_forward_hook(hook)
    with torch.no_grad():
        model.eval()(torch.zeros(1, *shape))
    return sum(macs), shapes


@pytest.mark.parametrize("build, shape", [(audio_net, (2, 50)), (video_net, (3, 4, 16, 16))])
def test_pytorch_modules_import_with_pytorch_counts(build, shape):
    model = build()
    report = archcalc.analyze(archcalc.import_model(model, input=shape))
    macs, shapes = conv_macs(model, shape)
    assert report.totals.trainable_params == sum(p.numel() for p in model.parameters())
    assert report.totals.macs == macs
    assert [r.output_shape for r in report.layers[1:]] == shapes


@pytest.mark.parametrize("name", ["m5", "c3d"])
def test_onnx_export_reads_back_with_the_same_numbers(name, tmp_path):
    onnx = pytest.importorskip("onnx")
    from archcalc.interop.export_onnx import onnx_model

    report = archcalc.analyze(name)
    path = tmp_path / f"{name}.onnx"
    onnx.save(onnx_model(report, shapes_only=True), path)
    back = archcalc.analyze(archcalc.import_model(path))
    assert (back.totals.params, back.totals.macs) == (report.totals.params, report.totals.macs)
    assert back.layers[-1].output_shape == report.layers[-1].output_shape


class Conv3DSimple(nn.Conv3d):
    """As torchvision's video ResNet writes its convolutions: an `nn.Conv3d` with its own constructor."""

    def __init__(self, in_planes, out_planes, stride=1):
        super().__init__(in_planes, out_planes, (3, 3, 3), stride, (1, 1, 1), bias=False)


class MultiscaleAttention(nn.Module):
    """Named as torchvision's MViT names its pooling attention."""

    def forward(self, x):
        return x


def test_a_subclass_computing_what_its_pytorch_class_does_is_that_class():
    model = nn.Sequential(Conv3DSimple(3, 4, 2), nn.BatchNorm3d(4), nn.ReLU())
    report = archcalc.analyze(archcalc.import_model(model, input=(3, 4, 8, 8)))
    assert [r.type for r in report.layers[1:]] == ["conv3d", "batchnorm", "relu"]
    assert report.layers[1].output_shape == (4, 2, 4, 4)
    assert report.totals.trainable_params == sum(p.numel() for p in model.parameters())


def test_video_transformers_are_refused_with_the_reason():
    refused = json.loads((DATA / "reference_video.json").read_text())["video_refused"]
    model = nn.Sequential(nn.Conv3d(3, 4, 1), MultiscaleAttention())
    with pytest.raises(archcalc.ArchcalcError) as info:
        archcalc.import_model(model, input=(3, 2, 4, 4))
    assert refused["mvit_v1_b"] in str(info.value)


def test_the_mean_over_a_clip_s_axes_is_a_global_pooling():
    """S3D ends in `torch.mean(x, dim=(2, 3, 4))`."""
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv3d(3, 5, 1)

        def forward(self, x):
            return torch.mean(self.conv(x), dim=(2, 3, 4))

    report = archcalc.analyze(archcalc.import_model(Head(), input=(3, 2, 4, 4)))
    assert report.layers[-1].type == "globalavgpool" and report.layers[-1].output_shape == (5,)
