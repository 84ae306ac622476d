"""Plausibility bounds of every number in a scenario: one table, each bound with its reason.

The schema (:mod:`scenarios.schema`) says what a field *is* (a share lies in [0, 1]); this
table says what a field can plausibly *be* for a Chinese district, county, city or province,
so a typo such as a population of 1e12 or a ratio of 1e308 is refused at validation instead
of crashing the optimizer or the simulation later.

``BOUNDS`` maps a field pattern (dotted path, ``*`` matches any part, quantities' ``.value``
left out) to ``(low, high, reason)``; the first matching row applies. A number that matches
no row must still lie within :data:`ANY_NUMBER`. Adding a field to the schema: add its row here.
Units are those of the schema: rates per 1,000 residents per year, ratios in the resource's own
unit (per 1,000 / 10,000 / 100,000 residents), money in CNY, times in days.
"""

from __future__ import annotations

import math
from fnmatch import fnmatchcase
from typing import Any, Iterator, NamedTuple

from scenarios.targets import parse_target


class Bound(NamedTuple):
    low: float
    high: float
    reason: str


_RATE = "per 1,000 residents per year"
_DAYS = "a stay, wait or tolerance longer than a year is not a patient flow"
_SHARE = "a share of a whole"

BOUNDS: dict[str, Bound] = {
    # -- years ---------------------------------------------------------------------------------
    "base_year": Bound(1950, 2100, "calendar year of a plan's baseline"),
    "target_year": Bound(1950, 2100, "calendar year of a plan's target"),
    "*.path.year": Bound(1950, 2100, "calendar year of a rate's anchor"),
    "resources.*.year": Bound(1950, 2100, "calendar year of a target"),
    # -- population ----------------------------------------------------------------------------
    "population.base": Bound(
        1_000,
        130e6,
        "persons; the largest province, Guangdong, had 126.0 M residents "
        "(广东省第七次全国人口普查公报, 2021); a district or county has at least a few thousand",
    ),
    "population*.birth_rate": Bound(
        1,
        60,
        f"{_RATE}; the highest national crude birth rates are below 50 and the "
        "lowest Chinese province's about 3 (Heilongjiang, 2022): below 1 is a "
        "per-mille typed as a fraction (11.79 per 1,000 as 0.01179)",
    ),
    "population*.death_rate": Bound(
        0.5,
        60,
        f"{_RATE}; crude death rates above 20 occur only in crises and the "
        "lowest anywhere (young migrant cities, the Gulf states) are above 1: below 0.5 is "
        "a per-mille typed as a fraction (5.28 per 1,000 as 0.00528)",
    ),
    "population*.net_migration_rate": Bound(
        -200, 200, f"{_RATE}; even the fastest-growing new districts gain well under 20% a year"
    ),
    "population.share_60plus": Bound(0, 1, _SHARE),
    "population.share_65plus": Bound(0, 1, _SHARE),
    "population.age_structure.male.*": Bound(0, 130e6, "persons in an age group (see population.base)"),
    "population.age_structure.female.*": Bound(0, 130e6, "persons in an age group (see population.base)"),
    "population.age_structure.survival_*.*": Bound(0, 1, "a 5-year survival ratio"),
    "population.age_structure.birth_survival_*": Bound(0, 1, "a survival ratio of births"),
    "population.age_structure.fertility.*": Bound(
        0, 0.5, "births per woman per year; the highest age-specific rates observed anywhere are about 0.35"
    ),
    "population.age_structure.sex_ratio_at_birth": Bound(
        90, 130, "male births per 100 female; China's peaked near 121 in the 2000s"
    ),
    "population.age_structure.net_migrants_*.*": Bound(-130e6, 130e6, "persons per 5 years (see population.base)"),
    # -- resources and targets ------------------------------------------------------------------
    "resources.*.stock": Bound(0, 1e7, "beds or staff; 10 M is two thirds of China's whole health workforce"),
    "resources.*.ratio": Bound(
        0,
        1_000,
        "per 1,000 / 10,000 / 100,000 residents; the densest systems have "
        "about 15 beds and 8 physicians per 1,000 residents",
    ),
    "resources.*.primary_share": Bound(0, 1, _SHARE),
    "resources.*.private.share": Bound(0, 1, "the privately run share of hospital capacity"),
    "resources.*.expr": Bound(0, 1_000, "a per-capita target, same scale as resources.*.ratio"),
    "resources.*.expr%": Bound(
        -100,
        1_000,
        "a relative target in %: no resource can fall below zero, and "
        "growing one tenfold in a five-year plan is beyond any build-out",
    ),
    "primary_share_defaults.*": Bound(0, 1, _SHARE),
    # -- costs (CNY at base-year prices) ---------------------------------------------------------
    "costs.*.capital": Bound(
        0, 1e7, "CNY per unit added; a tertiary-hospital bed with its building costs about CNY 1-2 M"
    ),
    "costs.*.annual": Bound(0, 5e6, "CNY per unit-year; a senior specialist's pay and on-costs are well below CNY 2 M"),
    "costs.*.primary_factor": Bound(0.01, 100, "primary-care cost relative to hospital"),
    "costs.*.private_subsidy": Bound(0, 1e7, "public CNY per privately run unit added; see costs.*.capital"),
    # -- constraints ---------------------------------------------------------------------------
    "constraints.attrition.*": Bound(
        0, 0.5, "share of the stock lost per year; losing half every year is not a workforce"
    ),
    "constraints.max_additions_share.*": Bound(0, 5, "units added in one year per base-year unit"),
    "constraints.nurse_physician_ratio_min": Bound(0, 10, "nurses per physician; rich systems have about 3-4"),
    "constraints.hospital_nurses_per_bed_min": Bound(0, 5, "nurses per hospital bed; Chinese standards ask 0.4-0.8"),
    "constraints.gp_primary_share_min": Bound(0, 1, _SHARE),
    "constraints.primary_share_shift_max": Bound(0, 1, _SHARE),
    "constraints.private_max_additions_share.*": Bound(
        0, 5, "private units added in one year per base-year private unit"
    ),
    "constraints.capital_share_max": Bound(0, 1, "a year's share of the plan's capital spending"),
    # -- plan ----------------------------------------------------------------------------------
    "plan.budget_total": Bound(0, 1e13, "CNY; China's whole health expenditure was CNY 7.2 trillion in 2020"),
    "plan.budget_per_year": Bound(0, 1e13, "CNY; see plan.budget_total"),
    "plan.weights.*": Bound(0, 1_000, "relative weights of shortfalls"),
    "plan.discount_rate": Bound(0, 0.5, "a yearly discount rate; public appraisal uses a few per cent (China: 8%)"),
    # -- referral simulation --------------------------------------------------------------------
    "referral.alliances.*.members": Bound(1, 1_000, "health centres in one alliance"),
    "referral.alliances.*.population_share": Bound(0, 1, _SHARE),
    "referral.visits_per_capita": Bound(
        0, 30, "outpatient visits per resident per year; the highest national figures (Japan, Korea) are below 20"
    ),
    "referral.admissions_per_capita": Bound(
        0, 1, "admissions per resident per year; the highest national figures are about 0.25"
    ),
    "referral.alos_hospital_days": Bound(0, 365, _DAYS),
    "referral.alos_primary_days": Bound(0, 365, _DAYS),
    "referral.recovery_days": Bound(0, 365, _DAYS),
    "referral.wait_tolerance_days": Bound(0, 365, _DAYS),
    "referral.bed_wait_tolerance_days": Bound(0, 365, _DAYS),
    "referral.congestion_wait_days": Bound(0, 365, _DAYS),
    "referral.los_cv": Bound(0, 10, "coefficient of variation of a length of stay"),
    "referral.consults_per_clinician_day": Bound(0, 200, "consults one clinician gives in a working day"),
    "referral.congestion_uplift": Bound(0, 100, "multiplier of a probability"),
    "referral.severe_multiplier": Bound(0, 100, "multiplier of a probability"),
    "referral.*": Bound(0, 1, "a probability or a share"),
    "demand.admissions_ratio_65plus": Bound(1, 10, "65+ use over the all-ages average (NHSS 2018: 1.8)"),
    "demand.visits_ratio_65plus": Bound(1, 10, "65+ use over the all-ages average (NHSS 2018: 1.7)"),
    "demand.alos_hospital_target_days": Bound(0, 365, _DAYS),
    "demand.clinical_minutes_per_year": Bound(
        1_000, 200_000, "minutes of patient care a year; 365 days x 8 hours is 175,200"
    ),
    "demand.consult_minutes_*": Bound(0, 240, "minutes of a physician per outpatient consult"),
    "demand.bed_day_minutes_*": Bound(0, 1_440, "minutes of a physician per inpatient day (a day has 1,440)"),
    "demand.residents_per_gp": Bound(1, 100_000, "residents signed per family-doctor team leader"),
    "demand.*_elasticity": Bound(0, 20, "response of a share to capacity (logit or power)"),
    "demand.standards.bed_wait_p95_max_days": Bound(0, 365, _DAYS),
    "demand.standards.max_iterations": Bound(1, 50, "re-plans before the loop stops"),
    "demand.*": Bound(0, 1, f"{_SHARE} (use shares, occupancies)"),
    # -- observed years and the next plan (issue 11) -------------------------------------------------
    "observed.*.population": Bound(1_000, 130e6, "persons; see population.base"),
    "observed.*.births": Bound(0, 8e6, "persons a year: 60 per 1,000 of the largest province"),
    "observed.*.deaths": Bound(0, 8e6, "persons a year: 60 per 1,000 of the largest province"),
    "observed.*.visits": Bound(0, 4e9, "visits a year: 30 per resident of the largest province"),
    "observed.*.discharges": Bound(0, 130e6, "discharges a year: one per resident of the largest province"),
    "observed.*.resources.*": Bound(0, 1e7, "beds or staff; see resources.*.stock"),
    "next_plan.*year": Bound(1950, 2100, "calendar year of a plan"),
    "next_plan.targets.*.expr": Bound(0, 1_000, "a per-capita target, same scale as resources.*.ratio"),
    "next_plan.targets.*.expr%": Bound(-100, 1_000, "a relative target in %; see resources.*.expr%"),
    # -- Monte Carlo draws (issue 14) ------------------------------------------------------------
    "uncertainty.*_rate.low": Bound(
        -60, 0, "per 1,000 a year below the medium rate (5th percentile); see population rates"
    ),
    "uncertainty.*_rate.high": Bound(
        0, 60, "per 1,000 a year above the medium rate (95th percentile); see population rates"
    ),
    "uncertainty.rate_correlation": Bound(0, 1, "correlation of the rate shocks"),
    "uncertainty.capital_cost": Bound(
        0, 5, "95th percentile of a cost factor is 1 + value; a sixfold overrun is not a plan"
    ),
    "uncertainty.running_cost": Bound(
        0, 5, "95th percentile of a cost factor is 1 + value; see uncertainty.capital_cost"
    ),
    "uncertainty.demand_rate": Bound(
        0, 5, "95th percentile of the use-rate factor is 1 + value; see uncertainty.capital_cost"
    ),
}

