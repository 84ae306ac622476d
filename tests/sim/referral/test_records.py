"""Wait samples: percentiles and means of every wait, zeros kept as a count."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.referral.records import WaitSample


@pytest.mark.parametrize("zeros, positive", [(0, 1), (5, 0), (1, 1), (95, 5), (94, 6), (1000, 37), (3, 500)])
def test_wait_sample_percentiles_and_mean_are_those_of_all_waits(zeros, positive):
    sample = WaitSample(zeros, np.random.default_rng(positive).exponential(1.0, positive))
    every = sample.values()
    for q in (0, 50, 90, 95, 99, 100):
        assert sample.percentile(q) == pytest.approx(np.percentile(every, q), rel=1e-12, abs=1e-15)
    assert sample.mean() == pytest.approx(every.mean())
    assert math.isnan(WaitSample(0, np.empty(0)).percentile(95)) and math.isnan(WaitSample(0, np.empty(0)).mean())
