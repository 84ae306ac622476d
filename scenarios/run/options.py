"""A run's options, resolved against its scenario once: budget, per-year budget, mode, basis and language.

A missing budget means the same to ``optimize``, ``run``, the workbench and a batch: the scenario's
``plan.budget_total`` (and ``plan.budget_per_year``), and when the scenario has none, no cap. Min-cost then
plans without one; max-attainment without a budget is refused with the optimizer's own message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from optimize.solve import check_mode
from scenarios.inputs.population import MEDIUM
from scenarios.labels import check_lang
from scenarios.schema import Scenario
from sim.referral.experiment import DEFAULT_SEED


@dataclass(frozen=True)
class PipelineOptions:
    """What a run is asked to do. Fields left None take the scenario's value when :func:`resolve_options` resolves
    them, once, at the edge (CLI, workbench, batch); a resolved options object is what every stage reads."""

    variant: str = MEDIUM
    budget: float | None = None  # CNY over the plan period; default the scenario's plan.budget_total
    budget_per_year: float | None = None  # CNY a year; default the scenario's plan.budget_per_year
    mode: str | None = None  # default the scenario's plan.mode
    sweep_steps: int = 6
    replications: int = 3
    seed: int = DEFAULT_SEED
    simulate: bool = True
    flows_only: bool | None = (
        None  # None: every consult where it fits the time budget; True: admissions and referrals only
    )
    workers: int | None = None  # local processes for the simulation's runs (None: the cores)
    project_to: int | None = None  # default target year + 10
    base_year: int | None = None  # plan from this year (default: the scenario's, or its next plan's)
    target_year: int | None = None  # plan to this year (default: the scenario's, or its next plan's)
    scenario_file: str | None = None  # named in errors about the base year
    lang: str | None = None  # zh or en for reports and workbooks; default the scenario's report.lang
    calibrated: bool = True  # fit net migration to the observed years (False: the scenario's own rates)
    basis: str | None = None  # target | need | both; default the scenario's plan.basis
    replan: bool = True  # plan -> simulate -> re-plan to the service standards (needs [demand] and simulate)
    uncertainty_draws: int = 200  # a short Monte Carlo of the plan (no per-draw solves); 0: none
    budget_source: str | None = None  # resolved: "option", "scenario" or "none" (no plan budget: no cap)
    resolved: bool = False  # True once :func:`resolve_options` has filled every scenario default


Progress = Callable[[str, int, int], None]
"""Progress callback: (stage, units done, units in the stage); a stage starts at 0 and ends at its total."""


def resolve_options(scenario: Scenario, options: PipelineOptions | None = None) -> PipelineOptions:
    """``options`` with every scenario default filled in (idempotent); raises :class:`OptimizeError` for
    max-attainment without a budget, as ``optimize`` does."""
    o = options or PipelineOptions()
    if o.resolved:
        return o
    plan = scenario.plan
    if o.budget is not None:
        budget, source = o.budget, "option"
    elif plan.budget_total is not None:
        budget, source = plan.budget_total.value, "scenario"
    else:
        budget, source = None, "none"
    per_year = (
        o.budget_per_year
        if o.budget_per_year is not None
        else (plan.budget_per_year.value if plan.budget_per_year is not None else None)
    )
    mode = o.mode or plan.mode
    check_mode(mode, budget is not None)
    return replace(
        o,
        budget=budget,
        budget_per_year=per_year,
        budget_source=source,
        mode=mode,
        basis=o.basis or plan.basis,
        lang=check_lang(o.lang or scenario.report.lang),
        resolved=True,
    )
