"""A scenario and a plan's stocks as plain :class:`ReferralNetwork` inputs: capacities by tier and year,
the tiered-care shares, flow rates (visits and admissions per resident a year); nothing is simulated here."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from scenarios.inputs.allocation import tier_split
from scenarios.inputs.need import demand_by_year
from scenarios.inputs.population import MEDIUM
from scenarios.schema import Scenario
from sim.population import ProjectionError, ProjectionResult
from sim.referral.network import AllianceNode, FlowRates, NetworkError, ReferralNetwork, admission_probabilities


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


@dataclass(frozen=True)
class CareYear:
    """One year's use and tiered-care parameters (see :func:`care_by_year`)."""

    year: int
    visits_per_capita: float
    admissions_per_capita: float
    alos_hospital_days: float
    primary_first_share: float
    bypass_share: float  # share of residents' episodes treated outside the area before any first contact


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def tiered_care(scenario: Scenario, cap: Capacities, population: float) -> tuple[float, float]:
    """(primary-care share of first contacts, bypass share) at capacities ``cap`` for ``population`` residents.

    logit(share) = logit(base share) + elasticity x ln(R / R0), R = primary / hospital physicians;
    bypass = base bypass x (physicians of both tiers per resident / base)^-elasticity, at most 0.95.
    Base-year capacities give the base values exactly (labelled assumptions in ``[demand]``).
    """
    s = scenario
    ref, d = s.referral, s.demand
    share0 = ref.primary_first_share.value
    if d is None:
        return share0, 0.0
    base = capacities_from_scenario(s)
    ratio = (cap["primary"]["clinicians"] / max(cap["hospital"]["clinicians"], 1e-9)) / (
        base["primary"]["clinicians"] / max(base["hospital"]["clinicians"], 1e-9)
    )
    share = share0
    if 0.0 < share0 < 1.0 and ratio > 0:
        z = _logit(share0) + d.primary_share_elasticity.value * math.log(ratio)
        share = min(0.95, max(0.05, 1.0 / (1.0 + math.exp(-z))))
    docs = lambda c: c["hospital"]["clinicians"] + c["primary"]["clinicians"]  # noqa: E731
    density = (docs(cap) / population) / (docs(base) / s.population.base.value)
    bypass = min(0.95, d.bypass_share.value * max(density, 1e-9) ** (-d.bypass_elasticity.value))
    return share, bypass


def care_by_year(
    scenario: Scenario,
    years: list[int],
    projection: ProjectionResult | None = None,
    plan: dict[int, Capacities] | None = None,
    variant: str = MEDIUM,
) -> list[CareYear]:
    """Each year's visits and admissions per resident (ageing), hospital stay and tiered-care response.

    Without ``[demand]`` or a projection with old-age shares, the referral section's base-year
    values hold in every year and nobody bypasses the area (the behaviour before issue 10).
    """
    s = scenario
    ref = s.referral
    demand = None
    if s.demand is not None and projection is not None:
        try:
            demand = demand_by_year(s, projection, variant, years).set_index("year")
        except ProjectionError:
            demand = None
    out = []
    for y in years:
        cap = plan[y] if plan is not None and y in plan else capacities_from_scenario(s)
        pop = projection.population(y, variant) if projection is not None else s.population.base.value
        share, bypass = tiered_care(s, cap, pop)
        if demand is not None and y in demand.index:
            row = demand.loc[y]
            v, a, alos = row["visits_per_capita"], row["admissions_per_capita"], row["alos_hospital_days"]
        else:
            v, a, alos = ref.visits_per_capita.value, ref.admissions_per_capita.value, ref.alos_hospital_days.value
        out.append(CareYear(int(y), float(v), float(a), float(alos), share, bypass))
    return out


