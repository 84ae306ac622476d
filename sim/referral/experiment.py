"""Reproducible experiments: replications over plan years, KPIs with 95% confidence intervals.

Every (year, replication) run gets its own random stream spawned from one seed
(numpy ``SeedSequence``), so a run is reproducible and runs are independent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from sim.executor import map_ordered
from sim.referral import DEFAULT_SEED  # defined once, in the package (the CLI reads it without SimPy)
from sim.referral.network import ReferralNetwork
from sim.referral.records import YearRun
from sim.referral.simulation import ReferralSimulation

# two-sided 95% Student t quantiles for 1..30 degrees of freedom
_T95 = [
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
]

KPI_UNITS = {
    "episodes": "first contacts",
    "visits_primary": "consults",
    "visits_hospital": "consults",
    "visits_total": "consults",
    "primary_share": "share",
    "up_referrals": "patients",
    "down_referrals": "patients",
    "down_blocked": "patients",
    "admissions_hospital": "patients",
    "admissions_primary": "patients",
    "discharges": "patients",
    "leakage": "patients",
    "in_area_rate": "share",
    "wait_primary_mean_days": "days",
    "wait_primary_p95_days": "days",
    "wait_hospital_mean_days": "days",
    "wait_hospital_p95_days": "days",
    "bed_wait_mean_days": "days",
    "bed_wait_p95_days": "days",
    "occupancy_hospital": "share",
    "occupancy_primary": "share",
    "busy_beds_hospital": "beds",
    "mean_los_hospital_days": "days",
}


def t95(df: int) -> float:
    """Two-sided 95% quantile of Student's t with ``df`` degrees of freedom."""
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


# KPIs measured from each wait pool of a run (``YearRun.waits``)
WAIT_KPIS = {
    "primary_consult": ("wait_primary_mean_days", "wait_primary_p95_days"),
    "hospital_consult": ("wait_hospital_mean_days", "wait_hospital_p95_days"),
    "hospital_bed": ("bed_wait_mean_days", "bed_wait_p95_days"),
}


def not_simulated_kpis(run: YearRun) -> frozenset[str]:
    """KPIs the run did not measure (flows-only consult waits): NaN in :func:`kpis`, never a figure."""
    return frozenset(k for pool in run.not_simulated for k in WAIT_KPIS[pool])


def kpis(run: YearRun) -> dict[str, float]:
    """KPIs of one run; counts are per year, waits in days.

    A wait KPI is NaN when no patient was served at that stage, or when the run did not
    simulate it (:func:`not_simulated_kpis`); never 0 for a wait that was not measured.
    """
    c = run.counters
    per_year = 365.0 / run.days
    visits = c.visits_primary + c.visits_hospital
    leak = c.leaked_wait + c.leaked_bed
    out = {
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
    }
    for pool, (mean_key, p95_key) in WAIT_KPIS.items():
        sample = run.waits[pool]
        measured = pool not in run.not_simulated
        out[mean_key] = sample.mean() if measured else float("nan")
        out[p95_key] = sample.percentile(95) if measured else float("nan")
    out.update(
        {
            "occupancy_hospital": run.occupancy["hospital"],
            "occupancy_primary": run.occupancy["primary"],
            "busy_beds_hospital": run.busy_beds["hospital"],
            "mean_los_hospital_days": run.mean_los["hospital"],
        }
    )
    return {k: out[k] for k in KPI_UNITS}


