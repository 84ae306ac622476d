"""Every sentence a person reads about a result, in the report's language through :mod:`scenarios.labels`:
the cost and whole-unit lines, warnings, shadow prices, the unmet-target outlook and the Monte Carlo summary.
The stages and engines return numbers and kinds; the words are written here."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from scenarios.amounts import format_cny
from scenarios.labels import Labels, resource_label

if TYPE_CHECKING:
    from scenarios.run.pipeline import PipelineResult
    from scenarios.run.uncertainty import UncertaintyResult


# National hospital bed occupancy 2022: 71.0% (《2022年我国卫生健康事业发展统计公报》, NHC, 2023);
# a simulated occupancy below it warns that added beds may stand idle.
OCCUPANCY_REFERENCE = 0.71



def _target_name(t, L: Labels) -> str:
    """A target's name: the resource, or its private share (社会办医占比)."""
    if t.measure == "private_share":
        return f"{L.resource(t.kind)}（社会办医占比）" if L.lang == "zh" else t.name
    return L.resource(t.kind)


def cost_words(plan, L: Labels | None = None) -> str:
    """The cost sentence; a budget only when the plan has one (never a placeholder)."""
    L = L or Labels("en")
    money = (lambda v: L.cny(v)) if L.lang == "zh" else (lambda v: f"CNY {v:,.0f}")  # noqa: E731
    pv = L.text("cost_pv", pv=money(plan.present_value), rate=plan.discount_rate) if plan.discount_rate else ""
    budget = L.text("cost_budget", budget=money(plan.budget_total)) if plan.budget_total is not None else ""
    return L.text("cost_words", total=money(plan.total_cost), pv=pv, budget=budget)


def units_words(plan, L: Labels | None = None) -> str:
    """How the whole units were reached: the MILP (with its gap) or the LP rounded and repaired."""
    L = L or Labels("en")
    if not plan.integer:
        return L.text("units_fractional")
    gap = L.text("units_gap", gap=plan.mip_gap) if plan.mip_gap is not None else ""
    return L.text("units_milp" if plan.rounding == "milp" else "units_repaired", gap=gap)


def disinvestment_words(plan) -> str:
    """What the plan lets fall, in words (only possible with disinvestment on): units cut and the savings lines."""
    cut = plan.additions[plan.additions["removed"] > 0]
    saving = plan.costs[plan.costs["running_cny"] < 0]
    if not len(cut) and not len(saving):
        return ""
    by_kind = cut.groupby("kind")["removed"].sum()
    cuts = (" It cuts " + ", ".join(f"{v:,.0f} {resource_label(k)}" for k, v in by_kind.items()) + ".") if len(cut) else ""
    lines = (f" {len(saving)} running-cost lines are negative: savings on stock held below the base year "
             "(leavers not replaced, or cuts).") if len(saving) else ""
    return f"Disinvestment is on: pools of beds or staff may fall below their base-year stock.{cuts}{lines}"


def warnings(r: PipelineResult, L: Labels) -> list[str]:
    """Warnings in words: unmet targets (with the earliest year and the least change that would meet them on
    time), idle beds, private beds, cuts and savings."""
    s, p, out = r.scenario, r.plan, []
    look = r.outlook.set_index(["kind", "measure"]) if getattr(r, "outlook", None) is not None \
        and len(r.outlook) else pd.DataFrame()
    for t in p.attainment.itertuples(index=False):
        if not t.met:
            share = t.measure == "private_share"
            unit = "" if share else (L.value(s.resources[t.kind].unit) if t.kind in s.resources else t.unit)
            out.append(L.text("warn_unmet", name=_target_name(t, L), year=s.target_year, expr=t.expr, unit=unit,
                              achieved=t.achieved_ratio, short=0 if share else t.shortfall_units, cw=L.counter(t.kind)))
            if (t.kind, t.measure) in look.index:
                out.append(outlook_words(look.loc[(t.kind, t.measure)], L, t, r))
    if r.simulation is not None:
        summ = r.simulation.summary()
        occ = summ[(summ["kpi"] == "occupancy_hospital") & (summ["year"] == summ["year"].max())]
        if len(occ) and occ["mean"].iloc[0] < OCCUPANCY_REFERENCE:
            out.append(L.text("warn_occupancy", year=int(occ["year"].iloc[0]), what=L.kpi("occupancy_hospital"),
                              value=occ["mean"].iloc[0], limit=OCCUPANCY_REFERENCE))
    adds = p.additions
    if "ownership" in adds.columns:
        beds = adds[adds["kind"] == "beds"]
        private = beds.loc[beds["ownership"] == "private", "added"].sum()
        if beds["added"].sum() > 0 and private > 0:
            out.append(L.text("warn_private", share=private / beds["added"].sum(), private=private))
    if disinvestment_words(p):
        out.append(disinvestment_words(p))
    return out


