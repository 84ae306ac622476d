"""Referral simulation against queueing theory (Erlang C, Little's law, Jackson networks),
calibration to Qingcheng's 2020 figures, reproducibility and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from referral_reference import SimPyReferralSimulation

from cli import main
from scenarios.inputs.referral import network_from_scenario
from scenarios.loader import ScenarioError, load
from sim.referral.experiment import full_consult_fits, kpis, simulate, t95
from sim.referral.model import ReferralSimulation, Station, WaitSample
from sim.referral.network import AllianceNode, FlowRates, NetworkError, ReferralNetwork


def rates(**over) -> FlowRates:
    base = dict(primary_first_share=1.0, p_up=0.0, p_admit_primary=0.0, p_admit_hospital=0.0, p_down=0.0,
                consult_days=1.0, alos_hospital=5.0, alos_primary=5.0, recovery=5.0, los_cv=1.0,
                wait_tolerance=math.inf, bed_wait_tolerance=math.inf, congestion_wait=1.0, congestion_uplift=1.0,
                severe_share=0.0, severe_multiplier=1.0)
    base.update(over)
    return FlowRates(**base)


def network(lam: float, primary_servers: int, hospital_servers: int = 1, beds: int = 1, **over) -> ReferralNetwork:
    node = AllianceNode("a", "lead", lam, 1, primary_servers, hospital_servers, beds, 1)
    return ReferralNetwork(year=2020, population=1.0, alliances=(node,), rates=rates(**over), clinic_days_share=1.0)


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def _ci(x: np.ndarray) -> tuple[float, float]:
    half = t95(len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean() - half, x.mean() + half


def test_single_station_matches_erlang_c():
    lam, mu, c = 2.4, 1.0, 3  # rho = 0.8
    expected = erlang_c_wait(lam, mu, c)
    res = simulate([network(lam, c)], replications=12, seed=7, warmup_days=200, days=4000)
    waits = res.runs["wait_primary_mean_days"].to_numpy()
    lo, hi = _ci(waits)
    assert lo <= expected <= hi, (lo, expected, hi)
    assert abs(waits.mean() - expected) / expected < 0.08


def test_two_station_network_matches_jackson():
    # primary M/M/2 (mu 1) feeds hospital M/M/1 (mu 1) with probability p: hospital sees Poisson(lam p).
    lam, p = 1.5, 0.5
    net = network(lam, 2, 1, p_up=p)
    res = simulate([net], replications=12, seed=11, warmup_days=200, days=4000)
    for key, (l, c) in (("wait_primary_mean_days", (lam, 2)), ("wait_hospital_mean_days", (lam * p, 1))):
        x = res.runs[key].to_numpy()
        lo, hi = _ci(x)
        expected = erlang_c_wait(l, 1.0, c)
        assert lo <= expected <= hi, (key, lo, expected, hi)
    ratio = res.runs["up_referrals"] / res.runs["visits_primary"]
    assert ratio.mean() == pytest.approx(p, abs=0.01)


def test_littles_law_holds_on_bed_occupancy():
    # every patient goes to hospital outpatient (fast, many servers) and is admitted
    lam, beds, los = 4.0, 40, 6.0  # offered load 24 beds
    net = network(lam, 1, 50, beds, primary_first_share=0.0, p_admit_hospital=1.0, alos_hospital=los,
                  consult_days=0.01, los_cv=0.8)
    sim = ReferralSimulation(net, seed=3, warmup_days=100, days=3000)
    run = sim.run()
    L = run.busy_beds["hospital"]  # time-average occupied beds
    lam_obs = run.admissions_started["hospital"] / run.days
    W = run.mean_los["hospital"]
    assert L == pytest.approx(lam_obs * W, rel=0.02)
    assert L == pytest.approx(lam * los, rel=0.05)
    assert run.occupancy["hospital"] == pytest.approx(L / beds)


def test_reproducible_with_a_seed_and_different_across_seeds():
    net = network(2.0, 3)
    a = simulate([net], replications=2, seed=5, days=200).runs
    b = simulate([net], replications=2, seed=5, days=200).runs
    c = simulate([net], replications=2, seed=6, days=200).runs
    assert a.equals(b)
    assert not a.equals(c)


def test_impatient_patients_leak_when_capacity_is_short():
    net = network(5.0, 2, wait_tolerance=0.5)  # offered load 5 on 2 servers
    run = ReferralSimulation(net, 1, 50, 500).run()
    c = run.counters
    assert c.leaked_wait > 0.4 * c.episodes
    assert (run.waits["primary_consult"].values() <= 0.5 + 1e-12).all()


@pytest.mark.slow
def test_qingcheng_baseline_reproduces_2020_figures():
    s = load("qingcheng")
    res = simulate([network_from_scenario(s)], replications=1, seed=2020)
    k = res.runs.iloc[0]
    assert k["visits_total"] == pytest.approx(3_890_000, rel=0.05)  # 002_10740625b364617c.txt:34
    assert k["discharges"] == pytest.approx(93_843, rel=0.05)  # 002_10740625b364617c.txt:34
    assert k["primary_share"] == pytest.approx(0.78, rel=0.05)  # 34% + 44%, 002_10740625b364617c.txt:36
    assert 1 - k["primary_share"] == pytest.approx(0.22, rel=0.05)  # 11% + 11%


def test_qingcheng_referrals_reproduce_the_yearly_mean_of_2016_2020():
    """The seed prints referrals only as 2016-2020 totals (002_10740625b364617c.txt:49), so the benchmark is
    the yearly mean; one replication varies by about 3% (Poisson noise on ~600 events), the mean of five
    is held to the README's 5%. Flows-only mode simulates every referral path."""
    s = load("qingcheng")
    summ = simulate([network_from_scenario(s)], replications=5, seed=2020, flows_only=True).summary()
    k = summ.set_index("kpi")["mean"]
    assert k["up_referrals"] == pytest.approx(2908 / 5, rel=0.05)
    assert k["down_referrals"] == pytest.approx(7072 / 5, rel=0.05)


