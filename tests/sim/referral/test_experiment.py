"""Experiments: reproducible with a seed, the same runs on 1 and 2 workers and on a Dask scheduler, 95% CIs,
flows-only KPIs reported as not simulated, and the simulate command."""

from __future__ import annotations

import math

import pandas as pd
from click.testing import CliRunner
from referral_networks import busy_network, network

from cli import main
from scenarios.inputs.referral import network_from_scenario
from scenarios.loader import load
from sim.referral.experiment import full_consult_fits, simulate


def test_reproducible_with_a_seed_and_different_across_seeds():
    net = network(2.0, 3)
    a = simulate([net], replications=2, seed=5, days=200).runs
    b = simulate([net], replications=2, seed=5, days=200).runs
    c = simulate([net], replications=2, seed=6, days=200).runs
    assert a.equals(b)
    assert not a.equals(c)


def test_summary_has_confidence_intervals():
    res = simulate([network(2.0, 3)], replications=4, seed=1, days=300)
    summ = res.summary().set_index("kpi")
    row = summ.loc["wait_primary_mean_days"]
    assert row["ci95_low"] < row["mean"] < row["ci95_high"]


def test_one_and_two_workers_give_identical_runs():
    nets = [network(2.0, 3), busy_network()]
    calls = []
    one = simulate(nets, replications=2, seed=4, days=150, progress=lambda: calls.append(1))
    two = simulate(nets, replications=2, seed=4, days=150, workers=2, progress=lambda: calls.append(2))
    assert calls == [1] * 4 + [2] * 4
    assert list(one.runs["replication"]) == [1, 2, 1, 2]
    pd.testing.assert_frame_equal(one.runs, two.runs)


def test_runs_on_a_dask_scheduler_are_the_runs_of_one_process():
    import logging

    from dask.distributed import LocalCluster

    nets = [network(2.0, 3), busy_network()]
    here = simulate(nets, replications=2, seed=4, days=150)
    calls = []
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        there = simulate(
            nets,
            replications=2,
            seed=4,
            days=150,
            scheduler=cluster.scheduler_address,
            progress=lambda: calls.append(1),
        )
    assert len(calls) == 4
    pd.testing.assert_frame_equal(here.runs, there.runs)


def test_public_names_come_from_the_package_and_load_on_first_use():
    import subprocess
    import sys

    import sim.referral as package
    from sim.referral.simulation import ReferralSimulation

    assert package.ReferralSimulation is ReferralSimulation and package.simulate is simulate
    code = "import sys, sim.referral as r; r.DEFAULT_SEED; print(sorted({'numpy', 'simpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # the CLI reads the seed at start-up without loading the engines


def test_full_consult_fits_small_regions_not_a_city_pipeline():
    qingcheng, guangzhou = network_from_scenario(load("qingcheng")), network_from_scenario(load("guangzhou"))
    assert full_consult_fits([qingcheng] * 5, replications=3, seconds=90, workers=2)
    assert full_consult_fits([guangzhou], replications=1, seconds=90)
    assert not full_consult_fits([guangzhou] * 5, replications=3, seconds=90, workers=2)


def test_flows_only_waits_are_not_simulated_never_zero():
    res = simulate([busy_network()], replications=2, seed=1, days=200, flows_only=True)
    for k in ("wait_primary_mean_days", "wait_primary_p95_days", "wait_hospital_mean_days", "wait_hospital_p95_days"):
        assert res.runs[k].isna().all(), k
    summ = res.summary().set_index("kpi")
    assert not summ.loc["wait_primary_mean_days", "simulated"]
    assert math.isnan(summ.loc["wait_primary_mean_days", "mean"])
    assert summ.loc["bed_wait_mean_days", "simulated"] and summ.loc["bed_wait_mean_days", "mean"] > 0
    full = simulate([busy_network()], replications=2, seed=1, days=200)
    assert full.summary()["simulated"].all() and (full.runs["wait_primary_mean_days"] > 0).all()


def test_cli_simulate_with_an_optimizer_plan(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["optimize", "renhe", "--out", str(tmp_path / "plan")])
    assert r.exit_code == 0, r.output
    sim = runner.invoke(
        main,
        [
            "simulate",
            "renhe",
            "--plan",
            str(tmp_path / "plan"),
            "--years",
            "2021-2022",
            "--replications",
            "2",
            "--flows-only",
            "--out",
            str(tmp_path / "sim"),
        ],
    )
    assert sim.exit_code == 0, sim.output
    assert "in-area care rate" in sim.output
    runs = (tmp_path / "sim" / "runs.csv").read_text().splitlines()
    assert len(runs) == 1 + 2 * 2
    bad = runner.invoke(main, ["simulate", "renhe", "--years", "soon"])
    assert bad.exit_code == 2 and "expected a range like 2021-2025" in bad.output
