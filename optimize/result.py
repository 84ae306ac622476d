"""The optimizer's answer: :class:`AllocationPlan` (tidy pandas tables), read off a solved model,
with each target's shadow price as a :class:`Dual` record and the one weighted attainment score.

Values and kinds only: the sentences about a plan are written in ``scenarios/report/words.py`` from
these tables, so words and tables cannot disagree.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field, fields

import pandas as pd

from optimize.model import COST_SCALE, ModelOptions, cap_rows, capital_rate, running_rate, target_scale
from optimize.problem import OPERATORS, TIERS, AllocationProblem, TargetRow, gap_met

TABLES = ("additions", "stocks", "ratios", "costs", "attainment", "milestones", "duals", "caps")
CAP_COLUMNS = ["region", "year", "kind", "tier", "cap", "stock", "excess"]


@dataclass(frozen=True)
class Dual:
    """One shadow price, as numbers and kinds (the words are written in ``scenarios/report/words.py``).

    ``dual`` is in ``unit`` per one step of the target's measure (one unit of a ratio such as one bed per 1,000,
    one percentage point of a private share): ``cny`` (public CNY over the plan period, min-cost targets),
    ``objective`` (weighted relative shortfall, max-attainment targets), ``cny_per_cny`` (cost saved per CNY of
    budget) or ``points_per_cny_million`` (percentage points of weighted attainment per CNY 1 million of budget).
    """

    constraint: str  # "target" or "budget_total"
    region: str
    kind: str
    dual: float
    unit: str
    measure: str = ""  # the target's measure: "ratio" or "private_share"
    name: str = ""  # the target's display name (optimize.problem.TargetRow.name)
    expr: str = ""
    per: str = ""  # the target's unit label ("per 1,000", "share")
    divisor: float = float("nan")  # residents per unit of the ratio (1,000 / 10,000)
    sense: str = ""  # "floor" or "ceiling"
    year: int = 0  # the target year
    units: float = float("nan")  # whole units one step stands for at the target year's population (ratios)
    met: bool = True  # the target is met (target rows)
    unmet: int = 0  # budget rows: how many targets are unmet, of ``targets``
    targets: int = 0


DUAL_COLUMNS = [f.name for f in fields(Dual)]


@dataclass
class AllocationPlan:
    """Additions, stocks, per-capita ratios, costs, target attainment, milestones and shadow prices.

    Tables (all tidy, one observation per row; ``tier`` is hospital or primary, ``ownership`` public (the bureau's
    own, what the plan decides), other_public (other public operators in the area) or private, so each operator's
    additions are separate rows):

    * ``additions``: region, year, kind, tier, ownership, added (whole units added that year), removed (units cut:
      only with disinvestment on)
    * ``stocks``: region, year, kind, tier, ownership, stock (end of year; base year included)
    * ``ratios``: region, year, kind, stock, population, unit, ratio (per 1,000 / 10,000)
    * ``costs``: year, kind, tier, ownership, capital_cny, running_cny, total_cny (public CNY), pv_cny
      (present value at the base year)
    * ``attainment``: region, kind, measure, name, expr, unit, nature, sense, weight, baseline_ratio, target_ratio,
      achieved_ratio,
      attainment (achieved / target for floors, target / achieved for ceilings, capped at 1),
      shortfall_ratio, shortfall_units, met
    * ``milestones``: region, year, kind, measure, name, expr, milestone (the straight line from the base-year
      stocks to the target), plan_line (the line the plan commits to: to the target, or for a target it cannot
      meet, to the target less its shortfall), achieved, on_track
    * ``duals``: one row per :class:`Dual` (constraint, region, kind, dual, unit and the target it prices)
    * ``caps``: region, year, kind, tier ('all': both of the bureau's tiers), cap (units: the need from demand
      plus headroom, less other operators' stock), stock (the bureau's), excess (units built past the cap)
    """

    mode: str
    status: str
    objective: float
    total_cost: float  # public CNY over the plan period (nominal)
    budget_total: float | None
    additions: pd.DataFrame
    stocks: pd.DataFrame
    ratios: pd.DataFrame
    costs: pd.DataFrame
    attainment: pd.DataFrame
    duals: pd.DataFrame
    milestones: pd.DataFrame = field(default_factory=pd.DataFrame)
    integer: bool = False
    mip_gap: float | None = None
    rounding: str = "lp"  # "milp" (solved whole), "repaired" (LP rounded and repaired) or "lp" (fractional)
    present_value: float = 0.0  # public CNY discounted to the base year
    discount_rate: float = 0.0
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0
    caps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CAP_COLUMNS))

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


def _value(var, whole: bool) -> float:
    v = var.value or 0.0
    return float(round(v)) if whole else v


def _pool_tables(p: AllocationProblem, m, whole: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows_add, rows_stock = [], []
    for r in p.regions:
        for k in p.kinds:
            for t in p.pools(r, k):
                tier, owner = (t, "public") if t in TIERS else ("hospital", OPERATORS[t])
                rows_stock.append((r, p.base_year, k, tier, owner, p.baseline[r, k, t]))
                for y in p.years:
                    cut = _value(m.cut[r, k, t, y], whole) if p.allow_disinvestment else 0.0
                    rows_add.append((r, y, k, tier, owner, _value(m.add[r, k, t, y], whole), cut))
                    rows_stock.append((r, y, k, tier, owner, _value(m.stock[r, k, t, y], whole)))
    cols = ["region", "year", "kind", "tier", "ownership"]
    return pd.DataFrame(rows_add, columns=cols + ["added", "removed"]), pd.DataFrame(
        rows_stock, columns=cols + ["stock"]
    )


def _cost_table(p: AllocationProblem, additions: pd.DataFrame, stocks: pd.DataFrame) -> pd.DataFrame:
    """Public CNY by (year, kind, tier, owner): capital of additions, running cost of the own stock above base."""
    pool = lambda tier, owner: tier if owner == "public" else owner  # noqa: E731
    st = stocks.set_index(["region", "year", "kind", "tier", "ownership"])["stock"]
    rows = []
    for a in additions.itertuples(index=False):
        t = pool(a.tier, a.ownership)
        own = st[a.region, a.year, a.kind, a.tier, a.ownership] - p.baseline[a.region, a.kind, t]
        for c in p.subsets.get(a.kind, ()):
            if c in p.kinds and c != a.kind and t in p.pools(a.region, c):
                own -= st[a.region, a.year, c, a.tier, a.ownership] - p.baseline[a.region, c, t]
        rows.append(
            (
                a.year,
                a.kind,
                a.tier,
                a.ownership,
                capital_rate(p, a.kind, t) * a.added,
                running_rate(p, a.kind, t) * own,
            )
        )
    costs = (
        pd.DataFrame(rows, columns=["year", "kind", "tier", "ownership", "capital_cny", "running_cny"])
        .groupby(["year", "kind", "tier", "ownership"], as_index=False)
        .sum()
    )
    costs["running_cny"] = costs["running_cny"].where(costs["running_cny"].abs() > 1e-6, 0.0)
    costs["total_cny"] = costs["capital_cny"] + costs["running_cny"]
    costs["pv_cny"] = costs["total_cny"] * costs["year"].map(p.discount)
    return costs


def _measure_lookup(stocks: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Totals, hospital-tier, private and the bureau's stock by (region, kind, year), for :func:`achieved_value`."""
    keys = ["region", "kind", "year"]
    total = stocks.groupby(keys)["stock"].sum()
    hospital = stocks[stocks["tier"] == "hospital"].groupby(keys)["stock"].sum()
    private = stocks[stocks["ownership"] == "private"].groupby(keys)["stock"].sum()
    bureau = stocks[stocks["ownership"] == "public"].groupby(keys)["stock"].sum()
    return total, hospital, private, bureau


