"""Reproducible experiments: replications over plan years, KPIs with 95% confidence intervals.

Every (year, replication) run gets its own random stream spawned from one seed
(numpy ``SeedSequence``), so a run is reproducible and runs are independent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from sim.referral.model import ReferralSimulation, YearRun
from sim.referral.network import ReferralNetwork

DEFAULT_SEED = 12345  # the one default seed of every experiment (CLI, pipeline, batch)

# two-sided 95% Student t quantiles for 1..30 degrees of freedom
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]

KPI_UNITS = {
    "episodes": "first contacts", "visits_primary": "consults", "visits_hospital": "consults",
    "visits_total": "consults", "primary_share": "share", "up_referrals": "patients",
    "down_referrals": "patients", "down_blocked": "patients", "admissions_hospital": "patients",
    "admissions_primary": "patients", "discharges": "patients", "leakage": "patients",
    "in_area_rate": "share", "wait_primary_mean_days": "days", "wait_primary_p95_days": "days",
    "wait_hospital_mean_days": "days", "wait_hospital_p95_days": "days", "bed_wait_mean_days": "days",
    "bed_wait_p95_days": "days", "occupancy_hospital": "share", "occupancy_primary": "share",
    "busy_beds_hospital": "beds", "mean_los_hospital_days": "days",
}


def t95(df: int) -> float:
    """Two-sided 95% quantile of Student's t with ``df`` degrees of freedom."""
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


def _pct(a: np.ndarray, q: float) -> float:
    return float(np.percentile(a, q)) if len(a) else 0.0


def _mean(a: np.ndarray) -> float:
    return float(a.mean()) if len(a) else 0.0


def kpis(run: YearRun) -> dict[str, float]:
    """KPIs of one run; counts are per year."""
    c = run.counters
    per_year = 365.0 / run.days
    visits = c.visits_primary + c.visits_hospital
    leak = c.leaked_wait + c.leaked_bed
    return {
        "episodes": c.episodes * per_year,
        "visits_primary": c.visits_primary * per_year,
        "visits_hospital": c.visits_hospital * per_year,
        "visits_total": visits * per_year,
        "primary_share": c.visits_primary / visits if visits else float("nan"),
        "up_referrals": c.up_referrals * per_year,
        "down_referrals": c.down_referrals * per_year,
        "down_blocked": c.down_blocked * per_year,
        "admissions_hospital": c.admissions_hospital * per_year,
        "admissions_primary": c.admissions_primary * per_year,
        "discharges": c.discharges * per_year,
        "leakage": leak * per_year,
        "in_area_rate": 1.0 - leak / c.episodes if c.episodes else float("nan"),
        "wait_primary_mean_days": _mean(run.waits["primary_consult"]),
        "wait_primary_p95_days": _pct(run.waits["primary_consult"], 95),
        "wait_hospital_mean_days": _mean(run.waits["hospital_consult"]),
        "wait_hospital_p95_days": _pct(run.waits["hospital_consult"], 95),
        "bed_wait_mean_days": _mean(run.waits["hospital_bed"]),
        "bed_wait_p95_days": _pct(run.waits["hospital_bed"], 95),
        "occupancy_hospital": run.occupancy["hospital"],
        "occupancy_primary": run.occupancy["primary"],
        "busy_beds_hospital": run.busy_beds["hospital"],
        "mean_los_hospital_days": run.mean_los["hospital"],
    }


@dataclass(frozen=True)
class SimulationResult:
    """Per-run KPIs (``runs``: year, replication, kpi columns) and their summary with 95% CIs."""

    runs: pd.DataFrame
    seed: int
    replications: int

    def summary(self) -> pd.DataFrame:
        """Tidy summary: year, kpi, mean, ci95_low, ci95_high, half_width, unit."""
        rows = []
        for year, df in self.runs.groupby("year"):
            for k in KPI_UNITS:
                x = df[k].to_numpy(float)
                x = x[~np.isnan(x)]
                mean = float(x.mean()) if len(x) else float("nan")
                m = len(x)
                half = t95(m - 1) * float(x.std(ddof=1)) / np.sqrt(m) if m > 1 else float("nan")
                rows.append((year, k, mean, mean - half, mean + half, half, KPI_UNITS[k]))
        return pd.DataFrame(rows, columns=["year", "kpi", "mean", "ci95_low", "ci95_high", "half_width", "unit"])


def simulate(
    networks: list[ReferralNetwork],
    replications: int = 5,
    seed: int = DEFAULT_SEED,
    warmup_days: float = 60.0,
    days: float = 365.0,
    progress: Callable[[], None] | None = None,
    flows_only: bool = False,
) -> SimulationResult:
    """Run ``replications`` of every network (one per plan year); return KPIs per run."""
    if replications < 1:
        raise ValueError(f"replications = {replications}: expected at least 1")
    streams = np.random.SeedSequence(seed).spawn(len(networks) * replications)
    rows = []
    for i, net in enumerate(networks):
        for rep in range(replications):
            child = int(streams[i * replications + rep].generate_state(1)[0])
            run = ReferralSimulation(net, child, warmup_days, days, flows_only=flows_only).run()
            rows.append({"year": net.year, "replication": rep + 1, **kpis(run)})
            if progress:
                progress()
    return SimulationResult(pd.DataFrame(rows), seed, replications)
