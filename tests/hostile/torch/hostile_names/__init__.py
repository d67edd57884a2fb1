"""A valid model whose modules and classes have names that are no archcalc names or YAML words."""

import torch.nn as nn


class On(nn.Module):        # a block named `on` would be YAML's true
    def __init__(self):
        super().__init__()
        self.add_module("/etc/passwd", nn.Conv2d(4, 4, 3, padding=1))
        self.add_module("input", nn.ReLU())

    def forward(self, x):
        for module in self.children():
            x = module(x)
        return x


class Null(On):
    pass


def build():
    net = nn.Sequential()
    net.add_module("a b: c\nd", nn.Conv2d(3, 4, 3))
    net.add_module("true", On())
    net.add_module("null", Null())
    net.add_module("\u2028", nn.ReLU())
    return net
