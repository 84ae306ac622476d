"""Self-contained HTML report and charts (plotly; the report opens offline: plotly.js is inlined once)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from scenarios.labels import resource_label

if TYPE_CHECKING:
    from scenarios.run.evaluation import Evaluation
    from scenarios.run.pipeline import PipelineResult

CSS = """body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:.9rem}
pre{background:#fff5f5;border:1px solid #e0b4b4;padding:.75rem;white-space:pre-wrap}"""


def _fig_population(r: PipelineResult) -> go.Figure:
    fig = go.Figure()
    for variant, df in r.projection.table.groupby("variant", sort=False):
        fig.add_trace(go.Scatter(x=df["year"], y=df["population"], mode="lines+markers", name=variant))
    if "kind" in r.projection.table:
        obs = r.projection.table[r.projection.table["kind"] == "observed"].drop_duplicates("year")
        if len(obs):
            fig.add_trace(go.Scatter(x=obs["year"], y=obs["population"], mode="markers", name="observed",
                                     marker=dict(symbol="diamond", size=11, color="black")))
    fig.update_layout(title="Resident population by year (persons)", xaxis_title="year", yaxis_title="residents")
    return fig


def _fig_stocks(r: PipelineResult) -> go.Figure:
    fig = go.Figure()
    ratios = r.plan.ratios
    targets = r.plan.attainment.set_index("kind")
    for kind, df in ratios.groupby("kind", sort=False):
        name = resource_label(kind)
        fig.add_trace(go.Scatter(x=df["year"], y=df["ratio"], mode="lines+markers", name=f"{name} ({df['unit'].iloc[0].replace('_', ' ')})"))
        if kind in targets.index:
            t = targets.loc[kind]
            fig.add_trace(go.Scatter(x=[r.scenario.target_year], y=[t["target_ratio"]], mode="markers",
                                     marker=dict(symbol="star", size=14), name=f"{name} target {t['expr']}"))
    fig.update_layout(title="Per-capita stocks by year against the targets (stars)", xaxis_title="year",
                      yaxis_title="per 1,000 (GPs, public-health staff: per 10,000 where so set)")
    return fig


def _fig_costs(r: PipelineResult) -> go.Figure:
    fig = go.Figure()
    for kind, df in r.plan.costs.groupby("kind", sort=False):
        by_year = df.groupby("year")["total_cny"].sum() / 1e6
        fig.add_trace(go.Bar(x=by_year.index, y=by_year.values, name=resource_label(kind)))
    fig.update_layout(barmode="relative", title="Cost by year and resource (CNY million)", xaxis_title="year",
                      yaxis_title="CNY million")
    return fig


def _fig_sweep(r: PipelineResult) -> go.Figure:
    fig = go.Figure()
    for (kind, expr), df in r.sweep.groupby(["kind", "expr"], sort=False):
        fig.add_trace(go.Scatter(x=df["budget_cny"] / 1e6, y=df["attainment"] * 100, mode="lines+markers",
                                 name=f"{resource_label(kind)} ({expr})"))
    fig.update_layout(title="Target attainment (%) against the plan-period budget", xaxis_title="budget (CNY million)",
                      yaxis_title="attainment (%)", yaxis_range=[0, 105])
    return fig


def _fig_referral(r: PipelineResult) -> go.Figure:
    summ = r.simulation.summary()
    fig = go.Figure()
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    for i, (kpi, label) in enumerate((("primary_share", "primary-care share of visits"),
                                      ("in_area_rate", "in-area care rate"),
                                      ("occupancy_hospital", "hospital bed occupancy"),
                                      ("occupancy_primary", "primary-care bed occupancy"))):
        df = summ[summ["kpi"] == kpi]
        color = palette[i]
        fig.add_trace(go.Scatter(x=list(df["year"]) + list(df["year"])[::-1],
                                 y=list(df["ci95_high"].fillna(df["mean"])) + list(df["ci95_low"].fillna(df["mean"]))[::-1],
                                 fill="toself", line=dict(width=0), fillcolor=color, opacity=0.2, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=df["year"], y=df["mean"], mode="lines+markers", name=label, line=dict(color=color)))
    fig.update_layout(title="Referral KPIs by year (mean, 95% confidence band)", xaxis_title="year",
                      yaxis_title="share", yaxis_range=[0, 1.05])
    return fig


def _table(df: pd.DataFrame, digits: int = 3) -> str:
    return df.to_html(index=False, float_format=lambda x: f"{x:,.{digits}f}", border=0)


def write_report(r: PipelineResult, path: str | Path) -> Path:
    """Write the report; every chart is a div the offline plotly.js draws."""
    s = r.scenario
    figs = [("Population", _fig_population(r)), ("Stocks against targets", _fig_stocks(r)),
            ("Cost", _fig_costs(r))]
    if r.sweep is not None:
        figs.append(("Attainment against budget", _fig_sweep(r)))
    if r.simulation is not None:
        figs.append(("Referral flows", _fig_referral(r)))
    parts = []
    for i, (title, fig) in enumerate(figs):
        fig.update_layout(template="plotly_white", height=420)
        parts.append(f"<h2>{html.escape(title)}</h2>" + fig.to_html(full_html=False, include_plotlyjs=(i == 0),
                                                                  div_id=f"chart{i}"))
    att = r.plan.attainment[["kind", "expr", "nature", "target_ratio", "achieved_ratio", "attainment", "met"]]
    summary = r.summary()
    diag = f"<pre>{html.escape(r.diagnosis)}</pre>" if r.diagnosis else ""
    duals = "".join(f"<li>{html.escape(t)}</li>" for t in r.plan.duals["explanation"])
    base = ""
    if r.base_figures is not None:
        base = (f"<h2>Base year {s.base_year}: observed and projected figures</h2>"
                "<p class=\"note\">kind: observed = a published figure (cited); projected = derived by healthsim "
                "(population: the calibrated projection; stocks: the previous plan's result); base = the scenario's "
                f"own base-year figure.</p>{_table(r.base_figures, 2)}")
    calib = "".join(f"<li>{html.escape(t)}</li>" for t in (r.calibration.describe() if r.calibration else []))
    calib = f"<h2>Population calibrated to observed years</h2><ul>{calib}</ul>" if calib else ""
    body = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>healthsim report: {html.escape(s.region.name)}</title><style>{CSS}</style></head><body>
<h1>{html.escape(s.region.name)} ({html.escape(s.region.name_cn)}): plan {s.base_year + 1}-{s.target_year}</h1>
<p class="note">Scenario <b>{html.escape(s.id)}</b>, population variant {html.escape(r.options.variant)}.
{html.escape(r.plan_note.capitalize())}. Total cost CNY {r.plan.total_cost:,.0f};
weighted attainment {summary['attainment_score'] * 100:.1f}%.</p>{diag}{base}{calib}
<h2>Targets in {s.target_year}</h2>{_table(att)}
<h2>Shadow prices</h2><ul>{duals or '<li>None (integer plan, or no targets).</li>'}</ul>
{''.join(parts)}
<p class="note">Made by healthsim. Figures marked as assumptions in the scenario file are not from the seed plan.</p>
</body></html>"""
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path


def write_evaluation_report(ev: Evaluation, path: str | Path) -> Path:
    """Write the final-evaluation report (targets against milestones, population against the assumption)."""
    s = ev.scenario
    targets = ev.targets.drop(columns=["unit"]).rename(columns={"kind": "resource"})
    targets["resource"] = targets["resource"].map(resource_label)
    calib = "".join(f"<li>{html.escape(t)}</li>" for t in (ev.calibration.describe() if ev.calibration else []))
    body = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>healthsim evaluation: {html.escape(s.region.name)}</title><style>{CSS}</style></head><body>
<h1>{html.escape(s.region.name)} ({html.escape(s.region.name_cn)}): evaluation of the {s.base_year + 1}-{s.target_year} plan</h1>
<p class="note">Each target against the observed ratio of the latest observed year: <b>achieved</b> (target met),
<b>on track</b> (at or past the straight-line milestone from the {s.base_year} ratio to the target), <b>behind</b>.
Gaps in beds or persons at that year's population; "short in target year": still short in {s.target_year} at the
projected population if the stock stayed at its observed level.</p>
<h2>Targets</h2>{_table(targets, 2)}
<h2>Population: observed against the scenario's assumed rates</h2>{_table(ev.population, 3)}
<ul>{calib}</ul>
<p class="note">Made by healthsim. Observed figures cite their public documents in the scenario file.</p>
</body></html>"""
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path


def sweep_figure(table: pd.DataFrame, title: str) -> go.Figure:
    """Attainment (%) of each target against budget (CNY 亿 = 100 million); written by ``outputs.write_sweep``."""
    fig = go.Figure()
    for (kind, expr), df in table.groupby(["kind", "expr"], sort=False):
        fig.add_trace(go.Scatter(x=df["budget_cny"] / 1e8, y=df["attainment"] * 100, mode="lines+markers",
                                 name=f"{resource_label(kind)} (target {expr})"))
    score = table.groupby("budget_cny", as_index=False)["score"].first()
    fig.add_trace(go.Scatter(x=score["budget_cny"] / 1e8, y=score["score"] * 100, mode="lines",
                             name="weighted score", line=dict(dash="dash", color="black")))
    fig.update_layout(title=title, xaxis_title="plan-period budget (CNY 100 million, 亿元)",
                      yaxis_title="target attainment (%)", yaxis_range=[0, 105], template="plotly_white")
    return fig
