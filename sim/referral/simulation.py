"""Model of patient flows in medical alliances, one plan year per run.

A patient's path: first contact in primary care (one of the alliance's member health
centres) or straight to hospital outpatient; a consult; from primary care, admission to
a primary-care bed or up-referral to hospital outpatient; at hospital, admission to a
bed for a length of stay; after discharge, down-referral to a primary-care bed for
recovery. A patient facing a wait longer than the tolerance for a consult or a bed
leaves the area (leakage). Time is in days; statistics cover [warm-up, warm-up + days).

Stations (clinician pools, wards) are exact FCFS multi-server queues (:mod:`sim.referral.station`);
what a run measures is in :mod:`sim.referral.records`.

Two stages, both exact FCFS in time order:

* **Consults, in blocks, without events.** First contacts are drawn with numpy a block of
  days at a time (a Poisson count, then sorted uniform times). A clinic sees only first
  contacts; hospital outpatient sees first contacts and up-referrals from the clinics,
  whose arrival times (end of the primary consult) are known as soon as the clinics are
  booked. So at the start of a block every clinic is booked for the block, then each
  outpatient station is booked on the time-sorted merge of its first contacts and the
  up-referrals due in the block (later ones carry over to the next block).
* **Beds, in SimPy's time order.** Consults that lead to an admission queue it for the
  consult's end. The same SimPy process then walks the block's admissions in time order,
  booking each at its time and yielding to SimPy whenever another event (a discharge to
  recovery, scheduled as a SimPy event) is due first; so the wards, too, see patients in
  time order. Admissions later than the block carry over to the next one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import simpy

from sim.referral.network import AllianceNode, ReferralNetwork, lognormal_params
from sim.referral.records import Counters, WaitSample, YearRun
from sim.referral.station import Station


def sorted_uniform(rng: np.random.Generator, start: float, end: float, n: int) -> np.ndarray:
    """``n`` uniform times in [start, end), ascending, without a sort: normalised partial sums of
    n + 1 exponential spacings have the law of uniform order statistics."""
    sums = np.cumsum(rng.exponential(1.0, n + 1))
    return start + (end - start) * (sums[:n] / sums[n])


def _run_step(event: simpy.events.Event) -> None:
    """SimPy callback of :meth:`ReferralSimulation.at`: the event's value is (step, alliance, time)."""
    step, a, time = event.value
    step(a, time)


class AdmissionQueue:
    """Admissions waiting for their time, one entry per patient: time (days), alliance index,
    ward asked first (hospital, else a primary-care bed), length of stay there (days), and
    whether a hospital stay ends in a down-referral (drawn ahead: neither depends on the wards)."""

    FIELDS = ("times", "alliance", "hospital", "los", "down")

    def __init__(self) -> None:
        self.columns = {name: np.empty(0) for name in self.FIELDS}

    def add(self, times: np.ndarray, alliance: int, hospital: bool, los: np.ndarray, down: np.ndarray) -> None:
        n = len(times)
        new = {
            "times": times,
            "alliance": np.full(n, alliance),
            "hospital": np.full(n, hospital),
            "los": los,
            "down": down,
        }
        self.columns = {k: np.concatenate([self.columns[k], new[k]]) for k in self.FIELDS}

    def pop_before(self, end: float) -> list[list]:
        """Remove and return the admissions due before ``end``, in time order, as lists per field."""
        order = np.argsort(self.columns["times"], kind="stable")
        cut = int(np.searchsorted(self.columns["times"][order], end, side="left"))
        out = [self.columns[k][order[:cut]].tolist() for k in self.FIELDS]
        self.columns = {k: v[order[cut:]] for k, v in self.columns.items()}
        return out


@dataclass
class AllianceStations:
    node: AllianceNode
    clinics: list[Station]
    outpatient: Station
    ward: Station  # hospital beds
    primary_ward: Station  # primary-care beds
    # up-referrals due at outpatient after the current block: arrival times (days), case-mix multipliers
    referred: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.empty(0), np.empty(0)))


@dataclass(frozen=True)
class Category:
    """A kind of first contact: where it starts, its referral multiplier, its share of arrivals."""

    primary: bool
    mult: float
    share: float  # probability of the category among all first contacts
    p_continue: float  # probability the first consult leads on, without congestion


