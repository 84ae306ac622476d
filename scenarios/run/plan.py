"""Stage 2 of the data path: scenario + projection -> :class:`AllocationProblem` -> :class:`AllocationPlan`.

When no plan meets every target (min-cost is infeasible), :func:`plan_or_best_reachable`
keeps the worded diagnosis and returns the best reachable plan instead: max-attainment
under the same constraints, within the scenario's budget when it has one, else with an
unlimited budget and cost as the tie-break.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimize.problem import AllocationProblem, ProblemError, TargetRow
from optimize.result import AllocationPlan
from optimize.solve import InfeasiblePlan, solve
from scenarios.labels import resource_label
from scenarios.run.projection import MEDIUM, project
from scenarios.schema import UNIT_DIVISOR, Scenario
from sim.population import ProjectionResult

UNLIMITED = 1e15  # CNY: a budget that never binds (never printed as a figure)


def tier_split(scenario: Scenario, kind: str, total: float | None = None) -> dict[str, float]:
    """Split a resource's base-year stock (or ``total``) into {'hospital', 'primary'} by its primary-care share."""
    s = scenario
    try:
        share = s.primary_share(kind)
    except KeyError:
        raise ProblemError(
            f"scenario '{s.id}': resources.{kind}: no primary_share and no primary_share_defaults.{kind}; "
            "expected the base-year share of the resource in primary care"
        ) from None
    total = s.baseline_stock(kind) if total is None else total
    return {"primary": total * share, "hospital": total * (1 - share)}


def _targets(s: Scenario, region: str) -> tuple[TargetRow, ...]:
    w = s.plan.weights
    rows = []
    for k, res in s.resources.items():
        if res.target is None:
            continue
        base_ratio = s.baseline_ratio(k)
        rows.append(TargetRow(
            region=region, kind=k, sense=res.target.parsed.sense, ratio=res.target.parsed.resolve(base_ratio),
            divisor=UNIT_DIVISOR[res.unit], nature=res.target.nature, expr=res.target.expr,
            baseline_ratio=base_ratio,
            weight=(w.binding if res.target.nature == "binding" else w.expected) * w.kinds.get(k, 1.0),
            label=resource_label(k),
        ))
    return tuple(rows)


def _costs(s: Scenario, kinds: tuple[str, ...]) -> tuple[dict, dict]:
    missing = [k for k in kinds if k not in s.costs]
    if missing:
        raise ProblemError(
            f"scenario '{s.id}': costs: no costs for {', '.join(missing)}; expected [costs.<kind>] with capital and annual (CNY)"
        )
    capital, annual = {}, {}
    for k in kinds:
        c = s.costs[k]
        factor = c.primary_factor.value if c.primary_factor else 1.0
        capital[k, "hospital"], annual[k, "hospital"] = c.capital.value, c.annual.value
        capital[k, "primary"], annual[k, "primary"] = c.capital.value * factor, c.annual.value * factor
    return capital, annual


def from_scenario(
    scenario: Scenario,
    projection: ProjectionResult,
    variant: str = MEDIUM,
    budget_total: float | None = None,
    budget_per_year: float | None = None,
) -> AllocationProblem:
    """Build the LP data for one scenario (one region) from its projection; budgets in CNY."""
    s = scenario
    region = s.id
    population = {(region, y): projection.population(y, variant) for y in range(s.base_year, s.target_year + 1)}
    kinds = tuple(s.resources)
    baseline = {(region, k, t): v for k in kinds for t, v in tier_split(s, k).items()}
    capital, annual = _costs(s, kinds)
    c, on = s.constraints, s.constraints.enabled
    max_add = ({(region, k): c.max_additions_share[k].value * s.baseline_stock(k) for k in kinds if k in c.max_additions_share}
               if on.hiring_limits else {})

    def switched(flag: bool, q) -> float | None:
        return q.value if flag and q is not None else None

    plan_budget = s.plan.budget_total.value if s.plan.budget_total else None
    plan_per_year = s.plan.budget_per_year.value if s.plan.budget_per_year else None
    return AllocationProblem(
        regions=(region,), kinds=kinds, base_year=s.base_year, target_year=s.target_year,
        baseline=baseline, population=population, targets=_targets(s, region), capital=capital, annual=annual,
        attrition={k: c.attrition[k].value for k in kinds if k in c.attrition},
        max_additions=max_add,
        nurse_physician_ratio_min=switched(on.nurse_physician_ratio, c.nurse_physician_ratio_min),
        hospital_nurses_per_bed_min=switched(on.hospital_nurses_per_bed, c.hospital_nurses_per_bed_min),
        gp_primary_share_min=switched(on.gp_primary_share, c.gp_primary_share_min),
        primary_share_shift_max=switched(on.primary_share_band, c.primary_share_shift_max),
        allow_disinvestment=on.disinvestment,
        budget_total=budget_total if budget_total is not None else plan_budget,
        budget_per_year=budget_per_year if budget_per_year is not None else plan_per_year,
    )


def problem_for(scenario: Scenario, variant: str = MEDIUM, budget_total: float | None = None,
                budget_per_year: float | None = None) -> AllocationProblem:
    """Project ``scenario`` to its target year and build its allocation problem."""
    return from_scenario(scenario, project(scenario, scenario.target_year, [variant]), variant,
                         budget_total, budget_per_year)


@dataclass(frozen=True)
class PlanOutcome:
    """A plan and how it was reached: ``note`` in words, ``diagnosis`` when no plan meets every target."""

    plan: AllocationPlan
    mode: str
    note: str
    diagnosis: str | None = None


def plan_or_best_reachable(problem: AllocationProblem, mode: str = "min-cost") -> PlanOutcome:
    """Solve ``problem``; when no plan meets every target, the best reachable plan with the diagnosis.

    The fallback is max-attainment under the same constraints, within the problem's budget
    when it has one, else with an unlimited budget (cost as the tie-break).
    """
    budget = problem.budget_total
    if mode == "max-attainment" and budget is None:
        mode = "min-cost"
    try:
        plan = solve(problem, mode=mode)
        note = f"{mode} plan" + (f" within a budget of CNY {budget:,.0f}" if budget is not None else "")
        return PlanOutcome(plan, mode, note)
    except InfeasiblePlan as exc:
        plan = solve(problem.with_budget(budget if budget is not None else UNLIMITED), mode="max-attainment")
        note = ("no plan meets every target; this is the best reachable plan under the constraints "
                + (f"and the budget of CNY {budget:,.0f}" if budget is not None else "at least cost"))
        return PlanOutcome(plan, "max-attainment", note, str(exc))

