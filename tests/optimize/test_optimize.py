"""Allocation LP against theory: a hand-solved instance, duals (finite differences,
complementary slackness), feasibility of every constraint, monotone budget sweeps."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pyomo.environ as pyo
import pytest
from click.testing import CliRunner
from pyomo.contrib.solver.common.results import TerminationCondition

from cli import main
from optimize.model import COST_SCALE, FAMILIES, ModelOptions, build_model
from optimize.problem import TIERS, AllocationProblem, ProblemError, TargetRow
from optimize.solve import InfeasiblePlan, OptimizeError, export_model, run_model, solve, solved
from optimize.sweep import budget_sweep
from scenarios.inputs.allocation import from_scenario
from scenarios.loader import ScenarioError, load
from scenarios.report.words import diagnosis_words, dual_words
from scenarios.run.projection import project
from sim.population import ProjectionError


def tiny(**over) -> AllocationProblem:
    """One region, beds only, 100 beds for 100,000 residents; target 2 per 1,000 in 2022.

    Capital CNY 10 a bed, running CNY 1 a bed-year above the base stock, 10% attrition (10 whole
    leavers a year), no decline below 100 beds. By hand: keep 100 beds in 2021 (add 10), add 110 in 2022;
    cost = 10 * 120 + 1 * (0 + 100) = 1,300. A marginal bed in 2022 costs 10 + 1 = 11,
    so one more bed per 1,000 (100 beds) costs 1,100.
    """
    base = dict(
        regions=("r",),
        kinds=("beds",),
        base_year=2020,
        target_year=2022,
        baseline={("r", "beds", "hospital"): 100.0, ("r", "beds", "primary"): 0.0},
        population={("r", y): 100_000.0 for y in (2020, 2021, 2022)},
        targets=(TargetRow("r", "beds", "floor", 2.0, 1000.0, "expected", "2.0", 1.0),),
        capital={("beds", t): 10.0 for t in TIERS},
        annual={("beds", t): 1.0 for t in TIERS},
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
    assert "costs CNY 1,100 more" in dual_words(plan)[0]


def test_hand_solved_instance_without_no_decline_floor_lets_attrition_run():
    # With disinvestment allowed the 2021 stock may fall to 90 (10 leavers, none replaced); then add
    # 2022 = 200 - 80 = 120: cost = 10 * 120 + 1 * (90 - 100) + 1 * (200 - 100) = 1,290.
    plan = solve(tiny(allow_disinvestment=True))
    assert plan.total_cost == pytest.approx(1290.0)
    assert (plan.costs["running_cny"] < 0).any()  # a saving line, allowed only with disinvestment


def credible(**over) -> AllocationProblem:
    """Beds only, 100,000 residents, base 100 public hospital beds and 20 private (社会办医) beds.

    Target 2.0 per 1,000 in 2022 (200 beds); linear trajectory, so 2021 needs 1.6 (160 beds).
    Public capital CNY 10 a bed, running CNY 1 a bed-year above base; private beds cost the public
    budget a CNY 2 subsidy and no running cost, at most 5 a year; 10% discount; no year's capital
    above 60% of the plan's. By hand: private +5 a year (25, 30); public 135 in 2021 (+35) and
    170 in 2022 (+35). Costs 2021: 350 + 10 + 35 = 395; 2022: 350 + 10 + 70 = 430;
    present value 395 / 1.1 + 430 / 1.21 = 714.46. Capital 360 a year: smoothing does not bind.
    Prices (present value): one more bed in 2022 costs (10 + 1) / 1.21 = 9.091; one more bed in 2021
    (milestone) 11 / 1.1 - 10 / 1.21 = 1.736; raising the target by one per 1,000 moves 100 beds in 2022
    and the 2021 milestone by half of that (50 beds): 909.09 + 86.78 = 995.87. One more private bed
    allowed in 2021 saves 11 / 1.1 + 1 / 1.21 - 2 / 1.1 = 9.008, in 2022 (11 - 2) / 1.21 = 7.438.
    """
    base = dict(
        regions=("r",),
        kinds=("beds",),
        base_year=2020,
        target_year=2022,
        baseline={("r", "beds", "hospital"): 100.0, ("r", "beds", "primary"): 0.0, ("r", "beds", "private"): 20.0},
        population={("r", y): 100_000.0 for y in (2020, 2021, 2022)},
        targets=(TargetRow("r", "beds", "floor", 2.0, 1000.0, "expected", "2.0", 1.2),),
        capital={("beds", t): 10.0 for t in TIERS},
        annual={("beds", t): 1.0 for t in TIERS},
        trajectory="linear",
        discount_rate=0.1,
        capital_share_max=0.6,
        private_subsidy={"beds": 2.0},
        private_max_additions={("r", "beds"): 5.0},
    )
    base.update(over)
    return AllocationProblem(**base)


def test_hand_checked_case_with_the_new_constraints():
    plan = solve(credible())
    assert plan.integer and plan.rounding == "milp"
    add = plan.additions.set_index(["year", "tier", "ownership"])["added"]
    assert add[2021, "hospital", "private"] == 5 and add[2022, "hospital", "private"] == 5
    assert add[2021, "hospital", "public"] == 35 and add[2022, "hospital", "public"] == 35
    by_year = plan.costs.groupby("year")["total_cny"].sum()
    assert by_year[2021] == pytest.approx(395.0) and by_year[2022] == pytest.approx(430.0)
    assert plan.present_value == pytest.approx(395 / 1.1 + 430 / 1.21)
    assert plan.duals.iloc[0]["dual"] == pytest.approx(100 * 11 / 1.21 + 50 * (11 / 1.1 - 10 / 1.21))
    assert "(present value at 10% a year)" in dual_words(plan)[0]
    private = plan.costs[plan.costs["ownership"] == "private"]
    assert (private["running_cny"] == 0).all() and private["capital_cny"].sum() == pytest.approx(20.0)


def _lp_duals(p: AllocationProblem, families=FAMILIES):
    m = build_model(p, ModelOptions(families=frozenset(families)))
    res = run_model(m)
    assert solved(res)
    res.solution_loader.load_vars()
    return m, res.solution_loader.get_duals()


def test_lp_duals_and_complementary_slackness_with_the_new_constraints():
    m, duals = _lp_duals(credible())
    per_bed = lambda c: duals[c] * COST_SCALE  # noqa: E731 - CNY (present value) per bed
    assert per_bed(m.target[0]) == pytest.approx(11 / 1.21)
    assert per_bed(m.milestone[0, 2021]) == pytest.approx(11 / 1.1 - 10 / 1.21)
    assert -per_bed(m.private_growth["r", "beds", 2021]) == pytest.approx(11 / 1.1 + 1 / 1.21 - 2 / 1.1)
    assert -per_bed(m.private_growth["r", "beds", 2022]) == pytest.approx(9 / 1.21)
    assert duals[m.capital_smoothing[2021]] == pytest.approx(0.0, abs=1e-9)  # slack: 360 < 0.6 x 720
    for con, dual in duals.items():
        body = pyo.value(con.body)
        if con.equality:
            continue
        # minimisation: >= rows have duals >= 0, <= rows <= 0; a row with slack has a zero dual
        if con.has_lb() and not con.has_ub():
            assert dual >= -1e-9, con.name
            slack = body - pyo.value(con.lower)
        else:
            assert dual <= 1e-9, con.name
            slack = pyo.value(con.upper) - body
        assert dual * slack == pytest.approx(0.0, abs=1e-7), con.name
    # the LP optimum is the hand-computed present value (CNY million in the objective)
    assert pyo.value(m.objective) == pytest.approx(714.46 / COST_SCALE, rel=1e-4)


def test_capital_smoothing_binds_on_a_free_path():
    # Free trajectory: the cheapest plan would build all 70 public beds in 2022 (capital 710 of 720);
    # smoothing holds 2022's capital to 1.5 x 2021's (60% of the total).
    plan = solve(credible(trajectory="free"))
    cap = plan.costs.groupby("year")["capital_cny"].sum()
    assert cap[2022] <= 0.6 * cap.sum() + 1e-6 and cap[2021] > 10


def _renhe(budget=None):
    s = load("renhe")
    return s, from_scenario(s, project(s, 2035), budget_total=budget)


def test_target_duals_match_finite_differences():
    s, p = _renhe()
    plan = solve(p, integer=False)
    for i, tr in enumerate(p.targets):
        dual = plan.duals.iloc[i]["dual"]  # CNY (present value) per 1 per-capita unit, milestones included
        for delta in (0.001, -0.001):
            bumped = list(p.targets)
            bumped[i] = replace(tr, ratio=tr.ratio + delta)
            pv2 = solve(replace(p, targets=tuple(bumped)), integer=False).present_value
            assert (pv2 - plan.present_value) / delta == pytest.approx(dual, rel=1e-6, abs=1.0), tr.kind


def test_budget_price_in_max_attainment():
    s, p = _renhe()
    need = solve(p).total_cost
    for budget in (0.9 * need, 2 * need):
        plan = solve(p.with_budget(budget), mode="max-attainment", integer=False)
        b = plan.duals[plan.duals["constraint"] == "budget_total"]
        assert plan.total_cost <= budget * (1 + 1e-9)
        if budget < need:
            assert b["dual"].iloc[0] > 0 and not plan.all_met
            assert "raises the weighted attainment" in dual_words(plan)[b.index[0]]
        else:
            assert plan.all_met and dual_words(plan)[b.index[0]] == "The budget does not bind: every target is met."


def check_feasible(p: AllocationProblem, plan) -> None:
    """Every constraint family holds on the plan's tables (stocks, additions, costs)."""
    st = plan.stocks.assign(pool=lambda d: d["tier"].where(d["ownership"] == "public", "private"))
    st = st.set_index(["region", "kind", "pool", "year"])["stock"]
    ad = plan.additions.assign(pool=lambda d: d["tier"].where(d["ownership"] == "public", "private"))
    ad = ad.set_index(["region", "kind", "pool", "year"])["added"]
    tol = 1e-6
    total = lambda r, k, y: sum(st[r, k, t, y] for t in p.pools(r, k))  # noqa: E731
    for r in p.regions:
        for k in p.kinds:
            for t in p.pools(r, k):
                for y in p.years:
                    assert st[r, k, t, y] == pytest.approx(st[r, k, t, y - 1] - p.leavers(r, k, t) + ad[r, k, t, y])
                    assert st[r, k, t, y] >= p.baseline[r, k, t] - tol, (r, k, t, y)
            for y in p.years:
                if (r, k) in p.max_additions:
                    assert sum(ad[r, k, t, y] for t in TIERS) <= p.max_additions[r, k] + tol
                if (r, k) in p.private_max_additions:
                    assert ad[r, k, "private", y] <= p.private_max_additions[r, k] + tol
        for parent, children in p.subsets.items():
            for y in p.years:
                assert sum(total(r, c, y) for c in children if c in p.kinds) <= total(r, parent, y) + tol
        Y = p.target_year
        if p.nurse_physician_ratio_min is not None:
            assert total(r, "nurses", Y) >= p.nurse_physician_ratio_min * total(r, "physicians", Y) - tol
    cap = plan.costs.groupby("year")["capital_cny"].sum()
    if p.capital_share_max is not None:
        assert (cap <= p.capital_share_max * cap.sum() + 1e-3).all()
    assert (plan.costs[["capital_cny", "running_cny"]] >= -1e-6).all().all()
    assert plan.milestones["on_track"].all()
    if plan.all_met:
        for tr, row in zip(p.targets, plan.attainment.itertuples()):
            assert row.met and (row.achieved_ratio >= tr.ratio - 1e-9 if tr.sense == "floor" else True)
    if p.budget_total is not None:
        assert plan.total_cost <= p.budget_total * (1 + 1e-9)


