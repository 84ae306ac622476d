"""The one executor: results by item whatever the workers and their finishing order, errors per item,
an unreachable scheduler in one line within seconds."""

from __future__ import annotations

import contextlib
import time

import pytest

from sim.executor import SCHEDULER_TIMEOUT, SchedulerUnreachable, as_finished, map_ordered


def late_square(x: int) -> int:
    """x squared, the first items finishing last (so parallel workers complete out of order)."""
    time.sleep(0.3 / (1 + x))
    return x * x


def square_but_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_item_order(workers):
    calls = []
    assert map_ordered(late_square, range(6), workers, done=lambda: calls.append(1)) == [0, 1, 4, 9, 16, 25]
    assert len(calls) == 6


def test_finished_items_arrive_as_they_finish_with_their_errors():
    with contextlib.closing(as_finished(square_but_three, list(range(5)), workers=2)) as finished:
        outcomes = {i: fut.exception() or fut.result() for i, fut in finished}
    assert sorted(outcomes) == [0, 1, 2, 3, 4]
    assert isinstance(outcomes[3], ValueError) and outcomes[4] == 16
    with pytest.raises(ValueError, match="three"):
        map_ordered(square_but_three, list(range(5)))


def test_an_unreachable_scheduler_is_one_line_within_seconds():
    t0 = time.perf_counter()
    with pytest.raises(SchedulerUnreachable, match=f"cannot reach a Dask scheduler within {SCHEDULER_TIMEOUT}") as err:
        map_ordered(abs, [-1, -2], scheduler="tcp://127.0.0.1:1")
    assert time.perf_counter() - t0 < 15 and "\n" not in str(err.value)
    assert err.value.address == "tcp://127.0.0.1:1"
