"""Batch runs on local processes and on a Dask scheduler: 20+ scenarios, failures recorded, kill and resume,
identical results with 1 and 2 workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from scenarios.run.batch import BatchError, expand_jobs, find_scenarios, load_grid, ranking, run_batch

ROOT = Path(__file__).resolve().parents[3]


def _whatifs(folder: Path, n: int, bad: bool = True) -> Path:
    """n small what-if scenarios of Renhe (birth rate and budget vary), plus one broken file."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"renhe_w{i:02d}.toml").write_text(
            f'extend = "renhe"\nid = "renhe_w{i:02d}"\n'
            f'[population]\nbirth_rate = {{ value = {5.0 + 0.25 * i}, assumption = "what-if {i}" }}\n'
            f'[plan]\nmode = "max-attainment"\nbudget_total = '
            f'{{ value = {2.6e7 + 1.5e6 * i}, assumption = "what-if {i}" }}\n',
            encoding="utf-8",
        )
    if bad:
        (folder / "zz_broken.toml").write_text(
            'extend = "renhe"\n[population]\nbase = { value = -1, assumption = "x" }\n'
        )
    return folder


def _comparable(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=[c for c in ("plan",) if c in table]).reset_index(drop=True)


@pytest.mark.slow
def test_batch_of_twenty_scenarios_on_a_local_cluster(tmp_path):
    folder = _whatifs(tmp_path / "sc", 20)
    jobs = expand_jobs(find_scenarios(str(folder)), {})
    assert len(jobs) == 21
    table = run_batch(jobs, tmp_path / "out", workers=2)
    assert (table["status"] == "ok").sum() == 20
    broken = table[table["status"] == "error"].iloc[0]
    assert broken["scenario"] == "zz_broken" and "population.base.value" in broken["error"]
    # ranking: attainment descending, then cost
    ok = table[table["status"] == "ok"]
    assert ok["attainment_score"].is_monotonic_decreasing
    assert ok["attainment_score"].nunique() > 5  # budgets below the least cost: attainment differs
    for _, same in ok.groupby("attainment_score"):
        assert same["total_cost_cny"].is_monotonic_increasing  # ties broken by cost
    for job in jobs[:20]:
        summary = json.loads((tmp_path / "out" / "jobs" / job.job_id / "summary.json").read_text())
        assert summary["scenario"] == job.scenario
    assert (tmp_path / "out" / "ranking.csv").exists()
    # the birth rate (5.0 .. 9.75 per 1,000 by file) moves Renhe's cohort projection: a higher rate, more residents
    pop = ok.set_index("scenario")["population_target_year"].sort_index()
    assert pop.is_monotonic_increasing and pop.nunique() == 20, pop


@pytest.mark.slow
def test_identical_results_with_one_and_two_workers(tmp_path):
    folder = _whatifs(tmp_path / "sc", 6, bad=False)
    grid = tmp_path / "grid.toml"
    grid.write_text('[axes]\nvariant = ["low", "high"]\n')
    jobs = expand_jobs(find_scenarios(str(folder)), load_grid(grid))
    one = run_batch(jobs, tmp_path / "one", workers=1, simulate=True, seed=7)
    two = run_batch(jobs, tmp_path / "two", workers=2, simulate=True, seed=7)
    pd.testing.assert_frame_equal(_comparable(one), _comparable(two))
    for job in jobs:
        a = json.loads((tmp_path / "one" / "jobs" / job.job_id / "summary.json").read_text())
        b = json.loads((tmp_path / "two" / "jobs" / job.job_id / "summary.json").read_text())
        for d in (a, b):
            d.pop("seconds")
        assert a == b


