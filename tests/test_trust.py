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


# -- item 2: files are safe ---------------------------------------------------------------------------------

def _cli(*argv: str):
    from click.testing import CliRunner

    from cli import main

    return CliRunner().invoke(main, [str(a) for a in argv])


def test_whatif_never_replaces_its_base_or_a_file_it_extends(tmp_path):
    base = tmp_path / "x.toml"
    assert _cli("whatif", "renhe", "--set", "population.birth_rate=8", "--out", base).exit_code == 0
    child = tmp_path / "child.toml"
    assert _cli("whatif", base, "--set", "population.birth_rate=9", "--out", child).exit_code == 0
    before = base.read_bytes(), child.read_bytes()
    for out, ref in ((base, base), (base, child), (child, child)):  # itself, or a file its chain extends
        for force in ((), ("--force",)):
            r = _cli("whatif", ref, "--set", "population.birth_rate=7", "--out", out, *force)
            assert r.exit_code == 2 and "saving there would make it extend itself" in r.output, r.output
    assert (base.read_bytes(), child.read_bytes()) == before
    assert _cli("validate", child).exit_code == 0


def test_whatif_never_replaces_a_builtin_or_a_file_it_did_not_write_without_force(tmp_path):
    from scenarios.loader import BUILTIN_DIR

    renhe = BUILTIN_DIR / "renhe.toml"
    text = renhe.read_bytes()
    r = _cli("whatif", "conghua", "--out", renhe)
    assert r.exit_code == 2 and "is inside the built-in scenarios" in r.output
    r = _cli("whatif", "conghua", "--out", BUILTIN_DIR / "new_one.toml")
    assert r.exit_code == 2 and not (BUILTIN_DIR / "new_one.toml").exists()
    assert renhe.read_bytes() == text
    mine = tmp_path / "mine.toml"
    mine.write_text("# my notes\n", encoding="utf-8")
    r = _cli("whatif", "renhe", "--out", mine)
    assert r.exit_code == 2 and "not a what-if written by healthsim" in r.output
    assert mine.read_text(encoding="utf-8") == "# my notes\n"
    assert _cli("whatif", "renhe", "--out", mine, "--force").exit_code == 0
    assert _cli("validate", mine).exit_code == 0
    again = _cli("whatif", "renhe", "--set", "population.birth_rate=8", "--out", mine)  # its own what-if: replaced
    assert again.exit_code == 0, again.output


def test_ids_are_names(tmp_path):
    for bad in ("../../../ESCAPED", "", "/abs", "a b", "a.b"):
        r = _cli("whatif", "renhe", "--id", bad, "--out", tmp_path / "w.toml")
        assert r.exit_code == 2 and "--id" in r.output and "expected a name" in r.output, r.output
        case = tmp_path / "case.toml"
        case.write_text(f'extend = "renhe"\nid = "{bad}"\n', encoding="utf-8")
        r = _cli("validate", case)
        assert r.exit_code == 2 and "id: expected a name of letters" in r.output, r.output
    assert not list(tmp_path.rglob("w.toml"))
    case.write_text('extend = "renhe"\nid = "仁和_2030-b"\n', encoding="utf-8")
    assert _cli("validate", case).exit_code == 0
    odd = tmp_path / "my plan.v2.toml"  # an id taken from a file name is made a name
    odd.write_text('extend = "renhe"\n', encoding="utf-8")
    r = _cli("validate", odd)
    assert r.exit_code == 0 and "scenario 'my_plan_v2'" in r.output, r.output


def test_a_batch_job_folder_never_leaves_out(tmp_path):
    case = tmp_path / "in" / "case.toml"
    case.parent.mkdir()
    case.write_text('extend = "renhe"\nid = "../../../ESCAPED"\n', encoding="utf-8")
    out = tmp_path / "a" / "b" / "out"
    r = _cli("batch", case, "--out", out)
    assert r.exit_code == 1 and "id: expected a name" in " ".join(r.output.split()), r.output
    errors = list(out.rglob("error.json"))
    assert len(errors) == 1 and errors[0].parent.parent == out / "jobs"
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(out) and p != case]
    assert not outside


def test_inside_refuses_paths_out_of_the_folder(tmp_path):
    import pytest

    from scenarios.files import OutputError, inside

    assert inside(tmp_path, "a.toml") == tmp_path / "a.toml"
    (tmp_path / "link").symlink_to("/tmp")
    for bad in ("..", "../a.toml", "/etc/passwd", "x/../../a", "", "link/a.toml"):
        with pytest.raises(OutputError, match="leads out of|empty"):
            inside(tmp_path, bad)
