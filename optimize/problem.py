"""The allocation problem as plain data: what the LP reads, nothing it computes.

An :class:`AllocationProblem` holds, per region, the base-year stocks by resource kind and
tier, the projected population by year and the resolved targets, plus costs (CNY),
realism constraints and the budget. :func:`from_scenario` builds one from a scenario and
its population projection; benchmarks build larger ones directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from scenarios.schema import UNIT_DIVISOR, Scenario
from sim.population import ProjectionResult

TIERS = ("hospital", "primary")


class ProblemError(ValueError):
    """The scenario cannot be turned into an allocation problem (missing data)."""


@dataclass(frozen=True)
class TargetRow:
    """A resolved per-capita target for one region and resource kind in the target year."""

    region: str
    kind: str
    sense: Literal["floor", "ceiling"]
    ratio: float  # per `divisor` residents
    divisor: float  # 1,000 / 10,000 / 100,000
    nature: Literal["binding", "expected"]
    expr: str
    baseline_ratio: float
    weight: float = 1.0

    @property
    def unit_label(self) -> str:
        return f"per {int(self.divisor):,}"


@dataclass(frozen=True)
class AllocationProblem:
    """Data of the allocation LP. Money in CNY; stocks in persons or beds; years as integers."""

    regions: tuple[str, ...]
    kinds: tuple[str, ...]
    base_year: int
    target_year: int
    baseline: dict[tuple[str, str, str], float]  # (region, kind, tier) -> base-year stock
    population: dict[tuple[str, int], float]  # (region, year) -> residents, base year .. target year
    targets: tuple[TargetRow, ...]
    capital: dict[tuple[str, str], float]  # (kind, tier) -> CNY per unit added
    annual: dict[tuple[str, str], float]  # (kind, tier) -> CNY per unit-year above the base-year stock
    attrition: dict[str, float] = field(default_factory=dict)  # kind -> share lost per year
    max_additions: dict[tuple[str, str], float] = field(default_factory=dict)  # (region, kind) -> units/year
    nurse_physician_ratio_min: float | None = None
    hospital_nurses_per_bed_min: float | None = None
    gp_primary_share_min: float | None = None
    primary_share_shift_max: float | None = None
    allow_disinvestment: bool = False
    budget_total: float | None = None
    budget_per_year: float | None = None

    @property
    def years(self) -> list[int]:
        """Plan years in which additions happen (base year + 1 .. target year)."""
        return list(range(self.base_year + 1, self.target_year + 1))

    def base_share(self, region: str, kind: str) -> float:
        """Base-year primary-care share of a kind in a region."""
        total = sum(self.baseline[region, kind, t] for t in TIERS)
        return self.baseline[region, kind, "primary"] / total if total > 0 else 0.0

    def with_budget(self, total: float | None, per_year: float | None = None) -> AllocationProblem:
        return replace(self, budget_total=total, budget_per_year=per_year if per_year is not None else self.budget_per_year)


def from_scenario(
    scenario: Scenario,
    projection: ProjectionResult,
    variant: str = "medium",
    budget_total: float | None = None,
    budget_per_year: float | None = None,
) -> AllocationProblem:
    """Build the LP data for one scenario (one region) from its projection."""
    s = scenario
    region = s.id
    years = range(s.base_year, s.target_year + 1)
    population = {(region, y): projection.population(y, variant) for y in years}

    kinds = tuple(s.resources)
    baseline: dict[tuple[str, str, str], float] = {}
    for k in kinds:
        total = s.baseline_stock(k)
        try:
            share = s.primary_share(k)
        except KeyError:
            raise ProblemError(
                f"scenario '{s.id}': resources.{k}: no primary_share and no primary_share_defaults.{k}; "
                "expected the base-year share of the resource in primary care"
            ) from None
        baseline[region, k, "primary"] = total * share
        baseline[region, k, "hospital"] = total * (1 - share)

    missing = [k for k in kinds if k not in s.costs]
    if missing:
        raise ProblemError(
            f"scenario '{s.id}': costs: no costs for {', '.join(missing)}; expected [costs.<kind>] with capital and annual (CNY)"
        )
    capital, annual = {}, {}
    for k in kinds:
        c = s.costs[k]
        factor = c.primary_factor.value if c.primary_factor else 1.0
        capital[k, "hospital"], annual[k, "hospital"] = c.capital.value, c.annual.value
        capital[k, "primary"], annual[k, "primary"] = c.capital.value * factor, c.annual.value * factor

    w = s.plan.weights
    targets = []
    for k in kinds:
        res = s.resources[k]
        if res.target is None:
            continue
        parsed = res.target.parsed
        base_ratio = s.baseline_ratio(k)
        weight = (w.binding if res.target.nature == "binding" else w.expected) * w.kinds.get(k, 1.0)
        targets.append(TargetRow(
            region=region, kind=k, sense=parsed.sense, ratio=parsed.resolve(base_ratio),
            divisor=UNIT_DIVISOR[res.unit], nature=res.target.nature, expr=res.target.expr,
            baseline_ratio=base_ratio, weight=weight,
        ))

    c = s.constraints
    on = c.enabled
    max_add = {}
    if on.hiring_limits:
        for k in kinds:
            if k in c.max_additions_share:
                max_add[region, k] = c.max_additions_share[k].value * s.baseline_stock(k)
    plan_budget = s.plan.budget_total.value if s.plan.budget_total else None
    plan_per_year = s.plan.budget_per_year.value if s.plan.budget_per_year else None
    return AllocationProblem(
        regions=(region,),
        kinds=kinds,
        base_year=s.base_year,
        target_year=s.target_year,
        baseline=baseline,
        population=population,
        targets=tuple(targets),
        capital=capital,
        annual=annual,
        attrition={k: c.attrition[k].value for k in kinds if k in c.attrition},
        max_additions=max_add,
        nurse_physician_ratio_min=(c.nurse_physician_ratio_min.value
                                   if on.nurse_physician_ratio and c.nurse_physician_ratio_min else None),
        hospital_nurses_per_bed_min=(c.hospital_nurses_per_bed_min.value
                                     if on.hospital_nurses_per_bed and c.hospital_nurses_per_bed_min else None),
        gp_primary_share_min=(c.gp_primary_share_min.value if on.gp_primary_share and c.gp_primary_share_min else None),
        primary_share_shift_max=(c.primary_share_shift_max.value
                                 if on.primary_share_band and c.primary_share_shift_max else None),
        allow_disinvestment=on.disinvestment,
        budget_total=budget_total if budget_total is not None else plan_budget,
        budget_per_year=budget_per_year if budget_per_year is not None else plan_per_year,
    )
