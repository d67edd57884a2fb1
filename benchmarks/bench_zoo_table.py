"""Wall time of `archcalc table NAME` for every zoo entry, as a user runs it (a fresh process each).

    python benchmarks/bench_zoo_table.py [--repeat 5] [--out benchmarks/results/zoo_table.md]

Each entry is run `--repeat` times and the median is kept; the bare start-up of the interpreter
(`python -c pass`) is measured the same way so the share of archcalc itself can be read off.
Two columns: the environment as it is, and with Python's bytecode cache on (a user's normal
case: the first run writes `__pycache__`, later runs read it). An environment that sets
PYTHONDONTWRITEBYTECODE makes every run compile archcalc's modules again; the second column
unsets it and keeps the cache in a temporary folder. Target: every entry under 0.5 s.
(No matrix products run here, so OPENBLAS_* settings do not apply.)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from machine import cpu_name, process_wall_times

TARGET_S = 0.5
BUDGET_RATIO = 5  # `archcalc table vgg16` against the bare interpreter
BUDGET_NAME = "vgg16"


def wall_time(command: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    """Median wall time of `command` over `repeat` fresh runs."""
    return statistics.median(process_wall_times(command, repeat, env))


def cached_env(folder: str) -> dict[str, str]:
    """The environment with Python's bytecode cache on, kept in `folder`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = folder
    return env


def summary(label: str, rows: list[tuple[str, float]]) -> str:
    slowest = max(rows, key=lambda row: row[1])
    over = [name for name, t in rows if t >= TARGET_S]
    verdict = "met by every entry" if not over else f"missed by {', '.join(over)}"
    median = statistics.median(t for _, t in rows)
    return (f"- {label}: slowest {slowest[1]:.3f} s ({slowest[0]}), median {median:.3f} s; "
            f"target < {TARGET_S} s {verdict}")


def import_profile(command: list[str], top: int = 12) -> list[str]:
    """`python -X importtime` of `command`: the modules with the most own import time (µs)."""
    result = subprocess.run([command[0], "-X", "importtime", *command[1:]], capture_output=True, text=True,
                            check=True)
    entries = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self" not in line:
            own, total, name = (part.strip() for part in line[len("import time:"):].split("|"))
            entries.append((int(own), int(total), name))
    entries.sort(reverse=True)
    return ["| module | own (ms) | with its imports (ms) |", "|---|---:|---:|",
            *(f"| {name} | {own / 1e3:.1f} | {total / 1e3:.1f} |" for own, total, name in entries[:top])]


def budget(label: str, bare: float, seconds: float) -> str:
    ratio = seconds / bare
    met = ratio <= BUDGET_RATIO and seconds <= TARGET_S
    return (f"- {label}: `archcalc table {BUDGET_NAME}` {seconds:.3f} s = {ratio:.1f}× `python -c pass`; "
            f"budget ≤ {BUDGET_RATIO}× and ≤ {TARGET_S} s {'met' if met else 'missed'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "zoo_table.md"))
    args = parser.parse_args()

    from archcalc import zoo

    python = [sys.executable]
    table = python + ["-m", "archcalc", "table"]
    with tempfile.TemporaryDirectory() as folder:
        cached = cached_env(folder)
        subprocess.run(table + ["lenet5"], stdout=subprocess.DEVNULL, check=True, env=cached)  # writes the cache
        bare = wall_time(python + ["-c", "pass"], args.repeat)
        rows = [(name, wall_time(table + [name], args.repeat), wall_time(table + [name], args.repeat, cached))
                for name in zoo.names()]
        profile = import_profile(table + [BUDGET_NAME])
    load = os.getloadavg()[0]
    vgg = next(row for row in rows if row[0] == BUDGET_NAME)
    as_is = [(name, t) for name, t, _ in rows]
    with_cache = [(name, t) for name, _, t in rows]
    lines = [
        "# `archcalc table NAME` for every zoo entry",
        "",
        f"Measured {date.today()} on {cpu_name()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; median of {args.repeat} fresh processes each; load average at the "
        f"end {load:.2f}; PYTHONDONTWRITEBYTECODE "
        f"{'set' if os.environ.get('PYTHONDONTWRITEBYTECODE') else 'not set'} here. "
        "Command: `python benchmarks/bench_zoo_table.py`.",
        "",
        f"- interpreter start-up alone (`python -c pass`): {bare:.3f} s",
        summary("as is", as_is),
        summary("bytecode cache on", with_cache),
        budget("as is", bare, vgg[1]),
        budget("bytecode cache on", bare, vgg[2]),
        "",
        "| architecture | as is (s) | bytecode cache on (s) |",
        "|---|---:|---:|",
        *(f"| {name} | {a:.3f} | {c:.3f} |" for name, a, c in rows),
        "",
        f"## Where `archcalc table {BUDGET_NAME}` spends its start-up (`python -X importtime`, as is, one run)",
        "",
        *profile,
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines[:8]))


if __name__ == "__main__":
    main()
