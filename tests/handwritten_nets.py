"""Networks written by hand in the common PyTorch idioms (tensor methods, functionals, parameters used
directly in the forward), as people write them rather than as torchvision does; imported by
tests/test_import_idioms.py through torch.fx and through ONNX. Imported only with torch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvNeXtBlock(nn.Module):
    """ConvNeXt's block as its paper's code writes it: tensor-method permutes, `nn.LayerNorm`, two
    `nn.Linear` and `x + self.gamma * y` with γ of shape (C,) on the channels-last map."""

    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        y = self.gamma * y
        return x + y.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 4, stride=4)
        self.blocks = nn.Sequential(ConvNeXtBlock(32), ConvNeXtBlock(32))
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.head(x.mean([-2, -1]))


class Basic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResNet(nn.Module):
    """A CIFAR-style ResNet ending in `x.view(x.size(0), -1)`."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(Basic(16, 16, 1), Basic(16, 16, 1))
        self.layer2 = nn.Sequential(Basic(16, 32, 2), Basic(32, 32, 1))
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


class Inception(nn.Module):
    """GoogLeNet's stem (with `nn.LocalResponseNorm`) and one inception module, flattened with
    `torch.flatten(x, 1)` into a classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 5, 2, 2)
        self.lrn = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
        self.b1 = nn.Conv2d(16, 8, 1)
        self.b3_reduce = nn.Conv2d(16, 8, 1)
        self.b3 = nn.Conv2d(8, 12, 3, padding=1)
        self.pool_proj = nn.Conv2d(16, 4, 1)
        self.fc = nn.Linear(24 * 16 * 16, 10)

    def forward(self, x):
        x = self.lrn(F.relu(self.conv1(x)))
        x = F.max_pool2d(x, 3, 2, 1)
        a = F.relu(self.b1(x))
        b = F.relu(self.b3(F.relu(self.b3_reduce(x))))
        c = F.relu(self.pool_proj(F.max_pool2d(x, 3, 1, 1)))
        x = torch.cat([a, b, c], 1)
        return self.fc(torch.flatten(x, 1))


class MobileNetV3Block(nn.Module):
    """An inverted residual with squeeze-and-excitation gated by `x * F.hardsigmoid(...)`."""

    def __init__(self, cin: int, mid: int, cout: int):
        super().__init__()
        self.expand = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.dw = nn.Conv2d(mid, mid, 3, 1, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.se_reduce = nn.Conv2d(mid, 16, 1)
        self.se_expand = nn.Conv2d(16, mid, 1)
        self.project = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)

    def forward(self, x):
        y = F.hardswish(self.bn1(self.expand(x)))
        y = F.hardswish(self.bn2(self.dw(y)))
        s = F.adaptive_avg_pool2d(y, 1)
        s = self.se_expand(F.relu(self.se_reduce(s)))
        y = y * F.hardsigmoid(s)
        return x + self.bn3(self.project(y))


class MobileNetV3(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.block = MobileNetV3Block(16, 64, 16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.hardswish(self.bn(self.stem(x)))
        x = self.block(x)
        return self.fc(x.mean((2, 3)))


class Res2NetBlock(nn.Module):
    """Res2Net's hierarchical split: `torch.split` into widths, the last part read as `parts[-1]`,
    then joined; a `sum` of chunks and layer scales written as `x * p.view(1, -1, 1, 1)` and
    `p[:, None, None] * x`."""

    def __init__(self, width: int = 8, scale: int = 4):
        super().__init__()
        self.width, self.scale = width, scale
        self.conv1 = nn.Conv2d(width * scale, width * scale, 1, bias=False)
        self.convs = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1, bias=False) for _ in range(scale - 1))
        self.conv3 = nn.Conv2d(width * scale, 2 * width * scale, 1, bias=False)
        self.ls1 = nn.Parameter(torch.ones(2 * width * scale))
        self.ls2 = nn.Parameter(torch.ones(width * scale))

    def forward(self, x):
        parts = torch.split(self.conv1(x), self.width, 1)
        out = []
        sp = parts[0]
        for k, conv in enumerate(self.convs):
            sp = conv(sp if k == 0 else sp + parts[k])
            out.append(sp)
        out.append(parts[-1])
        y = self.conv3(torch.cat(out, 1)) * self.ls1.view(1, -1, 1, 1)
        first, second = y.chunk(2, dim=-3)
        y = sum([first, second])
        return x + self.ls2[:, None, None] * y / 2


class Res2Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, 2, 1)
        self.block = Res2NetBlock()
        self.fc = nn.Linear(32 * 16 * 16, 10)

    def forward(self, x):
        x = self.block(self.stem(x * 0.5))
        return self.fc(x.reshape(x.shape[0], -1))


#: name → (class, input per sample).
HANDWRITTEN = {"convnext": (ConvNeXt, (3, 32, 32)), "resnet": (ResNet, (3, 64, 64)),
               "inception": (Inception, (3, 64, 64)), "mobilenetv3": (MobileNetV3, (3, 32, 32)),
               "res2net": (Res2Net, (3, 32, 32))}
