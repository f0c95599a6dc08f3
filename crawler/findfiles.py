"""Finding a command's input files: each path a file as given or a directory searched recursively, each file once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path


def find_files(paths: Iterable, wanted: Callable[[Path], bool], missing: str) -> tuple[list[Path], list[Path]]:
    """The files at `paths`, each once in a stable order (the paths in order, a directory's `wanted` files sorted),
    and the directories that held none. FileNotFoundError(`missing` with `{path}` filled) for a path that does not
    exist."""
    found: list[Path] = []
    seen: set[Path] = set()
    empty: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            files = sorted(p for p in entry.rglob("*") if p.is_file() and wanted(p))
            if not files:
                empty.append(entry)
        elif entry.is_file():
            files = [entry]
        else:
            raise FileNotFoundError(missing.format(path=entry))
        for path in files:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found, empty
