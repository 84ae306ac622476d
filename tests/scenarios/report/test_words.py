"""Sentences about a result are written from numbers and kinds, in both languages."""

from scenarios.labels import Labels
from scenarios.report.words import plan_note


def test_the_plan_note_says_the_mode_the_budget_and_whether_every_target_is_met():
    en, zh = Labels("en"), Labels("zh")
    assert plan_note("min-cost", None, True, en) == "min-cost plan"
    assert plan_note("max-attainment", 2.0e9, True, en) == "max-attainment plan within a budget of CNY 2,000,000,000"
    assert plan_note("max-attainment", None, False, en).startswith("no plan meets every target")
    assert plan_note("max-attainment", 2.0e9, False, en).endswith("the budget of CNY 2,000,000,000")
    assert "20.00亿元" in plan_note("max-attainment", 2.0e9, True, zh) or "亿" in plan_note(
        "max-attainment", 2.0e9, True, zh
    )
    assert "没有规划能达到全部目标" in plan_note("max-attainment", None, False, zh)


def test_the_monte_carlo_assumptions_are_kinds_worded_in_either_language():
    from scenarios.loader import load
    from scenarios.report.words import assumption_table
    from scenarios.run.plan import plan_or_best_reachable, problem_for
    from scenarios.run.uncertainty import UncertaintyOptions, run_uncertainty

    s = load("conghua")
    p = problem_for(s)
    u = run_uncertainty(s, p, plan_or_best_reachable(p).plan, UncertaintyOptions(draws=20, solve=False, share=None))
    assert set(u.assumptions["distribution"]) <= {
        "two_piece_normal",
        "lognormal",
        "correlation",
        "observed",
        "need_scaled",
    }
    en = assumption_table(u, Labels("en")).set_index("input")
    zh = assumption_table(u, Labels("zh")).set_index("input")
    assert en.loc["birth_rate", "distribution"] == "two-piece normal, per 1,000 a year"
    assert zh.loc["birth_rate", "distribution"] == "两段正态分布，每千人口每年"
    assert en.loc["birth_rate", "label"] == "from the low and high variants"
    assert zh.loc["birth_rate", "label"] == "取自低方案、高方案"
    assert en.loc["observed_population", "label"].startswith("years up to 2023 as observed")
    assert not any(c.isascii() and c.isalpha() for c in zh.loc["need_from_demand", "label"].replace("demand", ""))
