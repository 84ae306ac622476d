"""One year of the referral model against queueing theory (Erlang C, Little's law, Jackson networks),
calibration to Qingcheng's 2020 figures, and the block engine against the pure-SimPy model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from referral_networks import busy_network, network
from referral_reference import SimPyReferralSimulation

from scenarios.inputs.referral import network_from_scenario
from scenarios.loader import load
from sim.referral.experiment import kpis, simulate, t95
from sim.referral.simulation import ReferralSimulation
from sim.referral.station import Station


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
    for key, (arrivals, c) in (("wait_primary_mean_days", (lam, 2)), ("wait_hospital_mean_days", (lam * p, 1))):
        x = res.runs[key].to_numpy()
        lo, hi = _ci(x)
        expected = erlang_c_wait(arrivals, 1.0, c)
        assert lo <= expected <= hi, (key, lo, expected, hi)
    ratio = res.runs["up_referrals"] / res.runs["visits_primary"]
    assert ratio.mean() == pytest.approx(p, abs=0.01)


def test_littles_law_holds_on_bed_occupancy():
    # every patient goes to hospital outpatient (fast, many servers) and is admitted
    lam, beds, los = 4.0, 40, 6.0  # offered load 24 beds
    net = network(
        lam,
        1,
        50,
        beds,
        primary_first_share=0.0,
        p_admit_hospital=1.0,
        alos_hospital=los,
        consult_days=0.01,
        los_cv=0.8,
    )
    sim = ReferralSimulation(net, seed=3, warmup_days=100, days=3000)
    run = sim.run()
    L = run.busy_beds["hospital"]  # time-average occupied beds
    lam_obs = run.admissions_started["hospital"] / run.days
    W = run.mean_los["hospital"]
    assert L == pytest.approx(lam_obs * W, rel=0.02)
    assert L == pytest.approx(lam * los, rel=0.05)
    assert run.occupancy["hospital"] == pytest.approx(L / beds)


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
    for k in (
        "episodes",
        "visits_primary",
        "visits_hospital",
        "up_referrals",
        "admissions_hospital",
        "admissions_primary",
        "down_referrals",
        "leakage",
        "wait_primary_mean_days",
        "wait_primary_p95_days",
        "wait_hospital_mean_days",
        "wait_hospital_p95_days",
        "bed_wait_mean_days",
        "occupancy_hospital",
        "occupancy_primary",
    ):
        a, b = np.array([r[k] for r in block]), np.array([r[k] for r in simpy_])
        # 4 standard errors: about 1 in 1000 per KPI by chance with 18 degrees of freedom
        assert _compare(a, b) < 4, (k, a.mean(), b.mean())
