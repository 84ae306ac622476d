"""Metamorphic tests across the chain (projection -> need -> plan -> simulation) on every built-in: no oracle
gives the right figure, but changing one input in a known direction must move the answer in a known direction
(or leave it unchanged): a higher birth rate never lowers the population or the need, a larger budget never
lowers attainment, a higher target never lowers the cost, more beds never raise the simulated occupancy, and
doubling every population and stock leaves every ratio as it was. Plans are the fractional LP (``integer=False``),
whose optimum moves monotonically; whole-unit plans can step either way by a unit within the MIP gap."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from optimize.solve import OptimizeError, floor_cost, solve
from scenarios.inputs.need import need_table
from scenarios.inputs.referral import capacities_from_scenario
from scenarios.loader import builtin_names, load_raw, validate
from scenarios.run.plan import problem_for
from scenarios.run.projection import project
from scenarios.run.simulation import SimulationRequest, simulate_scenario
from scenarios.schema import Switches
from scenarios.targets import parse_target
from scenarios.whatif import apply_edits

BUILTINS = builtin_names()
assert len(BUILTINS) == 5
FAST = ["renhe"]  # the one built-in the quick suite runs the plan tests on; the rest are slow
SLOW = [pytest.param(n, marks=pytest.mark.slow) if n not in FAST else n for n in BUILTINS]


def scenario(name: str, edits: dict | None = None, data: dict | None = None):
    """A built-in with what-if ``edits`` (dotted field -> value) applied as the workbench applies them."""
    raw = data if data is not None else load_raw(name)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Xiangqiao's scope warning
        return validate(apply_edits(raw, edits or {}), name)


def _birth_rates(name: str) -> list[float]:
    rate = load_raw(name)[0]["population"]["birth_rate"]["value"]
    return [rate * 0.5, rate, rate * 1.5, 40.0]


@pytest.mark.parametrize("name", BUILTINS)
def test_a_higher_birth_rate_never_lowers_the_population_and_moves_it(name):
    rates = _birth_rates(name)
    runs = []
    for b in rates:
        s = scenario(name, {"population.birth_rate": b})
        to = s.target_year + 10
        runs.append(project(s, to, ["medium"]).series().to_numpy())
    for lower, higher in zip(runs, runs[1:]):
        assert (higher >= lower - 1e-6).all()
        assert higher[-1] > lower[-1] * 1.001  # and it moves: the cohort reference is the table's own rates
    unchanged = project(scenario(name), load_raw(name)[0]["target_year"] + 10).series().to_numpy()
    np.testing.assert_array_equal(runs[1], unchanged)  # the built-in's own rate: its projection to the digit


@pytest.mark.parametrize("name", BUILTINS)
def test_a_higher_death_rate_never_raises_the_population(name):
    rate = load_raw(name)[0]["population"]["death_rate"]["value"]
    pops = [project(scenario(name, {"population.death_rate": d}), 2035).population(2035) for d in (rate, rate * 1.5)]
    assert pops[1] < pops[0]


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("calibrated", [False, True])
def test_a_higher_birth_rate_never_lowers_the_need(name, calibrated):
    """In observed years the population is the observed one whatever the birth rate, which then moves only its
    age mix (more children, so fewer older residents of the same total): the need there may fall; every
    projected year's need must not."""
    needs = []
    for b in _birth_rates(name)[1:3]:
        s = scenario(name, {"population.birth_rate": b})
        proj = project(s, s.target_year, calibrated=calibrated)
        projected = proj.table.loc[proj.table["kind"] == "projected", "year"]
        table = need_table(s, proj)
        needs.append(table[table["year"].isin(projected)].set_index(["year", "kind", "tier"])["need"])
    assert len(needs[0]) > 0
    assert (needs[1] >= needs[0] - 1e-9).all()
    assert (needs[1] > needs[0]).any()


SWITCHES_OFF = {f"constraints.enabled.{k}": False for k in Switches.model_fields if k != "disinvestment"}


def _lp(s, mode="min-cost", budget=None):
    return solve(problem_for(s, budget_total=budget), mode=mode, integer=False, diagnose=False)


def plannable(name: str, edits: dict | None = None):
    """The built-in (with ``edits``) whose min-cost LP has an optimum: where its targets cannot all be met under
    its realism switches (Guangzhou, Qingcheng, Xiangqiao: the yearly addition limits), the switches are off."""
    s = scenario(name, edits)
    try:
        _lp(s)
        return s, {}
    except OptimizeError:
        return scenario(name, {**SWITCHES_OFF, **(edits or {})}), SWITCHES_OFF


@pytest.mark.parametrize("name", SLOW)
def test_a_larger_budget_never_lowers_attainment(name):
    s, _ = plannable(name)
    full, floor = _lp(s).total_cost, floor_cost(problem_for(s))
    assert floor < full
    budgets = [floor + f * (full - floor) for f in (0.1, 0.4, 0.7, 1.0, 1.5)]
    scores = [_lp(s, "max-attainment", b).attainment_score for b in budgets]
    assert all(0.0 <= x <= 1.0 for x in scores)
    for lower, higher in zip(scores, scores[1:]):
        assert higher >= lower - 1e-9, scores
    assert scores[0] < scores[-1] == pytest.approx(1.0)  # the budget binds near the floor; the least cost meets all


