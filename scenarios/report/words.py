"""Every sentence a person reads about a result, in the report's language through :mod:`scenarios.labels`:
the cost and whole-unit lines, warnings, shadow prices, the unmet-target outlook and the Monte Carlo summary.
The stages and engines return numbers and kinds; the words are written here."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import pandas as pd

from scenarios.amounts import format_cny
from scenarios.labels import Labels

if TYPE_CHECKING:
    from scenarios.run.pipeline import PipelineResult
    from scenarios.run.uncertainty import UncertaintyResult


# National hospital bed occupancy 2022: 71.0% (《2022年我国卫生健康事业发展统计公报》, NHC, 2023);
# a simulated occupancy below it warns that added beds may stand idle.
OCCUPANCY_REFERENCE = 0.71


def _target_name(t, L: Labels) -> str:
    """A target's name (anything with ``kind``, ``measure`` and the engine's ``name``): the resource, or its
    private share (社会办医占比)."""
    key = "target_name_share" if t.measure == "private_share" else "target_name"
    return L.text(key, res=L.resource(t.kind), name=t.name)


def _step(d, L: Labels) -> str:
    """One step of a target's measure: one unit of its ratio (one per 1,000) or one percentage point."""
    return L.text("step_point") if d.measure == "private_share" else L.text("step_ratio", unit=L.unit_label(d.per))


def value_text(value: float, measure: str, unit: str, L: Labels) -> str:
    """A target's value: ``3.85 per 1,000`` (3.85 每千人口) or, for a private share, ``29.6%``."""
    return f"{value:.1%}" if measure == "private_share" else f"{value:.3g} {L.unit_label(unit)}"


def cost_words(plan, L: Labels | None = None) -> str:
    """The cost sentence; a budget only when the plan has one (never a placeholder)."""
    L = L or Labels("en")
    pv = L.text("cost_pv", pv=L.money(plan.present_value), rate=plan.discount_rate) if plan.discount_rate else ""
    budget = L.text("cost_budget", budget=L.money(plan.budget_total)) if plan.budget_total is not None else ""
    return L.text("cost_words", total=L.money(plan.total_cost), pv=pv, budget=budget)


def units_words(plan, L: Labels | None = None) -> str:
    """How the whole units were reached: the MILP (with its gap) or the LP rounded and repaired."""
    L = L or Labels("en")
    if not plan.integer:
        return L.text("units_fractional")
    gap = L.text("units_gap", gap=plan.mip_gap) if plan.mip_gap is not None else ""
    return L.text("units_milp" if plan.rounding == "milp" else "units_repaired", gap=gap)


def disinvestment_words(plan, L: Labels | None = None) -> str:
    """What the plan lets fall, in words (only possible with disinvestment on): units cut and the savings lines."""
    cut = plan.additions[plan.additions["removed"] > 0]
    saving = plan.costs[plan.costs["running_cny"] < 0]
    if not len(cut) and not len(saving):
        return ""
    L = L or Labels("en")
    by_kind = cut.groupby("kind")["removed"].sum()
    items = L.text("list_sep").join(
        L.text("disinvest_item", units=v, name=L.resource(k), cw=L.counter(k)) for k, v in by_kind.items()
    )
    cuts = L.text("disinvest_cuts", items=items) if len(cut) else ""
    lines = L.text("disinvest_lines", n=len(saving)) if len(saving) else ""
    return L.text("disinvest", cuts=cuts, lines=lines)


def warnings(r: PipelineResult, L: Labels) -> list[str]:
    """Warnings in words: unmet targets (with the earliest year and the least change that would meet them on
    time), idle beds, private beds, cuts and savings."""
    s, p, out = r.scenario, r.plan, []
    outlook = getattr(r, "outlook", None)
    look = {} if outlook is None else {(row["kind"], row["measure"]): row for _, row in outlook.iterrows()}
    for t in p.attainment.itertuples(index=False):
        if not t.met:
            share = t.measure == "private_share"
            unit = "" if share else (L.value(s.resources[t.kind].unit) if t.kind in s.resources else t.unit)
            out.append(
                L.text(
                    "warn_unmet",
                    name=_target_name(t, L),
                    year=s.target_year,
                    expr=t.expr,
                    unit=unit,
                    achieved=t.achieved_ratio,
                    short=0 if share else t.shortfall_units,
                    cw=L.counter(t.kind),
                )
            )
            if (t.kind, t.measure) in look:
                out.append(outlook_words(look[t.kind, t.measure], L, t))
    if r.simulation is not None:
        summ = r.simulation.summary()
        occ = summ[(summ["kpi"] == "occupancy_hospital") & (summ["year"] == summ["year"].max())]
        if len(occ) and occ["mean"].iloc[0] < OCCUPANCY_REFERENCE:
            out.append(
                L.text(
                    "warn_occupancy",
                    year=int(occ["year"].iloc[0]),
                    what=L.kpi("occupancy_hospital"),
                    value=occ["mean"].iloc[0],
                    limit=OCCUPANCY_REFERENCE,
                )
            )
    adds = p.additions
    if "ownership" in adds.columns:
        beds = adds[adds["kind"] == "beds"]
        private = beds.loc[beds["ownership"] == "private", "added"].sum()
        if beds["added"].sum() > 0 and private > 0:
            out.append(L.text("warn_private", share=private / beds["added"].sum(), private=private))
    if disinvestment_words(p, L):
        out.append(disinvestment_words(p, L))
    return out


