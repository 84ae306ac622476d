"""Shared fixtures: paths to the seeds and a helper to write scenario files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture
def write_toml(tmp_path: Path):
    """Write TOML text to a file in a temporary folder and return its path."""

    def _write(text: str, name: str = "whatif.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
