"""The segmentation and detection papers of the zoo (`unet`, `unet-same`, `fcn8s`, `yolov1`) against
their papers' own numbers (the figures and tables cited beside each), and against a plain PyTorch
implementation of each paper network written here: its parameters, and its convolution and linear
MACs counted with forward hooks, equal `archcalc table`'s."""

from __future__ import annotations

import pytest

import archcalc


def layers(name: str) -> dict:
    return {record.name: record for record in archcalc.analyze(name).layers}


def test_unet_sizes_follow_figure_1():
    """Fig. 1 writes the size beside every map: 572 → 570 → 568, pooled to 284, …, 28 at the bottom; the
    up-convolutions double to 56, 104, 200, 392 and the output is 2 × 388 × 388."""
    spec = archcalc.load("unet").spec.reference["paper"]
    found = layers("unet")
    contracting = []
    for level in ("down1", "down2", "down3", "down4", "bottom"):
        contracting += [found[f"{level}/conv1"].output_shape[1], found[f"{level}/conv2"].output_shape[1]]
        if level != "bottom":
            contracting.append(found[f"pool{level[-1]}"].output_shape[1])
    assert [572, *contracting] == spec["contracting"]
    expansive = []
    for level in (4, 3, 2, 1):
        expansive += [found[f"upconv{level}"].output_shape[1], found[f"up{level}/conv1"].output_shape[1],
                      found[f"up{level}/conv2"].output_shape[1]]
    assert expansive == spec["expansive"]
    assert found["classes"].output_shape == tuple(spec["output"]) == (2, 388, 388)
    # copy and crop: each skip map cut to the up-convolution's size, its channels concatenated
    assert [found[f"crop{k}"].output_shape for k in (4, 3, 2, 1)] == [(512, 56, 56), (256, 104, 104),
                                                                       (128, 200, 200), (64, 392, 392)]
    assert [found[f"concat{k}"].output_shape[0] for k in (4, 3, 2, 1)] == [1024, 512, 256, 128]


@pytest.mark.parametrize("name", ["unet", "unet-same"])
def test_unet_has_23_convolutional_layers(name):
    """Section 2: "In total the network has 23 convolutional layers" (the up-convolutions included)."""
    kinds = [record.layer.type_name for record in archcalc.analyze(name).layers]
    assert kinds.count("conv") + kinds.count("convtranspose") == 23


def test_unet_same_keeps_the_sizes_and_the_parameters():
    """Padding by 1 keeps every map's size (no crop needed) and changes no weight."""
    same, paper = archcalc.analyze("unet-same"), archcalc.analyze("unet")
    assert same.layers[-1].output_shape == (2, 256, 256)
    assert not any(record.layer.type_name == "crop" for record in same.layers)
    assert same.totals.trainable_params == paper.totals.trainable_params


def test_yolov1_follows_figure_3():
    """24 convolutional and 2 fully connected layers; 448 → 112 × 112 × 64 → … → 7 × 7 × 1024; the output
    S × S × (B·5 + C) = 7 · 7 · (2·5 + 20) = 1,470 values; leaky rectifiers of slope 0.1."""
    reference = archcalc.load("yolov1").spec.reference["paper"]
    report = archcalc.analyze("yolov1")
    kinds = [record.layer.type_name for record in report.layers]
    assert kinds.count("conv") == reference["conv_layers"] == 24
    assert kinds.count("linear") == reference["fully_connected"] == 2
    assert report.layers[-1].output_shape == (reference["output"],) == (7 * 7 * (2 * 5 + 20),)
    found = layers("yolov1")
    maps = [found[name].output_shape for name in ("pool1", "pool2", "pool3", "pool4", "conv22/leaky",
                                                  "conv24/leaky")]
    assert [[shape[1], shape[0]] for shape in maps] == reference["maps"]
    slopes = {record.layer.negative_slope for record in report.layers if record.layer.type_name == "leakyrelu"}
    assert slopes == {0.1} and kinds.count("leakyrelu") == 25


