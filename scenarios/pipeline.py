"""One pipeline: projection -> optimizer -> (budget sweep) -> referral simulation on the plan.

When no plan meets every target (min-cost is infeasible), the pipeline keeps going with the
best reachable plan: max-attainment under the same constraints with an unlimited budget
(cost is the tie-break), and records the diagnosis so the report can say why.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from optimize.problem import from_scenario
from optimize.result import AllocationPlan
from optimize.solve import InfeasiblePlan, floor_cost, solve
from optimize.sweep import budget_sweep
from scenarios.files import atomic_write
from scenarios.schema import Scenario
from sim.population import ProjectionResult, project
from sim.referral.experiment import SimulationResult, capacities_by_year, networks_for_years, simulate

UNLIMITED = 1e15  # CNY: a budget that never binds


@dataclass
class PipelineOptions:
    variant: str = "medium"
    budget: float | None = None  # CNY; default the scenario's plan.budget_total
    mode: str | None = None  # default the scenario's plan.mode
    sweep_steps: int = 6
    replications: int = 3
    seed: int = 12345
    simulate: bool = True
    flows_only: bool = True  # simulate admissions and referrals only (fast); False: every consult
    project_to: int | None = None  # default target year + 10


@dataclass
class PipelineResult:
    scenario: Scenario
    projection: ProjectionResult
    plan: AllocationPlan
    plan_note: str
    diagnosis: str | None
    sweep: pd.DataFrame | None
    simulation: SimulationResult | None
    options: PipelineOptions = field(default_factory=PipelineOptions)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every output table by name (tidy)."""
        out = {"population": self.projection.table}
        for name in ("additions", "stocks", "ratios", "costs", "attainment", "duals"):
            out[name] = getattr(self.plan, name)
        if self.sweep is not None:
            out["sweep"] = self.sweep
        if self.simulation is not None:
            out["referral_runs"] = self.simulation.runs
            out["referral_summary"] = self.simulation.summary()
        return out

    def summary(self) -> dict:
        """Headline figures (JSON-ready)."""
        s, p = self.scenario, self.plan
        att = p.attainment
        w = att["weight"]  # the scenario's plan.weights, as the optimizer used them
        score = float((att["attainment"] * w).sum() / w.sum()) if len(att) and w.sum() > 0 else 1.0
        out = {
            "scenario": s.id,
            "region": s.region.name,
            "base_year": s.base_year,
            "target_year": s.target_year,
            "variant": self.options.variant,
            "population_base": s.population.base.value,
            "population_target_year": self.projection.population(s.target_year, self.options.variant),
            "plan_mode": p.mode,
            "plan_note": self.plan_note,
            "diagnosis": self.diagnosis,
            "total_cost_cny": p.total_cost,
            "budget_cny": p.budget_total if p.budget_total and p.budget_total < UNLIMITED else None,
            "all_targets_met": p.all_met,
            "attainment_score": score,
            "targets": [
                {"kind": r.kind, "target": r.expr, "nature": r.nature, "achieved": r.achieved_ratio,
                 "attainment": r.attainment, "met": bool(r.met)} for r in att.itertuples()
            ],
        }
        if self.simulation is not None:
            summ = self.simulation.summary()
            last = summ[summ["year"] == summ["year"].max()].set_index("kpi")["mean"]
            out["referral_last_year"] = {k: (None if isinstance(v, float) and math.isnan(v) else float(v))
                                         for k, v in last.items()}
        return out


def run_pipeline(scenario: Scenario, options: PipelineOptions | None = None,
                 progress: Callable[[str], None] | None = None) -> PipelineResult:
    """Run projection, optimisation, sweep and simulation for one scenario."""
    o = options or PipelineOptions()
    say = progress or (lambda _msg: None)
    s = scenario
    say("projection")
    variants = ["medium", *s.population.variants] if o.variant == "medium" else [o.variant]
    proj = project(s, o.project_to or s.target_year + 10, variants)
    budget = o.budget if o.budget is not None else (s.plan.budget_total.value if s.plan.budget_total else None)
    problem = from_scenario(s, proj, o.variant, budget)
    mode = o.mode or s.plan.mode
    say("optimisation")
    diagnosis = None
    if mode == "max-attainment" and budget is None:
        mode = "min-cost"
    try:
        plan = solve(problem, mode=mode)
        note = f"{mode} plan" + (f" within a budget of CNY {budget:,.0f}" if budget is not None else "")
    except InfeasiblePlan as exc:
        diagnosis = str(exc)
        plan = solve(problem.with_budget(budget if budget is not None else UNLIMITED), mode="max-attainment")
        note = ("no plan meets every target; this is the best reachable plan under the constraints "
                + (f"and the budget of CNY {budget:,.0f}" if budget is not None else "at least cost"))
    sweep = None
    if o.sweep_steps >= 2 and problem.targets:
        say("budget sweep")
        low = max(0.0, floor_cost(problem))  # negative when tier shifts save running cost
        top = max(plan.total_cost * 1.25, low + 1.0)
        sweep = budget_sweep(problem, np.linspace(low, top, o.sweep_steps))
    sim_result = None
    if o.simulate and s.referral is not None:
        say("referral simulation")
        years = list(range(s.base_year + 1, s.target_year + 1))
        nets = networks_for_years(s, years, proj, capacities_by_year(plan.stocks), o.variant)
        sim_result = simulate(nets, o.replications, o.seed, flows_only=o.flows_only)
    return PipelineResult(s, proj, plan, note, diagnosis, sweep, sim_result, o)


def write_outputs(result: PipelineResult, out_dir: str | Path) -> list[Path]:
    """Write CSV tables, summary.json, an Excel workbook and the HTML report, each atomically."""
    from scenarios.report import write_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = result.tables()
    for name, df in tables.items():
        written.append(atomic_write(out / f"{name}.csv", lambda p, df=df: df.to_csv(p, index=False)))
    written.append(atomic_write(out / "summary.json", lambda p: p.write_text(
        json.dumps(result.summary(), ensure_ascii=False, indent=1, default=float), encoding="utf-8")))

    def excel(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as xl:
            for name, df in tables.items():
                df.to_excel(xl, sheet_name=name[:31], index=False)

    written.append(atomic_write(out / "results.xlsx", excel))
    written.append(atomic_write(out / "report.html", lambda p: write_report(result, p)))
    return written
