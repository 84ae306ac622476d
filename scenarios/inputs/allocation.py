"""A scenario and its projection as a plain :class:`AllocationProblem`: baseline stocks by tier and
ownership, targets (per 1,000 / per 10,000 residents), unit costs (CNY), hiring limits, budgets; nothing
is solved here."""

from __future__ import annotations

import math

from optimize.problem import HORIZON_MAX, PRIVATE, AllocationProblem, ProblemError, TargetRow
from scenarios.inputs.need import need_floors, need_table
from scenarios.inputs.population import MEDIUM
from scenarios.labels import resource_label
from scenarios.schema import UNIT_DIVISOR, Scenario
from scenarios.targets import parse_target
from sim.population import ProjectionResult


def tier_split(scenario: Scenario, kind: str, total: float | None = None) -> dict[str, float]:
    """Split a resource's base-year stock (or ``total``) into whole {'hospital', 'primary'} units by its
    primary-care share (hospital includes privately run hospitals)."""
    s = scenario
    try:
        share = s.primary_share(kind)
    except KeyError:
        raise ProblemError(
            f"scenario '{s.id}': resources.{kind}: no primary_share and no primary_share_defaults.{kind}; "
            "expected the base-year share of the resource in primary care"
        ) from None
    total = round(s.baseline_stock(kind) if total is None else total)
    primary = round(total * share)
    return {"primary": float(primary), "hospital": float(total - primary)}


def private_stock(scenario: Scenario, kind: str) -> float | None:
    """Whole privately run (社会办医) units of a kind in the base year, within its hospital tier; None when not
    given."""
    res = scenario.resources[kind]
    if res.private is None:
        return None
    hospital = tier_split(scenario, kind)["hospital"]
    units = res.private.stock.value if res.private.stock is not None else res.private.share.value * hospital
    if units > hospital:
        raise ProblemError(
            f"scenario '{scenario.id}': resources.{kind}.private: {units:,.0f} private units but only "
            f"{hospital:,.0f} hospital units in the base year; expected at most the hospital tier"
        )
    return float(round(units))


def _baseline(s: Scenario, region: str, kinds: tuple[str, ...]) -> dict[tuple[str, str, str], float]:
    out = {}
    for k in kinds:
        split = tier_split(s, k)
        priv = private_stock(s, k)
        out[region, k, "primary"] = split["primary"]
        out[region, k, "hospital"] = split["hospital"] - (priv or 0.0)
        if priv is not None:
            out[region, k, PRIVATE] = priv
    return out


def _targets(s: Scenario, region: str, baseline: dict) -> tuple[TargetRow, ...]:
    w = s.plan.weights
    rows = []
    for k, res in s.resources.items():
        weight = lambda nature: (w.binding if nature == "binding" else w.expected) * w.kinds.get(k, 1.0)  # noqa: E731
        if res.target is not None:
            base_ratio = s.baseline_ratio(k)
            rows.append(
                TargetRow(
                    region=region,
                    kind=k,
                    sense=res.target.parsed.sense,
                    ratio=res.target.parsed.resolve(base_ratio),
                    divisor=UNIT_DIVISOR[res.unit],
                    nature=res.target.nature,
                    expr=res.target.expr,
                    baseline_ratio=base_ratio,
                    weight=weight(res.target.nature),
                    label=resource_label(k),
                )
            )
        if res.private is not None and res.private.target is not None:
            t = res.private.target
            priv, hosp = baseline[region, k, PRIVATE], baseline[region, k, PRIVATE] + baseline[region, k, "hospital"]
            rows.append(
                TargetRow(
                    region=region,
                    kind=k,
                    sense=t.parsed.sense,
                    ratio=parse_target(t.expr).resolve(0.0) / 100.0,
                    divisor=1.0,
                    nature=t.nature,
                    expr=f"{t.expr}%",
                    baseline_ratio=priv / hosp if hosp else 0.0,
                    weight=weight(t.nature),
                    label=resource_label(k),
                    measure="private_share",
                )
            )
    return tuple(rows)


def _costs(s: Scenario, kinds: tuple[str, ...], subsets: dict[str, tuple[str, ...]]) -> tuple[dict, dict, dict]:
    """Capital and running cost by (kind, tier), and the private subsidy by kind (CNY).

    A kind counted inside a parent (a GP inside physicians) is hired as a parent member too, so
    its own capital is only what it costs beyond the parent's (GP training beyond a physician's
    recruitment), never below 0; its running cost is its own (the parent pays only for the rest).
    """
    missing = [k for k in kinds if k not in s.costs]
    if missing:
        raise ProblemError(
            f"scenario '{s.id}': costs: no costs for {', '.join(missing)}; expected [costs.<kind>] with capital and "
            f"annual (CNY)"
        )
    parent = {c: p for p, ch in subsets.items() for c in ch}
    capital, annual, subsidy = {}, {}, {}
    for k in kinds:
        c = s.costs[k]
        factor = c.primary_factor.value if c.primary_factor else 1.0
        cap = c.capital.value - (s.costs[parent[k]].capital.value if k in parent else 0.0)
        capital[k, "hospital"], annual[k, "hospital"] = max(0.0, cap), c.annual.value
        capital[k, "primary"], annual[k, "primary"] = max(0.0, cap * factor), c.annual.value * factor
        if c.private_subsidy is not None:
            subsidy[k] = c.private_subsidy.value
    return capital, annual, subsidy


