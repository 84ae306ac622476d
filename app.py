"""healthsim what-if workbench (Streamlit): widgets and rendering only, like cli.py.

Start it with ``healthsim app [SCENARIO]``. Edits go through :mod:`scenarios.whatif` (the same code as
``healthsim whatif``), the plan through :func:`scenarios.run.pipeline.run_pipeline`, the files through
:func:`scenarios.run.outputs.write_outputs`. Bad input shows the CLI's message beside its field.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from optimize.result import AllocationPlan
from scenarios.amounts import AmountError, parse_cny
from scenarios.errors import input_errors
from scenarios.files import OutputError, inside
from scenarios.inputs.allocation import from_scenario
from scenarios.labels import Labels, check_lang, resource_label
from scenarios.loader import ScenarioError, builtin_names, load_raw, validate
from scenarios.report.html import uncertainty_figures, uncertainty_titles
from scenarios.report.outputs import write_outputs
from scenarios.report.words import diagnosis_words, probability_display, run_note, uncertainty_words
from scenarios.run.options import PipelineOptions
from scenarios.run.pipeline import PipelineResult, run_pipeline, simulate_plan
from scenarios.run.uncertainty import UncertaintyOptions, UncertaintyResult, run_uncertainty
from scenarios.schema import name_problem
from scenarios.whatif import (
    apply_edits,
    changed_fields,
    dumps_whatif,
    label_of,
    override_for,
    rate_field,
    save_whatif,
    whatif_document,
)

INPUT_ERRORS = input_errors()  # every engine is imported above, so the tuple is whole
RATES = (
    ("birth_rate", "birth rate (per 1,000 a year)"),
    ("death_rate", "death rate (per 1,000 a year)"),
    ("net_migration_rate", "net migration rate (per 1,000 a year)"),
)
NATURES = ("binding", "expected")
SWEEP_STEPS = 8
PLOTLY_CONFIG = {"displayModeBar": False}
COMPACT = (
    "<style>[data-testid='stMainBlockContainer']{padding-top:2rem}"
    "[data-testid='stSidebarHeader']{height:1rem;min-height:1rem}</style>"
)


class Form:
    """The sidebar's edits ({field: value}) and a message slot beside each field."""

    def __init__(self, ref: str, data: dict[str, Any]):
        self.ref, self.data = ref, data
        self.edits: dict[str, Any] = {}
        self.slots: dict[str, Any] = {}
        self.errors: list[str] = []

    def key(self, field: str) -> str:
        return f"{self.ref}|{field}"

    def slot(self, field: str) -> None:
        self.slots[field] = st.empty()

    def show(self, field: str, message: str) -> bool:
        """Put ``message`` beside the widget of ``field`` (or of the nearest enclosing field)."""
        match = [f for f in self.slots if field == f or field.startswith(f + ".")]
        if not match:
            return False
        self.slots[max(match, key=len)].error(message)
        return True


@st.cache_data(show_spinner=False)
def _raw(ref: str) -> tuple[dict[str, Any], str]:
    data, path = load_raw(ref)
    return data, str(path)


@st.cache_resource(show_spinner=False, max_entries=64)
def _pipeline(data_json: str, label: str, variant: str, calibrated: bool) -> PipelineResult:
    """Projection, plan and budget sweep of one what-if (cached on its data: moving a widget back is free)."""
    scenario = validate(json.loads(data_json), label)
    return run_pipeline(
        scenario, PipelineOptions(variant=variant, simulate=False, sweep_steps=SWEEP_STEPS, calibrated=calibrated)
    )


def _region(ref: str) -> str:
    try:
        r = _raw(ref)[0]["region"]
        return f"{r['name_cn']} {r['name']}"
    except (ScenarioError, KeyError):
        return ref


def _md(value: Any) -> str:
    """A cell as Markdown that shows as typed: '>4.0' is no quote, '-' no list, '|' no column."""
    text = re.sub(r"([\\`*\[\]<>|~])", r"\\\1", str(value))
    return re.sub(r"^([#+\-!])", r"\\\1", text)


def _table(df: pd.DataFrame, hide_index: bool = False) -> None:
    """``st.table`` reads cells as Markdown: escape them (:func:`_md`)."""
    out = df.map(_md)
    out.index = out.index.map(_md)
    st.table(out, hide_index=hide_index)


