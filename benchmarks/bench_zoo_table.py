"""Wall time of `archcalc table NAME` for every zoo entry, as a user runs it (a fresh process each).

    python benchmarks/bench_zoo_table.py [--repeat 3] [--out benchmarks/results/zoo_table.md]

Each entry is run `--repeat` times and the median is kept; the bare start-up of the interpreter
(`python -c pass`) is measured the same way so the share of archcalc itself can be read off.
Target: every entry under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

TARGET_S = 0.5


def wall_time(command: list[str], repeat: int) -> float:
    """Median wall time of `command` over `repeat` runs, output discarded."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "zoo_table.md"))
    args = parser.parse_args()

    from archcalc import zoo

    python = [sys.executable]
    bare = wall_time(python + ["-c", "pass"], args.repeat)
    rows = [(name, wall_time(python + ["-m", "archcalc", "table", name], args.repeat)) for name in zoo.names()]
    slowest = max(t for _, t in rows)
    over = [name for name, t in rows if t >= TARGET_S]
    load = os.getloadavg()[0]
    lines = [
        "# `archcalc table NAME` for every zoo entry",
        "",
        f"Measured {date.today()} on {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; median of {args.repeat} fresh processes each; load average at the "
        f"end {load:.2f}. Command: `python benchmarks/bench_zoo_table.py`.",
        "",
        f"- interpreter start-up alone (`python -c pass`): {bare:.3f} s",
        f"- slowest entry: {slowest:.3f} s; median over the zoo: {statistics.median(t for _, t in rows):.3f} s",
        f"- target < {TARGET_S} s: " + ("met by every entry" if not over else f"missed by {', '.join(over)}"),
        "",
        "| architecture | wall time (s) |",
        "|---|---:|",
        *(f"| {name} | {t:.3f} |" for name, t in rows),
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines[:9]))


if __name__ == "__main__":
    main()
