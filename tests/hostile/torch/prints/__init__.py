"""A valid model whose builder prints a lot (to stdout and stderr) while it builds."""

import sys

import torch.nn as nn


def build():
    print("noise\n" * 100_000)
    sys.stderr.write("more noise\n" * 100_000)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
