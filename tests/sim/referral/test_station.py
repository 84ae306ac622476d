"""A station books a block of patients exactly as the Kiefer-Wolfowitz recursion does one by one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.referral.station import Station


@pytest.mark.parametrize("servers, tolerance", [(1, math.inf), (3, 0.4), (12, 0.0), (40, 1.0)])
def test_block_booking_is_the_one_by_one_recursion(servers, tolerance):
    rng = np.random.default_rng(servers)
    n = 20_000
    times = np.sort(rng.uniform(0, n / (0.95 * servers), n))
    service = rng.exponential(1.0, n)
    block, single = Station("b", servers, 10.0, 1e9), Station("s", servers, 10.0, 1e9)
    waits = np.concatenate(
        [
            block.book_block(times[:7000], service[:7000], tolerance),
            block.book_block(times[7000:], service[7000:], tolerance),
        ]
    )
    one = [single.book(t, s, tolerance) for t, s in zip(times.tolist(), service.tolist())]
    assert np.array_equal(waits, np.array([np.nan if w is None else w for w in one]), equal_nan=True)
    assert sorted(block.free) == sorted(single.free)
    assert np.array_equal(block.waits.positive, single.waits.positive) and block.waits.zeros == single.waits.zeros
