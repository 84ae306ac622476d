"""results.xlsx for finance officers: 汇总 first, year x resource pivots in whole units and 万元, frozen
headers, widths, attainment, each cost line explained, and every assumption with its source (XlsxWriter)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from scenarios.labels import Labels, check_lang
from scenarios.provenance import provenance_rows
from scenarios.report.words import probability_display, run_note, uncertainty_words, worded_tables

if TYPE_CHECKING:
    from scenarios.run.pipeline import PipelineResult

# Number formats of the workbook, by column: whole units, 万元 (values / 10,000), ratios, shares.
UNITS_COLUMNS = {"added", "stock", "population", "births", "deaths", "migration", "shortfall_units"}
RATIO_COLUMNS = {"ratio", "target_ratio", "achieved_ratio", "shortfall_ratio", "weight"}
SHARE_COLUMNS = {"attainment", "score", "share_60plus", "share_65plus"}
FORMATS = {
    "year": "0",
    "units": "#,##0",
    "wan": "#,##0.0",
    "ratio": "0.00",
    "share": "0.0%",
    "number": "#,##0.###",
    "text": "@",
}


def group_columns(df: pd.DataFrame, drop: tuple[str, ...] = ("region", "year")) -> list[str]:
    """The label columns of a tidy table (kind, tier, and any other text column such as ownership); ownership
    only where some capacity is privately run."""
    return [
        c
        for c in df.columns
        if c not in drop
        and not pd.api.types.is_numeric_dtype(df[c])
        and not (c == "ownership" and set(df[c]) <= {"public"})
    ]


def _kind_of_column(name: str, series: pd.Series) -> str:
    if name == "year":
        return "year"
    if name.endswith("_cny"):
        return "wan"
    if name in UNITS_COLUMNS:
        return "units"
    if name in RATIO_COLUMNS:
        return "ratio"
    if name in SHARE_COLUMNS:
        return "share"
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return "text"
    return "number"


def _width(values: list) -> int:
    """Column width in Excel characters (CJK characters count two)."""
    widest = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(v)) for v in values), default=6)
    return max(6, min(60, widest + 2))


class Book:
    """An XlsxWriter workbook with the formats of a finance workbook (bold frozen headers, 万元, whole units)."""

    def __init__(self, path: Path, L: Labels):
        import xlsxwriter

        self.wb, self.L = xlsxwriter.Workbook(str(path)), L
        self.head = self.wb.add_format(
            {"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.title = self.wb.add_format({"bold": True, "font_size": 14})
        self.bold = self.wb.add_format({"bold": True})
        self.fmt = {k: self.wb.add_format({"num_format": v}) for k, v in FORMATS.items()}
        self.fmt["wrap"] = self.wb.add_format({"text_wrap": True, "valign": "top"})

    def frame(
        self,
        name: str,
        df: pd.DataFrame,
        headers: list[str] | None = None,
        kinds: list[str] | None = None,
        ws=None,
        row: int = 0,
        freeze: bool = True,
    ):
        """Write ``df`` as a table with translated headers and per-column number formats; return (sheet, next row)."""
        ws = ws or self.wb.add_worksheet(name[:31])
        L = self.L
        headers = headers or [L.column(c) for c in df.columns]
        kinds = kinds or [_kind_of_column(c, df[c]) for c in df.columns]
        ws.write_row(row, 0, headers, self.head)
        for j, (col, kind) in enumerate(zip(df.columns, kinds)):
            values = df[col].tolist()
            if kind == "wan":
                values = [v / 1e4 if v == v else None for v in values]
            elif kind == "text":
                name = {"kind": L.resource, "kpi": L.kpi}.get(col, L.value)
                values = [name(v) if isinstance(v, (str, bool)) else v for v in values]
            for i, v in enumerate(values):
                if isinstance(v, float) and v != v:
                    continue
                ws.write(row + 1 + i, j, v, self.fmt["text" if kind == "text" else kind])
            ws.set_column(
                j, j, _width([headers[j]] + [f"{v:,.1f}" if isinstance(v, float) else v for v in values[:200]])
            )
        if freeze:
            ws.freeze_panes(row + 1, 1)
        return ws, row + len(df) + 2


def _pivot(df: pd.DataFrame, value: str, L: Labels, label=None, total: bool = False) -> pd.DataFrame:
    """Year x (resource, tier, ...) pivot; column names joined in words ("新增床位 · 医院"); a total row if asked."""
    keys = group_columns(df)
    wide = df.pivot_table(index="year", columns=keys, values=value, aggfunc="sum", sort=False)
    name = label or L.resource
    wide.columns = [
        " · ".join([name(c[0])] + [L.value(x) for x in c[1:]]) if isinstance(c, tuple) else name(c)
        for c in wide.columns
    ]
    wide = wide.reset_index().astype({"year": object})
    if total:
        wide.loc[len(wide)] = [L.text("sum_row")] + list(wide.iloc[:, 1:].sum())
    return wide


def _summary_sheet(book: Book, r: PipelineResult) -> None:
    L, s, p = book.L, r.scenario, r.plan
    ws = book.wb.add_worksheet(L.table("summary"))
    ws.write(0, 0, L.text("title", region=L.region(s.region), first=s.base_year + 1, last=s.target_year), book.title)
    pop = r.projection.population(s.target_year, r.options.variant)
    facts = [
        (L.column("variant"), L.value(r.options.variant), "text"),
        (L.text("plan_mode"), L.plan_mode(p.mode, run_note(r, L)), "text"),
        (f"{L.column('population')} {s.base_year}", s.population.base.value, "units"),
        (f"{L.column('population')} {s.target_year}", pop, "units"),
        (L.text("total_cost_yi"), p.total_cost / 1e8, "ratio"),
        (L.text("targets_met"), L.text("met_of", met=int(p.attainment["met"].sum()), n=len(p.attainment)), "text"),
        (L.text("score"), p.attainment_score, "share"),
    ]
    for i, (k, v, kind) in enumerate(facts, start=2):
        ws.write(i, 0, k, book.bold)
        ws.write(i, 1, v, book.fmt[kind])
    row = len(facts) + 3
    costs = p.costs.groupby("year", as_index=False)[[c for c in p.costs.columns if c.endswith("_cny")]].sum()
    ws.write(row, 0, L.text("cost_heading"), book.bold)
    _, row = book.frame("", costs, ws=ws, row=row + 1, freeze=False)
    adds = p.additions.groupby(group_columns(p.additions), as_index=False, sort=False)["added"].sum()
    ws.write(row, 0, L.text("plan_heading"), book.bold)
    _, row = book.frame("", adds, ws=ws, row=row + 1, freeze=False)
    att = p.attainment[
        [
            c
            for c in (
                "kind",
                "expr",
                "nature",
                "target_ratio",
                "achieved_ratio",
                "attainment",
                "shortfall_units",
                "met",
            )
            if c in p.attainment.columns
        ]
    ]
    ws.write(row, 0, L.text("att_heading", year=s.target_year), book.bold)
    book.frame("", att, ws=ws, row=row + 1, freeze=False)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 22)
    ws.freeze_panes(1, 0)
    ws.activate()


def _cost_lines(r: PipelineResult, L: Labels) -> pd.DataFrame:
    """One row per resource and tier: the unit costs used, their sources, and how each cost line is computed."""
    rows = []
    for kind in dict.fromkeys(r.plan.costs["kind"]):
        c = r.scenario.costs.get(kind)
        if c is None:
            continue
        factor = c.primary_factor.value if c.primary_factor else 1.0
        for tier in dict.fromkeys(r.plan.costs["tier"]):
            f = factor if tier == "primary" else 1.0
            cap, run = c.capital.value * f, c.annual.value * f
            where = lambda q: q.source or f"{L.column('assumption')}: {q.assumption}"  # noqa: E731
            rows.append(
                {
                    "kind": kind,
                    "tier": tier,
                    "capital_cny": cap,
                    "running_cny": run,
                    "explanation": "; ".join(
                        [L.text("capital_line", cost=L.cny(cap)), L.text("running_line", cost=L.cny(run))]
                        + ([L.text("primary_factor", f=f)] if f != 1.0 else [])
                    ),
                    "source": f"capital: {where(c.capital)}; annual: {where(c.annual)}"
                    + (f"; primary_factor: {where(c.primary_factor)}" if c.primary_factor and f != 1.0 else ""),
                }
            )
    return pd.DataFrame(rows, columns=["kind", "tier", "capital_cny", "running_cny", "explanation", "source"])


def _uncertainty_sheets(book: Book, u) -> None:
    """不确定性: the sentences, each target's (and need's) probability for the plan and the robust plan, the cost over
    the draws (万元); 稳健规划新增: the robust plan's additions by year."""
    L = book.L
    ws = book.wb.add_worksheet(L.table("uncertainty"))
    for i, line in enumerate(uncertainty_words(u, L)):
        ws.write(i, 0, line)
    row = len(uncertainty_words(u, L)) + 1
    probs = probability_display(u, L)
    heads, kinds = list(probs.columns), ["text", "text"] + ["share"] * (probs.shape[1] - 2)
    _, row = book.frame("", probs, heads, kinds, ws=ws, row=row, freeze=False)
    cost = u.cost_summary
    heads = L.headers("uncertainty_cost_wan")
    book.frame("", cost, heads, ["text", "wan", "wan", "wan", "wan"], ws=ws, row=row, freeze=False)
    ws.set_column(0, 0, 60)
    if u.robust is not None:
        adds = _pivot(u.robust.plan.additions, "added", L, L.added, total=True)
        book.frame(
            L.table("robust_additions"),
            adds,
            [L.column("year")] + list(adds.columns[1:]),
            ["year"] + ["units"] * (adds.shape[1] - 1),
        )


