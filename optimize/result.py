"""The optimizer's answer: :class:`AllocationPlan`, a set of tidy pandas tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scenarios.files import atomic_write

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

    def to_csv(self, out_dir: str | Path) -> list[Path]:
        """Write every table as ``<name>.csv`` into ``out_dir`` (created); return the paths."""
        return [atomic_write(Path(out_dir) / f"{name}.csv", lambda p, df=getattr(self, name): df.to_csv(p, index=False))
                for name in TABLES]
