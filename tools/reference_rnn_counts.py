#!/usr/bin/env python3
"""Record what ptflops' aten backend, FlopCounterMode around a training step and fvcore count for
nn.RNN / nn.LSTM / nn.GRU: ``tests/data/reference_rnn_counts.json``.

Each entry ``<type>_x10_h20_l2[_bi][_nobias]`` (``batch_first=True``, one sequence of 10 steps):
``config``; ``ptflops_aten`` (``get_model_complexity_info(backend="aten")``); ``torch_train``
(FlopCounterMode ``total_flops`` and ``flops_by_op`` around the forward pass and
``out.sum().backward()``, the input not requiring a gradient); ``fvcore`` (``FlopCountAnalysis``
total, where fvcore is installed). ``versions``: python, torch, ptflops, fvcore, date, command.

Re-run (seconds)::

    nice /work/refenv/bin/python tools/reference_rnn_counts.py
"""

from __future__ import annotations

import datetime
import io
import json
import platform
from importlib import metadata
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "reference_rnn_counts.json"
STEPS, INPUT, HIDDEN, LAYERS = 10, 10, 20, 2


def build(kind: str, bias: bool, bidirectional: bool) -> nn.Module:
    torch.manual_seed(0)
    return getattr(nn, kind)(INPUT, HIDDEN, LAYERS, bias=bias, batch_first=True, bidirectional=bidirectional)


class FirstOutput(nn.Module):
    """The module's output sequence alone (fvcore traces tensors, not tuples)."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x)[0]


def entry(kind: str, bias: bool, bidirectional: bool) -> dict:
    from ptflops import get_model_complexity_info

    x = torch.zeros(1, STEPS, INPUT)
    macs, _ = get_model_complexity_info(build(kind, bias, bidirectional), (STEPS, INPUT), as_strings=False,
                                        print_per_layer_stat=False, ost=io.StringIO(), backend="aten",
                                        input_constructor=lambda _res: {"input": x})
    counter = FlopCounterMode(display=False)
    with counter:
        build(kind, bias, bidirectional)(x)[0].sum().backward()
    by_op = {str(k): v for k, v in counter.get_flop_counts().get("Global", {}).items()}
    found = {"config": {"type": kind, "input_size": INPUT, "hidden_size": HIDDEN, "num_layers": LAYERS,
                        "bias": bias, "bidirectional": bidirectional, "seq_len": STEPS},
             "ptflops_aten": macs,
             "torch_train": {"total_flops": counter.get_total_flops(),
                             "flops_by_op": by_op}}
    try:
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(FirstOutput(build(kind, bias, bidirectional)).eval(), x)
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        found["fvcore"] = analysis.total()
    except ImportError:
        pass
    return found


def main() -> None:
    results = {}
    for kind in ("RNN", "LSTM", "GRU"):
        for bidirectional in (False, True):
            for bias in (True, False):
                key = f"{kind.lower()}_x{INPUT}_h{HIDDEN}_l{LAYERS}" + ("_bi" if bidirectional else "") + \
                      ("" if bias else "_nobias")
                results[key] = entry(kind, bias, bidirectional)

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    results["versions"] = {"python": platform.python_version(), "torch": torch.__version__,
                           "ptflops": version("ptflops"), "fvcore": version("fvcore"),
                           "date": datetime.date.today().isoformat(),
                           "command": "nice /work/refenv/bin/python tools/reference_rnn_counts.py"}
    OUT.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
