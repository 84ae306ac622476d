"""Pipeline outputs: tables, summary.json, the finance workbook, and an offline Chinese HTML report whose
first screen holds the answer and whose Chinese glyphs draw in headless Chromium on a machine without CJK fonts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import CHROMIUM
from click.testing import CliRunner
from conftest import require
from openpyxl import load_workbook

from cli import main
from scenarios.loader import load
from scenarios.report.fonts import find_cjk_font
from scenarios.report.outputs import write_outputs
from scenarios.report.words import run_note
from scenarios.run.options import PipelineOptions
from scenarios.run.pipeline import run_pipeline

NO_CHROMIUM = "no Chromium on this machine (.ci/run installs Debian's chromium)"
NO_FONT = "no CJK font to embed (.ci/run installs fonts-noto-cjk)"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = run_pipeline(load("renhe"), PipelineOptions(replications=2, seed=3))
    write_outputs(result, out)
    return out, result


@pytest.fixture(scope="module")
def conghua(tmp_path_factory):
    """`healthsim run conghua` as a user runs it (Chinese by default)."""
    out = tmp_path_factory.mktemp("conghua")
    r = CliRunner().invoke(main, ["run", "conghua", "--out", str(out), "--replications", "1"])
    assert r.exit_code == 0, r.output
    return out


def _chromium(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,900",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)


def test_pipeline_writes_every_table_and_summary(outputs):
    out, result = outputs
    for name in (
        "population",
        "additions",
        "stocks",
        "ratios",
        "costs",
        "attainment",
        "duals",
        "sweep",
        "referral_runs",
        "referral_summary",
        "need",
        "replan",
        "tiered_care",
    ):
        assert (out / f"{name}.csv").stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "renhe" and summary["all_targets_met"] is True
    assert summary["total_cost_cny"] == pytest.approx(result.plan.total_cost)
    assert 0 < summary["referral_last_year"]["in_area_rate"] <= 1
    assert json.loads((out / "scenario.json").read_text(encoding="utf-8"))["id"] == "renhe"
    demand = summary["demand"]
    assert demand["basis"] == "target" and demand["replan"]["iterations"] >= 1
    beds = demand["need_target_year"]["beds"]
    assert 0 < beds["need"] < beds["plan"] and beds["plan"] == pytest.approx(
        result.plan.stocks.query("year == 2025 and kind == 'beds'")["stock"].sum()
    )
    assert [c["year"] for c in demand["tiered_care"]] == [2021, 2022, 2023, 2024, 2025]
    assert not list(out.glob(".tmp-*"))


def test_report_is_self_contained_and_chinese(outputs):
    out, result = outputs
    html = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html), "the report must not load scripts from elsewhere"
    assert html.count("Plotly.newPlot") == 5 + 3  # the pipeline's charts and the uncertainty section's
    assert "不确定性" in html
    assert '<html lang="zh-CN">' in html and result.scenario.region.name_cn in html
    assert "预期性" in html and "亿元" in html and "target_ratio" not in html
    for field in ("population.base", "resources.physicians.target", "costs.beds.capital"):
        assert f">{field}<" in html, field  # every assumption listed with its source
    if find_cjk_font():
        assert "@font-face{font-family:'HealthsimCJK';src:url(data:font/woff;base64," in html


def test_report_in_english(tmp_path, outputs):
    from scenarios.report.html import write_report

    _, result = outputs
    html = write_report(result, tmp_path / "en.html", "en").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Additions by year and tier" in html and "expected" in html


@pytest.mark.slow
def test_report_charts_draw_in_headless_chromium(outputs, tmp_path):
    require(CHROMIUM, NO_CHROMIUM)
    out, _ = outputs
    dom = _chromium(tmp_path, "--virtual-time-budget=15000", "--dump-dom", (out / "report.html").as_uri()).stdout
    charts = re.findall(r'<div id="chart(\d)" class="plotly-graph-div js-plotly-plot"', dom)
    assert sorted(charts) == ["0", "1", "2", "3", "4"], "every chart div was turned into a plot"
    assert dom.count('class="main-svg"') >= 5
    assert dom.count("class=\"scatterlayer") + dom.count("class=\"barlayer") >= 5
    ticks = re.findall(r"<text[^>]*>(20\d\d[^<]*)</text>", dom)
    assert "2021" in ticks and not [t for t in ticks if not t.isdigit()], ticks  # whole-year axes


PROBE = """<script>addEventListener('load',()=>{const out={};for(const id of ['plan','cost','attainment']){
const r=document.getElementById(id).getBoundingClientRect();out[id]=[r.top,r.bottom,r.right];}
out.text=document.getElementById('answer').innerText;out.head=document.querySelector('.kpis').innerText;
const p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify(out);
document.body.appendChild(p);});</script>"""


@pytest.mark.slow
def test_first_screen_shows_additions_cost_and_attainment(conghua, tmp_path):
    require(CHROMIUM, NO_CHROMIUM)
    """At 1400x900 the plan by year, the cost in 亿元 and the attainment are all on the first screen."""
    page = tmp_path / "probe.html"
    page.write_text(
        (conghua / "report.html").read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    dom = _chromium(tmp_path, "--virtual-time-budget=15000", "--dump-dom", page.as_uri()).stdout
    probe = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S).group(1).replace("&quot;", '"'))
    for table in ("plan", "cost", "attainment"):
        top, bottom, right = probe[table]
        assert 0 < top and bottom <= 900 and right <= 1400, (table, probe[table])
    for text in (
        "新增床位",
        "新增执业（助理）医师",
        "新增注册护士",
        "新增全科医生",
        "2021",
        "2025",
        "医院",
        "基层",
        "分年度费用",
        "万元",
        "目标达成情况",
        "达成率",
        "预期性",
        "缺口（人/张）",
    ):
        assert text in probe["text"], text
    assert re.search(r"规划期总投入\s*[\d.]+亿元", probe["head"]), probe["head"]


def _fontconfig_without_cjk(tmp_path: Path) -> dict:
    """Environment in which Chromium sees one Latin font and no CJK font (a fresh machine)."""
    latin = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True).stdout
    assert latin and "CJK" not in latin, latin
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / Path(latin).name).symlink_to(latin)
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        f'<?xml version="1.0"?><fontconfig><dir>{fonts}</dir><cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>'
    )
    import os

    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def _title_crop(png: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(png).convert("L").crop((0, 0, 700, 52)), dtype=float)  # the h1 line only


@pytest.mark.slow
def test_chinese_glyphs_draw_without_a_system_cjk_font(conghua, tmp_path):
    """The report's title drawn on a machine with no CJK font matches the same title drawn with the embedded
    font and differs from it drawn without (the missing-glyph boxes)."""
    require(CHROMIUM, NO_CHROMIUM)
    require(find_cjk_font(), NO_FONT)
    require(shutil.which("fc-match"), "no fontconfig (fc-match), which Debian's chromium brings")
    env = _fontconfig_without_cjk(tmp_path)
    html = (conghua / "report.html").read_text(encoding="utf-8")
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    title = re.search(r"<h1>(.*?)</h1>", html).group(1)
    assert "从化区" in title
    face, css = style[: style.index("}") + 1], style[style.index("}") + 1 :]
    shots = {}
    for name, page_style in (("embedded", style), ("missing", css)):
        page = tmp_path / f"{name}.html"
        page.write_text(
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{page_style}</style></head>'
            f"<body><h1>{title}</h1></body></html>",
            encoding="utf-8",
        )
        _chromium(tmp_path, f"--screenshot={tmp_path / name}.png", page.as_uri(), env=env)
        shots[name] = _title_crop(tmp_path / f"{name}.png")
    _chromium(
        tmp_path,
        "--virtual-time-budget=15000",
        f"--screenshot={tmp_path / 'report.png'}",
        (conghua / "report.html").as_uri(),
        env=env,
    )
    report = _title_crop(tmp_path / "report.png")
    assert face.startswith("@font-face") and (report < 128).sum() > 500, "the title drew dark pixels"
    assert np.abs(report - shots["embedded"]).mean() < 1.0, "the title drew with the embedded font"
    assert np.abs(report - shots["missing"]).mean() > 8.0, "the title is not the missing-glyph boxes"


def test_workbook_for_finance(conghua):
    book = load_workbook(conghua / "results.xlsx")
    assert book.sheetnames[0] == "汇总" and book.active.title == "汇总"
    assert {"新增", "存量", "费用", "目标达成", "费用说明", "假设与来源", "人口"} <= set(book.sheetnames)
    summary = [[c for c in row if c is not None] for row in book["汇总"].iter_rows(values_only=True)]
    total = json.loads((conghua / "summary.json").read_text(encoding="utf-8"))["total_cost_cny"] / 1e8
    assert ["规划期总投入（亿元）", pytest.approx(total, abs=0.01)] in summary  # the plan's total, in 亿元
    adds = book["新增"]
    assert adds.freeze_panes == "B2"
    header = [c.value for c in adds[1]]
    assert header[:3] == ["年份", "新增床位 · 医院", "新增床位 · 基层"]
    assert adds["B2"].number_format == "#,##0" and adds["A2"].value == 2021
    last = [c.value for c in adds[adds.max_row]]
    assert last[0] == "规划期合计" and last[1] == round(last[1])  # the plan is in whole beds and persons
    costs = book["费用"]
    assert costs["B1"].value.endswith("（万元）") and costs["B3"].number_format == "#,##0.0"
    lines = book["费用说明"]
    assert [c.value for c in lines[1]][:3] == ["资源", "层级", "一次性投入（万元）"]
    assert "000_" in "".join(str(c.value) for c in book["假设与来源"]["C"])
    assert book["人口"]["C2"].number_format == "#,##0"
    # the Monte Carlo for finance: sentences, probabilities as percentages, cost in 万元, the robust plan's additions
    unc = json.loads((conghua / "summary.json").read_text(encoding="utf-8"))["uncertainty"]
    ws = book["不确定性"]
    cells = [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]
    assert cells[0][0].startswith(f"在{unc['draws']}个抽样情景")
    head = next(i for i, r in enumerate(cells) if r[:3] == ["目标", "性质", "本规划达标概率"])
    beds = cells[head + 1]
    assert beds[0] == "每千人口床位 6.0" and beds[2] == pytest.approx(unc["probabilities"]["beds:6.0"])
    assert ws.cell(head + 2, 3).number_format == "0.0%"
    nominal = next(r for r in cells if r and r[0] == "本规划费用（名义）")
    assert 2e5 < nominal[3] < 4e5  # the median plan cost, about 29.6亿 = 296,000万
    assert [c.value for c in book["稳健规划新增"][1]][:2] == ["年份", "新增床位 · 医院"]


@pytest.mark.slow
def test_cli_run_and_bad_budget(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["run", "renhe", "--out", str(tmp_path / "o"), "--replications", "1", "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "report.html").exists()
    assert "referral simulation ..." in r.output and re.search(r"referral simulation: 5/5 in [\d.]+ s", r.output)
    bad = runner.invoke(main, ["run", "renhe", "--budget", "plenty", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "expected an amount of CNY" in bad.output
    bad = runner.invoke(main, ["run", "renhe", "--lang", "fr", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "'fr' is not one of 'zh', 'en'" in bad.output


def test_run_falls_back_to_the_best_reachable_plan(tmp_path):
    result = run_pipeline(load("qingcheng"), PipelineOptions(simulate=False, sweep_steps=3))
    from scenarios.report.words import diagnosis_words

    assert result.diagnosis and "yearly limits on additions" in diagnosis_words(result.diagnosis)
    assert "best reachable plan" in run_note(result)
    assert not result.plan.all_met
    att = result.sweep.groupby("budget_cny")["score"].first().to_numpy()
    assert (att[1:] >= att[:-1] - 1e-9).all()
    from scenarios.labels import Labels
    from scenarios.report.words import warnings

    words = warnings(result, Labels("zh"))
    unmet = result.plan.attainment[~result.plan.attainment["met"]]
    assert sum("规划可达" in w for w in words) == len(unmet) > 0
    # each unmet target's outlook in Chinese, from the same outlook row as the English sentence
    look = result.outlook.set_index("kind")
    pharm = next(w for w in words if w.startswith("药师 0.5："))
    assert pd.isna(look.loc["pharmacists", "earliest_year"]) and "到2035年仍无法达到" in pharm
    need, now = f"{look.loc['pharmacists', 'needed']:.0%}", f"{look.loc['pharmacists', 'limit_now']:.0%}"
    assert f"每年新增不低于{need}（现限{now}）" in pharm
    nurses = next(w for w in words if w.startswith("注册护士 3.85："))
    assert f"{int(look.loc['nurses', 'earliest_year'])}年可达到" in nurses
    assert not any("reachable" in w for w in words)  # no English sentence left in the Chinese warnings
    assert result.culprit == "hiring_limits"  # the family the diagnosis names, said in Chinese above its words
    from scenarios.report.html import first_screen

    assert "主要制约因素：年度新增上限（培养与建设能力）。" in first_screen(result, Labels("zh"))
    from scenarios.report.words import cost_words

    zh = cost_words(result.plan, Labels("zh"))
    assert zh.startswith("规划期公共投入合计") and f"{result.plan.total_cost / 1e8:,.2f}亿元" in zh
    assert cost_words(result.plan).startswith(f"Total public cost CNY {result.plan.total_cost:,.0f}")
