"""Persistent re-solves: the same answers as a model built afresh; draws solved alike on 1 and 2 workers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_lp_files import tiny_problem

from optimize.model import ModelOptions, build_model
from optimize.persistent import PersistentModel
from optimize.result import extract_plan
from optimize.solve import run_model, solve, solved
from optimize.sweep import budget_sweep
from optimize.uncertainty import Draws, robust_target_population, solve_draws


def _fresh_objective(p, opt):
    res = run_model(build_model(p, opt))
    assert solved(res)
    return float(res.incumbent_objective)


def _scaled_population(p, factor):
    return {(r, y): v * (factor if y > p.base_year else 1.0) for (r, y), v in p.population.items()}


def _unlimited():
    return replace(tiny_problem().with_budget(None, None), max_additions={}, private_max_additions={})


def test_persistent_resolve_equals_fresh_build():
    p = _unlimited()
    model = PersistentModel(p, ModelOptions(mode="min-cost", mutable=frozenset({"population"})))
    objectives = []
    for factor in (1.0, 1.05, 0.97, 1.1):
        pop = _scaled_population(p, factor)
        model.set_population(pop)
        assert model.solve()
        assert model.objective == pytest.approx(_fresh_objective(replace(p, population=pop), ModelOptions()), rel=1e-9)
        objectives.append(model.objective)
    assert objectives[1] > objectives[0] > objectives[2]  # the population reaches the targets


def test_cost_factors_scale_the_objective_exactly():
    p = _unlimited()
    model = PersistentModel(p, ModelOptions(mode="min-cost"))
    model.set_cost_factors(1.3, 0.8)
    assert model.solve()
    model.load()
    scaled = replace(
        p,
        capital={k: v * 1.3 for k, v in p.capital.items()},
        annual={k: v * 0.8 for k, v in p.annual.items()},
        private_subsidy={k: v * 1.3 for k, v in p.private_subsidy.items()},
    )
    fresh = _fresh_objective(scaled, ModelOptions())
    assert model.objective == pytest.approx(fresh, rel=1e-9)


def test_persistent_budget_sweep_matches_fresh_builds():
    p = tiny_problem()
    budgets = [5e6, 2e7, 5e7]
    table = budget_sweep(p, budgets)
    caps = None
    for b in budgets:  # the sweep as it was done before: a model built for every budget
        opt = ModelOptions(mode="max-attainment", shortfall_caps=caps)
        m = build_model(p.with_budget(b), opt)
        res = run_model(m)
        rows = table[table["budget_cny"] == b]
        assert rows["feasible"].all() == solved(res)
        if not solved(res):
            continue
        res.solution_loader.load_vars()
        caps = tuple(float(m.shortfall[i].value or 0.0) for i in range(len(p.targets)))
        fresh = extract_plan(p.with_budget(b), m, opt, {}).attainment
        np.testing.assert_allclose(rows["shortfall_ratio"].to_numpy(), fresh["shortfall_ratio"].to_numpy(), atol=1e-7)
    assert table.groupby("budget_cny")["score"].first().is_monotonic_increasing


def _draws(p, n, spread, seed=7):
    rng = np.random.default_rng(seed)
    years = tuple(range(p.base_year, p.target_year + 1))
    base = np.array([[p.population["r", y] for y in years]])
    shock = 1.0 + spread * rng.standard_normal((n, 1)) * (np.arange(len(years)) > 0)
    return Draws(years, {"r": base * shock}, np.exp(0.1 * rng.standard_normal(n)), np.exp(0.1 * rng.standard_normal(n)))


def test_draws_same_with_one_and_two_workers():
    p = _unlimited()
    d = _draws(p, 24, 0.03)
    one, two = solve_draws(p, d, workers=1, chunk=10), solve_draws(p, d, workers=2, chunk=10)
    np.testing.assert_array_equal(one.cost, two.cost)
    np.testing.assert_array_equal(one.reachable, two.reachable)
    assert one.feasible.all()


def test_robust_population_is_the_quantile_of_the_draws():
    p = tiny_problem()
    d = _draws(p, 1000, 0.05)
    q = robust_target_population(p, d, 0.9)
    col = d.column("r", p.target_year)
    assert (col <= q["r", "beds", p.target_year]).mean() >= 0.9
    assert (col < q["r", "beds", p.target_year]).mean() < 0.9
    assert ("r", "beds", p.target_year) in q and all(k[1] != "private" for k in q)


def test_floor_scale_resolve_equals_fresh_build():
    """Need floors rescaled in place (a draw's residents x demand) give the fresh build's optimum."""
    p = _unlimited()
    model = PersistentModel(p, ModelOptions(mode="min-cost", mutable=frozenset({"floors"})))
    objectives = []
    for scale in (1.0, 1.25, 0.9):
        model.set_floor_scale({("r", 2022): scale})
        assert model.solve()
        floors = tuple(replace(f, units=f.units * scale) for f in p.floors)
        assert model.objective == pytest.approx(_fresh_objective(replace(p, floors=floors), ModelOptions()), rel=1e-9)
        objectives.append(model.objective)
    assert objectives[1] > objectives[0] >= objectives[2]  # 45 physicians x 1.25 binds harder


def test_need_outcomes_and_robust_floors_follow_the_drawn_need():
    from optimize.problem import FloorRow
    from optimize.uncertainty import floor_outcomes, robust_floors

    p = _unlimited()
    plan = solve(p, integer=False)
    physicians = plan.stocks.query("kind == 'physicians' and year == 2022")["stock"].sum()
    n = 200
    demand = np.linspace(0.8, 1.2, n)
    pop = np.tile([p.population["r", y] for y in (2020, 2021, 2022)], (n, 1))
    pop[:, 2] *= np.linspace(1.1, 0.9, n)  # residents and use rates pull apart: need scales with their product
    draws = Draws((2020, 2021, 2022), {"r": pop}, np.ones(n), np.ones(n), demand)
    need = FloorRow("r", "physicians", None, 2022, 45.0)
    scale = pop[:, 2] / p.population["r", 2022] * demand
    met = floor_outcomes(p, plan, (need,), draws)[:, 0]
    np.testing.assert_array_equal(met, physicians >= 45.0 * scale - 1e-6)
    assert 0 < met.mean() < 1  # the plan covers the need in some futures only
    for share in (0.5, 0.9):
        (rob,) = [f for f in robust_floors(p, draws, share) if f.kind == "physicians"]
        assert rob.units == pytest.approx(45.0 * np.quantile(scale, share, method="inverted_cdf"))
        assert (rob.units >= 45.0 * scale - 1e-9).mean() >= share  # a stock at the robust floor holds in >= share
