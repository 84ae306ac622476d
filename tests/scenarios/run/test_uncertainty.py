"""Monte Carlo of a plan: zero variance is the deterministic answer, robust plans, convergence, seeds, CLI, report."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from scenarios.labels import Labels
from scenarios.loader import load
from scenarios.report.html import uncertainty_figures, write_report
from scenarios.report.words import share_words, uncertainty_words
from scenarios.run.options import PipelineOptions
from scenarios.run.pipeline import run_pipeline
from scenarios.run.plan import plan_or_best_reachable, problem_for
from scenarios.run.projection import project
from scenarios.run.uncertainty import UncertaintyOptions, _robust, draw_futures, run_uncertainty
from scenarios.schema import Fraction, NonNegativeQuantity, UncertaintySettings


def _fixed(s, corr: float = 0.0, costs: float = 0.0, variants: bool = False):
    """``s`` with the given cost spread and rate correlation, with or without its low/high variants."""
    q = lambda v, cls=NonNegativeQuantity: cls(value=v, assumption="test")  # noqa: E731
    update = {
        "uncertainty": UncertaintySettings(
            capital_cost=q(costs), running_cost=q(costs), demand_rate=q(costs), rate_correlation=q(corr, Fraction)
        )
    }
    if not variants:
        update["population"] = s.population.model_copy(update={"variants": {}})
    return s.model_copy(update=update)


@pytest.fixture(scope="module")
def conghua():
    s = load("conghua")
    p = problem_for(s)
    return s, p, plan_or_best_reachable(p).plan


def test_zero_variance_gives_the_deterministic_answer(conghua):
    s, p, plan = conghua
    flat = _fixed(s)
    r = run_uncertainty(flat, p, plan, UncertaintyOptions(draws=40, share=None, solve=False))
    probs = r.probabilities
    assert set(probs["probability"]) <= {0.0, 1.0}
    targets, needs = probs[probs["nature"] != "need"], probs[probs["nature"] == "need"]
    assert list(targets["probability"] == 1.0) == list(plan.attainment["met"])
    # need: met in every draw exactly when the plan's target-year stock covers the medium need
    assert set(needs["kind"]) == {"beds", "physicians", "nurses", "gps"}
    stocks = plan.stocks[plan.stocks["year"] == s.target_year].groupby("kind")["stock"].sum()
    for row in needs.itertuples():
        assert row.probability == float(stocks[row.kind] >= row.ratio - 1e-6)
    np.testing.assert_allclose(r.draws["plan_cost_cny"], plan.total_cost, rtol=1e-9)
    np.testing.assert_allclose(r.fan["p10"], r.fan["p90"], rtol=1e-12)
    np.testing.assert_allclose(r.fan["p50"], r.fan["medium"], rtol=1e-9)


def test_draws_put_the_variants_at_the_5th_and_95th_percentiles():
    s = _fixed(load("conghua"), corr=1.0, variants=True)
    draws, table = draw_futures(s, 4000, seed=3)
    pop = draws.column(s.id, s.target_year)
    variants = project(s, s.target_year, ["low", "medium", "high"])
    for pct, name in ((5, "low"), (50, "medium"), (95, "high")):
        assert np.percentile(pop, pct) == pytest.approx(variants.population(s.target_year, name), rel=2e-3)
    birth = table.set_index("input").loc["birth_rate"]
    assert (birth.p5, birth.p95) == pytest.approx((10.02, 12.5))  # the variants' 2025 rates (conghua.toml:29,34)


def test_robust_plan_at_half_is_no_dearer_than_at_ninety(conghua):
    s, p, plan = conghua
    draws, _ = draw_futures(s, 300, seed=11)
    half, ninety = _robust(p, draws, 0.5).plan, _robust(p, draws, 0.9).plan
    assert half.total_cost <= ninety.total_cost * (1 + 1e-3)
    assert ninety.total_cost > plan.total_cost  # holding in more futures takes more


def test_robust_plan_meets_each_target_in_the_share_and_says_its_premium(conghua):
    s, p, plan = conghua
    r = run_uncertainty(s, p, plan, UncertaintyOptions(draws=300, seed=5, share=0.9, solve=False))
    assert (r.probabilities["robust_probability"] >= 0.9 - 1e-12).all()
    assert r.robust_joint >= 0.9 - 1e-12  # one region: the floors all hinge on the same population
    assert r.premium == pytest.approx(r.robust.plan.total_cost - plan.total_cost)
    # the spread starts at the latest observed year (2023), so the premium is some 万, not 亿
    assert any(
        re.search(r"holding in 9 of 10 futures costs [\d.,]+(亿|万) more", w)
        for w in uncertainty_words(r, Labels("en"))
    )
    assert share_words(0.95) == "95% of futures"


def test_probabilities_converge_as_draws_grow(conghua):
    s, p, plan = conghua
    opts = lambda n: UncertaintyOptions(draws=n, seed=21, share=None, solve=False)  # noqa: E731
    small, large = (run_uncertainty(s, p, plan, opts(n)).probabilities for n in (250, 4000))
    se = np.sqrt(large["probability"] * (1 - large["probability"]) / 250)
    assert (abs(small["probability"] - large["probability"]) <= 4 * se + 1e-9).all()
    moving = large["probability"].between(0.05, 0.95)
    assert moving.any()
    ratio = small["std_error"][moving] / large["std_error"][moving]
    assert ratio.between(2.5, 6.5).all()  # about sqrt(4000 / 250) = 4


def test_same_seed_same_numbers_with_one_and_two_workers(conghua):
    s, p, plan = conghua
    run = lambda w, seed=7: run_uncertainty(s, p, plan, UncertaintyOptions(draws=120, seed=seed, share=None, workers=w))  # noqa: E731
    one, two, other = run(1), run(2), run(1, seed=8)
    assert one.draws.equals(two.draws) and one.probabilities.equals(two.probabilities)
    assert not one.draws["population_target_year"].equals(other.draws["population_target_year"])
    assert one.draws["reachable"].all() and (one.draws["least_cost_cny"] > 0).all()


def test_cli_uncertainty_writes_tables_and_charts(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["optimize", "conghua", "--out", str(tmp_path / "plan")]).exit_code == 0
    r = runner.invoke(
        main,
        [
            "uncertainty",
            "conghua",
            "--draws",
            "60",
            "--plan",
            str(tmp_path / "plan"),
            "--no-solve",
            "--out",
            str(tmp_path / "u"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "9 of 10 futures" in r.output
    for name in ("uncertainty_probabilities.csv", "uncertainty_fan.csv", "uncertainty_draws.csv", "uncertainty.html"):
        assert (tmp_path / "u" / name).exists()
    summary = json.loads((tmp_path / "u" / "uncertainty.json").read_text(encoding="utf-8"))
    assert summary["draws"] == 60 and 0.0 <= summary["joint_probability"] <= 1.0
    bad = runner.invoke(
        main,
        [
            "uncertainty",
            "conghua",
            "--draws",
            "10",
            "--plan",
            str(tmp_path / "nothing"),
            "--out",
            str(tmp_path / "bad"),
        ],
    )
    assert bad.exit_code == 2 and "stocks.csv" in bad.output and "Traceback" not in bad.output


def test_run_includes_a_short_summary_in_the_report(tmp_path):
    result = run_pipeline(load("conghua"), PipelineOptions(sweep_steps=0, simulate=False, uncertainty_draws=100))
    u = result.uncertainty
    assert u is not None and u.options.draws == 100 and u.robust is not None
    assert "uncertainty" in result.summary() and "uncertainty_probabilities" in result.tables()
    assert set(uncertainty_figures(u)) == {"fan", "cost", "probability"}
    html = write_report(result, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "不确定性：规划达标的可能性" in html and "uncertainty_fan" in html  # the report is Chinese first
    en = write_report(result, tmp_path / "en.html", "en").read_text(encoding="utf-8")
    assert "Uncertainty: how likely the plan is to meet its targets" in en and "uncertainty_fan" in en


def test_need_moves_with_residents_and_use_rates_and_a_robust_plan_covers_it():
    s = load("qingcheng")
    draws, table = draw_futures(s, 4000, seed=2)
    demand = table.set_index("input").loc["demand_rate"]
    assert np.percentile(draws.demand_factor, 95) == pytest.approx(
        demand.p95, rel=0.02
    ) and demand.p95 == pytest.approx(1.10)
    assert np.median(draws.demand_factor) == pytest.approx(1.0, abs=0.01)
    p = problem_for(s, basis="need")  # sized by the target-year need only: floors by tier
    plan = plan_or_best_reachable(p).plan
    r = run_uncertainty(s, p, plan, UncertaintyOptions(draws=400, seed=3, share=0.9, solve=False))
    need = r.probabilities[r.probabilities["nature"] == "need"].set_index("kind")
    assert set(need.index) == {"beds", "physicians", "nurses", "gps"}
    assert 0.0 < need.loc["beds", "probability"] < 1.0  # a plan sized to the medium need misses it in some futures
    assert (need["robust_probability"] >= 0.9 - 1e-12).all()  # floors at the 90% quantile of the drawn need
    assert (need["robust_probability"] >= need["probability"]).all()
    assert any("beds needed in 2025" in w for w in uncertainty_words(r, Labels("en"))) and any(
        "2025年床位需求" in w for w in uncertainty_words(r, Labels("zh"))
    )


@pytest.mark.slow
def test_draws_solved_on_a_dask_scheduler_give_the_same_numbers(conghua):
    import logging

    from dask.distributed import LocalCluster

    s, p, plan = conghua
    opts = lambda scheduler=None: UncertaintyOptions(draws=150, seed=9, share=None, scheduler=scheduler)  # noqa: E731
    here = run_uncertainty(s, p, plan, opts())
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        there = run_uncertainty(s, p, plan, opts(cluster.scheduler_address))
    assert here.draws.equals(there.draws) and here.solves == there.solves > 0


def test_a_plan_for_another_variant_is_read_against_the_medium_draws(conghua):
    """The draws centre on the medium projection: need and the fan's reference are the medium's whatever the plan."""
    s, p, plan = conghua
    low = problem_for(s, "low")
    opts = UncertaintyOptions(draws=100, seed=4, share=None, solve=False)
    a, b = run_uncertainty(s, p, plan, opts), run_uncertainty(s, low, plan_or_best_reachable(low).plan, opts)
    np.testing.assert_allclose(a.fan["medium"], b.fan["medium"])
    assert b.fan["medium"].iloc[-1] > low.population[s.id, s.target_year]  # the low variant's residents are fewer
    need_a, need_b = (r.probabilities.query("nature == 'need'").set_index("kind")["ratio"] for r in (a, b))
    assert need_a.equals(need_b)
