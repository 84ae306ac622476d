"""Pyomo formulation of the allocation model (a MILP in whole units; its LP relaxation for prices).

Indices: region r, kind k, pool t (public ``hospital`` / ``primary``; ``private`` hospital
capacity where the region has it), plan year y.

* ``add[r,k,t,y] >= 0``: units added in year y (beds opened, staff hired); whole in the MILP.
* ``cut[r,k,t,y] >= 0``: units removed (only when disinvestment is allowed).
* ``stock[r,k,t,y] = stock[r,k,t,y-1] - leavers[r,k,t] + add - cut``; base year fixed; leavers
  are a fixed whole number a year (attrition x base-year stock).
* ``cost[y]`` (public CNY): capital of what is added (private additions: the public subsidy
  only) plus the running cost of the public stock above the base year. A kind that others
  are counted inside (physicians, which hold GPs and TCM physicians) pays running cost only
  on its members outside those subsets, so each person is paid once.
* Targets in the target year Y: ``sum_t stock[r,k,t,Y] >= ratio * P(r,Y) / divisor`` (floors)
  or ``<=`` (ceilings); private-share targets ``private >= share * (hospital + private)``. In
  max-attainment mode a shortfall variable relaxes each target and its milestones.
* Objective (min-cost): the present value of the yearly costs at ``discount_rate``.

Constraint families (each can be left out, which the infeasibility diagnosis uses, in this order):
``no_decline``, ``subsets``, ``hiring_limits``, ``private_growth``, ``nurse_physician_ratio``,
``hospital_nurses_per_bed``, ``gp_primary_share``, ``primary_share_band``, ``milestones``,
``capital_smoothing``, ``floors`` (stock floors from projected need, by tier and year),
``budget_per_year``, ``budget_total``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from optimize.problem import OTHER_PUBLIC, PRIVATE, TIERS, AllocationProblem, TargetRow

FAMILIES = (
    "no_decline",
    "subsets",
    "hiring_limits",
    "private_growth",
    "nurse_physician_ratio",
    "hospital_nurses_per_bed",
    "gp_primary_share",
    "primary_share_band",
    "milestones",
    "capital_smoothing",
    "floors",
    "need_caps",
    "ramp",
    "budget_per_year",
    "budget_total",
)
MUTABLE = ("population", "budget", "caps", "floors")  # groups of data that can be made mutable parameters
COST_SCALE = 1e6  # costs enter the objective in millions of CNY, for numerical scale
FLOOR_PENALTY = 1e7  # CNY million per whole floor missed in elastic min-cost models (far above any plan's cost)
CAP_PENALTY = 1e4  # CNY million per unit built past a need cap: above any price, below a missed floor
YIELD_PENALTY = 1e3  # CNY million per unit an expected target falls short where it yields to a cap: below CAP_PENALTY
CAP_WEIGHT = 10.0  # max-attainment: weight of a cap's relative excess (targets weigh about 1-3)


@dataclass(frozen=True)
class ModelOptions:
    mode: str = "min-cost"  # or "max-attainment"
    integer: bool = False
    families: frozenset[str] = frozenset(FAMILIES)
    elastic_targets: bool | None = None  # default: True in max-attainment mode
    shortfall_caps: tuple[float, ...] | None = None  # per target: shortfall may not exceed (budget sweeps)
    mutable: frozenset[str] = frozenset()  # data a persistent model may change: some of MUTABLE

    @property
    def elastic(self) -> bool:
        return self.mode == "max-attainment" if self.elastic_targets is None else self.elastic_targets


def build_model(p: AllocationProblem, opt: ModelOptions = ModelOptions()) -> pyo.ConcreteModel:
    """Build the Pyomo model of problem ``p``: variables, balance, cost, targets, each enabled family, objective."""
    m = pyo.ConcreteModel(name="healthsim_allocation")
    define_parameters(m, p, opt)
    define_variables(m, p, opt)
    define_balance_constraints(m, p)
    define_cost_expressions(m, p)
    define_target_constraints(m, p, opt)
    fam, kinds = opt.families, set(p.kinds)
    if "no_decline" in fam and not p.allow_disinvestment:
        define_no_decline_constraints(m, p)
    if "subsets" in fam and _subset_pairs(p):
        define_subset_constraints(m, p)
    if "hiring_limits" in fam and p.max_additions:
        define_hiring_limit_constraints(m, p)
    if "private_growth" in fam and p.private_max_additions:
        define_private_growth_constraints(m, p)
    if "nurse_physician_ratio" in fam and p.nurse_physician_ratio_min is not None and {"nurses", "physicians"} <= kinds:
        define_nurse_physician_constraints(m, p)
    if "hospital_nurses_per_bed" in fam and p.hospital_nurses_per_bed_min is not None and {"nurses", "beds"} <= kinds:
        define_nurses_per_bed_constraints(m, p)
    if "gp_primary_share" in fam and p.gp_primary_share_min is not None and "gps" in kinds:
        define_gp_primary_constraints(m, p)
    if "primary_share_band" in fam and p.primary_share_shift_max is not None:
        define_primary_share_band_constraints(m, p)
    if "milestones" in fam and p.trajectory == "linear" and len(p.years) > 1 and p.targets:
        define_milestone_constraints(m, p, opt)
    if "capital_smoothing" in fam and p.capital_share_max is not None:
        define_capital_smoothing_constraints(m, p)
    if "floors" in fam and p.floors:
        define_floor_constraints(m, p, opt)
    if "need_caps" in fam and p.caps:
        define_need_cap_constraints(m, p, opt)
    if "ramp" in fam and p.ramp and len(p.years) > 1:
        define_ramp_constraints(m, p)
    if "budget_per_year" in fam and p.budget_per_year is not None:
        define_budget_per_year_constraints(m, p)
    if "budget_total" in fam and p.budget_total is not None:
        define_budget_total_constraints(m, p)
    define_objective(m, p, opt)
    return m


def _total(m: pyo.ConcreteModel, p: AllocationProblem, r: str, k: str, y: int):
    """Stock of a kind over every pool (public tiers and private) at the end of year y."""
    return sum(m.stock[r, k, t, y] for t in p.pools(r, k))


def _bureau(m: pyo.ConcreteModel, p: AllocationProblem, r: str, k: str, y: int):
    """Stock of a kind in the bureau's own tiers at the end of year y."""
    return sum(m.stock[r, k, t, y] for t in TIERS)


