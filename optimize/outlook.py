"""When can an unmet target be met, and what would have to change to meet it on time?

For a plan with unmet targets, :func:`outlook` answers a planner's next two questions:

* **Earliest attainable year**: the horizon is extended year by year (to
  :data:`~optimize.problem.HORIZON_MAX` at most, population from the projection) and the best
  reachable plan is solved under the same limits (a plan-period budget grows pro rata with the
  years); a target's earliest year is the first in which that plan meets it.
* **Least change on time**: with that target alone enforced in the target year, each limit is
  left out in turn; the first whose removal makes the target reachable is the binding limit,
  and where it has a size (a hiring or private-growth limit, a budget) the least size that
  meets the target on time is solved for as an LP (hiring of >= 22% of the base-year stock a
  year against a limit of 15%).

LP relaxations throughout: the answers are years and limits, not numbers of people; the
sentences are written from them in ``scenarios/report/words.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import pyomo.environ as pyo

from optimize.model import FAMILIES, ModelOptions, build_model
from optimize.problem import HORIZON_MAX, PRIVATE, TIERS, AllocationProblem, TargetRow, gap_met
from optimize.result import AllocationPlan
from optimize.solve import feasible, run_model, solve, solved

COLUMNS = [
    "region",
    "kind",
    "measure",
    "name",
    "label",
    "expr",
    "unit",
    "target_ratio",
    "reached_ratio",
    "earliest_year",
    "horizon",
    "binding_limit",
    "change",
    "limit_now",
    "needed",
    "limit_unit",
    "pool",
    "scale",
]
# Limits tried first when several would each suffice: those a planner can size.
PREFERENCE = (
    "hiring_limits",
    "private_growth",
    "budget_total",
    "budget_per_year",
    "capital_smoothing",
    "milestones",
    "nurse_physician_ratio",
    "hospital_nurses_per_bed",
    "gp_primary_share",
    "primary_share_band",
    "subsets",
    "no_decline",
)


def last_year(p: AllocationProblem) -> int:
    """Last year the horizon may be extended to: :data:`HORIZON_MAX`, or the last projected year."""
    years = [y for y in range(p.target_year, HORIZON_MAX + 1) if all((r, y) in p.population for r in p.regions)]
    return max(years)


def extended(p: AllocationProblem, year: int) -> AllocationProblem:
    """``p`` with the target year moved to ``year``; a plan-period budget grows pro rata with the years."""
    scale = (year - p.base_year) / (p.target_year - p.base_year)
    return replace(p, target_year=year, budget_total=None if p.budget_total is None else p.budget_total * scale)


def _met_in(p: AllocationProblem, year: int, targets: list[int]) -> set[int] | None:
    """Which of ``targets`` the best reachable plan (max-attainment LP) of ``p`` extended to ``year`` meets;
    None when there is no plan at all that year."""
    m = build_model(extended(p, year), ModelOptions(mode="max-attainment"))
    res = run_model(m, False, 60.0)
    if not solved(res):
        return None
    res.solution_loader.load_vars()
    return {i for i in targets if gap_met(m.shortfall[i].value or 0.0, p.targets[i].ratio)}


def earliest_years(p: AllocationProblem, unmet: list[int]) -> dict[int, int | None]:
    """Earliest year each target index in ``unmet`` is met by the best reachable plan under the same limits.

    The last year is tried first: a target it does not meet is taken as not reachable in the horizon (more
    years only add capacity); the others are found by trying the years in order.
    """
    out: dict[int, int | None] = {i: None for i in unmet}
    last = last_year(p)
    todo = sorted(_met_in(p, last, unmet) or set()) if last > p.target_year else []
    for year in range(p.target_year + 1, last + 1):
        if not todo:
            break
        met = _met_in(p, year, todo) if year < last else set(todo)
        for i in met or ():
            out[i] = year
        todo = [i for i in todo if out[i] is None]
    return out


def _share_of_base(p: AllocationProblem, r: str, k: str, pool: str) -> float:
    units = p.private_max_additions.get((r, k)) if pool == PRIVATE else p.max_additions.get((r, k))
    base = p.baseline[r, k, PRIVATE] if pool == PRIVATE else p.base_total(r, k)
    return (units or 0.0) / base if base > 0 else float("nan")


def least_yearly_share(p: AllocationProblem, r: str, k: str, pool: str = "public") -> float | None:
    """Least yearly additions of (r, k), as a share of its base-year stock (public limits: of every owner's, as
    the limits are set), that keep every other limit and meet
    every target of ``p``; ``pool`` 'public' (hiring limits) or 'private' (private growth). None when none does."""
    m = build_model(p, ModelOptions())
    con = m.private_growth if pool == PRIVATE and hasattr(m, "private_growth") else getattr(m, "hiring", None)
    if con is not None:
        for idx in list(con.keys()):
            if idx[0] == r and idx[1] == k:
                con[idx].deactivate()
    pools = (PRIVATE,) if pool == PRIVATE else TIERS
    base = p.baseline[r, k, PRIVATE] if pool == PRIVATE else p.base_total(r, k)
    if base <= 0:
        return None
    m.sigma = pyo.Var(domain=pyo.NonNegativeReals)
    m.sigma_cap = pyo.Constraint(
        list(p.years), rule=lambda m, y: sum(m.add[r, k, t, y] for t in pools) <= m.sigma * base
    )
    return _least(m, m.sigma)


def _least(m: pyo.ConcreteModel, var: pyo.Var) -> float | None:
    """The least value of ``var`` over model ``m`` (its own objective set aside); None when ``m`` has no solution."""
    m.objective.deactivate()
    m.least_objective = pyo.Objective(expr=var)
    res = run_model(m, False, 60.0)
    if not solved(res):
        return None
    res.solution_loader.load_vars()
    return float(var.value)


def least_scale_of_all_limits(p: AllocationProblem) -> float | None:
    """Least common multiple λ of every yearly hiring limit (public additions <= λ x limit) that meets every
    target of ``p`` and keeps every other limit. None when none does."""
    m = build_model(p, ModelOptions())
    if hasattr(m, "hiring"):
        m.hiring.deactivate()
    m.lam = pyo.Var(domain=pyo.NonNegativeReals)
    idx = [(r, k, y) for (r, k) in p.max_additions if k in p.kinds for y in p.years]
    m.lam_cap = pyo.Constraint(
        idx, rule=lambda m, r, k, y: sum(m.add[r, k, t, y] for t in TIERS) <= m.lam * p.max_additions[r, k]
    )
    return _least(m, m.lam)


@dataclass(frozen=True)
class Change:
    """The least change that meets one target on time, as kinds and numbers.

    ``family``: the binding limit (optimize.model.FAMILIES, or ``others`` / ``several``); ``case``: ``rate`` (a
    yearly limit on additions resized: ``now`` and ``needed`` as shares of the base-year stock a year, ``pool``
    public or private), ``scale`` (every yearly hiring limit ``scale`` times as high: ``needed`` is this kind's),
    ``rate_other`` (the limits of other kinds must rise too), ``budget`` (``now`` and ``needed`` in CNY: the
    plan-period budget, or the yearly cap against the least-cost plan's peak year), ``without`` (the family left
    out), ``others`` or ``several``. ``unit``: ``share_per_year``, ``cny`` or empty.
    """

    family: str
    case: str
    now: float | None = None
    needed: float | None = None
    unit: str = ""
    pool: str = ""  # "public" or "private" (rate and scale)
    scale: float | None = None


def _limit_change(p: AllocationProblem, tr: TargetRow, fam: str) -> Change:
    """The least change to the binding family ``fam`` of target ``tr`` alone on time."""
    r, k = tr.region, tr.kind
    if fam in ("hiring_limits", "private_growth"):
        pool = PRIVATE if fam == "private_growth" or tr.measure == "private_share" else "public"
        now = _share_of_base(p, r, k, pool)
        need = least_yearly_share(p, r, k, pool)
        if need is not None and now == now:
            return Change(fam, "rate", now, need, "share_per_year", pool)
        lam = least_scale_of_all_limits(p) if fam == "hiring_limits" else None
        if lam is not None and now == now:
            return Change(fam, "scale", now, now * lam, "share_per_year", pool, lam)
        return Change(fam, "rate_other")
    if fam in ("budget_total", "budget_per_year"):
        need = solve(p.with_budget(None, None), integer=False, diagnose=False)
        if fam == "budget_total":
            return Change(fam, "budget", p.budget_total, need.total_cost, "cny")
        peak = float(need.costs.groupby("year")["total_cny"].sum().max())
        return Change(fam, "budget", p.budget_per_year, peak, "cny")
    return Change(fam, "without")


def least_change(p: AllocationProblem, i: int) -> Change:
    """The least change for target ``i`` to be met on time with the others dropped."""
    tr = p.targets[i]
    alone = replace(p, targets=(tr,))
    every = frozenset(FAMILIES)
    if feasible(alone, every):
        if p.budget_total is not None:
            return _limit_change(p, tr, "budget_total")
        return Change("others", "others")
    for fam in PREFERENCE:
        if feasible(alone, every - {fam}):
            return _limit_change(alone, tr, fam)
    return Change("several", "several")


def outlook(p: AllocationProblem, plan: AllocationPlan) -> pd.DataFrame:
    """For every target ``plan`` leaves unmet: reached value, earliest attainable year (empty when not reachable by
    ``horizon``, the last year searched), binding limit and its least change (a :class:`Change`, one column each)."""
    att = plan.attainment
    unmet = [i for i in range(len(p.targets)) if not bool(att["met"].iloc[i])]
    if not unmet:
        return pd.DataFrame(columns=COLUMNS)
    years, horizon = earliest_years(p, unmet), last_year(p)
    rows = []
    for i in unmet:
        tr, a = p.targets[i], att.iloc[i]
        c = least_change(p, i)
        rows.append(
            (
                tr.region,
                tr.kind,
                tr.measure,
                tr.name,
                tr.label or tr.kind,
                tr.expr,
                tr.unit_label,
                tr.ratio,
                float(a["achieved_ratio"]),
                years[i],
                horizon,
                c.family,
                c.case,
                c.now,
                c.needed,
                c.unit,
                c.pool,
                c.scale,
            )
        )
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["earliest_year"] = out["earliest_year"].astype("Int64")
    return out