def _cny(x: float | None) -> str:
    """Amount in 亿元 (or 万元 below 1亿)."""
    if x is None:
        return "none"
    return f"{x / 1e8:,.2f} 亿元" if abs(x) >= 1e8 else f"{x / 1e4:,.0f} 万元"


# -- sidebar: the what-if -------------------------------------------------------------------------
def _pick_scenario() -> str:
    start = os.environ.get("HEALTHSIM_SCENARIO", "conghua")
    options = builtin_names()
    if start not in options:
        options = [start, *options]
    ref = st.sidebar.selectbox(
        "region (scenario)", options, index=options.index(start), format_func=_region, key="scenario"
    )
    return ref


def _population(form: Form, variant: str) -> bool:
    """Rate widgets; returns whether to calibrate net migration to the scenario's observed years."""
    pop = form.data["population"]
    observed = sorted(y for y, v in form.data.get("observed", {}).items() if "population" in v)
    calibrated = False
    with st.sidebar.expander("population", expanded=True):
        if observed:
            calibrated = st.checkbox(
                f"fit net migration to the observed populations ({', '.join(observed)})",
                value=True,
                key=form.key("calibrated"),
                help="as healthsim run does; untick to project with the rates below (healthsim run --uncalibrated)",
            )
        for rate, label in RATES:
            field = rate_field(form.data, variant, rate)
            node = pop["variants"][variant][rate] if field.startswith("population.variants") else pop[rate]
            value = st.number_input(label, value=float(node["value"]), step=0.5, format="%.2f", key=form.key(field))
            if node.get("path"):
                st.caption(f"in the scenario it moves to {node['path']}; a changed value holds every year")
            if calibrated and rate == "net_migration_rate":
                st.caption("the observed years are fitted; this rate holds from the latest observed year on")
            form.slot(field)
            if value != float(node["value"]):
                form.edits[field] = value
    return calibrated


def _targets(form: Form) -> None:
    with st.sidebar.expander("targets", expanded=True):
        for kind, res in form.data["resources"].items():
            target = res.get("target")
            if not target:
                continue
            field = f"resources.{kind}.target"
            c1, c2 = st.columns([2, 3])
            expr = c1.text_input(
                f"{resource_label(kind)} ({res['unit'].replace('_', ' ')})",
                value=target["expr"],
                key=form.key(f"{field}.expr"),
            )
            nature = c2.selectbox(
                "nature", NATURES, index=NATURES.index(target["nature"]), key=form.key(f"{field}.nature")
            )
            form.slot(field)
            if expr != target["expr"]:
                form.edits[f"{field}.expr"] = expr
            if nature != target["nature"]:
                form.edits[f"{field}.nature"] = nature


def _amount(form: Form, field: str, label: str) -> None:
    node = form.data.get("plan", {}).get(field.split(".")[-1])
    shown = f"{node['value'] / 1e8:g}亿" if node else ""
    text = st.text_input(label, value=shown, key=form.key(field), placeholder="none (e.g. 25亿 or 250000万)")
    form.slot(field)
    if text.strip() == shown:
        return
    try:
        value = parse_cny(text, field) if text.strip() else None
    except AmountError as exc:
        form.errors.append(str(exc))
        form.show(field, str(exc))
        return
    if value is not None:
        form.edits[field] = value


def _budget(form: Form) -> None:
    with st.sidebar.expander("budget", expanded=True):
        _amount(form, "plan.budget_total", "plan-period budget (CNY: 25亿, 250000万)")
        _amount(form, "plan.budget_per_year", "yearly budget cap (CNY)")
        modes = ("min-cost", "max-attainment")
        base = form.data.get("plan", {}).get("mode", "min-cost")
        mode = st.radio(
            "objective",
            modes,
            index=modes.index(base),
            horizontal=True,
            key=form.key("plan.mode"),
            help="min-cost meets every target at least cost; max-attainment gets closest within the budget",
        )
        if mode != base:
            form.edits["plan.mode"] = mode


def _hiring(form: Form) -> None:
    c = form.data.get("constraints", {})
    with st.sidebar.expander("hiring limits"):
        base_on = c.get("enabled", {}).get("hiring_limits", True)
        on = st.checkbox("limit yearly additions", value=base_on, key=form.key("constraints.enabled.hiring_limits"))
        if on != base_on:
            form.edits["constraints.enabled.hiring_limits"] = on
        for kind in form.data["resources"]:
            node = c.get("max_additions_share", {}).get(kind)
            if node is None:
                continue
            field = f"constraints.max_additions_share.{kind}"
            pct = st.number_input(
                f"{resource_label(kind)}: most added a year (% of base-year stock)",
                value=node["value"] * 100,
                step=1.0,
                format="%.1f",
                key=form.key(field),
                disabled=not on,
            )
            form.slot(field)
            if abs(pct / 100 - node["value"]) > 1e-9:
                form.edits[field] = pct / 100


