"""What a run records: the waits at each station, the counts of patients, and one year's measurements.

Waits are in days; counts cover the measured window [warm-up, warm-up + days) of a run.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

import numpy as np


class WaitLog:
    """Waits (days) recorded at one station, compactly: a count of zero waits and the positive
    waits as 8-byte doubles (most patients of an uncongested station do not wait)."""

    __slots__ = ("zeros", "positive")

    def __init__(self) -> None:
        self.zeros = 0
        self.positive = array("d")

    def add(self, wait: float) -> None:
        if wait > 0.0:
            self.positive.append(wait)
        else:
            self.zeros += 1

    def extend(self, waits: np.ndarray) -> None:
        pos = waits[waits > 0.0]
        self.zeros += len(waits) - len(pos)
        self.positive.frombytes(np.ascontiguousarray(pos, dtype=np.float64).tobytes())


@dataclass(frozen=True)
class WaitSample:
    """Every wait (days) of a pool of stations: ``zeros`` waits of 0 plus the ``positive`` ones."""

    zeros: int
    positive: np.ndarray

    @classmethod
    def pool(cls, logs: list[WaitLog]) -> WaitSample:
        parts = [np.frombuffer(log.positive, dtype=np.float64) for log in logs if len(log.positive)]
        return cls(sum(log.zeros for log in logs), np.concatenate(parts) if parts else np.empty(0))

    def __len__(self) -> int:
        return self.zeros + len(self.positive)

    def mean(self) -> float:
        """Mean wait (days); NaN when nobody was served."""
        return float(self.positive.sum()) / len(self) if len(self) else float("nan")

    def percentile(self, q: float) -> float:
        """``q``-th percentile (0-100, days) as ``np.percentile`` of all waits (linear); NaN when empty."""
        n = len(self)
        if not n:
            return float("nan")
        h = (n - 1) * q / 100.0
        lo, hi = math.floor(h), math.ceil(h)
        ks = sorted({k - self.zeros for k in (lo, hi) if k >= self.zeros})
        part = np.partition(self.positive, ks) if ks else self.positive

        def value(k: int) -> float:
            return 0.0 if k < self.zeros else float(part[k - self.zeros])

        a, b = value(lo), value(hi)
        return a + (b - a) * (h - lo)

    def values(self) -> np.ndarray:
        """All waits as one array (zeros first); for small runs and tests."""
        return np.concatenate([np.zeros(self.zeros), self.positive])


@dataclass
class Counters:
    episodes: int = 0
    visits_primary: int = 0
    visits_hospital: int = 0
    up_referrals: int = 0
    down_referrals: int = 0
    down_blocked: int = 0
    admissions_hospital: int = 0
    admissions_primary: int = 0
    discharges: int = 0
    leaked_wait: int = 0
    leaked_bed: int = 0


@dataclass
class YearRun:
    """What one run of one year measured (counts over the measured days).

    ``not_simulated`` names the wait pools (keys of ``waits``) the run did not measure:
    their samples are empty and their KPIs must not be reported as figures.
    """

    days: float
    counters: Counters
    waits: dict[str, WaitSample]
    occupancy: dict[str, float]
    busy_beds: dict[str, float]  # time-average occupied beds
    mean_los: dict[str, float]
    admissions_started: dict[str, int]  # stays that began in the window (for Little's law)
    beds: dict[str, int]
    not_simulated: frozenset[str] = frozenset()
