"""How fast is `archcalc sweep`? Variants per second per core, against a cold `analyze` loop and against
torch's FlopCounterMode on the meta device for the same variants; and memory as the grid grows.

* Sweep: `archcalc.sweep(file, grid)` on one core, the whole call (reading the file included) divided
  by the variants; and with `jobs=2` (joblib, two processes), per core.
* Cold loop: each variant analysed as a user would without the sweep: `archcalc.analyze` of a
  mapping that `extends` the zoo file and sets the variant's args (the file is read, validated,
  expanded and analysed every time), and the numbers of the variant's sweep row read from the report
  (receptive fields and peak memory included, which an analysis works out only when asked for), so
  that both sides give the same answers; archcalc's memos (`archcalc.memo`: compiled expressions, window
  geometries) stay warm across the loop, as in any loop in one process. Budget: a variant in the sweep
  costs at most a fifth of it.
* FlopCounterMode: the same variants built as PyTorch modules on the meta device (construction
  counted: each variant is another network) and counted; MobileNet v1 as written in
  tests/test_zoo_scaling.py, EfficientNet with torchvision where it is installed. MACs are compared,
  so the race is between equal answers.
* Memory: `archcalc sweep` of a small file streamed to CSV, in a fresh process, for growing grids:
  peak resident memory (flat: the rows are never held) and time.

The benchmark runs itself twice, as is and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, and
writes benchmarks/results/sweep.md:

    python benchmarks/bench_sweep.py            # both runs and the report
    python benchmarks/bench_sweep.py --child    # one run, JSON on stdout
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from importlib import metadata
from pathlib import Path

from machine import cpu_name

RESULTS = Path(__file__).parent / "results" / "sweep.md"
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BUDGET = 0.2  # a variant in a sweep costs at most this share of a cold analysis
B = {"width": [1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0], "depth": [1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 2.6, 3.1],
     "resolution": [224, 240, 288, 300, 380, 456, 528, 600]}
CASES = [
    ("mobilenet_v1: α × resolution (Tables 6-7)", "mobilenet_v1",
     {"alpha": [1.0, 0.75, 0.5, 0.25], "resolution": [224, 192, 160, 128]}, False),
    ("mobilenet_v1: 16 widths × 8 resolutions", "mobilenet_v1",
     {"alpha": [0.25 + 0.05 * i for i in range(16)], "resolution": list(range(128, 256, 16))}, False),
    ("efficientnet: B0-B7 (zip)", "efficientnet", B, True),
    ("efficientnet: B0-B7 widths × 9 resolutions", "efficientnet",
     {"width": B["width"][1:], "resolution": [224, 240, 260, 288, 300, 380, 456, 528, 600]}, False),
    ("resnet50: 24 input sizes", "resnet50", {"input": [[3, r, r] for r in range(64, 256, 8)]}, False),
]
TINY = ("name: tiny\ninput: [3, size, size]\nargs: {width: 8, k: 3, size: 16}\nlayers:\n"
        "  - {name: conv, type: conv, out_channels: width, kernel_size: k}\n  - {name: relu, type: relu}\n"
        "  - {name: pool, type: globalavgpool}\n  - {name: flat, type: flatten}\n"
        "  - {name: fc, type: linear, out_features: 10}\n")
MEMORY_GRIDS = [(5_000, "width=1:250", "k=1:20"), (20_000, "width=1:1000", "k=1:20"),
                (80_000, "width=1:4000", "k=1:20")]


def variants(grid: dict, zipped: bool) -> list[dict]:
    from archcalc.sweep import grid_of

    return [values for _, values in grid_of(grid, zipped).variants()]


def cold_loop(name: str, grid: dict, zipped: bool) -> tuple[float, list[int]]:
    import archcalc
    from archcalc.sweep.rows import numbers

    start, macs = time.perf_counter(), []
    for values in variants(grid, zipped):
        args = {k: v for k, v in values.items() if k != "input"}
        report = archcalc.analyze({"name": f"{name}-variant", "extends": name, "args": args}, input=values.get("input"))
        macs.append(numbers(report)["macs"])  # the row's numbers, as the sweep works them out
    return time.perf_counter() - start, macs


def mobilenet_torch(values: dict):
    from test_zoo_scaling import mobilenet_v1_torch  # tests/ is on the path (flop_counter_loop)

    return mobilenet_v1_torch(values["alpha"]), values["resolution"]


def efficientnet_torch(values: dict):
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=values["width"],
                                       depth_mult=values.get("depth", 1.0))
    return EfficientNet(setting, 0.2, last_channel=last), values["resolution"]


def flop_counter_loop(name: str, grid: dict, zipped: bool) -> tuple[float, list[int]] | None:
    """Build each variant in torch on the meta device and count it; None where it cannot be built here."""
    try:
        import torch
        from torch.utils.flop_counter import FlopCounterMode
        build = {"mobilenet_v1": mobilenet_torch, "efficientnet": efficientnet_torch}[name]
        if name == "efficientnet":
            import torchvision  # noqa: F401
        sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
        import test_zoo_scaling  # noqa: F401  (imported before the clock starts)
    except (ImportError, KeyError):
        return None
    start, macs = time.perf_counter(), []
    for values in variants(grid, zipped):
        if name == "mobilenet_v1" and not (values["alpha"] * 8).is_integer():
            return None  # the test's implementation takes the paper's four widths only
        with torch.device("meta"):
            model, resolution = build(values)
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model.eval()(torch.zeros(1, 3, resolution, resolution, device="meta"))
        macs.append(counter.get_total_flops() // 2)
    return time.perf_counter() - start, macs


def best(function, repeats: int = 3):
    """The fastest of `repeats` runs: (seconds, its result)."""
    found = None
    for _ in range(repeats):
        result = function()
        seconds = result[0] if isinstance(result, tuple) else result
        if found is None or seconds < found[0]:
            found = (seconds, result)
    return found


def case(label: str, name: str, grid: dict, zipped: bool) -> dict:
    import archcalc

    count = len(variants(grid, zipped))

    def serial():
        start = time.perf_counter()
        rows = archcalc.sweep(name, grid, zip=zipped)
        return time.perf_counter() - start, [r["macs"] for r in rows]

    def parallel():
        start = time.perf_counter()
        archcalc.sweep(name, grid, zip=zipped, jobs=2, chunk=max(1, count // 8))
        return time.perf_counter() - start

    sweep_s, (_, macs) = best(serial)
    cold_s, (_, cold_macs) = best(lambda: cold_loop(name, grid, zipped), 2)
    parallel_s = best(parallel, 2)[0]
    torch = flop_counter_loop(name, grid, zipped)
    return {"label": label, "variants": count, "sweep_s": sweep_s, "jobs2_s": parallel_s, "cold_s": cold_s,
            "torch_s": torch[0] if torch else None, "same_macs": macs == cold_macs and (not torch or torch[1] == macs)}


def memory(count: int, settings: tuple[str, ...]) -> dict:
    """`archcalc sweep` of TINY to CSV in a fresh process: wall time and peak resident memory."""
    wrapper = ("import resource, subprocess, sys, time\nstart = time.perf_counter()\n"
               "subprocess.run([sys.executable, '-m', 'archcalc', 'sweep', *sys.argv[1:]], check=True)\n"
               "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.yaml"
        path.write_text(TINY)
        args = [str(path), *[a for s in settings for a in ("--set", s)], "-o", str(Path(folder) / "rows.csv")]
        out = subprocess.run([sys.executable, "-c", wrapper, *args], check=True, capture_output=True, text=True)
        wall, peak = out.stdout.split()
        rows = (Path(folder) / "rows.csv").read_text().count("\n") - 1
    return {"variants": count, "rows": rows, "s": float(wall), "peak_mib": int(peak) / 1024}


def child() -> dict:
    import archcalc

    archcalc.analyze("lenet5")
    return {"cases": [case(*c) for c in CASES], "memory": [memory(n, s) for n, *s in MEMORY_GRIDS],
            "env": {var: os.environ.get(var) for var in OPENBLAS_VARS}, "load": os.getloadavg()}


def run_child(unset: bool) -> dict:
    command = [sys.executable, __file__, "--child"]
    if unset:
        command = ["env", *[f"-u{var}" for var in OPENBLAS_VARS], *command]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for package in ("archcalc", "torch", "torchvision", "joblib", "dask", "pyarrow"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    return ", ".join(parts)


def section(title: str, result: dict) -> list[str]:
    env = ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in result["env"].items())
    load = ", ".join(f"{value:.2f}" for value in result["load"])
    lines = [f"## {title}", "", f"Environment: {env}. Load average (1, 5, 15 min) at the end: {load}.", "",
             "| sweep | variants | sweep, 1 core | variants/s/core | jobs=2, per core | cold analyze loop | "
             "variants/s | FlopCounterMode (meta) | variants/s | sweep ÷ cold | same MACs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for c in result["cases"]:
        n = c["variants"]
        torch = (f"{c['torch_s'] / n * 1e3:.2f} ms | {n / c['torch_s']:.0f}" if c["torch_s"] else "– | –")
        ratio = c["sweep_s"] / c["cold_s"]
        lines.append(f"| {c['label']} | {n:,} | {c['sweep_s'] / n * 1e3:.2f} ms | {n / c['sweep_s']:.0f} | "
                     f"{n / c['jobs2_s'] / 2:.0f} | {c['cold_s'] / n * 1e3:.2f} ms | {n / c['cold_s']:.0f} | "
                     f"{torch} | {ratio:.2f} ({'met' if ratio <= BUDGET else 'missed'}) | "
                     f"{'yes' if c['same_macs'] else 'NO'} |")
    lines += ["", "| `archcalc sweep tiny.yaml … -o rows.csv` | rows written | wall | peak resident memory |",
              "|---:|---:|---:|---:|"]
    for m in result["memory"]:
        lines.append(f"| {m['variants']:,} variants | {m['rows']:,} | {m['s']:.1f} s | {m['peak_mib']:.0f} MiB |")
    return lines + [""]


def main() -> None:
    if "--child" in sys.argv:
        print(json.dumps(child()))
        return
    current, unset = run_child(unset=False), run_child(unset=True)
    lines = ["# Benchmark: archcalc sweep", "",
             f"Date {date.today().isoformat()}; {cpu_name()}, {os.cpu_count()} cores; {versions()}.", "",
             "`python benchmarks/bench_sweep.py` (its docstring says what is timed). Fastest of 3 runs of each "
             "sweep (2 of the loops); a sweep's time includes reading the file once. \"sweep ÷ cold\" is the "
             f"cost of a variant in the sweep over its cost analysed alone; the budget is {BUDGET}. jobs=2 runs "
             "two joblib processes (their start-up included) on this 2-core machine, shared with other work: "
             "absolute times vary by tens of per cent between runs, compare within a row.", ""]
    lines += section("Run 1: the current environment", current)
    lines += section("Run 2: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset", unset)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
