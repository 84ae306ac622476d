"""One pipeline: projection -> optimizer <-> simulation (re-plan loop) -> (budget sweep) -> referral simulation.

When no plan meets every target, the pipeline keeps going with the best reachable plan
(:func:`scenarios.run.plan.plan_or_best_reachable`: max-attainment under the same
constraints, within the scenario's budget when it has one, else at least cost among equally
good plans) and records the diagnosis, and for each unmet target the earliest attainable year
and the least change that would meet it on time, so the report can say why and when.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from optimize.problem import AllocationProblem
from optimize.result import TABLES, AllocationPlan
from optimize.solve import Diagnosis, floor_cost
from optimize.sweep import budget_sweep
from scenarios.inputs.allocation import from_scenario
from scenarios.inputs.need import need_table, need_vs_plan
from scenarios.inputs.population import MEDIUM, variant_names
from scenarios.inputs.referral import CareYear, capacities_by_year, care_by_year
from scenarios.run.options import PipelineOptions, Progress, resolve_options
from scenarios.run.plan import plan_or_best_reachable
from scenarios.run.projection import Calibration, projection_with_calibration
from scenarios.run.rebase import plan_years, rebase
from scenarios.run.replan import ReplanResult, replan
from scenarios.run.simulation import SimulationRequest, simulate_scenario
from scenarios.run.uncertainty import UncertaintyOptions, UncertaintyResult, run_uncertainty
from scenarios.schema import Scenario
from sim.population import ProjectionResult
from sim.referral.experiment import SimulationResult


@dataclass(kw_only=True)
class PipelineResult:
    scenario: Scenario
    projection: ProjectionResult
    plan: AllocationPlan
    diagnosis: Diagnosis | None  # why no plan meets every target (optimize.solve.Diagnosis)
    sweep: pd.DataFrame | None
    simulation: SimulationResult | None
    options: PipelineOptions = field(default_factory=PipelineOptions)
    base_figures: pd.DataFrame | None = None  # re-based plans: each base figure, observed or projected
    calibration: Calibration | None = None
    outlook: pd.DataFrame | None = None  # earliest year and least change for each unmet target
    need: pd.DataFrame | None = None  # need, target and plan side by side (year, kind, tier)
    replan: ReplanResult | None = None
    care: pd.DataFrame | None = None  # tiered care by year (primary-care share, bypass) on the plan
    uncertainty: UncertaintyResult | None = None  # the short Monte Carlo of the plan
    problem: AllocationProblem | None = None  # the allocation problem the plan solves (after any re-plan)
    culprit: str | None = None  # the constraint family that keeps some target unmet (with the diagnosis)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every output table by name (tidy)."""
        out = {"population": self.projection.table}
        for name in TABLES:
            out[name] = getattr(self.plan, name)
        if self.outlook is not None and len(self.outlook):
            out["outlook"] = self.outlook
        if self.need is not None:
            out["need"] = self.need
        if self.sweep is not None:
            out["sweep"] = self.sweep
        if self.base_figures is not None:
            out["base_figures"] = self.base_figures
        if self.replan is not None:
            out["replan"] = self.replan.iterations
        if self.care is not None:
            out["tiered_care"] = self.care
        if self.simulation is not None:
            out["referral_runs"] = self.simulation.runs
            out["referral_summary"] = self.simulation.summary()
        if self.uncertainty is not None:
            out.update(self.uncertainty.tables())
        return out

    def demand_summary(self) -> dict:
        """Need beside target and plan in the target year, the re-plan loop and tiered care (JSON-ready)."""
        out: dict = {"basis": self.options.basis}
        Y = self.scenario.target_year
        if self.need is not None:
            last = self.need[(self.need["year"] == Y) & (self.need["tier"] == "all")]
            out["need_target_year"] = {
                r.kind: {"need": _num(r.need), "target": _num(r.target), "plan": _num(r.plan)}
                for r in last.itertuples()
            }
        if self.replan is not None:
            out["replan"] = {
                "iterations": self.replan.count,
                "converged": self.replan.converged,
                "stop": self.replan.stop,
                "overbuilt": [vars(f) for f in self.replan.flags],
            }
        if self.simulation is not None and self.care is not None:
            summ = self.simulation.summary().set_index(["year", "kpi"])["mean"]
            out["tiered_care"] = [
                {
                    "year": int(r.year),
                    "primary_first_share": r.primary_first_share,
                    "bypass_share": r.bypass_share,
                    "primary_share_simulated": _num(summ.get((r.year, "primary_share"))),
                    "in_area_rate_simulated": _num(summ.get((r.year, "in_area_rate"))),
                }
                for r in self.care.itertuples()
            ]
        return out

    def summary(self) -> dict:
        """Headline figures (JSON-ready)."""
        s, p = self.scenario, self.plan
        out = {
            "scenario": s.id,
            "region": s.region.name,
            "base_year": s.base_year,
            "target_year": s.target_year,
            "variant": self.options.variant,
            "population_base": s.population.base.value,
            "population_target_year": self.projection.population(s.target_year, self.options.variant),
            "plan_mode": p.mode,
            "plan_reached": self.diagnosis is None,  # False: no plan meets every target; the best reachable one
            "diagnosis": None if self.diagnosis is None else self.diagnosis.as_dict(),
            "total_cost_cny": p.total_cost,
            "present_value_cny": p.present_value,
            "discount_rate": p.discount_rate,
            "budget_cny": p.budget_total,
            "whole_units": p.integer,
            "rounding": p.rounding,
            "mip_gap": p.mip_gap,
            "all_targets_met": p.all_met,
            "attainment_score": p.attainment_score,
            "targets": [
                {
                    "kind": r.kind,
                    "target": r.expr,
                    "nature": r.nature,
                    "achieved": r.achieved_ratio,
                    "attainment": r.attainment,
                    "met": bool(r.met),
                    "measure": r.measure,
                }
                for r in p.attainment.itertuples()
            ],
            "outlook": [] if self.outlook is None else _records(self.outlook),
        }
        if self.base_figures is not None:
            out["base_figures"] = self.base_figures.to_dict(orient="records")
        if self.calibration is not None:
            c = self.calibration
            out["calibration"] = {
                "fitted_net_migration_rate": c.fitted_rate,
                "assumed_net_migration_rate": c.assumed_rate,
                "errors": c.errors,
                "rms_error": c.rms_error,
                "variant_rates": c.variant_rates,
            }
        if self.simulation is not None:
            summ = self.simulation.summary()
            last = summ[summ["year"] == summ["year"].max()].set_index("kpi")["mean"]
            out["referral_last_year"] = {
                k: (None if isinstance(v, float) and math.isnan(v) else float(v)) for k, v in last.items()
            }
        out["demand"] = self.demand_summary()
        if self.uncertainty is not None:
            out["uncertainty"] = self.uncertainty.summary()
        return out


