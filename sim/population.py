"""Resident population projection: components method and cohort-component method.

Components (annual): ``P(t+1) = P(t) + B(t) - D(t) + M(t)`` with ``B = b(t)/1000 * P(t)``
and likewise for deaths and net migration; rates per 1,000 residents per year.

The engine takes plain data (:class:`PopulationInputs` per variant: a base population,
:class:`RatePath` rates and, optionally, an :class:`AgeTable`); the scenario side builds them.

Cohort-component (5-year steps, 5-year age groups by sex): a Leslie-matrix step per sex
(Preston, Heuveline & Guillot, *Demography*, 2001, ch. 6) with net migrants added at the
end of each step. Years between steps are filled by apportioning each step's births,
deaths and migrants equally, so the balance identity holds exactly in every year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
            raise ProjectionError(f"year {year} is outside the projection {int(s.index.min())}-{int(s.index.max())}")
        return float(s.loc[year])


@dataclass(frozen=True)
class RatePath:
    """A rate per 1,000 residents per year: ``base`` in ``base_year``, linear between the
    ``anchors`` (year, rate) after it, constant after the last anchor."""

    base_year: int
    base: float
    anchors: tuple[tuple[int, float], ...] = ()

    def at(self, years: np.ndarray) -> np.ndarray:
        """The rate (per 1,000) in each of ``years`` (fractional years allowed)."""
        points = {self.base_year: self.base, **{int(y): float(v) for y, v in self.anchors if int(y) > self.base_year}}
        xs = np.array(sorted(points), dtype=float)
        ys = np.array([points[int(x)] for x in xs])
        return np.interp(np.asarray(years, dtype=float), xs, ys)


@dataclass(frozen=True)
class AgeTable:
    """Base-year population by 5-year age group (last group open) and sex, with its rates.

    ``survival_*[i]``: 5-year survival ratio from group i to i+1 (the last entry: the open
    group's own); ``birth_survival_*``: share of a period's births alive in group 0-4 at its
    end; ``fertility[i]``: births per woman per year in group i; ``sex_ratio_at_birth``: male
    births per 100 female; ``net_migrants_*[i]``: net migrants per 5-year step (persons).
    """

    male: tuple[float, ...]
    female: tuple[float, ...]
    survival_male: tuple[float, ...]
    survival_female: tuple[float, ...]
    birth_survival_male: float
    birth_survival_female: float
    fertility: tuple[float, ...]
    sex_ratio_at_birth: float
    net_migrants_male: tuple[float, ...] | None = None
    net_migrants_female: tuple[float, ...] | None = None


@dataclass(frozen=True)
class PopulationInputs:
    """One variant's inputs: base population (persons, end of base year) and rates per 1,000.

    ``ages`` switches on the cohort-component method; without it ``share_60plus`` /
    ``share_65plus`` (base year, 0-1) are reported for the base year only.
    """

    base: float
    birth: RatePath
    death: RatePath
    migration: RatePath
    ages: AgeTable | None = None
    share_60plus: float | None = None
    share_65plus: float | None = None


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
    male: np.ndarray,
    female: np.ndarray,
    ages: AgeTable,
    fert_factor: float = 1.0,
    mort_factor: float = 1.0,
    extra_migration_rate: float = 0.0,
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


def project_cohort(inputs: PopulationInputs, reference: PopulationInputs, base_year: int, to_year: int) -> pd.DataFrame:
    """Cohort-component projection in 5-year steps, apportioned to single years.

    The age table's fertility, survival and migrants are those of ``reference``, whose rates are the
    crude rates the table stands for; ``inputs``' rates scale fertility and the death probabilities by
    the ratio of its rates to the reference's (net migration: the difference, when the table gives migrants)."""
    ages = reference.ages
    if ages is None:
        raise ProjectionError("the cohort-component method needs an age table")
    male, female = np.asarray(ages.male, float), np.asarray(ages.female, float)
    rows = [
        (
            base_year,
            male.sum() + female.sum(),
            np.nan,
            np.nan,
            np.nan,
            _old_share(male, female, 12),
            _old_share(male, female, 13),
        )
    ]
    year = base_year
    given = ages.net_migrants_male is not None or ages.net_migrants_female is not None
    while year < to_year:
        mid = np.array([year + STEP / 2.0])
        f_fac = inputs.birth.at(mid)[0] / max(reference.birth.at(mid)[0], 1e-12)
        m_fac = inputs.death.at(mid)[0] / max(reference.death.at(mid)[0], 1e-12)
        extra = inputs.migration.at(mid)[0] - (reference.migration.at(mid)[0] if given else 0.0)
        start_total = male.sum() + female.sum()
        step = cohort_step(male, female, ages, f_fac, m_fac, extra)
        end_total = step.male.sum() + step.female.sum()
        s60_a, s65_a = _old_share(male, female, 12), _old_share(male, female, 13)
        s60_b, s65_b = _old_share(step.male, step.female, 12), _old_share(step.male, step.female, 13)
        for k in range(1, STEP + 1):
            w = k / STEP
            rows.append(
                (
                    year + k,
                    start_total + w * (end_total - start_total),
                    step.births / STEP,
                    step.deaths / STEP,
                    step.migration / STEP,
                    s60_a + w * (s60_b - s60_a),
                    s65_a + w * (s65_b - s65_a),
                )
            )
        male, female = step.male, step.female
        year += STEP
    df = pd.DataFrame(
        rows, columns=["year", "population", "births", "deaths", "migration", "share_60plus", "share_65plus"]
    )
    return df[df["year"] <= to_year].reset_index(drop=True)


# -- life table (deriving survival ratios from death rates) ---------------------------


@dataclass(frozen=True)
class LifeTable:
    """Abridged life table of 5-year groups (last group open), radix 1.

    ``survival[i]``: 5-year survival ratio from group i to i+1 as :class:`AgeTable` wants it
    (the last two entries both ``T(open) / T(open - 5)``, Preston et al. 2001 ch. 6);
    ``birth_survival``: ``5L0 / 5``, the share of a period's births alive in group 0-4 at its
    end; ``e0``: life expectancy at birth (years).
    """

    survival: tuple[float, ...]
    birth_survival: float
    e0: float


def life_table(death_rates: np.ndarray, q0_4: float | None = None) -> LifeTable:
    """Life table from age-specific death rates (deaths per person-year, 5-year groups, last open).

    Within a group the hazard is constant (``5qx = 1 - exp(-5 mx)``, ``5Lx = (lx - lx+5) / mx``);
    the open group lives ``l / m`` person-years. ``q0_4`` overrides the 0-4 death probability.
    """
    m = np.asarray(death_rates, float)
    if (m <= 0).any():
        raise ValueError("death rates must be > 0")
    m = m.copy()
    if q0_4 is not None:
        m[0] = -np.log(1.0 - q0_4) / STEP
    n = len(m)
    q = 1.0 - np.exp(-STEP * m[:-1])
    l_ = np.concatenate([[1.0], np.cumprod(1.0 - q)])  # l at the start of each group
    L = np.empty(n)
    L[:-1] = (l_[:-1] - l_[1:]) / m[:-1]
    L[-1] = l_[-1] / m[-1]
    surv = np.empty(n)
    surv[:-2] = L[1:-1] / L[:-2]
    surv[-2:] = L[-1] / (L[-2] + L[-1])
    return LifeTable(tuple(float(x) for x in surv), float(L[0] / STEP), float(L.sum()))


def scale_to_life_expectancy(
    shape: np.ndarray, e0: float, q0_4: float | None = None, from_group: int = 1
) -> tuple[float, LifeTable]:
    """The factor k on ``shape``'s death rates (groups ``from_group`` on) that gives life expectancy ``e0``.

    Returns (k, the life table at k). Bisection on k in [0.01, 10]; e0 falls as k rises.
    """
    shape = np.asarray(shape, float)

    def table(k: float) -> LifeTable:
        m = shape.copy()
        m[from_group:] *= k
        return life_table(m, q0_4)

    lo, hi = 0.01, 10.0
    if not table(hi).e0 <= e0 <= table(lo).e0:
        raise ValueError(f"life expectancy {e0} cannot be reached by scaling these death rates")
    for _ in range(100):
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if table(mid).e0 > e0 else (lo, mid)
    k = (lo + hi) / 2.0
    return k, table(k)


# -- entry point -----------------------------------------------------------------------


def project_population(
    variants: dict[str, PopulationInputs],
    base_year: int,
    to_year: int,
    reference: str = "medium",
    label: str = "",
) -> ProjectionResult:
    """Project every variant from ``base_year`` to ``to_year`` (years, inclusive).

    Uses the cohort-component method when the reference variant has an age table,
    otherwise the components method. ``label`` names the projection (a scenario id).
    """
    if to_year <= base_year:
        raise ProjectionError(f"--to {to_year} must be after the base year {base_year}")
    if to_year > base_year + 100:
        raise ProjectionError(f"--to {to_year} is more than 100 years past the base year {base_year}")
    ref = variants[reference]
    method = "cohort-component" if ref.ages is not None else "components"
    frames = []
    for name, pop in variants.items():
        if method == "components":
            years = np.arange(base_year + 1, to_year + 1)
            df = project_components(pop.base, years, pop.birth.at(years), pop.death.at(years), pop.migration.at(years))
            df["share_60plus"] = np.nan
            df["share_65plus"] = np.nan
            if pop.share_60plus is not None:
                df.loc[0, "share_60plus"] = pop.share_60plus
            if pop.share_65plus is not None:
                df.loc[0, "share_65plus"] = pop.share_65plus
        else:
            df = project_cohort(pop, ref, base_year, to_year)
        df.insert(1, "variant", name)
        frames.append(df[COLUMNS])
    return ProjectionResult(label, method, base_year, pd.concat(frames, ignore_index=True))


def project_many(
    draws: list[PopulationInputs], base_year: int, to_year: int, reference: PopulationInputs | None = None
) -> np.ndarray:
    """Population (persons, end of year) of many inputs at once: shape (len(draws), to_year - base_year + 1).

    Column 0 is the base year. The components method is vectorised over the draws (the same
    recurrence as :func:`project_components`); the cohort-component method (when ``reference``,
    default the first draw, has an age table) projects each draw in turn.
    """
    if not draws:
        return np.empty((0, to_year - base_year + 1))
    ref = reference or draws[0]
    years = np.arange(base_year + 1, to_year + 1)
    if ref.ages is not None:
        return np.array([project_cohort(d, ref, base_year, to_year)["population"].to_numpy() for d in draws])
    growth = np.array([d.birth.at(years) - d.death.at(years) + d.migration.at(years) for d in draws]) / 1000.0
    pop = np.empty((len(draws), len(years) + 1))
    pop[:, 0] = [d.base for d in draws]
    for i in range(len(years)):
        pop[:, i + 1] = pop[:, i] * (1.0 + growth[:, i])
    if (pop <= 0).any():
        draw, col = np.argwhere(pop <= 0)[0]
        raise ProjectionError(
            f"population falls to {pop[draw, col]:.0f} in {base_year + col} in draw {draw}; check the rates"
        )
    return pop
