"""The referral network of one plan year: alliances, their stations and patient-flow rates.

Time is in days. A *station* is a pool of identical servers: clinicians giving outpatient
consults (service time exponential, mean ``1 / consults_per_clinician_day`` working days,
servers = clinicians x ``clinic_days_share``), or beds (service = length of stay).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class NetworkError(ValueError):
    """A referral network cannot be built or run as asked."""


@dataclass(frozen=True)
class FlowRates:
    """Per-patient probabilities and times shared by every alliance (days, probabilities)."""

    primary_first_share: float  # first contact in primary care
    p_up: float  # up-referral after a primary consult (mean over the case mix)
    p_admit_primary: float  # admission to a primary bed after a primary consult
    p_admit_hospital: float  # admission after a hospital outpatient consult
    p_down: float  # down-referral of a hospital discharge to a primary bed
    consult_days: float  # mean consult time, working days
    alos_hospital: float
    alos_primary: float
    recovery: float
    los_cv: float
    wait_tolerance: float  # days; math.inf = patients never leave
    bed_wait_tolerance: float
    congestion_wait: float
    congestion_uplift: float
    severe_share: float
    severe_multiplier: float

    def __post_init__(self) -> None:
        for name in ("primary_first_share", "p_up", "p_admit_primary", "p_admit_hospital", "p_down", "severe_share"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise NetworkError(f"{name} = {v:.6g}: expected a probability within [0, 1]")
        for name in (
            "consult_days",
            "alos_hospital",
            "alos_primary",
            "recovery",
            "wait_tolerance",
            "bed_wait_tolerance",
            "congestion_wait",
            "congestion_uplift",
            "severe_multiplier",
        ):
            if not getattr(self, name) > 0:
                raise NetworkError(f"{name} = {getattr(self, name)}: expected a value > 0")
        if self.los_cv < 0:
            raise NetworkError(f"los_cv = {self.los_cv}: expected a value >= 0")
        if self.severe_share * self.severe_multiplier > 1.0 + 1e-12:
            raise NetworkError(
                "severe_share x severe_multiplier exceeds 1: severe cases would take more than all referrals"
            )


@dataclass(frozen=True)
class AllianceNode:
    """One alliance: its residents' first-contact arrival rate and its capacities."""

    name: str
    lead: str
    arrivals_per_day: float  # first contacts (episodes) per day
    primary_members: int  # separate primary-care stations; a patient uses one at random
    primary_clinicians: float  # servers over all members (before clinic_days_share)
    hospital_clinicians: float
    hospital_beds: int
    primary_beds: int

    def __post_init__(self) -> None:
        if self.arrivals_per_day < 0:
            raise NetworkError(f"alliance {self.name!r}: arrivals_per_day = {self.arrivals_per_day}: expected >= 0")
        for name in ("primary_clinicians", "hospital_clinicians", "hospital_beds", "primary_beds"):
            if getattr(self, name) < 0:
                raise NetworkError(f"alliance {self.name!r}: {name} = {getattr(self, name)}: expected >= 0")


@dataclass(frozen=True)
class ReferralNetwork:
    """Alliances plus flow rates for one simulated year; ``population`` in residents."""

    year: int
    population: float
    alliances: tuple[AllianceNode, ...]
    rates: FlowRates
    clinic_days_share: float = 250 / 365

    def servers(self, clinicians: float, members: int = 1) -> int:
        """Consult servers per station: clinicians on duty on an average day, at least one."""
        return max(1, int(round(clinicians * self.clinic_days_share / members)))

    def check(self) -> None:
        """Refuse a network that would silently produce nonsense (a stage with no capacity)."""
        r = self.rates
        for a in self.alliances:
            if a.arrivals_per_day <= 0:
                continue
            if r.primary_first_share > 0 and a.primary_clinicians <= 0:
                raise NetworkError(f"alliance {a.name!r}: zero primary-care clinicians but patients arrive there")
            if (r.primary_first_share < 1 or r.p_up > 0) and a.hospital_clinicians <= 0:
                raise NetworkError(f"alliance {a.name!r}: zero hospital clinicians but patients are sent there")
            if r.p_admit_hospital > 0 and a.hospital_beds <= 0:
                raise NetworkError(f"alliance {a.name!r}: zero hospital beds but patients are admitted")
            if r.p_admit_primary > 0 and a.primary_beds <= 0:
                raise NetworkError(f"alliance {a.name!r}: zero primary-care beds but patients are admitted there")


def admission_probabilities(
    visits_per_capita: float,
    admissions_per_capita: float,
    primary_first_share: float,
    p_up: float,
    primary_admission_share: float,
) -> tuple[float, float, float]:
    """(first contacts per resident-year, P(admit | primary consult), P(admit | hospital consult)).

    Chosen so that expected consults and admissions per resident match the given rates:
    a first contact is one consult, plus one more when up-referred from primary care.
    """
    f = primary_first_share
    episodes = visits_per_capita / (1.0 + f * p_up)
    p_ap = primary_admission_share * admissions_per_capita / (episodes * f) if f > 0 else 0.0
    hospital_consults = episodes * ((1 - f) + f * p_up)  # per capita (ignoring primary admissions)
    p_ah = (1 - primary_admission_share) * admissions_per_capita / hospital_consults if hospital_consults > 0 else 0.0
    if p_ap > 1 or p_ah > 1:
        raise NetworkError(
            f"admissions_per_capita {admissions_per_capita} cannot be reached (needs admission probabilities "
            f"{p_ap:.3f} primary, {p_ah:.3f} hospital); expected fewer admissions per visit"
        )
    return episodes, p_ap, p_ah


def lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    """(mu, sigma) of a lognormal with the given mean and coefficient of variation."""
    sigma2 = math.log(1.0 + cv * cv)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)
