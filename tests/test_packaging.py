"""The wheel: every package and every zoo file of `architectures/` inside it, found after a plain
(not editable) install into a fresh virtual environment."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "architectures"
ZOO_SUFFIXES = (".yaml", ".yml", ".json")


def _zoo_files() -> list[str]:
    return sorted(p.name for p in ZOO.iterdir() if p.suffix in ZOO_SUFFIXES)


def test_every_package_is_listed_in_pyproject():
    """The package list is explicit (a mapped package is not discovered): a new sub-package must be
    added to it, and a removed one taken out."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "archcalc").rglob("__init__.py")}
    assert set(config["packages"]) == found | {"archcalc.architectures"}
    assert config["package-dir"] == {"archcalc.architectures": "architectures"}


def test_the_zoo_is_found_through_the_package():
    from archcalc import zoo

    assert zoo.zoo_dir().resolve() == ZOO.resolve()
    assert len(_zoo_files()) > 50


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a clean copy of the sources (no stale build/ folder can leak in)."""
    pytest.importorskip("setuptools")
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("archcalc", "architectures"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(out), str(source)], check=True, capture_output=True)
    (built,) = out.glob("archcalc-*.whl")
    return built


def test_the_wheel_holds_every_zoo_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in _zoo_files() if f"archcalc/architectures/{f}" not in names]
    assert not missing
    assert not any(n.startswith("architectures/") for n in names)


def test_a_plain_install_of_the_wheel_finds_the_zoo(wheel, tmp_path):
    """Installed without its dependencies into a bare virtual environment: the zoo module needs none."""
    env = tmp_path / "env"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True)
    script = "from archcalc import zoo; print(zoo.zoo_dir()); print(*zoo.names())"
    result = subprocess.run([str(python), "-c", script], check=True, capture_output=True, text=True,
                            cwd=tmp_path)
    where, listed = result.stdout.splitlines()
    assert Path(where).is_relative_to(env)
    expected = sorted({Path(f).stem for f in _zoo_files() if not f.startswith("_")})
    assert listed.split() == expected
