"""A plan from any base year to any target year (e.g. the 15th plan, 2025 -> 2030).

The base-year figures are the published ones where the scenario observes them
(``[observed.<year>]``), else derived: the population from the calibrated projection, each
resource stock from the scenario's own plan (its stock in that year, e.g. the 14th plan's result in
2025). :func:`rebase` returns the re-based scenario and a table saying which base figure is which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scenarios.inputs.population import MEDIUM, rate_path
from scenarios.loader import ScenarioError, base_year_problems, validate
from scenarios.run.options import resolve_options
from scenarios.run.plan import PlanOutcome, plan_or_best_reachable, problem_for
from scenarios.run.projection import projection_with_calibration
from scenarios.schema import UNIT_DIVISOR, Rate, Scenario, TargetSpec

OBSERVED, PROJECTED, BASE = "observed", "projected", "base"
BASE_COLUMNS = ["item", "year", "value", "unit", "ratio", "kind", "basis"]


@dataclass(frozen=True)
class PlanYears:
    """The years and targets a run plans for; ``targets`` None keeps the scenario's own."""

    base_year: int
    target_year: int
    targets: dict[str, TargetSpec] | None = None
    name: str | None = None


def plan_years(s: Scenario, base_year: int | None = None, target_year: int | None = None) -> PlanYears | None:
    """What ``--base``/``--target`` ask for; a scenario with ``[next_plan]`` runs its next plan.

    None when the run is the scenario's own plan, unchanged.
    """
    nxt = s.next_plan
    if nxt is not None:
        return PlanYears(base_year or nxt.base_year, target_year or nxt.target_year, dict(nxt.targets), nxt.name)
    if base_year is None and target_year is None:
        return None
    return PlanYears(base_year or s.base_year, target_year or s.target_year)


def _rate_at(rate: Rate, s: Scenario, year: int, why: str | None = None, value: float | None = None) -> dict[str, Any]:
    """A rate re-based to ``year``: its value there on the path (or ``value``), later anchors kept."""
    out = rate.model_dump(exclude_none=True)
    out["value"] = float(rate_path(rate, s.base_year).at([year])[0]) if value is None else value
    out["path"] = {y: v for y, v in rate.path.items() if int(y) > year}
    if why:
        out = {"value": out["value"], "assumption": why}
    elif year != s.base_year and rate.path:
        out["note"] = f"derived: the rate in {year} on its path from {s.base_year}"
    return out


