"""Fuzz archcalc's file reading: load + analysis + JSON report on mutated architecture files.

    python tools/fuzz.py --runs 100000 --jobs 2 --seconds 3600 --corpus fuzz/corpus --crashes fuzz/crashes

Each input is written as a file (`fuzz.json` when it starts with `{`, else `fuzz.yaml`) and run in
a worker process through `archcalc.load`, `archcalc.analyze` and the analysis as JSON (what
`archcalc table FILE --format json` prints). A finding is any exception but an ArchcalcError; an
ArchcalcError whose message is not one clean line naming the file; an input over 2 s; or one that
grows the worker's memory by more than 200 MB.

With atheris installed (`pip install -e '.[fuzz]'`) the workers are coverage-guided libFuzzer
loops; otherwise they draw mutants with a seeded PRNG. Either way the mutator is fuzz_mutate's
(structure-aware, on the parsed file), mixed with libFuzzer's byte mutations under atheris. Seeds:
the zoo files and the --corpus folder (where atheris keeps inputs that reach new code).
At the end every finding is re-run in a fresh process, grouped by class (kind, exception and the
innermost archcalc line), minimised line by line and saved in --crashes as `<class>.yaml` (or
`.json`) with `<class>.txt` (the traceback); the raw inputs stay in `--crashes/raw/`.
"""

from __future__ import annotations

import argparse
import faulthandler
import hashlib
import json
import os
import random
import re
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

LIMIT_S = 2.0
LIMIT_MB = 200
KILL_S = 6  # a worker still on one input after this long is stopped; the input is a slow finding
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


# ---- one input ---------------------------------------------------------------------------------

