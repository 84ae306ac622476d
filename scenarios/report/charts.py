"""The report's charts (plotly): one unit per axis, whole-year axes, one colour per resource in every chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from scenarios.labels import RESOURCES, Labels
from scenarios.report.fonts import FONT_STACK

if TYPE_CHECKING:
    from scenarios.run.pipeline import PipelineResult

PALETTE = qualitative.D3
KIND_ORDER = list(RESOURCES)


def kind_colour(kind: str) -> str:
    """The one colour of a resource kind in every chart."""
    i = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER) + abs(hash(kind)) % 7
    return PALETTE[i % len(PALETTE)]


def _layout(fig: go.Figure, L: Labels, y_title: str | None = None, height: int = 380) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        font=dict(family=FONT_STACK, size=13),
        margin=dict(l=70, r=20, t=40, b=60),
        legend=dict(orientation="h", y=-0.2),
    )
    fig.update_xaxes(title_text=L.text("axis_year"), dtick=1, tickformat="d")
    if y_title:
        fig.update_yaxes(title_text=y_title)
    return fig


def fig_population(r: PipelineResult, L: Labels) -> go.Figure:
    fig = go.Figure()
    for variant, df in r.projection.table.groupby("variant", sort=False):
        fig.add_trace(go.Scatter(x=df["year"], y=df["population"] / 1e4, mode="lines+markers", name=L.value(variant)))
    table = r.projection.table
    if "kind" in table:
        obs = table[table["kind"] == "observed"].drop_duplicates("year")
        if len(obs):
            fig.add_trace(
                go.Scatter(
                    x=obs["year"],
                    y=obs["population"] / 1e4,
                    mode="markers",
                    name=L.text("observed"),
                    marker=dict(symbol="diamond", size=11, color="black"),
                )
            )
    return _layout(fig, L, L.text("axis_persons_10k"))


def fig_stocks(r: PipelineResult, L: Labels) -> go.Figure:
    """Per-capita stocks in one panel per unit (per 1,000, per 10,000), each target a star in its line's colour."""
    ratios, Y = r.plan.ratios, r.scenario.target_year
    targets = r.plan.attainment.drop_duplicates("kind").set_index("kind")
    units = list(dict.fromkeys(ratios["unit"]))
    fig = make_subplots(rows=1, cols=len(units), subplot_titles=[L.value(u) for u in units], horizontal_spacing=0.08)
    for col, unit in enumerate(units, start=1):
        for kind, df in ratios[ratios["unit"] == unit].groupby("kind", sort=False):
            by_year = df.groupby("year", as_index=False)[["stock", "population"]].sum()
            ratio = by_year["stock"] / by_year["population"] * float(unit.split("_")[1])
            colour, name = kind_colour(kind), L.resource(kind)
            fig.add_trace(
                go.Scatter(
                    x=by_year["year"],
                    y=ratio,
                    mode="lines+markers",
                    name=name,
                    line=dict(color=colour),
                    legendgroup=kind,
                ),
                row=1,
                col=col,
            )
            if kind in targets.index:
                t = targets.loc[kind]
                fig.add_trace(
                    go.Scatter(
                        x=[Y],
                        y=[t["target_ratio"]],
                        mode="markers",
                        legendgroup=kind,
                        marker=dict(symbol="star", size=15, color=colour, line=dict(width=1, color="#333")),
                        name=L.text("target_of", name=name) + f" {t['expr']}",
                        showlegend=False,
                    ),
                    row=1,
                    col=col,
                )
        fig.update_yaxes(title_text=L.value(unit), row=1, col=col, rangemode="tozero")
    return _layout(fig, L)


def fig_costs(r: PipelineResult, L: Labels) -> go.Figure:
    fig = go.Figure()
    for kind, df in r.plan.costs.groupby("kind", sort=False):
        by_year = df.groupby("year")["total_cny"].sum() / 1e4
        fig.add_trace(go.Bar(x=by_year.index, y=by_year.values, name=L.resource(kind), marker_color=kind_colour(kind)))
    fig.update_layout(barmode="relative")
    return _layout(fig, L, L.text("axis_wan"))


def fig_sweep(sweep: pd.DataFrame, L: Labels) -> go.Figure:
    fig = go.Figure()
    for (kind, expr), df in sweep.groupby(["kind", "expr"], sort=False):
        fig.add_trace(
            go.Scatter(
                x=df["budget_cny"] / 1e8,
                y=df["attainment"] * 100,
                mode="lines+markers",
                name=f"{L.resource(kind)} ({expr})",
                line=dict(color=kind_colour(kind)),
            )
        )
    score = sweep.groupby("budget_cny", as_index=False)["score"].first()
    fig.add_trace(
        go.Scatter(
            x=score["budget_cny"] / 1e8,
            y=score["score"] * 100,
            mode="lines",
            name=L.text("weighted_score"),
            line=dict(dash="dash", color="black"),
        )
    )
    _layout(fig, L, L.text("axis_percent"))
    fig.update_xaxes(title_text=L.text("axis_yi"), dtick=None, tickformat=",.1f")
    fig.update_yaxes(range=[0, 105])
    return fig


def fig_referral(r: PipelineResult, L: Labels) -> go.Figure:
    summ = r.simulation.summary()
    fig = go.Figure()
    for i, kpi in enumerate(("primary_share", "in_area_rate", "occupancy_hospital", "occupancy_primary")):
        df = summ[summ["kpi"] == kpi]
        colour = PALETTE[i]
        hi, lo = df["ci95_high"].fillna(df["mean"]) * 100, df["ci95_low"].fillna(df["mean"]) * 100
        fig.add_trace(
            go.Scatter(
                x=list(df["year"]) + list(df["year"])[::-1],
                y=list(hi) + list(lo)[::-1],
                fill="toself",
                line=dict(width=0),
                fillcolor=colour,
                opacity=0.2,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(x=df["year"], y=df["mean"] * 100, mode="lines+markers", name=L.kpi(kpi), line=dict(color=colour))
        )
    _layout(fig, L, L.text("axis_share"))
    fig.update_yaxes(range=[0, 105])
    return fig


def report_figures(r: PipelineResult, L: Labels) -> list[tuple[str, go.Figure]]:
    """(heading, figure) for each chart of the report."""
    figs = [
        (L.text("fig_population"), fig_population(r, L)),
        (L.text("fig_stocks", year=r.scenario.target_year), fig_stocks(r, L)),
        (L.text("fig_costs"), fig_costs(r, L)),
    ]
    if r.sweep is not None:
        figs.append((L.text("fig_sweep"), fig_sweep(r.sweep, L)))
    if r.simulation is not None:
        figs.append((L.text("fig_referral"), fig_referral(r, L)))
    return figs