ANY_NUMBER = Bound(-1e13, 1e13, "no quantity in a regional health plan is larger (budgets included)")


def bound_for(field: str) -> tuple[str, Bound]:
    """The first row of :data:`BOUNDS` whose pattern matches ``field`` (``('', ANY_NUMBER)`` when none)."""
    for pattern, bound in BOUNDS.items():
        if fnmatchcase(field, pattern):
            return pattern, bound
    return "", ANY_NUMBER


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def numbers(data: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str, float]]:
    """Every number in scenario data: ``(field as shown, field as looked up, value)``.

    A quantity's ``value`` and its ``path`` anchors are looked up as the quantity itself;
    ``path`` years as ``<field>.path.year``; a target expression by its parsed value
    (``<field>.expr``, or ``<field>.expr%`` for a relative one, in %).
    """
    shown = ".".join(path)
    if isinstance(data, dict):
        for key, value in data.items():
            key = str(key) if str(key).isprintable() and str(key) else repr(str(key))  # one line
            if key == "value" and _is_number(value):
                yield f"{shown}.value", shown, value
            elif key == "path" and isinstance(value, dict):
                for year, rate in value.items():
                    if str(year).lstrip("-").isdigit():
                        yield f"{shown}.path.{year}", f"{shown}.path.year", int(year)
                    if _is_number(rate):
                        yield f"{shown}.path.{year}", shown, rate
            elif key == "expr" and isinstance(value, str):
                try:
                    target = parse_target(value)
                except ValueError:
                    continue  # the schema reports it
                if target.relative:
                    yield f"{shown}.expr", f"{shown}.expr%", target.value * 100
                else:
                    yield f"{shown}.expr", f"{shown}.expr", target.value
            else:
                yield from numbers(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from numbers(value, (*path, str(i)))
    elif _is_number(data):
        yield shown, shown, data


def fmt(x: float) -> str:
    """A bound or a value as people read it: 1,000 / 0.25 / 130,000,000 / 1e+13 / 1e+308."""
    if abs(x) < 1e9 and float(x) == int(x):
        return f"{int(x):,}"
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:.3g}"


def outside(field: str, value: float, what: str | None = None) -> str | None:
    """The message for ``value`` of ``field`` when it is not finite or outside its bound, else None."""
    if not math.isfinite(value):
        return f"expected a finite number, got {value}"
    _, bound = bound_for(field)
    if bound.low <= value <= bound.high:
        return None
    return f"{fmt(value)} is outside the plausible range {fmt(bound.low)} to {fmt(bound.high)} ({what or bound.reason})"


def check(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for every number in ``data`` that is not finite or outside its plausible range."""
    return [(shown, msg) for shown, lookup, value in numbers(data) if (msg := outside(lookup, value))]
