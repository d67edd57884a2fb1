"""How fast is `archcalc.analyze()`? Against the peers' counting calls, and on chains of 1k–50k layers.

Peers, each on the same ResNet written in plain torch below (model construction not counted):
`torch.utils.flop_counter.FlopCounterMode` on the meta device (no memory, no arithmetic: the
fastest way PyTorch can count), and, where installed, ptflops' `get_model_complexity_info` and
torchinfo's `summary` (both run a real CPU forward pass). archcalc loads and analyzes the YAML
(load counted). The MAC totals are compared, so the race is between equal answers. Budget: on
resnet152, archcalc's load + analysis ≥ 20× faster than the fastest peer. The chains show the
cost per layer from 1k to 50k layers (budget: flat), and a 60-byte `repeat: 49999` file's
`archcalc table --format json` is timed as a user runs it, with its peak memory.

The benchmark runs itself twice, once in the current environment and once with OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE unset (the peers' forward passes use BLAS), and writes
benchmarks/results/analyze.md. ptflops and torchinfo are not archcalc's dependencies: install
them beside torch in a separate environment and run the benchmark from there:

    python3 -m venv /work/benchenv && /work/benchenv/bin/pip install -e . torch==2.13.0 ptflops torchinfo
    /work/benchenv/bin/python benchmarks/bench_analyze.py          # both runs and the report
    /work/benchenv/bin/python benchmarks/bench_analyze.py --child  # one run, JSON on stdout
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
CHAIN_LENGTHS = (1_000, 10_000, 49_999)  # with the input, 50,000 layers: the most a file may have
NETWORKS = (("resnet18", [2, 2, 2, 2], False), ("resnet50", [3, 4, 6, 3], True), ("resnet152", [3, 8, 36, 3], True))
BUDGET_RATIO = 20
REPEAT_FILE = "name: r\ninput: [1, 8, 8]\nlayers:\n  - {type: relu, repeat: 49999}\n"


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


def flopcounter_count(model, x) -> int:
    """FlopCounterMode over one forward pass (meta device); returns MACs (its FLOPs / 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() // 2


def ptflops_count(model, x) -> int:
    """ptflops' MACs (it counts BatchNorm, ReLU and pooling too)."""
    from ptflops import get_model_complexity_info

    macs, _ = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False,
                                        print_per_layer_stat=False, verbose=False)
    return int(macs)


def torchinfo_count(model, x) -> int:
    """torchinfo's "Mult-Adds"."""
    from torchinfo import summary

    return int(summary(model, input_data=x, verbose=0).total_mult_adds)


def peers(blocks: list[int], bottleneck: bool) -> dict[str, tuple]:
    """Name → (counting call, model, input) for every peer installed; models built here, untimed."""
    import importlib.util

    import torch

    with torch.device("meta"):
        meta = torch_resnet(blocks, bottleneck).eval(), torch.empty(1, 3, 224, 224)
    found = {"FlopCounterMode (meta)": (flopcounter_count, *meta)}
    cpu = torch_resnet(blocks, bottleneck).eval(), torch.zeros(1, 3, 224, 224)
    for name, call in (("ptflops", ptflops_count), ("torchinfo", torchinfo_count)):
        if importlib.util.find_spec(name) is not None:
            found[name] = (call, *cpu)
    return found


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
    for name, blocks, bottleneck in NETWORKS:
        loaded = archcalc.load(name)
        entry = {"layers": len(loaded.nodes), "archcalc_macs": archcalc_count(name),
                 "archcalc_load_analyze_s": best_of(lambda n=name: archcalc_count(n), 15),
                 "archcalc_analyze_s": best_of(lambda a=loaded: archcalc.analyze(a), 15), "peers": {}}
        for peer, (call, model, x) in peers(blocks, bottleneck).items():
            macs = call(model, x)  # warm-up
            entry["peers"][peer] = {"macs": macs, "s": best_of(lambda c=call, m=model, i=x: c(m, i), 5)}
        networks[name] = entry
    chains = {}
    for length in CHAIN_LENGTHS:
        text = chain_text(length)
        repeats = 3 if length >= 10_000 else 5
        load_s = best_of(lambda t=text: archcalc.load("chain.yaml", text=t), repeats)
        arch = archcalc.load("chain.yaml", text=text)
        chains[length] = {"load_s": load_s, "analyze_s": best_of(lambda a=arch: archcalc.analyze(a), repeats)}
    return {"networks": networks, "chains": chains, "repeat_json": repeat_json(),
            "env": {var: os.environ.get(var) for var in OPENBLAS_VARS}, "load": os.getloadavg()}