def test_flows_only_mode_agrees_with_the_full_model():
    s = load("qingcheng")
    net = network_from_scenario(s, population=s.population.base.value)
    flows = simulate([net], replications=3, seed=1, flows_only=True).summary().set_index("kpi")["mean"]
    assert flows["visits_total"] == pytest.approx(3_890_000, rel=0.02)
    assert flows["discharges"] == pytest.approx(93_843, rel=0.03)
    assert flows["primary_share"] == pytest.approx(0.78, rel=0.01)


def test_summary_has_confidence_intervals():
    res = simulate([network(2.0, 3)], replications=4, seed=1, days=300)
    summ = res.summary().set_index("kpi")
    row = summ.loc["wait_primary_mean_days"]
    assert row["ci95_low"] < row["mean"] < row["ci95_high"]


# -- the block engine: exact FCFS, like the pure-SimPy model, parallel runs ----------------------


def busy_network(**over) -> ReferralNetwork:
    """Two congested clinics feeding a congested outpatient clinic and wards; every path is used."""
    r = dict(primary_first_share=0.6, p_up=0.1, p_admit_primary=0.05, p_admit_hospital=0.3, p_down=0.3,
             wait_tolerance=2.0, bed_wait_tolerance=1.0, congestion_wait=0.5, congestion_uplift=1.5,
             severe_share=0.2, severe_multiplier=2.0)
    r.update(over)
    node = AllianceNode("a", "lead", 8.0, 2, 6, 5, 7, 4)  # 3 servers per clinic, 5 at outpatient
    return ReferralNetwork(year=2020, population=1.0, alliances=(node,), rates=rates(**r), clinic_days_share=1.0)