@pytest.mark.parametrize("name", ["conghua", "renhe"])
def test_min_cost_solution_satisfies_every_constraint(name):
    s = load(name)
    p = from_scenario(s, project(s))
    plan = solve(p)
    assert plan.all_met
    check_feasible(p, plan)


def test_more_budget_never_lowers_attainment():
    s = load("conghua")
    p = from_scenario(s, project(s))
    table = budget_sweep(p, np.linspace(5e8, 4e9, 8))
    for kind, df in table.groupby(["kind", "measure"]):
        att = df.sort_values("budget_cny")["attainment"].to_numpy()
        assert (np.diff(att) >= -1e-9).all(), kind
    score = table.groupby("budget_cny")["score"].first().to_numpy()
    assert (np.diff(score) >= -1e-9).all()
    assert score[-1] == pytest.approx(1.0)
    # each sweep point spends no more than its budget
    assert (table["total_cost_cny"] <= table["budget_cny"] * (1 + 1e-9) + 1).all()


def test_whole_units_by_default_and_the_integer_plan_reports_its_gap():
    s, p = _renhe()
    lp = solve(p, integer=False)
    for plan in (solve(p), solve(p, integer=True)):
        for table, col in ((plan.additions, "added"), (plan.stocks, "stock")):
            np.testing.assert_array_equal(table[col].to_numpy(), np.round(table[col].to_numpy()))
        assert plan.rounding == "milp" and plan.mip_gap is not None and plan.mip_gap <= 1e-4
        # the objective is the present value (Renhe discounts at 8%): the LP relaxation bounds it from below, and
        # whole units cost little above it
        assert lp.discount_rate == plan.discount_rate == pytest.approx(0.08)
        assert lp.present_value - 1e-6 <= plan.present_value <= lp.present_value * 1.05
        assert plan.objective >= lp.objective - 1e-9
        assert not plan.duals.empty  # shadow prices of the continuous relaxation
        check_feasible(p, plan)


