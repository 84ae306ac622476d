"""Solve the allocation model with HiGHS in whole units; export it; diagnose infeasibility.

``min-cost`` meets every target at least cost; when no plan can, :class:`InfeasiblePlan`
carries a :class:`Diagnosis` (which constraint family stands in the way) and the best reachable
plan (the same plan a pipeline falls back to, so the words and the plan agree).
``max-attainment`` minimises the weighted relative shortfall of the targets under the budget.

Whole units: the LP relaxation is solved first (for shadow prices); then the MILP, within
:data:`MILP_SECONDS` by default. When the MILP finds no whole plan in time, the LP plan is
rounded with a repair step that keeps every constraint: a MILP confined to the whole
numbers next to the LP's additions (relaxation-enforced neighbourhood search).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition

from optimize.model import FAMILIES, ModelOptions, build_model, target_scale
from optimize.problem import AllocationProblem
from optimize.result import AllocationPlan, extract_plan

MILP_SECONDS = 5.0  # time limit of the whole-unit solve by default; beyond it the LP plan is rounded and repaired
REPAIR_SECONDS = 20.0
GAP_ACCEPTED = 1e-3  # a MILP plan further than this from optimal is compared with the repaired LP plan
SHORTFALL_UNITS = 3.0  # whole-unit max-attainment plans may fall this many units further short than the LP


class OptimizeError(ValueError):
    """The optimizer was asked for something it cannot do (e.g. max-attainment with no budget)."""


@dataclass(frozen=True)
class Shortfall:
    """A target the best reachable plan leaves unmet: its value reached and shortfall (ratio, or share 0-1)."""

    region: str
    kind: str
    measure: str  # "ratio" or "private_share"
    name: str
    expr: str
    unit: str  # the target's unit label ("per 1,000", "share")
    reached: float
    short: float


@dataclass(frozen=True)
class Diagnosis:
    """Why no plan meets every target, as kinds and numbers (the words: ``scenarios/report/words.py``).

    ``case``: ``contradiction`` (the constraints fail together whatever the targets: ``family`` cannot hold with
    ``families``), ``targets`` (``family`` is the first that cannot be kept with the targets, ``families`` also
    enforced) or ``unknown``. ``limit`` is the limit's value in ``unit`` (``cny``: the budget or yearly cap, with
    ``needed`` what the least-cost plan needs, its total or its peak year; ``nurses_per_physician``: the ratio floor
    to reach by ``year``); ``shortfalls`` the best reachable plan's unmet targets.
    """

    case: str
    family: str
    year: int  # the target year
    families: tuple[str, ...] = ()
    limit: float | None = None
    needed: float | None = None
    unit: str = ""
    shortfalls: tuple[Shortfall, ...] = ()

    def as_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


class InfeasiblePlan(Exception):
    """No plan meets every target under the constraints; ``diagnosis`` says why (as a :class:`Diagnosis`).

    ``plan`` is the best reachable plan (max-attainment under every constraint, whole units) when
    one exists; ``best`` its unmet targets (region, kind, expr, target_ratio, best_ratio, shortfall_ratio).
    ``str()`` is the binding family's name only; the sentences are written from ``diagnosis``.
    """

    def __init__(self, diagnosis: Diagnosis, best: pd.DataFrame | None = None, plan: AllocationPlan | None = None):
        super().__init__(diagnosis.family)
        self.diagnosis = diagnosis
        self.best = best
        self.plan = plan

    @property
    def culprit(self) -> str:
        """The constraint family the diagnosis names (optimize.model.FAMILIES, or 'unknown')."""
        return self.diagnosis.family


def solver():
    """The HiGHS solver (through highspy), or a clear error when it is missing."""
    solver = SolverFactory("highs")
    if not solver.available():
        raise OptimizeError("the HiGHS solver (highspy) is not available; install it with 'pip install highspy'")
    return solver


def run_model(
    m: pyo.ConcreteModel, integer: bool = False, time_limit: float | None = None, rel_gap: float | None = None
):
    """Solve a built model with HiGHS without loading the solution; return the results object."""
    kwargs = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False)
    if time_limit:
        kwargs["time_limit"] = time_limit
    if integer and rel_gap is not None:
        kwargs["rel_gap"] = rel_gap
    return solver().solve(m, **kwargs)


def solved(res) -> bool:
    """Whether a run produced a usable solution (optimal, or stopped at a limit with an incumbent)."""
    return (
        res.termination_condition
        in (
            TerminationCondition.convergenceCriteriaSatisfied,
            TerminationCondition.maxTimeLimit,
            TerminationCondition.iterationLimit,
        )
        and res.incumbent_objective is not None
    )


def _infeasible(res) -> bool:
    return res.termination_condition in (
        TerminationCondition.provenInfeasible,
        TerminationCondition.infeasibleOrUnbounded,
    )


MODES = ("min-cost", "max-attainment")
NO_BUDGET = "max-attainment needs a budget: pass --budget CNY or set plan.budget_total in the scenario"


def check_mode(mode: str, budgeted: bool) -> None:
    """Refuse an unknown mode, and max-attainment without a plan budget (``budgeted`` False): what a missing
    budget means, said once for ``solve``, the model export and the run options."""
    if mode not in MODES:
        raise OptimizeError(f"mode {mode!r}: expected 'min-cost' or 'max-attainment'")
    if mode == "max-attainment" and not budgeted:
        raise OptimizeError(NO_BUDGET)


def export_model(p: AllocationProblem, path: str | Path, mode: str = "min-cost", integer: bool = False) -> Path:
    """Write the model as ``.lp`` or ``.mps`` (by extension) for re-solving elsewhere."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("lp", "mps"):
        raise OptimizeError(f"--export-model {path}: expected a file ending in .lp or .mps")
    check_mode(mode, p.budget_total is not None)
    m = build_model(p, ModelOptions(mode=mode, integer=integer))
    path.parent.mkdir(parents=True, exist_ok=True)
    m.write(str(path), io_options={"symbolic_solver_labels": True})  # format from the extension
    return path