def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> int:
    """Reset the peak resident size (Linux ≥ 4.0); return the resident size now, in kB."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass
    return _status_kb("VmRSS")


def _where(frames) -> str:
    """`archcalc/x.py:N` of the innermost frame in archcalc, else of the innermost frame."""
    places = [(f, n) for f, n in frames]
    inside = [(f, n) for f, n in places if "/archcalc/" in f]
    file, line = (inside or places or [("?", 0)])[-1]
    file = file[file.rindex("/archcalc/") + 1:] if "/archcalc/" in file else Path(file).name
    return f"{file}:{line}"


def run_one(path: Path) -> None:
    """What `archcalc table FILE --format json` does: load, analyse, stream the analysis as JSON."""
    import archcalc
    from archcalc.report.formats.json_ import analysis

    for _chunk in analysis(archcalc.analyze(archcalc.load(str(path)))):
        pass


def check(path: Path) -> dict | None:
    """Run one input file; None when it passes, else the finding (kind, key, detail)."""
    from archcalc.errors import ArchcalcError

    rss = _reset_peak()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, ((_status_kb("VmSize") + 2 * LIMIT_MB * 1024) * 1024, hard))
    finding = None
    start = time.process_time()  # CPU time: a busy machine does not make an input slow
    try:
        run_one(path)
    except ArchcalcError as error:
        text = str(error)
        problem = ("does not name the file" if path.name not in text else
                   "has a control character or line break" if re.search(r"[\x00-\x1f\x7f-\x9f]", text) else None)
        if problem:
            where = _where((f.filename, f.lineno) for f in traceback.extract_tb(error.__traceback__))
            finding = {"kind": "message", "key": f"message {problem} ({type(error).__name__} at {where})",
                       "detail": text[:2000]}
    except MemoryError as error:
        where = _where((f.filename, f.lineno) for f in traceback.extract_tb(error.__traceback__))
        finding = {"kind": "memory", "key": f"memory (MemoryError at {where})", "detail": traceback.format_exc()}
    except Exception as error:  # noqa: BLE001 - anything but an ArchcalcError is the finding
        where = _where((f.filename, f.lineno) for f in traceback.extract_tb(error.__traceback__))
        finding = {"kind": "crash", "key": f"crash ({type(error).__name__} at {where})",
                   "detail": "".join(traceback.format_exception(error, limit=-40))}
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    seconds = time.process_time() - start
    grown = (_status_kb("VmHWM") - rss) / 1024
    if finding is None and seconds > LIMIT_S:
        finding = {"kind": "slow", "key": "slow", "detail": f"{seconds:.1f} s"}
    elif finding is None and grown > LIMIT_MB:
        finding = {"kind": "memory", "key": "memory", "detail": f"{grown:.0f} MB"}
    return finding


def input_path(folder: Path, data: bytes) -> Path:
    path = folder / ("fuzz.json" if data.lstrip()[:1] == b"{" else "fuzz.yaml")
    path.write_bytes(data)
    return path


# ---- workers -----------------------------------------------------------------------------------

def seed_folders(corpus: Path) -> list[Path]:
    from archcalc import zoo

    return [corpus, zoo.zoo_dir()]


def _vocabulary(folders):
    import yaml
    from fuzz_mutate import Vocabulary

    vocabulary = Vocabulary()
    for folder in folders:
        for path in sorted(folder.iterdir()):
            try:
                vocabulary.add(yaml.safe_load(path.read_text()))
            except (yaml.YAMLError, ValueError, OSError, RecursionError):
                continue
    return vocabulary.frozen()


def worker(opts, engine: str) -> None:
    """Fuzz until --runs or --seconds; findings go to raw/ as input + `.finding` (JSON)."""
    raw = Path(opts.crashes) / "raw"
    folder = Path(opts.state) / f"in-{opts.worker}"
    folder.mkdir(exist_ok=True)
    os.chdir(folder)
    counter = os.open(Path(opts.state) / f"count-{opts.worker}", os.O_WRONLY | os.O_CREAT)
    runs = 0

    def one_input(data: bytes) -> None:
        nonlocal runs
        finding = check(input_path(folder, data))
        runs += 1
        os.pwrite(counter, b"%12d" % runs, 0)
        if finding:
            name = hashlib.sha1(data).hexdigest()
            (raw / name).write_bytes(data)
            (raw / f"{name}.finding").write_text(json.dumps(finding))

    if engine == "atheris":
        import atheris

        with atheris.instrument_imports(include=["archcalc"]):
            check(input_path(folder, (seed_folders(Path(opts.corpus))[1] / "resnet18.yaml").read_bytes()))
    from fuzz_mutate import mutate

    vocabulary = _vocabulary(seed_folders(Path(opts.corpus))[1:])
    if engine == "atheris":
        def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
            rng = random.Random(seed)
            mutant = mutate(data, rng, vocabulary) if rng.random() < 0.75 else b""
            return mutant if 0 < len(mutant) <= max_size else atheris.Mutate(data, max_size)

        folders = [str(f) for f in seed_folders(Path(opts.corpus))]
        atheris.Setup([sys.argv[0], *folders, f"-runs={opts.runs}", f"-max_total_time={opts.seconds}",
                       f"-timeout={KILL_S}", "-rss_limit_mb=3072", "-max_len=262144",
                       f"-artifact_prefix={raw}/", "-print_final_stats=1"], one_input, custom_mutator=custom_mutator)
        atheris.Fuzz()
        return
    rng = random.Random(opts.worker)
    seeds = [p.read_bytes() for f in seed_folders(Path(opts.corpus)) for p in sorted(f.iterdir()) if p.is_file()]
    # small seeds are drawn more often (weight 1/√size): a mutant of a 10 KB file costs ten times one of
    # a 1 KB file, and most defects lie in what every file has, not in its size
    weights = [1 / max(len(s), 64) ** 0.5 for s in seeds]
    current = Path(opts.state) / f"current-{opts.worker}"
    deadline = time.monotonic() + opts.seconds
    while runs < opts.runs and time.monotonic() < deadline:
        data = mutate(rng.choices(seeds, weights)[0], rng, vocabulary)
        current.write_bytes(data)
        faulthandler.dump_traceback_later(KILL_S, exit=True)
        one_input(data)
        faulthandler.cancel_dump_traceback_later()


# ---- replay: re-run one input in a fresh process, locating hangs -------------------------------

def replay_server() -> None:
    """Read input paths on stdin, answer each with its finding as one JSON line. A hang is cut at
    KILL_S of wall time by faulthandler, which prints where it was and exits (the parent reads the stack)."""
    for line in sys.stdin:
        faulthandler.dump_traceback_later(KILL_S, exit=True)
        finding = check(Path(line.strip()))
        faulthandler.cancel_dump_traceback_later()
        if finding and finding["kind"] == "slow":
            finding = None if float(finding["detail"].split()[0]) < LIMIT_S + 0.5 else finding
        print(json.dumps(finding), flush=True)


class Replayer:
    """A replay_server subprocess, restarted after each hang."""

    def __init__(self, state: Path):
        self.folder = state / "replay"
        self.folder.mkdir(exist_ok=True)
        self.process = None

    def check(self, data: bytes) -> dict | None:
        if self.process is None or self.process.poll() is not None:
            self.stderr = (self.folder / "stderr").open("w+")
            self.process = subprocess.Popen([sys.executable, __file__, "--replay"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                            cwd=self.folder)
        self.stderr.seek(0)
        self.stderr.truncate()
        path = input_path(self.folder, data)
        self.process.stdin.write(f"{path}\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], LIMIT_S + 30)
        line = self.process.stdout.readline() if ready else ""
        if line:
            return json.loads(line)
        self.process.kill()
        self.process.wait()
        self.stderr.seek(0)
        stack = self.stderr.read()
        frames = [(f, int(n)) for f, n in _FRAME.findall(stack)][::-1]  # faulthandler: innermost first
        return {"kind": "slow", "key": f"slow (at {_where(frames)})", "detail": stack[-4000:]}

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


def minimise(data: bytes, same, deadline: float) -> bytes:
    """Drop chunks of lines while `same(candidate)` holds (ddmin's complement step)."""
    lines = data.splitlines(keepends=True)
    parts = 2
    while len(lines) > 1 and time.monotonic() < deadline:
        size = -(-len(lines) // parts)
        for start in range(0, len(lines), size):
            candidate = lines[:start] + lines[start + size:]
            if candidate and time.monotonic() < deadline and same(b"".join(candidate)):
                lines, parts = candidate, max(parts - 1, 2)
                break
        else:
            if parts >= len(lines):
                break
            parts = min(2 * parts, len(lines))
    return b"".join(lines)


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", key.replace(".py", "").replace("archcalc/", "")).strip("-")[:80]


def triage(crashes: Path, state: Path, seconds_each: float) -> dict[str, dict]:
    """Replay every raw finding, group them by class, save the smallest of each minimised."""
    raw = crashes / "raw"
    inputs = sorted((p for p in raw.iterdir() if p.suffix != ".finding"), key=lambda p: p.stat().st_size)
    replayer = Replayer(state)
    classes: dict[str, dict] = {}
    tried: dict[str, int] = {}
    try:
        for path in inputs:
            note = raw / f"{path.name}.finding"
            first = json.loads(note.read_text())["key"] if note.exists() else path.name.split("-")[0]
            tried[first] = tried.get(first, 0) + 1
            if tried[first] > 3:  # the smallest three of each class found by the workers
                continue
            data = path.read_bytes()
            finding = replayer.check(data) or (json.loads(note.read_text()) if note.exists() else None)
            if finding is None:
                continue
            found = classes.setdefault(finding["key"], {**finding, "data": data, "count": 0})
            found["count"] += 1
        for key, found in classes.items():
            def same(candidate: bytes, key=key) -> bool:
                result = replayer.check(candidate)
                return result is not None and result["key"] == key

            small = minimise(found["data"], same, time.monotonic() + seconds_each)
            name = _slug(key)
            suffix = ".json" if small.lstrip()[:1] == b"{" else ".yaml"
            (crashes / f"{name}{suffix}").write_bytes(small)
            (crashes / f"{name}.txt").write_text(f"{key}\n\n{found['detail']}\n")
            found["file"] = str(crashes / f"{name}{suffix}")
    finally:
        replayer.close()
    return classes


# ---- the parent --------------------------------------------------------------------------------

def _engine() -> str:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return "random"
    return "atheris"


def fuzz(opts) -> int:
    engine = opts.engine or _engine()
    corpus, crashes = Path(opts.corpus), Path(opts.crashes)
    corpus.mkdir(parents=True, exist_ok=True)
    (crashes / "raw").mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="archcalc-fuzz-"))
    share = [opts.runs // opts.jobs + (j < opts.runs % opts.jobs) for j in range(opts.jobs)]
    done = [0] * opts.jobs
    start = time.monotonic()
    deadline = start + opts.seconds

    def spawn(j: int):
        command = [sys.executable, __file__, "--worker", str(j), "--state", str(state), "--engine", engine,
                   "--corpus", str(corpus.resolve()), "--crashes", str(crashes.resolve()),
                   "--runs", str(share[j] - done[j]), "--seconds", str(max(1, int(deadline - time.monotonic())))]
        log = (state / f"log-{j}").open("a")
        return subprocess.Popen(command, stdout=log, stderr=log)

    workers = {j: spawn(j) for j in range(opts.jobs)}
    try:
        while workers:
            time.sleep(0.2)
            for j, process in list(workers.items()):
                if process.poll() is None:
                    continue
                count = state / f"count-{j}"
                done[j] += int(count.read_bytes() or 0) if count.exists() else 0
                count.unlink(missing_ok=True)
                if process.returncode != 0:  # stopped on an input (hang, memory, signal)
                    done[j] += 1
                    current = state / f"current-{j}"
                    if current.exists():
                        current.rename(crashes / "raw" / f"timeout-{hashlib.sha1(current.read_bytes()).hexdigest()}")
                if process.returncode != 0 and done[j] < share[j] and time.monotonic() < deadline - 1:
                    workers[j] = spawn(j)
                else:
                    del workers[j]
    finally:
        for process in workers.values():
            process.kill()
    elapsed = time.monotonic() - start
    total = sum(done)
    print(f"engine {engine}, {opts.jobs} job(s): {total} inputs in {elapsed:.0f} s ({total / elapsed:.1f} inputs/s)")
    classes = triage(crashes, state, opts.minimise_seconds)
    shutil.rmtree(state, ignore_errors=True)
    for kind, title in (("crash", "crashes"), ("message", "bad messages"), ("slow", "slow inputs"),
                        ("memory", "memory-hungry inputs")):
        found = {k: c for k, c in classes.items() if c["kind"] == kind}
        print(f"{title}: {len(found)}")
        for key, finding in sorted(found.items()):
            print(f"  {key}: {finding['file']}")
            print("    " + "\n    ".join(finding["detail"].strip().splitlines()[-6:]))
    return 1 if classes else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10**6, help="inputs in all (default 10⁶)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--seconds", type=int, default=3600, help="wall-time limit (default 3600)")
    parser.add_argument("--corpus", default="fuzz/corpus", help="kept inputs (default fuzz/corpus)")
    parser.add_argument("--crashes", default="fuzz/crashes", help="findings (default fuzz/crashes)")
    parser.add_argument("--minimise-seconds", type=float, default=30, help="per finding class (default 30)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=["atheris", "random"], help="default: atheris where installed")
    parser.add_argument("--replay", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.replay:
        replay_server()
        return 0
    if opts.worker is not None:
        worker(opts, opts.engine)
        return 0
    return fuzz(opts)


if __name__ == "__main__":
    sys.exit(main())
