"""Shared fixtures: paths to the seeds, a helper to write scenario files, and ``require`` for tests that need
something from the machine (Chromium, the CJK font, the seed files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The seed plans sit in ``shared/seeds`` beside the checkout; HEALTHSIM_SEEDS names another folder (a worktree).
SEEDS = Path(os.environ.get("HEALTHSIM_SEEDS") or ROOT.parent / "shared" / "seeds")


def in_ci() -> bool:
    """True when the environment variable CI is ``true`` or ``1`` (set by ``.ci/run`` and CI services)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def require(condition: object, reason: str) -> None:
    """Go on if ``condition`` holds; otherwise skip the test with ``reason``, or fail it under CI=true, where
    ``.ci/run`` has installed what the tests need and a skip would hide that a check did not run."""
    __tracebackhide__ = True  # the skip is reported at the test's line, not here
    if condition:
        return
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def write_toml(tmp_path: Path):
    """Write TOML text to a file in a temporary folder and return its path."""

    def _write(text: str, name: str = "whatif.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
