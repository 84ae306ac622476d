"""The linter configured in pyproject.toml passes: no unused names, sorted imports, no line over 120 characters,
and the tree is formatted as `ruff format` writes it."""

import subprocess
import sys

from conftest import ROOT


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_passes():
    r = _ruff("check", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_tree_is_formatted():
    r = _ruff("format", "--check", ".")
    assert r.returncode == 0, r.stdout + r.stderr