def _records(df: pd.DataFrame) -> list[dict]:
    """A table as JSON-ready records (missing values as None)."""
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _target_year_simulator(s: Scenario, proj: ProjectionResult, o: PipelineOptions):
    """plan -> the target year's mean KPIs, simulated on the plan's beds and physicians."""

    def run(plan: AllocationPlan) -> dict[str, float]:
        request = SimulationRequest([s.target_year], o.replications, o.seed, o.flows_only, o.variant, o.workers)
        result, _ = simulate_scenario(s, request, proj, capacities_by_year(plan.stocks))
        return result.summary().set_index("kpi")["mean"].to_dict()

    return run


def _need_table(s: Scenario, proj: ProjectionResult, o: PipelineOptions, problem, plan) -> pd.DataFrame | None:
    if s.demand is None or s.referral is None or proj.method != "cohort-component":
        return None
    need = need_table(s, proj, o.variant)
    targets = problem.targets or from_scenario(s, proj, o.variant, basis="target").targets
    return need_vs_plan(need, plan.stocks, targets, proj.series(o.variant))


def run_pipeline(
    scenario: Scenario, options: PipelineOptions | None = None, progress: Progress | None = None
) -> PipelineResult:
    """Run projection, optimisation (re-planned against the simulated service standards), sweep and
    simulation for one scenario, reporting each stage's progress."""
    o = resolve_options(scenario, options)
    say = progress or (lambda _stage, _done, _total: None)
    s, base_figures = scenario, None
    years = plan_years(s, o.base_year, o.target_year)
    if years is not None:
        say("base year", 0, 1)
        s, base_figures = rebase(s, years, o.scenario_file)
        say("base year", 1, 1)
    say("projection", 0, 1)
    variants = variant_names(s, "all") if o.variant == MEDIUM else [o.variant]
    proj, cal = projection_with_calibration(s, o.project_to or s.target_year + 10, variants, o.calibrated)
    problem = from_scenario(s, proj, o.variant, o.budget, o.budget_per_year, o.basis)
    say("projection", 1, 1)
    say("optimisation", 0, 1)
    loop = None
    if o.replan and o.simulate and s.demand is not None and s.referral is not None:
        loop = replan(s, problem, o.mode, _target_year_simulator(s, proj, o), whole_units=s.plan.whole_units)
        outcome, problem = loop.outcome, loop.problem
    else:
        outcome = plan_or_best_reachable(problem, o.mode, s.plan.whole_units)
    plan = outcome.plan
    say("optimisation", 1, 1)
    sweep = None
    if o.sweep_steps >= 2 and problem.targets:
        say("budget sweep", 0, o.sweep_steps)
        low = max(0.0, floor_cost(problem))  # negative when tier shifts save running cost
        top = max(plan.total_cost * 1.25, low + 1.0)
        sweep = budget_sweep(
            problem, np.linspace(low, top, o.sweep_steps), progress=lambda i: say("budget sweep", i, o.sweep_steps)
        )
    uncertainty = None
    if o.uncertainty_draws > 0 and (problem.targets or problem.floors):
        say("uncertainty", 0, 1)
        uncertainty = run_uncertainty(
            s, problem, plan, UncertaintyOptions(o.uncertainty_draws, o.seed, solve=False, calibrated=o.calibrated)
        )
        say("uncertainty", 1, 1)
    sim_result, care = None, None
    if o.simulate and s.referral is not None:
        total, done = (s.target_year - s.base_year) * o.replications, [0]
        say("referral simulation", 0, total)

        def tick() -> None:
            done[0] += 1
            say("referral simulation", done[0], total)

        years = list(range(s.base_year + 1, s.target_year + 1))
        care_years = care_by_year(s, years, proj, capacities_by_year(plan.stocks), o.variant)
        sim_result = simulate_plan(s, proj, plan, o, progress=tick, care=care_years)
        care = pd.DataFrame([vars(c) for c in care_years])
    return PipelineResult(
        scenario=s,
        projection=proj,
        plan=plan,
        diagnosis=outcome.diagnosis,
        sweep=sweep,
        simulation=sim_result,
        options=o,
        base_figures=base_figures,
        calibration=cal,
        outlook=outcome.outlook,
        need=_need_table(s, proj, o, problem, plan),
        replan=loop,
        care=care,
        uncertainty=uncertainty,
        problem=problem,
        culprit=outcome.culprit,
    )


def simulate_plan(
    scenario: Scenario,
    projection: ProjectionResult,
    plan: AllocationPlan,
    options: PipelineOptions,
    progress: Callable[[], None] | None = None,
    care: list[CareYear] | None = None,
) -> SimulationResult:
    """Simulate the plan years with the plan's beds and physicians; ``progress`` is called once per
    (year, replication), i.e. (target year - base year) x replications times."""
    s, o = scenario, options
    request = SimulationRequest(
        list(range(s.base_year + 1, s.target_year + 1)), o.replications, o.seed, o.flows_only, o.variant, o.workers
    )
    return simulate_scenario(s, request, projection, capacities_by_year(plan.stocks), progress, care)[0]