def achieved_value(p: AllocationProblem, tr: TargetRow, stocks: pd.DataFrame | tuple, year: int) -> float:
    """The target's measure in ``year`` from a stocks table (or its :func:`_measure_lookup`): per-capita
    ratio, or private share of hospital capacity."""
    total, hospital, private, bureau = stocks if isinstance(stocks, tuple) else _measure_lookup(stocks)
    key = (tr.region, tr.kind, year)
    if tr.measure == "private_share":
        hosp = hospital.get(key, 0.0)
        return float(private.get(key, 0.0) / hosp) if hosp > 0 else 0.0
    have = bureau.get(key, 0.0) if tr.scope == "bureau" else total[key]
    return float(have / p.population[tr.region, year] * tr.divisor)


def _attainment_row(p: AllocationProblem, tr: TargetRow, achieved: float) -> tuple:
    if tr.sense == "floor":
        gap = max(0.0, tr.ratio - achieved)
        attain = min(1.0, achieved / tr.ratio) if tr.ratio > 0 else 1.0
    else:
        gap = max(0.0, achieved - tr.ratio)
        attain = min(1.0, tr.ratio / achieved) if achieved > 0 else 1.0
    met = bool(gap_met(gap, tr.ratio))
    units = gap * (p.population[tr.region, p.target_year] / tr.divisor if tr.measure == "ratio" else 1.0)
    return (
        tr.region,
        tr.kind,
        tr.measure,
        tr.name,
        tr.expr,
        tr.unit_label,
        tr.nature,
        tr.sense,
        tr.weight,
        tr.baseline_ratio,
        tr.ratio,
        achieved,
        attain,
        gap,
        units if tr.measure == "ratio" else float("nan"),
        met,
    )


