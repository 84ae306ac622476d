"""Solve the allocation model with HiGHS and turn the solution into an :class:`AllocationPlan`.

``min-cost`` meets every target at least cost; when no plan can, :class:`InfeasiblePlan`
says in words which constraint family stands in the way and how far each target falls
short with it enforced. ``max-attainment`` minimises the weighted relative shortfall of
the targets under the budget.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition

from optimize.model import COST_SCALE, FAMILIES, FAMILY_WORDS, ModelOptions, build_model
from optimize.problem import TIERS, AllocationProblem
from optimize.result import AllocationPlan

LABELS = {
    "beds": "beds", "physicians": "physicians", "nurses": "nurses", "gps": "GPs",
    "public_health_staff": "public-health staff", "pharmacists": "pharmacists",
    "tcm_physicians": "TCM physicians", "psychiatrists": "psychiatrists", "health_technicians": "health technicians",
}


class OptimizeError(ValueError):
    """The optimizer was asked for something it cannot do (e.g. max-attainment with no budget)."""


class InfeasiblePlan(Exception):
    """No plan meets every target under the constraints; ``str()`` explains why in words."""

    def __init__(self, message: str, culprit: str, best: pd.DataFrame | None = None):
        super().__init__(message)
        self.culprit = culprit
        self.best = best


def _solver():
    solver = SolverFactory("highs")
    if not solver.available():
        raise OptimizeError("the HiGHS solver (highspy) is not available; install it with 'pip install highspy'")
    return solver


def _run(m: pyo.ConcreteModel, integer: bool, time_limit: float | None, rel_gap: float | None):
    kwargs = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False)
    if time_limit:
        kwargs["time_limit"] = time_limit
    if integer and rel_gap is not None:
        kwargs["rel_gap"] = rel_gap
    return _solver().solve(m, **kwargs)


def _ok(res) -> bool:
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
    res = _run(m, integer, time_limit, rel_gap)
    t2 = time.perf_counter()
    if not _ok(res):
        if res.termination_condition in (TerminationCondition.provenInfeasible,
                                         TerminationCondition.infeasibleOrUnbounded) and diagnose:
            raise diagnose_infeasibility(p)
        raise OptimizeError(f"the solver stopped without a plan: {res.termination_condition.name}")
    res.solution_loader.load_vars()
    duals = {}
    if not integer:
        duals = res.solution_loader.get_duals()
    plan = _extract(p, m, opt, duals)
    plan.status = res.termination_condition.name
    plan.objective = float(res.incumbent_objective)
    if integer and res.objective_bound is not None and res.incumbent_objective:
        plan.mip_gap = abs(res.incumbent_objective - res.objective_bound) / max(abs(res.incumbent_objective), 1e-12)
    plan.build_seconds, plan.solve_seconds = t1 - t0, t2 - t1
    plan.n_variables = m.nvariables()
    plan.n_constraints = m.nconstraints()
    return plan


# -- results -------------------------------------------------------------------------------------


def _extract(p: AllocationProblem, m: pyo.ConcreteModel, opt: ModelOptions, duals: dict) -> AllocationPlan:
    Y = p.target_year
    rows_add, rows_stock, rows_cost = [], [], []
    for r in p.regions:
        for k in p.kinds:
            for t in TIERS:
                rows_stock.append((r, p.base_year, k, t, p.baseline[r, k, t]))
                for y in p.years:
                    a = m.add[r, k, t, y].value or 0.0
                    s = m.stock[r, k, t, y].value or 0.0
                    rows_add.append((r, y, k, t, a))
                    rows_stock.append((r, y, k, t, s))
                    rows_cost.append((y, k, t, p.capital[k, t] * a, p.annual[k, t] * (s - p.baseline[r, k, t])))
    additions = pd.DataFrame(rows_add, columns=["region", "year", "kind", "tier", "added"])
    stocks = pd.DataFrame(rows_stock, columns=["region", "year", "kind", "tier", "stock"])
    costs = (pd.DataFrame(rows_cost, columns=["year", "kind", "tier", "capital_cny", "running_cny"])
             .groupby(["year", "kind", "tier"], as_index=False).sum())
    costs["total_cny"] = costs["capital_cny"] + costs["running_cny"]

    divisor = {(tr.region, tr.kind): tr.divisor for tr in p.targets}
    totals = stocks.groupby(["region", "year", "kind"], as_index=False)["stock"].sum()
    totals["population"] = [p.population[r, y] for r, y in zip(totals["region"], totals["year"])]
    totals["divisor"] = [divisor.get((r, k), 1000.0) for r, k in zip(totals["region"], totals["kind"])]
    totals["unit"] = ["per_" + str(int(d)) for d in totals["divisor"]]
    totals["ratio"] = totals["stock"] / totals["population"] * totals["divisor"]
    ratios = totals.drop(columns="divisor")

    rows_att, rows_dual = [], []
    for i, tr in enumerate(p.targets):
        have = sum(m.stock[tr.region, tr.kind, t, Y].value for t in TIERS)
        pop = p.population[tr.region, Y]
        achieved = have / pop * tr.divisor
        if tr.sense == "floor":
            gap = max(0.0, tr.ratio - achieved)
            attain = min(1.0, achieved / tr.ratio) if tr.ratio > 0 else 1.0
        else:
            gap = max(0.0, achieved - tr.ratio)
            attain = min(1.0, tr.ratio / achieved) if achieved > 0 else 1.0
        met = gap <= 1e-6 * max(1.0, tr.ratio)
        rows_att.append((tr.region, tr.kind, tr.expr, tr.nature, tr.sense, tr.weight, tr.ratio, achieved, attain,
                         gap, gap * pop / tr.divisor, met))
        if duals:
            d = duals.get(m.target[i], 0.0)
            rows_dual.append(_target_dual_row(p, tr, d, opt))
    if duals and p.budget_total is not None and hasattr(m, "budget"):
        rows_dual.append(_budget_dual_row(p, duals.get(m.budget, 0.0), opt))
    attainment = pd.DataFrame(rows_att, columns=[
        "region", "kind", "expr", "nature", "sense", "weight", "target_ratio", "achieved_ratio", "attainment",
        "shortfall_ratio", "shortfall_units", "met"])
    dual_df = pd.DataFrame(rows_dual, columns=["constraint", "region", "kind", "dual", "unit", "explanation"])
    total_cost = float(costs["total_cny"].sum())
    return AllocationPlan(
        mode=opt.mode, status="", objective=0.0, total_cost=total_cost, budget_total=p.budget_total,
        additions=additions, stocks=stocks, ratios=ratios, costs=costs, attainment=attainment, duals=dual_df,
        integer=opt.integer,
    )


def _target_dual_row(p: AllocationProblem, tr, dual: float, opt: ModelOptions) -> tuple:
    Y = p.target_year
    per = tr.unit_label
    units = p.population[tr.region, Y] / tr.divisor  # units of stock per 1 per-capita unit
    name = LABELS.get(tr.kind, tr.kind)
    if opt.mode == "min-cost":
        cny = abs(dual) * COST_SCALE * units
        if cny < 1e-6:
            text = f"The {name} target ({tr.expr} {per}) does not bind: other constraints already carry {name} past it."
        else:
            text = (f"Raising the {Y} {name} target by one {per} ({units:,.0f} {name}) costs CNY {cny:,.0f} more "
                    "over the plan period." if tr.sense == "floor" else
                    f"Lowering the {Y} {name} ceiling by one {per} costs CNY {cny:,.0f} more over the plan period.")
        return ("target", tr.region, tr.kind, cny, f"CNY per 1 {per}", text)
    # max-attainment: the dual prices the target in objective units (weighted relative shortfall)
    value = abs(dual) * units
    text = (f"The {name} target weighs {value:.4f} of the objective per 1 {per}: "
            + ("it is short, so a lower target would free budget for others." if value > 1e-9 else "it is met or does not bind."))
    return ("target", tr.region, tr.kind, value, f"objective per 1 {per}", text)


def _budget_dual_row(p: AllocationProblem, dual: float, opt: ModelOptions) -> tuple:
    if opt.mode == "min-cost":
        value = abs(dual)
        text = ("The budget binds: every extra CNY 1 of budget saves CNY "
                f"{value:.4f} of cost." if value > 1e-9 else "The budget does not bind: the least-cost plan fits within it.")
        return ("budget_total", "", "", value, "CNY per CNY", text)
    weight_sum = sum(tr.weight for tr in p.targets) or 1.0
    pp = abs(dual) / weight_sum * 100.0  # percentage points of weighted attainment per CNY 1 million
    text = (f"Each extra CNY 1 million of budget raises the weighted attainment of the targets by {pp:.4f} percentage points."
            if pp > 1e-9 else "The budget does not bind: every target is met, or other limits stop further progress.")
    return ("budget_total", "", "", pp, "attainment points per CNY 1 million", text)


# -- infeasibility diagnosis -----------------------------------------------------------------


def _feasible(p: AllocationProblem, families: frozenset[str], elastic: bool = False) -> bool:
    m = build_model(p, ModelOptions(mode="min-cost", families=families, elastic_targets=elastic))
    return _ok(_run(m, False, 60.0, None))


def _first_breaking(p: AllocationProblem, elastic: bool) -> tuple[frozenset[str], str | None]:
    """Add the constraint families in order; return those kept and the first that breaks (or None)."""
    enforced: frozenset[str] = frozenset()
    for fam in FAMILIES:
        if not _feasible(p, enforced | {fam}, elastic):
            return enforced, fam
        enforced = enforced | {fam}
    return enforced, None


def floor_cost(p: AllocationProblem) -> float:
    """Least cost (CNY) of keeping every constraint but the budget, with no target pursued."""
    fams = frozenset(f for f in FAMILIES if not f.startswith("budget"))
    m = build_model(p, ModelOptions(mode="min-cost", families=fams, elastic_targets=True))
    res = _run(m, False, 60.0, None)
    if not _ok(res):
        raise diagnose_infeasibility(p)
    res.solution_loader.load_vars()
    return float(_extract(p, m, ModelOptions(mode="min-cost"), {}).total_cost)


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
    # Best reachable with the culprit enforced: an elastic solve (all targets weighted 1).
    with_culprit = enforced | {culprit}
    m = build_model(p, ModelOptions(mode="min-cost", families=with_culprit, elastic_targets=True))
    # Replace the objective: minimise relative shortfall, tie-break on cost.
    m.objective.deactivate()
    m.elastic_obj = pyo.Objective(expr=sum(m.shortfall[i] / max(tr.ratio, 1e-9) for i, tr in enumerate(p.targets))
                                  + 1e-9 * sum(m.cost[y] for y in p.years))
    res = _run(m, False, 60.0, None)
    best = None
    lines = []
    if _ok(res):
        res.solution_loader.load_vars()
        rows = []
        for i, tr in enumerate(p.targets):
            short = m.shortfall[i].value or 0.0
            if short > 1e-6 * max(tr.ratio, 1.0):
                reach = tr.ratio - short if tr.sense == "floor" else tr.ratio + short
                rows.append((tr.region, tr.kind, tr.expr, tr.ratio, reach, short))
                lines.append(f"  {LABELS.get(tr.kind, tr.kind)} ({tr.region}): best reachable {reach:.3g} {tr.unit_label} "
                             f"against the target {tr.expr}, short by {short:.3g}")
        best = pd.DataFrame(rows, columns=["region", "kind", "expr", "target_ratio", "best_ratio", "shortfall_ratio"])
    msg = [f"No plan meets every target in {p.target_year}: {FAMILY_WORDS[culprit]} cannot be kept together with the targets"
           + (f" (with {', '.join(sorted(enforced))} also enforced)." if enforced else ".")]
    if culprit in ("budget_total", "budget_per_year"):
        need = solve(p.with_budget(None, None) if culprit == "budget_total" else p.with_budget(p.budget_total, None),
                     mode="min-cost", diagnose=False)
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
