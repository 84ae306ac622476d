"""Pyomo formulation of the allocation LP (or MILP with integer additions).

Indices: region r, kind k, tier t (hospital, primary), plan year y.

* ``add[r,k,t,y] >= 0``: units added in year y (beds opened, staff hired).
* ``cut[r,k,t,y] >= 0``: units removed (only when disinvestment is allowed).
* ``stock[r,k,t,y] = (1 - attrition_k) * stock[r,k,t,y-1] + add - cut``; base year fixed.
* ``cost[y] = sum capital[k,t] * add + annual[k,t] * (stock - base stock)``, CNY: one-off
  costs of everything added plus the running cost of the stock above the base year.
* Targets in the target year Y: ``sum_t stock[r,k,t,Y] >= ratio * P(r,Y) / divisor`` (floors)
  or ``<=`` (ceilings); in max-attainment mode a shortfall variable (per-capita units)
  relaxes each target and the objective minimises the weighted relative shortfall.

Constraint families (each can be left out, which the infeasibility diagnosis uses):
``hiring_limits``, ``nurse_physician_ratio``, ``hospital_nurses_per_bed``,
``gp_primary_share``, ``primary_share_band``, ``no_decline``, ``budget_total``,
``budget_per_year``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from optimize.problem import TIERS, AllocationProblem

FAMILIES = (
    "no_decline",
    "hiring_limits",
    "nurse_physician_ratio",
    "hospital_nurses_per_bed",
    "gp_primary_share",
    "primary_share_band",
    "budget_per_year",
    "budget_total",
)
FAMILY_WORDS = {
    "no_decline": "no resource may fall below its base-year stock (disinvestment is off)",
    "hiring_limits": "the yearly limits on additions (training pipeline and construction capacity)",
    "nurse_physician_ratio": "the nurse-to-physician ratio floor",
    "hospital_nurses_per_bed": "the floor on nurses per hospital bed",
    "gp_primary_share": "the share of GPs that must work in primary care",
    "primary_share_band": "the band on each resource's primary-care share",
    "budget_per_year": "the yearly budget cap",
    "budget_total": "the plan-period budget",
}
COST_SCALE = 1e6  # costs enter the objective in millions of CNY, for numerical scale


@dataclass(frozen=True)
class ModelOptions:
    mode: str = "min-cost"  # or "max-attainment"
    integer: bool = False
    families: frozenset[str] = frozenset(FAMILIES)
    elastic_targets: bool | None = None  # default: True in max-attainment mode
    shortfall_caps: tuple[float, ...] | None = None  # per target: shortfall may not exceed (budget sweeps)

    @property
    def elastic(self) -> bool:
        return self.mode == "max-attainment" if self.elastic_targets is None else self.elastic_targets


def build_model(p: AllocationProblem, opt: ModelOptions = ModelOptions()) -> pyo.ConcreteModel:
    """Build the Pyomo model of problem ``p``: variables, balance, cost, targets, each enabled family, objective."""
    m = pyo.ConcreteModel(name="healthsim_allocation")
    define_variables(m, p, opt)
    define_balance_constraints(m, p)
    define_cost_expressions(m, p)
    define_target_constraints(m, p, opt)
    fam = opt.families
    if "no_decline" in fam and not p.allow_disinvestment:
        define_no_decline_constraints(m, p)
    if "hiring_limits" in fam and p.max_additions:
        define_hiring_limit_constraints(m, p)
    if "nurse_physician_ratio" in fam and p.nurse_physician_ratio_min is not None and {"nurses", "physicians"} <= set(p.kinds):
        define_nurse_physician_constraints(m, p)
    if "hospital_nurses_per_bed" in fam and p.hospital_nurses_per_bed_min is not None and {"nurses", "beds"} <= set(p.kinds):
        define_nurses_per_bed_constraints(m, p)
    if "gp_primary_share" in fam and p.gp_primary_share_min is not None and "gps" in p.kinds:
        define_gp_primary_constraints(m, p)
    if "primary_share_band" in fam and p.primary_share_shift_max is not None:
        define_primary_share_band_constraints(m, p)
    if "budget_per_year" in fam and p.budget_per_year is not None:
        define_budget_per_year_constraints(m, p)
    if "budget_total" in fam and p.budget_total is not None:
        define_budget_total_constraints(m, p)
    define_objective(m, p, opt)
    return m


def _tier_sum(m: pyo.ConcreteModel, r: str, k: str, y: int):
    return sum(m.stock[r, k, t, y] for t in TIERS)


def define_variables(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """Sets; ``add`` (integer in a MILP), ``stock``, ``cut`` (with disinvestment), ``shortfall`` (elastic)."""
    idx = [(r, k, t, y) for r in p.regions for k in p.kinds for t in TIERS for y in p.years]
    m.I = pyo.Set(initialize=idx, dimen=4, ordered=True)
    m.YEARS = pyo.Set(initialize=p.years, ordered=True)
    m.TARGETS = pyo.Set(initialize=list(range(len(p.targets))), ordered=True)
    domain = pyo.NonNegativeIntegers if opt.integer else pyo.NonNegativeReals
    m.add = pyo.Var(m.I, domain=domain)
    m.stock = pyo.Var(m.I, domain=pyo.NonNegativeReals)
    if p.allow_disinvestment:
        m.cut = pyo.Var(m.I, domain=domain)
    if opt.elastic:
        caps = opt.shortfall_caps
        m.shortfall = pyo.Var(m.TARGETS, domain=pyo.NonNegativeReals,  # per-capita units
                              bounds=(lambda m, i: (0, caps[i] + 1e-9)) if caps else None)


def define_balance_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """``stock[y] = (1 - attrition) * stock[y-1] + add[y] - cut[y]``; the base-year stock is data."""
    first = p.years[0]

    def balance(m, r, k, t, y):
        prev = p.baseline[r, k, t] if y == first else m.stock[r, k, t, y - 1]
        flow = m.add[r, k, t, y] - (m.cut[r, k, t, y] if p.allow_disinvestment else 0)
        return m.stock[r, k, t, y] == (1.0 - p.attrition.get(k, 0.0)) * prev + flow

    m.balance = pyo.Constraint(m.I, rule=balance)


def define_cost_expressions(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """``cost[y]`` (CNY million): capital of what is added plus running cost of the stock above the base year."""

    def cost_rule(m, y):
        return sum(
            p.capital[k, t] * m.add[r, k, t, y] + p.annual[k, t] * (m.stock[r, k, t, y] - p.baseline[r, k, t])
            for r in p.regions for k in p.kinds for t in TIERS
        ) / COST_SCALE

    m.cost = pyo.Expression(m.YEARS, rule=cost_rule)


def define_target_constraints(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """Per-capita targets in the target year (floors ``>=``, ceilings ``<=``), relaxed by ``shortfall`` when elastic."""
    Y = p.target_year

    def target_rule(m, i):
        tr = p.targets[i]
        scale = p.population[tr.region, Y] / tr.divisor  # units per 1 per-capita unit
        slack = m.shortfall[i] * scale if opt.elastic else 0
        have = sum(m.stock[tr.region, tr.kind, t, Y] for t in TIERS)
        if tr.sense == "floor":
            return have + slack >= tr.ratio * scale
        return have - slack <= tr.ratio * scale

    m.target = pyo.Constraint(m.TARGETS, rule=target_rule)


def define_no_decline_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """No resource's total stock falls below its base-year stock in any plan year."""
    rk = [(r, k, y) for r in p.regions for k in p.kinds for y in p.years]
    m.no_decline = pyo.Constraint(rk, rule=lambda m, r, k, y: _tier_sum(m, r, k, y)
                                  >= sum(p.baseline[r, k, t] for t in TIERS))


