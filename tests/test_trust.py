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
    code = (
        "import sys; sys.argv = ['healthsim', 'validate', sys.argv[1]]\n"
        "import cli\n"
        "try:\n    cli.main()\nexcept SystemExit as e:\n"
        "    heavy = sorted(m for m in ('dask', 'pyomo', 'simpy', 'highspy', 'pandas') if m in sys.modules)\n"
        "    print('exit', e.code, 'heavy', heavy)\n"
    )
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


# -- item 5: inputs accepted that were reported unclearly ---------------------------------------------------


def test_a_byte_order_mark_is_accepted(tmp_path):
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b'\xef\xbb\xbfextend = "renhe"\n')
    r = _cli("validate", bom)
    assert r.exit_code == 0 and "scenario 'bom'" in r.output, r.output


def test_a_grid_axis_on_a_target_expr_keeps_the_target(tmp_path):
    from scenarios.run.batch import expand_jobs, load_grid

    grid = tmp_path / "g.toml"
    grid.write_text('[axes]\n"resources.nurses.target.expr" = ["5.0", "6.0"]\n', encoding="utf-8")
    jobs = expand_jobs(["conghua"], load_grid(grid), grid)
    from scenarios.loader import load_raw

    before = load_raw("conghua")[0]["resources"]["nurses"]["target"]
    assert [j.data["resources"]["nurses"]["target"]["expr"] for j in jobs] == ["5.0", "6.0"]
    assert all(j.data["resources"]["nurses"]["target"]["nature"] == before["nature"] for j in jobs)


def test_comparing_a_scenario_with_itself_says_so(tmp_path):
    r = _cli("compare", "renhe", "renhe", "--no-simulate", "--out", tmp_path / "c")
    assert r.exit_code == 0 and "No input field differs between renhe, renhe (2)" in r.output, r.output


# -- item 4: a run folder is one consistent result -----------------------------------------------------------


def test_a_narrower_rerun_leaves_no_file_of_the_wider_one_and_files_honour_the_umask(tmp_path):
    import json
    import os

    out = tmp_path / "run"
    old = os.umask(0o022)
    try:
        first = _cli("run", "renhe", "--out", out, "--replications", "1")
        assert first.exit_code == 0, first.output
        assert (out / "referral_runs.csv").exists()
        again = _cli("run", "renhe", "--out", out, "--no-simulate")
        assert again.exit_code == 0, again.output
    finally:
        os.umask(old)
    manifest = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    on_disk = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert manifest["complete"] is True and sorted(manifest["files"]) == on_disk
    assert not [n for n in on_disk if n.startswith(("referral_", "tiered_care", "replan"))]
    import pandas as pd

    assert all(manifest["rows"][n] == len(pd.read_csv(out / n)) for n in on_disk if n.endswith(".csv"))
    assert {oct((out / n).stat().st_mode & 0o777) for n in on_disk} == {"0o644"}


def test_a_run_stopped_while_writing_leaves_the_previous_result_whole(tmp_path, monkeypatch):
    import scenarios.report.html as html

    out = tmp_path / "plan"
    assert _cli("optimize", "renhe", "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}
    out2 = tmp_path / "run"
    assert _cli("run", "renhe", "--out", out2, "--no-simulate").exit_code == 0
    before2 = {p.name: p.read_bytes() for p in out2.iterdir() if p.is_file() and not p.name.startswith(".")}

    called = []

    def stopped(*_a, **_k):
        called.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(html, "write_report", stopped)  # Ctrl-C while the last file is written
    r = _cli("run", "renhe", "--out", out2, "--no-simulate", "--budget", "5e8")
    assert called and r.exit_code != 0  # stopped while writing the last file (click reports the Ctrl-C)
    after2 = {p.name: p.read_bytes() for p in out2.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert after2 == before2 and not list(out2.glob(".tmp-*"))
    assert before  # the plan folder is untouched by another folder's failure
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")} == before


def test_a_swap_stopped_half_way_is_refused_when_read(tmp_path, monkeypatch):
    import os

    import scenarios.files as files

    out = tmp_path / "plan"
    assert _cli("optimize", "renhe", "--out", out).exit_code == 0
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst) if Path(dst).parent == out else None  # a file moved from the staging folder into out
        if len(calls) == 3:  # the third file of the new plan: the disk is pulled
            raise OSError(5, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    r = _cli("optimize", "renhe", "--out", out, "--budget", "9e8")
    assert r.exit_code == 2 and "its plan.json says the folder is incomplete" in r.output, r.output
    monkeypatch.setattr(files.os, "replace", real)
    r = _cli("simulate", "renhe", "--plan", out, "--replications", "1", "--flows-only")
    assert r.exit_code == 2 and "complete: false" in r.output, r.output