def write_workbook(r: PipelineResult, path: Path, lang: str | None = None) -> None:
    """results.xlsx for finance: 汇总 first, year x resource pivots, attainment, cost lines, assumptions, data."""
    L = Labels(check_lang(lang or r.options.lang or r.scenario.report.lang))
    book = Book(path, L)
    p = r.plan
    _summary_sheet(book, r)
    adds = _pivot(p.additions, "added", L, L.added, total=True)
    book.frame(
        L.table("additions"),
        adds,
        [L.column("year")] + list(adds.columns[1:]),
        ["year"] + ["units"] * (adds.shape[1] - 1),
    )
    stocks = _pivot(p.stocks, "stock", L)
    book.frame(
        L.table("stocks"),
        stocks,
        [L.column("year")] + list(stocks.columns[1:]),
        ["year"] + ["units"] * (stocks.shape[1] - 1),
    )
    costs = _pivot(p.costs, "total_cny", L, total=True)
    book.frame(
        L.table("costs"),
        costs,
        [L.column("year")] + [L.text("wan_column", name=c, unit=L.text("axis_wan")) for c in costs.columns[1:]],
        ["year"] + ["wan"] * (costs.shape[1] - 1),
    )
    book.frame(L.table("attainment"), p.attainment)
    lines = _cost_lines(r, L)
    ws, _ = book.frame(L.table("cost_lines"), lines)
    ws.set_column(4, 5, 70, book.fmt["wrap"])
    ws, _ = book.frame(L.table("assumptions"), provenance_rows(r.scenario))
    ws.set_column(1, 4, 50, book.fmt["wrap"])
    if r.uncertainty is not None:
        _uncertainty_sheets(book, r.uncertainty)
    tables = worded_tables(r.tables(), p, L)
    for name in ("population", "ratios", "need", "sweep", "referral_summary", "duals", "referral_runs"):
        df = tables.get(name)
        if df is not None:
            book.frame(L.table(name), df)
    book.wb.close()