def test_rounding_with_repair_keeps_every_constraint(monkeypatch):
    import optimize.solve as S

    real, calls = S.run_model, []

    def no_whole_plan_in_time(m, integer=False, time_limit=None, rel_gap=None):
        calls.append(integer)
        if integer and calls.count(True) == 1:  # the first MILP "runs out of time" without a plan
            return SimpleNamespace(termination_condition=TerminationCondition.maxTimeLimit, incumbent_objective=None)
        return real(m, integer, time_limit, rel_gap)

    monkeypatch.setattr(S, "run_model", no_whole_plan_in_time)
    s, p = _renhe()
    plan = S.solve(p)
    assert plan.rounding == "repaired" and plan.all_met
    np.testing.assert_array_equal(plan.additions["added"], np.round(plan.additions["added"]))
    check_feasible(p, plan)


# -- bad input and infeasibility ----------------------------------------------------------------


def test_budget_too_small_is_diagnosed_in_words():
    from optimize.solve import floor_cost

    s, p = _renhe()
    need = solve(p.with_budget(None)).total_cost
    budget = round(floor_cost(p) + 0.5 * (need - floor_cost(p)))
    with pytest.raises(InfeasiblePlan) as info:
        solve(p.with_budget(budget))
    msg = diagnosis_words(info.value.diagnosis)
    assert info.value.culprit == "budget_total"
    assert "the plan-period budget cannot be kept together with the targets" in msg
    assert f"Meeting every target needs CNY {need:,.0f}; the budget is CNY {budget:,.0f}" in msg
    assert "best reachable" in msg
    # the figures quoted are the fallback plan's own
    plan = info.value.plan
    for row in plan.attainment[~plan.attainment["met"]].itertuples():
        assert f"best reachable {row.achieved_ratio:.3g} {row.unit}" in msg
    with pytest.raises(InfeasiblePlan) as info:
        solve(p.with_budget(1e6))  # below the cost of replacing leavers
    assert "contradict each other" in diagnosis_words(info.value.diagnosis)


