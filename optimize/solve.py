"""Solve the allocation model with HiGHS; export it; diagnose infeasibility in words.

``min-cost`` meets every target at least cost; when no plan can, :class:`InfeasiblePlan`
says in words which constraint family stands in the way and how far each target falls
short with it enforced. ``max-attainment`` minimises the weighted relative shortfall of
the targets under the budget.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition

from optimize.model import FAMILIES, FAMILY_WORDS, ModelOptions, build_model
from optimize.problem import AllocationProblem
from optimize.result import AllocationPlan, extract_plan

class OptimizeError(ValueError):
    """The optimizer was asked for something it cannot do (e.g. max-attainment with no budget)."""


class InfeasiblePlan(Exception):
    """No plan meets every target under the constraints; ``str()`` explains why in words."""

    def __init__(self, message: str, culprit: str, best: pd.DataFrame | None = None):
        super().__init__(message)
        self.culprit = culprit
        self.best = best


def solver():
    """The HiGHS solver (through highspy), or a clear error when it is missing."""
    solver = SolverFactory("highs")
    if not solver.available():
        raise OptimizeError("the HiGHS solver (highspy) is not available; install it with 'pip install highspy'")
    return solver


def run_model(m: pyo.ConcreteModel, integer: bool = False, time_limit: float | None = None, rel_gap: float | None = None):
    """Solve a built model with HiGHS without loading the solution; return the results object."""
    kwargs = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False)
    if time_limit:
        kwargs["time_limit"] = time_limit
    if integer and rel_gap is not None:
        kwargs["rel_gap"] = rel_gap
    return solver().solve(m, **kwargs)


def solved(res) -> bool:
    """Whether a run produced a usable solution (optimal, or stopped at a limit with an incumbent)."""
    return res.termination_condition in (
        TerminationCondition.convergenceCriteriaSatisfied,
        TerminationCondition.maxTimeLimit,
        TerminationCondition.iterationLimit,
    ) and res.incumbent_objective is not None


def export_model(p: AllocationProblem, path: str | Path, mode: str = "min-cost", integer: bool = False) -> Path:
    """Write the model as ``.lp`` or ``.mps`` (by extension) for re-solving elsewhere."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("lp", "mps"):
        raise OptimizeError(f"--export-model {path}: expected a file ending in .lp or .mps")
    if mode == "max-attainment" and p.budget_total is None:
        raise OptimizeError("max-attainment needs a budget: pass --budget CNY or set plan.budget_total")
    m = build_model(p, ModelOptions(mode=mode, integer=integer))
    path.parent.mkdir(parents=True, exist_ok=True)
    m.write(str(path), io_options={"symbolic_solver_labels": True})  # format from the extension
    return path


def solve(
    p: AllocationProblem,
    mode: str = "min-cost",
    integer: bool = False,
    time_limit: float | None = 300.0,
    rel_gap: float | None = 1e-4,
    diagnose: bool = True,
) -> AllocationPlan:
    """Solve ``p``; raise :class:`InfeasiblePlan` (min-cost) with a diagnosis when no plan exists."""
    if mode not in ("min-cost", "max-attainment"):
        raise OptimizeError(f"mode {mode!r}: expected 'min-cost' or 'max-attainment'")
    if mode == "max-attainment" and p.budget_total is None:
        raise OptimizeError("max-attainment needs a budget: pass --budget CNY or set plan.budget_total in the scenario")
    if mode == "max-attainment" and not p.targets:
        raise OptimizeError("max-attainment needs at least one resource target in the scenario")
    opt = ModelOptions(mode=mode, integer=integer)
    t0 = time.perf_counter()
    m = build_model(p, opt)
    t1 = time.perf_counter()
    res = run_model(m, integer, time_limit, rel_gap)
    t2 = time.perf_counter()
    if not solved(res):
        if res.termination_condition in (TerminationCondition.provenInfeasible,
                                         TerminationCondition.infeasibleOrUnbounded) and diagnose:
            raise diagnose_infeasibility(p)
        raise OptimizeError(f"the solver stopped without a plan: {res.termination_condition.name}")
    res.solution_loader.load_vars()
    duals = {}
    if not integer:
        duals = res.solution_loader.get_duals()
    plan = extract_plan(p, m, opt, duals)
    plan.status = res.termination_condition.name
    plan.objective = float(res.incumbent_objective)
    if integer and res.objective_bound is not None and res.incumbent_objective:
        plan.mip_gap = abs(res.incumbent_objective - res.objective_bound) / max(abs(res.incumbent_objective), 1e-12)
    plan.build_seconds, plan.solve_seconds = t1 - t0, t2 - t1
    plan.n_variables = m.nvariables()
    plan.n_constraints = m.nconstraints()
    return plan


# -- infeasibility diagnosis -----------------------------------------------------------------


def _feasible(p: AllocationProblem, families: frozenset[str], elastic: bool = False) -> bool:
    m = build_model(p, ModelOptions(mode="min-cost", families=families, elastic_targets=elastic))
    return solved(run_model(m, False, 60.0, None))


