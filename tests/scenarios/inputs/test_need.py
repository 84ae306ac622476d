"""Need from demand: the bed formula against queueing theory (Erlang loss, occupancy), ageing, basis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenarios.inputs.need import (
    age_factor,
    beds_needed,
    demand_by_year,
    need_floors,
    need_table,
    older_relative_rate,
    staff_needed,
)
from scenarios.loader import load
from scenarios.run.plan import problem_for
from scenarios.run.projection import project
from sim.referral.experiment import simulate, t95
from sim.referral.network import AllianceNode, FlowRates, ReferralNetwork

BUILTINS = ["conghua", "xiangqiao", "qingcheng", "renhe", "guangzhou"]


def erlang_b(c: int, a: float) -> float:
    """Erlang loss probability B(c, a) by the stable recursion B(k) = a B(k-1) / (k + a B(k-1))."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def ward(lam: float, beds: int, alos: float, bed_wait_tolerance: float) -> ReferralNetwork:
    """Every arrival is admitted to hospital after an instant outpatient consult (many servers)."""
    rates = FlowRates(
        primary_first_share=0.0,
        p_up=0.0,
        p_admit_primary=0.0,
        p_admit_hospital=1.0,
        p_down=0.0,
        consult_days=1e-4,
        alos_hospital=alos,
        alos_primary=5.0,
        recovery=5.0,
        los_cv=0.8,
        wait_tolerance=math.inf,
        bed_wait_tolerance=bed_wait_tolerance,
        congestion_wait=1.0,
        congestion_uplift=1.0,
        severe_share=0.0,
        severe_multiplier=1.0,
    )
    node = AllianceNode("a", "lead", lam, 1, 1, 200, beds, 1)
    return ReferralNetwork(year=2025, population=1.0, alliances=(node,), rates=rates, clinic_days_share=1.0)


def _ci(x: np.ndarray) -> tuple[float, float]:
    half = t95(len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean() - half, x.mean() + half


def test_beds_sized_by_the_formula_run_at_the_stated_occupancy():
    """Admissions x stay / (365 x 85%) beds; patients wait for a bed (M/G/c): occupancy = offered load / beds."""
    admissions, alos, occ = 7300.0, 8.0, 0.85  # 20 a day
    beds = round(beds_needed(admissions, alos, occ))
    assert beds == 188
    res = simulate([ward(admissions / 365, beds, alos, math.inf)], replications=8, seed=10, warmup_days=100, days=1500)
    lo, hi = _ci(res.runs["occupancy_hospital"].to_numpy())
    expected = admissions / 365 * alos / beds  # 0.851 with the rounded bed count
    assert lo <= expected <= hi, (lo, expected, hi)
    assert abs(res.runs["occupancy_hospital"].mean() - occ) < 0.01


def test_formula_sized_ward_without_waiting_matches_erlang_loss():
    """No waiting for a bed (M/G/c/c): carried load = offered x (1 - Erlang B), insensitive to the stay's shape."""
    admissions, alos, occ = 3650.0, 6.0, 0.85  # 10 a day, offered load 60 beds
    beds = round(beds_needed(admissions, alos, occ))
    a = admissions / 365 * alos
    blocked = erlang_b(beds, a)
    res = simulate([ward(admissions / 365, beds, alos, 1e-9)], replications=8, seed=4, warmup_days=100, days=1500)
    lo, hi = _ci(res.runs["occupancy_hospital"].to_numpy())
    expected = a * (1 - blocked) / beds
    assert lo <= expected <= hi, (lo, expected, hi)
    lost = (res.runs["leakage"] / (res.runs["leakage"] + res.runs["admissions_hospital"])).to_numpy()
    lo, hi = _ci(lost)
    assert lo <= blocked <= hi, (lo, blocked, hi)


def test_wisn_staff_need_is_minutes_over_available_time():
    assert staff_needed([(9600.0, 20.0), (960.0, 100.0)], 96_000.0) == pytest.approx(3.0)


def test_older_residents_use_more_and_the_mix_reproduces_the_survey_average():
    ratio, share = 24.9 / 13.8, 0.135  # NHSS 2018 older adults / all ages; 65+ share
    r = older_relative_rate(ratio, share)
    under65 = 1.0 / ((1 - share) + share * r)  # relative to the all-ages average
    assert under65 * r == pytest.approx(ratio)  # 65+ rate / all-ages rate as surveyed
    assert age_factor(0.20, 0.10, ratio, share) > 1.0 > age_factor(0.05, 0.10, ratio, share)
    with pytest.raises(ValueError, match="impossible"):
        older_relative_rate(10.0, 0.2)


@pytest.mark.parametrize("name", BUILTINS)
def test_ageing_raises_use_per_resident_year_by_year(name):
    s = load(name)
    d = demand_by_year(s, project(s))
    for col in ("visits_per_capita", "admissions_per_capita"):
        assert (np.diff(d[col].to_numpy()) > 0).all(), col
    assert d["admissions_per_capita"].iloc[0] == pytest.approx(s.referral.admissions_per_capita.value)
    need = need_table(s, project(s))
    beds = need[need["kind"] == "beds"].groupby("year")["need"].sum()
    per_resident = beds / d.set_index("year")["population"]
    if s.demand.alos_hospital_target_days is None:  # a shorter stay (Renhe, Guangzhou) can outrun ageing
        assert (np.diff(per_resident.to_numpy()) > 0).all()


def test_need_basis_plans_to_need_floors_without_targets():
    s = load("qingcheng")
    need_p = problem_for(s, basis="need")
    assert need_p.targets == () and len(need_p.floors) == len(need_floors(need_table(s, project(s)), 2025))
    both = problem_for(s, basis="both")
    assert both.targets == problem_for(s).targets and both.floors == need_p.floors
    assert problem_for(s).floors == ()
    assert {(f.kind, f.tier) for f in need_p.floors} >= {("beds", "hospital"), ("beds", "primary"), ("gps", "primary")}