def test_target_unreachable_within_hiring_limits():
    s = load("qingcheng")
    p = from_scenario(s, project(s))
    with pytest.raises(InfeasiblePlan) as info:
        solve(p)
    assert info.value.culprit == "hiring_limits"
    assert "yearly limits on additions" in diagnosis_words(info.value.diagnosis)
    best = info.value.best.set_index("kind")
    assert (best["best_ratio"] < best["target_ratio"]).all()


def test_negative_cost_is_rejected_by_the_schema(write_toml):
    path = write_toml(
        'extend = "renhe"\n[costs.beds]\ncapital = { value = -5, assumption = "x" }\nannual = '
        '{ value = 1, assumption = "x" }\n'
    )
    with pytest.raises(
        ScenarioError, match="costs.beds.capital.value: expected a value that is greater than or equal to 0"
    ):
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
    sw = runner.invoke(
        main,
        [
            "sweep",
            "renhe",
            "--budget-from",
            "1000万",
            "--budget-to",
            "5000万",
            "--steps",
            "3",
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert sw.exit_code == 0, sw.output
    assert (tmp_path / "s" / "sweep.csv").exists() and (tmp_path / "s" / "sweep.html").exists()


def test_floor_cost_of_the_hand_solved_instance():
    # No target pursued: keep 100 beds against 10% attrition: add 10 in 2021 and 10 in 2022 at CNY 10.
    from optimize.solve import floor_cost

    assert floor_cost(tiny()) == pytest.approx(200.0)


def test_constraints_that_contradict_each_other_are_named(write_toml):
    # Xiangqiao's nurses (0.58 per physician) cannot reach the default 1.2 floor within the hiring limits.
    path = write_toml(
        'extend = "xiangqiao"\n[constraints.nurse_physician_ratio_min]\nvalue = 1.2\nassumption = "default"\n'
    )
    s = load(path)
    with pytest.raises(InfeasiblePlan) as info:
        solve(from_scenario(s, project(s), budget_total=1e12), mode="max-attainment")
    assert info.value.culprit == "nurse_physician_ratio"
    assert "contradict each other, whatever the targets" in diagnosis_words(info.value.diagnosis)


# -- floors (plain rows; the scenario side derives them from need) -------------------------


def test_a_floor_by_tier_and_year_is_met_at_least_cost():
    from optimize.problem import FloorRow

    # the target wants 200 beds in 2022 (any tier); a floor asks for 50 primary beds in 2021
    p = tiny(floors=(FloorRow("r", "beds", "primary", 2021, 50.0),))
    plan = solve(p)
    st = plan.stocks.set_index(["year", "tier"])["stock"]
    assert st[2021, "primary"] == pytest.approx(50.0)
    # no decline per pool: 2021 replaces the hospital's 10 leavers and adds the 50 primary beds;
    # 2022 replaces 10 again and adds 50 to reach 200; running cost of 50 and 100 beds above base
    assert plan.total_cost == pytest.approx(10 * (10 + 50 + 10 + 50) + 1 * (50 + 100))


def test_an_unreachable_floor_is_named_and_relaxed_in_max_attainment():
    from optimize.problem import FloorRow

    p = tiny(floors=(FloorRow("r", "beds", None, 2022, 400.0),), max_additions={("r", "beds"): 100.0})
    with pytest.raises(InfeasiblePlan) as info:
        solve(p)
    assert "the floors on beds and staff from projected need" in diagnosis_words(info.value.diagnosis)
    plan = solve(p.with_budget(1e9), mode="max-attainment")
    got = plan.stocks.query("year == 2022")["stock"].sum()
    assert got == pytest.approx(100 - 10 + 100 - 10 + 100)  # 10 leavers a year; every yearly addition used
    assert bool(plan.attainment["met"].all())  # the target (200) is met; the floor is as close as it can be


def test_the_exported_model_is_the_one_that_made_the_whole_unit_plan(tmp_path):
    import highspy

    r = CliRunner().invoke(main, ["optimize", "renhe", "--export-model", str(tmp_path / "m.lp")])
    assert r.exit_code == 0, r.output
    assert "general" in (tmp_path / "m.lp").read_text().lower()  # integer variables, not the LP relaxation
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(tmp_path / "m.lp"))
    h.run()
    s, p = _renhe()
    plan = solve(p, integer=True)
    assert h.getInfo().objective_function_value == pytest.approx(plan.objective, rel=1e-6)