def _first_breaking(p: AllocationProblem, elastic: bool) -> tuple[frozenset[str], str | None]:
    """Add the constraint families in order; return those kept and the first that breaks (or None).

    Each prefix of :data:`FAMILIES` holds the one before it, so feasibility only falls as families
    are added: one solve settles the common case, and a bisection finds the first breaking
    family in log2(families) more solves instead of one solve per family.
    """
    if _feasible(p, frozenset(FAMILIES), elastic):
        return frozenset(FAMILIES), None
    ok, broken = 0, len(FAMILIES)  # the prefix of length `ok` is feasible (none enforced), `broken` is not
    while broken - ok > 1:
        mid = (ok + broken) // 2
        if _feasible(p, frozenset(FAMILIES[:mid]), elastic):
            ok = mid
        else:
            broken = mid
    return frozenset(FAMILIES[: broken - 1]), FAMILIES[broken - 1]


def floor_cost(p: AllocationProblem) -> float:
    """Least cost (CNY) of keeping every constraint but the budget, with no target pursued."""
    fams = frozenset(f for f in FAMILIES if not f.startswith("budget"))
    m = build_model(p, ModelOptions(mode="min-cost", families=fams, elastic_targets=True))
    res = run_model(m, False, 60.0, None)
    if not solved(res):
        raise diagnose_infeasibility(p)
    res.solution_loader.load_vars()
    return float(extract_plan(p, m, ModelOptions(mode="min-cost"), {}).total_cost)


def _best_reachable(p: AllocationProblem, families: frozenset[str]) -> tuple[pd.DataFrame | None, list[str]]:
    """Best reachable value of each short target with ``families`` enforced (elastic solve, all targets
    weighted 1 by relative shortfall, cost as tie-break): a table and one line per short target."""
    m = build_model(p, ModelOptions(mode="min-cost", families=families, elastic_targets=True))
    m.objective.deactivate()
    m.elastic_obj = pyo.Objective(expr=sum(m.shortfall[i] / max(tr.ratio, 1e-9) for i, tr in enumerate(p.targets))
                                  + 1e-9 * sum(m.cost[y] for y in p.years))
    res = run_model(m, False, 60.0, None)
    if not solved(res):
        return None, []
    res.solution_loader.load_vars()
    rows, lines = [], []
    for i, tr in enumerate(p.targets):
        short = m.shortfall[i].value or 0.0
        if short > 1e-6 * max(tr.ratio, 1.0):
            reach = tr.ratio - short if tr.sense == "floor" else tr.ratio + short
            rows.append((tr.region, tr.kind, tr.expr, tr.ratio, reach, short))
            lines.append(f"  {tr.name} ({tr.region}): best reachable {reach:.3g} {tr.unit_label} "
                         f"against the target {tr.expr}, short by {short:.3g}")
    best = pd.DataFrame(rows, columns=["region", "kind", "expr", "target_ratio", "best_ratio", "shortfall_ratio"])
    return best, lines


def diagnose_infeasibility(p: AllocationProblem) -> InfeasiblePlan:
    """Name, in words, the constraint family that makes the plan impossible.

    First the families are added one by one with every target relaxed: a failure there
    means the constraints contradict each other whatever the targets. Otherwise they are
    added one by one to the hard targets and the first that fails is named, with the best
    reachable value of each target under it.
    """
    enforced_alone, fam = _first_breaking(p, elastic=True)
    if fam is not None:
        others = ", ".join(FAMILY_WORDS[f] for f in FAMILIES if f in enforced_alone) or "nothing else"
        msg = (f"The constraints contradict each other, whatever the targets: {FAMILY_WORDS[fam]} cannot hold "
               f"together with {others}.")
        if fam == "nurse_physician_ratio" and p.nurse_physician_ratio_min is not None:
            msg += (f" Reaching {p.nurse_physician_ratio_min:g} nurses per physician by {p.target_year} needs more "
                    "nurses than the yearly limits on additions allow.")
        elif fam.startswith("budget"):
            msg += " The budget is below the cost of keeping the base-year stock (replacing staff who leave)."
        msg += " Relax one of them in the scenario ([constraints] or [constraints.enabled])."
        return InfeasiblePlan(msg, fam)
    enforced, culprit = _first_breaking(p, elastic=False)
    if culprit is None:  # should not happen: all families together were infeasible
        return InfeasiblePlan("No plan meets every target, but no single constraint family explains it.", "unknown")
    best, lines = _best_reachable(p, enforced | {culprit})
    msg = [f"No plan meets every target in {p.target_year}: {FAMILY_WORDS[culprit]} cannot be kept together with the targets"
           + (f" (with {', '.join(sorted(enforced))} also enforced)." if enforced else ".")]
    if culprit in ("budget_total", "budget_per_year"):
        # without the culprit budget (with_budget keeps a per-year cap given as None, so replace both)
        unbudgeted = replace(p, budget_total=None if culprit == "budget_total" else p.budget_total, budget_per_year=None)
        need = solve(unbudgeted, mode="min-cost", diagnose=False)
        if culprit == "budget_total":
            msg.append(f"Meeting every target needs CNY {need.total_cost:,.0f}; the budget is CNY {p.budget_total:,.0f} "
                       f"(short by CNY {need.total_cost - p.budget_total:,.0f}).")
        else:
            peak = need.costs.groupby("year")["total_cny"].sum().max()
            msg.append(f"The least-cost plan peaks at CNY {peak:,.0f} in one year; the yearly cap is CNY {p.budget_per_year:,.0f}.")
    if lines:
        msg.append(f"With {FAMILY_WORDS[culprit]} enforced:")
        msg.extend(lines)
    msg.append("Run with --mode max-attainment (and a --budget) for the best plan, or relax that constraint in the scenario.")
    return InfeasiblePlan("\n".join(msg), culprit, best)