def _check_mode(p: AllocationProblem, mode: str, budgetless: bool) -> None:
    check_mode(mode, p.budget_total is not None or budgetless)  # budgetless: the best reachable plan, least cost
    if mode == "max-attainment" and not p.targets and not p.floors:
        raise OptimizeError("max-attainment needs at least one resource target (or floor) in the scenario")


def solve(
    p: AllocationProblem,
    mode: str = "min-cost",
    integer: bool | None = None,
    time_limit: float | None = 300.0,
    rel_gap: float | None = 1e-4,
    diagnose: bool = True,
    budgetless: bool = False,
) -> AllocationPlan:
    """Solve ``p``; raise :class:`InfeasiblePlan` (min-cost) with a diagnosis when no plan exists.

    ``integer``: None (default) gives whole units (MILP within :data:`MILP_SECONDS`, else the LP
    rounded and repaired); True the MILP with ``time_limit``; False the fractional LP.
    ``budgetless`` lets max-attainment run with no budget (the best reachable plan at least cost).
    max-attainment is solved in two stages: the least weighted shortfall, then the least cost that
    keeps every target's shortfall (in whole units: within :data:`SHORTFALL_UNITS` units of it).
    Shadow prices (``duals``) are those of the first-stage LP relaxation.
    """
    _check_mode(p, mode, budgetless)
    opt = ModelOptions(mode=mode)
    t0 = time.perf_counter()
    m = build_model(p, opt)
    t1 = time.perf_counter()
    res = run_model(m, False, time_limit)
    if not solved(res):
        if _infeasible(res) and diagnose:
            raise diagnose_infeasibility(p)
        raise OptimizeError(f"the solver stopped without a plan: {res.termination_condition.name}")
    res.solution_loader.load_vars()
    duals = {c.name: v for c, v in res.solution_loader.get_duals().items()}
    stage, lp_caps = opt, None
    if mode == "max-attainment":  # second stage: least cost among plans as good as the first stage's
        lp_caps = tuple(float(m.shortfall[i].value or 0.0) for i in range(len(p.targets)))
        stage = ModelOptions(mode="min-cost", elastic_targets=True, shortfall_caps=lp_caps)
        m = build_model(p, stage)
        res = run_model(m, False, time_limit)
        res.solution_loader.load_vars()
    t2 = time.perf_counter()
    if integer is False:
        plan = extract_plan(p, m, opt, duals)
        plan.rounding, plan.status, plan.objective = (
            "lp",
            res.termination_condition.name,
            float(res.incumbent_objective),
        )
    else:
        plan = _whole_plan(
            p, m, _whole_stages(p, stage, lp_caps), opt, duals, time_limit if integer else MILP_SECONDS, rel_gap
        )
    plan.build_seconds, plan.solve_seconds = t1 - t0, t2 - t1 + plan.solve_seconds
    plan.n_variables, plan.n_constraints = m.nvariables(), m.nconstraints()
    return plan


