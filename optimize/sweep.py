"""Budget sweeps: attainment of every target against the plan-period budget (CNY)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from optimize.model import ModelOptions, build_model
from optimize.problem import AllocationProblem
from optimize.result import extract_plan
from optimize.solve import OptimizeError, run_model, solved


def budget_sweep(p: AllocationProblem, budgets: list[float] | np.ndarray,
                 progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Max-attainment plans at increasing budgets; one row per (budget, target).

    A budget below the cost of keeping the base-year stock has no plan: its rows have
    ``feasible`` False and no attainment. Budgets are solved in increasing order and no target's shortfall may grow from one
    budget to the next (the previous plan stays feasible, so this costs no attainment
    overall); every target's curve is therefore monotone in the budget.
    Columns: budget_cny, region, kind, expr, nature, target_ratio, achieved_ratio,
    attainment, shortfall_ratio, met, total_cost_cny, score (the plan's weighted attainment score, 0-1).
    ``progress(n)`` is called after the n-th budget is solved.
    """
    if not p.targets:
        raise OptimizeError("a budget sweep needs at least one resource target")
    budgets = sorted(float(b) for b in budgets)
    if budgets[0] < 0:
        raise OptimizeError(f"budgets must be >= 0 CNY, got {budgets[0]:,.0f}")
    caps: tuple[float, ...] | None = None
    frames = []
    for n, b in enumerate(budgets, start=1):
        if progress and n > 1:
            progress(n - 1)
        prob = p.with_budget(b)
        opt = ModelOptions(mode="max-attainment", shortfall_caps=caps)
        m = build_model(prob, opt)
        res = run_model(m, time_limit=120.0)
        if not solved(res):  # below the cost of keeping the base-year stock: no plan at all
            rows = pd.DataFrame({"budget_cny": b, "region": [t.region for t in p.targets],
                                 "kind": [t.kind for t in p.targets], "expr": [t.expr for t in p.targets],
                                 "nature": [t.nature for t in p.targets], "target_ratio": [t.ratio for t in p.targets]})
            rows["feasible"] = False
            frames.append(rows)
            continue
        res.solution_loader.load_vars()
        plan = extract_plan(prob, m, opt, {})
        caps = tuple(float(m.shortfall[i].value or 0.0) for i in range(len(p.targets)))
        att = plan.attainment.drop(columns=["sense", "shortfall_units"]).copy()
        att.insert(0, "budget_cny", b)
        att["total_cost_cny"] = plan.total_cost
        att["score"] = plan.attainment_score
        att["feasible"] = True
        frames.append(att)
    if progress:
        progress(len(budgets))
    return pd.concat(frames, ignore_index=True)
