"""The optimizer's answer: :class:`AllocationPlan` (tidy pandas tables), read off a solved model,
with each target's shadow price explained in words and the one weighted attainment score."""

from __future__ import annotations

from dataclasses import dataclass
import pandas as pd

from optimize.model import COST_SCALE, ModelOptions
from optimize.problem import TIERS, AllocationProblem, TargetRow

TABLES = ("additions", "stocks", "ratios", "costs", "attainment", "duals")


@dataclass
class AllocationPlan:
    """Additions, stocks, per-capita ratios, costs, target attainment and shadow prices.

    Tables (all tidy, one observation per row):

    * ``additions``: region, year, kind, tier, added (units added that year)
    * ``stocks``: region, year, kind, tier, stock (end of year; base year included)
    * ``ratios``: region, year, kind, stock, population, unit, ratio (per 1,000 / 10,000)
    * ``costs``: year, kind, tier, capital_cny, running_cny, total_cny
    * ``attainment``: region, kind, expr, nature, sense, weight (as in max-attainment), target_ratio, achieved_ratio,
      attainment (achieved / target for floors, target / achieved for ceilings, capped at 1),
      shortfall_ratio, shortfall_units, met
    * ``duals``: constraint, region, kind, dual, unit, explanation
    """

    mode: str
    status: str
    objective: float
    total_cost: float  # CNY over the plan period
    budget_total: float | None
    additions: pd.DataFrame
    stocks: pd.DataFrame
    ratios: pd.DataFrame
    costs: pd.DataFrame
    attainment: pd.DataFrame
    duals: pd.DataFrame
    integer: bool = False
    mip_gap: float | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0

    @property
    def all_met(self) -> bool:
        return bool(self.attainment["met"].all()) if len(self.attainment) else True

    @property
    def attainment_score(self) -> float:
        """Weighted attainment of the targets, 0-1 (see :func:`attainment_score`)."""
        return attainment_score(self.attainment)


def attainment_score(attainment: pd.DataFrame) -> float:
    """The one weighted attainment score (0-1): each target's attainment weighted by its weight.

    Attainment is achieved / target for floors and target / achieved for ceilings, capped
    at 1; weights are the scenario's ``plan.weights`` as the optimizer used them. 1.0 when
    there are no targets.
    """
    if not len(attainment):
        return 1.0
    w = attainment["weight"]
    return float((attainment["attainment"] * w).sum() / w.sum()) if w.sum() > 0 else 1.0


def extract_plan(p: AllocationProblem, m, opt: ModelOptions, duals: dict) -> AllocationPlan:
    """Read a solved model ``m`` of ``p`` into an :class:`AllocationPlan` (``duals``: constraint -> dual, LP only)."""
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


def _target_dual_row(p: AllocationProblem, tr: TargetRow, dual: float, opt: ModelOptions) -> tuple:
    Y = p.target_year
    per = tr.unit_label
    units = p.population[tr.region, Y] / tr.divisor  # units of stock per 1 per-capita unit
    name = tr.name
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
