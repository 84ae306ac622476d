"""Stage 1 of the data path: a scenario's population block -> engine inputs -> :class:`ProjectionResult`.

Calibration to observed years (``[observed.<year>] population``): the medium variant's net migration
is fitted (one constant rate, per 1,000 residents per year, least squares on log population) so that
the projection from the base year reproduces the observed series; low and high keep their offsets
from the medium rate, widened where needed so that their projections from the base year bracket
every observation. The table then shows observed years as observed, years between observations as
interpolated, and projects from the latest observed population on with each variant's own stated
rates: the fit explains the past, the scenario's rates remain its assumption about the future, so a
what-if that changes a rate changes the projection (each variant's projection is scaled to the
observed population, which for the components method is the same as projecting from it).

Cohort-component reference: the age table's fertility and survival stand for the crude rates stated
with it (``population.age_structure.rates``: the rates of the file that gives the table, see
:class:`scenarios.schema.AgeRates`), not the scenario's current medium rates; each variant, medium
included, scales the table's fertility by its birth rate over the reference's (mortality likewise). A
built-in's own medium rates are its reference (factor 1, its projection as before); a what-if that
sets the birth rate from 11.79 to 25 per 1,000 doubles fertility.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize_scalar

from scenarios.inputs.population import HIGH, LOW, MEDIUM, observed_population, population_inputs, reference_inputs
from scenarios.labels import Labels
from scenarios.schema import Scenario
from sim.population import PopulationInputs, ProjectionError, ProjectionResult, RatePath, project_population

_REFERENCE = "_reference"  # the rates the age table stands for (reference_inputs): the cohort method's reference
RATE_BOUND = 200.0  # per 1,000 a year: the fitted net migration rate is searched within +-this
FIT_TOLERANCE = 0.10  # a fitted projection further than this (relative) from an observation: the fit failed
KIND_BASE, KIND_OBSERVED, KIND_INTERPOLATED, KIND_PROJECTED = "base", "observed", "interpolated", "projected"


@dataclass(frozen=True)
class Calibration:
    """Net migration fitted to the observed populations (rates per 1,000 residents per year).

    ``observed``: persons at the end of each observed year; ``fitted``: the medium projection from
    the base year with ``fitted_rate`` in those years; ``variant_rates``: each variant's calibrated
    rate; ``widened``: the variants moved beyond their offset from medium to bracket the observations.
    """

    base_year: int
    observed: dict[int, float]
    assumed_rate: float
    fitted_rate: float
    fitted: dict[int, float]
    variant_rates: dict[str, float]
    widened: tuple[str, ...] = ()

    @property
    def errors(self) -> dict[int, float]:
        """Relative error (fitted / observed - 1) of the fitted projection in each observed year."""
        return {y: self.fitted[y] / v - 1.0 for y, v in self.observed.items()}

    @property
    def rms_error(self) -> float:
        return float(np.sqrt(np.mean(np.square(list(self.errors.values())))))

    @property
    def max_error(self) -> float:
        return float(max(abs(e) for e in self.errors.values()))

    @property
    def latest_year(self) -> int:
        return max(self.observed)

    def describe(self, L: Labels | None = None) -> list[str]:
        """The calibration in words (one sentence a line), in ``L``'s language (default English)."""
        L = L or Labels("en")
        sep = L.text("list_sep")
        errors = sep.join(f"{y} {e * 100:+.2f}%" for y, e in self.errors.items())
        lines = [
            L.text(
                "cal_fit", years=sep.join(map(str, self.observed)), fitted=self.fitted_rate, assumed=self.assumed_rate
            ),
            L.text("cal_error", base=self.base_year, rms=self.rms_error, max=self.max_error, errors=errors),
            L.text("cal_next", latest=self.latest_year, assumed=self.assumed_rate),
        ]
        others = {v: r for v, r in self.variant_rates.items() if v != MEDIUM}
        if others:
            rates = ", ".join(
                f"{L.value(v)} {r:+.2f}" + (L.text("cal_widened") if v in self.widened else "")
                for v, r in others.items()
            )
            lines.append(L.text("cal_variants", rates=rates))
        return lines


def _with_migration(inputs: PopulationInputs, rate: float) -> PopulationInputs:
    return dataclasses.replace(inputs, migration=RatePath(inputs.migration.base_year, float(rate)))


def _run(
    inputs: dict[str, PopulationInputs], reference: PopulationInputs, base_year: int, to_year: int
) -> pd.DataFrame:
    result = project_population({_REFERENCE: reference, **inputs}, base_year, to_year, _REFERENCE)
    return result.table[result.table["variant"] != _REFERENCE]


