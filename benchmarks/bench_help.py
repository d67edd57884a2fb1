"""Start-up time: `archcalc --help`, median of 10 fresh processes (target below 0.3 s).

    python benchmarks/bench_help.py      # writes benchmarks/results/help.md
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import sys
from datetime import date
from pathlib import Path

from machine import cpu_name, process_wall_times

RESULTS = Path(__file__).parent / "results" / "help.md"
RUNS = 10
TARGET_S = 0.3


def main() -> None:
    entry = shutil.which("archcalc")
    commands = {"archcalc --help": [entry, "--help"]} if entry else {}
    commands["python -m archcalc --help"] = [sys.executable, "-m", "archcalc", "--help"]
    commands["python -c pass"] = [sys.executable, "-c", "pass"]
    rows = []
    for label, command in commands.items():
        process_wall_times(command, 1)  # warm the file cache
        times = process_wall_times(command, RUNS)
        rows.append((label, statistics.median(times), min(times), max(times)))
    headline = rows[0][1]
    lines = ["# Benchmark: start-up time", "",
             f"Date {date.today().isoformat()}; {cpu_name()}, {os.cpu_count()} cores; "
             f"Python {platform.python_version()}; load average at the end {os.getloadavg()[0]:.2f}. "
             "No matrix products run here, so OPENBLAS_* settings do not apply.", "",
             f"Median of {RUNS} fresh processes (`python benchmarks/bench_help.py`); target below {TARGET_S} s: "
             f"**{'met' if headline < TARGET_S else 'missed'}** ({headline:.3f} s). `python -c pass` is the "
             "interpreter's own start-up, for scale.", "",
             "| command | median | min | max |", "|---|---:|---:|---:|"]
    lines += [f"| `{label}` | {median:.3f} s | {low:.3f} s | {high:.3f} s |" for label, median, low, high in rows]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
