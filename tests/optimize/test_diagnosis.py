"""Every infeasibility gets the worded diagnosis, whichever constraint family causes it (per-year
budget included), and the bisection names the same family as adding families one at a time."""

from __future__ import annotations

import pytest
from test_optimize import tiny  # the hand-solved instance: needs 200 beds by 2022, costs CNY 1,300

from optimize.model import FAMILIES
from optimize.problem import TargetRow
from optimize.solve import InfeasiblePlan, feasible, solve
from scenarios.report.words import diagnosis_words

CEILING = (TargetRow("r", "beds", "ceiling", 0.5, 1000.0, "expected", "<=0.5", 1.0),)


@pytest.mark.parametrize(
    "over, culprit, words",
    [
        (dict(budget_total=500.0), "budget_total", "Meeting every target needs CNY 1,300; the budget is CNY 500"),
        (
            dict(budget_per_year=200.0),
            "budget_per_year",
            "The least-cost plan peaks at CNY 1,200 in one year; the yearly cap is CNY 200",
        ),
        (dict(budget_total=1e6, budget_per_year=200.0), "budget_per_year", "the yearly budget cap cannot be kept"),
        (dict(max_additions={("r", "beds"): 50.0}), "hiring_limits", "the yearly limits on additions"),
        (dict(targets=CEILING), "no_decline", "no pool of beds or staff may fall below its base-year stock"),
        (dict(budget_per_year=50.0), "budget_per_year", "The constraints contradict each other, whatever the targets"),
    ],
)
def test_each_family_is_diagnosed_in_words(over, culprit, words):
    p = tiny(**over)
    with pytest.raises(InfeasiblePlan) as info:
        solve(p)
    assert info.value.culprit == culprit
    assert words in diagnosis_words(info.value.diagnosis)
    assert "solver stopped" not in diagnosis_words(info.value.diagnosis)


@pytest.mark.parametrize(
    "over",
    [
        dict(budget_per_year=200.0),
        dict(max_additions={("r", "beds"): 50.0}),
        dict(targets=CEILING),
        dict(budget_total=500.0),
    ],
)
def test_bisection_names_the_family_a_linear_scan_names(over):
    p = tiny(**over)
    enforced, linear = frozenset(), None
    for fam in FAMILIES:  # the definition: the first family whose addition breaks the hard targets
        if not feasible(p, enforced | {fam}):
            linear = fam
            break
        enforced |= {fam}
    with pytest.raises(InfeasiblePlan) as info:
        solve(p)
    assert info.value.culprit == linear
