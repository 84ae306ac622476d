"""Plausibility bounds (scenarios/bounds.py): every number of every built-in scenario has its own row,
the built-ins lie within them, and a value outside is refused naming file, field, value and range."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scenarios import bounds
from scenarios.loader import BUILTIN_DIR, ScenarioError, builtin_names, load, load_raw

SHIPPED = builtin_names() + sorted(str(p) for sub in ("examples", "plan15") for p in (BUILTIN_DIR / sub).glob("*.toml"))


@pytest.mark.parametrize("name", SHIPPED, ids=lambda n: Path(n).stem)
def test_every_number_of_the_shipped_scenarios_has_its_own_bound(name):
    data, _ = load_raw(name)
    unmatched = sorted(
        {lookup for _, lookup, _ in bounds.numbers(load(name).model_dump()) if not bounds.bound_for(lookup)[0]}
    )
    assert not unmatched, f"add a row to scenarios/bounds.py BOUNDS for {unmatched}"
    assert bounds.check(data) == []


def test_every_bound_has_a_reason_and_a_range():
    for pattern, b in bounds.BOUNDS.items():
        assert b.low < b.high and math.isfinite(b.low) and math.isfinite(b.high), pattern
        assert len(b.reason) > 8, pattern


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("population.base", 1e12, "1e+12 is outside the plausible range 1,000 to 130,000,000"),
        ("population.variants.low.birth_rate", 61, "61 is outside the plausible range 1 to 60"),
        (
            "population.birth_rate",
            0.01179,
            "0.01179 is outside the plausible range 1 to 60",
        ),  # a per-mille as a fraction
        ("population.age_structure.rates.death_rate", 0.00528, "0.00528 is outside the plausible range 0.5 to 60"),
        ("resources.beds.ratio", 1e308, "1e+308 is outside"),
        ("plan.budget_total", math.inf, "expected a finite number, got inf"),
        ("plan.budget_total", math.nan, "expected a finite number, got nan"),
        ("something.new", 1e14, "outside the plausible range -1e+13 to 1e+13"),
    ],
)
def test_values_outside_are_named_with_their_range(field, value, expected):
    assert expected in bounds.outside(field, value)


@pytest.mark.parametrize(
    "field, value", [("population.base", 719_500), ("plan.budget_total", 0), ("referral.p_up", 1.0)]
)
def test_values_inside_pass(field, value):
    assert bounds.outside(field, value) is None


def test_a_string_that_pydantic_would_read_as_infinity_is_refused(write_toml):
    path = write_toml('extend = "renhe"\n[population]\nbase = { value = "inf", assumption = "x" }\n')
    with pytest.raises(ScenarioError, match=r"population.base.value: expected a finite number"):
        load(path)


def test_every_problem_is_reported_at_once(write_toml):
    path = write_toml(
        'extend = "renhe"\n[population]\nbase = { value = 1e12, assumption = "x" }\n'
        'birth_rate = 7.1\n[plan]\nbudget_total = { value = nan, assumption = "x" }\n'
    )
    with pytest.raises(ScenarioError) as err:
        load(path)
    fields = [field for field, _ in err.value.problems]
    assert fields == ["population.birth_rate", "plan.budget_total.value", "population.base.value"]
    assert all(line.startswith(f"{path}: ") for line in str(err.value).splitlines())