def _population(s: Scenario, year: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The population block re-based to ``year`` and its row of the base-figures table."""
    variants = [MEDIUM, *s.population.variants]
    proj, cal = projection_with_calibration(s, max(year, s.base_year + 1), variants)
    pop = s.population.model_dump(exclude_none=True)
    obs = s.observed.get(year)
    value = proj.population(year)
    if obs is not None and obs.population is not None:
        pop["base"], kind, basis = obs.population.model_dump(exclude_none=True), OBSERVED, obs.population.citation
    elif year == s.base_year:
        kind, basis = BASE, s.population.base.citation
    else:
        how = (
            f"calibrated projection from the observed {cal.latest_year} population"
            if cal
            else f"projection from {s.base_year} with the scenario's rates"
        )
        kind, basis = PROJECTED, how
        pop["base"] = {"value": value, "assumption": f"projected: {how}"}
    pop.pop("age_structure", None)  # the age table is the scenario base year's
    fitted = (
        (
            lambda v: (
                f"calibrated: net migration fitted to the observed populations of "
                f"{', '.join(map(str, cal.observed))} ({v})"
            )
        )
        if cal
        else None
    )
    for name in ("birth_rate", "death_rate", "net_migration_rate"):
        rate = getattr(s.population, name)
        why = fitted(MEDIUM) if fitted and name == "net_migration_rate" else None
        pop[name] = _rate_at(rate, s, year, why, cal.fitted_rate if why else None)
    for v, over in s.population.variants.items():
        for name in ("birth_rate", "death_rate"):
            if getattr(over, name) is not None:
                pop["variants"][v][name] = _rate_at(getattr(over, name), s, year)
        if cal is not None:
            pop["variants"][v]["net_migration_rate"] = {"value": cal.variant_rates[v], "assumption": fitted(v)}
        elif over.net_migration_rate is not None:
            pop["variants"][v]["net_migration_rate"] = _rate_at(over.net_migration_rate, s, year)
    return pop, {"item": "population", "year": year, "value": value, "unit": "persons", "kind": kind, "basis": basis}


def _resources(
    s: Scenario, year: int, population: float, targets: dict[str, TargetSpec] | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Resource blocks re-based to ``year`` (stock, primary share, targets) and their table rows."""
    obs = s.observed.get(year)
    outcome: PlanOutcome | None = None
    out, rows = {}, []
    for kind, res in s.resources.items():
        block = res.model_dump(exclude_none=True)
        block.pop("ratio", None)
        block.pop("alternative_targets", None)
        fig = obs.resources.get(kind) if obs is not None else None
        if fig is not None:
            block["stock"], value, flag, basis = fig.model_dump(exclude_none=True), fig.value, OBSERVED, fig.citation
        elif year == s.base_year:
            value, flag = s.baseline_stock(kind), BASE
            basis = res.stock.citation if res.stock is not None else res.ratio.citation
            block["stock"] = {"value": value, "assumption": f"the base-year stock ({basis})"}
        else:
            if outcome is None:
                o = resolve_options(s)
                outcome = plan_or_best_reachable(
                    problem_for(s, o.variant, o.budget, o.budget_per_year, o.basis), o.mode
                )
            st = outcome.plan.stocks
            tiers = st[(st["kind"] == kind) & (st["year"] == year)].set_index("tier")["stock"]
            value, flag = float(tiers.sum()), PROJECTED
            how = "best reachable plan: not every target can be met" if outcome.diagnosis else "least-cost plan"
            basis = f"the {s.base_year + 1}-{s.target_year} plan's stock in {year} ({how}), if it is carried out"
            block["stock"] = {"value": value, "assumption": f"projected: {basis}"}
            block["primary_share"] = {
                "value": float(tiers.get("primary", 0.0)) / value if value else 0.0,
                "assumption": f"the {s.base_year + 1}-{s.target_year} plan's primary-care share in {year}",
            }
            if "private" in block:  # privately run capacity (社会办医) as the plan leaves it
                private = st[(st["kind"] == kind) & (st["year"] == year) & (st["ownership"] == "private")][
                    "stock"
                ].sum()
                block["private"] = {
                    **{k: v for k, v in block["private"].items() if k == "target"},
                    "stock": {"value": float(private), "assumption": f"projected: {basis}"},
                }
        block.pop("target", None)
        target = targets.get(kind) if targets is not None else _own_target(s, kind)
        if target is not None:
            block["target"] = target.model_dump(exclude_none=True)
        out[kind] = block
        rows.append(
            {
                "item": kind,
                "year": year,
                "value": value,
                "unit": "beds" if kind == "beds" else "persons",
                "ratio": value / population * UNIT_DIVISOR[res.unit],
                "kind": flag,
                "basis": basis,
            }
        )
    return out, rows


def _own_target(s: Scenario, kind: str) -> TargetSpec | None:
    """The scenario's own target, a relative one (``+30%``) resolved against its own base ratio."""
    t = s.resources[kind].target
    if t is None or not t.parsed.relative:
        return t
    goal = t.parsed.resolve(s.baseline_ratio(kind))
    op = ">=" if t.parsed.sense == "floor" else "<="
    return t.model_copy(
        update={
            "expr": f"{op}{goal:.4g}",
            "note": f"derived: '{t.expr}' of the {s.base_year} ratio {s.baseline_ratio(kind):.4g}",
        }
    )


def rebase(s: Scenario, years: PlanYears, file: str | Path | None = None) -> tuple[Scenario, pd.DataFrame]:
    """The scenario re-based to ``years`` and its base-figures table (columns ``BASE_COLUMNS``).

    Errors name ``file`` (default: the scenario id) and the option or field at fault.
    """
    file = str(file or s.id)
    b, t = years.base_year, years.target_year
    if t <= b:
        raise ScenarioError(file, [("--target", f"target year {t} must be after the base year {b}")])
    problems = base_year_problems(s, b, "--base")
    if problems:
        raise ScenarioError(file, problems)
    pop, pop_row = _population(s, b)
    resources, rows = _resources(s, b, pop_row["value"], years.targets)
    data = s.model_dump(exclude_none=True)
    data.update(
        base_year=b,
        target_year=t,
        population=pop,
        resources=resources,
        observed={y: o for y, o in data.get("observed", {}).items() if y >= b},
    )
    data.pop("next_plan", None)
    if years.name:
        data["description"] = f"{years.name} ({b + 1}-{t}) of {s.id}"
    rebased = validate(data, file)
    return rebased, pd.DataFrame([pop_row, *rows], columns=BASE_COLUMNS)