def _log_errors(
    inputs: PopulationInputs, ref: PopulationInputs, rate: float, base_year: int, observed: dict[int, float]
) -> np.ndarray:
    """log(projected / observed) in each observed year, projecting from the base year with ``rate``
    (-50 in every year when the rate empties the population)."""
    try:
        table = _run({"fit": _with_migration(inputs, rate)}, ref, base_year, max(observed)).set_index("year")
    except ProjectionError:
        return np.full(len(observed), -50.0)
    return np.log(np.array([table.loc[y, "population"] / v for y, v in observed.items()]))


def _bracket(
    inputs: PopulationInputs,
    ref: PopulationInputs,
    rate: float,
    base_year: int,
    observed: dict[int, float],
    below: bool,
) -> float:
    """The rate nearest to ``rate`` whose projection stays below (or above) every observation."""
    worst = (
        (lambda m: _log_errors(inputs, ref, m, base_year, observed).max())
        if below
        else (lambda m: _log_errors(inputs, ref, m, base_year, observed).min())
    )
    if (worst(rate) <= 0) if below else (worst(rate) >= 0):
        return rate
    far = rate - RATE_BOUND if below else rate + RATE_BOUND
    edge = brentq(worst, far, rate, xtol=1e-9)
    return edge - 1e-6 if below else edge + 1e-6


def _check_fit(s: Scenario, observed: dict[int, float], rate: float, fitted: dict[int, float]) -> None:
    """Refuse a fit at the search bound (+-:data:`RATE_BOUND`) or further than :data:`FIT_TOLERANCE` from an
    observation: the observed populations do not continue ``population.base`` (another area or unit)."""
    errors = {y: fitted[y] / v - 1.0 for y, v in observed.items()}
    at_bound = abs(rate) >= RATE_BOUND - 1e-3
    if not at_bound and max(abs(e) for e in errors.values()) <= FIT_TOLERANCE:
        return
    residuals = ", ".join(
        f"{y} {v:,.0f} fitted {fitted[y]:,.0f} ({errors[y] * 100:+.1f}%)" for y, v in observed.items()
    )
    why = (
        f"the fit reaches the bound of {RATE_BOUND:+.0f} per 1,000 a year"
        if at_bound
        else f"the best constant rate ({rate:+.2f} per 1,000 a year) misses an observation by more than "
        f"{FIT_TOLERANCE:.0%}"
    )
    years = ",".join(map(str, observed))
    raise ProjectionError(
        f"observed.{years}.population: no net migration rate makes the projection from "
        f"population.base {s.population.base.value:,.0f} ({s.base_year}) reproduce the observed "
        f"populations: {why}; residuals: {residuals}; expected observed year-end residents of the "
        "same area as population.base (a figure in another unit or of another area looks like this)"
    )


def calibrate(scenario: Scenario, variants: tuple[str, ...] | list[str] = ()) -> Calibration | None:
    """Fit the medium net migration rate to the observed populations; None without observations."""
    s, observed = scenario, observed_population(scenario)
    if not observed:
        return None
    ref, medium = reference_inputs(s.population, s.base_year), population_inputs(s.population, s.base_year)
    fit = minimize_scalar(
        lambda m: float(np.sum(_log_errors(medium, ref, m, s.base_year, observed) ** 2)),
        bounds=(-RATE_BOUND, RATE_BOUND),
        method="bounded",
        options={"xatol": 1e-7},
    )
    rate = float(fit.x)
    fitted = _run({MEDIUM: _with_migration(medium, rate)}, ref, s.base_year, max(observed)).set_index("year")
    _check_fit(s, observed, rate, {y: float(fitted.loc[y, "population"]) for y in observed})
    assumed = medium.migration.base
    rates, widened = {MEDIUM: rate}, []
    for v in variants:
        if v == MEDIUM:
            continue
        inputs = population_inputs(s.population, s.base_year, v)
        own = rate + inputs.migration.base - assumed
        rates[v] = (
            _bracket(inputs, ref, own, s.base_year, observed, below=True)
            if v == LOW
            else _bracket(inputs, ref, own, s.base_year, observed, below=False)
            if v == HIGH
            else own
        )
        if abs(rates[v] - own) > 1e-9:
            widened.append(v)
    return Calibration(
        s.base_year,
        observed,
        assumed,
        rate,
        {y: float(fitted.loc[y, "population"]) for y in observed},
        rates,
        tuple(widened),
    )


