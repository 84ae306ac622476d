"""Output files: checked and locked before computing, written atomically (nothing half-written, no
temporary file left), and a plan folder read back only when it matches the scenario."""

from __future__ import annotations

import errno
import json
import os

import pandas as pd
import pytest

from optimize.solve import solve
from scenarios.files import (
    LOCK_NAME,
    OutputError,
    atomic_write,
    check_writable_dir,
    output_lock,
    read_plan_capacities,
    write_plan,
)
from scenarios.loader import load
from scenarios.run.plan import problem_for


@pytest.fixture(scope="module")
def renhe_plan(tmp_path_factory):
    s = load("renhe")
    folder = tmp_path_factory.mktemp("plan")
    write_plan(solve(problem_for(s)), folder, s, "medium")
    return s, folder


def test_plan_folder_round_trip(renhe_plan):
    s, folder = renhe_plan
    manifest = json.loads((folder / "plan.json").read_text())
    assert manifest["scenario"] == "renhe" and manifest["region"] == s.region.name
    caps = read_plan_capacities(folder, s)
    assert sorted(caps) == list(range(s.base_year, s.target_year + 1))
    assert caps[2025]["hospital"]["beds"] > 0


def test_a_plan_of_another_region_is_refused(renhe_plan):
    _, folder = renhe_plan
    with pytest.raises(OutputError, match="region: the plan is for Renhe .* expected a plan of scenario 'conghua'"):
        read_plan_capacities(folder, load("conghua"))


def test_a_what_if_of_the_same_region_may_use_the_plan(renhe_plan, write_toml):
    _, folder = renhe_plan
    whatif = load(write_toml('extend = "renhe"\nid = "renhe_more_births"\n'))
    assert read_plan_capacities(folder, whatif)


def test_atomic_write_failure_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old, whole\n")

    def full_disk(p):
        p.write_text("half a ta")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match="table.csv: writing failed \\(No space left on device\\)"):
        atomic_write(target, full_disk)
    assert target.read_text() == "old, whole\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_atomic_write_cleans_up_after_any_error(tmp_path):
    with pytest.raises(KeyError):
        atomic_write(tmp_path / "x.json", lambda p: (p.write_text("{"), {}["boom"]))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folders_are_found_before_computing(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="is a file; expected a folder"):
        check_writable_dir(tmp_path / "afile")
    with pytest.raises(OutputError, match="cannot write into this folder"):
        check_writable_dir(tmp_path / "afile" / "sub")
    assert check_writable_dir(tmp_path / "new" / "deep").is_dir()


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    with output_lock(tmp_path / "out") as out:
        with pytest.raises(OutputError, match="another healthsim run is writing into this folder"):
            with output_lock(out):
                pass
        assert (out / LOCK_NAME).exists()
    with output_lock(tmp_path / "out"):  # released: the next run goes ahead
        pass


def test_the_lock_clears_temporary_files_of_a_killed_run(tmp_path):
    (tmp_path / "jobs" / "a").mkdir(parents=True)
    stale = tmp_path / "jobs" / "a" / ".tmp-123-summary.json"
    stale.write_text("{")
    with output_lock(tmp_path):
        assert not stale.exists()


@pytest.mark.slow
def test_two_processes_into_one_out_one_is_refused(tmp_path):
    """A second real run into the --out of a run under way is refused at once; the first completes intact."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "out"
    first = subprocess.Popen(
        [sys.executable, str(root / "cli.py"), "run", "conghua", "--replications", "1", "--out", str(out)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not (out / LOCK_NAME).exists() and time.time() < deadline:
        time.sleep(0.05)
    second = subprocess.run(
        [sys.executable, str(root / "cli.py"), "optimize", "renhe", "--out", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.wait(timeout=600) == 0, first.stderr.read()[-2000:]
    assert first.poll() == 0
    assert second.returncode == 2 and "another healthsim run is writing into this folder" in second.stderr, (
        second.stderr
    )
    assert pd.read_csv(out / "stocks.csv")["region"].eq("conghua").all()  # not interleaved with renhe's
    assert not (out / "plan.json").read_text().count("renhe")
