"""Resident population projection: components method and cohort-component method.

Components (annual): ``P(t+1) = P(t) + B(t) - D(t) + M(t)`` with ``B = b(t)/1000 * P(t)``
and likewise for deaths and net migration; rates per 1,000 residents per year.

Cohort-component (5-year steps, 5-year age groups by sex): a Leslie-matrix step per sex
(Preston, Heuveline & Guillot, *Demography*, 2001, ch. 6) with net migrants added at the
end of each step. Years between steps are filled by apportioning each step's births,
deaths and migrants equally, so the balance identity holds exactly in every year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scenarios.schema import AgeStructure, Population, Rate, Scenario

COLUMNS = ["year", "variant", "population", "births", "deaths", "migration", "share_60plus", "share_65plus"]
STEP = 5  # years per cohort-component step and per age group


class ProjectionError(ValueError):
    """A projection was asked for something the scenario cannot give."""


@dataclass(frozen=True)
class ProjectionResult:
    """Tidy projection table: one row per (variant, year).

    ``population`` is persons at the end of ``year``; ``births``, ``deaths`` and
    ``migration`` are the flows during ``year`` (NaN in the base year).
    """

    scenario_id: str
    method: str
    base_year: int
    table: pd.DataFrame

    @property
    def variants(self) -> list[str]:
        return list(dict.fromkeys(self.table["variant"]))

    def series(self, variant: str = "medium") -> pd.Series:
        """Population by year (persons) for one variant."""
        sub = self.table[self.table["variant"] == variant]
        if sub.empty:
            raise ProjectionError(f"variant {variant!r} was not projected; projected: {', '.join(self.variants)}")
        return sub.set_index("year")["population"]

    def population(self, year: int, variant: str = "medium") -> float:
        """Projected population (persons) in ``year``."""
        s = self.series(variant)
        if year not in s.index:
            raise ProjectionError(
                f"year {year} is outside the projection {int(s.index.min())}-{int(s.index.max())}"
            )
        return float(s.loc[year])


def rate_path(rate: Rate, base_year: int, years: np.ndarray) -> np.ndarray:
    """Rate per 1,000 in each of ``years``: linear between anchors, constant after the last."""
    anchors = {base_year: rate.value, **{int(y): float(v) for y, v in rate.path.items() if int(y) > base_year}}
    xs = np.array(sorted(anchors), dtype=float)
    ys = np.array([anchors[int(x)] for x in xs])
    return np.interp(years.astype(float), xs, ys)


def variant_population(pop: Population, variant: str) -> Population:
    """The population block with a variant's rate overrides applied (``medium`` = as given)."""
    if variant == "medium":
        return pop
    if variant not in pop.variants:
        defined = ", ".join(["medium", *pop.variants])
        raise ProjectionError(f"variant {variant!r} is not defined in the scenario; defined: {defined}")
    over = pop.variants[variant]
    changes = {k: getattr(over, k) for k in ("birth_rate", "death_rate", "net_migration_rate") if getattr(over, k)}
    return pop.model_copy(update=changes)


def project_components(
    base: float, years: np.ndarray, birth: np.ndarray, death: np.ndarray, migration: np.ndarray
) -> pd.DataFrame:
    """Annual components projection; rates are per 1,000 of the start-of-year population."""
    n = len(years)
    pop = np.empty(n + 1)
    pop[0] = base
    b = np.empty(n)
    d = np.empty(n)
    m = np.empty(n)
    for i in range(n):
        b[i] = birth[i] / 1000.0 * pop[i]
        d[i] = death[i] / 1000.0 * pop[i]
        m[i] = migration[i] / 1000.0 * pop[i]
        pop[i + 1] = pop[i] + b[i] - d[i] + m[i]
        if pop[i + 1] <= 0:
            raise ProjectionError(f"population falls to {pop[i + 1]:.0f} in {years[i]}; check the rates")
    nan = np.array([np.nan])
    return pd.DataFrame(
        {
            "year": np.concatenate([[years[0] - 1], years]).astype(int),
            "population": pop,
            "births": np.concatenate([nan, b]),
            "deaths": np.concatenate([nan, d]),
            "migration": np.concatenate([nan, m]),
        }
    )


