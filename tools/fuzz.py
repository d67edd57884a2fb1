"""Fuzz archcalc's readers of untrusted files: architecture files, ONNX and Keras models, answer
sheets and grading folders.

    python tools/fuzz.py --surface all --engine random --runs 1000000 --jobs 2 --seconds 3600

`--surface` picks what is fed (tools/fuzz_surfaces.py): `arch` (the default: mutated architecture files
through `archcalc.load`, `archcalc.analyze` and the analysis as JSON, what `archcalc table FILE --format
json` prints), `onnx` and `keras` (mutated models through the import path, `archcalc import FILE`, the
written file loaded back), `sheets` (mutated answer sheets through `archcalc check lenet5 FILE`),
`folders` (grading folders of mutated sheets and odd entries through `archcalc check lenet5 FOLDER
--gradebook --feedback`), or `all` (the last four in turn). Each input is written as a file (or folder) in
a sandbox and run in a worker process. A finding is any exception but an ArchcalcError; an ArchcalcError
whose message is not one clean line naming the file; an input over 2 s of CPU; one that grows the
worker's memory by more than 200 MB; a canary file created (inputs carry payloads that would create it);
a canary secret (kept beside the input's folder) opened or found in any output or written file; an
imported file that does not load back; a sheet of a graded folder overwritten.

With atheris installed (`pip install -e '.[fuzz]'`) the `arch` workers can be coverage-guided libFuzzer
loops; otherwise (and on the other surfaces) they draw mutants with a PRNG seeded by --seed, so a run
is repeatable. The mutators are structure-aware (fuzz_mutate, fuzz_onnx, fuzz_keras, fuzz_sheets), on
the parsed input. Seeds: the zoo files and the --corpus folder (`arch`), the stored models and the
hostile corpora of tests/hostile/ (the others).
At the end every finding is re-run in a fresh process, grouped by class (surface, kind, exception and
the innermost archcalc line), minimised line by line and saved in --crashes as `<class>.<suffix>` with
`<class>.txt` (the traceback); the raw inputs stay in `--crashes/raw/`.
"""

from __future__ import annotations

import argparse
import contextlib
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
from dataclasses import dataclass
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


def check(surface, path: Path, sandbox) -> dict | None:
    """Run one input (written by `sandbox.write`); None when it passes, else the finding (kind, key, detail)."""
    from fuzz_surfaces import Finding

    from archcalc.errors import ArchcalcError

    rss = _reset_peak()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, ((_status_kb("VmSize") + 2 * LIMIT_MB * 1024) * 1024, hard))
    finding, texts = None, []
    start = time.process_time()  # CPU time: a busy machine does not make an input slow
    try:
        texts = surface.run(path, sandbox)
    except Finding as found:
        finding = {"kind": found.kind, "key": found.key, "detail": found.detail[:2000]}
    except ArchcalcError as error:
        text = str(error)
        texts = [text]
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
    breach = sandbox.breaches(texts)
    if breach is not None:
        finding = {"kind": breach.kind, "key": breach.key, "detail": breach.detail}
    elif finding is None and seconds > LIMIT_S:
        finding = {"kind": "slow", "key": "slow", "detail": f"{seconds:.1f} s"}
    elif finding is None and grown > LIMIT_MB:
        finding = {"kind": "memory", "key": "memory", "detail": f"{grown:.0f} MB"}
    if finding:
        finding["key"] = f"{surface.name}: {finding['key']}"
        finding["surface"] = surface.name
    return finding


# ---- surfaces ----------------------------------------------------------------------------------

def _arch_file(data: bytes) -> str:
    return "fuzz.json" if data.lstrip()[:1] == b"{" else "fuzz.yaml"


def arch_surface(corpus: Path):
    """`--surface arch`: mutated architecture files, seeded with the zoo and the corpus folder."""
    from fuzz_mutate import mutate
    from fuzz_surfaces import Surface, run_arch

    def seeds() -> list[bytes]:
        return [p.read_bytes() for f in seed_folders(corpus) for p in sorted(f.iterdir()) if p.is_file()]

    return Surface("arch", seeds, lambda seeds: _vocabulary(seed_folders(corpus)[1:]),
                   lambda data, rng, vocabulary, seeds, weights: mutate(data, rng, vocabulary), _arch_file, run_arch)


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


def surfaces_of(name: str, corpus: Path) -> dict:
    """{surface name: Surface} of `--surface name`, in round-robin order."""
    from fuzz_surfaces import surfaces

    return {s.name: s for s in surfaces(name, arch_surface(corpus))}


# ---- workers -----------------------------------------------------------------------------------