def sidebar() -> tuple[Form, str, bool] | None:
    st.sidebar.title("healthsim workbench")
    ref = _pick_scenario()
    try:
        data, _ = _raw(ref)
    except ScenarioError as exc:
        st.error(str(exc))
        return None
    variants = ["medium", *data["population"].get("variants", {})]
    variant = st.sidebar.selectbox("population variant", variants, key=f"{ref}|variant")
    form = Form(ref, data)
    calibrated = _population(form, variant)
    _targets(form)
    _budget(form)
    _hiring(form)
    if st.sidebar.button("reset to the base scenario"):
        for k in [k for k in st.session_state if str(k).startswith(f"{ref}|")]:
            del st.session_state[k]
        st.rerun()
    return form, variant, calibrated


# -- main area: results -----------------------------------------------------------------------------
def _plan_table(plan: AllocationPlan) -> pd.DataFrame:
    adds = plan.additions.assign(kind=plan.additions["kind"].map(resource_label))
    wide = adds.pivot_table(
        index="year", columns=["kind", "tier", "ownership"], values="added", aggfunc="sum", sort=False
    )
    wide.index = wide.index.astype(str)
    wide.loc["total"] = wide.sum()
    return wide.map(lambda v: f"{v:,.0f}")


def _cost_table(r: PipelineResult) -> pd.DataFrame:
    by_year = r.plan.costs.groupby("year")[["capital_cny", "running_cny", "total_cny"]].sum() / 1e4
    by_year.index = by_year.index.astype(str)
    by_year.loc["total"] = by_year.sum()
    by_year.columns = ["capital (万元)", "running (万元)", "total (万元)"]
    return by_year.map(lambda v: f"{v:,.0f}")


def _attainment_table(r: PipelineResult) -> pd.DataFrame:
    a = r.plan.attainment
    return pd.DataFrame(
        {
            "resource": a["name"],
            "target": a["expr"],
            "nature": a["nature"],
            "achieved": [
                f"{v:.1%}" if m == "private_share" else f"{v:.2f}" for v, m in zip(a["achieved_ratio"], a["measure"])
            ],
            "attainment": a["attainment"].map(lambda v: f"{v * 100:.1f}%"),
            "shortfall": [
                ("–" if m else f"{s:.1%}" if u != u else f"{s:.3f} ({u:,.0f})")
                for m, s, u in zip(a["met"], a["shortfall_ratio"], a["shortfall_units"])
            ],
            "met": a["met"].map(lambda m: "yes" if m else "NO"),
        }
    )


def _cost_chart(r: PipelineResult) -> go.Figure:
    fig = go.Figure()
    for kind, df in r.plan.costs.groupby("kind", sort=False):
        by_year = df.groupby("year")["total_cny"].sum() / 1e8
        fig.add_trace(go.Bar(x=by_year.index, y=by_year.values, name=resource_label(kind)))
    fig.update_layout(
        barmode="relative",
        title="cost by year and resource (亿元)",
        xaxis=dict(dtick=1),
        yaxis_title="亿元",
        height=340,
        margin=dict(t=40, b=30, l=10, r=10),
    )
    return fig


