"""Plan -> simulate -> re-plan: hold the simulated target year to the scenario's service standards.

Each iteration solves the allocation problem, simulates the target year on the plan's beds and
physicians (:mod:`scenarios.run.simulation`) and compares the simulated hospital and primary-care
bed occupancy and the 95th-percentile bed wait with ``[demand.standards]``. A tier whose beds run
above ``occupancy_max`` (or, for hospital beds, whose p95 bed wait exceeds its standard) gets a
floor: the beds its simulated patients fill, at the planning occupancy of ``[demand]`` (at least
5% more than it has). The problem is solved again with the raised floors until nothing is raised
(a fixed point), the plan stops changing, or ``max_iterations`` is reached. Beds below
``occupancy_min`` are flagged as overbuilt, in words; the loop never lowers a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from optimize.problem import AllocationProblem, FloorRow
from optimize.result import AllocationPlan
from scenarios.run.plan import PlanOutcome, plan_or_best_reachable
from scenarios.schema import Scenario

KPIS = ("occupancy_hospital", "occupancy_primary", "bed_wait_p95_days")
ITERATION_COLUMNS = ["iteration", "tier", "beds", "occupancy", "bed_wait_p95_days", "floor", "action", "total_cost_cny"]
# each row also keeps the breach it raises for: the new floor, the cause (occupancy | wait), its value and limit
BREACH_COLUMNS = ["raise_to", "cause", "value", "limit"]

SimulateYear = Callable[[AllocationPlan], dict[str, float]]  # plan -> target-year KPI means


@dataclass
class ReplanResult:
    """The final plan, one row per iteration and tier (``iterations``), and how the loop ended: ``stop`` is
    ``fixed_point`` (every standard met), ``stalled`` (the plan cannot add the beds asked for) or ``limit``
    (``max_iterations`` reached); ``kpi`` the last target-year means, ``breaches`` the standards still broken,
    ``flags`` the tiers overbuilt for the demand. :func:`scenarios.report.words.replan_words` says it."""

    outcome: PlanOutcome
    problem: AllocationProblem
    iterations: pd.DataFrame
    converged: bool
    stop: str
    year: int
    limit: int
    band: tuple[float, float]  # the service band of occupancy (min, max), 0-1
    kpi: dict[str, float] = field(default_factory=dict)
    breaches: tuple[Breach, ...] = ()
    flags: list[Overbuilt] = field(default_factory=list)

    @property
    def count(self) -> int:
        return int(self.iterations["iteration"].max()) if len(self.iterations) else 0


def _beds(plan: AllocationPlan, region: str, year: int) -> dict[str, float]:
    st = plan.stocks
    sub = st[(st["region"] == region) & (st["year"] == year) & (st["kind"] == "beds")]
    return sub.groupby("tier")["stock"].sum().to_dict()


@dataclass(frozen=True)
class Breach:
    """A tier breaking a service standard in the target year: its bed ``floor`` for the next plan, the ``cause``
    (``occupancy``, a share 0-1, or ``wait``, p95 bed wait in days), the simulated ``value`` and the ``limit``."""

    tier: str
    floor: float
    cause: str
    value: float
    limit: float


@dataclass(frozen=True)
class Overbuilt:
    """A tier whose simulated target-year occupancy is below the service floor: ``spare`` beds more than the
    patients fill at ``target`` occupancy; ``added`` beds the plan adds over the base year (None: the base-year
    stock already exceeds the demand)."""

    tier: str
    year: int
    occupancy: float
    floor: float
    spare: float
    target: float
    added: float | None
    base_year: int


def _raise(s: Scenario, kpi: dict[str, float], beds: dict[str, float]) -> dict[str, Breach]:
    """{tier: breach} for the tiers that break a standard."""
    d = s.demand
    std = d.standards
    target = {"hospital": d.target_occupancy_hospital.value, "primary": d.target_occupancy_primary.value}
    out = {}
    for tier in ("hospital", "primary"):
        occ = kpi.get(f"occupancy_{tier}", float("nan"))
        wait = kpi.get("bed_wait_p95_days", 0.0) if tier == "hospital" else 0.0
        over = occ == occ and occ > std.occupancy_max.value
        slow = wait == wait and wait > std.bed_wait_p95_max_days.value
        if over or slow:
            have = beds.get(tier, 0.0)
            floor = max(have * (occ if occ == occ else 1.0) / target[tier], have * 1.05)
            out[tier] = (
                Breach(tier, floor, "occupancy", occ, std.occupancy_max.value)
                if over
                else Breach(tier, floor, "wait", wait, std.bed_wait_p95_max_days.value)
            )
    return out


def _overbuilt(s: Scenario, kpi: dict[str, float], beds: dict[str, float], base: dict[str, float]) -> list[Overbuilt]:
    d = s.demand
    lo = d.standards.occupancy_min.value
    target = {"hospital": d.target_occupancy_hospital.value, "primary": d.target_occupancy_primary.value}
    flags = []
    for tier in ("hospital", "primary"):
        occ = kpi.get(f"occupancy_{tier}", float("nan"))
        if occ == occ and occ < lo:
            have = beds.get(tier, 0.0)
            added = have - base.get(tier, 0.0) if have > base.get(tier, 0.0) + 0.5 else None
            spare = have - have * occ / target[tier]
            flags.append(Overbuilt(tier, s.target_year, occ, lo, spare, target[tier], added, s.base_year))
    return flags


def replan(
    s: Scenario,
    problem: AllocationProblem,
    mode: str,
    simulate_year: SimulateYear,
    max_iterations: int | None = None,
    whole_units: bool = True,
) -> ReplanResult:
    """Iterate plan -> simulate target year -> raise bed floors to a fixed point (see the module docstring)."""
    if s.demand is None:
        raise ValueError(f"scenario '{s.id}' has no [demand] section: no service standards to re-plan to")
    limit = max_iterations or s.demand.standards.max_iterations
    Y, region = s.target_year, s.id
    floors = {(f.kind, f.tier, f.year): f for f in problem.floors}
    rows, last_beds = [], None
    for it in range(1, limit + 1):
        prob = problem.with_floors(tuple(floors.values()))
        outcome = plan_or_best_reachable(prob, mode, whole_units)
        beds = _beds(outcome.plan, region, Y)
        kpi = simulate_year(outcome.plan)
        raised = _raise(s, kpi, beds)
        for tier in ("hospital", "primary"):
            fl = floors.get(("beds", tier, Y))
            b = raised.get(tier)
            rows.append(
                (
                    it,
                    tier,
                    beds.get(tier, 0.0),
                    kpi.get(f"occupancy_{tier}"),
                    kpi.get("bed_wait_p95_days") if tier == "hospital" else float("nan"),
                    fl.units if fl else float("nan"),
                    "raise" if b else "within",  # worded by scenarios.report.words.replan_table
                    outcome.plan.total_cost,
                    b.floor if b else float("nan"),
                    b.cause if b else "",
                    b.value if b else float("nan"),
                    b.limit if b else float("nan"),
                )
            )
        table = pd.DataFrame(rows, columns=ITERATION_COLUMNS + BREACH_COLUMNS)
        flags = _overbuilt(s, kpi, beds, _beds(outcome.plan, region, s.base_year))
        std = s.demand.standards
        end = dict(
            year=Y,
            limit=limit,
            band=(std.occupancy_min.value, std.occupancy_max.value),
            kpi=dict(kpi),
            breaches=tuple(raised.values()),
            flags=flags,
        )
        if not raised:
            return ReplanResult(outcome, prob, table, True, "fixed_point", **end)
        if last_beds is not None and all(abs(beds.get(t, 0) - last_beds.get(t, 0)) < 0.5 for t in raised):
            return ReplanResult(outcome, prob, table, False, "stalled", **end)
        for tier, breach in raised.items():
            floors[("beds", tier, Y)] = FloorRow(region, "beds", tier, Y, breach.floor, f"simulated need: {tier} beds")
        last_beds = beds
    return ReplanResult(outcome, prob, table, False, "limit", **end)
