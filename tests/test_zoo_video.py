"""The video and audio zoo: torchvision's video CNNs against torchvision itself, C3D and M5 against a plain
PyTorch implementation written out here.

torchvision's numbers are in `tests/data/reference_video.json` (`video`), written by
`tools/reference_video.py` from the real models (torchvision 0.29.1, weights=None): `parameters()` are our
trainable parameters, the BatchNorm running statistics our non-trainable ones, and the multiply-accumulates
of every Conv3d and Linear (forward hooks) our MACs, in all and per top-level part (`stem`, `layer1`, ...).
"""

from __future__ import annotations

import json
from math import prod
from pathlib import Path

import pytest

import archcalc

VIDEO = json.loads((Path(__file__).parent / "data" / "reference_video.json").read_text())["video"]
CASES = [(name, size) for name in ("r3d_18", "mc3_18", "r2plus1d_18") for size in ("3x16x112x112", "3x16x224x224")]
CASES.append(("s3d", "3x16x224x224"))  # at 112×112 its 2×7×7 pooling does not fit (the reference's error)


@pytest.mark.parametrize("name, size", CASES)
def test_torchvision_video_models_count_as_torchvision(name, size):
    entry = VIDEO[name]
    measured = entry["inputs"][size]
    report = archcalc.analyze(name, input=[int(v) for v in size.split("x")])
    totals = report.totals
    assert totals.trainable_params == entry["trainable_params"] == entry["params"]
    assert totals.non_trainable_params == entry["bn_running_stats"]
    assert totals.macs == measured["macs_conv_linear"]
    assert list(report.layers[-1].output_shape) == measured["output_shape"]
    parts = {part: sum(r.macs for r in report.layers if r.name.split("/")[0] == part)
             for part in measured["macs_by_part"]}
    assert parts == measured["macs_by_part"]


def test_s3d_refuses_the_clip_its_pooling_does_not_fit():
    assert "error" in VIDEO["s3d"]["inputs"]["3x16x112x112"]
    with pytest.raises(archcalc.ShapeError, match="avgpool"):
        archcalc.analyze("s3d", input=[3, 16, 112, 112])


def test_mc3_temporal_convolutions_only_in_its_first_stage():
    """MC3: the 3×3×3 convolutions of layer1 (torchvision's Conv3DSimple) and 1×3×3 after (Conv3DNoTemporal)."""
    measured = VIDEO["mc3_18"]["inputs"]["3x16x112x112"]["macs_by_module_class"]
    report = archcalc.analyze("mc3_18")
    blocks = [r for r in report.layers if r.type == "conv3d" and "/conv" in r.name]
    temporal = sum(r.macs for r in blocks if r.layer.kernel_size == (3, 3, 3))
    spatial = sum(r.macs for r in blocks if r.layer.kernel_size == (1, 3, 3))
    assert (temporal, spatial) == (measured["Conv3DSimple"], measured["Conv3DNoTemporal"])


# --- C3D and M5 against PyTorch ---------------------------------------------------------------------

torch = pytest.importorskip("torch")
nn = torch.nn