def attainment_table(p: AllocationProblem, achieved: list[float]) -> pd.DataFrame:
    """The ``attainment`` table from each target's achieved value in the target year (ratio or share)."""
    return pd.DataFrame([_attainment_row(p, tr, a) for tr, a in zip(p.targets, achieved)], columns=ATTAINMENT_COLUMNS)


ATTAINMENT_COLUMNS = [
    "region",
    "kind",
    "measure",
    "name",
    "expr",
    "unit",
    "nature",
    "sense",
    "weight",
    "baseline_ratio",
    "target_ratio",
    "achieved_ratio",
    "attainment",
    "shortfall_ratio",
    "shortfall_units",
    "met",
]


def milestone_table(p: AllocationProblem, stocks: pd.DataFrame, goals: list[float]) -> pd.DataFrame:
    """Each target's yearly milestone (the straight line from the base-year stocks to the target) and the line
    the plan commits to (to ``goals``: the target, or for a target it cannot meet, the target less its shortfall)."""
    rows = []
    B, Y = p.base_year, p.target_year
    lookup = _measure_lookup(stocks)
    for tr, goal in zip(p.targets, goals):
        base = p.base_value(tr)
        for y in p.years:
            achieved = achieved_value(p, tr, lookup, y)
            line = tr.milestone(y, B, Y, base, goal)
            tol = 1e-6 * max(1.0, abs(line))
            on_track = achieved >= line - tol if tr.sense == "floor" else achieved <= line + tol
            rows.append(
                (
                    tr.region,
                    y,
                    tr.kind,
                    tr.measure,
                    tr.name,
                    tr.expr,
                    tr.milestone(y, B, Y, base),
                    line,
                    achieved,
                    on_track,
                )
            )
    return pd.DataFrame(
        rows,
        columns=["region", "year", "kind", "measure", "name", "expr", "milestone", "plan_line", "achieved", "on_track"],
    )


def _goals(p: AllocationProblem, m) -> list[float]:
    """The value each target's milestones run to: the target, less the shortfall where the model has one."""
    if not hasattr(m, "shortfall"):
        short = {i: m.need_short[i].value or 0.0 for i in m.YIELDING} if hasattr(m, "need_short") else {}
        return [tr.ratio - short.get(i, 0.0) for i, tr in enumerate(p.targets)]
    return [
        tr.ratio - (m.shortfall[i].value or 0.0) * (1 if tr.sense == "floor" else -1) for i, tr in enumerate(p.targets)
    ]


def extract_plan(p: AllocationProblem, m, opt: ModelOptions, duals: dict, whole: bool | None = None) -> AllocationPlan:
    """Read a solved model ``m`` of ``p`` into an :class:`AllocationPlan`.

    ``duals``: constraint name -> dual of the LP relaxation (empty: no shadow prices); ``whole``: round the additions
    and stocks
    to whole units (default: when the model is integer).
    """
    whole = opt.integer if whole is None else whole
    additions, stocks = _pool_tables(p, m, whole)
    costs = _cost_table(p, additions, stocks)
    divisor = {(tr.region, tr.kind): tr.divisor for tr in p.targets if tr.measure == "ratio"}
    totals = stocks.groupby(["region", "year", "kind"], as_index=False)["stock"].sum()
    totals["population"] = [p.population[r, y] for r, y in zip(totals["region"], totals["year"])]
    totals["divisor"] = [divisor.get((r, k), 1000.0) for r, k in zip(totals["region"], totals["kind"])]
    totals["unit"] = ["per_" + str(int(d)) for d in totals["divisor"]]
    totals["ratio"] = totals["stock"] / totals["population"] * totals["divisor"]
    ratios = totals.drop(columns="divisor")
    lookup = _measure_lookup(stocks)
    attainment = pd.DataFrame(
        [_attainment_row(p, tr, achieved_value(p, tr, lookup, p.target_year)) for tr in p.targets],
        columns=ATTAINMENT_COLUMNS,
    )
    rows_dual = []
    if duals:
        for i, (tr, att) in enumerate(zip(p.targets, attainment.itertuples(index=False))):
            rows_dual.append(_target_dual(p, tr, target_price(p, i, duals), opt, bool(att.met)))
        if p.budget_total is not None and "budget" in duals:
            rows_dual.append(_budget_dual(p, duals.get("budget", 0.0), opt, attainment))
    dual_df = pd.DataFrame([astuple(d) for d in rows_dual], columns=DUAL_COLUMNS)
    return AllocationPlan(
        mode=opt.mode,
        status="",
        objective=0.0,
        total_cost=float(costs["total_cny"].sum()),
        budget_total=p.budget_total,
        additions=additions,
        stocks=stocks,
        ratios=ratios,
        costs=costs,
        attainment=attainment,
        duals=dual_df,
        milestones=milestone_table(p, stocks, _goals(p, m)),
        caps=cap_table(p, stocks),
        integer=whole,
        present_value=float(costs["pv_cny"].sum()),
        discount_rate=p.discount_rate,
    )