def _amount(text: str, L: Labels) -> str:
    """'CNY 1,234' (the outlook's amounts) in the report's money words; other text as it is."""
    try:
        return L.cny(float(text.replace("CNY", "").replace(",", "").strip()))
    except ValueError:
        return text.replace("/yr", "/年") if L.lang == "zh" else text


def outlook_words(row, L: Labels, target=None, r: PipelineResult | None = None) -> str:
    """One unmet target's earliest year and least change: the optimizer's own sentence in English; in Chinese
    written from the same outlook columns (earliest_year, binding_limit, limit_now, needed)."""
    if L.lang == "en":
        return row["sentence"]
    from optimize.outlook import last_year  # the horizon the earliest year was searched to

    name = _target_name(target, L) if target is not None else row["name"]
    if pd.isna(row["earliest_year"]):
        last = last_year(r.problem) if r is not None and getattr(r, "problem", None) is not None else ""
        when = L.text("look_never", year=last)
    else:
        when = L.text("look_when", year=int(row["earliest_year"]))
    fam, now, need = row["binding_limit"], row["limit_now"] or "", row["needed"] or ""
    if fam in ("hiring_limits", "private_growth") and need:
        change = L.text("look_rate", need=need.replace("/yr", ""), now=now.replace("/yr", ""))
    elif fam in ("budget_total", "budget_per_year") and need:
        change = L.text("look_budget", family=L.family(fam), need=_amount(need, L), now=_amount(now, L))
    elif fam in ("others", "several"):
        change = L.text(f"look_{fam}")
    else:
        change = L.text("look_without", family=L.family(fam))
    return L.text("look_sentence", target=f"{name} {row['expr']}", when=when, change=change)


def dual_sentences(r: PipelineResult, L: Labels) -> list[str]:
    """What one more unit of each target costs (min-cost duals) in words; the optimizer's own words otherwise."""
    if L.lang == "en":
        return list(r.plan.duals["explanation"])
    if r.plan.mode != "min-cost":
        return _max_attainment_dual_sentences(r, L)
    s, Y, out = r.scenario, r.scenario.target_year, []
    pop = r.plan.ratios[r.plan.ratios["year"] == Y].groupby("kind")["population"].first()
    for d in r.plan.duals.itertuples(index=False):
        if d.constraint != "target" or d.kind not in s.resources or "percentage point" in d.unit:
            out.append(d.explanation)
            continue
        unit = s.resources[d.kind].unit
        expr = s.resources[d.kind].target.expr if s.resources[d.kind].target else ""
        if abs(d.dual) < 1e-6:
            out.append(L.text("dual_slack", name=L.resource(d.kind), expr=expr, unit=L.value(unit)))
        else:
            out.append(L.text("dual", year=Y, name=L.resource(d.kind), unit=L.value(unit), cw=L.counter(d.kind),
                              units=pop.get(d.kind, float("nan")) / float(unit.split("_")[1]), amount=L.cny(d.dual)))
    return out


def _max_attainment_dual_sentences(r: PipelineResult, L: Labels) -> list[str]:
    """The max-attainment duals (objective units per unit of target) in words, from the duals and attainment tables."""
    s, out = r.scenario, []
    met = {(a.kind, a.measure): bool(a.met) for a in r.plan.attainment.itertuples(index=False)}
    for d in r.plan.duals.itertuples(index=False):
        if d.constraint != "target" or d.kind not in s.resources or "percentage point" in d.unit:
            out.append(d.explanation)
            continue
        is_met, priced = met.get((d.kind, "ratio"), True), abs(d.dual) > 1e-4
        if not is_met and not priced:
            out.append(d.explanation)  # short with no weight: the optimizer's own words
            continue
        key = "dual_max_short" if not is_met else ("dual_max_exact" if priced else "dual_max_met")
        out.append(L.text(key, name=L.resource(d.kind), per=L.value(s.resources[d.kind].unit), value=abs(d.dual)))
    return out


