"""The surfaces tools/fuzz.py feeds: for each, its seeds, mutator, input file and the archcalc path it runs.

- `arch`: architecture files through load, analysis and the analysis as JSON (`archcalc table FILE
  --format json`).
- `onnx`, `keras`: models through the import path (`archcalc import FILE`: `import_model`, the YAML
  writer, `loadable`), the written file then loaded back from disk and analysed.
- `sheets`: one answer sheet graded against lenet5 (`archcalc check lenet5 FILE`), in every output format.
- `folders`: a folder of sheets and odd entries graded as a class (`archcalc check lenet5 FOLDER
  --gradebook … --feedback …`), the gradebook and feedback written outside the folder or, for some
  inputs, the feedback into the folder itself.

Every input runs in a `Sandbox`: the input's folder, an output folder, and beside them the canary secret
and the trap path. `run` returns the texts the input produced; `Sandbox.breaches` says whether the trap
was created, the secret was opened (an audit hook sees every `open`) or appears in any text or written
file, or a sheet of the folder was overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import fuzz_hostile


class Finding(Exception):  # noqa: N818 - it is what it is called in the harness's report
    """Something an input did that no input may do, besides raising: `kind` and a short `key`."""

    def __init__(self, kind: str, key: str, detail: str = ""):
        super().__init__(key)
        self.kind, self.key, self.detail = kind, key, detail


@dataclass
class Surface:
    name: str
    seeds: Callable[[], list[bytes]]
    vocabulary: Callable[[list[bytes]], object]
    mutate: Callable       # (data, rng, vocabulary, seeds, weights) -> bytes
    file_name: Callable[[bytes], str]
    run: Callable          # (path, sandbox) -> list[str]


class Sandbox:
    """`root/in` (the input's folder, the working directory), `root/out`, the canary secret `root/secret.txt`
    and the trap `root/executed.txt`."""

    _opened: list[str] = []
    _watched: set[str] = set()

    def __init__(self, root: Path):
        self.root = root
        self.folder, self.out = root / "in", root / "out"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.secret_path = root / fuzz_hostile.SECRET
        self.secret = "FUZZ-CANARY-" + os.urandom(8).hex()
        self.secret_path.write_text(self.secret + "\n")
        self.trap = root / fuzz_hostile.TRAP
        Sandbox._watched.update({os.path.realpath(self.secret_path), "/etc/passwd"})
        if not getattr(Sandbox, "_hooked", False):
            sys.addaudithook(Sandbox._audit)
            Sandbox._hooked = True
        self.sheets: dict[Path, bytes] = {}

    @staticmethod
    def _audit(event: str, args) -> None:
        if event != "open" or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        try:
            real = os.path.realpath(os.fsdecode(args[0]))
        except (OSError, ValueError, TypeError):
            return
        if real in Sandbox._watched:
            Sandbox._opened.append(real)

    def write(self, surface: Surface, data: bytes) -> Path:
        """The input `data` as the file (or folder) `surface` reads, in the input's folder."""
        self.clear()
        path = self.folder / surface.file_name(data)
        if surface.name == "folders":
            from fuzz_sheets import materialise

            self.manifest, self.sheets = materialise(data, path, self.secret_path)
        else:
            path.write_bytes(data)
        Sandbox._opened.clear()             # what the harness opened to make the input
        return path

    def clear(self) -> None:
        """Empty the input's folder and the output folder (kept: the input's folder is the working directory)."""
        for folder in (self.folder, self.out):
            folder.mkdir(exist_ok=True)
            for path in folder.iterdir():
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink()
        self.trap.unlink(missing_ok=True)
        Sandbox._opened.clear()
        self.sheets = {}

    def breaches(self, texts: list[str]) -> Finding | None:
        """What the input did that no input may: ran code, read the secret, overwrote a sheet."""
        if self.trap.exists():
            return Finding("canary", "canary file created (code ran)", self.trap.read_text(errors="replace")[:200])
        if Sandbox._opened:
            return Finding("canary", "canary secret opened", ", ".join(sorted(set(Sandbox._opened))))
        for text in texts:
            if self.secret in text:
                return Finding("canary", "canary secret in an output", text[:2000])
        for path in self.out.rglob("*"):
            if path.is_file() and not path.is_symlink() and self.secret.encode() in path.read_bytes():
                return Finding("canary", "canary secret in a written file", path.name)
        for path, data in self.sheets.items():
            if path.is_file() and not path.is_symlink() and path.read_bytes() != data:
                return Finding("overwrite", "a sheet of the folder overwritten", path.name)
        return None


# ---- the paths each surface runs ----------------------------------------------------------------

def run_arch(path: Path, sandbox: Sandbox) -> list[str]:
    """What `archcalc table FILE --format json` does: load, analyse, stream the analysis as JSON."""
    import archcalc
    from archcalc.report.formats.json_ import analysis

    return ["".join(analysis(archcalc.analyze(archcalc.load(str(path)))))]


def run_import(path: Path, sandbox: Sandbox) -> list[str]:
    """What `archcalc import FILE -o OUT` does, then `archcalc validate OUT`: the written file must load back."""
    import archcalc
    from archcalc.errors import ArchcalcError
    from archcalc.interop import import_model
    from archcalc.interop.yaml_writer import dump, loadable

    text = loadable(dump(import_model(path.name)), path.name)
    written = sandbox.out / "imported.yaml"
    written.write_text(text, encoding="utf-8")
    try:
        archcalc.analyze(archcalc.load(str(written)))
    except ArchcalcError as error:
        raise Finding("roundtrip", f"written file does not load back ({type(error).__name__})", str(error)) from None
    return [text]


def run_sheet(path: Path, sandbox: Sandbox) -> list[str]:
    """What `archcalc check lenet5 FILE` does, in each output format."""
    from fuzz_sheets import ARCH

    import archcalc

    grade = archcalc.check(ARCH, path.name)
    return [grade.to_text(), grade.to_text(brief=True), grade.to_markdown(), json.dumps(grade.to_dict()),
            grade._repr_html_(), *grade.warnings]


def run_folder(path: Path, sandbox: Sandbox) -> list[str]:
    """What `archcalc check lenet5 FOLDER --gradebook OUT/grades.csv --feedback OUT/feedback` does."""
    from fuzz_sheets import ARCH

    from archcalc.grading import check_many

    book = check_many(ARCH, path.name)
    gradebook = sandbox.out / "grades.csv"
    book.write_csv(gradebook)
    inside = isinstance(sandbox.manifest, dict) and sandbox.manifest.get("feedback_inside") is True
    warnings: list[str] = []
    book.write_feedback(path if inside else sandbox.out / "feedback", keep=[gradebook], warn=warnings.append)
    texts = [book.to_text(), book.to_markdown(), json.dumps(book.to_dict()), book.to_csv("canvas"), *warnings]
    texts += [w for entry in book.entries for w in (entry.grade.warnings if entry.grade else ())]
    if inside:
        texts += [p.read_text(errors="replace") for p in path.iterdir() if p.suffix == ".md" and p.is_file()
                  and not p.is_symlink() and p not in sandbox.sheets]
    return texts


# ---- the surfaces --------------------------------------------------------------------------------

def _onnx() -> Surface:
    import fuzz_onnx

    return Surface("onnx", fuzz_onnx.seeds, fuzz_onnx.vocabulary,
                   lambda data, rng, vocabulary, seeds, weights: fuzz_onnx.mutate(data, rng, vocabulary),
                   lambda data: "model.onnx.gz" if data[:2] == b"\x1f\x8b" else "model.onnx", run_import)


def _keras() -> Surface:
    import fuzz_keras

    def name(data: bytes) -> str:
        return "model.json.gz" if data[:2] == b"\x1f\x8b" else "model.keras" if data[:2] == b"PK" else "model.json"

    return Surface("keras", fuzz_keras.seeds, fuzz_keras.vocabulary,
                   lambda data, rng, vocabulary, seeds, weights: fuzz_keras.mutate(data, rng, vocabulary), name,
                   run_import)


def _sheets() -> Surface:
    import fuzz_sheets

    return Surface("sheets", fuzz_sheets.seeds, fuzz_sheets.vocabulary,
                   lambda data, rng, vocabulary, seeds, weights: fuzz_sheets.mutate(data, rng, vocabulary),
                   lambda data: "sheet" + fuzz_sheets.suffix(data), run_sheet)


def _folders() -> Surface:
    import fuzz_sheets

    return Surface("folders", fuzz_sheets.seeds, fuzz_sheets.vocabulary,
                   lambda data, rng, vocabulary, seeds, weights: fuzz_sheets.mutate_folder(seeds, weights, rng,
                                                                                           vocabulary),
                   lambda data: "class", run_folder)


MAKERS = {"onnx": _onnx, "keras": _keras, "sheets": _sheets, "folders": _folders}
ALL = list(MAKERS)


def surfaces(name: str, arch: Surface) -> list[Surface]:
    """The surfaces `--surface name` feeds, in round-robin order (`all`: every one but `arch`)."""
    if name == "arch":
        return [arch]
    return [MAKERS[n]() for n in (ALL if name == "all" else [name])]
