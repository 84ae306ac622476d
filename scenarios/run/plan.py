"""Stage 2 of the data path: scenario + projection -> :class:`AllocationProblem` -> :class:`AllocationPlan`.

When no plan meets every target (min-cost is infeasible), :func:`plan_or_best_reachable`
keeps the diagnosis and returns the best reachable plan instead: max-attainment
under the same constraints, within the scenario's budget when it has one, else at least
cost among equally good plans. The diagnosis's figures are that plan's. For every target
left unmet, :func:`optimize.outlook.outlook` adds the earliest attainable year and the least
change to the binding limit that would meet it on time.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from optimize.outlook import COLUMNS as OUTLOOK_COLUMNS
from optimize.outlook import outlook
from optimize.problem import HORIZON_MAX, AllocationProblem
from optimize.result import AllocationPlan
from optimize.solve import Diagnosis, InfeasiblePlan, best_reachable, solve
from scenarios.inputs.allocation import from_scenario
from scenarios.inputs.population import MEDIUM
from scenarios.run.projection import project
from scenarios.schema import Scenario


def problem_for(
    scenario: Scenario,
    variant: str = MEDIUM,
    budget_total: float | None = None,
    budget_per_year: float | None = None,
    basis: str | None = None,
) -> AllocationProblem:
    """Project ``scenario`` to :data:`HORIZON_MAX` (or its target year, if later) and build its allocation problem."""
    return from_scenario(
        scenario,
        project(scenario, max(scenario.target_year, HORIZON_MAX), [variant]),
        variant,
        budget_total,
        budget_per_year,
        basis,
    )


@dataclass(frozen=True)
class PlanOutcome:
    """A plan and how it was reached: ``mode`` solved (max-attainment when it is the best reachable plan),
    ``diagnosis`` when no plan meets every target, ``outlook`` (earliest year and least change for each unmet
    target; empty when all are met). :func:`scenarios.report.words.plan_note` says it in words."""

    plan: AllocationPlan
    mode: str
    diagnosis: Diagnosis | None = None
    outlook: pd.DataFrame | None = None
    culprit: str | None = None  # the constraint family the diagnosis names (optimize.model.FAMILIES)


def plan_or_best_reachable(problem: AllocationProblem, mode: str = "min-cost", whole_units: bool = True) -> PlanOutcome:
    """Solve ``problem``; when no plan meets every target, the best reachable plan with the diagnosis.

    The fallback is the plan the diagnosis describes: max-attainment under the same constraints,
    within the problem's budget when it has one, else at least cost among equally good plans.
    """
    integer = None if whole_units else False
    try:
        plan = solve(problem, mode=mode, integer=integer)
        diagnosis, culprit = None, None
    except InfeasiblePlan as exc:
        if exc.plan is None:  # the constraints contradict each other: there is no plan to fall back on
            raise
        plan = exc.plan if whole_units else best_reachable(problem, integer=integer)
        mode = "max-attainment"
        diagnosis, culprit = exc.diagnosis, exc.culprit
    look = outlook(problem, plan) if not plan.all_met else pd.DataFrame(columns=OUTLOOK_COLUMNS)
    return PlanOutcome(plan, mode, diagnosis, look, culprit)
