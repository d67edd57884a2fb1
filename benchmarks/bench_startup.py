"""Start-up of everyday commands against the interpreter's own: `archcalc table vgg16` and others as a
multiple of `python -c pass`, the median of 7 paired runs (each run of a command beside a run of
`python -c pass`, in alternating order, so that a machine's changing load touches both alike), in wall
time and in CPU time (user + system, which a loaded machine moves far less).
Budget: 5× for `table` (the kept table of an unchanged file; the first run, which analyses, is shown too).

    python benchmarks/bench_startup.py      # writes benchmarks/results/startup.md
    python benchmarks/bench_startup.py --baseline /tmp/old --baseline-label "before: abc1234"

`--baseline FOLDER` (the folder holding an earlier `archcalc/` package, e.g. a `git worktree` of an
older commit) times the commands that analyse with that code too, in the same session.

Each figure comes as the environment has it and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.
PYTHONDONTWRITEBYTECODE is left out of the commands' environment (after a first run that writes the
bytecode), as an installed package has its bytecode compiled.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

from machine import cpu_name, process_times, process_wall_times

RESULTS = Path(__file__).parent / "results" / "startup.md"
PAIRS = 7
BUDGET = 5.0
OPENBLAS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def archcalc() -> list[str]:
    entry = shutil.which("archcalc", path=str(Path(sys.executable).parent)) or shutil.which("archcalc")
    return [entry] if entry else [sys.executable, "-m", "archcalc"]


def commands() -> dict[str, tuple[list[str], bool]]:
    """Label → (arguments, whether each run starts with an empty cache folder)."""
    cli = archcalc()
    return {"archcalc table vgg16": (cli + ["table", "vgg16"], False),
            "archcalc table vgg16, first run (empty cache)": (cli + ["table", "vgg16"], True),
            "archcalc table resnet50 --style keras": (cli + ["table", "resnet50", "--style", "keras"], False),
            "archcalc list": (cli + ["list"], False),
            "archcalc layers": (cli + ["layers"], False),
            "archcalc --help": (cli + ["--help"], False),
            "archcalc validate vgg16 (analyses every time)": (cli + ["validate", "vgg16"], False)}


def paired(command: list[str], env: dict[str, str], fresh_cache: bool) -> tuple[float, float, float, float]:
    """Medians over the pairs: wall ratio to `python -c pass`, CPU ratio, the command's wall time, and
    `python -c pass`'s."""
    baseline = [sys.executable, "-c", "pass"]
    ratios, cpu_ratios, times, bases = [], [], [], []
    for index in range(PAIRS):
        with tempfile.TemporaryDirectory() as empty:
            run_env = dict(env, XDG_CACHE_HOME=empty) if fresh_cache else env
            pair = [(command, run_env), (baseline, env)]
            if index % 2:
                pair.reverse()
            measured = {tuple(c): process_times(c, e) for c, e in pair}
        (wall, cpu), (base_wall, base_cpu) = measured[tuple(command)], measured[tuple(baseline)]
        ratios.append(wall / base_wall)
        cpu_ratios.append(cpu / base_cpu)
        times.append(wall)
        bases.append(base_wall)
    return tuple(statistics.median(v) for v in (ratios, cpu_ratios, times, bases))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="a folder holding an earlier archcalc/ package to time too")
    parser.add_argument("--baseline-label", default="baseline", help="what the baseline's rows are called")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cache = tempfile.mkdtemp(prefix="archcalc-bench-cache-")
    base["XDG_CACHE_HOME"] = cache
    variants = {"as is": base, "OPENBLAS_* unset": {k: v for k, v in base.items() if k not in OPENBLAS}}
    runs = [(label, command, fresh, variant, env) for label, (command, fresh) in commands().items()
            for variant, env in variants.items()]
    if args.baseline:
        older = dict(base, PYTHONPATH=str(Path(args.baseline).resolve()))
        runs += [(f"{label} [{args.baseline_label}]", command, fresh, "as is", older)
                 for label, (command, fresh) in commands().items() if fresh or "analyses" in label]
    rows = []
    for label, command, fresh, variant, env in runs:
        process_wall_times(command, 1, env)  # bytecode written, file cache warm, table kept
        rows.append((label, variant, *paired(command, env, fresh)))
    shutil.rmtree(cache, ignore_errors=True)
    headline = [r for r in rows if r[0] == "archcalc table vgg16"]
    met = all(r[2] < BUDGET for r in headline)
    settings = ", ".join(f"{k}={os.environ[k]}" for k in OPENBLAS if k in os.environ) or "neither set"
    lines = ["# Benchmark: start-up of everyday commands", "",
             f"Date {date.today().isoformat()}; {cpu_name()}, {os.cpu_count()} cores; Python "
             f"{platform.python_version()}; load average at the end {os.getloadavg()[0]:.2f}; OPENBLAS_* as is: "
             f"{settings}.", "",
             f"`python benchmarks/bench_startup.py{' --baseline … ' if args.baseline else ''}`: each command's time "
             f"as a multiple of `python -c pass`'s, the median of {PAIRS} paired runs, in wall time and in CPU time "
             f"(user + system). Budget for `archcalc table vgg16`: {BUDGET:g}× — "
             f"**{'met' if met else 'missed'}** ({', '.join(f'{r[2]:.1f}×' for r in headline)}). The first run "
             "of a table analyses the file; later runs on the unchanged file print the table kept in the cache "
             "folder (docs/cli.md).", "",
             "| command | environment | wall ratio | CPU ratio | median time | `python -c pass` |",
             "|---|---|---:|---:|---:|---:|"]
    lines += [f"| `{label}` | {variant} | {ratio:.1f}× | {cpu:.1f}× | {t:.3f} s | {b:.3f} s |"
              for label, variant, ratio, cpu, t, b in rows]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