def c3d_torch() -> nn.Module:
    """Tran et al. 2015, Fig. 3, as the released model has it (pool5 padded to 1×4×4: fc6 reads 8192)."""
    def conv(c_in, c_out):
        return [nn.Conv3d(c_in, c_out, 3, padding=1), nn.ReLU()]
    return nn.Sequential(
        *conv(3, 64), nn.MaxPool3d((1, 2, 2), (1, 2, 2)),
        *conv(64, 128), nn.MaxPool3d(2, 2),
        *conv(128, 256), *conv(256, 256), nn.MaxPool3d(2, 2),
        *conv(256, 512), *conv(512, 512), nn.MaxPool3d(2, 2),
        *conv(512, 512), *conv(512, 512), nn.MaxPool3d(2, 2, padding=(0, 1, 1)),
        nn.Flatten(), nn.Linear(8192, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(4096, 487))


class M5(nn.Module):
    """Dai et al. 2017, Table 1, M5: `same` padding as TensorFlow pads (80/4 on 32000: 38 samples on each
    side), BatchNorm and ReLU after every convolution, 4× max pooling, global average pooling, 10 classes."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.ConstantPad1d((38, 38), 0.0), nn.Conv1d(1, 128, 80, stride=4), nn.BatchNorm1d(128), nn.ReLU(),
            nn.MaxPool1d(4),
            nn.Conv1d(128, 128, 3, padding=1), nn.BatchNorm1d(128), nn.ReLU(), nn.MaxPool1d(4),
            nn.Conv1d(128, 256, 3, padding=1), nn.BatchNorm1d(256), nn.ReLU(), nn.MaxPool1d(4),
            nn.Conv1d(256, 512, 3, padding=1), nn.BatchNorm1d(512), nn.ReLU(), nn.MaxPool1d(4))
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc(self.layers(x).mean(2))


def torch_counts(model: nn.Module, shape: tuple[int, ...]) -> tuple[int, int, int, list[tuple[int, ...]]]:
    """(trainable parameters, running statistics, Conv and Linear MACs, the Conv outputs' shapes) of one
    sample, by forward hooks on the meta device."""
    macs, shapes = [], []

    def hook(module, inputs, output):
        if isinstance(module, nn.Linear):
            macs.append(module.in_features * module.out_features)
        else:
            macs.append(output[0].numel() * module.in_channels // module.groups * prod(module.kernel_size))
            shapes.append(tuple(output.shape[1:]))

    model = model.to("meta").eval()
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv3d, nn.Linear)):
            module.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, *shape, device="meta"))
    trainable = sum(p.numel() for p in model.parameters())
    statistics = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return trainable, statistics, sum(macs), shapes


@pytest.mark.parametrize("name, model", [("c3d", c3d_torch), ("m5", M5)])
def test_paper_models_equal_their_pytorch_implementation(name, model):
    report = archcalc.analyze(name)
    trainable, statistics, macs, shapes = torch_counts(model(), report.input_shape)
    assert (report.totals.trainable_params, report.totals.non_trainable_params) == (trainable, statistics)
    assert report.totals.macs == macs
    assert [r.output_shape for r in report.layers if r.type in ("conv1d", "conv3d")] == shapes


def test_m5_map_lengths_are_table_1s():
    """Table 1's lengths after the poolings (2000, 500, 125, 31) and its "0.5M" parameters."""
    report = archcalc.analyze("m5")
    lengths = [r.output_shape[1] for r in report.layers if r.type == "maxpool1d"]
    assert lengths == archcalc.load("m5").spec.reference["lengths"] == [2000, 500, 125, 31]
    assert 500_000 <= report.totals.trainable_params < 600_000  # 559,114: "0.5M", the digits cut, not rounded


def test_c3d_fc6_reads_8192_values():
    report = archcalc.analyze("c3d")
    assert report.layer("flatten").output_shape == (8192,)
    assert report.layer("fc8").output_shape == (487,)


def test_blocks_drawing_shows_a_clip_as_a_row_of_frames_and_a_signal_as_one_box():
    import xml.etree.ElementTree as ET

    from archcalc.draw import draw

    svg = "{http://www.w3.org/2000/svg}"
    stages = {g.get("data-name"): g for g in ET.fromstring(draw("c3d", "blocks")).iter(f"{svg}g")
              if g.get("class") == "stage"}
    assert stages["conv1a"].get("data-label") == "conv1a: 64×16×112×112"
    assert len(stages["conv1a"].findall(f"{svg}rect")) == 4     # the first 4 of its 16 frames
    assert len(stages["pool5"].findall(f"{svg}rect")) == 1      # 512×1×4×4: one frame
    audio = {g.get("data-name"): g for g in ET.fromstring(draw("m5", "blocks")).iter(f"{svg}g")
             if g.get("class") == "stage"}
    assert audio["conv1"].get("data-label") == "conv1: 128×8000"
    assert len(audio["conv1"].findall(f"{svg}rect")) == 1