@dataclass(frozen=True)
class SimulationResult:
    """Per-run KPIs (``runs``: year, replication, kpi columns) and their summary with 95% CIs.

    ``not_simulated``: KPIs no run measured (flows-only consult waits); NaN in ``runs``.
    """

    runs: pd.DataFrame
    seed: int
    replications: int
    not_simulated: frozenset[str] = frozenset()

    def summary(self) -> pd.DataFrame:
        """Tidy summary: year, kpi, mean, ci95_low, ci95_high, half_width, unit, simulated.

        ``simulated`` is False for a KPI the runs did not measure; its figures are NaN and
        should be shown as "not simulated".
        """
        rows = []
        for year, df in self.runs.groupby("year"):
            for k in KPI_UNITS:
                x = df[k].to_numpy(float)
                x = x[~np.isnan(x)]
                mean = float(x.mean()) if len(x) else float("nan")
                m = len(x)
                half = t95(m - 1) * float(x.std(ddof=1)) / np.sqrt(m) if m > 1 else float("nan")
                rows.append((year, k, mean, mean - half, mean + half, half, KPI_UNITS[k], k not in self.not_simulated))
        return pd.DataFrame(
            rows, columns=["year", "kpi", "mean", "ci95_low", "ci95_high", "half_width", "unit", "simulated"]
        )


@dataclass(frozen=True)
class RunTask:
    """One (year, replication) run: everything a worker process needs, picklable."""

    net: ReferralNetwork
    seed: int
    warmup_days: float
    days: float
    flows_only: bool


def run_task(task: RunTask) -> tuple[dict[str, float], frozenset[str]]:
    """Run one year once; return its KPIs and the KPIs it did not simulate (on a worker or here)."""
    run = ReferralSimulation(task.net, task.seed, task.warmup_days, task.days, flows_only=task.flows_only).run()
    return kpis(run), not_simulated_kpis(run)


# Full-consult speed measured by bench/bench_simulation.py on the project's 2-core machine:
# a Guangzhou base year (120 M first contacts over 60 + 365 days) in 36 CPU-s; 3.0e6 keeps a margin.
FULL_CONSULT_CONTACTS_PER_CPU_S = 3.0e6


def full_consult_fits(
    networks: list[ReferralNetwork],
    replications: int,
    seconds: float,
    workers: int = 1,
    warmup_days: float = 60.0,
    days: float = 365.0,
) -> bool:
    """Whether simulating every consult is expected to take at most ``seconds`` (wall) on
    ``workers`` processes; where it does not, callers fall back to ``flows_only``."""
    per_day = sum(a.arrivals_per_day for net in networks for a in net.alliances)
    cpu_s = per_day * (warmup_days + days) * replications / FULL_CONSULT_CONTACTS_PER_CPU_S
    return cpu_s / max(1, min(workers, len(networks) * replications)) <= seconds


def simulate(
    networks: list[ReferralNetwork],
    replications: int = 5,
    seed: int = DEFAULT_SEED,
    warmup_days: float = 60.0,
    days: float = 365.0,
    progress: Callable[[], None] | None = None,
    flows_only: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
) -> SimulationResult:
    """Run ``replications`` of every network (one per plan year); return KPIs per run.

    Runs are independent: ``workers`` > 1 runs them on that many local processes, and
    ``scheduler`` (a Dask scheduler address) on a cluster (:mod:`sim.executor`). Each (year, replication) has its
    own random stream spawned from ``seed``, so the result is the same for any number of
    workers; rows are in (year, replication) order. ``progress()`` is called once per
    finished run.
    """
    if replications < 1:
        raise ValueError(f"replications = {replications}: expected at least 1")
    if workers < 1:
        raise ValueError(f"workers = {workers}: expected at least 1")
    streams = np.random.SeedSequence(seed).spawn(len(networks) * replications)
    tasks = [
        RunTask(net, int(streams[i * replications + rep].generate_state(1)[0]), warmup_days, days, flows_only)
        for i, net in enumerate(networks)
        for rep in range(replications)
    ]
    rows, not_simulated = [], frozenset()
    results = map_ordered(run_task, tasks, workers, scheduler, progress)
    for task_index, (values, unmeasured) in enumerate(results):
        net = networks[task_index // replications]
        rows.append({"year": net.year, "replication": task_index % replications + 1, **values})
        not_simulated |= unmeasured
    return SimulationResult(pd.DataFrame(rows), seed, replications, not_simulated)
