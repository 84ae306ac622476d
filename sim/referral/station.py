"""A station: a first-come-first-served pool of identical servers (clinicians or beds).

A station is kept as a Kiefer-Wolfowitz workload vector: a heap of the times each server next becomes
free. A patient arriving at time t starts at max(t, earliest free time); with FCFS service, leaving when
that virtual wait exceeds the tolerance is the same as reneging after it. Times are in days.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from sim.referral.records import WaitLog

_FIRST_RUN, _LAST_RUN = 32, 4096  # patients booked one by one before looking for a free stretch again


class Station:
    """A FCFS pool of ``servers`` identical servers (clinicians or beds), with statistics over [t0, t1)."""

    __slots__ = ("name", "servers", "free", "t0", "t1", "waits", "area", "started", "service_sum")

    def __init__(self, name: str, servers: int, t0: float, t1: float):
        self.name = name
        self.servers = servers
        self.free = [0.0] * servers  # heap: when each server next becomes free
        self.t0, self.t1 = t0, t1
        self.waits = WaitLog()  # waits of patients served who arrived in [t0, t1)
        self.area = 0.0  # busy server-days inside [t0, t1)
        self.started = 0  # services started inside [t0, t1)
        self.service_sum = 0.0  # their service times (days)

    def book(self, now: float, service: float, tolerance: float) -> float | None:
        """Serve a patient arriving ``now``; return the wait (days), or None if it exceeds ``tolerance``."""
        free = self.free
        if not free:
            return None
        start = free[0] if free[0] > now else now
        wait = start - now
        if wait > tolerance:
            return None
        end = start + service
        heapq.heapreplace(free, end)
        if self.t0 <= now < self.t1:
            self.waits.add(wait)
        lo = start if start > self.t0 else self.t0
        hi = end if end < self.t1 else self.t1
        if hi > lo:
            self.area += hi - lo
        if self.t0 <= start < self.t1:
            self.started += 1
            self.service_sum += service
        return wait

    def book_block(self, times: np.ndarray, services: np.ndarray, tolerance: float) -> np.ndarray:
        """Serve patients arriving at ascending ``times`` (days) with ``services`` (days), exactly as
        :meth:`book` one after another; return their waits (days), NaN for those who leave.

        Stretches of patients who surely find a free server are booked at once
        (:meth:`_free_prefix`); the rest one by one, in runs that grow while the station stays busy.
        """
        n = len(times)
        if not self.free:
            return np.full(n, np.nan)
        waits = np.empty(n)
        ends = times + services
        window = max(4096, 4 * self.servers)  # patients looked ahead per vectorised step
        pos, run = 0, _FIRST_RUN
        while pos < n:
            k = self._free_prefix(times[pos : pos + window], ends[pos : pos + window])
            if k:
                waits[pos : pos + k] = 0.0
                self._absorb(ends[pos : pos + k])
                pos += k
                run = _FIRST_RUN if k >= run else run
            if pos < n and k < window:
                stop = min(n, pos + run)
                waits[pos:stop] = self._book_one_by_one(times[pos:stop], services[pos:stop], tolerance)
                pos, run = stop, min(2 * run, _LAST_RUN)
        self._record_block(times, waits, services)
        return waits

    def _free_prefix(self, times: np.ndarray, ends: np.ndarray) -> int:
        """How many of the next patients surely find a free server if none of them waits.

        Patient j finds one unless at least ``servers`` of {free times now} U {ends of the
        patients before j} are at or after ``times[j]``; a patient after j ends after times[j],
        so the ends before j that come earlier than times[j] are all ends that do (counted
        with one sort). Counting ties as busy makes the answer safe.
        """
        free = np.sort(np.fromiter(self.free, dtype=np.float64, count=self.servers))
        busy = (
            self.servers
            - np.searchsorted(free, times, side="left")
            + np.arange(len(times))
            - np.searchsorted(np.sort(ends), times, side="left")
        )
        full = busy >= self.servers
        return int(np.argmax(full)) if full.any() else len(times)

    def _absorb(self, ends: np.ndarray) -> None:
        """Book patients who found a free server: each took the earliest free one, so the servers'
        next free times are the ``servers`` latest of the old ones and the new ``ends``."""
        both = np.concatenate([np.fromiter(self.free, dtype=np.float64, count=self.servers), ends])
        latest = np.partition(both, len(both) - self.servers)[len(both) - self.servers :].tolist()
        heapq.heapify(latest)
        self.free = latest

    def _book_one_by_one(self, times: np.ndarray, services: np.ndarray, tolerance: float) -> np.ndarray:
        """The Kiefer-Wolfowitz recursion, patient by patient (waits in days, NaN for those who leave)."""
        free = self.free
        heapreplace, nan = heapq.heapreplace, math.nan
        out: list[float] = []
        append = out.append
        for t, s in zip(times.tolist(), services.tolist()):
            f = free[0]
            if f <= t:
                heapreplace(free, t + s)
                append(0.0)
            elif f - t <= tolerance:
                heapreplace(free, f + s)
                append(f - t)
            else:
                append(nan)
        return np.array(out, dtype=np.float64)

    def _record_block(self, times: np.ndarray, waits: np.ndarray, services: np.ndarray) -> None:
        t0, t1 = self.t0, self.t1
        served = ~np.isnan(waits)
        self.waits.extend(waits[served & (times >= t0) & (times < t1)])
        start = times[served] + waits[served]
        service = services[served]
        end = start + service
        self.area += float((np.clip(end, t0, t1) - np.clip(start, t0, t1)).sum())
        began = (start >= t0) & (start < t1)
        self.started += int(began.sum())
        self.service_sum += float(service[began].sum())

    def has_free_server(self, now: float) -> bool:
        return bool(self.free) and self.free[0] <= now
