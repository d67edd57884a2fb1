"""The shipped architectures: YAML files of the package `archcalc.architectures` (the repository's
`architectures/`), found by name."""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
from pathlib import Path

from .errors import SpecError, suggestion

_SUFFIXES = (".yaml", ".yml", ".json")


@cache
def zoo_dir() -> Path:
    """The folder of the package `archcalc.architectures` (found without importing `importlib.resources`,
    which a repeated `archcalc table` would wait for)."""
    spec = find_spec("archcalc.architectures")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if locations and Path(locations[0]).is_dir():
        return Path(locations[0])
    from importlib import resources

    return Path(str(resources.files("archcalc.architectures")))


def names() -> list[str]:
    """Every zoo name, sorted; files starting with `_` are shared family definitions."""
    return sorted(p.stem for p in zoo_dir().iterdir()
                  if p.suffix in _SUFFIXES and not p.stem.startswith("_"))


def _is_file(path: Path) -> bool:
    """Whether `path` is an existing file; False, not an OSError, for a name the system refuses
    (too long, or holding characters it cannot encode)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def find(name_or_path: str, relative_to: Path | None = None) -> Path:
    """A path to an existing file, or the zoo file of that name; SpecError with a suggestion."""
    candidate = Path(name_or_path)
    if relative_to is not None and not candidate.is_absolute():
        local = relative_to / candidate
        if _is_file(local):
            return local
    if candidate.suffix in _SUFFIXES or "/" in name_or_path or "\\" in name_or_path:
        if _is_file(candidate):
            return candidate
        if candidate.suffix in _SUFFIXES and _is_file(zoo_dir() / candidate.name):
            return zoo_dir() / candidate.name
        raise SpecError(f"no such file: {name_or_path}")
    for suffix in _SUFFIXES:
        path = zoo_dir() / f"{name_or_path}{suffix}"
        if _is_file(path):
            return path
    if _is_file(candidate):
        return candidate
    known = names() + [p.stem for p in zoo_dir().glob("_*.yaml")]
    hint = suggestion(name_or_path, known, count=3)
    raise SpecError(f"{name_or_path!r} is neither a file nor a zoo architecture{hint}; "
                    "`archcalc list` shows the zoo")
