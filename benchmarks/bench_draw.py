"""How fast are `archcalc draw`, `report` and `plot` on large networks? Chains of 1k, 10k and 50k
layers (`repeat`: one block of copies) and dense DAGs of 60, 120 and 200 layers (each adding the
input and every layer before it: up to 20,100 edges, not series-parallel), each command in a fresh
process as a user runs it, with its wall time, CPU time and peak memory.

    python benchmarks/bench_draw.py [--repeat 1] [--out benchmarks/results/draw.md]

Budgets (issue of the drawing at scale): `draw` and `report` of the 50k-layer chain under 10 s and
1 GB; `draw` of the 200-layer dense DAG under 5 s. The runs are made twice, in the current
environment and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (the crossing count uses numpy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from machine import cpu_name

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from hostile_drawings import dense  # noqa: E402  (the corpus's generator of dense DAGs)

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
CHAINS = (1_000, 10_000, 49_999)  # with the input, 50,000 layers: the most a file may have
DENSE = (60, 120, 200)
COMMANDS = {  # label → archcalc's arguments after the file
    "draw": ["draw", "{file}", "-o", "out.svg"],
    "draw --kind blocks": ["draw", "{file}", "--kind", "blocks", "-o", "blocks.svg"],
    "report": ["report", "{file}", "-o", "out.html"],
    "plot --what memory": ["plot", "{file}", "--what", "memory", "-o", "plot.svg"],
}
BUDGETS = {("chain 49,999", "draw"): (10, 1024), ("chain 49,999", "report"): (10, 1024),
           ("dense 200", "draw"): (5, None)}

_CHILD = """
import atexit, json, resource, runpy, sys

def said():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}), file=sys.stderr)

atexit.register(said)
sys.argv = ["archcalc", *sys.argv[1:]]
runpy.run_module("archcalc", run_name="__main__")
"""


def chain(layers: int) -> str:
    return (f"name: chain{layers}\ninput: [4, 8, 8]\nlayers:\n"
            f"  - {{name: c, type: conv, out_channels: 4, kernel_size: 3, padding: 1, repeat: {layers}}}\n")


def run(folder: Path, args: list[str], env: dict[str, str]) -> dict:
    """Wall seconds, CPU seconds, peak MB and the exit status (and the error line) of one fresh run."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    lines = done.stderr.strip().splitlines()
    measured = json.loads(lines[-1])
    return {"wall": wall, **measured, "status": done.returncode, "said": lines[0] if len(lines) > 1 else ""}


def measure(inputs: dict[str, Path], folder: Path, env: dict[str, str], repeat: int) -> list[tuple]:
    rows = []
    for label, path in inputs.items():
        for command, template in COMMANDS.items():
            runs = [run(folder, [a.replace("{file}", path.name) for a in template], env) for _ in range(repeat)]
            median = {key: statistics.median(r[key] for r in runs) for key in ("wall", "cpu", "peak_mb")}
            rows.append((label, command, median, runs[-1]["status"], runs[-1]["said"]))
    return rows


def table(rows: list[tuple]) -> list[str]:
    lines = ["| input | command | wall (s) | CPU (s) | peak memory (MB) | result | budget |",
             "|---|---|---:|---:|---:|---|---|"]
    for label, command, m, status, said in rows:
        budget = BUDGETS.get((label, command))
        verdict = ""
        if budget:
            seconds, megabytes = budget
            met = m["wall"] < seconds and (megabytes is None or m["peak_mb"] < megabytes)
            verdict = f"< {seconds} s" + (f", < {megabytes} MB" if megabytes else "") + (": met" if met else ": missed")
        result = "written" if status == 0 else f"exit {status}: {said.replace('|', '/')}"
        lines.append(f"| {label} | `{command}` | {m['wall']:.2f} | {m['cpu']:.2f} | {m['peak_mb']:.0f} | {result} "
                     f"| {verdict} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "draw.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        inputs = {}
        for layers in CHAINS:
            inputs[f"chain {layers:,}"] = folder / f"chain{layers}.yaml"
            inputs[f"chain {layers:,}"].write_text(chain(layers))
        for layers in DENSE:
            inputs[f"dense {layers}"] = folder / f"dense{layers}.yaml"
            inputs[f"dense {layers}"].write_text(dense(layers))
        as_is = dict(os.environ)
        unset = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
        results = [(env_label, measure(inputs, folder, env, args.repeat))
                   for env_label, env in (("The current environment", as_is),
                                          ("OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset", unset))]
    shown = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in OPENBLAS_VARS)
    lines = ["# Benchmark: drawings, reports and plots of large networks", "",
             f"Date {date.today()}; {cpu_name()}, {os.cpu_count()} cores; Python {platform.python_version()}. "
             f"Command: `python benchmarks/bench_draw.py --repeat {args.repeat}` (median of {args.repeat} fresh "
             "process(es) per cell; wall time includes the interpreter's start-up and the analysis). The machine is "
             f"shared: load average at the end {os.getloadavg()[0]:.2f}; CPU time says more than wall time there.",
             "", "Inputs: `chain N` is one `repeat: N` entry of 3×3 convolutions on 4×8×8 (N + 1 layers with the "
             "input); `dense N` is N layers, each adding the input and every layer before it (N(N+1)/2 edges).", ""]
    for env_label, rows in results:
        lines += [f"## {env_label}", "", f"Environment here: {shown}." if env_label.startswith("The") else
                  "Both variables removed from the child's environment.", "", *table(rows), ""]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
