"""Seeded random CNN graphs as mappings for `archcalc.load`, small enough to run in milliseconds.

A graph is a chain of convolutions (random kernel, stride, every padding form, dilation, groups,
bias, fused activation), poolings (max/avg, padding, ceil_mode), BatchNorm, activations, residual
`add` and two-branch `concat` blocks, closed by flatten + linear. Shapes are tracked here with the
textbook arithmetic (PyTorch's rules) only to keep every choice valid.
"""

from __future__ import annotations

import random

ACTIVATIONS = ["relu", "relu6", "leakyrelu", "elu", "sigmoid", "tanh", "silu", "hardswish", "gelu"]


def _out(n: int, k: int, s: int, before: int, after: int, d: int = 1, ceil: bool = False) -> int:
    span = n + before + after - d * (k - 1) - 1
    if not ceil:
        return span // s + 1
    out = -(-span // s) + 1
    return out - 1 if (out - 1) * s >= n + before else out


class _Builder:
    def __init__(self, rng: random.Random, c: int, h: int, w: int):
        self.rng, self.c, self.h, self.w = rng, c, h, w
        self.layers: list[dict] = []
        self.last = "input"

    def add(self, layer: dict, c: int | None = None, h: int | None = None, w: int | None = None) -> str:
        name = f"n{len(self.layers)}"
        self.layers.append({"name": name, **layer})
        self.c = c if c is not None else self.c
        self.h = h if h is not None else self.h
        self.w = w if w is not None else self.w
        self.last = name
        return name

    def padding(self, k: int, d: int):
        """A random padding form and its (top, bottom, left, right)."""
        rng, half = self.rng, (d * (k - 1) + 1) // 2
        form = rng.choice(["int", "pair", "four", "same", "valid"])
        if form == "int":
            p = rng.randint(0, half)
            return p, (p, p, p, p)
        if form == "pair":
            ph, pw = rng.randint(0, half), rng.randint(0, half)
            return [ph, pw], (ph, ph, pw, pw)
        if form == "four":
            pads = tuple(rng.randint(0, 2) for _ in range(4))
            return list(pads), pads
        if form == "valid":
            return "valid", (0, 0, 0, 0)
        return "same", None

    def conv(self) -> None:
        rng = self.rng
        k = rng.choice([1, 1, 2, 3, 3, 5])
        d = rng.choice([1, 1, 1, 2]) if k > 1 else 1
        s = rng.choice([1, 1, 2, 3])
        padding, pads = self.padding(k, d)
        if pads is None:  # TensorFlow 'same': output ceil(n/s), the odd pixel after
            oh, ow = -(-self.h // s), -(-self.w // s)
        else:
            oh = _out(self.h, k, s, pads[0], pads[1], d) if self.h + pads[0] + pads[1] >= d * (k - 1) + 1 else 0
            ow = _out(self.w, k, s, pads[2], pads[3], d) if self.w + pads[2] + pads[3] >= d * (k - 1) + 1 else 0
        if oh < 1 or ow < 1:
            return
        divisors = [g for g in range(1, self.c + 1) if self.c % g == 0]
        g = rng.choice(divisors if rng.random() < 0.4 else [1])
        out = g * rng.randint(1, max(1, 8 // g))
        layer = {"type": "conv", "out_channels": out, "kernel_size": k, "stride": s, "padding": padding,
                 "dilation": d, "groups": g, "bias": rng.random() < 0.6}
        if rng.random() < 0.25:
            layer["activation"] = rng.choice(["relu", "sigmoid", "tanh"])
        self.add(layer, out, oh, ow)

    def pool(self) -> None:
        rng = self.rng
        k = rng.choice([2, 3])
        s = rng.randint(1, k)
        p = rng.randint(0, k // 2)
        ceil = rng.random() < 0.5
        if self.h + 2 * p < k or self.w + 2 * p < k:
            return
        kind = rng.choice(["maxpool", "avgpool"])
        layer = {"type": kind, "kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil}
        if kind == "avgpool":
            layer["count_include_pad"] = rng.random() < 0.5
        self.add(layer, h=_out(self.h, k, s, p, p, ceil=ceil), w=_out(self.w, k, s, p, p, ceil=ceil))

    def residual(self) -> None:
        """x + conv(x) with a size-preserving odd kernel."""
        source = self.last
        k = self.rng.choice([1, 3])
        branch = self.add({"type": "conv", "out_channels": self.c, "kernel_size": k, "padding": k // 2,
                           "from": source})
        self.add({"type": "add", "from": [branch, source]})

    def inception(self) -> None:
        """concat(conv 1×1, maxpool 3×3/1 pad 1) of the same input."""
        source, c = self.last, self.c
        out = self.rng.randint(1, 6)
        a = self.add({"type": "conv", "out_channels": out, "kernel_size": 1, "from": source})
        b = self.add({"type": "maxpool", "kernel_size": 3, "stride": 1, "padding": 1, "from": source})
        self.add({"type": "concat", "from": [a, b]}, c=out + c)

    def norm(self) -> None:
        self.add({"type": "batchnorm", "affine": self.rng.random() < 0.8})

    def activation(self) -> None:
        self.add({"type": self.rng.choice(ACTIVATIONS)})


def random_graph(seed: int) -> dict:
    """One valid random architecture mapping, the same for the same seed."""
    rng = random.Random(seed)
    b = _Builder(rng, rng.randint(1, 4), rng.randint(6, 16), rng.randint(6, 16))
    shape = [b.c, b.h, b.w]
    steps = [b.conv, b.conv, b.pool, b.residual, b.inception, b.norm, b.activation]
    for _ in range(rng.randint(2, 7)):
        rng.choice(steps)()
    b.add({"type": "flatten"}, c=b.c * b.h * b.w, h=0, w=0)
    b.add({"type": "linear", "out_features": rng.randint(2, 10)})
    if rng.random() < 0.3:
        b.add({"type": "relu"})
        b.add({"type": "linear", "out_features": rng.randint(2, 5), "bias": rng.random() < 0.5})
    return {"name": f"random{seed}", "input": shape, "layers": b.layers}