def test_fcn8s_matches_table_1():
    """Table 1, FCN-VGG16: 16 convolution layers up to the scores, 134M parameters, receptive field 404
    and stride 32 at the scores; the 8× upsampling cropped to the 500 × 500 input, 21 classes."""
    reference = archcalc.load("fcn8s").spec.reference["paper"]
    report = archcalc.analyze("fcn8s")
    assert round(report.totals.params / 1e6) == reference["params_millions"]
    found = {record.name: record for record in report.layers}
    field = found["score_fr"].receptive_field
    assert field.size == (reference["receptive_field"],) * 2 and field.jump == (reference["max_stride"],) * 2
    up_to_scores = [record for record in report.layers if record.layer.type_name == "conv"
                    and not record.name.startswith("score_pool")]
    assert len(up_to_scores) == reference["conv_layers"]
    assert report.layers[-1].output_shape == (reference["classes"], 500, 500)
    # Caffe's crops: 44 → 34 at offset 5, 88 → 70 at offset 9, 568 → 500 at offset 31
    assert [found[name].input_shapes[0][1] for name in ("score_pool4c", "score_pool3c", "score")] == [44, 88, 568]


# --- the papers' networks written in plain PyTorch ------------------------------------------------------

torch = pytest.importorskip("torch")
nn = torch.nn


def double_conv(c_in: int, c_out: int, padding: int) -> list:
    return [nn.Conv2d(c_in, c_out, 3, padding=padding), nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=padding),
            nn.ReLU()]


