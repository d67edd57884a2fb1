"""How fast is `archcalc.analyze()`? Against PyTorch's own counter, and on chains of 1k–100k layers.

Peer: `torch.utils.flop_counter.FlopCounterMode` running the same ResNet, written in plain torch
below, on the meta device (no memory, no arithmetic: the fastest way PyTorch can count). Both
sides start from a definition: archcalc loads and analyzes the YAML, torch builds the modules and
runs the counted forward. The MAC totals are compared too, so the race is between equal answers.

The benchmark runs itself twice, once in the current environment and once with OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE unset, and writes benchmarks/results/analyze.md.

    python benchmarks/bench_analyze.py            # both runs and the report (a few minutes)
    python benchmarks/bench_analyze.py --child    # one run, JSON on stdout
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from importlib import metadata
from pathlib import Path

from machine import cpu_name

RESULTS = Path(__file__).parent / "results" / "analyze.md"
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
CHAIN_LENGTHS = (1_000, 10_000, 100_000)


def best_of(function, repeats: int) -> float:
    """Median wall time of `repeats` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- the peer: ResNet-18/50 in plain torch (torchvision's layout, v1.5 strides) -------------------


def torch_resnet(blocks: list[int], bottleneck: bool):
    import torch.nn as nn

    class Basic(nn.Module):
        expansion = 1

        def __init__(self, cin, width, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU(inplace=True)
            self.down = (nn.Sequential(nn.Conv2d(cin, width, 1, stride, bias=False), nn.BatchNorm2d(width))
                         if stride != 1 or cin != width else None)

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return self.relu(y + (self.down(x) if self.down is not None else x))

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, cin, width, stride):
            super().__init__()
            out = width * 4
            self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, out, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(out)
            self.relu = nn.ReLU(inplace=True)
            self.down = (nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
                         if stride != 1 or cin != out else None)

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            y = self.bn3(self.conv3(y))
            return self.relu(y + (self.down(x) if self.down is not None else x))

    block = Bottleneck if bottleneck else Basic
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
              nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, count in enumerate(blocks):
        width = 64 * 2**stage
        for index in range(count):
            layers.append(block(cin, width, 2 if stage and index == 0 else 1))
            cin = width * block.expansion
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000)]
    return nn.Sequential(*layers)


def torch_count(blocks: list[int], bottleneck: bool) -> int:
    """Build on the meta device and count with FlopCounterMode; returns MACs (its FLOPs / 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = torch_resnet(blocks, bottleneck)
        x = torch.empty(1, 3, 224, 224)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() // 2


# --- archcalc --------------------------------------------------------------------------------------


def archcalc_count(name: str) -> int:
    import archcalc

    return archcalc.analyze(archcalc.load(name)).totals.macs


def chain_text(length: int) -> str:
    return ("name: chain\ninput: [16, 32, 32]\nlayers:\n"
            f"  - {{name: c, type: conv, out_channels: 16, kernel_size: 3, padding: 1, repeat: {length}}}\n")


def child() -> dict:
    import archcalc

    archcalc.analyze("lenet5")  # imports and registry loaded before any timing
    networks = {}
    for name, blocks, bottleneck in (("resnet18", [2, 2, 2, 2], False), ("resnet50", [3, 4, 6, 3], True)):
        ours, theirs = archcalc_count(name), torch_count(blocks, bottleneck)
        loaded = archcalc.load(name)
        networks[name] = {
            "layers": len(loaded.nodes),
            "archcalc_macs": ours, "torch_macs": theirs,
            "archcalc_load_analyze_s": best_of(lambda n=name: archcalc_count(n), 15),
            "archcalc_analyze_s": best_of(lambda a=loaded: archcalc.analyze(a), 15),
            "torch_meta_flopcounter_s": best_of(lambda b=blocks, k=bottleneck: torch_count(b, k), 15),
        }
    chains = {}
    for length in CHAIN_LENGTHS:
        text = chain_text(length)
        repeats = 3 if length >= 100_000 else 5
        load_s = best_of(lambda t=text: archcalc.load("chain.yaml", text=t), repeats)
        arch = archcalc.load("chain.yaml", text=text)
        chains[length] = {"load_s": load_s, "analyze_s": best_of(lambda a=arch: archcalc.analyze(a), repeats)}
    return {"networks": networks, "chains": chains,
            "env": {var: os.environ.get(var) for var in OPENBLAS_VARS}}


# --- the report ------------------------------------------------------------------------------------


def run_child(unset: bool) -> dict:
    env = dict(os.environ)
    command = [sys.executable, __file__, "--child"]
    if unset:
        command = ["env", *[f"-u{var}" for var in OPENBLAS_VARS], *command]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for package in ("archcalc", "torch", "networkx", "PyYAML", "numpy"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    return ", ".join(parts)


def section(title: str, result: dict) -> list[str]:
    env = ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in result["env"].items())
    lines = [f"## {title}", "", f"Environment: {env}.", "",
             "| network | layers | archcalc load+analyze | archcalc analyze (loaded) | torch meta + FlopCounterMode "
             "| torch ÷ archcalc (load+analyze) | MACs archcalc | MACs torch |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, n in result["networks"].items():
        ratio = n["torch_meta_flopcounter_s"] / n["archcalc_load_analyze_s"]
        lines.append(f"| {name} | {n['layers']} | {n['archcalc_load_analyze_s'] * 1e3:.1f} ms "
                     f"| {n['archcalc_analyze_s'] * 1e3:.1f} ms | {n['torch_meta_flopcounter_s'] * 1e3:.1f} ms "
                     f"| {ratio:.2f}× | {n['archcalc_macs']:,} | {n['torch_macs']:,} |")
    lines += ["", "| chain of 3×3 convs | load | analyze | analyze per layer |", "|---:|---:|---:|---:|"]
    for length, c in result["chains"].items():
        lines.append(f"| {int(length):,} | {c['load_s']:.3f} s | {c['analyze_s']:.3f} s "
                     f"| {c['analyze_s'] / int(length) * 1e6:.1f} µs |")
    return lines + [""]


def main() -> None:
    if "--child" in sys.argv:
        print(json.dumps(child()))
        return
    current, unset = run_child(unset=False), run_child(unset=True)
    lines = ["# Benchmark: archcalc.analyze()", "",
             f"Date {date.today().isoformat()}; {cpu_name()}, {os.cpu_count()} cores; {versions()}.", "",
             "Median wall times (15 runs per network; 5, or 3 for 100k, per chain) of "
             "`python benchmarks/bench_analyze.py`. "
             "The peer builds the same ResNet in plain torch on the meta device and counts one forward "
             "pass with `torch.utils.flop_counter.FlopCounterMode` (its FLOPs ÷ 2 are the MACs shown). "
             "A ratio above 1 means archcalc is faster. The chains show how the time grows with the "
             "number of layers. The machine is shared and has 2 cores: absolute times vary by a few "
             "tens of per cent between runs, so compare the ratios within one run.", ""]
    lines += section("Run 1: the current environment", current)
    lines += section("Run 2: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset", unset)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
