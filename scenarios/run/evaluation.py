"""Final (or mid-term) evaluation of a plan against what was observed (终期评估).

For each target: the observed ratio in the latest year the scenario observes that resource, against
the straight-line milestone path from the base-year ratio to the target (年度目标) and against the
target itself: ``achieved`` (the target is met already), ``on track`` (at or past the milestone of that
year) or ``behind``, with the gaps in beds or persons at that year's population. The population is
compared with what the scenario's assumed rates gave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimize.problem import is_met, milestone
from scenarios.run.projection import Calibration, project, projection_with_calibration
from scenarios.schema import UNIT_DIVISOR, Scenario

ACHIEVED, ON_TRACK, BEHIND, NOT_OBSERVED = "achieved", "on track", "behind", "not observed"
COLUMNS = [
    "kind",
    "expr",
    "nature",
    "unit",
    "units",
    "base_ratio",
    "target_ratio",
    "year",
    "population",
    "population_kind",
    "stock",
    "observed_ratio",
    "milestone_ratio",
    "status",
    "gap_to_milestone",
    "gap_to_target",
    "short_in_target_year",
    "reference",
]


def classify(sense: str, observed: float, milestone_ratio: float, target_ratio: float) -> str:
    """``achieved`` when the target is met, ``on track`` when the milestone is, else ``behind``.

    ``sense`` is ``floor`` (reach at least) or ``ceiling`` (stay at most).
    """
    return (
        ACHIEVED
        if is_met(sense, observed, target_ratio)
        else ON_TRACK
        if is_met(sense, observed, milestone_ratio)
        else BEHIND
    )


def gap_units(sense: str, observed: float, goal: float, population: float, divisor: float) -> float:
    """Beds or persons short of a floor (or above a ceiling) at ``population``; 0 when met."""
    diff = goal - observed if sense == "floor" else observed - goal
    return max(0.0, diff) * population / divisor


@dataclass(frozen=True)
class Evaluation:
    """The evaluation tables: ``targets`` (columns ``COLUMNS``) and ``population`` (observed against
    the scenario's assumed projection, persons)."""

    scenario: Scenario
    targets: pd.DataFrame
    population: pd.DataFrame
    calibration: Calibration | None


def _population_table(s: Scenario) -> pd.DataFrame:
    observed = s.observed_series("population")
    if not observed:
        return pd.DataFrame(columns=["year", "observed", "assumed", "difference", "reference"])
    assumed = project(s, max(max(observed), s.base_year + 1), calibrated=False).series()
    rows = [
        {
            "year": y,
            "observed": q.value,
            "assumed": float(assumed.get(y, np.nan)),
            "difference": float(assumed.get(y, np.nan)) / q.value - 1.0,
            "reference": q.citation,
        }
        for y, q in observed.items()
    ]
    return pd.DataFrame(rows)


def _row(s: Scenario, kind: str, pop: pd.Series, kinds: pd.Series) -> dict:
    res, target = s.resources[kind], s.resources[kind].target
    div, sense = UNIT_DIVISOR[res.unit], target.parsed.sense
    base = s.baseline_ratio(kind)
    goal = target.parsed.resolve(base)
    row = {
        "kind": kind,
        "expr": target.expr,
        "nature": target.nature,
        "unit": res.unit,
        "units": "beds" if kind == "beds" else "persons",
        "base_ratio": base,
        "target_ratio": goal,
        "status": NOT_OBSERVED,
    }
    observed = s.observed_series(kind)
    if not observed:
        return row
    year, fig = max(observed.items())
    ratio = fig.value / pop[year] * div
    mile = milestone(base, goal, s.base_year, s.target_year, year)
    row.update(
        year=year,
        population=pop[year],
        population_kind=kinds[year],
        stock=fig.value,
        observed_ratio=ratio,
        milestone_ratio=mile,
        status=classify(sense, ratio, mile, goal),
        gap_to_milestone=gap_units(sense, ratio, mile, pop[year], div),
        gap_to_target=gap_units(sense, ratio, goal, pop[year], div),
        short_in_target_year=gap_units(sense, fig.value / pop[s.target_year] * div, goal, pop[s.target_year], div),
        reference=fig.citation,
    )
    return row


def evaluate(scenario: Scenario) -> Evaluation:
    """Evaluate every target of ``scenario`` against its latest observed year (ratios in each
    resource's unit; the population of that year is the observed one, else the calibrated projection)."""
    s = scenario
    proj, cal = projection_with_calibration(s, max([s.target_year, *s.observed]))
    table = proj.table.set_index("year")
    rows = [_row(s, k, table["population"], table["kind"]) for k, r in s.resources.items() if r.target is not None]
    targets = pd.DataFrame(rows).reindex(columns=COLUMNS)
    return Evaluation(s, targets, _population_table(s), cal)