class UNet(nn.Module):
    """Ronneberger et al. 2015, Fig. 1; `padding=1` for the padded variant."""

    def __init__(self, padding: int = 0):
        super().__init__()
        widths = [64, 128, 256, 512, 1024]
        self.down = nn.ModuleList(nn.Sequential(*double_conv(c_in, c, padding))
                                  for c_in, c in zip([1, *widths[:-1]], widths))
        self.pool = nn.MaxPool2d(2)
        self.upconv = nn.ModuleList(nn.ConvTranspose2d(c, c // 2, 2, stride=2) for c in widths[:0:-1])
        self.up = nn.ModuleList(nn.Sequential(*double_conv(c, c // 2, padding)) for c in widths[:0:-1])
        self.classes = nn.Conv2d(64, 2, 1)

    def forward(self, x):
        skips = []
        for k, block in enumerate(self.down):
            x = block(x)
            if k < 4:
                skips.append(x)
                x = self.pool(x)
        for upconv, block, skip in zip(self.upconv, self.up, reversed(skips)):
            x = upconv(x)
            top, left = (skip.shape[2] - x.shape[2]) // 2, (skip.shape[3] - x.shape[3]) // 2
            x = block(torch.cat([skip[:, :, top:top + x.shape[2], left:left + x.shape[3]], x], 1))
        return self.classes(x)


def conv_leaky(c_in: int, c_out: int, k: int, stride: int = 1) -> list:
    return [nn.Conv2d(c_in, c_out, k, stride, k // 2), nn.LeakyReLU(0.1)]


def yolov1() -> nn.Module:
    """Redmon et al. 2016, Fig. 3."""
    layers = [*conv_leaky(3, 64, 7, 2), nn.MaxPool2d(2), *conv_leaky(64, 192, 3), nn.MaxPool2d(2),
              *conv_leaky(192, 128, 1), *conv_leaky(128, 256, 3), *conv_leaky(256, 256, 1),
              *conv_leaky(256, 512, 3), nn.MaxPool2d(2)]
    for _ in range(4):
        layers += [*conv_leaky(512, 256, 1), *conv_leaky(256, 512, 3)]
    layers += [*conv_leaky(512, 512, 1), *conv_leaky(512, 1024, 3), nn.MaxPool2d(2)]
    for _ in range(2):
        layers += [*conv_leaky(1024, 512, 1), *conv_leaky(512, 1024, 3)]
    layers += [*conv_leaky(1024, 1024, 3), *conv_leaky(1024, 1024, 3, 2), *conv_leaky(1024, 1024, 3),
               *conv_leaky(1024, 1024, 3), nn.Flatten(), nn.Linear(7 * 7 * 1024, 4096), nn.LeakyReLU(0.1),
               nn.Dropout(0.5), nn.Linear(4096, 7 * 7 * 30)]
    return nn.Sequential(*layers)


class FCN8s(nn.Module):
    """Long et al. 2015, the Caffe reference voc-fcn8s: VGG16 (conv1_1 padded by 100, pooling rounding up),
    fc6/fc7 as convolutions, scores fused with the cropped pool4 and pool3 scores."""

    def __init__(self, classes: int = 21):
        super().__init__()
        stages, c_in = [], 3
        for width, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
            stage = []
            for _ in range(convs):
                stage += [nn.Conv2d(c_in, width, 3, padding=100 if c_in == 3 else 1), nn.ReLU()]
                c_in = width
            stages.append(nn.Sequential(*stage, nn.MaxPool2d(2, 2, ceil_mode=True)))
        self.stages = nn.ModuleList(stages)
        self.head = nn.Sequential(nn.Conv2d(512, 4096, 7), nn.ReLU(), nn.Dropout(), nn.Conv2d(4096, 4096, 1),
                                  nn.ReLU(), nn.Dropout(), nn.Conv2d(4096, classes, 1))
        self.upscore2 = nn.ConvTranspose2d(classes, classes, 4, 2, bias=False)
        self.score_pool4 = nn.Conv2d(512, classes, 1)
        self.upscore_pool4 = nn.ConvTranspose2d(classes, classes, 4, 2, bias=False)
        self.score_pool3 = nn.Conv2d(256, classes, 1)
        self.upscore8 = nn.ConvTranspose2d(classes, classes, 16, 8, bias=False)

    @staticmethod
    def crop(x, like, offset: int):
        return x[:, :, offset:offset + like.shape[2], offset:offset + like.shape[3]]

    def forward(self, x):
        maps = []
        y = x
        for stage in self.stages:
            y = stage(y)
            maps.append(y)
        up = self.upscore2(self.head(y))
        up = self.upscore_pool4(up + self.crop(self.score_pool4(maps[3]), up, 5))
        up = self.upscore8(up + self.crop(self.score_pool3(maps[2]), up, 9))
        return self.crop(up, x, 31)


def hooked_macs(model: nn.Module, shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """Convolution, transposed convolution and linear MACs of one sample, by forward hooks (on the meta
    device: shapes only), and the output's shape."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output[0].numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.ConvTranspose2d):
            kh, kw = module.kernel_size
            total += inputs[0][0].numel() * (module.out_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(count) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    with torch.no_grad():
        output = model.eval()(torch.empty((1, *shape), device="meta"))
    for handle in handles:
        handle.remove()
    return total, tuple(output.shape[1:])


PYTORCH = {"unet": lambda: UNet(), "unet-same": lambda: UNet(padding=1), "yolov1": yolov1, "fcn8s": FCN8s}


@pytest.mark.parametrize("name", PYTORCH)
def test_archcalc_counts_the_pytorch_implementation_of_the_paper(name):
    report = archcalc.analyze(name)
    with torch.device("meta"):
        model = PYTORCH[name]()
    macs, output = hooked_macs(model, report.layers[0].output_shape)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.macs == macs
    assert report.layers[-1].output_shape == output


def fcn8s_with_caffe_crops() -> dict:
    """`fcn8s` with Caffe's Crop as written in its prototxt: the size of a second layer, at an offset."""
    import yaml

    from archcalc import zoo

    mapping = yaml.safe_load(zoo.find("fcn8s").read_text())
    like = {"score_pool4c": ("upscore2", 5), "score_pool3c": ("upscore_pool4", 9), "score": ("input", 31)}
    for entry in mapping["layers"]:
        if entry["name"] in like:
            del entry["cropping"]
            entry["like"], entry["offset"] = like[entry["name"]]
    return mapping


def test_fcn8s_crops_are_caffes_offsets_at_any_input_size():
    """At 500 × 500 the widths of the zoo file and Caffe's offsets cut the same maps; at 384 × 384 the
    offsets still bring the output back to the input's size."""
    caffe, written = archcalc.analyze(fcn8s_with_caffe_crops()), archcalc.analyze("fcn8s")
    assert [r.output_shape for r in caffe.layers] == [r.output_shape for r in written.layers]
    assert caffe.totals.macs == written.totals.macs
    assert archcalc.analyze(fcn8s_with_caffe_crops(), input=(3, 384, 384)).layers[-1].output_shape == (21, 384, 384)
