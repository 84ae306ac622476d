"""Run options are resolved once against the scenario: the budget, the mode, the basis and the language."""

import pytest

from optimize.solve import NO_BUDGET, OptimizeError, solve
from scenarios.loader import load
from scenarios.run.options import PipelineOptions, resolve_options
from scenarios.run.pipeline import run_pipeline
from scenarios.run.plan import problem_for

FAST = "scenarios/builtin/examples/conghua_fast_growth.toml"  # plan.budget_total = 2.0e9, max-attainment


def test_a_missing_budget_is_the_scenarios_and_says_where_it_came_from():
    fast, renhe = load(FAST), load("renhe")
    assert resolve_options(fast).budget == 2.0e9 and resolve_options(fast).budget_source == "scenario"
    given = resolve_options(fast, PipelineOptions(budget=1.5e9))
    assert given.budget == 1.5e9 and given.budget_source == "option"
    none = resolve_options(renhe)
    assert none.budget is None and none.budget_source == "none" and none.mode == renhe.plan.mode
    assert none.basis == renhe.plan.basis and none.lang == renhe.report.lang and none.resolved


def test_resolving_twice_changes_nothing():
    o = resolve_options(load(FAST), PipelineOptions(lang="en"))
    assert resolve_options(load("renhe"), o) is o  # resolved options are not resolved again, against anything


def test_optimize_and_run_refuse_max_attainment_without_a_budget_with_one_message():
    s = load("renhe")
    with pytest.raises(OptimizeError) as run_err:
        run_pipeline(s, PipelineOptions(mode="max-attainment", simulate=False, sweep_steps=0, uncertainty_draws=0))
    with pytest.raises(OptimizeError) as opt_err:
        solve(problem_for(s), mode="max-attainment")
    assert str(run_err.value) == str(opt_err.value) == NO_BUDGET


def test_the_run_plans_within_the_resolved_budget():
    r = run_pipeline(load(FAST), PipelineOptions(simulate=False, sweep_steps=0, uncertainty_draws=0))
    assert r.options.budget == r.problem.budget_total == 2.0e9
    assert r.plan.total_cost <= 2.0e9 * (1 + 1e-9)
