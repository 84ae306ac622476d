"""Atomic file writes: a reader never sees half a file, and a killed run leaves none behind."""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a temporary sibling (same suffix), then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")  # same suffix, so writers that check it are content
    write(tmp)
    tmp.replace(path)
    return path
