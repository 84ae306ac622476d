"""Files are safe, run folders are one result, errors print fast (issue 21, items 2, 4 and 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_an_error_prints_without_importing_the_engines(tmp_path):
    """A bad scenario is reported without importing Dask, Pyomo, SimPy or pandas (it takes well under a second)."""
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\n', encoding="utf-8")
    code = ("import sys; sys.argv = ['healthsim', 'validate', sys.argv[1]]\n"
            "import cli\n"
            "try:\n    cli.main()\nexcept SystemExit as e:\n"
            "    heavy = sorted(m for m in ('dask', 'pyomo', 'simpy', 'highspy', 'pandas') if m in sys.modules)\n"
            "    print('exit', e.code, 'heavy', heavy)\n")
    out = subprocess.run([sys.executable, "-c", code, str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "base_year: missing" in out.stderr
    assert out.stdout.strip() == "exit 2 heavy []", out.stdout + out.stderr