def _sweep_chart(r: PipelineResult) -> go.Figure:
    fig = go.Figure()
    for (kind, expr), df in r.sweep.groupby(["kind", "expr"], sort=False):
        fig.add_trace(
            go.Scatter(
                x=df["budget_cny"] / 1e8,
                y=df["attainment"] * 100,
                mode="lines+markers",
                name=f"{resource_label(kind)} ({expr})",
            )
        )
    score = r.sweep.groupby("budget_cny", as_index=False)["score"].first()
    fig.add_trace(
        go.Scatter(
            x=score["budget_cny"] / 1e8,
            y=score["score"] * 100,
            mode="lines",
            name="weighted score",
            line=dict(dash="dash", color="black"),
        )
    )
    budget = r.plan.budget_total
    mark = budget if budget is not None else r.plan.total_cost
    fig.add_vline(
        x=mark / 1e8,
        line=dict(color="red", dash="dot"),
        annotation_text="budget" if budget is not None else "this plan's cost",
        annotation_position="bottom right",
    )
    fig.update_layout(
        title="attainment (%) against the plan-period budget (亿元)",
        xaxis_title="budget (亿元)",
        yaxis_title="attainment (%)",
        yaxis_range=[0, 105],
        height=360,
        margin=dict(t=40, b=30, l=10, r=10),
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def _headline(r: PipelineResult) -> None:
    p = r.plan
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("total cost", _cny(p.total_cost))
    c2.metric("weighted attainment", f"{p.attainment_score * 100:.1f}%")
    c3.metric("targets met", f"{int(p.attainment['met'].sum())} of {len(p.attainment)}")
    c4.metric("budget", _cny(p.budget_total))
    st.caption(
        run_note(r).capitalize()
        + f"; population variant {r.options.variant}."
        + (f" {r.calibration.describe()[0]}" if r.calibration is not None else "")
    )
    if r.diagnosis:
        st.warning(diagnosis_words(r.diagnosis, Labels("en")), icon="⚠️")


def plan_tab(r: PipelineResult) -> None:
    s = r.scenario
    st.markdown(
        f"**additions {s.base_year + 1}-{s.target_year} by year and tier** (beds, persons; "
        "staff include replacements for those who leave)"
    )
    _table(_plan_table(r.plan))
    left, right = st.columns([1, 1])
    with left:
        st.markdown(
            f"**targets in {s.target_year}: attainment and shortfalls** (shortfall per capita, and in beds or persons)"
        )
        _table(_attainment_table(r), hide_index=True)
        st.markdown("**cost per year**")
        _table(_cost_table(r))
    with right:
        if r.sweep is not None:
            st.plotly_chart(_sweep_chart(r), width="stretch", config=PLOTLY_CONFIG)
            st.caption(
                "each point is the best plan within that budget; the dotted line marks the current budget "
                "(or, without one, this plan's cost)"
            )
        st.plotly_chart(_cost_chart(r), width="stretch", config=PLOTLY_CONFIG)


def _store(name: str) -> dict:
    return st.session_state.setdefault(name, {})


def simulation_tab(r: PipelineResult, key: str) -> None:
    s = r.scenario
    if s.referral is None:
        st.info(f"scenario '{s.id}' has no [referral] section: nothing to simulate")
        return
    reps = int(st.number_input("replications", min_value=1, max_value=20, value=2, key="sim_reps"))
    runs = _store("simulations")
    if st.button("run the referral simulation on this plan", key="sim_run"):
        total = (s.target_year - s.base_year) * reps
        bar = st.progress(0.0, text="simulating")
        done = [0]

        def tick() -> None:
            done[0] += 1
            bar.progress(min(done[0] / total, 1.0), text=f"simulated {done[0]} of {total} year-replications")

        opts = PipelineOptions(**{**r.options.__dict__, "replications": reps})
        try:
            runs[key] = simulate_plan(s, r.projection, r.plan, opts, tick)
        except INPUT_ERRORS as exc:
            st.error(str(exc))
    sim = runs.get(key)
    if sim is None:
        st.caption(
            "patient flows in the medical alliances with this plan's beds and physicians, year by year "
            "(admissions and referrals; a few seconds per year and replication for a district)"
        )
        return
    summ = sim.summary()
    cell = summ.apply(
        lambda x: f"{x['mean']:,.3g}" + ("" if x["half_width"] != x["half_width"] else f" ± {x['half_width']:,.2g}"),
        axis=1,
    )
    _table(summ.assign(value=cell).pivot(index="kpi", columns="year", values="value"))


def _probability_table(u: UncertaintyResult) -> pd.DataFrame:
    """Per target: the share of drawn futures in which this plan (and the robust plan) meets it, in %."""
    table = probability_display(u, Labels("en"))
    table["this plan"] = [f"{v * 100:.0f}% ± {ci * 100:.0f}" for v, ci in zip(table["this plan"], table.pop("± (95%)"))]
    for col in table.columns[3:]:
        table[col] = table[col].map(lambda v: f"{v * 100:.0f}%")
    return table


def _uncertainty_problem(r: PipelineResult):
    """The allocation problem the pipeline planned (after any re-plan), or rebuilt as :func:`run_pipeline` builds it."""
    if r.problem is not None:
        return r.problem
    o = r.options  # resolved by run_pipeline: its budget is already the option's or the scenario's
    return from_scenario(r.scenario, r.projection, o.variant, o.budget, o.budget_per_year, o.basis)


def _run_uncertainty(r: PipelineResult, key: str) -> None:
    """The draws and robust-share widgets, and the full Monte Carlo (a least-cost LP per draw) on demand."""
    c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    draws = int(c1.number_input("drawn futures", min_value=10, max_value=5000, value=1000, step=100, key="unc_draws"))
    share = c2.slider(
        "robust plan: meets every target in this share of futures",
        min_value=0.5,
        max_value=0.99,
        value=0.9,
        step=0.01,
        key="unc_share",
    )
    if c3.button(f"run {draws:,} draws", key="unc_run"):
        opts = UncertaintyOptions(
            draws=draws, seed=r.options.seed, share=share, solve=True, calibrated=r.options.calibrated
        )
        try:
            with st.spinner(f"drawing {draws:,} futures and solving the least-cost plan in each"):
                _store("uncertainty")[key] = run_uncertainty(r.scenario, _uncertainty_problem(r), r.plan, opts)
        except (*INPUT_ERRORS, ValueError) as exc:
            st.error(str(exc))


def uncertainty_tab(r: PipelineResult, key: str) -> None:
    if r.uncertainty is None:
        st.info(f"scenario '{r.scenario.id}' has no per-capita targets: no probability to measure")
        return
    _run_uncertainty(r, key)
    u = _store("uncertainty").get(key) or r.uncertainty
    o = u.options
    st.caption(
        f"{o.draws:,} drawn futures of the rates and costs (seed {o.seed})"
        + (
            f", a least-cost plan solved in each ({u.solves:,} LP solves, {u.seconds:.1f} s)"
            if o.solve
            else ": the short summary of the plan run, without a solve per draw"
        )
    )
    L = Labels(check_lang(r.options.lang or r.scenario.report.lang))
    figs, titles = uncertainty_figures(u, L), uncertainty_titles(u, L)
    left, right = st.columns([1, 1])
    left.markdown("\n".join(f"- {_md(w)}" for w in uncertainty_words(u, Labels("en"))))
    with right:
        st.markdown(f"**probability of meeting each {u.target_year} target** (% of futures, ± 95% interval)")
        _table(_probability_table(u), hide_index=True)
    for cols, names in ((st.columns(1), ("probability",)), (st.columns(2), ("fan", "cost"))):
        for col, name in zip(cols, names):
            with col:
                st.markdown(f"**{titles[name]}**")
                st.plotly_chart(figs[name], width="stretch", config=PLOTLY_CONFIG, key=f"unc_{name}")
    if u.robust is not None:
        with st.expander(f"additions of the robust plan ({o.share:.0%} of futures): {_cny(u.robust.plan.total_cost)}"):
            _table(_plan_table(u.robust.plan))


def compare_tab(r: PipelineResult, base: PipelineResult, form: Form) -> None:
    fields = changed_fields(override_for(form.data, form.edits))
    if not fields:
        st.info("no field changed yet: the what-if is the base scenario")
        return
    st.write("changed: " + ", ".join(f"`{f}`" for f in fields))
    for col, title, res in zip(st.columns(2), ("base scenario", "what-if"), (base, r)):
        with col:
            st.subheader(title)
            a, b = st.columns(2)
            a.metric("total cost", _cny(res.plan.total_cost))
            b.metric("weighted attainment", f"{res.plan.attainment_score * 100:.1f}%")
            _table(_attainment_table(res), hide_index=True)
            _table(_cost_table(res))


def _outputs_tab(r: PipelineResult, key: str) -> None:
    files = _store("outputs")
    ran = {"simulation": _store("simulations").get(key), "uncertainty": _store("uncertainty").get(key)}
    if st.button("prepare the Excel workbook and the HTML report", key="outputs_make"):
        with tempfile.TemporaryDirectory() as tmp, st.spinner("writing"):
            full = PipelineResult(**{**r.__dict__, **{k: v for k, v in ran.items() if v is not None}})
            write_outputs(full, tmp)
            files[key] = {n: (Path(tmp) / n).read_bytes() for n in ("results.xlsx", "report.html")}
    if key in files:
        sid = r.scenario.id
        st.download_button(
            "Excel workbook (results.xlsx)",
            files[key]["results.xlsx"],
            f"{sid}_results.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        st.download_button(
            "HTML report (report.html)", files[key]["report.html"], f"{sid}_report.html", mime="text/html"
        )


def whatif_folder() -> Path:
    """The one folder the workbench saves what-ifs into: $HEALTHSIM_WHATIF_DIR, else ./whatifs."""
    return Path(os.environ.get("HEALTHSIM_WHATIF_DIR") or "whatifs")


def save_tab(r: PipelineResult, form: Form, variant: str, calibrated: bool, key: str) -> None:
    wid = st.text_input("id of the what-if", value=f"{form.data.get('id', 'scenario')}_whatif", key="whatif_id")
    header = f"What-if saved by the healthsim workbench from {form.ref}."
    flags = (f" --variant {variant}" if variant != "medium" else "") + ("" if calibrated else " --uncalibrated")
    if flags:
        header += f"\nPlanned in the workbench as: healthsim run FILE{flags}"
    if problem := name_problem(wid):
        st.error(f"id of the what-if: {problem}")
    else:
        _save_box(form, wid, header)
    st.divider()
    _outputs_tab(r, key)


def _save_box(form: Form, wid: str, header: str) -> None:
    """Download, or save into :func:`whatif_folder` (never outside it; replacing a file only when ticked)."""
    text = dumps_whatif(whatif_document(form.ref, form.edits, wid), header)
    st.download_button("download the what-if (TOML)", text, f"{wid}.toml", mime="application/toml")
    folder = whatif_folder()
    c1, c2 = st.columns([4, 1])
    name = c1.text_input(f"or save it on this computer in {folder} as", value=f"{wid}.toml", key="whatif_path")
    try:
        path = inside(folder, name, "file name")
    except OutputError as exc:
        st.error(str(exc))
        path = None
    replace = (
        path is not None
        and path.exists()
        and st.checkbox(f"replace the existing {path.name}", value=False, key=f"whatif_overwrite|{path.name}")
    )
    if c2.button("save", key="whatif_save") and path is not None:
        if path.exists() and not replace:
            st.warning(f"{path} exists: tick 'replace the existing {path.name}' to replace it, or choose another name")
        else:
            try:
                saved = save_whatif(form.ref, form.edits, path, wid, header=header, option="save as")
                st.success(f"saved {saved}; check it with: healthsim validate {saved}")
            except INPUT_ERRORS as exc:
                st.error(str(exc))
    st.code(text, language="toml")


def _invalid(form: Form, exc: ScenarioError) -> None:
    """Each problem beside its field (as the CLI words it), and all of them on top."""
    for field, msg in exc.problems:
        form.show(field, f"{exc.file}: {field}: {msg}" if field else f"{exc.file}: {msg}")
    st.error(f"The what-if is not valid; fix the marked fields.\n\n{exc}")


def results(form: Form, variant: str, calibrated: bool) -> None:
    if form.errors:
        st.error("\n\n".join(form.errors))
        return
    data = apply_edits(form.data, form.edits)
    key = json.dumps([data, variant, calibrated], sort_keys=True, ensure_ascii=False, default=str)
    try:
        r = _pipeline(json.dumps(data, sort_keys=True, ensure_ascii=False), label_of(form.ref), variant, calibrated)
        base = (
            r
            if not form.edits
            else _pipeline(
                json.dumps(form.data, sort_keys=True, ensure_ascii=False), str(form.ref), variant, calibrated
            )
        )
    except ScenarioError as exc:
        _invalid(form, exc)
        return
    except INPUT_ERRORS as exc:
        st.error(str(exc))
        return
    s = r.scenario
    st.subheader(f"{s.region.name_cn} {s.region.name}: plan {s.base_year + 1}-{s.target_year}")
    _headline(r)
    tabs = st.tabs(
        [
            "plan, cost and budget curve",
            "referral simulation",
            "uncertainty",
            "compare with the base",
            "save and download",
        ]
    )
    with tabs[0]:
        plan_tab(r)
    with tabs[1]:
        simulation_tab(r, key)
    with tabs[2]:
        uncertainty_tab(r, key)
    with tabs[3]:
        compare_tab(r, base, form)
    with tabs[4]:
        save_tab(r, form, variant, calibrated, key)


def main() -> None:
    st.set_page_config(page_title="healthsim workbench", layout="wide", initial_sidebar_state="expanded")
    st.markdown(COMPACT, unsafe_allow_html=True)
    got = sidebar()
    if got is None:
        return
    try:
        results(*got)
    except Exception as exc:  # never a traceback on the page: one line saying what went wrong
        st.error(f"{type(exc).__name__}: {exc}")


main()
