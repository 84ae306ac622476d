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
    """Build the Pyomo model of problem ``p``."""
    m = pyo.ConcreteModel(name="healthsim_allocation")
    years = p.years
    Y = p.target_year
    idx = [(r, k, t, y) for r in p.regions for k in p.kinds for t in TIERS for y in years]
    m.I = pyo.Set(initialize=idx, dimen=4, ordered=True)
    m.YEARS = pyo.Set(initialize=years, ordered=True)
    domain = pyo.NonNegativeIntegers if opt.integer else pyo.NonNegativeReals
    m.add = pyo.Var(m.I, domain=domain)
    m.stock = pyo.Var(m.I, domain=pyo.NonNegativeReals)
    if p.allow_disinvestment:
        m.cut = pyo.Var(m.I, domain=domain)

    def prev(r, k, t, y):
        return p.baseline[r, k, t] if y == years[0] else m.stock[r, k, t, y - 1]

    def balance(m, r, k, t, y):
        keep = 1.0 - p.attrition.get(k, 0.0)
        flow = m.add[r, k, t, y] - (m.cut[r, k, t, y] if p.allow_disinvestment else 0)
        return m.stock[r, k, t, y] == keep * prev(r, k, t, y) + flow

    m.balance = pyo.Constraint(m.I, rule=balance)

    def cost_rule(m, y):
        return sum(
            p.capital[k, t] * m.add[r, k, t, y] + p.annual[k, t] * (m.stock[r, k, t, y] - p.baseline[r, k, t])
            for r in p.regions for k in p.kinds for t in TIERS
        ) / COST_SCALE

    m.cost = pyo.Expression(m.YEARS, rule=cost_rule)  # millions of CNY
    fam = opt.families

    # -- targets -------------------------------------------------------------------
    T = list(range(len(p.targets)))
    m.TARGETS = pyo.Set(initialize=T, ordered=True)
    if opt.elastic:
        caps = opt.shortfall_caps
        m.shortfall = pyo.Var(m.TARGETS, domain=pyo.NonNegativeReals,  # per-capita units
                              bounds=(lambda m, i: (0, caps[i] + 1e-9)) if caps else None)

    def target_rule(m, i):
        tr = p.targets[i]
        have = sum(m.stock[tr.region, tr.kind, t, Y] for t in TIERS)
        scale = p.population[tr.region, Y] / tr.divisor  # units per 1 per-capita unit
        need = tr.ratio * scale
        if tr.sense == "floor":
            return have + (m.shortfall[i] * scale if opt.elastic else 0) >= need
        return have - (m.shortfall[i] * scale if opt.elastic else 0) <= need

    m.target = pyo.Constraint(m.TARGETS, rule=target_rule)

    # -- realism -----------------------------------------------------------------------
    if "no_decline" in fam and not p.allow_disinvestment:
        rk = [(r, k, y) for r in p.regions for k in p.kinds for y in years]
        m.no_decline = pyo.Constraint(rk, rule=lambda m, r, k, y: sum(m.stock[r, k, t, y] for t in TIERS)
                                      >= sum(p.baseline[r, k, t] for t in TIERS))
    if "hiring_limits" in fam and p.max_additions:
        hk = [(r, k, y) for (r, k) in p.max_additions for y in years]
        m.hiring = pyo.Constraint(hk, rule=lambda m, r, k, y: sum(m.add[r, k, t, y] for t in TIERS)
                                  <= p.max_additions[r, k])
    if "nurse_physician_ratio" in fam and p.nurse_physician_ratio_min is not None and {"nurses", "physicians"} <= set(p.kinds):
        m.nurse_physician = pyo.Constraint(list(p.regions), rule=lambda m, r: sum(m.stock[r, "nurses", t, Y] for t in TIERS)
                                           >= p.nurse_physician_ratio_min * sum(m.stock[r, "physicians", t, Y] for t in TIERS))
    if "hospital_nurses_per_bed" in fam and p.hospital_nurses_per_bed_min is not None and {"nurses", "beds"} <= set(p.kinds):
        m.nurses_per_bed = pyo.Constraint(list(p.regions), rule=lambda m, r: m.stock[r, "nurses", "hospital", Y]
                                          >= p.hospital_nurses_per_bed_min * m.stock[r, "beds", "hospital", Y])
    if "gp_primary_share" in fam and p.gp_primary_share_min is not None and "gps" in p.kinds:
        gy = [(r, y) for r in p.regions for y in years]
        m.gp_primary = pyo.Constraint(gy, rule=lambda m, r, y: m.stock[r, "gps", "primary", y]
                                      >= p.gp_primary_share_min * sum(m.stock[r, "gps", t, y] for t in TIERS))
    if "primary_share_band" in fam and p.primary_share_shift_max is not None:
        rk = [(r, k) for r in p.regions for k in p.kinds]

        def band_lo(m, r, k):
            return m.stock[r, k, "primary", Y] >= p.base_share(r, k) * sum(m.stock[r, k, t, Y] for t in TIERS)

        def band_hi(m, r, k):
            hi = min(1.0, p.base_share(r, k) + p.primary_share_shift_max)
            return m.stock[r, k, "primary", Y] <= hi * sum(m.stock[r, k, t, Y] for t in TIERS)

        m.band_lo = pyo.Constraint(rk, rule=band_lo)
        m.band_hi = pyo.Constraint(rk, rule=band_hi)
    if "budget_per_year" in fam and p.budget_per_year is not None:
        m.budget_year = pyo.Constraint(m.YEARS, rule=lambda m, y: m.cost[y] <= p.budget_per_year / COST_SCALE)
    if "budget_total" in fam and p.budget_total is not None:
        m.budget = pyo.Constraint(expr=sum(m.cost[y] for y in years) <= p.budget_total / COST_SCALE)

    # -- objective -----------------------------------------------------------------------
    total_cost = sum(m.cost[y] for y in years)
    if opt.mode == "max-attainment":
        shortfall = sum(p.targets[i].weight * m.shortfall[i] / max(p.targets[i].ratio, 1e-9) for i in T)
        # A tiny cost term picks the cheapest among plans of equal attainment.
        budget_scale = (p.budget_total or 1e9) / COST_SCALE
        m.objective = pyo.Objective(expr=shortfall + 1e-6 * total_cost / budget_scale, sense=pyo.minimize)
    else:
        m.objective = pyo.Objective(expr=total_cost, sense=pyo.minimize)
    return m
