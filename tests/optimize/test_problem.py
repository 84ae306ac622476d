"""One test of "met", one milestone line and one set of hospital pools, shared by every stage."""

import numpy as np
import pytest

from optimize.problem import MET_TOL, PRIVATE, AllocationProblem, gap_met, is_met, milestone


def test_met_is_at_least_a_floor_and_at_most_a_ceiling_within_the_relative_tolerance():
    assert is_met("floor", 6.0, 6.0) and is_met("floor", 6.0 - 0.5 * MET_TOL * 6.0, 6.0)
    assert not is_met("floor", 6.0 - 2 * MET_TOL * 6.0, 6.0)
    assert is_met("ceiling", 0.3, 0.3) and not is_met("ceiling", 0.31, 0.3)
    assert not is_met("floor", 0.0, 0.5)  # below 1 the tolerance is absolute: MET_TOL
    assert is_met("floor", 0.5 - 0.5 * MET_TOL, 0.5)
    got = is_met("floor", np.array([5.0, 6.0, 7.0]), 6.0)
    assert got.tolist() == [False, True, True]
    assert gap_met(0.0, 0.0) and not gap_met(2 * MET_TOL, 0.0)


def test_the_milestone_is_the_straight_line_from_base_to_goal():
    assert milestone(3.88, 6.0, 2020, 2025, 2020) == pytest.approx(3.88)
    assert milestone(3.88, 6.0, 2020, 2025, 2023) == pytest.approx(3.88 + 3 * (6.0 - 3.88) / 5)
    assert milestone(3.88, 6.0, 2020, 2025, 2025) == pytest.approx(6.0)


def test_hospital_pools_are_every_pool_but_primary_care():
    base = {
        ("r", "beds", "hospital"): 100.0,
        ("r", "beds", "primary"): 50.0,
        ("r", "beds", PRIVATE): 20.0,
        ("r", "nurses", "hospital"): 10.0,
        ("r", "nurses", "primary"): 5.0,
    }
    p = AllocationProblem(
        regions=("r",),
        kinds=("beds", "nurses"),
        base_year=2020,
        target_year=2025,
        baseline=base,
        population={("r", y): 1e5 for y in range(2020, 2026)},
        targets=(),
        capital={},
        annual={},
    )
    assert p.hospital_pools("r", "beds") == ("hospital", PRIVATE)
    assert p.hospital_pools("r", "nurses") == ("hospital",)