# -- cohort-component ----------------------------------------------------------------


def leslie_matrix(first_row: np.ndarray, survival: np.ndarray, open_survival: float = 0.0) -> np.ndarray:
    """Leslie matrix: fertility ``first_row``, ``survival[i]`` from class i to i+1, open last class."""
    n = len(first_row)
    if len(survival) != n - 1:
        raise ValueError(f"survival needs {n - 1} entries for {n} classes, got {len(survival)}")
    L = np.zeros((n, n))
    L[0, :] = first_row
    L[np.arange(1, n), np.arange(n - 1)] = survival
    L[n - 1, n - 1] = open_survival
    return L


@dataclass(frozen=True)
class CohortStep:
    """One 5-year cohort-component step: populations by age (persons) and its flows."""

    male: np.ndarray
    female: np.ndarray
    births: float
    deaths: float
    migration: float


def _female_fertility_row(fert: np.ndarray, surv_f: np.ndarray) -> np.ndarray:
    """Births per woman in group x over a 5-year step (PHG eq. 6.4), before sex split and infant survival.

    Women in group x are exposed half the step at rate F_x and, if they survive into
    x+1, half at rate F_{x+1}.
    """
    nxt = np.append(fert[1:], 0.0)
    return STEP / 2.0 * (fert + surv_f * nxt)


def cohort_step(
    male: np.ndarray, female: np.ndarray, ages: AgeStructure, fert_factor: float = 1.0,
    mort_factor: float = 1.0, extra_migration_rate: float = 0.0,
) -> CohortStep:
    """Project one 5-year step. Factors scale fertility and the death probabilities (1 - S)."""
    fert = np.asarray(ages.fertility) * fert_factor
    s_m = 1.0 - np.clip((1.0 - np.asarray(ages.survival_male)) * mort_factor, 0.0, 1.0)
    s_f = 1.0 - np.clip((1.0 - np.asarray(ages.survival_female)) * mort_factor, 0.0, 1.0)
    bs_m = 1.0 - min(1.0, (1.0 - ages.birth_survival_male) * mort_factor)
    bs_f = 1.0 - min(1.0, (1.0 - ages.birth_survival_female) * mort_factor)
    p_female = 100.0 / (100.0 + ages.sex_ratio_at_birth)

    births_per_woman = _female_fertility_row(fert, s_f)
    births = float(births_per_woman @ female)
    b_f, b_m = births * p_female, births * (1.0 - p_female)

    # Leslie matrices: survivors age one group; the first row places surviving births.
    L_f = leslie_matrix(births_per_woman * p_female * bs_f, s_f[:-1], s_f[-1])
    L_m = leslie_matrix(np.zeros(len(male)), s_m[:-1], s_m[-1])
    new_f = L_f @ female
    new_m = L_m @ male
    new_m[0] = b_m * bs_m

    deaths = float(((1.0 - s_m) * male).sum() + ((1.0 - s_f) * female).sum() + b_m * (1 - bs_m) + b_f * (1 - bs_f))

    mig_m = np.zeros_like(new_m) if ages.net_migrants_male is None else np.asarray(ages.net_migrants_male, float)
    mig_f = np.zeros_like(new_f) if ages.net_migrants_female is None else np.asarray(ages.net_migrants_female, float)
    if extra_migration_rate:
        mig_m = mig_m + extra_migration_rate / 1000.0 * STEP * male
        mig_f = mig_f + extra_migration_rate / 1000.0 * STEP * female
    new_m, new_f = new_m + mig_m, new_f + mig_f
    if (new_m < 0).any() or (new_f < 0).any():
        raise ProjectionError("net out-migration exceeds the survivors of an age group; check net_migrants")
    return CohortStep(new_m, new_f, births, deaths, float(mig_m.sum() + mig_f.sum()))