def _whole_stages(p: AllocationProblem, stage: ModelOptions, lp_caps: tuple[float, ...] | None) -> list[ModelOptions]:
    """The whole-unit models to try in turn: the LP's own, or (max-attainment) least cost with each short target
    allowed 1, then :data:`SHORTFALL_UNITS` whole units further short than the LP (met targets stay met), then
    (a tight budget) the least weighted shortfall in whole units."""
    if lp_caps is None:
        return [replace(stage, integer=True)]
    Y = p.target_year
    capped = [
        replace(
            stage,
            integer=True,
            shortfall_caps=tuple(
                c + units / target_scale(p, tr, Y) if c > 1e-9 else 0.0 for c, tr in zip(lp_caps, p.targets)
            ),
        )
        for units in (1.0, SHORTFALL_UNITS)
    ]
    return capped + [ModelOptions(mode="max-attainment", integer=True)]  # last: the least shortfall in whole units


def _whole_plan(
    p: AllocationProblem,
    lp: pyo.ConcreteModel,
    stages: list[ModelOptions],
    opt: ModelOptions,
    duals: dict,
    seconds: float | None,
    rel_gap: float | None,
) -> AllocationPlan:
    """The first MILP of ``stages`` solved within ``seconds``; when it has no plan in time, or only one further
    than :data:`GAP_ACCEPTED` from optimal, the LP plan ``lp`` rounded and repaired (every constraint kept), if
    that is better. The plan is labelled with the caller's options ``opt``."""
    t0 = time.perf_counter()
    for iopt in stages:
        m = build_model(p, iopt)
        res = run_model(m, True, seconds, rel_gap)
        if solved(res):
            break
    rounding = "milp"
    if not solved(res) or _gap(res) > GAP_ACCEPTED:
        repaired = _repair(p, lp, iopt, rel_gap)
        if repaired is not None and (not solved(res) or repaired[1].incumbent_objective < res.incumbent_objective):
            (m, res), rounding = repaired, "repaired"
    if not solved(res):
        raise OptimizeError(
            "no plan in whole units was found within the time limit; "
            "relax a constraint or solve the continuous plan (integer=False)"
        )
    res.solution_loader.load_vars()
    plan = extract_plan(p, m, opt, duals, whole=True)
    plan.rounding, plan.status, plan.objective = (
        rounding,
        res.termination_condition.name,
        float(res.incumbent_objective),
    )
    plan.mip_gap = _gap(res) if res.objective_bound is not None else None
    if rounding == "repaired":  # the neighbourhood's own bound says little: measure against the LP relaxation
        inc, bound = float(res.incumbent_objective), float(pyo.value(lp.objective))
        plan.mip_gap = max(0.0, (inc - bound) / max(abs(inc), 1e-12))
    plan.solve_seconds = time.perf_counter() - t0
    return plan


def _gap(res) -> float:
    if res.objective_bound is None or res.incumbent_objective is None:
        return float("inf")
    return abs(res.incumbent_objective - res.objective_bound) / max(abs(res.incumbent_objective), 1e-12)


def _repair(p: AllocationProblem, lp: pyo.ConcreteModel, iopt: ModelOptions, rel_gap: float | None):
    """Round the LP plan: the MILP with every addition confined to the whole numbers next to the LP's
    (widened by 2 if that has no plan). Returns (model, results) or None."""
    for widen in (0, 2):
        m = build_model(p, iopt)
        for idx, var in m.add.items():
            x = lp.add[idx].value or 0.0
            var.setlb(max(0, math.floor(x + 1e-9) - widen))
            var.setub(math.ceil(x - 1e-9) + widen)
        res = run_model(m, True, REPAIR_SECONDS, rel_gap)
        if solved(res):
            return m, res
    return None


def best_reachable(p: AllocationProblem, integer: bool | None = None) -> AllocationPlan:
    """The best reachable plan: max-attainment under every constraint, within the budget when there is one,
    else at least cost among equally good plans. The fallback of a pipeline and the diagnosis's figures."""
    return solve(p, mode="max-attainment", integer=integer, budgetless=True, diagnose=False)


# -- infeasibility diagnosis -----------------------------------------------------------------


def feasible(p: AllocationProblem, families: frozenset[str], elastic: bool = False) -> bool:
    """Whether the LP with ``families`` enforced (targets hard unless ``elastic``) has a solution."""
    m = build_model(p, ModelOptions(mode="min-cost", families=families, elastic_targets=elastic))
    return solved(run_model(m, False, 60.0, None))


