"""Budget sweeps: attainment of every target against the plan-period budget (CNY)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from optimize.problem import AllocationProblem
from optimize.solve import LABELS, OptimizeError, _extract, _ok, _run
from optimize.model import ModelOptions, build_model


def budget_sweep(p: AllocationProblem, budgets: list[float] | np.ndarray) -> pd.DataFrame:
    """Max-attainment plans at increasing budgets; one row per (budget, target).

    A budget below the cost of keeping the base-year stock has no plan: its rows have
    ``feasible`` False and no attainment. Budgets are solved in increasing order and no target's shortfall may grow from one
    budget to the next (the previous plan stays feasible, so this costs no attainment
    overall); every target's curve is therefore monotone in the budget.
    Columns: budget_cny, region, kind, expr, nature, target_ratio, achieved_ratio,
    attainment, shortfall_ratio, met, total_cost_cny, score (weighted attainment, 0-1).
    """
    if not p.targets:
        raise OptimizeError("a budget sweep needs at least one resource target")
    budgets = sorted(float(b) for b in budgets)
    if budgets[0] < 0:
        raise OptimizeError(f"budgets must be >= 0 CNY, got {budgets[0]:,.0f}")
    caps: tuple[float, ...] | None = None
    frames = []
    weight_sum = sum(t.weight for t in p.targets) or 1.0
    for b in budgets:
        prob = p.with_budget(b)
        opt = ModelOptions(mode="max-attainment", shortfall_caps=caps)
        m = build_model(prob, opt)
        res = _run(m, False, 120.0, None)
        if not _ok(res):  # below the cost of keeping the base-year stock: no plan at all
            rows = pd.DataFrame({"budget_cny": b, "region": [t.region for t in p.targets],
                                 "kind": [t.kind for t in p.targets], "expr": [t.expr for t in p.targets],
                                 "nature": [t.nature for t in p.targets], "target_ratio": [t.ratio for t in p.targets]})
            rows["feasible"] = False
            frames.append(rows)
            continue
        res.solution_loader.load_vars()
        plan = _extract(prob, m, opt, {})
        caps = tuple(float(m.shortfall[i].value or 0.0) for i in range(len(p.targets)))
        att = plan.attainment.drop(columns=["sense", "shortfall_units"]).copy()
        att.insert(0, "budget_cny", b)
        att["total_cost_cny"] = plan.total_cost
        rel = sum(t.weight * min(1.0, s / max(t.ratio, 1e-9)) for t, s in zip(p.targets, caps))
        att["score"] = 1.0 - rel / weight_sum
        att["feasible"] = True
        frames.append(att)
    return pd.concat(frames, ignore_index=True)


def sweep_chart(table: pd.DataFrame, title: str, html_path: str | Path, png_path: str | Path | None = None) -> list[Path]:
    """Plot attainment (%) of each target against budget (CNY 亿 = 100 million); write HTML (and PNG if possible)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for (kind, expr), df in table.groupby(["kind", "expr"], sort=False):
        fig.add_trace(go.Scatter(x=df["budget_cny"] / 1e8, y=df["attainment"] * 100, mode="lines+markers",
                                 name=f"{LABELS.get(kind, kind)} (target {expr})"))
    score = table.groupby("budget_cny", as_index=False)["score"].first()
    fig.add_trace(go.Scatter(x=score["budget_cny"] / 1e8, y=score["score"] * 100, mode="lines",
                             name="weighted score", line=dict(dash="dash", color="black")))
    fig.update_layout(title=title, xaxis_title="plan-period budget (CNY 100 million, 亿元)",
                      yaxis_title="target attainment (%)", yaxis_range=[0, 105], template="plotly_white")
    written = []
    html_path = Path(html_path)
    fig.write_html(html_path, include_plotlyjs=True, full_html=True)
    written.append(html_path)
    if png_path is not None:
        try:
            fig.write_image(str(png_path), width=1000, height=600)
            written.append(Path(png_path))
        except Exception:  # kaleido (a browser engine) is optional; the HTML chart stands on its own
            pass
    return written