@pytest.mark.parametrize("servers, tolerance", [(1, math.inf), (3, 0.4), (12, 0.0), (40, 1.0)])
def test_block_booking_is_the_one_by_one_recursion(servers, tolerance):
    rng = np.random.default_rng(servers)
    n = 20_000
    times = np.sort(rng.uniform(0, n / (0.95 * servers), n))
    service = rng.exponential(1.0, n)
    block, single = Station("b", servers, 10.0, 1e9), Station("s", servers, 10.0, 1e9)
    waits = np.concatenate([block.book_block(times[:7000], service[:7000], tolerance),
                            block.book_block(times[7000:], service[7000:], tolerance)])
    one = [single.book(t, s, tolerance) for t, s in zip(times.tolist(), service.tolist())]
    assert np.array_equal(waits, np.array([np.nan if w is None else w for w in one]), equal_nan=True)
    assert sorted(block.free) == sorted(single.free)
    assert np.array_equal(block.waits.positive, single.waits.positive) and block.waits.zeros == single.waits.zeros


@pytest.mark.parametrize("zeros, positive", [(0, 1), (5, 0), (1, 1), (95, 5), (94, 6), (1000, 37), (3, 500)])
def test_wait_sample_percentiles_and_mean_are_those_of_all_waits(zeros, positive):
    sample = WaitSample(zeros, np.random.default_rng(positive).exponential(1.0, positive))
    every = sample.values()
    for q in (0, 50, 90, 95, 99, 100):
        assert sample.percentile(q) == pytest.approx(np.percentile(every, q), rel=1e-12, abs=1e-15)
    assert sample.mean() == pytest.approx(every.mean())
    assert math.isnan(WaitSample(0, np.empty(0)).percentile(95)) and math.isnan(WaitSample(0, np.empty(0)).mean())


def test_every_station_sees_its_patients_in_time_order(monkeypatch):
    seen: dict[str, list[float]] = {}
    book, book_block = Station.book, Station.book_block

    def spy(self, now, service, tolerance):
        seen.setdefault(self.name, []).append(now)
        return book(self, now, service, tolerance)

    def spy_block(self, times, services, tolerance):
        seen.setdefault(self.name, []).extend(times.tolist())
        return book_block(self, times, services, tolerance)

    monkeypatch.setattr(Station, "book", spy)
    monkeypatch.setattr(Station, "book_block", spy_block)
    run = ReferralSimulation(busy_network(), 3, warmup_days=20, days=300, block_arrivals=200).run()
    c = run.counters
    assert min(c.up_referrals, c.down_referrals, c.admissions_primary, c.leaked_wait, c.leaked_bed) > 0
    assert {"a/clinic0", "a/clinic1", "a/outpatient", "a/beds", "a/primary-beds"} <= set(seen)
    for name, times in seen.items():
        assert all(a <= b for a, b in zip(times, times[1:])), name


def _compare(a: np.ndarray, b: np.ndarray) -> float:
    """|difference of means| in standard errors of the difference."""
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return abs(a.mean() - b.mean()) / se if se > 0 else (0.0 if a.mean() == b.mean() else math.inf)


def test_block_engine_agrees_with_the_pure_simpy_model():
    net, reps = busy_network(), 10
    seeds = np.random.SeedSequence(99).generate_state(2 * reps)
    block = [kpis(ReferralSimulation(net, int(s), 100, 1500).run()) for s in seeds[:reps]]
    simpy_ = [kpis(SimPyReferralSimulation(net, int(s), 100, 1500).run()) for s in seeds[reps:]]
    for k in ("episodes", "visits_primary", "visits_hospital", "up_referrals", "admissions_hospital",
              "admissions_primary", "down_referrals", "leakage", "wait_primary_mean_days", "wait_primary_p95_days",
              "wait_hospital_mean_days", "wait_hospital_p95_days", "bed_wait_mean_days", "occupancy_hospital",
              "occupancy_primary"):
        a, b = np.array([r[k] for r in block]), np.array([r[k] for r in simpy_])
        # 4 standard errors: about 1 in 1000 per KPI by chance with 18 degrees of freedom
        assert _compare(a, b) < 4, (k, a.mean(), b.mean())