@dataclass
class Fed:
    """A surface ready to draw from: its seeds, their weights and its vocabulary."""

    surface: object
    seeds: list[bytes]
    weights: list[float]
    vocabulary: object

    def draw(self, rng: random.Random) -> bytes:
        return self.surface.mutate(rng.choices(self.seeds, self.weights)[0], rng, self.vocabulary, self.seeds,
                                   self.weights)


def prepare(surface, sandbox) -> Fed:
    """The surface's seeds (small ones drawn more often: weight 1/√size — a mutant of a 10 KB file costs ten
    times one of a 1 KB file, and most defects lie in what every file has, not in its size) and vocabulary;
    one seed run unmeasured, so that the libraries the surface imports are not timed as an input's work."""
    seeds = surface.seeds()
    fed = Fed(surface, seeds, [1 / max(len(s), 64) ** 0.5 for s in seeds], surface.vocabulary(seeds))
    with contextlib.suppress(Exception):        # only the imports matter here
        surface.run(sandbox.write(surface, seeds[-1]), sandbox)
    sandbox.clear()
    return fed


def worker(opts, engine: str) -> None:
    """Fuzz from input number --start until --runs or --seconds; findings go to raw/ as input + `.finding`."""
    from fuzz_surfaces import Sandbox

    raw = Path(opts.crashes) / "raw"
    sandbox = Sandbox(Path(opts.state) / f"w-{opts.worker}")
    os.chdir(sandbox.folder)
    counter = os.open(Path(opts.state) / f"count-{opts.worker}", os.O_WRONLY | os.O_CREAT)
    runs = 0
    surfaces = surfaces_of(opts.surface, Path(opts.corpus)).values()
    if engine == "atheris":
        import atheris

        with atheris.instrument_imports(include=["archcalc"]):     # the modules a surface's first run imports
            feds = [prepare(s, sandbox) for s in surfaces]
    else:
        feds = [prepare(s, sandbox) for s in surfaces]

    def one_input(fed: Fed, data: bytes) -> None:
        nonlocal runs
        finding = check(fed.surface, sandbox.write(fed.surface, data), sandbox)
        runs += 1
        os.pwrite(counter, b"%12d" % runs, 0)
        if finding:
            name = f"{fed.surface.name}-{hashlib.sha1(data).hexdigest()}"
            (raw / name).write_bytes(data)
            (raw / f"{name}.finding").write_text(json.dumps(finding))

    if engine == "atheris":
        _atheris(opts, feds[0], one_input, raw)
        return
    current = Path(opts.state) / f"current-{opts.worker}"
    deadline = time.monotonic() + opts.seconds
    index = opts.start
    # one generator per input number: a worker restarted after a hang goes on where it stopped
    while runs < opts.runs and time.monotonic() < deadline:
        fed = feds[index % len(feds)]
        data = fed.draw(random.Random(f"{opts.seed}:{opts.worker}:{index}"))
        current.write_bytes(fed.surface.name.encode() + b"\n" + data)
        faulthandler.dump_traceback_later(KILL_S, exit=True)
        one_input(fed, data)
        faulthandler.cancel_dump_traceback_later()
        index += 1


def _atheris(opts, fed: Fed, one_input, raw: Path) -> None:
    """A coverage-guided libFuzzer loop on the `arch` surface."""
    import atheris

    if fed.surface.name != "arch":
        raise SystemExit("atheris drives --surface arch only: give --engine random")

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        mutant = fed.surface.mutate(data, rng, fed.vocabulary, fed.seeds, fed.weights) if rng.random() < 0.75 else b""
        return mutant if 0 < len(mutant) <= max_size else atheris.Mutate(data, max_size)

    folders = [str(f) for f in seed_folders(Path(opts.corpus))]
    atheris.Setup([sys.argv[0], *folders, f"-runs={opts.runs}", f"-max_total_time={opts.seconds}",
                   f"-timeout={KILL_S}", "-rss_limit_mb=3072", "-max_len=262144", f"-artifact_prefix={raw}/arch-",
                   "-print_final_stats=1"], lambda data: one_input(fed, data), custom_mutator=custom_mutator)
    atheris.Fuzz()


# ---- replay: re-run one input in a fresh process, locating hangs -------------------------------

