"""Plan -> simulate -> re-plan: fixed point, the iteration limit, overbuilding in words (a stand-in simulator)."""

from __future__ import annotations

import pytest

from scenarios.loader import load
from scenarios.report.words import overbuilt_words, replan_table, replan_words
from scenarios.run.plan import problem_for
from scenarios.run.replan import replan


def busy_beds_simulator(busy: dict[str, float], wait: float = 0.0):
    """Occupancy = a fixed number of busy beds / the plan's target-year beds (what a ward of that demand shows)."""
    calls = []

    def run(plan):
        st = plan.stocks
        beds = st[(st["year"] == st["year"].max()) & (st["kind"] == "beds")].groupby("tier")["stock"].sum()
        calls.append(dict(beds))
        return {
            "occupancy_hospital": min(1.0, busy["hospital"] / beds["hospital"]),
            "occupancy_primary": min(1.0, busy["primary"] / beds["primary"]),
            "bed_wait_p95_days": wait,
        }

    run.calls = calls
    return run


def test_crowded_beds_are_raised_to_the_planning_occupancy_at_a_fixed_point():
    s = load("renhe")  # the plan keeps Renhe's 2,124 beds (1,721 hospital, 404 primary)
    sim = busy_beds_simulator({"hospital": 1700.0, "primary": 300.0})  # hospital 99% full
    out = replan(s, problem_for(s), "min-cost", sim)
    assert out.converged and out.count == 2
    beds = sim.calls[-1]
    assert beds["hospital"] == pytest.approx(1700.0 / 0.85, rel=1e-6)  # busy / target occupancy 85%
    assert 1700.0 / beds["hospital"] <= 0.90
    table = replan_table(out.iterations)
    first = table[(table["iteration"] == 1) & (table["tier"] == "hospital")].iloc[0]
    assert first["action"].startswith("raise to 2,000 beds (occupancy 99% above 90%)")
    assert "fixed point after 2 iterations" in replan_words(out) and "inside the 60%-90% service band" in replan_words(
        out
    )
    assert out.outcome.plan.total_cost > 0 and not out.flags


def test_long_bed_waits_raise_hospital_beds_and_the_limit_stops_the_loop():
    s = load("renhe")
    sim = busy_beds_simulator({"hospital": 1500.0, "primary": 300.0}, wait=3.0)  # waits never improve
    out = replan(s, problem_for(s), "min-cost", sim, max_iterations=3)
    assert not out.converged and out.count == 3
    assert "no fixed point within 3 iterations" in replan_words(
        out
    ) and "p95 bed wait 3.00 days above 1" in replan_words(out)
    beds = [c["hospital"] for c in sim.calls]
    for before, after in zip(beds, beds[1:]):  # 5% more each time, in whole beds
        assert before * 1.05 <= after < before * 1.05 + 1


def test_idle_beds_are_flagged_as_overbuilt_in_words():
    s = load("renhe")
    sim = busy_beds_simulator({"hospital": 800.0, "primary": 280.0})
    out = replan(s, problem_for(s), "min-cost", sim)
    assert out.converged and out.count == 1
    occ = 800.0 / sim.calls[0]["hospital"]
    assert len(out.flags) == 1 and overbuilt_words(out.flags)[0].startswith(
        f"hospital beds run at {occ:.0%} in 2025, below the 60% floor"
    )
    assert "more hospital beds than the simulated patients fill at 85% occupancy" in overbuilt_words(out.flags)[0]
    assert "the 2020 stock already exceeds the demand and no plan removes beds" in overbuilt_words(out.flags)[0]


def test_the_loop_is_said_in_chinese_too():
    from scenarios.labels import Labels

    s = load("renhe")
    out = replan(s, problem_for(s), "min-cost", busy_beds_simulator({"hospital": 1700.0, "primary": 300.0}))
    zh = replan_words(out, Labels("zh"))
    assert zh.startswith("经2轮达到不动点") and "60%-90%" in zh
    assert replan_table(out.iterations, Labels("zh"))["action"].iloc[0].startswith("增至2,000张床位")