def test_one_and_two_workers_give_identical_runs():
    nets = [network(2.0, 3), busy_network()]
    calls = []
    one = simulate(nets, replications=2, seed=4, days=150, progress=lambda: calls.append(1))
    two = simulate(nets, replications=2, seed=4, days=150, workers=2, progress=lambda: calls.append(2))
    assert calls == [1] * 4 + [2] * 4
    assert list(one.runs["replication"]) == [1, 2, 1, 2]
    pd.testing.assert_frame_equal(one.runs, two.runs)


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
    assert not summ.loc["wait_primary_mean_days", "simulated"] and math.isnan(summ.loc["wait_primary_mean_days", "mean"])
    assert summ.loc["bed_wait_mean_days", "simulated"] and summ.loc["bed_wait_mean_days", "mean"] > 0
    full = simulate([busy_network()], replications=2, seed=1, days=200)
    assert full.summary()["simulated"].all() and (full.runs["wait_primary_mean_days"] > 0).all()


# -- bad input ------------------------------------------------------------------------------


def test_zero_capacity_is_refused():
    node = AllianceNode("a", "lead", 10.0, 1, 0, 5, 10, 1)
    net = ReferralNetwork(2020, 1.0, (node,), rates())
    with pytest.raises(NetworkError, match="zero primary-care clinicians but patients arrive there"):
        net.check()
    s = load("renhe")
    with pytest.raises(NetworkError, match="zero hospital beds but patients are admitted"):
        network_from_scenario(s, capacities={"hospital": {"clinicians": 100, "beds": 0}, "primary": {"clinicians": 100, "beds": 50}})


def test_probabilities_out_of_range_are_refused(write_toml):
    with pytest.raises(NetworkError, match="p_up = 1.5: expected a probability within"):
        rates(p_up=1.5)
    path = write_toml('extend = "qingcheng"\n[referral]\np_down = { value = 1.2, assumption = "x" }\n')
    with pytest.raises(ScenarioError, match="referral.p_down.value: expected a value that is less than or equal to 1"):
        load(path)


def test_alliance_shares_must_sum_to_one(write_toml):
    path = write_toml('extend = "renhe"\n[referral]\nalliances = [ { name = "a", lead = "h", members = 3, '
                      'population_share = 0.6, assumption = "x" }, { name = "b", lead = "h", members = 2, '
                      'population_share = 0.6, assumption = "x" } ]\n')
    with pytest.raises(ScenarioError, match="population_share values sum to 1.2; expected them to sum to 1"):
        load(path)


def test_negative_rates_are_refused(write_toml):
    path = write_toml('extend = "renhe"\n[referral]\nvisits_per_capita = { value = -2, assumption = "x" }\n')
    with pytest.raises(ScenarioError, match="referral.visits_per_capita.value: expected a value that is greater than 0"):
        load(path)
    with pytest.raises(NetworkError, match="arrivals_per_day = -1"):
        AllianceNode("a", "h", -1.0, 1, 1, 1, 1, 1)


def test_cli_simulate_with_an_optimizer_plan(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["optimize", "renhe", "--out", str(tmp_path / "plan")])
    assert r.exit_code == 0, r.output
    sim = runner.invoke(main, ["simulate", "renhe", "--plan", str(tmp_path / "plan"), "--years", "2021-2022",
                               "--replications", "2", "--flows-only", "--out", str(tmp_path / "sim")])
    assert sim.exit_code == 0, sim.output
    assert "in-area care rate" in sim.output
    runs = (tmp_path / "sim" / "runs.csv").read_text().splitlines()
    assert len(runs) == 1 + 2 * 2
    bad = runner.invoke(main, ["simulate", "renhe", "--years", "soon"])
    assert bad.exit_code == 2 and "expected a range like 2021-2025" in bad.output
