"""The allocation problem as plain data: what the LP reads, nothing it computes.

An :class:`AllocationProblem` holds, per region, the base-year stocks by resource kind and
tier, the projected population by year and the resolved targets, plus costs (CNY),
realism constraints and the budget. The scenario side (``scenarios.run.plan``) builds one
from a scenario and its population projection; benchmarks build larger ones directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

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
    label: str = ""  # display name of the resource (e.g. "nurses"); the kind when empty

    @property
    def name(self) -> str:
        """The display name: ``label``, else ``kind``."""
        return self.label or self.kind

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
