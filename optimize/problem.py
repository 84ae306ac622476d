"""The allocation problem as plain data: what the model reads, nothing it computes.

An :class:`AllocationProblem` holds, per region, the base-year stocks by resource kind and
pool (tier ``hospital`` or ``primary``, public; ``private`` for privately run hospital
capacity, 社会办医), the projected population by year and the resolved targets, plus costs
(CNY), realism constraints and the budget. The scenario side (``scenarios.run.plan``) builds
one from a scenario and its population projection; benchmarks build larger ones directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

TIERS = ("hospital", "primary")  # the bureau's own public tiers: what the plan decides
OTHER_PUBLIC = (
    "other_public"  # other public operators' hospital capacity in the area (city, provincial, army, enterprise)
)
PRIVATE = "private"  # privately run hospital capacity (社会办医), where the scenario gives it
OPERATORS = {"hospital": "public", "primary": "public", OTHER_PUBLIC: OTHER_PUBLIC, PRIVATE: PRIVATE}
HORIZON_MAX = 2035  # last year the earliest-attainable-year search looks at
MET_TOL = 1e-6  # a goal is met when the gap to it is at most this share of max(1, |goal|)


def gap_met(gap, goal):
    """Whether a gap (how far short of a floor, or above a ceiling; same unit as ``goal``) still counts as met:
    the one tolerance of "met" for the plan, the Monte Carlo, the outlook and the evaluation. Arrays too."""
    return gap <= MET_TOL * np.maximum(1.0, np.abs(goal))


def is_met(sense: str, achieved, goal):
    """Whether ``achieved`` meets ``goal``: at least it for a ``floor``, at most it for a ``ceiling``."""
    return gap_met(goal - achieved if sense == "floor" else achieved - goal, goal)


def milestone(base: float, goal: float, base_year: int, target_year: int, year: int) -> float:
    """The straight-line milestone of ``year`` from ``base`` in ``base_year`` to ``goal`` in ``target_year``."""
    return base + (goal - base) * (year - base_year) / (target_year - base_year)


class ProblemError(ValueError):
    """The scenario cannot be turned into an allocation problem (missing data)."""


@dataclass(frozen=True)
class TargetRow:
    """A resolved target for one region and resource kind in the target year.

    ``measure`` is ``ratio`` (units per ``divisor`` residents) or ``private_share`` (share
    of the kind's hospital capacity, public and private, that is privately run, 0-1).
    """

    region: str
    kind: str
    sense: Literal["floor", "ceiling"]
    ratio: float  # per `divisor` residents, or a share 0-1 for private_share
    divisor: float  # 1,000 / 10,000 / 100,000 (1 for private_share)
    nature: Literal["binding", "expected"]
    expr: str
    baseline_ratio: float
    weight: float = 1.0
    label: str = ""  # display name of the resource (e.g. "nurses"); the kind when empty
    measure: Literal["ratio", "private_share"] = "ratio"
    scope: Literal["area", "bureau"] = "area"  # what it counts: every institution in the area, or the bureau's own

    @property
    def name(self) -> str:
        """The display name: ``label``, else ``kind``; private shares say so."""
        base = self.label or self.kind
        return f"private share of hospital {base}" if self.measure == "private_share" else base

    @property
    def unit_label(self) -> str:
        return "share" if self.measure == "private_share" else f"per {int(self.divisor):,}"

    def milestone(self, year: int, base_year: int, target_year: int, base: float, goal: float | None = None) -> float:
        """The straight line from ``base`` (the base-year value) to ``goal`` (default the target) in ``target_year``.

        For a ceiling above the base the milestone is the ceiling itself every year.
        """
        goal = self.ratio if goal is None else goal
        line = milestone(base, goal, base_year, target_year, year)
        return max(line, goal) if self.sense == "ceiling" else line

    def milestone_slope(self, year: int, base_year: int, target_year: int, base: float) -> float:
        """How far the milestone of ``year`` moves per unit of the goal."""
        if self.sense == "ceiling" and base <= self.ratio:
            return 1.0
        return (year - base_year) / (target_year - base_year)


@dataclass(frozen=True)
class FloorRow:
    """A lower bound on a stock in one year: ``units`` (persons or beds) of ``kind`` in ``tier``
    (``None``: all tiers together) in ``region`` at the end of ``year``. The engine does not
    know where the number comes from (the scenario side derives it from projected need)."""

    region: str
    kind: str
    tier: str | None
    year: int
    units: float
    label: str = ""


@dataclass(frozen=True)
class CapRow:
    """An upper bound on the bureau's stock in one year: at most ``units`` of ``kind`` in ``tier`` (``None``: both
    of its tiers) in ``region`` at the end of ``year`` (the need from demand plus headroom, less what other
    operators hold). Soft: exceeding it is priced far above any plan's cost, so only a hard target or floor
    does, and the result reports by how much."""

    region: str
    kind: str
    tier: str | None
    year: int
    units: float
    label: str = ""


@dataclass(frozen=True)
class AllocationProblem:
    """Data of the allocation model. Money in CNY; stocks in persons or beds; years as integers.

    ``baseline`` is keyed by (region, kind, pool): the bureau's public tiers always, ``other_public`` and
    ``private`` where the region has such capacity of that kind. ``projected`` holds the stock path (end of each
    plan year) of the pools the bureau does not decide: other public operators' always, private unless it is a
    policy lever (then it is decided, with ``private_subsidy`` its public price). ``subsets`` maps a kind to the
    kinds counted inside it (其中 rows: GPs and TCM physicians are physicians). ``attrition`` is a yearly share;
    the model turns it into a fixed number of whole leavers a year (share x base-year stock).
    """

    regions: tuple[str, ...]
    kinds: tuple[str, ...]
    base_year: int
    target_year: int
    baseline: dict[tuple[str, str, str], float]  # (region, kind, pool) -> base-year stock
    population: dict[tuple[str, int], float]  # (region, year) -> residents, base year .. at least target year
    targets: tuple[TargetRow, ...]
    capital: dict[tuple[str, str], float]  # (kind, tier) -> CNY per unit added (public)
    annual: dict[tuple[str, str], float]  # (kind, tier) -> CNY per unit-year above the base-year stock
    attrition: dict[str, float] = field(default_factory=dict)  # kind -> share lost per year
    max_additions: dict[tuple[str, str], float] = field(default_factory=dict)  # (region, kind) -> public units/year
    nurse_physician_ratio_min: float | None = None
    hospital_nurses_per_bed_min: float | None = None
    gp_primary_share_min: float | None = None
    primary_share_shift_max: float | None = None
    allow_disinvestment: bool = False
    budget_total: float | None = None  # public CNY over the plan period (nominal)
    budget_per_year: float | None = None
    trajectory: Literal["linear", "free"] = "free"  # "linear": every year on or above the straight line
    discount_rate: float = 0.0  # per year; the objective is the present value at the base year
    capital_share_max: float | None = None  # no year's public capital above this share of the plan's
    private_subsidy: dict[str, float] = field(default_factory=dict)  # kind -> public CNY per private unit added
    private_max_additions: dict[tuple[str, str], float] = field(default_factory=dict)  # (region, kind) -> units/year
    subsets: dict[str, tuple[str, ...]] = field(default_factory=dict)  # parent kind -> kinds counted inside it
    floors: tuple[FloorRow, ...] = ()  # stock floors (e.g. from projected need), a constraint family of their own
    # (region, kind, year) -> residents a per-capita target is measured against, where it differs from
    # ``population`` (a robust plan: a quantile of the drawn populations); milestones use it too
    target_population: dict[tuple[str, str, int], float] = field(default_factory=dict)
    projected: dict[tuple[str, str, str], tuple[float, ...]] = field(default_factory=dict)  # pool -> stock by plan year
    caps: tuple[CapRow, ...] = ()  # upper bounds on the bureau's stocks (the need from demand), soft
    expected_yield: bool = True  # an expected (预期性) target falls short rather than build past a cap
    ramp: dict[tuple[str, str], float] = field(default_factory=dict)  # (region, kind) -> most change of yearly adds

    @property
    def years(self) -> list[int]:
        """Plan years in which additions happen (base year + 1 .. target year)."""
        return list(range(self.base_year + 1, self.target_year + 1))

    def pools(self, region: str, kind: str) -> tuple[str, ...]:
        """The pools of a kind in a region: the bureau's tiers, plus ``other_public`` and ``private`` where given."""
        return TIERS + tuple(t for t in (OTHER_PUBLIC, PRIVATE) if (region, kind, t) in self.baseline)

    def decided(self, region: str, kind: str, pool: str) -> bool:
        """Whether the plan decides a pool's additions (the bureau's tiers; private capacity as a lever)."""
        return (region, kind, pool) not in self.projected

    def counted_pools(self, tr: TargetRow) -> tuple[str, ...]:
        """The pools a ratio target counts: every pool in the area, or the bureau's tiers only."""
        pools = self.pools(tr.region, tr.kind)
        return TIERS if tr.scope == "bureau" else pools

    def projected_stock(self, region: str, kind: str, pool: str, year: int) -> float:
        """A projected pool's stock at the end of ``year`` (the base-year stock in the base year)."""
        if year == self.base_year:
            return self.baseline[region, kind, pool]
        return self.projected[region, kind, pool][year - self.base_year - 1]

    def yields(self, i: int) -> bool:
        """Whether target i may fall short rather than build past a cap: expected, of a capped kind."""
        tr = self.targets[i]
        return (
            self.expected_yield
            and tr.nature == "expected"
            and tr.measure == "ratio"
            and any(c.kind == tr.kind and c.region == tr.region for c in self.caps)
        )

    def hospital_pools(self, region: str, kind: str) -> tuple[str, ...]:
        """The pools that count as hospital capacity: every pool but primary care (public hospital, private)."""
        return tuple(t for t in self.pools(region, kind) if t != "primary")

    def base_total(self, region: str, kind: str) -> float:
        """Base-year stock of a kind over every pool."""
        return sum(self.baseline[region, kind, t] for t in self.pools(region, kind))

    def base_share(self, region: str, kind: str) -> float:
        """Base-year primary-care share of a kind in a region (of every pool)."""
        total = self.base_total(region, kind)
        return self.baseline[region, kind, "primary"] / total if total > 0 else 0.0

    def bureau_share(self, region: str, kind: str) -> float:
        """Base-year primary-care share of the bureau's own stock of a kind (its two tiers)."""
        own = sum(self.baseline[region, kind, t] for t in TIERS)
        return self.baseline[region, kind, "primary"] / own if own > 0 else 0.0

    def base_value(self, tr: TargetRow) -> float:
        """A target's measure in the base year from the base-year stocks (where its milestones start)."""
        r, k = tr.region, tr.kind
        if tr.measure == "private_share":
            hosp = sum(self.baseline[r, k, t] for t in self.hospital_pools(r, k))
            return self.baseline.get((r, k, PRIVATE), 0.0) / hosp if hosp > 0 else 0.0
        have = sum(self.baseline[r, k, t] for t in self.counted_pools(tr))
        return have / self.population[r, self.base_year] * tr.divisor

    def requirement_population(self, tr: TargetRow, year: int) -> float:
        """Residents a per-capita target is measured against in ``year``: ``target_population`` where given."""
        return self.target_population.get((tr.region, tr.kind, year), self.population[tr.region, year])

    def leavers(self, region: str, kind: str, pool: str) -> int:
        """Whole units leaving a decided pool each year: attrition x base-year stock, rounded (a projected pool's
        path is net of its leavers)."""
        if not self.decided(region, kind, pool):
            return 0
        return round(self.attrition.get(kind, 0.0) * self.baseline[region, kind, pool])

    def discount(self, year: int) -> float:
        """Present-value factor of a year's cost at the base year."""
        return 1.0 / (1.0 + self.discount_rate) ** (year - self.base_year)

    def with_budget(self, total: float | None, per_year: float | None = None) -> AllocationProblem:
        return replace(
            self, budget_total=total, budget_per_year=per_year if per_year is not None else self.budget_per_year
        )

    def with_floors(self, floors: tuple[FloorRow, ...]) -> AllocationProblem:
        return replace(self, floors=tuple(floors))
