"""Stage 3 of the data path: plan stocks -> one :class:`ReferralNetwork` per year -> KPIs.

Capacities come from the base year (tier split of the scenario's stocks) or from a plan's
``stocks`` table; each year's population from the projection. Every consult is simulated where
that is expected to take at most :data:`FULL_CONSULT_SECONDS` (wall, on the workers given); beyond
it (a city such as Guangzhou), only admissions and referrals are simulated and consult waits are
reported as not simulated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import os

import pandas as pd

from scenarios.run.plan import tier_split
from scenarios.run.projection import MEDIUM
from scenarios.schema import Scenario
from sim.population import ProjectionResult
from sim.referral.experiment import DEFAULT_SEED, SimulationResult, full_consult_fits, simulate
from sim.referral.network import AllianceNode, FlowRates, NetworkError, ReferralNetwork, admission_probabilities

FULL_CONSULT_SECONDS = 60.0  # wall seconds the simulation stage may take with every consult queued

Capacities = dict[str, dict[str, float]]  # {'hospital'|'primary': {'clinicians': physicians, 'beds': beds}}


def capacities_from_scenario(scenario: Scenario) -> Capacities:
    """Base-year capacities by tier: beds and physicians split by their primary-care shares."""
    beds, phys = tier_split(scenario, "beds"), tier_split(scenario, "physicians")
    return {t: {"beds": beds[t], "clinicians": phys[t]} for t in ("hospital", "primary")}


def capacities_by_year(stocks: pd.DataFrame, origin: str = "plan") -> dict[int, Capacities]:
    """{year: capacities} from a plan's ``stocks`` table (year, kind, tier, stock)."""
    out: dict[int, Capacities] = {}
    for (year, kind, tier), stock in stocks.groupby(["year", "kind", "tier"])["stock"].sum().items():
        if kind not in ("beds", "physicians"):
            continue
        key = "beds" if kind == "beds" else "clinicians"
        out.setdefault(int(year), {"hospital": {}, "primary": {}})[tier][key] = float(stock)
    for year, cap in out.items():
        for tier in ("hospital", "primary"):
            for key in ("beds", "clinicians"):
                if key not in cap[tier]:
                    raise NetworkError(f"{origin}: year {year}: no {tier} {'beds' if key == 'beds' else 'physicians'}")
    return out


def flow_rates(scenario: Scenario) -> tuple[float, FlowRates]:
    """(first contacts per resident-year, flow rates) from the scenario's ``[referral]`` section."""
    s = scenario
    if s.referral is None:
        raise NetworkError(f"scenario '{s.id}' has no [referral] section; expected alliances and flow parameters")
    ref = s.referral
    try:
        episodes, p_ap, p_ah = admission_probabilities(
            ref.visits_per_capita.value, ref.admissions_per_capita.value, ref.primary_first_share.value,
            ref.p_up.value, ref.primary_admission_share.value)
    except NetworkError as exc:
        raise NetworkError(f"scenario '{s.id}': referral: {exc}") from None
    rates = FlowRates(
        primary_first_share=ref.primary_first_share.value, p_up=ref.p_up.value, p_admit_primary=p_ap,
        p_admit_hospital=p_ah, p_down=ref.p_down.value, consult_days=1.0 / ref.consults_per_clinician_day.value,
        alos_hospital=ref.alos_hospital_days.value, alos_primary=ref.alos_primary_days.value,
        recovery=ref.recovery_days.value, los_cv=ref.los_cv.value,
        wait_tolerance=ref.wait_tolerance_days.value, bed_wait_tolerance=ref.bed_wait_tolerance_days.value,
        congestion_wait=ref.congestion_wait_days.value, congestion_uplift=ref.congestion_uplift.value,
        severe_share=ref.severe_share.value, severe_multiplier=ref.severe_multiplier.value,
    )
    return episodes, rates


def network_from_scenario(
    scenario: Scenario, year: int | None = None, population: float | None = None,
    capacities: Capacities | None = None,
) -> ReferralNetwork:
    """The network of ``year``: population (default: base year), capacities (default: base-year stocks)."""
    s = scenario
    episodes, rates = flow_rates(s)
    year = s.base_year if year is None else year
    pop = s.population.base.value if population is None else population
    cap = capacities or capacities_from_scenario(s)
    nodes = tuple(
        AllianceNode(
            name=a.name, lead=a.lead, arrivals_per_day=episodes * pop * a.population_share / 365.0,
            primary_members=a.members,
            primary_clinicians=cap["primary"]["clinicians"] * a.population_share,
            hospital_clinicians=cap["hospital"]["clinicians"] * a.population_share,
            hospital_beds=int(round(cap["hospital"]["beds"] * a.population_share)),
            primary_beds=int(round(cap["primary"]["beds"] * a.population_share)),
        )
        for a in s.referral.alliances
    )
    net = ReferralNetwork(year=year, population=pop, alliances=nodes, rates=rates,
                          clinic_days_share=s.referral.clinic_days_share.value)
    net.check()
    return net


def networks_for_years(
    scenario: Scenario, years: list[int], projection: ProjectionResult | None = None,
    plan: dict[int, Capacities] | None = None, variant: str = MEDIUM,
) -> list[ReferralNetwork]:
    """One network per year: projected population, capacities from the plan (or the base year)."""
    nets = []
    for y in years:
        pop = projection.population(y, variant) if projection is not None else None
        if plan is not None and y not in plan:
            raise NetworkError(f"the plan has no capacities for {y}; it covers {min(plan)}-{max(plan)}")
        nets.append(network_from_scenario(scenario, y, pop, plan[y] if plan is not None else None))
    return nets


def default_workers() -> int:
    """Local worker processes for replications: the machine's cores; 1 inside a daemonic worker
    (a Dask batch worker may not start processes of its own)."""
    import multiprocessing

    if multiprocessing.current_process().daemon:
        return 1
    return max(1, os.cpu_count() or 1)


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
    scenario: Scenario, request: SimulationRequest, projection: ProjectionResult | None = None,
    plan: dict[int, Capacities] | None = None, progress: Callable[[], None] | None = None,
) -> tuple[SimulationResult, bool]:
    """Simulate ``scenario`` for the requested years; return the result and whether it was flows-only."""
    nets = networks_for_years(scenario, request.years, projection, plan, request.variant)
    workers = request.workers or default_workers()
    flows_only = (not full_consult_fits(nets, request.replications, FULL_CONSULT_SECONDS, workers)
                  if request.flows_only is None else request.flows_only)
    result = simulate(nets, request.replications, request.seed, progress=progress, flows_only=flows_only,
                      workers=workers, scheduler=request.scheduler)
    return result, flows_only