def _hospital(m: pyo.ConcreteModel, p: AllocationProblem, r: str, k: str, y: int):
    """Hospital capacity of a kind: the public hospital tier plus private hospitals."""
    return sum(m.stock[r, k, t, y] for t in p.hospital_pools(r, k))


def _subset_pairs(p: AllocationProblem) -> list[tuple[str, tuple[str, ...]]]:
    """(parent, children) with the parent and at least one child in the problem."""
    out = []
    for parent, children in p.subsets.items():
        present = tuple(c for c in children if c in p.kinds and c != parent)
        if parent in p.kinds and present:
            out.append((parent, present))
    return out


def define_parameters(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """Sets and the data a re-solve may change in place (mutable parameters, see ``optimize.persistent``).

    ``target_population[i, y]``: residents target i is measured against in plan year y (ratio targets);
    ``budget_total_cny`` and ``budget_per_year_cny`` (CNY; 0 when there is none); ``shortfall_cap[i]``
    (per-capita units) when the options carry caps; ``tiebreak_budget`` (CNY million) scales the
    max-attainment cost tie-break.
    """
    idx = [(r, k, t, y) for r in p.regions for k in p.kinds for t in p.pools(r, k) for y in p.years]
    m.I = pyo.Set(initialize=idx, dimen=4, ordered=True)
    m.YEARS = pyo.Set(initialize=p.years, ordered=True)
    m.TARGETS = pyo.Set(initialize=list(range(len(p.targets))), ordered=True)
    unknown = set(opt.mutable) - set(MUTABLE)
    if unknown:
        raise ValueError(f"mutable data {sorted(unknown)}: expected some of {', '.join(MUTABLE)}")
    on = lambda group: group in opt.mutable  # noqa: E731  (immutable parameters are folded into the expressions)
    ratio_idx = [(i, y) for i, tr in enumerate(p.targets) if tr.measure == "ratio" for y in p.years]
    m.target_population = pyo.Param(
        ratio_idx,
        mutable=on("population"),
        within=pyo.Reals,
        initialize={(i, y): p.requirement_population(p.targets[i], y) for i, y in ratio_idx},
    )
    m.budget_total_cny = pyo.Param(mutable=on("budget"), initialize=p.budget_total or 0.0, within=pyo.Reals)
    m.budget_per_year_cny = pyo.Param(mutable=on("budget"), initialize=p.budget_per_year or 0.0, within=pyo.Reals)
    m.tiebreak_budget = pyo.Param(initialize=(p.budget_total or 1e9) / COST_SCALE, within=pyo.Reals)
    if opt.elastic and opt.shortfall_caps:
        m.shortfall_cap = pyo.Param(
            m.TARGETS,
            mutable=on("caps"),
            within=pyo.Reals,
            initialize={i: c + 1e-9 for i, c in enumerate(opt.shortfall_caps)},
        )


def define_variables(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """``add`` (whole in a MILP), ``stock``, ``cut`` (with disinvestment), ``shortfall`` (elastic)."""
    domain = pyo.NonNegativeIntegers if opt.integer else pyo.NonNegativeReals
    m.add = pyo.Var(m.I, domain=domain)
    m.stock = pyo.Var(m.I, domain=pyo.NonNegativeReals)
    if p.allow_disinvestment:
        m.cut = pyo.Var(m.I, domain=domain)
    if opt.elastic:
        m.shortfall = pyo.Var(
            m.TARGETS,
            domain=pyo.NonNegativeReals,  # per-capita units (or share)
            bounds=(lambda m, i: (0, m.shortfall_cap[i])) if opt.shortfall_caps else None,
        )
    else:
        yielding = [i for i in range(len(p.targets)) if "need_caps" in opt.families and p.yields(i)]
        if yielding:  # expected targets that fall short rather than build past the need (per-capita units)
            m.YIELDING = pyo.Set(initialize=yielding, ordered=True)
            m.need_short = pyo.Var(m.YIELDING, domain=pyo.NonNegativeReals)
    for (r, k, t), path in p.projected.items():  # pools the bureau does not decide: their path is data
        if k not in p.kinds or r not in p.regions:
            continue
        prev = p.baseline[r, k, t]
        for y, v in zip(p.years, path):
            m.stock[r, k, t, y].fix(v)
            m.add[r, k, t, y].fix(max(0.0, round(v - prev) if opt.integer else v - prev))
            prev = v


def define_balance_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """``stock[y] = stock[y-1] - leavers + add[y] - cut[y]``; the base-year stock is data."""
    first = p.years[0]

    def balance(m, r, k, t, y):
        if not p.decided(r, k, t):
            return pyo.Constraint.Skip  # a projected pool's stock is fixed data
        prev = p.baseline[r, k, t] if y == first else m.stock[r, k, t, y - 1]
        flow = m.add[r, k, t, y] - (m.cut[r, k, t, y] if p.allow_disinvestment else 0)
        return m.stock[r, k, t, y] == prev - p.leavers(r, k, t) + flow

    m.balance = pyo.Constraint(m.I, rule=balance)


def _own_stock(m, p: AllocationProblem, r: str, k: str, t: str, y: int | None):
    """Members of pool (r, k, t) outside its subsets, at year y (None: the base year)."""
    children = [c for c in p.subsets.get(k, ()) if c in p.kinds and c != k and t in p.pools(r, c)]
    if y is None:
        return p.baseline[r, k, t] - sum(p.baseline[r, c, t] for c in children)
    return m.stock[r, k, t, y] - sum(m.stock[r, c, t, y] for c in children)


def capital_rate(p: AllocationProblem, k: str, t: str) -> float:
    """Public CNY per unit added to pool t: the subsidy for private capacity the plan decides (a lever),
    nothing for capacity other operators build on their own budgets."""
    if t == OTHER_PUBLIC:
        return 0.0
    return p.private_subsidy.get(k, 0.0) if t == PRIVATE else p.capital[k, t]


def running_rate(p: AllocationProblem, k: str, t: str) -> float:
    """Public CNY per unit-year above the base year: nothing for other operators' capacity."""
    return p.annual[k, t] if t in TIERS else 0.0


def define_cost_expressions(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """``capital_cost[y]``, ``running_cost[y]`` and ``cost[y]`` (public CNY million)."""
    keys = [(r, k, t) for r in p.regions for k in p.kinds for t in p.pools(r, k)]

    def capital_rule(m, y):
        return sum(capital_rate(p, k, t) * m.add[r, k, t, y] for r, k, t in keys) / COST_SCALE

    def running_rule(m, y):
        return (
            sum(
                running_rate(p, k, t) * (_own_stock(m, p, r, k, t, y) - _own_stock(m, p, r, k, t, None))
                for r, k, t in keys
                if running_rate(p, k, t)
            )
            / COST_SCALE
        )

    m.capital_cost = pyo.Expression(m.YEARS, rule=capital_rule)
    m.running_cost = pyo.Expression(m.YEARS, rule=running_rule)
    m.cost = pyo.Expression(m.YEARS, rule=lambda m, y: m.capital_cost[y] + m.running_cost[y])


def target_scale(p: AllocationProblem, tr: TargetRow, year: int) -> float:
    """Units of stock per 1 unit of the target's measure in ``year`` (residents / divisor, or base hospital stock)."""
    if tr.measure == "private_share":
        return sum(p.baseline[tr.region, tr.kind, t] for t in p.hospital_pools(tr.region, tr.kind))
    return p.requirement_population(tr, year) / tr.divisor


def _scale(m, p: AllocationProblem, i: int, year: int):
    """:func:`target_scale` of target i in the model: the mutable ``target_population`` for ratio targets."""
    tr = p.targets[i]
    return target_scale(p, tr, year) if tr.measure == "private_share" else m.target_population[i, year] / tr.divisor


def _target_gap(m, p: AllocationProblem, i: int, year: int, level: float):
    """have - level, in units: positive when a floor at ``level`` is met in ``year``."""
    tr = p.targets[i]
    r, k = tr.region, tr.kind
    if tr.measure == "private_share":
        return m.stock[r, k, PRIVATE, year] - level * _hospital(m, p, r, k, year)
    return sum(m.stock[r, k, t, year] for t in p.counted_pools(tr)) - level * _scale(m, p, i, year)


def _yield_slack(m, p: AllocationProblem, i: int, year: int, weight: float = 1.0):
    """Units by which a yielding expected target (or its milestone, ``weight`` its slope) may fall short."""
    if hasattr(m, "need_short") and i in m.YIELDING:
        return weight * m.need_short[i] * _scale(m, p, i, year)
    return 0


def define_target_constraints(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """Targets in the target year (floors ``>=``, ceilings ``<=``), relaxed by ``shortfall`` when elastic."""
    Y = p.target_year

    def target_rule(m, i):
        tr = p.targets[i]
        slack = m.shortfall[i] * _scale(m, p, i, Y) if opt.elastic else _yield_slack(m, p, i, Y)
        gap = _target_gap(m, p, i, Y, tr.ratio)
        return gap + slack >= 0 if tr.sense == "floor" else gap - slack <= 0

    m.target = pyo.Constraint(m.TARGETS, rule=target_rule)


def define_no_decline_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """No decided pool (tier, ownership) falls below its base-year stock in any plan year (lower bounds on
    ``stock``), nor below its previous year's (no dip and recover: leavers are replaced before the pool grows),
    nor do a parent's members outside its subsets (so a GP added is a physician added, not one relabelled)."""
    for (r, k, t, y), var in m.stock.items():  # a bound, not a row: the solver handles it in presolve
        if p.decided(r, k, t):
            var.setlb(p.baseline[r, k, t])
    steps = [(r, k, t, y) for (r, k, t, y) in m.I if p.decided(r, k, t) and y > p.years[0]]
    m.no_dip = pyo.Constraint(steps, rule=lambda m, r, k, t, y: m.stock[r, k, t, y] >= m.stock[r, k, t, y - 1])
    rest = [(r, k, t, y) for r in p.regions for k, _ in _subset_pairs(p) for t in TIERS for y in p.years]
    m.no_decline_rest = pyo.Constraint(
        rest, rule=lambda m, r, k, t, y: _own_stock(m, p, r, k, t, y) >= _own_stock(m, p, r, k, t, None)
    )


def define_subset_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Kinds counted inside a parent (其中 rows) never outnumber it: sum of children <= parent, every year."""
    idx = [(r, k, y) for r in p.regions for k, _ in _subset_pairs(p) for y in p.years]
    children = dict(_subset_pairs(p))
    m.subset = pyo.Constraint(
        idx, rule=lambda m, r, k, y: sum(_total(m, p, r, c, y) for c in children[k]) <= _total(m, p, r, k, y)
    )


def define_hiring_limit_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Yearly public additions of a kind (both tiers) at most ``max_additions`` units."""
    hk = [(r, k, y) for (r, k) in p.max_additions if k in p.kinds for y in p.years]
    m.hiring = pyo.Constraint(
        hk, rule=lambda m, r, k, y: sum(m.add[r, k, t, y] for t in TIERS) <= p.max_additions[r, k]
    )


def define_private_growth_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Yearly private additions of a kind at most ``private_max_additions`` units."""
    pk = [
        (r, k, y)
        for (r, k) in p.private_max_additions
        if (r, k, PRIVATE) in p.baseline and p.decided(r, k, PRIVATE)
        for y in p.years
    ]
    m.private_growth = pyo.Constraint(
        pk, rule=lambda m, r, k, y: m.add[r, k, PRIVATE, y] <= p.private_max_additions[r, k]
    )


def define_nurse_physician_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Nurses at least ``nurse_physician_ratio_min`` per physician in the target year."""
    Y = p.target_year
    m.nurse_physician = pyo.Constraint(
        list(p.regions),
        rule=lambda m, r: (
            _total(m, p, r, "nurses", Y) >= p.nurse_physician_ratio_min * _total(m, p, r, "physicians", Y)
        ),
    )


def define_nurses_per_bed_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Hospital nurses at least ``hospital_nurses_per_bed_min`` per hospital bed (public and private), target year."""
    Y = p.target_year
    m.nurses_per_bed = pyo.Constraint(
        list(p.regions),
        rule=lambda m, r: (
            _hospital(m, p, r, "nurses", Y) >= p.hospital_nurses_per_bed_min * _hospital(m, p, r, "beds", Y)
        ),
    )


def define_gp_primary_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """At least ``gp_primary_share_min`` of GPs work in primary care, every plan year."""
    gy = [(r, y) for r in p.regions for y in p.years]
    m.gp_primary = pyo.Constraint(
        gy, rule=lambda m, r, y: m.stock[r, "gps", "primary", y] >= p.gp_primary_share_min * _total(m, p, r, "gps", y)
    )


def define_primary_share_band_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Each kind's primary-care share of the bureau's own stock, every plan year, between its base share and
    base + ``primary_share_shift_max`` (other operators' capacity, which the bureau does not decide, is left out)."""
    rky = [(r, k, y) for r in p.regions for k in p.kinds for y in p.years]
    m.band_lo = pyo.Constraint(
        rky, rule=lambda m, r, k, y: m.stock[r, k, "primary", y] >= p.bureau_share(r, k) * _bureau(m, p, r, k, y)
    )
    m.band_hi = pyo.Constraint(
        rky,
        rule=lambda m, r, k, y: (
            m.stock[r, k, "primary", y]
            <= min(1.0, p.bureau_share(r, k) + p.primary_share_shift_max) * _bureau(m, p, r, k, y)
        ),
    )


def define_milestone_constraints(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """Every year before the target year on or above the straight line from the base-year value (from the
    base-year stocks) to the target (年度目标); when elastic, the line to the target minus its shortfall."""
    idx = [(i, y) for i in range(len(p.targets)) for y in p.years[:-1]]
    B, Y = p.base_year, p.target_year

    def rule(m, i, y):
        tr = p.targets[i]
        base = p.base_value(tr)
        gap = _target_gap(m, p, i, y, tr.milestone(y, B, Y, base))
        if not opt.elastic:
            gap = gap + _yield_slack(m, p, i, y, tr.milestone_slope(y, B, Y, base))
            return gap >= 0 if tr.sense == "floor" else gap <= 0
        s = tr.milestone_slope(y, B, Y, base) * m.shortfall[i] * _scale(m, p, i, y)
        return gap + s >= 0 if tr.sense == "floor" else gap - s <= 0

    m.milestone = pyo.Constraint(idx, rule=rule)


def define_capital_smoothing_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """No year's public capital spending above ``capital_share_max`` of the plan period's."""
    total = sum(m.capital_cost[y] for y in p.years)
    m.capital_smoothing = pyo.Constraint(m.YEARS, rule=lambda m, y: m.capital_cost[y] <= p.capital_share_max * total)


def floor_rows(p: AllocationProblem) -> list:
    """The floor rows that apply to the model (kind, year and region in the problem)."""
    return [f for f in p.floors if f.kind in p.kinds and f.year in p.years and f.region in p.regions]


def define_floor_constraints(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """Each floor row: the stock of its kind (one tier, or all) in its year at least ``units``;
    relaxed by ``floor_short`` (units) when targets are elastic. max-attainment prices the relative
    shortfall like a target of weight 1; elastic min-cost (the second stage of max-attainment, the
    whole-unit stages) by :data:`FLOOR_PENALTY`, so a floor is kept as far as it can be. ``floor_units[i]``
    is a parameter (mutable when ``opt.mutable`` names ``floors``: Monte Carlo draws rescale need)."""
    rows = floor_rows(p)
    m.FLOORS = pyo.Set(initialize=list(range(len(rows))), ordered=True)
    m.floor_units = pyo.Param(
        m.FLOORS, mutable="floors" in opt.mutable, within=pyo.Reals, initialize={i: f.units for i, f in enumerate(rows)}
    )
    if opt.elastic:
        m.floor_short = pyo.Var(m.FLOORS, domain=pyo.NonNegativeReals)

    def floor_rule(m, i):
        f = rows[i]
        have = {None: _total, "hospital": _hospital}.get(f.tier)  # hospital: public and private hospital pools
        stock = have(m, p, f.region, f.kind, f.year) if have else m.stock[f.region, f.kind, f.tier, f.year]
        slack = m.floor_short[i] if opt.elastic else 0
        return stock + slack >= m.floor_units[i]

    m.floor = pyo.Constraint(m.FLOORS, rule=floor_rule)


def cap_rows(p: AllocationProblem) -> list:
    """The cap rows that apply to the model (kind, year and region in the problem)."""
    return [c for c in p.caps if c.kind in p.kinds and c.year in p.years and c.region in p.regions]


def define_need_cap_constraints(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """Each cap row: the bureau's stock of its kind (one tier, or both) in its year at most ``units``, relaxed by
    ``cap_excess`` (units), priced at :data:`CAP_PENALTY` (min-cost) or :data:`CAP_WEIGHT` per relative unit
    (max-attainment): beds past the need from demand are built only where a hard target or floor forces them."""
    rows = cap_rows(p)
    m.CAPS = pyo.Set(initialize=list(range(len(rows))), ordered=True)
    m.cap_excess = pyo.Var(m.CAPS, domain=pyo.NonNegativeReals)

    def cap_rule(m, i):
        c = rows[i]
        stock = _bureau(m, p, c.region, c.kind, c.year) if c.tier is None else m.stock[c.region, c.kind, c.tier, c.year]
        return stock - m.cap_excess[i] <= c.units

    m.need_cap = pyo.Constraint(m.CAPS, rule=cap_rule)


def define_ramp_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Smooth hiring and building: the bureau's additions of a kind change by at most ``ramp`` units from one
    year to the next (no final-year spike)."""
    idx = [(r, k, y) for (r, k) in p.ramp if k in p.kinds and r in p.regions for y in p.years[1:]]
    adds = lambda m, r, k, y: sum(m.add[r, k, t, y] for t in TIERS)  # noqa: E731
    m.ramp_up = pyo.Constraint(idx, rule=lambda m, r, k, y: adds(m, r, k, y) - adds(m, r, k, y - 1) <= p.ramp[r, k])
    m.ramp_down = pyo.Constraint(idx, rule=lambda m, r, k, y: adds(m, r, k, y - 1) - adds(m, r, k, y) <= p.ramp[r, k])


def define_budget_per_year_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Each plan year's public cost at most ``budget_per_year`` (CNY)."""
    m.budget_year = pyo.Constraint(m.YEARS, rule=lambda m, y: m.cost[y] <= m.budget_per_year_cny / COST_SCALE)


def define_budget_total_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """The plan period's public cost (nominal) at most ``budget_total`` (CNY)."""
    m.budget = pyo.Constraint(expr=sum(m.cost[y] for y in p.years) <= m.budget_total_cny / COST_SCALE)


def define_objective(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """min-cost: present value of the costs. max-attainment: weighted relative shortfall, cost as a tiny tie-break."""
    present_value = sum(p.discount(y) * m.cost[y] for y in p.years)
    if opt.mode == "max-attainment":
        shortfall = sum(tr.weight * m.shortfall[i] / max(tr.ratio, 1e-9) for i, tr in enumerate(p.targets))
        if hasattr(m, "floor_short"):
            rows = floor_rows(p)
            shortfall = shortfall + sum(m.floor_short[i] / max(rows[i].units, 1e-9) for i in m.FLOORS)
        if hasattr(m, "cap_excess"):
            rows = cap_rows(p)
            shortfall = shortfall + CAP_WEIGHT * sum(m.cap_excess[i] / max(rows[i].units, 1.0) for i in m.CAPS)
        m.objective = pyo.Objective(expr=shortfall + 1e-6 * present_value / m.tiebreak_budget, sense=pyo.minimize)
    else:
        floors = 0
        if hasattr(m, "floor_short"):
            rows = floor_rows(p)
            floors = FLOOR_PENALTY * sum(m.floor_short[i] / max(rows[i].units, 1e-9) for i in m.FLOORS)
        if hasattr(m, "cap_excess"):
            floors = floors + CAP_PENALTY * sum(m.cap_excess[i] for i in m.CAPS)
        if hasattr(m, "need_short"):
            Y = p.target_year
            floors = floors + YIELD_PENALTY * sum(m.need_short[i] * _scale(m, p, i, Y) for i in m.YIELDING)
        m.objective = pyo.Objective(expr=present_value + floors, sense=pyo.minimize)