def _first_breaking(p: AllocationProblem, elastic: bool) -> tuple[frozenset[str], str | None]:
    """Add the constraint families in order; return those kept and the first that breaks (or None).

    Each prefix of :data:`FAMILIES` holds the one before it, so feasibility only falls as families
    are added: one solve settles the common case, and a bisection finds the first breaking
    family in log2(families) more solves instead of one solve per family.
    """
    if feasible(p, frozenset(FAMILIES), elastic):
        return frozenset(FAMILIES), None
    ok, broken = 0, len(FAMILIES)  # the prefix of length `ok` is feasible (none enforced), `broken` is not
    while broken - ok > 1:
        mid = (ok + broken) // 2
        if feasible(p, frozenset(FAMILIES[:mid]), elastic):
            ok = mid
        else:
            broken = mid
    return frozenset(FAMILIES[: broken - 1]), FAMILIES[broken - 1]


def floor_cost(p: AllocationProblem) -> float:
    """Least cost (CNY) of keeping every constraint but the budget, with no target pursued (LP)."""
    fams = frozenset(f for f in FAMILIES if not f.startswith("budget"))
    m = build_model(p, ModelOptions(mode="min-cost", families=fams, elastic_targets=True))
    res = run_model(m, False, 60.0, None)
    if not solved(res):
        raise diagnose_infeasibility(p)
    res.solution_loader.load_vars()
    return float(extract_plan(p, m, ModelOptions(mode="min-cost"), {}).total_cost)


def shortfalls(plan: AllocationPlan) -> tuple[pd.DataFrame, tuple[Shortfall, ...]]:
    """The unmet targets of ``plan`` as a table and as :class:`Shortfall` records, both from its attainment table."""
    if plan.attainment.empty:  # no targets (a plan sized by need only): nothing to list
        return pd.DataFrame(columns=["region", "kind", "expr", "target_ratio", "best_ratio", "shortfall_ratio"]), ()
    att = plan.attainment[~plan.attainment["met"]]
    best = pd.DataFrame(
        {
            "region": att["region"],
            "kind": att["kind"],
            "expr": att["expr"],
            "target_ratio": att["target_ratio"],
            "best_ratio": att["achieved_ratio"],
            "shortfall_ratio": att["shortfall_ratio"],
        }
    ).reset_index(drop=True)
    rows = tuple(
        Shortfall(
            row.region,
            row.kind,
            row.measure,
            row.name,
            row.expr,
            row.unit,
            float(row.achieved_ratio),
            float(row.shortfall_ratio),
        )
        for row in att.itertuples(index=False)
    )
    return best, rows


def diagnose_infeasibility(p: AllocationProblem) -> InfeasiblePlan:
    """Find the constraint family that makes the plan impossible, as a :class:`Diagnosis`.

    First the families are added one by one with every target relaxed: a failure there
    means the constraints contradict each other whatever the targets. Otherwise they are
    added one by one to the hard targets and the first that fails is named, with the best
    reachable plan under every constraint (the one :func:`best_reachable` returns).
    """
    enforced_alone, fam = _first_breaking(p, elastic=True)
    if fam is not None:
        ratio = fam == "nurse_physician_ratio" and p.nurse_physician_ratio_min is not None
        return InfeasiblePlan(
            Diagnosis(
                "contradiction",
                fam,
                p.target_year,
                tuple(f for f in FAMILIES if f in enforced_alone),
                limit=p.nurse_physician_ratio_min if ratio else None,
                unit="nurses_per_physician" if ratio else "",
            )
        )
    enforced, culprit = _first_breaking(p, elastic=False)
    if culprit is None:  # should not happen: all families together were infeasible
        return InfeasiblePlan(Diagnosis("unknown", "unknown", p.target_year))
    plan = best_reachable(p)
    best, rows = shortfalls(plan)
    limit = needed = None
    if culprit in ("budget_total", "budget_per_year"):
        # without the culprit budget (with_budget keeps a per-year cap given as None, so replace both)
        unbudgeted = replace(
            p, budget_total=None if culprit == "budget_total" else p.budget_total, budget_per_year=None
        )
        need = solve(unbudgeted, mode="min-cost", diagnose=False)
        if culprit == "budget_total":
            limit, needed = p.budget_total, need.total_cost
        else:
            limit, needed = p.budget_per_year, float(need.costs.groupby("year")["total_cny"].sum().max())
    diagnosis = Diagnosis(
        "targets",
        culprit,
        p.target_year,
        tuple(sorted(enforced)),
        limit,
        needed,
        "cny" if limit is not None else "",
        rows,
    )
    return InfeasiblePlan(diagnosis, best, plan)