def limit_text(value, unit: str, L: Labels) -> str:
    """A limit of the outlook: a share of the base-year stock a year (15%/yr), an amount of CNY, or '' (none)."""
    if value is None or pd.isna(value) or not unit:
        return ""
    return L.text("per_year", share=value) if unit == "share_per_year" else L.money(value)


def outlook_words(row, L: Labels, target=None) -> str:
    """One unmet target's earliest year and least change, from its outlook row (earliest_year, horizon,
    binding_limit, change, limit_now, needed, limit_unit, pool, scale)."""
    name = _target_name(target if target is not None else row_ns(row), L)
    if pd.isna(row["earliest_year"]):
        when = L.text("look_never", year=int(row["horizon"]))
    else:
        when = L.text("look_when", year=int(row["earliest_year"]))
    fam, case = row["binding_limit"], row["change"]
    if case in ("rate", "scale"):
        what = (
            "what_private" if row["pool"] == "private" else "what_additions" if row["kind"] == "beds" else "what_hiring"
        )
        change = L.text(
            f"look_{case}",
            need=f"{row['needed']:.0%}",
            now=f"{row['limit_now']:.0%}",
            what=L.text(what),
            scale=row["scale"],
            label=row["label"],
        )
    elif case == "budget":
        change = L.text(
            f"look_{fam}", family=L.family_words(fam), need=L.money(row["needed"]), now=L.money(row["limit_now"])
        )
    elif case in ("others", "several", "rate_other"):
        change = L.text(f"look_{case}")
    else:
        change = L.text("look_without", family=L.family_words(fam))
    key = "look_target_share" if row["measure"] == "private_share" else "look_target"
    target = L.text(key, name=name, expr=row["expr"], unit=row["unit"])
    return L.text("look_sentence", target=target, when=when, change=change)


def row_ns(row):
    """An outlook row (a Series, whose ``.name`` is its index) as something with ``kind``, ``measure`` and ``name``."""
    return SimpleNamespace(kind=row["kind"], measure=row["measure"], name=row["name"])


def outlook_sentences(look: pd.DataFrame | None, L: Labels) -> list[str]:
    """Every outlook row's sentence, in order."""
    return [] if look is None else [outlook_words(row, L) for _, row in look.iterrows()]


def dual_words(plan, L: Labels | None = None) -> list[str]:
    """What each shadow price of ``plan`` means, one sentence a row of its ``duals`` table: what one more unit
    of a target costs (min-cost), how it weighs on the others (max-attainment), what the budget is worth."""
    L = L or Labels("en")
    return [_dual_sentence(d, plan, L) for d in plan.duals.itertuples(index=False)]


def _dual_sentence(d, plan, L: Labels) -> str:
    if d.constraint == "budget_total":
        if d.unit == "cny_per_cny":
            return L.text("budget_binds", value=d.dual) if d.dual > 1e-9 else L.text("budget_slack")
        if d.dual > 1e-9:
            return L.text("budget_points", value=d.dual)
        return L.text("budget_all_met") if d.unmet == 0 else L.text("budget_unmet", unmet=d.unmet, n=d.targets)
    name, step = _target_name(d, L), _step(d, L)
    if d.unit == "cny":
        if d.dual < 1e-6:
            return L.text("dual_slack", name=name, expr=d.expr, per=d.per, unit=L.unit_label(d.per))
        pv = L.text("dual_pv", rate=plan.discount_rate) if plan.discount_rate else ""
        amount = L.money(d.dual)
        if d.sense == "ceiling":
            return L.text("dual_ceiling", year=d.year, name=name, step=step, amount=amount, pv=pv)
        size = L.text("dual_size", units=d.units, name=name, cw=L.counter(d.kind)) if d.measure == "ratio" else ""
        return L.text("dual", year=d.year, name=name, step=step, size=size, amount=amount, pv=pv)
    per = L.unit_label(d.per) or L.text("share_per")
    if d.dual > 1e-4:
        key = "dual_max_exact" if d.met else "dual_max_short"
        return L.text(key, name=name, step=step, per=per, value=d.dual)
    return L.text("dual_max_met" if d.met else "dual_max_unpriced", name=name)


