"""Stage 3 of the data path: plan stocks -> one :class:`ReferralNetwork` per year -> KPIs.

Capacities come from the base year (tier split of the scenario's stocks) or from a plan's
``stocks`` table; each year's population from the projection. Every consult is simulated where
that is expected to take at most :data:`FULL_CONSULT_SECONDS` (wall, on the workers given); beyond
it (a city such as Guangzhou), only admissions and referrals are simulated and consult waits are
reported as not simulated. With ``[demand]``, each year's visits and admissions per resident follow the projected 65+
share, the hospital stay moves to the seed's target, and tiered care responds to capacity
(:func:`tiered_care`: the primary-care share of first contacts and the share of episodes
treated outside the area).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from scenarios.inputs.population import MEDIUM
from scenarios.inputs.referral import Capacities, CareYear, care_by_year, networks_for_years
from scenarios.run.projection import project
from scenarios.schema import Scenario
from sim.executor import local_workers
from sim.population import ProjectionResult
from sim.referral.experiment import DEFAULT_SEED, SimulationResult, full_consult_fits, simulate

FULL_CONSULT_SECONDS = 60.0  # wall seconds the simulation stage may take with every consult queued


def with_bypass(result: SimulationResult, care: list[CareYear]) -> SimulationResult:
    """Count the episodes that bypassed the area: in-area rate x (1 - bypass), leakage + bypassed episodes."""
    runs = result.runs.copy()
    b = runs["year"].map({c.year: c.bypass_share for c in care}).fillna(0.0)
    runs["leakage"] = runs["leakage"] + runs["episodes"] * b / (1.0 - b)
    runs["in_area_rate"] = runs["in_area_rate"] * (1.0 - b)
    return SimulationResult(runs, result.seed, result.replications, result.not_simulated)


@dataclass(frozen=True)
class SimulationRequest:
    """What to simulate: years, replications, seed; ``flows_only`` None queues every consult where that
    fits :data:`FULL_CONSULT_SECONDS`; ``workers`` local processes (None: the cores) or a Dask ``scheduler``."""

    years: list[int]
    replications: int = 5
    seed: int = DEFAULT_SEED
    flows_only: bool | None = None
    variant: str = MEDIUM
    workers: int | None = None
    scheduler: str | None = None


def simulate_scenario(
    scenario: Scenario,
    request: SimulationRequest,
    projection: ProjectionResult | None = None,
    plan: dict[int, Capacities] | None = None,
    progress: Callable[[], None] | None = None,
    care: list[CareYear] | None = None,
) -> tuple[SimulationResult, bool]:
    """Simulate ``scenario`` for the requested years; return the result and whether it was flows-only.
    ``care``: the years' tiered care (:func:`care_by_year`) when the caller has it already."""
    care = care if care is not None else care_by_year(scenario, request.years, projection, plan, request.variant)
    nets = networks_for_years(scenario, request.years, projection, plan, request.variant, care)
    workers = request.workers or local_workers()
    flows_only = (
        not full_consult_fits(nets, request.replications, FULL_CONSULT_SECONDS, workers)
        if request.flows_only is None
        else request.flows_only
    )
    result = simulate(
        nets,
        request.replications,
        request.seed,
        progress=progress,
        flows_only=flows_only,
        workers=workers,
        scheduler=request.scheduler,
    )
    return with_bypass(result, care), flows_only


def simulate_years(
    scenario: Scenario,
    request: SimulationRequest,
    plan: dict[int, Capacities] | None = None,
    progress: Callable[[], None] | None = None,
) -> tuple[SimulationResult, bool]:
    """:func:`simulate_scenario` on the scenario's own projection to the request's last year (the base year's
    residents when only the base year is asked for)."""
    last = max(request.years)
    proj = project(scenario, last) if last > scenario.base_year else None
    return simulate_scenario(scenario, request, proj, plan, progress)
