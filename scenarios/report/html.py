"""Self-contained HTML report (plotly.js inlined once, a CJK font subset embedded; opens offline).

The first screen is the answer: the plan by year and tier in whole units, cost by year (万元) and in
total (亿元), each target's attainment with the shortfall in people or beds, and warnings in words.
Then the charts, then the method and every field of the scenario with its source or assumption.
Tables are built from whatever columns the plan's tables have (e.g. an ``ownership`` column), and
figures are rounded for display only.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from scenarios.labels import FAMILY_NAMES, Labels, check_lang
from scenarios.provenance import provenance_rows
from scenarios.report.charts import fig_sweep, report_figures
from scenarios.report.fonts import FONT_STACK, font_face_css
from scenarios.report.words import (
    _target_name,
    assumption_table,
    cost_words,
    diagnosis_words,
    dual_words,
    limit_text,
    probability_display,
    target_text,
    uncertainty_words,
    units_words,
    warnings,
)
from scenarios.report.workbook import group_columns

if TYPE_CHECKING:
    from scenarios.run.evaluation import Evaluation
    from scenarios.run.pipeline import PipelineResult
    from scenarios.run.uncertainty import UncertaintyResult


CSS = """body{font-family:%s;margin:0 auto;padding:.6rem 1.2rem;max-width:1360px;color:#222;font-size:14px}
h1{font-size:1.45rem;margin:.3rem 0}h2{font-size:1.05rem;margin:.9rem 0 .35rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #d4d4d4;padding:.15rem .45rem;text-align:right;white-space:nowrap}
th{background:#f3f5f8}td.l,th.l{text-align:left}tr.sum td{font-weight:bold;background:#fafafa}
.note{color:#555;font-size:12.5px;margin:.2rem 0}.first{display:grid;grid-template-columns:1.15fr 1fr;gap:1.4rem}
.kpis{display:flex;gap:2.2rem;margin:.4rem 0 .2rem}.kpi b{display:block;font-size:1.5rem;color:#0b4f8a}.kpi
span{color:#555}
.warn li{margin:.15rem 0}.bad{color:#b00020}.ok{color:#1b7f3b}pre{background:#fff5f5;border:1px solid #e0b4b4;
padding:.5rem;white-space:pre-wrap;font-size:12px}
table.wide td,table.wide th{white-space:normal;text-align:left;max-width:38rem}"""


def _num(x: float, digits: int = 0, dash_zero: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if dash_zero and abs(x) < 0.5 * 10**-digits:
        return "–"
    return f"{x:,.{digits}f}"


def html_table(
    header: list[str], rows: list[list[str]], left: int = 1, sum_last: bool = False, cls: str = "", table_id: str = ""
) -> str:
    """An HTML table; the first ``left`` columns align left; the last row bold when ``sum_last``."""
    esc = html.escape
    head = "".join(f'<th class="l">{esc(h)}</th>' if i < left else f"<th>{esc(h)}</th>" for i, h in enumerate(header))
    body = []
    for j, row in enumerate(rows):
        tr = ' class="sum"' if sum_last and j == len(rows) - 1 else ""
        body.append(
            f"<tr{tr}>"
            + "".join(
                f'<td class="l">{esc(str(c))}</td>' if i < left else f"<td>{esc(str(c))}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
        )
    ident = f' id="{table_id}"' if table_id else ""
    return f'<table class="{cls}"{ident}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def plan_table(additions: pd.DataFrame, L: Labels) -> str:
    """Additions by (resource, tier, ...) x year, whole units, with the plan-period total."""
    keys = group_columns(additions)
    wide = additions.pivot_table(index=keys, columns="year", values="added", aggfunc="sum", sort=False)
    header = [L.column(k) for k in keys] + [str(y) for y in wide.columns] + [L.text("total")]
    rows, previous = [], None
    for idx, row in wide.iterrows():
        idx = idx if isinstance(idx, tuple) else (idx,)
        labels = [L.added(v) if k == "kind" else L.value(v) for k, v in zip(keys, idx)]
        shown = ["" if labels[0] == previous else labels[0]] + labels[1:]  # a resource's name once, over its tiers
        previous = labels[0]
        rows.append(shown + [_num(v, dash_zero=True) for v in row] + [_num(row.sum())])
    return html_table(header, rows, left=len(keys), table_id="plan")


def cost_table(costs: pd.DataFrame, L: Labels) -> str:
    """Cost by year in 万元 (every *_cny column), with the plan-period total row."""
    cols = [c for c in costs.columns if c.endswith("_cny")]
    by_year = costs.groupby("year")[cols].sum()
    rows = [[str(y)] + [_num(v / 1e4, 1) for v in r] for y, r in by_year.iterrows()]
    rows.append([L.text("sum_row")] + [_num(v / 1e4, 1) for v in by_year.sum()])
    return html_table([L.column("year")] + [L.column(c) for c in cols], rows, sum_last=True, table_id="cost")


def _fmt_measure(value: float, measure: str, digits: int = 2) -> str:
    return "–" if value != value else (f"{value:.1%}" if measure == "private_share" else _num(value, digits))


def attainment_table(r: PipelineResult, L: Labels) -> str:
    """Each target: value, nature, base-year and achieved value, attainment, shortfall in people or beds
    (private shares in percent), all from the plan's attainment table."""
    s = r.scenario
    rows = []
    for t in r.plan.attainment.itertuples(index=False):
        share = t.measure == "private_share"
        unit = "" if share else (L.value(s.resources[t.kind].unit) if t.kind in s.resources else t.unit)
        short = (
            "–"
            if t.met
            else (f"{t.shortfall_ratio:.1%}" if share else f"{_num(t.shortfall_units)} {L.counter(t.kind)}".strip())
        )
        rows.append(
            [
                _target_name(t, L),
                f"{t.expr} {unit}".strip(),
                L.value(t.nature),
                _fmt_measure(t.baseline_ratio, t.measure),
                _fmt_measure(t.achieved_ratio, t.measure),
                f"{t.attainment * 100:.1f}%",
                short,
            ]
        )
    header = [
        L.column("kind"),
        L.column("expr"),
        L.column("nature"),
        str(s.base_year),
        str(s.target_year),
        L.column("attainment"),
        L.column("shortfall_units"),
    ]
    return html_table(header, rows, table_id="attainment")


def milestones_table(plan, L: Labels) -> str:
    """Each target's value by year against the line the plan commits to (年度目标), from the milestones table."""
    ms = plan.milestones
    if not len(ms):
        return ""
    years = sorted(ms["year"].unique())
    rows = []
    for (kind, measure, name), df in ms.groupby(["kind", "measure", "name"], sort=False):
        cells = {
            y: f"{_fmt_measure(a, measure, 3)} ({_fmt_measure(m, measure, 3)})"
            for y, a, m in zip(df["year"], df["achieved"], df["plan_line"])
        }
        label = _target_name(SimpleNamespace(kind=kind, measure=measure, name=name), L)
        rows.append([f"{label} {df['expr'].iloc[0]}"] + [cells[y] for y in years])
    return html_table([L.column("kind")] + [str(y) for y in years], rows, table_id="milestones")


def outlook_table(r: PipelineResult, L: Labels) -> str:
    """Earliest attainable year and least change for each unmet target, from the outlook table."""
    look = getattr(r, "outlook", None)
    if look is None or not len(look):
        return ""
    rows = [
        [
            _target_name(row, L),
            row.expr,
            _fmt_measure(row.reached_ratio, row.measure, 3),
            "–" if pd.isna(row.earliest_year) else str(row.earliest_year),
            L.family(row.binding_limit),
            limit_text(row.limit_now, row.limit_unit, L) or "–",
            limit_text(row.needed, row.limit_unit, L) or "–",
        ]
        for row in look.itertuples(index=False)
    ]
    return html_table(L.headers("outlook", year=r.scenario.target_year), rows, table_id="outlook")


def first_screen(r: PipelineResult, L: Labels) -> str:
    s, p, esc = r.scenario, r.plan, html.escape
    met, n = int(p.attainment["met"].sum()), len(p.attainment)
    budget = f'<span>{esc(L.text("budget", amount=L.cny(p.budget_total)))}</span>' if p.budget_total is not None else ""
    kpis = (
        f'<div class="kpis"><div '
        f'class="kpi"><span>{esc(L.text("total_cost"))}</span><b>{esc(L.cny(p.total_cost))}</b>{budget}</div>'
        f'<div class="kpi"><span>{esc(L.text("targets_met"))}</span><b class="{"ok" if met == n else "bad"}">'
        f'{esc(L.text("met_of", met=met, n=n))}</b></div>'
        f'<div class="kpi"><span>{esc(L.text("score"))}</span><b>{p.attainment_score * 100:.1f}%</b></div></div>'
        f'<p class="note">{esc(cost_words(p, L))} {esc(units_words(p, L))}</p>'
    )
    warns = warnings(r, L) or [L.text("warn_none")]
    culprit = getattr(r, "culprit", None)
    lead = (L.text("warn_culprit", family=L.family(culprit)) + " " if culprit in FAMILY_NAMES else "") + L.text(
        "warn_diagnosis"
    )
    diag = f'<p class="note">{esc(lead)}</p><pre>{esc(diagnosis_words(r.diagnosis, L))}</pre>' if r.diagnosis else ""
    head = (
        f'<h1>{esc(L.text("title", region=L.region(s.region), first=s.base_year + 1, last=s.target_year))}</h1>'
        f'<p class="note">'
        f'{esc(L.text("scenario_line", id=s.id, variant=L.value(r.options.variant), mode=L.value(p.mode)))}</p>'
    )
    left = (
        f'<h2>{esc(L.text("plan_heading"))}</h2>{plan_table(p.additions, L)}'
        f'<p class="note">{esc(L.text("rounded"))}</p>'
        f'<h2>{esc(L.text("warn_heading"))}</h2><ul '
        f'class="warn">{"".join(f"<li>{esc(w)}</li>" for w in warns)}</ul>{diag}'
    )
    right = (
        f'<h2>{esc(L.text("cost_heading"))}</h2>{cost_table(p.costs, L)}'
        f'<h2>{esc(L.text("att_heading", year=s.target_year))}</h2>{attainment_table(r, L)}'
    )
    return f'{head}{kpis}<section class="first" id="answer"><div>{left}</div><div>{right}</div></section>'


def method_section(r: PipelineResult, L: Labels, font_note: str) -> str:
    s, o, esc = r.scenario, r.options, html.escape
    text = L.text("method", method=L.method(r.projection.method), reps=o.replications, seed=o.seed)
    duals = "".join(f"<li>{esc(t)}</li>" for t in dual_words(r.plan, L))
    rows = provenance_rows(s)
    table = html_table([L.column(c) for c in rows.columns], rows.fillna("").values.tolist(), cls="wide")
    return (
        f'<h2>{esc(L.text("method_heading"))}</h2><p>{esc(text)}</p><ul>{duals}</ul>{font_note}'
        f'<p class="note">{esc(L.text("assumptions_intro"))}</p>{table}'
    )


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, (list, tuple)):
        return [s for v in node for s in _strings(v)]
    return []


def _page_text(parts: list[str], figs: list[go.Figure]) -> str:
    """Every character the page shows (HTML text and the charts' labels), for the font subset."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", "".join(parts)))
    return text + "".join(s for f in figs for s in _strings(f.to_plotly_json()))


def _frame_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A tidy frame as an HTML table (numbers with thousands separators)."""
    return df.to_html(index=False, float_format=lambda x: f"{x:,.{digits}f}", border=0)


def base_section(r: PipelineResult, L: Labels) -> str:
    """Which base-year figures are observed and which projected, and the calibration of the population."""
    esc, parts = html.escape, []
    if getattr(r, "base_figures", None) is not None:
        head, note = L.text("base_head", year=r.scenario.base_year), L.text("base_note")
        parts.append(f'<h2>{esc(head)}</h2><p class="note">{esc(note)}</p>{_frame_table(r.base_figures, 2)}')
    cal = getattr(r, "calibration", None)
    lines = cal.describe(L) if cal else []
    if lines:
        head = L.text("cal_head")
        parts.append(f'<h2>{esc(head)}</h2><ul>{"".join(f"<li>{esc(t)}</li>" for t in lines)}</ul>')
    return "".join(parts)


def plan_sections(r: PipelineResult, L: Labels) -> str:
    """Unmet targets (when, and what it would take on time) and the yearly milestones."""
    esc, parts = html.escape, []
    look = outlook_table(r, L)
    if look:
        head, note = L.text("outlook_head"), L.text("outlook_note")
        parts.append(f'<h2>{esc(head)}</h2><p class="note">{esc(note)}</p>{look}')
    ms = milestones_table(r.plan, L)
    if ms:
        head, note = L.text("milestones_head"), L.text("milestones_note")
        parts.append(f'<h2>{esc(head)}</h2><p class="note">{esc(note)}</p>{ms}')
    return "".join(parts)


def write_report(r: PipelineResult, path: str | Path, lang: str | None = None) -> Path:
    """Write the report in ``lang`` (default: the run's, else the scenario's); every chart is a div plotly.js draws."""
    L = Labels(check_lang(lang or getattr(r.options, "lang", None) or r.scenario.report.lang))
    figs = report_figures(r, L)
    charts = [
        f"<h2>{html.escape(title)}</h2>" + fig.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"chart{i}")
        for i, (title, fig) in enumerate(figs)
    ]
    unc, unc_figs = uncertainty_section(r.uncertainty, L) if getattr(r, "uncertainty", None) is not None else ("", [])
    top = first_screen(r, L) + plan_sections(r, L)
    method = method_section(r, L, "{font_note}")
    face, embedded = font_face_css(
        _page_text(
            [top, base_section(r, L), unc, method, L.text("font_missing"), L.text("footer")] + [t for t, _ in figs],
            [f for _, f in figs] + unc_figs,
        )
    )
    font_note = "" if embedded else f'<p class="note bad">{html.escape(L.text("font_missing"))}</p>'
    s = r.scenario
    body = f"""<!DOCTYPE html><html lang="{L.text('html_lang')}"><head><meta charset="utf-8">
<title>healthsim: {html.escape(L.region(s.region))}</title>
<style>{face}{CSS % FONT_STACK}</style></head><body>
{top}{base_section(r, L)}<h2>{html.escape(L.text("charts_heading"))}</h2>{''.join(charts)}
{unc}
{method.replace("{font_note}", font_note)}
<p class="note">{html.escape(L.text("footer"))}</p>
</body></html>"""
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path


def write_evaluation_report(ev: Evaluation, path: str | Path) -> Path:
    """Write the final-evaluation report (targets against milestones, population against the assumption)."""
    s, L = ev.scenario, Labels("en")
    targets = ev.targets.drop(columns=["unit"]).rename(columns={"kind": "resource"})
    targets["resource"] = targets["resource"].map(L.resource)
    calib = "".join(f"<li>{html.escape(t)}</li>" for t in (ev.calibration.describe(L) if ev.calibration else []))
    body = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>healthsim evaluation: {html.escape(s.region.name)}</title><style>{CSS % FONT_STACK}</style></head><body>
<h1>{html.escape(s.region.name)} ({html.escape(s.region.name_cn)}): evaluation of the
{s.base_year + 1}-{s.target_year} plan</h1>
<p class="note">Each target against the observed ratio of the latest observed year: <b>achieved</b> (target met),
<b>on track</b> (at or past the straight-line milestone from the {s.base_year} ratio to the target), <b>behind</b>.
Gaps in beds or persons at that year's population; "short in target year": still short in {s.target_year} at the
projected population if the stock stayed at its observed level.</p>
<h2>Targets</h2>{_frame_table(targets, 2)}
<h2>Population: observed against the scenario's assumed rates</h2>{_frame_table(ev.population, 3)}
<ul>{calib}</ul>
<p class="note">Made by healthsim. Observed figures cite their public documents in the scenario file.</p>
</body></html>"""
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path


def sweep_page(table: pd.DataFrame, title: str, lang: str = "en") -> tuple[go.Figure, str]:
    """Attainment (%) of each target against budget (亿元): the figure and a page that draws its Chinese
    without a system font (written by ``outputs.write_sweep``)."""
    fig = fig_sweep(table, Labels(check_lang(lang)))
    fig.update_layout(title=title, height=600)
    face, _ = font_face_css(_page_text([title], [fig]))
    page = fig.to_html(include_plotlyjs=True, full_html=True).replace("<head>", f"<head><style>{face}</style>", 1)
    return fig, page


# -- uncertainty (healthsim uncertainty; a short run in healthsim run) ---------------------------


def uncertainty_figures(u: UncertaintyResult, L: Labels | None = None) -> dict[str, go.Figure]:
    """The uncertainty charts by name, for the report and the app: ``fan`` (population P10/P50/P90, 万人),
    ``cost`` (distribution of the plan's cost, and of the least cost per draw when solved, 亿元) and
    ``probability`` (of meeting each target: the plan, and the robust plan when there is one)."""
    L = L or Labels("zh")
    fan = u.fan
    f1 = go.Figure(
        [
            go.Scatter(
                x=fan["year"], y=fan["p90"] / 1e4, mode="lines", line=dict(width=0), showlegend=False, name="P90"
            ),
            go.Scatter(
                x=fan["year"],
                y=fan["p10"] / 1e4,
                mode="lines",
                line=dict(width=0),
                fill="tonexty",
                fillcolor="rgba(31,119,180,0.25)",
                name="P10-P90",
            ),
            go.Scatter(x=fan["year"], y=fan["p50"] / 1e4, mode="lines", name=L.text("unc_median")),
            go.Scatter(
                x=fan["year"], y=fan["medium"] / 1e4, mode="lines", line=dict(dash="dash"), name=L.text("unc_medium")
            ),
        ]
    )
    _uncertainty_layout(f1, L, L.text("axis_persons_10k"), L.text("axis_year"))
    f2 = go.Figure([go.Histogram(x=u.draws["plan_cost_cny"] / 1e8, name=L.text("unc_this_plan"), opacity=0.6)])
    if "least_cost_cny" in u.draws:
        f2.add_trace(go.Histogram(x=u.draws["least_cost_cny"] / 1e8, opacity=0.6, name=L.text("unc_least_cost")))
    _uncertainty_layout(f2, L, L.text("unc_draws"), L.text("unc_cost_axis"))
    f2.update_layout(barmode="overlay")
    p = u.probabilities
    names = [target_text(row, L, unit=False) for row in p.itertuples(index=False)]
    f3 = go.Figure(
        [
            go.Bar(
                x=names,
                y=p["probability"] * 100,
                name=L.text("unc_this_plan"),
                error_y=dict(type="data", array=1.96 * p["std_error"] * 100),
            )
        ]
    )
    if "robust_probability" in p:
        f3.add_trace(go.Bar(x=names, y=p["robust_probability"] * 100, name=L.text("unc_robust", share=u.options.share)))
    _uncertainty_layout(f3, L, L.text("unc_prob_axis"), None)
    f3.update_layout(yaxis_range=[0, 105], barmode="group")
    return {"fan": f1, "cost": f2, "probability": f3}


def _uncertainty_layout(fig: go.Figure, L: Labels, y_title: str, x_title: str | None) -> None:
    fig.update_layout(
        template="plotly_white",
        height=380,
        font=dict(family=FONT_STACK, size=13),
        margin=dict(l=70, r=20, t=40, b=60),
        legend=dict(orientation="h", y=-0.2),
    )
    fig.update_yaxes(title_text=y_title)
    if x_title:
        fig.update_xaxes(title_text=x_title)


def uncertainty_titles(u: UncertaintyResult, L: Labels) -> dict[str, str]:
    """Headings of the uncertainty charts, in the report's language."""
    return {
        "fan": L.text("unc_title_fan", draws=u.options.draws),
        "cost": L.text("unc_title_cost"),
        "probability": L.text("unc_title_probability", year=u.target_year),
    }


def uncertainty_section(
    u: UncertaintyResult, L: Labels | None = None, include_plotlyjs: bool = False
) -> tuple[str, list[go.Figure]]:
    """The report's uncertainty section (HTML) and its figures: the result in words, the charts, the tables."""
    L = L or Labels("zh")
    esc = html.escape
    figs, titles = uncertainty_figures(u, L), uncertainty_titles(u, L)
    words = "".join(f"<li>{esc(w)}</li>" for w in uncertainty_words(u, L))
    charts = [
        f"<h3>{esc(titles[name])}</h3>"
        + fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs and i == 0, div_id=f"uncertainty_{name}")
        for i, (name, fig) in enumerate(figs.items())
    ]
    head, sub = L.text("unc_head"), L.headers("uncertainty_parts")
    body = (
        f"<h2>{esc(head)}</h2><ul>{words}</ul>{''.join(charts)}"
        f"<h3>{sub[0]}</h3>{_uncertainty_probability_table(u, L)}<h3>{sub[1]}</h3>{_uncertainty_cost_table(u, L)}"
        f"<h3>{sub[2]}</h3>{_uncertainty_assumption_table(u, L)}"
    )
    return body, list(figs.values())


def _uncertainty_probability_table(u: UncertaintyResult, L: Labels) -> str:
    table = probability_display(u, L)
    for col in table.columns[2:]:
        table[col] = [f"{v:.1%}" for v in table[col]]
    return table.to_html(index=False, border=0)


def _uncertainty_cost_table(u: UncertaintyResult, L: Labels) -> str:
    c, heads = u.cost_summary, L.headers("uncertainty_cost")
    out = pd.DataFrame({heads[0]: [L.value(m) for m in c["measure"]]})
    for col, name in zip(("mean_cny", "p10_cny", "p50_cny", "p90_cny"), heads[1:]):
        out[name] = [f"{v / 1e8:,.2f}" for v in c[col]]
    return out.to_html(index=False, border=0)


def _uncertainty_assumption_table(u: UncertaintyResult, L: Labels) -> str:
    a, names = assumption_table(u, L), L.headers("uncertainty_assumptions")
    num = lambda v: "-" if v != v else f"{v:,.2f}"  # noqa: E731
    out = pd.DataFrame(
        {
            names[0]: a["input"],
            names[1]: a["distribution"],
            names[2]: a["p5"].map(num),
            names[3]: a["median"].map(num),
            names[4]: a["p95"].map(num),
            names[5]: a["label"],
        }
    )
    return out.to_html(index=False, border=0, classes="wide")


def write_uncertainty_html(u: UncertaintyResult, title: str, path: str | Path, lang: str = "zh") -> Path:
    """A stand-alone page (plotly.js inlined, a CJK font subset embedded) with :func:`uncertainty_section`."""
    L = Labels(check_lang(lang))
    body, figs = uncertainty_section(u, L, include_plotlyjs=True)
    face, _ = font_face_css(_page_text([title, body], figs))
    path = Path(path)
    path.write_text(
        f'<!DOCTYPE html><html lang="{L.text("html_lang")}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{face}{CSS % FONT_STACK}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>",
        encoding="utf-8",
    )
    return path
