"""Allocation LP against theory: a hand-solved instance, duals (finite differences,
complementary slackness), feasibility of every constraint, monotone budget sweeps."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from optimize.problem import TIERS, AllocationProblem, ProblemError, TargetRow
from optimize.solve import InfeasiblePlan, OptimizeError, export_model, solve
from optimize.sweep import budget_sweep
from scenarios.loader import ScenarioError, load
from scenarios.run.plan import from_scenario
from scenarios.run.projection import project
from sim.population import ProjectionError


def tiny(**over) -> AllocationProblem:
    """One region, beds only, 100 beds for 100,000 residents; target 2 per 1,000 in 2022.

    Capital CNY 10 a bed, running CNY 1 a bed-year above the base stock, 10% attrition,
    no decline below 100 beds. By hand: keep 100 beds in 2021 (add 10), add 110 in 2022;
    cost = 10 * 120 + 1 * (0 + 100) = 1,300. A marginal bed in 2022 costs 10 + 1 = 11,
    so one more bed per 1,000 (100 beds) costs 1,100.
    """
    base = dict(
        regions=("r",), kinds=("beds",), base_year=2020, target_year=2022,
        baseline={("r", "beds", "hospital"): 100.0, ("r", "beds", "primary"): 0.0},
        population={("r", y): 100_000.0 for y in (2020, 2021, 2022)},
        targets=(TargetRow("r", "beds", "floor", 2.0, 1000.0, "expected", "2.0", 1.0),),
        capital={("beds", t): 10.0 for t in TIERS}, annual={("beds", t): 1.0 for t in TIERS},
        attrition={"beds": 0.1},
    )
    base.update(over)
    return AllocationProblem(**base)


def test_hand_solved_instance():
    plan = solve(tiny())
    assert plan.total_cost == pytest.approx(1300.0)
    adds = plan.additions.groupby("year")["added"].sum()
    assert adds[2021] == pytest.approx(10.0) and adds[2022] == pytest.approx(110.0)
    dual = plan.duals.set_index("kind").loc["beds", "dual"]
    assert dual == pytest.approx(1100.0)
    assert "costs CNY 1,100 more" in plan.duals["explanation"].iloc[0]


def test_hand_solved_instance_without_no_decline_floor_lets_attrition_run():
    # With disinvestment allowed the 2021 stock may fall to 90; then add 2022 = 200 - 81 = 119:
    # cost = 10 * 119 + 1 * (90 - 100) + 1 * (200 - 100) = 1,280.
    plan = solve(tiny(allow_disinvestment=True))
    assert plan.total_cost == pytest.approx(1280.0)


def _renhe(budget=None):
    s = load("renhe")
    return s, from_scenario(s, project(s), budget_total=budget)


def test_target_duals_match_finite_differences():
    s, p = _renhe()
    plan = solve(p)
    delta = 0.01
    for i, tr in enumerate(p.targets):
        dual = plan.duals.iloc[i]["dual"]  # CNY per 1 per-capita unit
        bumped = list(p.targets)
        bumped[i] = replace(tr, ratio=tr.ratio + delta)
        cost2 = solve(replace(p, targets=tuple(bumped))).total_cost
        assert (cost2 - plan.total_cost) / delta == pytest.approx(dual, rel=1e-4, abs=1.0), tr.kind


def test_complementary_slackness_targets_and_budget():
    s, p = _renhe()
    need = solve(p).total_cost
    for budget in (0.6 * need, 2 * need):
        plan = solve(p.with_budget(budget), mode="max-attainment")
        att = plan.attainment
        pop = p.population["renhe", p.target_year]
        for i, tr in enumerate(p.targets):
            have = att.iloc[i]["achieved_ratio"] * pop / tr.divisor
            need_units = (tr.ratio - att.iloc[i]["shortfall_ratio"]) * pop / tr.divisor
            slack = have - need_units
            assert plan.duals.iloc[i]["dual"] * slack == pytest.approx(0.0, abs=1e-6)
        b = plan.duals[plan.duals["constraint"] == "budget_total"]["dual"].iloc[0]
        slack_budget = budget - plan.total_cost
        assert b * slack_budget / 1e6 == pytest.approx(0.0, abs=1e-6)
        if budget < need:
            assert b > 0 and abs(slack_budget) < 1e-3 * budget  # binding budget: positive price, no slack
        else:
            assert plan.all_met


def _check_feasible(p: AllocationProblem, plan) -> None:
    st = plan.stocks.set_index(["region", "kind", "tier", "year"])["stock"]
    ad = plan.additions.set_index(["region", "kind", "tier", "year"])["added"]
    tol = 1e-6
    for r in p.regions:
        for k in p.kinds:
            for t in TIERS:
                for y in p.years:
                    expect = (1 - p.attrition.get(k, 0)) * st[r, k, t, y - 1] + ad[r, k, t, y]
                    assert st[r, k, t, y] == pytest.approx(expect, abs=1e-6)
            for y in p.years:
                total = sum(st[r, k, t, y] for t in TIERS)
                assert total >= sum(p.baseline[r, k, t] for t in TIERS) - tol
                if (r, k) in p.max_additions:
                    assert sum(ad[r, k, t, y] for t in TIERS) <= p.max_additions[r, k] + tol
        Y = p.target_year
        nurses = sum(st[r, "nurses", t, Y] for t in TIERS)
        phys = sum(st[r, "physicians", t, Y] for t in TIERS)
        assert nurses >= p.nurse_physician_ratio_min * phys - tol
        assert st[r, "nurses", "hospital", Y] >= p.hospital_nurses_per_bed_min * st[r, "beds", "hospital", Y] - tol
        for y in p.years:
            gps = sum(st[r, "gps", t, y] for t in TIERS)
            assert st[r, "gps", "primary", y] >= p.gp_primary_share_min * gps - tol
    for tr in p.targets:
        have = sum(st[tr.region, tr.kind, t, p.target_year] for t in TIERS)
        assert have / p.population[tr.region, p.target_year] * tr.divisor >= tr.ratio - 1e-6
    if p.budget_total is not None:
        assert plan.total_cost <= p.budget_total * (1 + 1e-9)


@pytest.mark.parametrize("name", ["conghua", "renhe"])
def test_min_cost_solution_satisfies_every_constraint(name):
    s = load(name)
    p = from_scenario(s, project(s))
    plan = solve(p)
    assert plan.all_met
    _check_feasible(p, plan)


def test_more_budget_never_lowers_attainment():
    s = load("conghua")
    p = from_scenario(s, project(s))
    table = budget_sweep(p, np.linspace(2e8, 3e9, 8))
    for kind, df in table.groupby("kind"):
        att = df.sort_values("budget_cny")["attainment"].to_numpy()
        assert (np.diff(att) >= -1e-9).all(), kind
    score = table.groupby("budget_cny")["score"].first().to_numpy()
    assert (np.diff(score) >= -1e-9).all()
    assert score[-1] == pytest.approx(1.0)
    # each sweep point spends no more than its budget
    assert (table["total_cost_cny"] <= table["budget_cny"] * (1 + 1e-9) + 1).all()


def test_integer_plan_has_whole_additions_and_reports_gap():
    s, p = _renhe()
    lp = solve(p)
    mip = solve(p, integer=True)
    added = mip.additions["added"].to_numpy()
    np.testing.assert_allclose(added, np.round(added), atol=1e-6)
    assert mip.mip_gap is not None and mip.mip_gap <= 1e-4
    assert mip.total_cost >= lp.total_cost - 1e-6
    assert mip.duals.empty  # a MILP has no duals


# -- bad input and infeasibility ----------------------------------------------------------------


def test_budget_too_small_is_diagnosed_in_words():
    s, p = _renhe(budget=1e6)
    with pytest.raises(InfeasiblePlan) as info:
        solve(p)
    msg = str(info.value)
    assert info.value.culprit == "budget_total"
    assert "the plan-period budget cannot be kept together with the targets" in msg
    need = solve(p.with_budget(None)).total_cost
    assert f"Meeting every target needs CNY {need:,.0f}; the budget is CNY 1,000,000" in msg
    assert "best reachable" in msg


def test_target_unreachable_within_hiring_limits():
    s = load("qingcheng")
    p = from_scenario(s, project(s))
    with pytest.raises(InfeasiblePlan) as info:
        solve(p)
    assert info.value.culprit == "hiring_limits"
    assert "yearly limits on additions" in str(info.value)
    best = info.value.best.set_index("kind")
    assert (best["best_ratio"] < best["target_ratio"]).all()


def test_negative_cost_is_rejected_by_the_schema(write_toml):
    path = write_toml('extend = "renhe"\n[costs.beds]\ncapital = { value = -5, assumption = "x" }\nannual = { value = 1, assumption = "x" }\n')
    with pytest.raises(ScenarioError, match="costs.beds.capital.value: expected a value that is greater than or equal to 0"):
        load(path)


def test_missing_projection_year_is_clear():
    s = load("renhe")
    short = project(s, 2023)
    with pytest.raises(ProjectionError, match="year 2024 is outside the projection 2020-2023"):
        from_scenario(s, short)


def test_max_attainment_needs_a_budget_and_missing_costs_are_named(write_toml):
    s, p = _renhe()
    with pytest.raises(OptimizeError, match="max-attainment needs a budget"):
        solve(p, mode="max-attainment")
    s2 = load("renhe")
    s2 = s2.model_copy(update={"costs": {k: v for k, v in s2.costs.items() if k != "nurses"}})
    with pytest.raises(ProblemError, match="costs: no costs for nurses"):
        from_scenario(s2, project(s2))


def test_switching_off_hiring_limits_makes_qingcheng_feasible(write_toml):
    path = write_toml('extend = "qingcheng"\n[constraints.enabled]\nhiring_limits = false\n')
    s = load(path)
    plan = solve(from_scenario(s, project(s)))
    assert plan.all_met


def test_export_lp_and_mps(tmp_path):
    s, p = _renhe()
    for ext in ("lp", "mps"):
        path = export_model(p, tmp_path / f"m.{ext}")
        text = path.read_text()
        assert "balance" in text and "target" in text
    with pytest.raises(OptimizeError, match="expected a file ending in .lp or .mps"):
        export_model(p, tmp_path / "m.txt")


def test_cli_optimize_and_sweep(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["optimize", "renhe", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "Raising the 2025 physicians target by one per 1,000" in r.output
    for name in ("additions", "stocks", "ratios", "costs", "attainment", "duals"):
        assert (tmp_path / "o" / f"{name}.csv").exists()
    bad = runner.invoke(main, ["optimize", "qingcheng"])
    assert bad.exit_code == 1 and "yearly limits on additions" in bad.output and "Traceback" not in bad.output
    nob = runner.invoke(main, ["optimize", "renhe", "--mode", "max-attainment"])
    assert nob.exit_code == 2 and "needs a budget" in nob.output
    sw = runner.invoke(main, ["sweep", "renhe", "--budget-from", "1000万", "--budget-to", "5000万", "--steps", "3",
                              "--out", str(tmp_path / "s")])
    assert sw.exit_code == 0, sw.output
    assert (tmp_path / "s" / "sweep.csv").exists() and (tmp_path / "s" / "sweep.html").exists()


def test_floor_cost_of_the_hand_solved_instance():
    # No target pursued: keep 100 beds against 10% attrition: add 10 in 2021 and 10 in 2022 at CNY 10.
    from optimize.solve import floor_cost
    assert floor_cost(tiny()) == pytest.approx(200.0)


def test_constraints_that_contradict_each_other_are_named(write_toml):
    # Xiangqiao's nurses (0.58 per physician) cannot reach the default 1.2 floor within the hiring limits.
    path = write_toml('extend = "xiangqiao"\n[constraints.nurse_physician_ratio_min]\nvalue = 1.2\nassumption = "default"\n')
    s = load(path)
    with pytest.raises(InfeasiblePlan) as info:
        solve(from_scenario(s, project(s), budget_total=1e12), mode="max-attainment")
    assert info.value.culprit == "nurse_physician_ratio"
    assert "contradict each other, whatever the targets" in str(info.value)
