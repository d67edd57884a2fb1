"""A model whose forward never returns when traced."""

import torch.nn as nn


class Forever(nn.Module):
    def forward(self, x):
        while True:
            pass


def build():
    return Forever()