def flow_rates(scenario: Scenario, care: CareYear | None = None) -> tuple[float, FlowRates]:
    """(first contacts per resident-year, flow rates) from the scenario's ``[referral]`` section,
    with one year's use, stay and primary-care share from ``care`` when given."""
    s = scenario
    if s.referral is None:
        raise NetworkError(f"scenario '{s.id}' has no [referral] section; expected alliances and flow parameters")
    ref = s.referral
    visits = care.visits_per_capita if care else ref.visits_per_capita.value
    admissions = care.admissions_per_capita if care else ref.admissions_per_capita.value
    share = care.primary_first_share if care else ref.primary_first_share.value
    try:
        episodes, p_ap, p_ah = admission_probabilities(
            visits, admissions, share, ref.p_up.value, ref.primary_admission_share.value
        )
    except NetworkError as exc:
        raise NetworkError(f"scenario '{s.id}': referral: {exc}") from None
    rates = FlowRates(
        primary_first_share=share,
        p_up=ref.p_up.value,
        p_admit_primary=p_ap,
        p_admit_hospital=p_ah,
        p_down=ref.p_down.value,
        consult_days=1.0 / ref.consults_per_clinician_day.value,
        alos_hospital=care.alos_hospital_days if care else ref.alos_hospital_days.value,
        alos_primary=ref.alos_primary_days.value,
        recovery=ref.recovery_days.value,
        los_cv=ref.los_cv.value,
        wait_tolerance=ref.wait_tolerance_days.value,
        bed_wait_tolerance=ref.bed_wait_tolerance_days.value,
        congestion_wait=ref.congestion_wait_days.value,
        congestion_uplift=ref.congestion_uplift.value,
        severe_share=ref.severe_share.value,
        severe_multiplier=ref.severe_multiplier.value,
    )
    return episodes, rates


def network_from_scenario(
    scenario: Scenario,
    year: int | None = None,
    population: float | None = None,
    capacities: Capacities | None = None,
    care: CareYear | None = None,
) -> ReferralNetwork:
    """The network of ``year``: population (default: base year), capacities (default: base-year stocks).

    With ``care`` (:func:`care_by_year`), that year's use, stay and primary-care share; episodes
    that bypass the area never arrive (the referral rates are in-area rates of the base year,
    when ``[demand].bypass_share`` of the residents' episodes went elsewhere).
    """
    s = scenario
    episodes, rates = flow_rates(s, care)
    year = s.base_year if year is None else year
    pop = s.population.base.value if population is None else population
    cap = capacities or capacities_from_scenario(s)
    if care is not None and s.demand is not None:
        episodes *= (1.0 - care.bypass_share) / (1.0 - s.demand.bypass_share.value)
    nodes = tuple(
        AllianceNode(
            name=a.name,
            lead=a.lead,
            arrivals_per_day=episodes * pop * a.population_share / 365.0,
            primary_members=a.members,
            primary_clinicians=cap["primary"]["clinicians"] * a.population_share,
            hospital_clinicians=cap["hospital"]["clinicians"] * a.population_share,
            hospital_beds=int(round(cap["hospital"]["beds"] * a.population_share)),
            primary_beds=int(round(cap["primary"]["beds"] * a.population_share)),
        )
        for a in s.referral.alliances
    )
    net = ReferralNetwork(
        year=year, population=pop, alliances=nodes, rates=rates, clinic_days_share=s.referral.clinic_days_share.value
    )
    net.check()
    return net


def networks_for_years(
    scenario: Scenario,
    years: list[int],
    projection: ProjectionResult | None = None,
    plan: dict[int, Capacities] | None = None,
    variant: str = MEDIUM,
    care: list[CareYear] | None = None,
) -> list[ReferralNetwork]:
    """One network per year: projected population, capacities from the plan (or the base year),
    that year's use and tiered-care response (``care``, else :func:`care_by_year`)."""
    if plan is not None:
        for y in years:
            if y not in plan:
                raise NetworkError(f"the plan has no capacities for {y}; it covers {min(plan)}-{max(plan)}")
    nets = []
    care_years = care if care is not None else care_by_year(scenario, years, projection, plan, variant)
    for y, care in zip(years, care_years):
        pop = projection.population(y, variant) if projection is not None else None
        nets.append(network_from_scenario(scenario, y, pop, plan[y] if plan is not None else None, care))
    return nets


Capacities = dict[str, dict[str, float]]  # {'hospital'|'primary': {'clinicians': physicians, 'beds': beds}}
