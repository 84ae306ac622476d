"""Budget sweeps: attainment of every target against the plan-period budget (CNY)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from optimize.model import ModelOptions
from optimize.persistent import PersistentModel
from optimize.problem import AllocationProblem
from optimize.result import attainment_score
from optimize.solve import OptimizeError

NO_CAP = 1e6  # a shortfall cap that never binds (per-capita units; a share is at most 1)


def budget_sweep(
    p: AllocationProblem, budgets: list[float] | np.ndarray, progress: Callable[[int], None] | None = None
) -> pd.DataFrame:
    """Max-attainment plans at increasing budgets; one row per (budget, target).

    A budget below the cost of keeping the base-year stock has no plan: its rows have
    ``feasible`` False and no attainment. Budgets are solved in increasing order and no target's shortfall may grow
    from one
    budget to the next (the previous plan stays feasible, so this costs no attainment
    overall); every target's curve is therefore monotone in the budget. One model is built (at the
    highest budget, which also scales the cost tie-break) and re-solved with each budget and the
    caps changed in place (:class:`optimize.persistent.PersistentModel`).
    Columns: budget_cny, region, kind, expr, nature, target_ratio, achieved_ratio,
    attainment, shortfall_ratio, met, total_cost_cny, score (the plan's weighted attainment score, 0-1).
    ``progress(n)`` is called after the n-th budget is solved.
    """
    if not p.targets:
        raise OptimizeError("a budget sweep needs at least one resource target")
    budgets = sorted(float(b) for b in budgets)
    if budgets[0] < 0:
        raise OptimizeError(f"budgets must be >= 0 CNY, got {budgets[0]:,.0f}")
    top = p.with_budget(budgets[-1])
    opt = ModelOptions(
        mode="max-attainment", shortfall_caps=tuple(NO_CAP for _ in p.targets), mutable=frozenset({"budget", "caps"})
    )
    model = PersistentModel(top, opt)
    frames = []
    for n, b in enumerate(budgets, start=1):
        if progress and n > 1:
            progress(n - 1)
        model.set_budget(b)
        model.solve(time_limit=120.0)
        if not model.ok:  # below the cost of keeping the base-year stock: no plan at all
            rows = pd.DataFrame(
                {
                    "budget_cny": b,
                    "region": [t.region for t in p.targets],
                    "kind": [t.kind for t in p.targets],
                    "expr": [t.expr for t in p.targets],
                    "nature": [t.nature for t in p.targets],
                    "target_ratio": [t.ratio for t in p.targets],
                }
            )
            rows["feasible"] = False
            frames.append(rows)
            continue
        model.load()
        model.set_shortfall_caps(tuple(model.shortfalls()))
        att = model.attainment()
        score = attainment_score(att)
        att = att.drop(columns=["sense", "shortfall_units"])
        att.insert(0, "budget_cny", b)
        att["total_cost_cny"] = model.total_cost()
        att["score"] = score
        att["feasible"] = True
        frames.append(att)
    if progress:
        progress(len(budgets))
    return pd.concat(frames, ignore_index=True)