def replay_server(opts) -> None:
    """Read `surface path-of-the-data` lines on stdin, answer each with its finding as one JSON line. A hang
    is cut at KILL_S of wall time by faulthandler, which prints where it was and exits (the parent reads
    the stack)."""
    from fuzz_surfaces import Sandbox

    sandbox = Sandbox(Path.cwd())
    os.chdir(sandbox.folder)
    feds = {}
    for line in sys.stdin:
        name, data_path = line.rstrip("\n").split(" ", 1)
        if name not in feds:
            feds[name] = prepare(surfaces_of(name, Path(opts.corpus))[name], sandbox)
        surface = feds[name].surface
        faulthandler.dump_traceback_later(KILL_S, exit=True)
        finding = check(surface, sandbox.write(surface, Path(data_path).read_bytes()), sandbox)
        faulthandler.cancel_dump_traceback_later()
        if finding and finding["kind"] == "slow":
            finding = None if float(finding["detail"].split()[0]) < LIMIT_S + 0.5 else finding
        print(json.dumps(finding), flush=True)


class Replayer:
    """A replay_server subprocess, restarted after each hang."""

    def __init__(self, state: Path, corpus: Path):
        self.folder = state / "replay"
        self.folder.mkdir(exist_ok=True)
        self.corpus = corpus
        self.process = None

    def check(self, surface: str, data: bytes) -> dict | None:
        if self.process is None or self.process.poll() is not None:
            self.stderr = (self.folder / "stderr").open("w+")
            self.process = subprocess.Popen([sys.executable, __file__, "--replay", "--corpus", str(self.corpus)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                            text=True, cwd=self.folder)
        self.stderr.seek(0)
        self.stderr.truncate()
        path = self.folder / "data"
        path.write_bytes(data)
        self.process.stdin.write(f"{surface} {path}\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], LIMIT_S + 60)
        line = self.process.stdout.readline() if ready else ""
        if line:
            return json.loads(line)
        self.process.kill()
        self.process.wait()
        self.stderr.seek(0)
        stack = self.stderr.read()
        frames = [(f, int(n)) for f, n in _FRAME.findall(stack)][::-1]  # faulthandler: innermost first
        return {"kind": "slow", "key": f"{surface}: slow (at {_where(frames)})", "detail": stack[-4000:],
                "surface": surface}

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


def triage(crashes: Path, state: Path, corpus: Path, seconds_each: float) -> dict[str, dict]:
    """Replay every raw finding, group them by class, save the smallest of each minimised."""
    raw = crashes / "raw"
    inputs = sorted((p for p in raw.iterdir() if p.suffix != ".finding"), key=lambda p: p.stat().st_size)
    replayer = Replayer(state, corpus)
    classes: dict[str, dict] = {}
    tried: dict[str, int] = {}
    try:
        for path in inputs:
            note = raw / f"{path.name}.finding"
            surface = path.name.removeprefix("timeout-").split("-")[0]
            first = json.loads(note.read_text())["key"] if note.exists() else path.name.rsplit("-", 1)[0]
            tried[first] = tried.get(first, 0) + 1
            if tried[first] > 3:  # the smallest three of each class found by the workers
                continue
            data = path.read_bytes()
            finding = replayer.check(surface, data) or (json.loads(note.read_text()) if note.exists() else None)
            if finding is None:
                continue
            found = classes.setdefault(finding["key"], {**finding, "data": data, "count": 0, "surface": surface})
            found["count"] += 1
        for key, found in classes.items():
            def same(candidate: bytes, key=key, surface=found["surface"]) -> bool:
                result = replayer.check(surface, candidate)
                return result is not None and result["key"] == key

            small = minimise(found["data"], same, time.monotonic() + seconds_each)
            name = _slug(key)
            surface = surfaces_of(found["surface"], corpus)[found["surface"]]
            suffix = ".manifest.json" if surface.name == "folders" else "".join(Path(surface.file_name(small)).suffixes)
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


def per_surface(names: list[str], done: list[int]) -> dict[str, int]:
    """Inputs run per surface: each worker's input number n went to surface n mod len(names)."""
    return {name: sum(-(-(count - k) // len(names)) for count in done if count > k) for k, name in enumerate(names)}


def fuzz(opts) -> int:
    engine = opts.engine or _engine()
    corpus, crashes = Path(opts.corpus).resolve(), Path(opts.crashes).resolve()
    corpus.mkdir(parents=True, exist_ok=True)
    (crashes / "raw").mkdir(parents=True, exist_ok=True)
    names = ["arch"] if opts.surface == "arch" else ALL_NEW if opts.surface == "all" else [opts.surface]
    # the inputs' folders are made and removed for every input: in memory where there is a tmpfs
    state = Path(tempfile.mkdtemp(prefix="archcalc-fuzz-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None))
    share = [opts.runs // opts.jobs + (j < opts.runs % opts.jobs) for j in range(opts.jobs)]
    done = [0] * opts.jobs
    start = time.monotonic()
    deadline = start + opts.seconds

    def spawn(j: int):
        command = [sys.executable, __file__, "--worker", str(j), "--state", str(state), "--engine", engine,
                   "--surface", opts.surface, "--seed", str(opts.seed), "--start", str(done[j]),
                   "--corpus", str(corpus), "--crashes", str(crashes),
                   "--runs", str(share[j] - done[j]), "--seconds", str(max(1, int(deadline - time.monotonic())))]
        log = (state / f"log-{j}").open("a")
        return subprocess.Popen(command, stdout=log, stderr=log)

    def running() -> list[int]:
        counts = []
        for j in range(opts.jobs):
            count = state / f"count-{j}"
            counts.append(done[j] + (int(count.read_bytes() or 0) if j in workers and count.exists() else 0))
        return counts

    workers = {j: spawn(j) for j in range(opts.jobs)}
    shown = time.monotonic()
    try:
        while workers:
            time.sleep(0.2)
            if opts.progress and time.monotonic() - shown >= opts.progress:
                shown = time.monotonic()
                total = sum(running())
                found = len(list((crashes / "raw").glob("*.finding"))) + len(list((crashes / "raw").glob("timeout-*")))
                print(f"{time.strftime('%H:%M:%S')} {total} inputs, {shown - start:.0f} s, "
                      f"{total / (shown - start):.1f}/s, raw findings {found}", flush=True)
            for j, process in list(workers.items()):
                if process.poll() is None:
                    continue
                count = state / f"count-{j}"
                done[j] += int(count.read_bytes() or 0) if count.exists() else 0
                count.unlink(missing_ok=True)
                current = state / f"current-{j}"
                if process.returncode != 0 and not current.exists():    # failed before its first input
                    raise SystemExit(f"worker {j} failed:\n" + (state / f"log-{j}").read_text()[-4000:])
                if process.returncode != 0:  # stopped on an input (hang, memory, signal)
                    done[j] += 1
                    if current.exists():
                        surface, data = current.read_bytes().split(b"\n", 1)
                        (crashes / "raw" / f"timeout-{surface.decode()}-{hashlib.sha1(data).hexdigest()}"
                         ).write_bytes(data)
                        current.unlink()
                if process.returncode != 0 and done[j] < share[j] and time.monotonic() < deadline - 1:
                    workers[j] = spawn(j)
                else:
                    del workers[j]
    finally:
        for process in workers.values():
            process.kill()
    elapsed = time.monotonic() - start
    total = sum(done)
    print(f"engine {engine}, {opts.jobs} job(s), seed {opts.seed}: {total} inputs in {elapsed:.0f} s "
          f"({total / elapsed:.1f} inputs/s)")
    print("per surface: " + ", ".join(f"{name} {count}" for name, count in per_surface(names, done).items()))
    classes = triage(crashes, state, corpus, opts.minimise_seconds)
    shutil.rmtree(state, ignore_errors=True)
    for kind, title in (("crash", "crashes"), ("message", "bad messages"), ("slow", "slow inputs"),
                        ("memory", "memory-hungry inputs"), ("canary", "canary breaches"),
                        ("roundtrip", "imported files that do not load back"), ("overwrite", "overwritten sheets")):
        found = {k: c for k, c in classes.items() if c["kind"] == kind}
        print(f"{title}: {len(found)}")
        for key, finding in sorted(found.items()):
            print(f"  {key}: {finding['file']}")
            print("    " + "\n    ".join(finding["detail"].strip().splitlines()[-6:]))
    return 1 if classes else 0


ALL_NEW = ["onnx", "keras", "sheets", "folders"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--surface", default="arch", choices=["arch", *ALL_NEW, "all"],
                        help="what is fed (default arch; all: onnx, keras, sheets and folders in turn)")
    parser.add_argument("--runs", type=int, default=10**6, help="inputs in all (default 10⁶)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--seconds", type=int, default=3600, help="wall-time limit (default 3600)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random engine (default 0)")
    parser.add_argument("--progress", type=float, default=0, help="print the count every this many seconds")
    parser.add_argument("--corpus", default="fuzz/corpus", help="kept inputs (default fuzz/corpus)")
    parser.add_argument("--crashes", default="fuzz/crashes", help="findings (default fuzz/crashes)")
    parser.add_argument("--minimise-seconds", type=float, default=30, help="per finding class (default 30)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=["atheris", "random"], help="default: atheris where installed")
    parser.add_argument("--replay", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.replay:
        replay_server(opts)
        return 0
    if opts.worker is not None:
        worker(opts, opts.engine)
        return 0
    return fuzz(opts)


if __name__ == "__main__":
    sys.exit(main())
