"""Plans from any base year: observed base figures where published, else projected, said so; bad base years."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from scenarios.loader import ScenarioError, load
from scenarios.run.rebase import PlanYears, plan_years, rebase

PLAN15 = ["conghua", "xiangqiao", "qingcheng", "renhe", "guangzhou"]


def test_guangzhou_from_2022_takes_the_observed_figures_and_projects_the_rest():
    s, figures = rebase(load("guangzhou"), PlanYears(2022, 2030))
    f = figures.set_index("item")
    assert s.base_year == 2022 and s.target_year == 2030
    assert s.population.base.value == f.loc["population", "value"] == 18_734_100
    assert f.loc["physicians", "value"] == 68_687 and f.loc["physicians", "kind"] == "observed"
    assert "《广州统计年鉴2023》" in f.loc["physicians", "basis"]
    assert f.loc["gps", "kind"] == "projected" and "plan's stock in 2022" in f.loc["gps", "basis"]
    assert s.resources["physicians"].target.expr == "4.81"
    assert s.resources["public_health_staff"].target.expr.startswith(">=10.4")  # '+30%' of the 2020 ratio, resolved
    assert list(s.observed) == [2022, 2023, 2024]


def test_the_next_plan_of_a_plan15_what_if_uses_its_2030_targets():
    s = load("scenarios/builtin/plan15/guangzhou_2030.toml")
    years = plan_years(s)
    assert (years.base_year, years.target_year) == (2025, 2030)
    rebased, figures = rebase(s, years)
    assert rebased.resources["gps"].target.expr == "5.0"
    assert "国办发〔2018〕3号" in rebased.resources["gps"].target.reference


@pytest.mark.parametrize("name", PLAN15)
def test_plan15_what_ifs_validate_with_cited_2030_targets(name):
    s = load(f"scenarios/builtin/plan15/{name}_2030.toml")
    assert s.next_plan.base_year == 2025 and s.next_plan.target_year == 2030
    for kind, t in s.next_plan.targets.items():
        assert t.source or t.reference, kind
    assert s.next_plan.targets["gps"].expr == "5.0"


@pytest.mark.slow
def test_run_conghua_from_2025_to_2030_end_to_end(tmp_path):
    out = CliRunner().invoke(
        main, ["run", "conghua", "--base", "2025", "--target", "2030", "--out", str(tmp_path), "--replications", "1"]
    )
    assert out.exit_code == 0, out.output
    assert "Base year 2025: observed and projected figures" in out.output
    assert "min-cost plan to 2030" in out.output
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["base_year"] == 2025 and summary["target_year"] == 2030
    kinds = {row["item"]: row["kind"] for row in summary["base_figures"]}
    assert kinds["population"] == "projected" and kinds["beds"] == "projected"
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "基年 2025：观测值与推算值" in report  # the report is Chinese by default
    assert "calibrated projection from the observed 2023 population" in report
    assert "2026–2030年" in report
    en = CliRunner().invoke(
        main,
        [
            "run",
            "conghua",
            "--base",
            "2025",
            "--target",
            "2030",
            "--out",
            str(tmp_path / "en"),
            "--no-simulate",
            "--lang",
            "en",
        ],
    )
    assert en.exit_code == 0, en.output
    assert "Base year 2025: observed and projected figures" in (tmp_path / "en" / "report.html").read_text(
        encoding="utf-8"
    )
    assert (tmp_path / "base_figures.csv").exists() and (tmp_path / "referral_summary.csv").exists()


@pytest.mark.parametrize(
    "args,field,expect",
    [
        (["conghua", "--base", "2027", "--target", "2030"], "--base", "after the scenario's target year 2025"),
        (["conghua", "--base", "2019", "--target", "2025"], "--base", "before the scenario's base year 2020"),
        (["conghua", "--base", "2025", "--target", "2024"], "--target", "must be after the base year 2025"),
        (["guangzhou", "--base", "2021", "--target", "2023"], "observed.2024", "after the target year 2023"),
    ],
)
def test_bad_base_years_are_named(args, field, expect):
    out = CliRunner().invoke(main, ["optimize", *args])
    assert out.exit_code == 2, out.output
    assert f"{args[0]}.toml: {field}:" in out.output and expect in out.output.replace("\n", " ")
    assert "Traceback" not in out.output


def test_rebase_errors_name_the_file():
    with pytest.raises(ScenarioError, match=r"my\.toml: --base: base year 2030"):
        rebase(load("renhe"), PlanYears(2030, 2035), "my.toml")
