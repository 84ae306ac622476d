"""A scenario's population block as the engine's plain inputs (:class:`PopulationInputs`): rate paths per
1,000 residents a year, the age table, the variants; nothing is projected here."""

from __future__ import annotations

import dataclasses

from scenarios.schema import AgeStructure, Population, Rate, Scenario
from sim.population import AgeTable, PopulationInputs, ProjectionError, RatePath

MEDIUM = "medium"


LOW, HIGH = "low", "high"


def variant_names(scenario: Scenario, variant: str = "all") -> list[str]:
    """The variants a request names: ``'all'`` = medium plus every variant the scenario defines."""
    return [MEDIUM, *scenario.population.variants] if variant == "all" else [variant]


def rate_path(rate: Rate, base_year: int) -> RatePath:
    """A scenario rate (value in the base year, optional ``path`` anchors) as an engine rate path."""
    return RatePath(base_year, rate.value, tuple(sorted((int(y), float(v)) for y, v in rate.path.items())))


def age_table(ages: AgeStructure, base: float | None = None) -> AgeTable:
    """A scenario's age structure as the engine's plain age table.

    With ``base`` (persons) the counts are scaled to it (the schema lets them differ by up to
    0.5%, e.g. a census on 1 November against an end-of-year base): the structure gives the
    shape, the base the level, so the projection starts from the scenario's base.
    """
    opt = lambda v: None if v is None else tuple(v)  # noqa: E731
    k = 1.0 if base is None else base / (sum(ages.male) + sum(ages.female))
    return AgeTable(
        male=tuple(x * k for x in ages.male),
        female=tuple(x * k for x in ages.female),
        survival_male=tuple(ages.survival_male),
        survival_female=tuple(ages.survival_female),
        birth_survival_male=ages.birth_survival_male,
        birth_survival_female=ages.birth_survival_female,
        fertility=tuple(ages.fertility),
        sex_ratio_at_birth=ages.sex_ratio_at_birth,
        net_migrants_male=opt(ages.net_migrants_male),
        net_migrants_female=opt(ages.net_migrants_female),
    )


def population_inputs(pop: Population, base_year: int, variant: str = MEDIUM) -> PopulationInputs:
    """Engine inputs of one variant: the medium rates with the variant's overrides applied."""
    if variant != MEDIUM and variant not in pop.variants:
        defined = ", ".join([MEDIUM, *pop.variants])
        raise ProjectionError(f"variant {variant!r} is not defined in the scenario; defined: {defined}")
    over = pop.variants.get(variant)

    def rate(name: str) -> RatePath:
        chosen = getattr(over, name) if over is not None and getattr(over, name) else getattr(pop, name)
        return rate_path(chosen, base_year)

    return PopulationInputs(
        base=pop.base.value,
        birth=rate("birth_rate"),
        death=rate("death_rate"),
        migration=rate("net_migration_rate"),
        ages=age_table(pop.age_structure, pop.base.value) if pop.age_structure is not None else None,
        share_60plus=pop.share_60plus.value if pop.share_60plus else None,
        share_65plus=pop.share_65plus.value if pop.share_65plus else None,
    )


def reference_inputs(pop: Population, base_year: int) -> PopulationInputs:
    """The cohort-component method's reference: the medium inputs with the rates the age table stands for
    (``age_structure.rates``, see :class:`scenarios.schema.AgeRates`), so that each variant's fertility and
    mortality are the table's scaled by its own rates over these. Without an age table, or without
    ``rates`` (a scenario built in code), the medium rates."""
    medium = population_inputs(pop, base_year)
    rates = pop.age_structure.rates if pop.age_structure is not None else None
    if rates is None:
        return medium
    return dataclasses.replace(
        medium,
        birth=rate_path(rates.birth_rate, base_year),
        death=rate_path(rates.death_rate, base_year),
        migration=rate_path(rates.net_migration_rate, base_year),
    )


def observed_population(scenario: Scenario) -> dict[int, float]:
    """Observed year-end residents (persons) after the base year."""
    return {y: q.value for y, q in scenario.observed_series("population").items() if y > scenario.base_year}