def cap_table(p: AllocationProblem, stocks: pd.DataFrame) -> pd.DataFrame:
    """Each need cap beside the bureau's stock and the units built past it (see ``AllocationPlan.caps``)."""
    own = stocks[stocks["ownership"] == "public"].set_index(["region", "year", "kind", "tier"])["stock"]
    rows = []
    for c in cap_rows(p):
        have = sum(own.get((c.region, c.year, c.kind, t), 0.0) for t in (TIERS if c.tier is None else (c.tier,)))
        rows.append((c.region, c.year, c.kind, c.tier or "all", c.units, have, max(0.0, have - c.units)))
    return pd.DataFrame(rows, columns=CAP_COLUMNS)


def target_price(p: AllocationProblem, i: int, duals: dict) -> float:
    """Objective units per one unit of target ``i``'s measure: its target-year row plus the milestones it moves."""
    tr, B, Y = p.targets[i], p.base_year, p.target_year
    price = duals.get(f"target[{i}]", 0.0) * target_scale(p, tr, Y)
    for y in p.years[:-1]:
        d = duals.get(f"milestone[{i},{y}]", 0.0)
        if d:
            price += d * tr.milestone_slope(y, B, Y, p.base_value(tr)) * target_scale(p, tr, y)
    return price


def _target_dual(p: AllocationProblem, tr: TargetRow, price: float, opt: ModelOptions, met: bool) -> Dual:
    """One target's shadow price: ``price`` (objective units per one unit of the measure) per one step of the
    measure (one unit of a ratio, one percentage point of a share), in CNY (min-cost) or weighted shortfall."""
    Y = p.target_year
    units = p.population[tr.region, Y] / tr.divisor if tr.measure == "ratio" else float("nan")
    value = abs(price) * (1.0 if tr.measure == "ratio" else 0.01)
    # max-attainment: a short target's dual is its own weight over its ratio (its shortfall variable moves one for
    # one): lowering it changes the measured shortfall, not the plan; a target met exactly with a positive dual
    # holds the others back
    cny = opt.mode == "min-cost"
    return Dual(
        "target",
        tr.region,
        tr.kind,
        value * COST_SCALE if cny else value,
        "cny" if cny else "objective",
        tr.measure,
        tr.name,
        tr.expr,
        tr.unit_label,
        tr.divisor,
        tr.sense,
        Y,
        units,
        met,
    )


def _budget_dual(p: AllocationProblem, dual: float, opt: ModelOptions, attainment: pd.DataFrame) -> Dual:
    """The plan-period budget's shadow price: CNY of cost per CNY of budget (min-cost), or percentage points of
    weighted attainment per CNY 1 million (max-attainment)."""
    unmet = int((~attainment["met"]).sum()) if len(attainment) else 0
    if opt.mode == "min-cost":
        return Dual("budget_total", "", "", abs(dual), "cny_per_cny", unmet=unmet, targets=len(attainment))
    weight_sum = sum(tr.weight for tr in p.targets) or 1.0
    pp = abs(dual) / weight_sum * 100.0  # percentage points of weighted attainment per CNY 1 million
    return Dual("budget_total", "", "", pp, "points_per_cny_million", unmet=unmet, targets=len(attainment))
