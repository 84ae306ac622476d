"""`healthsim compare`: scenarios and result folders side by side, and the input fields that differ."""

from __future__ import annotations

import html

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from scenarios.labels import Labels
from scenarios.loader import load
from scenarios.report.compare import comparison_table
from scenarios.report.outputs import write_outputs
from scenarios.run.compare import read_record, record_from_result
from scenarios.run.options import PipelineOptions
from scenarios.run.pipeline import run_pipeline

FAST = "scenarios/builtin/examples/conghua_fast_growth.toml"


def test_compare_names_the_changed_fields(tmp_path):
    r = CliRunner().invoke(main, ["compare", "conghua", FAST, "--out", str(tmp_path), "--no-simulate"])
    assert r.exit_code == 0, r.output
    diff = pd.read_csv(tmp_path / "differences.csv").fillna("")
    changed = set(diff["field"])
    assert {"population.net_migration_rate", "plan.mode", "plan.budget_total"} <= changed
    assert not any(f.startswith("resources.") for f in changed)  # the what-if keeps every target
    row = diff.set_index("field").loc["population.net_migration_rate"]
    assert row["conghua: value"] == "0" and row["conghua_fast_growth: value"] == "8"
    assert "rail link" in row["conghua_fast_growth: source"] and "no migration figure" in row["conghua: source"]
    page = (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert "各方案之间不同的字段" in page and "population.net_migration_rate" in page and "plan.budget_total" in page
    side = pd.read_csv(tmp_path / "compare.csv").set_index("项目")
    assert side.loc["2025年常住人口", "conghua_fast_growth"] > side.loc["2025年常住人口", "conghua"]  # in-migration
    assert float(side.loc["总费用（亿元）", "conghua_fast_growth"]) <= 20.0 + 1e-6  # within the CNY 2 bn budget
    assert "2023年费用（万元）" in side.index and "床位达成率" in side.index


def test_compare_reads_a_result_folder(tmp_path):
    result = run_pipeline(load("renhe"), PipelineOptions(simulate=False, sweep_steps=0))
    write_outputs(result, tmp_path / "renhe")
    folder, fresh = read_record(tmp_path / "renhe"), record_from_result(result)
    L = Labels("en")
    pd.testing.assert_frame_equal(comparison_table([folder], L), comparison_table([fresh], L))
    r = CliRunner().invoke(
        main,
        ["compare", str(tmp_path / "renhe"), "renhe", "--out", str(tmp_path / "c"), "--no-simulate", "--lang", "en"],
    )
    assert r.exit_code == 0, r.output
    diff = pd.read_csv(tmp_path / "c" / "differences.csv")
    assert diff.empty, diff  # the same scenario, once read back and once run
    page = html.unescape((tmp_path / "c" / "compare.html").read_text(encoding="utf-8"))
    assert "The scenarios' inputs are identical." in page


def test_compare_errors_are_clear(tmp_path):
    r = CliRunner().invoke(main, ["compare", "conghua"])
    assert r.exit_code == 2 and "expected two or more" in r.output
    (tmp_path / "empty").mkdir()
    r = CliRunner().invoke(main, ["compare", str(tmp_path / "empty"), "conghua"])
    assert r.exit_code == 2 and "missing summary.json" in r.output and "healthsim run --out" in r.output


def test_need_in_the_comparison_is_the_need_table_total_not_twice_it(tmp_path):
    result = run_pipeline(load("xiangqiao"), PipelineOptions(simulate=False, sweep_steps=0, uncertainty_draws=0))
    write_outputs(result, tmp_path / "x")
    need = pd.read_csv(tmp_path / "x" / "need.csv")
    last = int(need["year"].max())
    beds = need[(need["year"] == last) & (need["kind"] == "beds") & (need["tier"] == "all")]["need"].iloc[0]
    L = Labels("en")
    row = comparison_table([read_record(tmp_path / "x")], L).set_index(L.column("metric"))
    assert float(row.loc[L.text("need_of", year=last, name=L.resource("beds"))].iloc[0]) == round(float(beds))


def test_a_private_share_target_does_not_overwrite_the_bed_count_target(tmp_path):
    r = run_pipeline(
        load("guangzhou"), PipelineOptions(simulate=False, sweep_steps=0, uncertainty_draws=0, replan=False)
    )
    ratio = [t for t in r.problem.targets if t.kind == "beds" and t.measure == "ratio"][0]
    assert any(t.kind == "beds" and t.measure == "private_share" for t in r.problem.targets)
    table = r.need
    beds = table[(table["kind"] == "beds") & (table["tier"] == "all")].set_index("year")
    Y = r.scenario.target_year
    expect = ratio.ratio * r.projection.population(Y, r.options.variant) / ratio.divisor
    assert beds.loc[Y, "target"] == pytest.approx(expect)
    assert beds.loc[Y, "target"] < 1e6  # a count of beds, not a share times the population (5,796,645 before)
