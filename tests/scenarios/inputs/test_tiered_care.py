"""Tiered care (分级诊疗) responds to capacity: calibration points of the seeds and a what-if simulation."""

from __future__ import annotations

import math

import pytest

from scenarios.inputs.referral import capacities_from_scenario, tiered_care
from scenarios.loader import load
from scenarios.run.projection import project
from scenarios.run.simulation import SimulationRequest, simulate_scenario


def _with_primary(cap, factor: float):
    out = {t: dict(v) for t, v in cap.items()}
    out["primary"]["clinicians"] *= factor
    return out


def test_base_year_capacity_reproduces_each_seeds_primary_share():
    for name, share in (("conghua", 0.385), ("qingcheng", 0.78)):  # 000_...:80 (38.50%), 002_...:36 (34% + 44%)
        s = load(name)
        got, bypass = tiered_care(s, capacities_from_scenario(s), s.population.base.value)
        assert got == pytest.approx(share, abs=1e-12)
        assert bypass == pytest.approx(s.demand.bypass_share.value)


def test_conghua_with_qingchengs_physician_mix_reaches_qingchengs_share():
    """The elasticity is the two-point cross-section: Conghua's 30/70 primary/hospital split moved to
    Qingcheng's 60/40 (same total) gives Qingcheng's 78%."""
    s = load("conghua")
    base = capacities_from_scenario(s)
    total = base["primary"]["clinicians"] + base["hospital"]["clinicians"]
    mixed = {
        "primary": {**base["primary"], "clinicians": 0.6 * total},
        "hospital": {**base["hospital"], "clinicians": 0.4 * total},
    }
    share, _ = tiered_care(s, mixed, s.population.base.value)
    assert share == pytest.approx(0.78, abs=1e-3)


def test_a_quarter_more_primary_physicians_restores_conghuas_2019_share():
    """45.91% in 2019 (000_f481409494256020.txt:80) is within a point of the share 25% more
    primary-care physicians would carry at 2020 capacity otherwise."""
    s = load("conghua")
    share, _ = tiered_care(s, _with_primary(capacities_from_scenario(s), 1.25), s.population.base.value)
    assert share == pytest.approx(0.4591, abs=0.01)


def test_adding_primary_physicians_raises_the_simulated_primary_share_and_in_area_rate():
    s = load("conghua")
    proj = project(s)
    base = capacities_from_scenario(s)
    req = SimulationRequest([2025], replications=3, seed=21, flows_only=True)
    runs = {}
    for label, factor in (("base", 1.0), ("more", 1.5)):
        res, _ = simulate_scenario(s, req, proj, {2025: _with_primary(base, factor)})
        runs[label] = res.summary().set_index("kpi")
    b, m = runs["base"], runs["more"]
    assert m.loc["primary_share", "ci95_low"] > b.loc["primary_share", "ci95_high"]
    assert m.loc["in_area_rate", "ci95_low"] > b.loc["in_area_rate", "ci95_high"]
    # the simulated share follows the capacity response (ageing moves both equally)
    expected, _ = tiered_care(s, _with_primary(base, 1.5), proj.population(2025))
    assert m.loc["primary_share", "mean"] == pytest.approx(expected, abs=0.01)
    assert not math.isnan(b.loc["in_area_rate", "mean"]) and b.loc["in_area_rate", "mean"] < 0.91
