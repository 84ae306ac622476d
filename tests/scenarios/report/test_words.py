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
