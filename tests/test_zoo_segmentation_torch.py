"""The segmentation and detection papers of the zoo written in plain PyTorch: each network's parameters,
and its convolution and linear MACs counted with forward hooks, equal `archcalc table`'s."""

from __future__ import annotations

import pytest

import archcalc

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
               nn.Dropout(0.5), nn.Linear(4096, 7 * 7 * 30), nn.Unflatten(1, (30, 7, 7))]
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