def dual_unit(d, L: Labels) -> str:
    """A shadow price's unit in words (CNY per one per 1,000)."""
    return L.text(f"dual_unit_{d.unit}", step=_step(d, L))


def diagnosis_words(d, L: Labels | None = None) -> str:
    """Why no plan meets every target, from a :class:`optimize.solve.Diagnosis` (lines joined by newlines)."""
    L = L or Labels("en")
    join = L.text("diag_join")
    if d.case == "contradiction":
        others = join.join(L.family_words(f) for f in d.families) or L.text("diag_nothing_else")
        text = L.text("diag_contradiction", family=L.family_words(d.family), others=others)
        if d.unit == "nurses_per_physician":
            text += L.text("diag_nurse", ratio=d.limit, year=d.year)
        elif d.family.startswith("budget"):
            text += L.text("diag_budget_floor")
        return text + L.text("diag_relax")
    if d.case != "targets":
        return L.text("diag_unknown")
    families = join.join(L.family_code(f) for f in d.families)
    also = L.text("diag_also", families=families) if d.families else L.text("diag_end")
    lines = [L.text("diag_targets", year=d.year, family=L.family_words(d.family), also=also)]
    if d.family == "budget_total" and d.limit is not None:
        lines.append(
            L.text(
                "diag_budget_total", need=L.money(d.needed), budget=L.money(d.limit), short=L.money(d.needed - d.limit)
            )
        )
    elif d.family == "budget_per_year" and d.limit is not None:
        lines.append(L.text("diag_budget_per_year", peak=L.money(d.needed), cap=L.money(d.limit)))
    if d.shortfalls:
        lines.append(L.text("diag_best"))
        lines.extend(
            L.text(
                "diag_short",
                name=_target_name(t, L),
                region=t.region,
                expr=t.expr,
                value=value_text(t.reached, t.measure, t.unit, L),
                short=value_text(t.short, t.measure, t.unit, L),
            )
            for t in d.shortfalls
        )
    lines.append(L.text("diag_next"))
    return "\n".join(lines)


def worded_tables(tables: dict[str, pd.DataFrame], plan, L: Labels) -> dict[str, pd.DataFrame]:
    """``tables`` with the shadow prices and the outlook as read: the duals' unit and explanation, the outlook's
    limits and sentence in words (the columns the CSV files and the workbook have always had)."""
    out = dict(tables)
    duals = tables.get("duals")
    if duals is not None:
        rows = list(duals.itertuples(index=False))
        out["duals"] = pd.DataFrame(
            {
                "constraint": duals["constraint"],
                "region": duals["region"],
                "kind": duals["kind"],
                "dual": duals["dual"],
                "unit": [dual_unit(d, L) for d in rows],
                "explanation": [_dual_sentence(d, plan, L) for d in rows],
            },
            columns=["constraint", "region", "kind", "dual", "unit", "explanation"],
        )
    look = tables.get("outlook")
    if look is not None:
        worded = look[
            [
                "region",
                "kind",
                "measure",
                "name",
                "expr",
                "unit",
                "target_ratio",
                "reached_ratio",
                "earliest_year",
                "binding_limit",
            ]
        ].copy()
        worded["limit_now"] = [limit_text(v, u, L) for v, u in zip(look["limit_now"], look["limit_unit"])]
        worded["needed"] = [limit_text(v, u, L) for v, u in zip(look["needed"], look["limit_unit"])]
        worded["sentence"] = outlook_sentences(look, L)
        out["outlook"] = worded
    return out


def share_words(share: float, L: Labels | None = None) -> str:
    """0.9 -> '9 of 10 futures' (每10个情景中的9个); 0.95 -> '95% of futures'."""
    L = L or Labels("en")
    tenths = share * 10
    return (
        L.text("mc_share_tenths", k=round(tenths))
        if abs(tenths - round(tenths)) < 1e-9
        else L.text("mc_share_pct", p=share)
    )