def _raised(expr: str, factor: float) -> str:
    t = parse_target(expr)
    op = expr[: len(expr) - len(expr.lstrip("<>=+"))].rstrip("+")
    return f"+{t.value * factor * 100:g}%" if t.relative else f"{op}{t.value * factor:g}"


@pytest.mark.parametrize("name", SLOW)
def test_a_higher_target_never_lowers_the_cost(name):
    base, relax = plannable(name)
    floors = {k: parse_target(r.target.expr) for k, r in base.resources.items() if r.target is not None}
    kinds = [k for k, t in floors.items() if t.sense == "floor" and t.value > 0]
    assert kinds
    costs = []
    for factor in (1.0, 1.02, 1.05):
        edits = {f"resources.{k}.target.expr": _raised(base.resources[k].target.expr, factor) for k in kinds}
        try:
            costs.append(_lp(scenario(name, {**relax, **edits}) if factor != 1.0 else base).objective)
        except OptimizeError:
            costs.append(np.inf)  # no plan at all: never cheaper
    assert np.isfinite(costs[0])
    for lower, higher in zip(costs, costs[1:]):
        assert higher >= lower * (1 - 1e-9), costs
    assert costs[-1] > costs[0]


@pytest.mark.parametrize("name", BUILTINS)
def test_more_beds_never_raise_the_simulated_occupancy(name):
    s = scenario(name)
    cap = capacities_from_scenario(s)
    more = {t: {**c, "beds": c["beds"] * 1.5} for t, c in cap.items()}
    req = SimulationRequest(years=[s.base_year], replications=2, flows_only=True, workers=1)
    occ = []
    for c in (cap, more):
        result, _ = simulate_scenario(s, req, project(s, s.base_year + 1), {s.base_year: c})
        occ.append(result.runs[["occupancy_hospital", "occupancy_primary"]].mean())
    assert (occ[0] > 0).all()
    assert (occ[1] <= occ[0] + 1e-9).all(), occ
    assert (occ[1] < occ[0]).all()


def _doubled(name: str) -> dict:
    """The built-in with every population and stock (and every count of people: flows, age groups, budgets) x2."""
    data = copy.deepcopy(load_raw(name)[0])
    pop = data["population"]
    pop["base"]["value"] *= 2
    ages = pop.get("age_structure")
    if ages:
        for key in ("male", "female", "net_migrants_male", "net_migrants_female"):
            if ages.get(key) is not None:
                ages[key] = [2 * x for x in ages[key]]
    for obs in data.get("observed", {}).values():
        for key in ("population", "births", "deaths", "visits", "discharges"):
            if key in obs:
                obs[key]["value"] *= 2
        for fig in obs.get("resources", {}).values():
            fig["value"] *= 2
    for res in data["resources"].values():
        if "stock" in res:
            res["stock"]["value"] *= 2
        if "stock" in res.get("private", {}):
            res["private"]["stock"]["value"] *= 2
    for key in ("budget_total", "budget_per_year"):
        if key in data.get("plan", {}):
            data["plan"][key]["value"] *= 2
    return data


@pytest.mark.parametrize("name", BUILTINS)
def test_doubling_every_population_and_stock_leaves_ratios_unchanged(name):
    one, two = scenario(name), scenario(name, data=_doubled(name))
    p1, p2 = project(one, one.target_year + 10), project(two, two.target_year + 10)
    np.testing.assert_allclose(p2.series().to_numpy(), 2 * p1.series().to_numpy(), rtol=1e-9)
    for kind in one.resources:
        assert two.baseline_ratio(kind) == pytest.approx(one.baseline_ratio(kind), rel=1e-12)
    n1 = need_table(one, p1).set_index(["year", "kind", "tier"])["need"]
    n2 = need_table(two, p2).set_index(["year", "kind", "tier"])["need"]
    np.testing.assert_allclose(n2.to_numpy(), 2 * n1.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("name", SLOW)
def test_doubling_every_population_and_stock_leaves_the_plans_ratios_unchanged(name):
    one, relax = plannable(name)
    two = scenario(name, relax, data=_doubled(name))
    plans = [_lp(one), _lp(two)]
    # the base-year stocks are split into whole hospital and primary units (and a stock given as a ratio is
    # rounded), so the doubled plan starts up to a unit per tier away from twice the single one: within 3% in
    # cost, 1% in every target's achieved ratio
    assert plans[1].total_cost == pytest.approx(2 * plans[0].total_cost, rel=0.03)
    a1, a2 = (p.attainment.set_index(["kind", "measure"]) for p in plans)
    np.testing.assert_allclose(a2["achieved_ratio"], a1["achieved_ratio"], rtol=0.01)
    np.testing.assert_array_equal(a2["target_ratio"], a1["target_ratio"])
    assert (a2["met"] == a1["met"]).all()
