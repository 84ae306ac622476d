"""One executor for parallel work: a pure function mapped over items in this process, on spawned local
processes, or on an existing Dask scheduler.

The Monte Carlo draw solves (:func:`optimize.uncertainty.solve_draws`), the referral simulation's runs
(:func:`sim.referral.experiment.simulate`) and batch jobs (``scenarios.run.batch``) all run here. Every
result is returned by the index of its item, so the numbers do not depend on where or on how many
workers they ran; callers fix their items (chunks of draws, seeded runs) independently of the workers.

* In this process when there is no scheduler and ``workers <= 1`` or a single item.
* On ``min(workers, items)`` local processes started with :data:`START_METHOD` (each imports the
  caller's main module, so a script using more than one worker needs ``if __name__ == "__main__":``).
* On the Dask scheduler at an address (``tcp://host:8786``), reached within :data:`SCHEDULER_TIMEOUT`.

Kept in ``sim`` (which imports neither ``optimize`` nor ``scenarios``) so that both engines may use it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import as_completed as pool_completed
from typing import Any, Callable, Iterator, Sequence

SCHEDULER_TIMEOUT = "4s"  # an unreachable Dask scheduler is reported after this long
START_METHOD = "spawn"  # HiGHS and progress bars keep threads: a forked threaded process can deadlock


class SchedulerUnreachable(ConnectionError):
    """No Dask scheduler answered at ``address`` within :data:`SCHEDULER_TIMEOUT`; ``why`` is the cause, one line."""

    def __init__(self, address: str, why: str):
        self.address, self.why = address, why
        super().__init__(
            f"{address}: cannot reach a Dask scheduler within {SCHEDULER_TIMEOUT} ({why}); "
            "expected the address of a running scheduler such as tcp://host:8786"
        )


def local_workers() -> int:
    """Local worker processes by default: the machine's cores; 1 inside a daemonic process
    (a Dask worker may not start processes of its own)."""
    if multiprocessing.current_process().daemon:
        return 1
    return max(1, os.cpu_count() or 1)


def connect(address: str):
    """A Dask client of the scheduler at ``address``; :class:`SchedulerUnreachable` when none answers in time."""
    from dask.distributed import Client

    try:
        return Client(address, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise SchedulerUnreachable(
            address, str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        ) from None


def as_finished(
    fn: Callable[[Any], Any], items: Sequence, workers: int = 1, scheduler: str | None = None
) -> Iterator[tuple[int, Future]]:
    """``(index, future)`` for each item as ``fn(item)`` finishes; ``future.result()`` gives the value or
    raises the item's error, so a caller may record failures and go on. Work not yet finished is cancelled
    when the caller stops early (an error, an interrupt); close the iterator (``contextlib.closing``)."""
    if not items:
        return
    if scheduler is not None:
        from dask.distributed import as_completed

        client = connect(scheduler)
        futures = client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures):
                yield index[fut.key], fut
        finally:
            client.cancel([f for f in futures if not f.done()])
            client.close()
    elif workers <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            fut: Future = Future()
            try:
                fut.set_result(fn(item))
            except Exception as exc:  # handed to the caller through the future, as from a worker
                fut.set_exception(exc)
            yield i, fut
    else:
        context = multiprocessing.get_context(START_METHOD)
        with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=context) as pool:
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            try:
                for fut in pool_completed(futures):
                    yield futures[fut], fut
            finally:
                pool.shutdown(wait=True, cancel_futures=True)


def map_ordered(
    fn: Callable[[Any], Any],
    items: Sequence,
    workers: int = 1,
    scheduler: str | None = None,
    done: Callable[[], None] | None = None,
) -> list:
    """``[fn(item) for item in items]`` on :func:`as_finished`'s workers, in item order; ``done()`` after each
    finishes. The first error raises and cancels the rest."""
    results: list = [None] * len(items)
    with contextlib.closing(as_finished(fn, items, workers, scheduler)) as finished:
        for i, fut in finished:
            results[i] = fut.result()
            if done is not None:
                done()
    return results