def target_text(row, L: Labels, unit: bool = True) -> str:
    """A probability row's target as read in the report: 'beds 6.46 per 1,000' (每千人口床位 6.46); a target
    written as growth ('+30%') also gives the ratio it stands for; need rows say 'need'."""
    res = L.resource(row.kind)
    if row.nature == "need":
        word = L.text("need_word", res=res)
        return L.text("need_target", word=word, expr=row.expr, cw=L.counter(row.kind)) if unit else word
    if row.unit == "share":
        return L.text("share_target", res=res, name=row.name, expr=row.expr)
    per = L.value(f"per_{int(row.divisor)}")
    try:
        float(str(row.expr).lstrip("<>=≤≥ "))
        numeric = True
    except ValueError:
        numeric = False
    if not unit:
        return f"{res} {row.expr}"
    fields = dict(per=per, res=res, name=row.name, expr=row.expr, ratio=row.ratio)
    return L.text("numeric_target" if numeric else "growth_target", **fields)


def _distinct(a: float, b: float) -> tuple[str, str]:
    """Two amounts written with as many 亿 digits as it takes to tell them apart (9.22亿 against 9.20亿)."""
    for digits in (None, 2, 3):
        x, y = format_cny(a, digits), format_cny(b, digits)
        if x != y or a == b:
            break
    return x, y


def uncertainty_words(r: UncertaintyResult, L: Labels | None = None) -> list[str]:
    """The result in sentences: each target's chance, every target together, need, cost spread, the robust plan."""
    L = L or Labels("en")
    n, Y = r.options.draws, r.target_year
    lines = [L.text("mc_joint", n=n, seed=r.options.seed, p=r.joint, year=Y)]
    for row in r.probabilities.itertuples(index=False):
        if row.nature == "need":
            lines.append(
                L.text(
                    "mc_need",
                    year=Y,
                    name=L.resource(row.kind),
                    units=row.ratio,
                    counter=L.counter(row.kind),
                    p=row.probability,
                    se=1.96 * row.std_error,
                )
            )
        else:
            lines.append(L.text("mc_target", target=target_text(row, L), p=row.probability, se=1.96 * row.std_error))
    nominal = r.cost_summary.set_index("measure").loc["plan cost (nominal)"]
    lines.append(
        L.text(
            "mc_cost",
            cost=format_cny(r.plan_cost),
            p50=format_cny(nominal.p50_cny),
            p10=format_cny(nominal.p10_cny),
            p90=format_cny(nominal.p90_cny),
        )
    )
    if r.reachable_share is not None:
        lines.append(L.text("mc_reachable", p=r.reachable_share))
    if r.robust is not None and r.premium is not None:
        key = "mc_robust" if r.robust.diagnosis is None else "mc_robust_best"  # met for its quantile populations
        robust, plan = _distinct(r.robust.plan.total_cost, r.plan_cost)
        lines.append(
            L.text(
                key,
                share=share_words(r.options.share, L),
                amount=format_cny(abs(r.premium)),
                more=L.text("mc_more" if r.premium >= 0 else "mc_less"),
                robust=robust,
                plan=plan,
                joint=r.robust_joint,
            )
        )
        if r.budget_total is not None and r.robust.plan.total_cost > r.budget_total:
            lines.append(L.text("mc_over_budget", budget=format_cny(r.budget_total)))
    return lines


def probability_display(u: UncertaintyResult, L: Labels) -> pd.DataFrame:
    """The probability table as read (report, workbook, app): target, nature, this plan's probability and its
    95% half-width, the robust plan's probability (0-1), with headers in ``L``'s language."""
    p = u.probabilities
    share = f"{u.options.share:.0%}" if u.options.share is not None else ""
    heads = L.headers("probability", share=share)
    out = pd.DataFrame(
        {
            heads[0]: [target_text(r, L) for r in p.itertuples(index=False)],
            heads[1]: [L.value(n) for n in p["nature"]],
            heads[2]: p["probability"].to_numpy(),
            heads[3]: 1.96 * p["std_error"].to_numpy(),
        }
    )
    if "robust_probability" in p and u.options.share is not None:
        out[heads[4]] = p["robust_probability"].to_numpy()
    return out


