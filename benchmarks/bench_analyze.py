"""How fast is a cold `archcalc.analyze(archcalc.load(FILE))`? Per phase, against the peers' counting calls,
and on chains of 1k–50k layers.

Networks: lenet5, resnet50, resnet152, densenet201 (the zoo's files) and a generated network of 10,000
written-out layers. Every archcalc run reads a freshly written copy of the file (and of the files it
`extends`) in a process whose memos archcalc has forgotten (`archcalc.memo.clear`: the compiled
expressions, the window geometries, the call patterns that an earlier run kept), so that no cache stands
in for the work; the phases are timed on copies of their own:
read (the bytes from disk, the `extends` chain), parse (YAML to values), validate (the file's keys),
expand (blocks, repeats and names into layers, in order) and analyse (shapes, parameters, MACs, FLOPs and
activation sizes; the receptive fields, the peak and the training memory are worked out when first asked
for, and the column "… + every number" times the same cold run with them asked for).

Peers, each on the same network written in plain torch below (torchvision's `densenet201` where
torchvision is installed; model construction not counted): `torch.utils.flop_counter.FlopCounterMode`
on the meta device (no memory, no arithmetic: the fastest way PyTorch can count), and, where installed,
ptflops' `get_model_complexity_info` and torchinfo's `summary` (both run a real CPU forward pass). The
MAC totals are shown side by side, so the race is between equal answers. Budgets: load + analysis of
resnet152 ≥ 30× faster than the fastest peer, of resnet50 ≥ 20×; on a plain chain, at most 15 µs per
layer, within ± 20 % of the 1,000-layer chain's figure up to 50,000 layers. The chains are timed in a
process of their own, where no peer has run: what the peers leave in the heap (torch's objects, the
memory of the generated network's forward passes) made the 50,000-layer chain some 15 % slower per layer
than in a fresh process, a cost of the peers, not of the chain's length. A 60-byte `repeat: 49999`
file's `archcalc table --format json` is timed as a user runs it, with its peak memory.

The benchmark runs itself twice, once in the current environment and once with OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE unset (the peers' forward passes use BLAS), and writes
benchmarks/results/analyze.md. ptflops, torchinfo and torchvision are not archcalc's dependencies:
install them beside torch in a separate environment and run the benchmark from there:

    python3 -m venv /work/refenv && /work/refenv/bin/pip install -e . torch==2.14.1 torchvision ptflops torchinfo
    /work/refenv/bin/python benchmarks/bench_analyze.py          # both runs and the report
    /work/refenv/bin/python benchmarks/bench_analyze.py --child  # one run's networks, JSON on stdout
    /work/refenv/bin/python benchmarks/bench_analyze.py --chains # one run's chains, JSON on stdout
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from importlib import metadata
from pathlib import Path

from machine import cpu_name

RESULTS = Path(__file__).parent / "results" / "analyze.md"
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
NETWORKS = ("lenet5", "resnet50", "resnet152", "densenet201", "generated-10k")
GENERATED_LAYERS = 10_000  # written out one per line: 5,000 × (3×3 convolution, ReLU) on 16 × 8 × 8
BUDGETS = {"resnet152": 30, "resnet50": 20}  # fastest peer ÷ archcalc, at least
CHAIN_LENGTHS = (1_000, 10_000, 49_999)  # with the input, 50,000 layers: the most a file may have
CHAIN_BUDGET_US, CHAIN_SPREAD = 15.0, 0.20  # per layer, load + analysis; each within ± 20 % of the 1k chain's
PHASES = ("read", "parse", "validate", "expand", "analyse")
REPEAT_FILE = "name: r\ninput: [1, 8, 8]\nlayers:\n  - {type: relu, repeat: 49999}\n"


def median_time(function, repeats: int) -> float:
    """Median wall time of `repeats` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- the peers' networks in plain torch -------------------------------------------------------------


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


def torch_lenet5():
    """The zoo's lenet5: five convolutions (biased) and two 2×2 max poolings."""
    import torch.nn as nn

    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5), nn.MaxPool2d(2, 2),
                         nn.Conv2d(16, 120, 5), nn.Conv2d(120, 84, 1), nn.Conv2d(84, 10, 1))


