"""Pipeline outputs: tables, summary.json, Excel workbook, and an offline HTML report whose
charts draw in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cli import main
from scenarios.loader import load
from scenarios.run.outputs import write_outputs
from scenarios.run.pipeline import PipelineOptions, run_pipeline

CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = run_pipeline(load("renhe"), PipelineOptions(replications=2, seed=3))
    write_outputs(result, out)
    return out, result


def test_pipeline_writes_every_table_and_summary(outputs):
    out, result = outputs
    for name in ("population", "additions", "stocks", "ratios", "costs", "attainment", "duals", "sweep",
                 "referral_runs", "referral_summary"):
        assert (out / f"{name}.csv").stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "renhe" and summary["all_targets_met"] is True
    assert summary["total_cost_cny"] == pytest.approx(result.plan.total_cost)
    assert 0 < summary["referral_last_year"]["in_area_rate"] <= 1
    book = load_workbook(out / "results.xlsx", read_only=True)
    assert {"population", "attainment", "costs", "referral_summary"} <= set(book.sheetnames)
    assert not list(out.glob(".tmp-*"))


def test_report_is_self_contained(outputs):
    out, _ = outputs
    html = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html), "the report must not load scripts from elsewhere"
    assert html.count("Plotly.newPlot") == 5
    assert "Renhe District" in html


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (.ci/run installs Debian's chromium where it can)")
def test_report_charts_draw_in_headless_chromium(outputs, tmp_path):
    out, _ = outputs
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--dump-dom",
           (out / "report.html").as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    charts = re.findall(r'<div id="chart(\d)" class="plotly-graph-div js-plotly-plot"', dom)
    assert sorted(charts) == ["0", "1", "2", "3", "4"], "every chart div was turned into a plot"
    assert dom.count('class="main-svg"') >= 5
    assert dom.count("class=\"scatterlayer") + dom.count("class=\"barlayer") >= 5


def test_cli_run_and_bad_budget(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["run", "renhe", "--out", str(tmp_path / "o"), "--replications", "1"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "report.html").exists()
    bad = runner.invoke(main, ["run", "renhe", "--budget", "plenty"])
    assert bad.exit_code == 2 and "expected an amount of CNY" in bad.output


def test_run_falls_back_to_the_best_reachable_plan(tmp_path):
    result = run_pipeline(load("qingcheng"), PipelineOptions(simulate=False, sweep_steps=3))
    assert result.diagnosis and "yearly limits on additions" in result.diagnosis
    assert "best reachable plan" in result.plan_note
    assert not result.plan.all_met
    att = result.sweep.groupby("budget_cny")["score"].first().to_numpy()
    assert (att[1:] >= att[:-1] - 1e-9).all()
