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

SimulateYear = Callable[[AllocationPlan], dict[str, float]]  # plan -> target-year KPI means


@dataclass
class ReplanResult:
    """The final plan, one row per iteration and tier (``iterations``), and what happened in words."""

    outcome: PlanOutcome
    problem: AllocationProblem
    iterations: pd.DataFrame
    converged: bool
    message: str
    flags: list[str] = field(default_factory=list)  # overbuilding, in words

    @property
    def count(self) -> int:
        return int(self.iterations["iteration"].max()) if len(self.iterations) else 0


def _beds(plan: AllocationPlan, region: str, year: int) -> dict[str, float]:
    st = plan.stocks
    sub = st[(st["region"] == region) & (st["year"] == year) & (st["kind"] == "beds")]
    return sub.groupby("tier")["stock"].sum().to_dict()


def _raise(s: Scenario, kpi: dict[str, float], beds: dict[str, float]) -> dict[str, tuple[float, str]]:
    """{tier: (floor on beds, reason)} for the tiers that break a standard."""
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
            why = (
                f"occupancy {occ:.0%} above {std.occupancy_max.value:.0%}"
                if over
                else f"p95 bed wait {wait:.2f} days above {std.bed_wait_p95_max_days.value:g}"
            )
            out[tier] = (floor, why)
    return out


def _overbuilt(s: Scenario, kpi: dict[str, float], beds: dict[str, float], base: dict[str, float]) -> list[str]:
    d = s.demand
    lo = d.standards.occupancy_min.value
    target = {"hospital": d.target_occupancy_hospital.value, "primary": d.target_occupancy_primary.value}
    flags = []
    for tier in ("hospital", "primary"):
        occ = kpi.get(f"occupancy_{tier}", float("nan"))
        if occ == occ and occ < lo:
            have = beds.get(tier, 0.0)
            spare = have - have * occ / target[tier]
            why = (
                f"the plan adds {have - base.get(tier, 0.0):,.0f} to reach its targets"
                if have > base.get(tier, 0.0) + 0.5
                else f"the {s.base_year} stock already exceeds the demand and no plan removes beds"
            )
            flags.append(
                f"{tier} beds run at {occ:.0%} in {s.target_year}, below the {lo:.0%} floor: about "
                f"{spare:,.0f} more {tier} beds than the simulated patients fill at {target[tier]:.0%} occupancy "
                f"(overbuilt for the demand: {why})."
            )
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
            action = (
                f"raise to {raised[tier][0]:,.0f} beds ({raised[tier][1]})" if tier in raised else "within standards"
            )
            rows.append(
                (
                    it,
                    tier,
                    beds.get(tier, 0.0),
                    kpi.get(f"occupancy_{tier}"),
                    kpi.get("bed_wait_p95_days") if tier == "hospital" else float("nan"),
                    fl.units if fl else float("nan"),
                    action,
                    outcome.plan.total_cost,
                )
            )
        table = pd.DataFrame(rows, columns=ITERATION_COLUMNS)
        flags = _overbuilt(s, kpi, beds, _beds(outcome.plan, region, s.base_year))
        if not raised:
            std = s.demand.standards
            band = (
                f"inside the {std.occupancy_min.value:.0%}-{std.occupancy_max.value:.0%} service band"
                if not flags
                else f"no tier above {std.occupancy_max.value:.0%}, but below the {std.occupancy_min.value:.0%} "
                "floor where flagged"
            )
            msg = (
                f"fixed point after {it} iteration{'s' * (it > 1)}: simulated {Y} bed occupancy "
                f"{kpi['occupancy_hospital']:.0%} hospital, {kpi['occupancy_primary']:.0%} primary care ({band}), "
                f"p95 bed wait {kpi['bed_wait_p95_days']:.2f} days"
            )
            return ReplanResult(outcome, prob, table, True, msg, flags)
        if last_beds is not None and all(abs(beds.get(t, 0) - last_beds.get(t, 0)) < 0.5 for t in raised):
            msg = (
                f"stopped after {it} iterations: the plan cannot add the beds the simulation asks for "
                f"({'; '.join(f'{t}: {w}' for t, (_, w) in raised.items())}) under the constraints"
            )
            return ReplanResult(outcome, prob, table, False, msg, flags)
        for tier, (units, _) in raised.items():
            floors[("beds", tier, Y)] = FloorRow(region, "beds", tier, Y, units, f"simulated need: {tier} beds")
        last_beds = beds
    msg = (
        f"no fixed point within {limit} iterations (the limit, [demand.standards].max_iterations): the last plan "
        f"still breaks a standard ({'; '.join(f'{t}: {w}' for t, (_, w) in raised.items())})"
    )
    return ReplanResult(outcome, prob, table, False, msg, flags)