def _subsets(s: Scenario, kinds: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    if not s.constraints.enabled.subsets:
        return {}
    return {
        p: tuple(c for c in ch if c in kinds) for p, ch in SUBSETS.items() if p in kinds and any(c in kinds for c in ch)
    }


def _population(s: Scenario, projection: ProjectionResult, variant: str, region: str) -> dict:
    """Residents from the base year to the target year (required) and on to :data:`HORIZON_MAX` where projected."""
    out = {(region, y): projection.population(y, variant) for y in range(s.base_year, s.target_year + 1)}
    years = set(projection.series(variant).index)
    for y in range(s.target_year + 1, HORIZON_MAX + 1):
        if y in years:
            out[region, y] = projection.population(y, variant)
    return out


def _limits(s: Scenario, region: str, kinds: tuple[str, ...], baseline: dict) -> tuple[dict, dict]:
    """Whole units a year: public additions (share x base-year stock of every owner) and private additions."""
    c, on = s.constraints, s.constraints.enabled
    public = (
        {
            (region, k): math.floor(c.max_additions_share[k].value * s.baseline_stock(k))
            for k in kinds
            if k in c.max_additions_share
        }
        if on.hiring_limits
        else {}
    )
    private = (
        {
            (region, k): math.floor(c.private_max_additions_share[k].value * baseline[region, k, PRIVATE])
            for k in kinds
            if k in c.private_max_additions_share and (region, k, PRIVATE) in baseline
        }
        if on.private_growth
        else {}
    )
    return public, private


def from_scenario(
    scenario: Scenario,
    projection: ProjectionResult,
    variant: str = MEDIUM,
    budget_total: float | None = None,
    budget_per_year: float | None = None,
    basis: str | None = None,
) -> AllocationProblem:
    """Build the model data for one scenario (one region) from its projection; budgets in public CNY as given
    (None: no cap; :func:`scenarios.run.options.resolve_options` decides what a missing budget means).

    ``basis`` (default the scenario's ``plan.basis``): ``target`` pursues the per-capita targets,
    ``need`` the target-year need by tier (:mod:`scenarios.run.need`) as stock floors, ``both`` both.
    """
    s = scenario
    basis = basis or s.plan.basis
    if basis not in ("target", "need", "both"):
        raise ProblemError(f"basis {basis!r}: expected 'target', 'need' or 'both'")
    floors = need_floors(need_table(s, projection, variant), s.target_year) if basis != "target" else ()
    region = s.id
    kinds = tuple(s.resources)
    baseline = _baseline(s, region, kinds)
    subsets = _subsets(s, kinds)
    capital, annual, subsidy = _costs(s, kinds, subsets)
    c, on = s.constraints, s.constraints.enabled
    max_add, private_add = _limits(s, region, kinds, baseline)

    def switched(flag: bool, q) -> float | None:
        return q.value if flag and q is not None else None

    return AllocationProblem(
        regions=(region,),
        kinds=kinds,
        base_year=s.base_year,
        target_year=s.target_year,
        baseline=baseline,
        population=_population(s, projection, variant, region),
        targets=_targets(s, region, baseline) if basis != "need" else (),
        capital=capital,
        annual=annual,
        floors=floors,
        attrition={k: c.attrition[k].value for k in kinds if k in c.attrition},
        max_additions=max_add,
        nurse_physician_ratio_min=switched(on.nurse_physician_ratio, c.nurse_physician_ratio_min),
        hospital_nurses_per_bed_min=switched(on.hospital_nurses_per_bed, c.hospital_nurses_per_bed_min),
        gp_primary_share_min=switched(on.gp_primary_share, c.gp_primary_share_min),
        primary_share_shift_max=switched(on.primary_share_band, c.primary_share_shift_max),
        allow_disinvestment=on.disinvestment,
        budget_total=budget_total,
        budget_per_year=budget_per_year,
        trajectory=s.plan.trajectory,
        discount_rate=s.plan.discount_rate.value if s.plan.discount_rate else 0.0,
        capital_share_max=switched(on.capital_smoothing, c.capital_share_max),
        private_subsidy=subsidy,
        private_max_additions=private_add,
        subsets=subsets,
    )


# Kinds counted inside another (其中 rows), not beside it. TCM physicians: "其中：每千人口拥有中医类别执业（助理）
# 医师数" under physicians (001_0088d1915777a4e3.txt:199); GPs and psychiatrists are practising physicians
# registered in a specialty (《广州统计年鉴》 table 18-20 lists "# 全科医生" under 执业(助理)医师); physicians,
# nurses and pharmacists are health technicians (same table: 卫生技术人员 holds 执业(助理)医师, 注册护士, 药师(士)).
SUBSETS: dict[str, tuple[str, ...]] = {
    "physicians": ("gps", "tcm_physicians", "psychiatrists"),
    "health_technicians": ("physicians", "nurses", "pharmacists"),
}