def _old_share(male: np.ndarray, female: np.ndarray, from_group: int) -> float:
    total = male.sum() + female.sum()
    return float((male[from_group:].sum() + female[from_group:].sum()) / total) if len(male) > from_group else np.nan


def project_cohort(pop: Population, medium: Population, base_year: int, to_year: int) -> pd.DataFrame:
    """Cohort-component projection in 5-year steps, apportioned to single years."""
    ages = medium.age_structure
    assert ages is not None
    male, female = np.asarray(ages.male, float), np.asarray(ages.female, float)
    rows = [(base_year, male.sum() + female.sum(), np.nan, np.nan, np.nan, _old_share(male, female, 12), _old_share(male, female, 13))]
    year = base_year
    while year < to_year:
        mid = np.array([year + STEP / 2.0])
        f_fac = rate_path(pop.birth_rate, base_year, mid)[0] / max(rate_path(medium.birth_rate, base_year, mid)[0], 1e-12)
        m_fac = rate_path(pop.death_rate, base_year, mid)[0] / max(rate_path(medium.death_rate, base_year, mid)[0], 1e-12)
        given = ages.net_migrants_male is not None or ages.net_migrants_female is not None
        extra = rate_path(pop.net_migration_rate, base_year, mid)[0]
        if given:
            extra -= rate_path(medium.net_migration_rate, base_year, mid)[0]
        start_total = male.sum() + female.sum()
        step = cohort_step(male, female, ages, f_fac, m_fac, extra)
        end_total = step.male.sum() + step.female.sum()
        s60_a, s65_a = _old_share(male, female, 12), _old_share(male, female, 13)
        s60_b, s65_b = _old_share(step.male, step.female, 12), _old_share(step.male, step.female, 13)
        for k in range(1, STEP + 1):
            w = k / STEP
            rows.append((
                year + k,
                start_total + w * (end_total - start_total),
                step.births / STEP, step.deaths / STEP, step.migration / STEP,
                s60_a + w * (s60_b - s60_a), s65_a + w * (s65_b - s65_a),
            ))
        male, female = step.male, step.female
        year += STEP
    df = pd.DataFrame(rows, columns=["year", "population", "births", "deaths", "migration", "share_60plus", "share_65plus"])
    return df[df["year"] <= to_year].reset_index(drop=True)


# -- entry point -----------------------------------------------------------------------


def project(scenario: Scenario, to_year: int | None = None, variants: tuple[str, ...] | list[str] = ("medium",)) -> ProjectionResult:
    """Project the scenario's resident population from its base year to ``to_year``.

    Uses the cohort-component method when the scenario gives an age structure,
    otherwise the components method. ``to_year`` defaults to the target year.
    """
    to_year = scenario.target_year if to_year is None else int(to_year)
    base_year = scenario.base_year
    if to_year <= base_year:
        raise ProjectionError(f"--to {to_year} must be after the base year {base_year}")
    if to_year > base_year + 100:
        raise ProjectionError(f"--to {to_year} is more than 100 years past the base year {base_year}")
    medium = scenario.population
    method = "cohort-component" if medium.age_structure is not None else "components"
    frames = []
    for name in variants:
        pop = variant_population(medium, name)
        if method == "components":
            years = np.arange(base_year + 1, to_year + 1)
            df = project_components(
                pop.base.value, years,
                rate_path(pop.birth_rate, base_year, years),
                rate_path(pop.death_rate, base_year, years),
                rate_path(pop.net_migration_rate, base_year, years),
            )
            df["share_60plus"] = np.nan
            df["share_65plus"] = np.nan
            if pop.share_60plus is not None:
                df.loc[0, "share_60plus"] = pop.share_60plus.value
            if pop.share_65plus is not None:
                df.loc[0, "share_65plus"] = pop.share_65plus.value
        else:
            df = project_cohort(pop, medium, base_year, to_year)
        df.insert(1, "variant", name)
        frames.append(df[COLUMNS])
    table = pd.concat(frames, ignore_index=True)
    return ProjectionResult(scenario.id, method, base_year, table)
