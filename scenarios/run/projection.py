"""Stage 1 of the data path: a scenario's population block -> engine inputs -> :class:`ProjectionResult`."""

from __future__ import annotations

from scenarios.schema import AgeStructure, Population, Rate, Scenario
from sim.population import AgeTable, PopulationInputs, ProjectionError, ProjectionResult, RatePath, project_population

MEDIUM = "medium"


def variant_names(scenario: Scenario, variant: str = "all") -> list[str]:
    """The variants a request names: ``'all'`` = medium plus every variant the scenario defines."""
    return [MEDIUM, *scenario.population.variants] if variant == "all" else [variant]


def rate_path(rate: Rate, base_year: int) -> RatePath:
    """A scenario rate (value in the base year, optional ``path`` anchors) as an engine rate path."""
    return RatePath(base_year, rate.value, tuple(sorted((int(y), float(v)) for y, v in rate.path.items())))


def age_table(ages: AgeStructure) -> AgeTable:
    """A scenario's age structure as the engine's plain age table."""
    opt = lambda v: None if v is None else tuple(v)  # noqa: E731
    return AgeTable(
        male=tuple(ages.male), female=tuple(ages.female), survival_male=tuple(ages.survival_male),
        survival_female=tuple(ages.survival_female), birth_survival_male=ages.birth_survival_male,
        birth_survival_female=ages.birth_survival_female, fertility=tuple(ages.fertility),
        sex_ratio_at_birth=ages.sex_ratio_at_birth, net_migrants_male=opt(ages.net_migrants_male),
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
        base=pop.base.value, birth=rate("birth_rate"), death=rate("death_rate"), migration=rate("net_migration_rate"),
        ages=age_table(pop.age_structure) if pop.age_structure is not None else None,
        share_60plus=pop.share_60plus.value if pop.share_60plus else None,
        share_65plus=pop.share_65plus.value if pop.share_65plus else None,
    )


def project(scenario: Scenario, to_year: int | None = None,
            variants: tuple[str, ...] | list[str] = (MEDIUM,)) -> ProjectionResult:
    """Project the scenario's resident population from its base year to ``to_year`` (default: target year)."""
    s = scenario
    to_year = s.target_year if to_year is None else int(to_year)
    inputs = {v: population_inputs(s.population, s.base_year, v) for v in (*variants, MEDIUM)}
    result = project_population(inputs, s.base_year, to_year, MEDIUM, s.id)
    if MEDIUM not in variants:  # the reference was needed for the method; report only what was asked
        keep = result.table["variant"].isin(list(variants))
        result = ProjectionResult(result.scenario_id, result.method, result.base_year,
                                  result.table[keep].reset_index(drop=True))
    return result
