"""Final evaluation: achieved / on track / behind against the straight-line milestone and the target."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import main
from scenarios.loader import load
from scenarios.run.evaluation import ACHIEVED, BEHIND, NOT_OBSERVED, ON_TRACK, classify, evaluate, gap_units, milestone
from scenarios.schema import ObservedYear

REF = "《synthetic yearbook》, test, 2023"


def test_milestone_is_the_straight_line_from_base_to_target():
    assert milestone(3.88, 6.0, 2020, 2025, 2020) == pytest.approx(3.88)
    assert milestone(3.88, 6.0, 2020, 2025, 2022) == pytest.approx(3.88 + 2 * (6.0 - 3.88) / 5)
    assert milestone(3.88, 6.0, 2020, 2025, 2025) == pytest.approx(6.0)


@pytest.mark.parametrize(
    "sense,observed,mile,target,expect",
    [
        ("floor", 6.1, 4.7, 6.0, ACHIEVED),
        ("floor", 6.0, 4.7, 6.0, ACHIEVED),
        ("floor", 4.8, 4.7, 6.0, ON_TRACK),
        ("floor", 4.6, 4.7, 6.0, BEHIND),
        ("ceiling", 6.9, 7.5, 7.0, ACHIEVED),  # a ceiling (<=7.0) is met from below
        ("ceiling", 7.3, 7.4, 7.0, ON_TRACK),
        ("ceiling", 7.6, 7.4, 7.0, BEHIND),
    ],
)
def test_classification(sense, observed, mile, target, expect):
    assert classify(sense, observed, mile, target) == expect


def test_gaps_are_in_units_at_the_population():
    assert gap_units("floor", 3.5, 4.0, 700_000, 1000) == pytest.approx(350)
    assert gap_units("floor", 4.5, 4.0, 700_000, 1000) == 0
    assert gap_units("ceiling", 7.5, 7.0, 1_000_000, 1000) == pytest.approx(500)


def test_conghua_with_observed_stocks_is_classified_per_target():
    s = load("conghua")  # 2020: beds 3.88, physicians 2.16, nurses 2.87 per 1,000; targets 6.0, 3.0, 4.5
    pop = 730_000
    stocks = {"beds": 6.1 * pop / 1000, "physicians": 2.6 * pop / 1000, "nurses": 3.0 * pop / 1000}
    obs = ObservedYear(
        population={"value": pop, "reference": REF},
        resources={k: {"value": v, "reference": REF} for k, v in stocks.items()},
    )
    ev = evaluate(s.model_copy(update={"observed": {2022: obs}}))
    t = ev.targets.set_index("kind")
    assert t.loc["beds", "status"] == ACHIEVED
    assert t.loc["physicians", "status"] == ON_TRACK  # milestone 2.16 + 0.4 * 0.84 = 2.496
    assert t.loc["nurses", "status"] == BEHIND  # milestone 2.87 + 0.4 * 1.63 = 3.522
    assert t.loc["nurses", "gap_to_milestone"] == pytest.approx((3.522 - 3.0) * pop / 1000)
    assert t.loc["nurses", "gap_to_target"] == pytest.approx(1.5 * pop / 1000)
    assert t.loc["gps", "status"] == NOT_OBSERVED
    assert t.loc["beds", "population_kind"] == "observed" and t.loc["beds", "year"] == 2022


def test_evaluate_guangzhou_prints_the_final_evaluation(tmp_path):
    out = CliRunner().invoke(main, ["evaluate", "guangzhou", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "evaluation of the 2021-2025 plan" in out.output
    assert "behind" in out.output and "on track" in out.output
    assert (
        "19,839,243" in out.output and "+5.4%" in out.output
    )  # 2023: assumed rates (cohort-component) against 18,827,000 observed
    ev = evaluate(load("guangzhou")).targets.set_index("kind")
    assert ev.loc["physicians", "observed_ratio"] == pytest.approx(68_687 / 18_734_100 * 1000)
    assert ev.loc["physicians", "status"] == BEHIND
    assert {p.name for p in tmp_path.iterdir()} >= {"evaluation.csv", "evaluation_population.csv", "evaluation.html"}