def repeat_json() -> dict:
    """`archcalc table FILE --format json` on the 60-byte `repeat: 49999` file: wall time, peak memory.
    A small wrapper process starts it, so the peak is archcalc's own (not this process's, forked)."""
    import tempfile

    wrapper = ("import resource, subprocess, sys, time\n"
               "start = time.perf_counter()\n"
               "out = subprocess.run([sys.executable, '-m', 'archcalc', 'table', sys.argv[1], '--format', 'json'],"
               " check=True, stdout=subprocess.PIPE).stdout\n"
               "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, len(out))")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.yaml"
        path.write_text(REPEAT_FILE)
        result = subprocess.run([sys.executable, "-c", wrapper, str(path)], check=True, capture_output=True,
                                text=True).stdout.split()
    wall, peak_kib, size = float(result[0]), int(result[1]), int(result[2])
    return {"bytes": len(REPEAT_FILE), "s": wall, "peak_mib": peak_kib / 1024, "output_mb": size / 1e6}


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
    names = sorted({p for n in result["networks"].values() for p in n["peers"]})
    load = ", ".join(f"{value:.2f}" for value in result["load"])
    lines = [f"## {title}", "", f"Environment: {env}. Load average (1, 5, 15 min) at the end of the run: {load}.", "",
             "| network | layers | archcalc load+analyze | archcalc analyze (loaded) | "
             + " | ".join(names) + " | fastest peer ÷ archcalc | MACs archcalc | MACs " + " / ".join(names) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(names) + "---:|---:|---:|"]
    for name, n in result["networks"].items():
        ours = n["archcalc_load_analyze_s"]
        fastest = min(p["s"] for p in n["peers"].values())
        lines.append(f"| {name} | {n['layers']} | {ours * 1e3:.1f} ms | {n['archcalc_analyze_s'] * 1e3:.1f} ms | "
                     + " | ".join(f"{n['peers'][p]['s'] * 1e3:.1f} ms" if p in n["peers"] else "–" for p in names)
                     + f" | {fastest / ours:.1f}× | {n['archcalc_macs']:,} | "
                     + " / ".join(f"{n['peers'][p]['macs']:,}" if p in n["peers"] else "–" for p in names) + " |")
    big = result["networks"]["resnet152"]
    ratio = min(p["s"] for p in big["peers"].values()) / big["archcalc_load_analyze_s"]
    lines += ["", f"Budget (resnet152, ≥ {BUDGET_RATIO}× the fastest peer): {ratio:.1f}×, "
              f"{'met' if ratio >= BUDGET_RATIO else 'missed'}."]
    lines += ["", "| chain of 3×3 convs | load | analyze | load per layer | analyze per layer |",
              "|---:|---:|---:|---:|---:|"]
    for length, c in result["chains"].items():
        lines.append(f"| {int(length):,} | {c['load_s']:.3f} s | {c['analyze_s']:.3f} s "
                     f"| {c['load_s'] / int(length) * 1e6:.1f} µs | {c['analyze_s'] / int(length) * 1e6:.1f} µs |")
    r = result["repeat_json"]
    lines += ["", f"`archcalc table FILE --format json` on a {r['bytes']}-byte `repeat: 49999` file: "
              f"{r['s']:.2f} s, peak {r['peak_mib']:.0f} MiB, {r['output_mb']:.1f} MB of JSON."]
    return lines + [""]


def profile_lines(name: str = "resnet152", runs: int = 10) -> list[str]:
    """Where load + analysis of `name` spends its time: cProfile's top functions by own time."""
    import cProfile
    import io
    import pstats

    import archcalc

    archcalc.analyze("lenet5")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        archcalc.analyze(archcalc.load(name))
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime").print_stats(15)
    table = text.getvalue().strip().split("ncalls", 1)[1]
    return [f"## Profile: {runs} × load + analysis of {name} (cProfile, own time first)", "",
            "Where a budget above is missed, this says where the time goes.", "",
            "```", "ncalls" + table, "```", ""]


def main() -> None:
    if "--child" in sys.argv:
        print(json.dumps(child()))
        return
    current, unset = run_child(unset=False), run_child(unset=True)
    lines = ["# Benchmark: archcalc.analyze()", "",
             f"Date {date.today().isoformat()}; {cpu_name()}, {os.cpu_count()} cores; {versions()}.", "",
             "Median wall times (15 runs per network for archcalc, 5 per peer; 5, or 3 from 10k up, per chain) "
             "of `python benchmarks/bench_analyze.py` (see its docstring for the environment with the peers). "
             "The peers count the same ResNet written in plain torch, built beforehand: FlopCounterMode on "
             "the meta device (its FLOPs ÷ 2 are the MACs shown), ptflops and torchinfo with a CPU forward "
             "pass (their MACs include what each tool counts besides convolutions and linear layers). "
             "A ratio above 1 means archcalc is faster. The chains show how the time grows with the "
             "number of layers. The machine is shared and has 2 cores: absolute times vary by a few "
             "tens of per cent between runs, so compare the ratios within one run.", ""]
    lines += section("Run 1: the current environment", current)
    lines += section("Run 2: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset", unset)
    lines += profile_lines()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