class ReferralSimulation:
    """One replication of one year of a :class:`ReferralNetwork`.

    ``flows_only=True`` simulates only episodes that go beyond a single consult (admissions
    and referrals) and counts the others from their Poisson distribution; their consult
    load is taken off the clinicians as a mean-field reduction of servers, so consult
    waits are not measured (``YearRun.not_simulated``). It does not apply the congestion
    uplift to referrals.

    ``block_arrivals``: first contacts of the busiest alliance drawn per block (memory
    only; the result does not depend on it beyond the random stream).
    """

    def __init__(
        self,
        net: ReferralNetwork,
        seed: int,
        warmup_days: float = 60.0,
        days: float = 365.0,
        flows_only: bool = False,
        block_arrivals: int = 100_000,
    ):
        self.net, self.r = net, net.rates
        numpy_seq, python_seq = np.random.SeedSequence(seed).spawn(2)
        self.rng = np.random.default_rng(numpy_seq)  # consults, in blocks
        self.rnd = random.Random(int(python_seq.generate_state(1, np.uint64)[0]))  # stays, one at a time
        self.env = simpy.Environment()
        self.t0, self.t1 = warmup_days, warmup_days + days
        self.c = Counters()
        self.flows_only = flows_only
        r = self.r
        sev, m = r.severe_share, r.severe_multiplier
        self.mult = (m, (1.0 - sev * m) / (1.0 - sev) if sev < 1 else 1.0)  # (severe, other); mean 1
        self.los = {
            k: lognormal_params(v, r.los_cv)
            for k, v in (("hospital", r.alos_hospital), ("primary", r.alos_primary), ("recovery", r.recovery))
        }
        self.alliances = [self._stations(a) for a in net.alliances]
        self.admissions = AdmissionQueue()
        busiest = max((a.arrivals_per_day for a in net.alliances), default=0.0)
        self.block_days = block_arrivals / busiest if busiest > 0 else self.t1

    def _stations(self, a: AllianceNode) -> AllianceStations:
        net, t0, t1 = self.net, self.t0, self.t1
        clinic_servers = net.servers(a.primary_clinicians, a.primary_members)
        outpatient_servers = net.servers(a.hospital_clinicians)
        if self.flows_only:  # mean-field: servers busy with single-consult episodes are taken away
            load_p, load_h = self._single_consult_load(a)
            clinic_servers = max(1, int(round(clinic_servers - load_p / a.primary_members)))
            outpatient_servers = max(1, int(round(outpatient_servers - load_h)))
        return AllianceStations(
            node=a,
            clinics=[Station(f"{a.name}/clinic{i}", clinic_servers, t0, t1) for i in range(a.primary_members)],
            outpatient=Station(f"{a.name}/outpatient", outpatient_servers, t0, t1),
            ward=Station(f"{a.name}/beds", a.hospital_beds, t0, t1),
            primary_ward=Station(f"{a.name}/primary-beds", a.primary_beds, t0, t1),
        )

    # -- probabilities of what follows a consult -------------------------------------------------

    def p_continue(self, primary: bool, mult: float) -> float:
        """Probability that a first consult leads on (admission or up-referral), without congestion."""
        r = self.r
        if primary:
            return r.p_admit_primary + (1 - r.p_admit_primary) * min(1.0, r.p_up * mult)
        return min(1.0, r.p_admit_hospital * mult)

    def categories(self) -> list[Category]:
        """Primary or hospital first, severe or not: four categories."""
        r = self.r
        out = []
        for primary, p_tier in ((True, r.primary_first_share), (False, 1 - r.primary_first_share)):
            for mult, p_sev in ((self.mult[0], r.severe_share), (self.mult[1], 1 - r.severe_share)):
                out.append(Category(primary, mult, p_tier * p_sev, self.p_continue(primary, mult)))
        return out

    def _single_consult_load(self, a: AllianceNode) -> tuple[float, float]:
        """Mean servers busy with episodes that end at their first consult: (primary, hospital)."""
        lam = a.arrivals_per_day
        load = [0.0, 0.0]
        for cat in self.categories():
            load[0 if cat.primary else 1] += lam * cat.share * (1 - cat.p_continue) * self.r.consult_days
        return load[0], load[1]

    def _arrival_mix(self, a: AllianceNode) -> tuple[float, list[Category], np.ndarray]:
        """(first contacts per day, categories, cumulative category probabilities) that are simulated:
        every first contact, or with ``flows_only`` only those that continue."""
        cats = self.categories()
        weights = np.array([c.share * (c.p_continue if self.flows_only else 1.0) for c in cats])
        total = float(weights.sum())
        if total <= 0 or a.arrivals_per_day <= 0:
            return 0.0, cats, np.ones(len(cats))
        return a.arrivals_per_day * total, cats, np.cumsum(weights) / total

    # -- a block of days at a time: consults without events, then admissions in time order -------

    def blocks(self):
        """SimPy process: at the start of each block, book every consult that begins in the block;
        then book the block's admissions in time order, letting SimPy run whatever is due first."""
        mixes = [self._arrival_mix(a.node) for a in self.alliances]
        env, start = self.env, 0.0
        while start < self.t1:
            end = min(start + self.block_days, self.t1)
            for k, (a, mix) in enumerate(zip(self.alliances, mixes)):
                self._consult_block(k, a, start, end, *mix)
            for t, k, hospital, los, down in zip(*self.admissions.pop_before(end)):
                if env.peek() < t:  # a SimPy event comes first: let it happen
                    yield env.timeout(max(0.0, t - env.now))
                if hospital:
                    self.hospital_admission(self.alliances[int(k)], t, los, down)
                else:
                    self.primary_admission(self.alliances[int(k)], t, los)
            yield env.timeout(max(0.0, end - env.now))
            start = end

    def _consult_block(
        self, k: int, a: AllianceStations, start: float, end: float, rate: float, cats: list[Category], cum: np.ndarray
    ) -> None:
        """Book the consults of first contacts arriving in [start, end) and of up-referrals due then."""
        rng, t0, t1 = self.rng, self.t0, self.t1
        n = int(rng.poisson(rate * (end - start))) if rate > 0 else 0
        times = sorted_uniform(rng, start, end, n)
        kind = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cats) - 1)
        primary = np.array([c.primary for c in cats])[kind]
        mult = np.array([c.mult for c in cats])[kind]
        self.c.episodes += int(np.count_nonzero((times >= t0) & (times < t1)))
        up_times, up_mult = self._primary_consults(k, a, times[primary], mult[primary])
        # outpatient: hospital first contacts merged in time order with the up-referrals due in the block
        due_times = np.concatenate([a.referred[0], up_times])
        due_mult = np.concatenate([a.referred[1], up_mult])
        due = due_times < end
        a.referred = (due_times[~due], due_mult[~due])
        self.c.up_referrals += int(np.count_nonzero((due_times[due] >= t0) & (due_times[due] < t1)))
        h_times, h_mult = times[~primary], mult[~primary]
        out_times = np.concatenate([h_times, due_times[due]])
        order = np.argsort(out_times, kind="stable")
        forced = np.zeros(len(out_times), dtype=bool)
        forced[: len(h_times)] = self.flows_only  # flows-only first contacts are known to continue
        self._outpatient_consults(k, a, out_times[order], np.concatenate([h_mult, due_mult[due]])[order], forced[order])

    def _primary_consults(
        self, k: int, a: AllianceStations, times: np.ndarray, mult: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Book primary first contacts (ascending ``times``) of alliance ``k`` on its clinics; queue admissions.

        Returns the up-referrals: their arrival times at hospital outpatient (days) and multipliers.
        """
        r, rng, c = self.r, self.rng, self.c
        n = len(times)
        clinic = rng.integers(0, len(a.clinics), n)
        service = rng.exponential(r.consult_days, n)
        u = rng.random(n)
        waits = np.empty(n)
        order = np.argsort(clinic, kind="stable")  # by clinic, in time order within each
        bounds = np.searchsorted(clinic[order], np.arange(len(a.clinics) + 1))
        for i, station in enumerate(a.clinics):
            idx = order[bounds[i] : bounds[i + 1]]
            if len(idx):
                waits[idx] = station.book_block(times[idx], service[idx], r.wait_tolerance)
        served = ~np.isnan(waits)
        counting = (times >= self.t0) & (times < self.t1)
        c.leaked_wait += int(np.count_nonzero(~served & counting))
        c.visits_primary += int(np.count_nonzero(served & counting))
        congested = served & (waits > r.congestion_wait) & (not self.flows_only)
        p_up = np.minimum(1.0, r.p_up * mult * np.where(congested, r.congestion_uplift, 1.0))
        p_on = r.p_admit_primary + (1 - r.p_admit_primary) * p_up
        if self.flows_only:  # condition on continuing
            u = u * p_on
        done = times + np.where(served, waits, 0.0) + service
        admit = served & (u < r.p_admit_primary)
        up = served & ~admit & (u < p_on)
        stays = self.stays("primary", int(admit.sum()))
        self.admissions.add(done[admit], k, hospital=False, los=stays, down=np.zeros(len(stays), dtype=bool))
        return done[up], mult[up]

    def _outpatient_consults(
        self, k: int, a: AllianceStations, times: np.ndarray, mult: np.ndarray, forced: np.ndarray
    ) -> None:
        """Book hospital outpatient consults (ascending ``times``) of alliance ``k``; queue admissions."""
        r, rng, c = self.r, self.rng, self.c
        n = len(times)
        service = rng.exponential(r.consult_days, n)
        u = rng.random(n)
        waits = a.outpatient.book_block(times, service, r.wait_tolerance)
        served = ~np.isnan(waits)
        counting = (times >= self.t0) & (times < self.t1)
        c.leaked_wait += int(np.count_nonzero(~served & counting))
        c.visits_hospital += int(np.count_nonzero(served & counting))
        admit = served & (forced | (u < np.minimum(1.0, r.p_admit_hospital * mult)))
        stays = self.stays("hospital", int(admit.sum()))
        self.admissions.add(
            (times + np.where(served, waits, 0.0) + service)[admit],
            k,
            hospital=True,
            los=stays,
            down=rng.random(len(stays)) < r.p_down,
        )

    # -- beds: booked at the patient's time, in SimPy's time order -------------------------------

    def at(self, time: float, step: Callable[[AllianceStations, float], None], a: AllianceStations) -> None:
        """Run ``step(a, time)`` at ``time`` (days, absolute) as one SimPy event."""
        self.env.timeout(max(0.0, time - self.env.now), (step, a, time)).callbacks.append(_run_step)

    def length_of_stay(self, kind: str) -> float:
        """One stay (days) of ``kind``: 'hospital', 'primary' or 'recovery'."""
        mu, sigma = self.los[kind]
        return self.rnd.lognormvariate(mu, sigma) if sigma > 0 else math.exp(mu)

    def stays(self, kind: str, n: int) -> np.ndarray:
        """``n`` stays (days) of ``kind`` at once."""
        mu, sigma = self.los[kind]
        return self.rng.lognormal(mu, sigma, n)

    def counting(self, now: float) -> bool:
        return self.t0 <= now < self.t1

    def primary_admission(self, a: AllianceStations, now: float, los: float) -> None:
        """Admission to a primary-care bed at ``now`` for ``los`` (days); with none free in time,
        up-referral for a hospital bed."""
        counting = self.counting(now)
        self.c.admissions_primary += counting
        if a.primary_ward.book(now, los, self.r.bed_wait_tolerance) is not None:
            self.c.discharges += counting
            return
        self.c.up_referrals += counting
        self.hospital_admission(a, now, self.length_of_stay("hospital"), self.rnd.random() < self.r.p_down)

    def hospital_admission(self, a: AllianceStations, now: float, los: float, down: bool) -> None:
        """Hospital stay from ``now`` for ``los`` (days); at discharge, down-referral for recovery
        if ``down``."""
        r, c = self.r, self.c
        counting = self.counting(now)
        wait = a.ward.book(now, los, r.bed_wait_tolerance)
        if wait is None:
            c.leaked_bed += counting
            return
        c.admissions_hospital += counting
        c.discharges += counting
        if down:
            self.at(now + wait + los, self.recovery, a)

    def recovery(self, a: AllianceStations, now: float) -> None:
        """Down-referral at discharge (``now``, days): a primary-care bed if one is free, else blocked."""
        ward = a.primary_ward
        if ward.has_free_server(now):
            ward.book(now, self.length_of_stay("recovery"), 0.0)
            self.c.down_referrals += self.counting(now)
        else:
            self.c.down_blocked += self.counting(now)

    # -- run -----------------------------------------------------------------------------

    def _add_single_consults(self) -> None:
        """Flows-only: draw the episodes that end at their first consult (Poisson counts)."""
        days = self.t1 - self.t0
        for a in self.alliances:
            for cat in self.categories():
                n = int(self.rng.poisson(a.node.arrivals_per_day * days * cat.share * (1 - cat.p_continue)))
                self.c.episodes += n
                if cat.primary:
                    self.c.visits_primary += n
                else:
                    self.c.visits_hospital += n

    def run(self) -> YearRun:
        self.env.process(self.blocks())
        self.env.run(until=self.t1)
        if self.flows_only:
            self._add_single_consults()
        days = self.t1 - self.t0
        clinics = [s for a in self.alliances for s in a.clinics]

        def ward_stats(wards):
            cap = sum(w.servers for w in wards)
            area = sum(w.area for w in wards)
            n = sum(w.started for w in wards)
            return (
                area / (cap * days) if cap else float("nan"),
                area / days,
                sum(w.service_sum for w in wards) / n if n else float("nan"),
                n,
                cap,
            )

        occ_h, busy_h, los_h, n_h, cap_h = ward_stats([a.ward for a in self.alliances])
        occ_p, busy_p, los_p, n_p, cap_p = ward_stats([a.primary_ward for a in self.alliances])
        not_simulated = frozenset({"primary_consult", "hospital_consult"} if self.flows_only else ())
        waits = {
            "primary_consult": [s.waits for s in clinics],
            "hospital_consult": [a.outpatient.waits for a in self.alliances],
            "hospital_bed": [a.ward.waits for a in self.alliances],
        }
        return YearRun(
            days=days,
            counters=self.c,
            waits={k: WaitSample.pool([] if k in not_simulated else logs) for k, logs in waits.items()},
            occupancy={"hospital": occ_h, "primary": occ_p},
            busy_beds={"hospital": busy_h, "primary": busy_p},
            mean_los={"hospital": los_h, "primary": los_p},
            admissions_started={"hospital": n_h, "primary": n_p},
            beds={"hospital": cap_h, "primary": cap_p},
            not_simulated=not_simulated,
        )