def share_words(share: float, L: Labels | None = None) -> str:
    """0.9 -> '9 of 10 futures' (每10个情景中的9个); 0.95 -> '95% of futures'."""
    L = L or Labels("en")
    tenths = share * 10
    return L.text("mc_share_tenths", k=round(tenths)) if abs(tenths - round(tenths)) < 1e-9 else L.text("mc_share_pct", p=share)


def target_text(row, L: Labels, unit: bool = True) -> str:
    """A probability row's target as read in the report: 'beds 6.46 per 1,000' (每千人口床位 6.46); a target
    written as growth ('+30%') also gives the ratio it stands for; need rows say 'need'."""
    res = L.resource(row.kind)
    if row.nature == "need":
        word = f"{res}需求" if L.lang == "zh" else f"{res} needed"
        return f"{word} {row.expr}{L.counter(row.kind)}" if unit else word
    if row.unit == "share":
        return f"社会办医院{res}占比 {row.expr}" if L.lang == "zh" else f"{row.name} {row.expr}"
    per = L.value(f"per_{int(row.divisor)}")
    try:
        float(str(row.expr).lstrip("<>=≤≥ "))
        numeric = True
    except ValueError:
        numeric = False
    if not unit:
        return f"{res} {row.expr}"
    if numeric:
        return f"{per}{res} {row.expr}" if L.lang == "zh" else f"{row.name} {row.expr} {per}"
    return f"{res} {row.expr}（{per}{row.ratio:.2f}）" if L.lang == "zh" else f"{row.name} {row.expr} ({row.ratio:.2f} {per})"


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
            lines.append(L.text("mc_need", year=Y, name=L.resource(row.kind), units=row.ratio,
                                counter=L.counter(row.kind), p=row.probability, se=1.96 * row.std_error))
        else:
            lines.append(L.text("mc_target", target=target_text(row, L), p=row.probability, se=1.96 * row.std_error))
    nominal = r.cost_summary.set_index("measure").loc["plan cost (nominal)"]
    lines.append(L.text("mc_cost", cost=format_cny(r.plan_cost), p50=format_cny(nominal.p50_cny),
                        p10=format_cny(nominal.p10_cny), p90=format_cny(nominal.p90_cny)))
    if r.reachable_share is not None:
        lines.append(L.text("mc_reachable", p=r.reachable_share))
    if r.robust is not None and r.premium is not None:
        key = "mc_robust" if r.robust.diagnosis is None else "mc_robust_best"  # met for its quantile populations
        robust, plan = _distinct(r.robust.plan.total_cost, r.plan_cost)
        lines.append(L.text(key, share=share_words(r.options.share, L), amount=format_cny(abs(r.premium)),
                            more=L.text("mc_more" if r.premium >= 0 else "mc_less"),
                            robust=robust, plan=plan, joint=r.robust_joint))
        if r.budget_total is not None and r.robust.plan.total_cost > r.budget_total:
            lines.append(L.text("mc_over_budget", budget=format_cny(r.budget_total)))
    return lines


def probability_display(u: UncertaintyResult, L: Labels) -> pd.DataFrame:
    """The probability table as read (report, workbook, app): target, nature, this plan's probability and its
    95% half-width, the robust plan's probability (0-1), with headers in ``L``'s language."""
    zh, p = L.lang == "zh", u.probabilities
    share = f"{u.options.share:.0%}" if u.options.share is not None else ""
    heads = ("目标", "性质", "本规划达标概率", "±（95%）", f"稳健规划（{share}）") if zh else \
        ("target", "nature", "this plan", "± (95%)", f"robust plan ({share})")
    out = pd.DataFrame({heads[0]: [target_text(r, L) for r in p.itertuples(index=False)],
                        heads[1]: [L.value(n) for n in p["nature"]],
                        heads[2]: p["probability"].to_numpy(), heads[3]: 1.96 * p["std_error"].to_numpy()})
    if "robust_probability" in p and u.options.share is not None:
        out[heads[4]] = p["robust_probability"].to_numpy()
    return out