def plan_note(mode: str, budget: float | None, reached: bool, L: Labels | None = None) -> str:
    """How the plan was reached: its ``mode`` within the ``budget`` (CNY, None: no cap), or, when no plan meets
    every target (``reached`` False), that this is the best reachable plan."""
    L = L or Labels("en")
    money = {} if budget is None else {"budget": L.cny(budget), "amount": budget}
    if not reached:
        return L.text("note_best_budget" if budget is not None else "note_best_least", **money)
    name = L.value(mode) if L.lang == "zh" else mode
    return L.text("note_plan_budget" if budget is not None else "note_plan", mode=name, **money)


def run_note(r: PipelineResult, L: Labels | None = None) -> str:
    """:func:`plan_note` of a pipeline run."""
    return plan_note(r.plan.mode, r.plan.budget_total, r.diagnosis is None, L)


def _assumption_note(row, L: Labels) -> str:
    if row.note == "scenario":
        return row.label
    if row.note == "variants":
        names = str(row.detail).split(",")
        shown = L.text("variant_sep").join(_code(v, L) for v in names)
        return L.text("mc_note_variants", variants=shown, plural="s" if len(names) > 1 else "")
    return L.text(f"mc_note_{row.note}", year=row.detail)


def assumption_table(u: UncertaintyResult, L: Labels) -> pd.DataFrame:
    """The Monte Carlo's assumptions as read: input, distribution and label in words, p5, median and p95."""
    a = u.assumptions
    return pd.DataFrame(
        {
            "input": a["input"],
            "distribution": [L.text(f"mc_dist_{d}") for d in a["distribution"]],
            "p5": a["p5"],
            "median": a["median"],
            "p95": a["p95"],
            "label": [_assumption_note(r, L) for r in a.itertuples(index=False)],
        }
    )


def _code(value: str, L: Labels) -> str:
    """A kind inside a sentence: its code in English (``hospital``, ``low``), its name in Chinese (医院, 低方案)."""
    return L.value(value) if L.lang == "zh" else value


def _breach_reason(cause: str, value: float, limit: float, L: Labels) -> str:
    return L.text(f"rp_reason_{cause}", value=value, limit=limit)


def overbuilt_words(flags, L: Labels | None = None) -> list[str]:
    """One sentence per tier overbuilt for the demand (:class:`scenarios.run.replan.Overbuilt`)."""
    L = L or Labels("en")
    out = []
    for f in flags:
        why = (
            L.text("rp_overbuilt_added", added=f.added)
            if f.added is not None
            else L.text("rp_overbuilt_base", base_year=f.base_year)
        )
        out.append(
            L.text(
                "rp_overbuilt",
                tier=_code(f.tier, L),
                occ=f.occupancy,
                year=f.year,
                lo=f.floor,
                spare=f.spare,
                target=f.target,
                why=why,
            )
        )
    return out


def replan_words(r, L: Labels | None = None) -> str:
    """How the plan -> simulate -> re-plan loop ended (:class:`scenarios.run.replan.ReplanResult`), in a sentence."""
    L = L or Labels("en")
    it = r.count
    reasons = L.text("rp_reason_sep").join(
        L.text("rp_reason_of", tier=_code(b.tier, L), why=_breach_reason(b.cause, b.value, b.limit, L))
        for b in r.breaches
    )
    if r.stop == "fixed_point":
        lo, hi = r.band
        band = L.text("rp_band_flagged" if r.flags else "rp_band_inside", lo=lo, hi=hi)
        k = r.kpi
        return L.text(
            "rp_fixed_point",
            it=it,
            plural="s" * (it > 1),
            year=r.year,
            occ_h=k["occupancy_hospital"],
            occ_p=k["occupancy_primary"],
            band=band,
            wait=k["bed_wait_p95_days"],
        )
    if r.stop == "stalled":
        return L.text("rp_stalled", it=it, reasons=reasons)
    return L.text("rp_limit", limit=r.limit, reasons=reasons)


def replan_table(iterations: pd.DataFrame, L: Labels | None = None) -> pd.DataFrame:
    """The re-plan iterations as read: each row's action in words (raise to N beds and why, or within standards)."""
    from scenarios.run.replan import ITERATION_COLUMNS

    L = L or Labels("en")
    action = [
        L.text("rp_action_raise", floor=r.raise_to, why=_breach_reason(r.cause, r.value, r.limit, L))
        if r.action == "raise"
        else L.text("rp_action_within")
        for r in iterations.itertuples(index=False)
    ]
    return iterations.assign(action=action)[ITERATION_COLUMNS]