def define_hiring_limit_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Yearly additions of a kind (all tiers) at most ``max_additions`` units."""
    hk = [(r, k, y) for (r, k) in p.max_additions for y in p.years]
    m.hiring = pyo.Constraint(hk, rule=lambda m, r, k, y: sum(m.add[r, k, t, y] for t in TIERS)
                              <= p.max_additions[r, k])


def define_nurse_physician_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Nurses at least ``nurse_physician_ratio_min`` per physician in the target year."""
    Y = p.target_year
    m.nurse_physician = pyo.Constraint(list(p.regions), rule=lambda m, r: _tier_sum(m, r, "nurses", Y)
                                       >= p.nurse_physician_ratio_min * _tier_sum(m, r, "physicians", Y))


def define_nurses_per_bed_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Hospital nurses at least ``hospital_nurses_per_bed_min`` per hospital bed in the target year."""
    Y = p.target_year
    m.nurses_per_bed = pyo.Constraint(list(p.regions), rule=lambda m, r: m.stock[r, "nurses", "hospital", Y]
                                      >= p.hospital_nurses_per_bed_min * m.stock[r, "beds", "hospital", Y])


def define_gp_primary_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """At least ``gp_primary_share_min`` of GPs work in primary care, every plan year."""
    gy = [(r, y) for r in p.regions for y in p.years]
    m.gp_primary = pyo.Constraint(gy, rule=lambda m, r, y: m.stock[r, "gps", "primary", y]
                                  >= p.gp_primary_share_min * _tier_sum(m, r, "gps", y))


def define_primary_share_band_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Each kind's primary-care share in the target year between its base share and base + ``primary_share_shift_max``."""
    Y = p.target_year
    rk = [(r, k) for r in p.regions for k in p.kinds]
    m.band_lo = pyo.Constraint(rk, rule=lambda m, r, k: m.stock[r, k, "primary", Y]
                               >= p.base_share(r, k) * _tier_sum(m, r, k, Y))
    m.band_hi = pyo.Constraint(rk, rule=lambda m, r, k: m.stock[r, k, "primary", Y]
                               <= min(1.0, p.base_share(r, k) + p.primary_share_shift_max) * _tier_sum(m, r, k, Y))


def define_budget_per_year_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """Each plan year's cost at most ``budget_per_year`` (CNY)."""
    m.budget_year = pyo.Constraint(m.YEARS, rule=lambda m, y: m.cost[y] <= p.budget_per_year / COST_SCALE)


def define_budget_total_constraints(m: pyo.ConcreteModel, p: AllocationProblem) -> None:
    """The plan period's cost at most ``budget_total`` (CNY)."""
    m.budget = pyo.Constraint(expr=sum(m.cost[y] for y in p.years) <= p.budget_total / COST_SCALE)


def define_objective(m: pyo.ConcreteModel, p: AllocationProblem, opt: ModelOptions) -> None:
    """min-cost: total cost. max-attainment: weighted relative shortfall, cost as a tiny tie-break."""
    total_cost = sum(m.cost[y] for y in p.years)
    if opt.mode == "max-attainment":
        shortfall = sum(tr.weight * m.shortfall[i] / max(tr.ratio, 1e-9) for i, tr in enumerate(p.targets))
        budget_scale = (p.budget_total or 1e9) / COST_SCALE
        m.objective = pyo.Objective(expr=shortfall + 1e-6 * total_cost / budget_scale, sense=pyo.minimize)
    else:
        m.objective = pyo.Objective(expr=total_cost, sense=pyo.minimize)
