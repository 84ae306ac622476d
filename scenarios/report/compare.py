"""Scenarios side by side as a person reads them: the comparison table (one column per run, rows in the
report's language) and ``compare.html`` with the input fields that differ and their sources."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from scenarios.files import atomic_write
from scenarios.labels import Labels, check_lang
from scenarios.provenance import differences, provenance_rows
from scenarios.report.fonts import FONT_STACK, font_face_css
from scenarios.report.html import CSS, html_table
from scenarios.run.compare import RunRecord, _unique_names


def _rows_for(rec: RunRecord, L: Labels) -> dict[str, object]:
    """(metric label -> value) of one run, in the order the comparison shows them."""
    s, t, out = rec.summary, rec.tables, {}
    base, last = s["base_year"], s["target_year"]
    pop = t["population"]
    pop = pop[pop["variant"] == s.get("variant", "medium")]
    for y, v in zip(pop["year"], pop["population"]):
        if base <= y <= last:
            out[L.text("pop_in", year=int(y))] = round(float(v))
    if "need" in t and {"year", "kind", "need"} <= set(t["need"].columns):
        need = t["need"][t["need"]["year"] == last]
        if "tier" in need.columns and (need["tier"] == "all").any():
            need = need[need["tier"] == "all"]  # the 'all' rows already add the tiers up
        need = need.groupby("kind")["need"].sum()
        for kind, v in need.items():
            out[L.text("need_of", year=last, name=L.resource(kind))] = round(float(v))
    for kind, v in t["additions"].groupby("kind", sort=False)["added"].sum().items():
        out[L.text("added_total", name=L.resource(kind))] = round(float(v))
    for y, v in t["costs"].groupby("year")["total_cny"].sum().items():
        out[L.text("cost_in", year=int(y))] = round(float(v) / 1e4, 1)
    out[L.text("cost_total")] = round(float(s["total_cost_cny"]) / 1e8, 2)
    for row in t["attainment"].itertuples(index=False):
        name = L.resource(row.kind)
        if getattr(row, "measure", "ratio") == "private_share":  # a second target on the same kind (社会办医占比)
            name = L.text("compare_share_name", name=name)
        out[f"{name} {L.column('expr')}"] = L.text("compare_expr", expr=row.expr, nature=L.value(row.nature))
        out[L.text("att_of", name=name)] = f"{float(row.attainment) * 100:.1f}%"
    out[L.text("score")] = f"{float(s['attainment_score']) * 100:.1f}%"
    for kpi, v in (s.get("referral_last_year") or {}).items():
        if kpi in ("primary_share", "in_area_rate", "occupancy_hospital", "occupancy_primary"):
            out[L.text("kpi_of", year=last, name=L.kpi(kpi))] = "–" if v is None else f"{v * 100:.1f}%"
        elif kpi in ("visits_total", "up_referrals", "down_referrals", "discharges", "leakage"):
            out[L.text("kpi_of", year=last, name=L.kpi(kpi))] = "–" if v is None else round(v)
    return out


def comparison_table(records: list[RunRecord], L: Labels) -> pd.DataFrame:
    """One row per metric, one column per run (metric first); empty where a run lacks a metric."""
    per = {r.name: _rows_for(r, L) for r in records}
    metrics: list[str] = []
    for rows in per.values():
        metrics += [m for m in rows if m not in metrics]
    df = pd.DataFrame({name: [rows.get(m, "") for m in metrics] for name, rows in per.items()}, index=metrics)
    return df.rename_axis(L.column("metric")).reset_index()


def _cell(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def differences_table(records: list[RunRecord]) -> pd.DataFrame:
    """The input fields that differ between the records: field, then each run's value and source."""
    records = _unique_names(records)
    return differences({r.name: provenance_rows(r.scenario) for r in records})


def write_comparison(records: list[RunRecord], out_dir: str | Path, lang: str | None = None) -> list[Path]:
    """compare.csv (side by side), differences.csv (changed fields) and compare.html, each atomically."""
    records = _unique_names(records)
    L = Labels(check_lang(lang or records[0].scenario.get("report", {}).get("lang")))
    out = Path(out_dir)
    table = comparison_table(records, L)
    diff = differences_table(records)
    written = [
        atomic_write(out / "compare.csv", lambda p: table.to_csv(p, index=False)),
        atomic_write(out / "differences.csv", lambda p: diff.to_csv(p, index=False)),
    ]
    names = [r.name for r in records]
    side = html_table(list(table.columns), [[_cell(v) for v in row] for row in table.values.tolist()])
    if len(diff):
        header = [L.column("field")] + [f"{n}: {L.column(c)}" for n in names for c in ("value", "source")]
        changed = html_table(header, diff.fillna("").values.tolist(), cls="wide")
    else:
        changed = f"<p>{html.escape(L.text('compare_none'))}</p>"
    esc = html.escape
    body = (
        f"<h1>{esc(L.text('compare_title', names=' / '.join(names)))}</h1>"
        + "".join(
            f'<p class="note"><b>{esc(r.name)}</b>: {esc(str(r.scenario.get("description") or ""))}</p>'
            for r in records
        )
        + f"<h2>{esc(L.text('compare_diff'))}</h2>{changed}<h2>{esc(L.text('compare_table'))}</h2>{side}"
        + f'<p class="note">{esc(L.text("footer"))}</p>'
    )
    face, _ = font_face_css(html.unescape(body))
    page = (
        f'<!DOCTYPE html><html lang="{L.text("html_lang")}"><head><meta charset="utf-8">'
        f"<title>healthsim compare</title><style>{face}{CSS % FONT_STACK}</style></head><body>{body}</body></html>"
    )
    written.append(atomic_write(out / "compare.html", lambda p: p.write_text(page, encoding="utf-8")))
    return written