@pytest.mark.slow
def test_kill_and_resume_loses_nothing_finished(tmp_path):
    folder = _whatifs(tmp_path / "sc", 24, bad=False)
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        str(ROOT / "cli.py"),
        "batch",
        str(folder),
        "--workers",
        "2",
        "--simulate",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    jobs_dir = out / "jobs"
    deadline = time.time() + 240
    while time.time() < deadline:
        done = list(jobs_dir.glob("*/summary.json")) if jobs_dir.exists() else []
        if len(done) >= 4:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in jobs_dir.glob("*/summary.json")}
    assert 4 <= len(finished) < 24, len(finished)
    for p in jobs_dir.glob("*/summary.json"):
        json.loads(p.read_text())  # every written result is whole (atomic writes)
    result = subprocess.run(cmd + ["--resume"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list(jobs_dir.glob("*/summary.json"))) == 24
    assert not list(out.rglob(".tmp-*"))  # a temporary file the kill left behind is cleared by the next run
    for job_id, mtime in finished.items():  # finished results were skipped, not recomputed
        assert (jobs_dir / job_id / "summary.json").stat().st_mtime_ns == mtime
    ranking = pd.read_csv(out / "ranking.csv")
    assert (ranking["status"] == "ok").all() and len(ranking) == 24


def test_grid_and_scenario_errors_are_clear(tmp_path):
    with pytest.raises(BatchError, match="no scenario files found"):
        find_scenarios(str(tmp_path / "nowhere"))
    bad = tmp_path / "grid.toml"
    bad.write_text("[axes]\nbudget = [-5]\n")
    with pytest.raises(BatchError, match="axes.budget: expected amounts of CNY >= 0"):
        load_grid(bad)
    bad.write_text("[axes]\nvariant = []\n")
    with pytest.raises(BatchError, match="axes.variant: expected a non-empty list"):
        load_grid(bad)
    bad.write_text("[axis]\nvariant = ['low']\n")
    with pytest.raises(BatchError, match="expected a non-empty \\[axes\\] table"):
        load_grid(bad)


def test_grids_are_never_loaded_as_scenarios(tmp_path):
    folder = _whatifs(tmp_path / "sc", 2, bad=False)
    (folder / "grid.toml").write_text('[axes]\nvariant = ["low", "high"]\n')
    refs = find_scenarios(str(folder))
    assert [Path(r).name for r in refs] == ["renhe_w00.toml", "renhe_w01.toml"]
    assert find_scenarios(str(folder / "*.toml")) == refs
    with pytest.raises(BatchError, match="is a grid .* pass it with --grid"):
        find_scenarios(str(folder / "grid.toml"))


def test_readme_example_expands_to_valid_jobs():
    """The README's batch example: grids skipped, every job validated on the client before any cluster."""
    refs = find_scenarios(str(ROOT / "scenarios/builtin/examples"))
    grid = ROOT / "scenarios/builtin/grids/example.toml"
    jobs = expand_jobs(refs, load_grid(grid), grid)
    assert len(jobs) == len(refs) * 4 * 3 * 2 and all(j.error is None for j in jobs)


@pytest.mark.parametrize(
    "axis, values, message",
    [
        ("constraints.max_additions_share.nurse", [0.2], "unknown key 'nurse'"),
        ("population.bas", [1], "population.bas: unknown field; allowed here: base"),
        ("referral.alliances.0", [1], "has no fields to set"),
        ("budget", [float("inf")], "expected a finite number"),
        ("budget", [True], "expected amounts of CNY >= 0"),
        ("variant", [3], "names of population variants in quotes"),
    ],
)
def test_grid_fields_are_checked_before_anything_runs(tmp_path, axis, values, message):
    grid = tmp_path / "grid.toml"
    grid.write_text(f'[axes]\n"{axis}" = [{", ".join(str(v).lower() for v in values)}]\n')
    with pytest.raises(BatchError, match=message):
        expand_jobs(["renhe"], load_grid(grid), grid)


def test_grid_values_that_break_a_scenario_are_one_error(tmp_path):
    with pytest.raises(BatchError, match="attrition=0.9: renhe: constraints.attrition.nurses.value: 0.9 is outside"):
        expand_jobs(["renhe"], {"constraints.attrition.nurses": [0.02, 0.9]}, "g.toml")
    with pytest.raises(BatchError, match="no variant 'mid'"):
        expand_jobs(["renhe"], {"variant": ["mid"]}, "g.toml")


def test_unreachable_scheduler_is_one_line_within_seconds(tmp_path):
    jobs = expand_jobs(["renhe"], {})
    t0 = time.perf_counter()
    with pytest.raises(BatchError, match="cannot reach a Dask scheduler") as err:
        run_batch(jobs, tmp_path / "out", scheduler="tcp://127.0.0.1:1")
    assert time.perf_counter() - t0 < 15 and "\n" not in str(err.value)


def test_a_damaged_result_is_not_taken_as_done(tmp_path):
    jobs = expand_jobs(["renhe"], {})
    out = tmp_path / "out"
    table = run_batch(jobs, out, workers=1)
    summary = out / "jobs" / jobs[0].job_id / "summary.json"
    summary.write_text(summary.read_text()[:40])  # cut short, as by a full disk outside healthsim
    assert ranking(jobs, out)["status"].tolist() == ["error"]
    assert "unreadable or incomplete" in ranking(jobs, out)["error"][0]
    again = run_batch(jobs, out, workers=1, resume=True)  # rerun, not skipped
    assert again["status"].tolist() == ["ok"] and json.loads(summary.read_text())["scenario"] == "renhe"
    assert table.drop(columns="plan").equals(again.drop(columns="plan"))


def test_grid_override_of_a_quantity_is_labelled_as_an_assumption():
    jobs = expand_jobs(["renhe"], {"constraints.max_additions_share.nurses": [0.3]})
    q = jobs[0].data["constraints"]["max_additions_share"]["nurses"]
    assert q == {"value": 0.3, "assumption": "batch grid: constraints.max_additions_share.nurses = 0.3"}
    assert jobs[0].label == "max_additions_share=0.3"


@pytest.mark.slow
def test_runs_on_an_existing_scheduler(tmp_path):
    import logging

    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        jobs = expand_jobs(["renhe", "xiangqiao"], {})
        table = run_batch(jobs, tmp_path / "out", scheduler=cluster.scheduler_address)
        assert (table["status"] == "ok").all() and len(table) == 2
        assert len(cluster.scheduler.workers) == 1  # the cluster is still there, unchanged


def test_jobs_keep_their_plan_and_other_targets_are_not_ranked(tmp_path, write_toml):
    """A what-if that changes a target answers another question: it is marked, not ranked against the base."""
    lower = write_toml(
        'extend = "renhe"\nid = "renhe_fewer_physicians"\n[resources.physicians]\n'
        'target = { expr = "2.0", nature = "expected", assumption = "what-if: a lower target" }\n'
    )
    jobs = expand_jobs(["renhe", str(lower)], {})
    table = run_batch(jobs, tmp_path / "out", workers=1)
    for job in jobs:
        folder = tmp_path / "out" / "jobs" / job.job_id
        adds, costs = pd.read_csv(folder / "additions.csv"), pd.read_csv(folder / "costs.csv")
        assert {"year", "kind", "tier", "added"} <= set(adds.columns) and "total_cny" in costs.columns
    marked = table[table["scenario"] == "renhe_fewer_physicians"].iloc[0]
    assert pd.isna(marked["rank"]) and not marked["comparable"]
    assert "physicians" in marked["targets_differ"] and "-> 2.0" in marked["targets_differ"]
    base = table.iloc[0]  # a tie in numbers: the first scenario's targets are the base
    assert base["scenario"] == "renhe" and base["rank"] == 1 and base["targets_differ"] == ""
    assert (
        marked["attainment_score"] == 1.0 and marked["total_cost_cny"] <= base["total_cost_cny"]
    )  # cheaper, yet listed after