def torch_generated():
    """The generated network: 5,000 × (3×3 convolution without bias, 16 → 16 channels, padding 1; ReLU),
    on 16 × 8 × 8."""
    import torch.nn as nn

    layers = []
    for _ in range(GENERATED_LAYERS // 2):
        layers += [nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.ReLU()]
    return nn.Sequential(*layers)


def torch_network(name: str):
    """(model, input shape) of a network in torch; None where there is none (densenet201 without torchvision)."""
    import importlib.util

    if name == "lenet5":
        return torch_lenet5(), (1, 1, 32, 32)
    if name == "resnet50":
        return torch_resnet([3, 4, 6, 3], True), (1, 3, 224, 224)
    if name == "resnet152":
        return torch_resnet([3, 8, 36, 3], True), (1, 3, 224, 224)
    if name == "densenet201" and importlib.util.find_spec("torchvision") is not None:
        from torchvision.models import densenet201

        return densenet201(), (1, 3, 224, 224)
    if name == "generated-10k":
        return torch_generated(), (1, 16, 8, 8)
    return None


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


def peers(name: str) -> dict[str, tuple]:
    """Peer → (counting call, model, input) for every peer installed; models built here, untimed."""
    import importlib.util

    import torch

    with torch.device("meta"):
        meta = torch_network(name)
    if meta is None:
        return {}
    found = {"FlopCounterMode (meta)": (flopcounter_count, meta[0].eval(), torch.empty(*meta[1], device="meta"))}
    model, shape = torch_network(name)
    for peer, call in (("ptflops", ptflops_count), ("torchinfo", torchinfo_count)):
        if importlib.util.find_spec(peer) is not None:
            found[peer] = (call, model.eval(), torch.zeros(*shape))
    return found


# --- archcalc --------------------------------------------------------------------------------------


def generated_text() -> str:
    lines = ["name: generated-10k", "input: [16, 8, 8]", "layers:"]
    for index in range(GENERATED_LAYERS // 2):
        lines.append(f"  - {{name: conv{index}, type: conv, out_channels: 16, kernel_size: 3, padding: 1, "
                     "bias: false}")
        lines.append(f"  - {{name: relu{index}, type: relu}}")
    return "\n".join(lines) + "\n"


@functools.cache
def scratch() -> str:
    """A folder for the fresh copies, removed when the process ends."""
    folder = tempfile.mkdtemp(prefix="bench-analyze-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def zoo_files(name: str) -> tuple[Path, ...]:
    """The zoo file `name` and every file it `extends`, in that order: found once, by loading it, so that
    writing a copy loads nothing (a load would warm the memos that each cold run has just cleared)."""
    import archcalc

    return tuple(Path(read.path) for read in archcalc.load(name).files)


def fresh_copy(name: str) -> Path:
    """A newly written copy of a zoo file (or of the generated network) and of every file it
    `extends`, in a new folder; `extends` then names the copy."""
    folder = Path(tempfile.mkdtemp(dir=scratch()))
    if name == "generated-10k":
        path = folder / f"{name}.yaml"
        path.write_text(generated_text())
        return path
    files = zoo_files(name)
    for index, source in enumerate(files):
        text = source.read_text()
        if index + 1 < len(files):
            text = re.sub(r"(?m)^extends: .*$", f"extends: {files[index + 1].name}", text)
        (folder / source.name).write_text(text)
    return folder / files[0].name


def cold_run(name: str, every_number: bool = False) -> tuple[int, float]:
    """Load and analyze a fresh copy through the public API: (the MACs, the seconds it took). With
    `every_number`, the numbers an analysis works out only when first asked for (receptive fields, peak
    and training memory) are asked for too."""
    import archcalc
    from archcalc import memo

    memo.clear()
    path = fresh_copy(name)
    start = time.perf_counter()
    report = archcalc.analyze(archcalc.load(path))
    if every_number:
        _ = report.layers[-1].receptive_field, report.totals.peak_memory_bytes, report.totals.training_memory_bytes
    macs = report.totals.macs
    return macs, time.perf_counter() - start


def phase_run(name: str) -> dict[str, float]:
    """The same work as `cold_run`, one phase at a time (the loader's `parse_text` timed inside `read`)."""
    from archcalc import architecture, memo, spec
    from archcalc.analysis import analyze
    from archcalc.spec import loader

    parse = [0.0]
    real_parse = loader.parse_text

    def timed_parse(text: str, source: str):
        start = time.perf_counter()
        try:
            return real_parse(text, source)
        finally:
            parse[0] += time.perf_counter() - start

    memo.clear()
    path = fresh_copy(name)
    loader.parse_text = timed_parse
    try:
        start = time.perf_counter()
        raw = spec.load_raw(path)
        read_done = time.perf_counter()
    finally:
        loader.parse_text = real_parse
    validated = spec.validate(raw, path.name)
    validate_done = time.perf_counter()
    arch = architecture.build(validated, path.name)
    expand_done = time.perf_counter()
    analyze(arch)
    analyse_done = time.perf_counter()
    return {"read": read_done - start - parse[0], "parse": parse[0], "validate": validate_done - read_done,
            "expand": expand_done - validate_done, "analyse": analyse_done - expand_done}


def chain_text(length: int) -> str:
    return ("name: chain\ninput: [16, 32, 32]\nlayers:\n"
            f"  - {{name: c, type: conv, out_channels: 16, kernel_size: 3, padding: 1, repeat: {length}}}\n")


def child() -> dict:
    import archcalc

    archcalc.analyze("lenet5")  # imports and registry loaded before any timing
    networks = {}
    for name in NETWORKS:
        runs = 5 if name == "generated-10k" else 15
        macs, _ = cold_run(name)
        totals = [cold_run(name)[1] for _ in range(runs)]
        phases = [phase_run(name) for _ in range(runs)]
        every = [cold_run(name, every_number=True)[1] for _ in range(runs)]
        entry = {"layers": len(archcalc.load(fresh_copy(name)).nodes), "archcalc_macs": macs,
                 "archcalc_s": statistics.median(totals), "archcalc_every_s": statistics.median(every),
                 "phases": {p: statistics.median(run[p] for run in phases) for p in PHASES}, "peers": {}}
        for peer, (call, model, x) in peers(name).items():
            print(f"{name}: {peer}", file=sys.stderr)
            if name == "generated-10k":  # tens of seconds a run: one run, which the warm-up would not change
                start = time.perf_counter()
                entry["peers"][peer] = {"macs": call(model, x), "s": time.perf_counter() - start}
                continue
            peer_macs = call(model, x)  # warm-up
            entry["peers"][peer] = {"macs": peer_macs, "s": median_time(lambda c=call, m=model, i=x: c(m, i), 5)}
        networks[name] = entry
    return {"networks": networks, "repeat_json": repeat_json(),
            "env": {var: os.environ.get(var) for var in OPENBLAS_VARS}, "load": os.getloadavg()}


def chains_child() -> dict:
    """Load and analysis times of each chain (in a process where no peer runs)."""
    import archcalc
    from archcalc import memo

    archcalc.analyze("lenet5")  # imports and registry loaded before any timing
    chains = {}
    for length in CHAIN_LENGTHS:
        text = chain_text(length)
        repeats = 3 if length >= 10_000 else 5
        load_s = median_time(lambda t=text: (memo.clear(), archcalc.load("chain.yaml", text=t)), repeats)
        arch = archcalc.load("chain.yaml", text=text)
        chains[length] = {"load_s": load_s, "analyze_s": median_time(lambda a=arch: archcalc.analyze(a), repeats)}
    return {"chains": chains}


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
    """One run: the networks and their peers in one process, the chains in another."""
    found = {}
    for part in ("--child", "--chains"):
        command = [sys.executable, __file__, part]
        if unset:
            command = ["env", *[f"-u{var}" for var in OPENBLAS_VARS], *command]
        found.update(json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout))
    return found


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for package in ("archcalc", "torch", "torchvision", "ptflops", "torchinfo", "PyYAML", "pydantic", "numpy"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    return ", ".join(parts)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"


def ratio(network: dict) -> float | None:
    times = [p["s"] for p in network["peers"].values()]
    return min(times) / network["archcalc_s"] if times else None


def chain_figures(result: dict) -> tuple[float, float]:
    """(the most µs per layer for load + analysis over the chains, the largest departure from the
    1,000-layer chain's figure)."""
    per_layer = [(c["load_s"] + c["analyze_s"]) / int(length) * 1e6 for length, c in result["chains"].items()]
    return max(per_layer), max(abs(value / per_layer[0] - 1) for value in per_layer)


def summary(runs: list[dict]) -> list[str]:
    """Each budget, its figure in each run, and whether it is met in both, in one or in neither."""
    rows = []
    for name, budget in BUDGETS.items():
        figures = [ratio(run["networks"][name]) for run in runs]
        rows.append((f"{name} load + analysis ≥ {budget}× the fastest peer",
                     [f"{f:.1f}×" if f else "–" for f in figures], [bool(f and f >= budget) for f in figures]))
    chains = [chain_figures(run) for run in runs]
    rows.append((f"plain chain ≤ {CHAIN_BUDGET_US:.0f} µs per layer (load + analysis)",
                 [f"{worst:.1f} µs" for worst, _ in chains], [worst <= CHAIN_BUDGET_US for worst, _ in chains]))
    rows.append((f"per-layer cost flat from 1k to 50k layers (± {CHAIN_SPREAD:.0%})",
                 [f"{spread:+.1%}" for _, spread in chains], [spread <= CHAIN_SPREAD for _, spread in chains]))
    lines = ["## Budgets", "", "| budget | " + " | ".join(f"run {n + 1}" for n in range(len(runs))) + " | verdict |",
             "|---|" + "---:|" * len(runs) + "---|"]
    for what, figures, met in rows:
        verdict = "met" if all(met) else "missed" if not any(met) else f"met in {sum(met)} run(s) of {len(met)}"
        lines.append(f"| {what} | " + " | ".join(figures) + f" | {verdict} |")
    return lines + [""]


def section(title: str, result: dict) -> list[str]:
    env = ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in result["env"].items())
    names = sorted({p for n in result["networks"].values() for p in n["peers"]})
    load = ", ".join(f"{value:.2f}" for value in result["load"])
    lines = [f"## {title}", "", f"Environment: {env}. Load average (1, 5, 15 min) at the end of the run: {load}.", "",
             "| network | layers | " + " | ".join(PHASES) + " | archcalc load + analyze | … + every number | "
             + " | ".join(names) + " | fastest peer ÷ archcalc |",
             "|---|---:|" + "---:|" * (len(PHASES) + 2 + len(names) + 1)]
    for name, n in result["networks"].items():
        found = ratio(n)
        lines.append(f"| {name} | {n['layers']:,} | " + " | ".join(ms(n["phases"][p]) for p in PHASES)
                     + f" | {ms(n['archcalc_s'])} | {ms(n['archcalc_every_s'])} | "
                     + " | ".join(ms(n["peers"][p]["s"]) if p in n["peers"] else "–" for p in names)
                     + f" | {f'{found:.1f}×' if found else '–'} |")
    lines += ["", "| network | MACs archcalc | " + " | ".join(f"MACs {p}" for p in names) + " |",
              "|---|---:|" + "---:|" * len(names)]
    for name, n in result["networks"].items():
        lines.append(f"| {name} | {n['archcalc_macs']:,} | "
                     + " | ".join(f"{n['peers'][p]['macs']:,}" if p in n["peers"] else "–" for p in names) + " |")
    lines.append("")
    for name, budget in BUDGETS.items():
        found = ratio(result["networks"][name])
        verdict = "no peer installed" if found is None else f"{found:.1f}×, {'met' if found >= budget else 'missed'}"
        lines.append(f"Budget ({name} load + analysis ≥ {budget}× the fastest peer): {verdict}.  ")
    lines += ["", "| chain of 3×3 convs | load | analyze | load per layer | analyze per layer "
              "| load + analyze per layer |", "|---:|---:|---:|---:|---:|---:|"]
    for length, c in result["chains"].items():
        total = (c["load_s"] + c["analyze_s"]) / int(length) * 1e6
        lines.append(f"| {int(length):,} | {c['load_s']:.3f} s | {c['analyze_s']:.3f} s "
                     f"| {c['load_s'] / int(length) * 1e6:.1f} µs | {c['analyze_s'] / int(length) * 1e6:.1f} µs "
                     f"| {total:.1f} µs |")
    worst, spread = chain_figures(result)
    lines += ["", f"Budget (plain chain, load + analysis ≤ {CHAIN_BUDGET_US:.0f} µs per layer): worst {worst:.1f} µs, "
              f"{'met' if worst <= CHAIN_BUDGET_US else 'missed'}. Budget (flat: each within ± {CHAIN_SPREAD:.0%} of "
              f"the 1,000-layer chain's): {spread:+.0%} at most, {'met' if spread <= CHAIN_SPREAD else 'missed'}."]
    r = result["repeat_json"]
    lines += ["", f"`archcalc table FILE --format json` on a {r['bytes']}-byte `repeat: 49999` file: "
              f"{r['s']:.2f} s, peak {r['peak_mib']:.0f} MiB, {r['output_mb']:.1f} MB of JSON."]
    return lines + [""]


def profile_lines(name: str = "resnet152", runs: int = 10) -> list[str]:
    """Where a cold load + analysis of `name` spends its time: cProfile's top functions by own time."""
    import cProfile
    import io
    import pstats

    import archcalc
    from archcalc import memo

    archcalc.analyze("lenet5")
    paths = [fresh_copy(name) for _ in range(runs)]
    profiler = cProfile.Profile()
    for path in paths:
        memo.clear()  # each run cold, as `cold_run`'s
        profiler.enable()
        archcalc.analyze(archcalc.load(path))
        profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime").print_stats(15)
    table = text.getvalue().strip().split("ncalls", 1)[1]
    return [f"## Profile: {runs} × cold load + analysis of {name} (cProfile, own time first)", "",
            "Where the time goes (the profiler's own overhead included).", "",
            "```", "ncalls" + table, "```", ""]


def main() -> None:
    if "--child" in sys.argv:
        print(json.dumps(child()))
        return
    if "--chains" in sys.argv:
        print(json.dumps(chains_child()))
        return
    current, unset = run_child(unset=False), run_child(unset=True)
    lines = ["# Benchmark: cold archcalc.load + archcalc.analyze", "",
             f"Date {date.today().isoformat()}; {cpu_name()}, {os.cpu_count()} cores; {versions()}.", "",
             "Median wall times of `python benchmarks/bench_analyze.py` (see its docstring for the environment "
             "with the peers): per network, 15 cold runs of archcalc (5 for the generated network), each on a "
             "freshly written copy of the file and of the files it extends, after archcalc's memos across calls "
             "were cleared (`archcalc.memo.clear()`: no expression, window geometry or call pattern compiled "
             "before), and as many more for the phases; "
             "5 runs per peer after a warm-up (one run on the generated network, whose peers take seconds). "
             "The peers count the same network written in plain torch, built "
             "beforehand (densenet201: torchvision's): FlopCounterMode on the meta device (its FLOPs ÷ 2 are the "
             "MACs shown), ptflops and torchinfo with a CPU forward pass (their MACs include what each tool "
             "counts besides convolutions and linear layers). A ratio above 1 means archcalc is faster. The "
             "chains show how the time grows with the number of layers. The machine is shared and has "
             f"{os.cpu_count()} cores: absolute times vary by tens of per cent between runs, so compare the "
             "ratios within one run.", ""]
    lines += summary([current, unset])
    lines += section("Run 1: the current environment", current)
    lines += section("Run 2: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset", unset)
    lines += profile_lines()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