def _past_rows(
    medium: pd.DataFrame, known: dict[int, float], flows: dict[str, dict[int, float]], latest: int
) -> pd.DataFrame:
    """Years up to ``latest``: the known (base and observed) populations, interpolated geometrically
    between them. Births and deaths are the observed figures, else the medium projection's scaled to
    the actual start-of-year population; migration is the residual, so the balance identity holds."""
    df = medium.set_index("year").loc[lambda d: d.index <= latest].copy()
    fit = df["population"].copy()
    years = list(df.index)
    k_years = sorted(known)
    df["population"] = [
        known[y] if y in known else float(np.exp(np.interp(y, k_years, np.log([known[k] for k in k_years]))))
        for y in years
    ]
    for prev, y in zip(years, years[1:]):
        ratio = df.loc[prev, "population"] / fit.loc[prev]
        for col in ("births", "deaths"):
            df.loc[y, col] = flows[col].get(y, df.loc[y, col] * ratio)
        df.loc[y, "migration"] = (
            df.loc[y, "population"] - df.loc[prev, "population"] - df.loc[y, "births"] + df.loc[y, "deaths"]
        )
    df["kind"] = [
        KIND_BASE if i == 0 else KIND_OBSERVED if y in known else KIND_INTERPOLATED for i, y in enumerate(years)
    ]
    return df.reset_index()


def _later_rows(df: pd.DataFrame, population: float, latest: int) -> pd.DataFrame:
    """One variant's years after ``latest``, scaled so that it starts from the observed ``population``."""
    scale = population / float(df.loc[df["year"] == latest, "population"].iloc[0])
    later = df[df["year"] > latest].copy()
    later[["population", "births", "deaths", "migration"]] *= scale
    later["kind"] = KIND_PROJECTED
    return later


def projection_with_calibration(
    scenario: Scenario,
    to_year: int | None = None,
    variants: tuple[str, ...] | list[str] = (MEDIUM,),
    calibrated: bool = True,
) -> tuple[ProjectionResult, Calibration | None]:
    """Project the scenario's resident population from its base year to ``to_year`` (default: target
    year), calibrated to its observed years (unless ``calibrated`` is False); the table's ``kind``
    column says whether each year is the base, observed, interpolated or projected. An engine error
    names the scenario it came from."""
    try:
        return _projection_with_calibration(scenario, to_year, variants, calibrated)
    except ProjectionError as exc:
        text = str(exc)
        if f"scenario '{scenario.id}'" in text:
            raise
        raise ProjectionError(f"scenario '{scenario.id}': population: {text}") from None


def _projection_with_calibration(
    scenario: Scenario, to_year: int | None, variants: tuple[str, ...] | list[str], calibrated: bool
) -> tuple[ProjectionResult, Calibration | None]:
    s = scenario
    to_year = s.target_year if to_year is None else int(to_year)
    ref, medium = reference_inputs(s.population, s.base_year), population_inputs(s.population, s.base_year)
    cal = calibrate(s, variants) if calibrated else None
    if cal is None:
        inputs = {v: population_inputs(s.population, s.base_year, v) for v in variants}
        result = project_population({_REFERENCE: ref, **inputs}, s.base_year, to_year, _REFERENCE, s.id)
        table = result.table[result.table["variant"] != _REFERENCE].reset_index(drop=True)
        table["kind"] = np.where(table["year"] == s.base_year, KIND_BASE, KIND_PROJECTED)
        return ProjectionResult(s.id, result.method, s.base_year, table), None
    latest = cal.latest_year
    fitted = project_population(
        {_REFERENCE: ref, MEDIUM: _with_migration(medium, cal.fitted_rate)},
        s.base_year,
        max(to_year, latest),
        _REFERENCE,
        s.id,
    )
    stated = {v: population_inputs(s.population, s.base_year, v) for v in dict.fromkeys([MEDIUM, *variants])}
    result = project_population({_REFERENCE: ref, **stated}, s.base_year, max(to_year, latest), _REFERENCE, s.id)
    runs = {v: df for v, df in result.table.groupby("variant", sort=False)}
    known = {s.base_year: s.population.base.value, **cal.observed}
    flows = {c: {y: q.value for y, q in s.observed_series(c).items() if y > s.base_year} for c in ("births", "deaths")}
    past = _past_rows(fitted.table[fitted.table["variant"] == MEDIUM], known, flows, latest)
    frames = [pd.concat([past.assign(variant=v), _later_rows(runs[v], known[latest], latest)]) for v in variants]
    table = pd.concat(frames, ignore_index=True)
    table = table[table["year"] <= to_year][[*result.table.columns, "kind"]].reset_index(drop=True)
    return ProjectionResult(s.id, result.method, s.base_year, table), cal


def project(
    scenario: Scenario,
    to_year: int | None = None,
    variants: tuple[str, ...] | list[str] = (MEDIUM,),
    calibrated: bool = True,
) -> ProjectionResult:
    """Project the scenario's resident population (see :func:`projection_with_calibration`)."""
    return projection_with_calibration(scenario, to_year, variants, calibrated)[0]
