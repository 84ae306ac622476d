"""The referral model as it was before the block engine: pure SimPy, one timeout event per
first contact and one process per continuing patient (commit d7d30c7, run() adapted to
today's WaitSample). A reference to test the block engine of sim.referral.simulation against."""

from __future__ import annotations

import bisect
import math
import random

import numpy as np
import simpy

from sim.referral.network import AllianceNode, ReferralNetwork, lognormal_params
from sim.referral.records import Counters, WaitSample, YearRun
from sim.referral.simulation import AllianceStations
from sim.referral.station import Station


class SimPyReferralSimulation:
    """One replication of one year of a :class:`ReferralNetwork`, one SimPy event per arrival.

    ``flows_only=True`` simulates only episodes that go beyond a single consult (admissions
    and referrals) and counts the others from their Poisson distribution; their consult
    load is taken off the clinicians as a mean-field reduction of servers. Use it for
    city-scale runs (Guangzhou); it does not apply the congestion uplift to referrals.
    """

    def __init__(
        self, net: ReferralNetwork, seed: int, warmup_days: float = 60.0, days: float = 365.0, flows_only: bool = False
    ):
        self.net, self.r = net, net.rates
        self.rnd = random.Random(seed)
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

    def _categories(self) -> list[tuple[bool, float, float, float]]:
        """(primary, multiplier, probability of category, probability it continues)."""
        r = self.r
        out = []
        for primary, p_tier in ((True, r.primary_first_share), (False, 1 - r.primary_first_share)):
            for mult, p_sev in ((self.mult[0], r.severe_share), (self.mult[1], 1 - r.severe_share)):
                out.append((primary, mult, p_tier * p_sev, self.p_continue(primary, mult)))
        return out

    def _single_consult_load(self, a: AllianceNode) -> tuple[float, float]:
        """Mean servers busy with episodes that end at their first consult: (primary, hospital)."""
        lam = a.arrivals_per_day
        load = [0.0, 0.0]
        for primary, _, p_cat, p_cont in self._categories():
            load[0 if primary else 1] += lam * p_cat * (1 - p_cont) * self.r.consult_days
        return load[0], load[1]

    # -- the patient's path ----------------------------------------------------------------

    def length_of_stay(self, kind: str) -> float:
        mu, sigma = self.los[kind]
        return self.rnd.lognormvariate(mu, sigma) if sigma > 0 else math.exp(mu)

    def counting(self) -> bool:
        return self.t0 <= self.env.now < self.t1

    def arrive(self, a: AllianceStations, primary: bool, mult: float, forced: bool = False) -> None:
        """First contact. ``forced``: the episode is known to continue (flows-only sampling)."""
        r, rnd, c = self.r, self.rnd, self.c
        now, counting = self.env.now, self.counting()
        c.episodes += counting
        service = rnd.expovariate(1.0 / r.consult_days)
        if primary:
            clinic = a.clinics[rnd.randrange(len(a.clinics))]
            wait = clinic.book(now, service, r.wait_tolerance)
            if wait is None:
                c.leaked_wait += counting
                return
            c.visits_primary += counting
            done = now + wait + service
            p_up = min(
                1.0, r.p_up * mult * (r.congestion_uplift if wait > r.congestion_wait and not self.flows_only else 1.0)
            )
            u = rnd.random()
            if forced:  # condition on continuing
                u *= r.p_admit_primary + (1 - r.p_admit_primary) * p_up
            if u < r.p_admit_primary:
                self.env.process(self.primary_admission(a, done))
            elif u < r.p_admit_primary + (1 - r.p_admit_primary) * p_up:
                self.env.process(self.referred_up(a, done, mult))
            return
        self.hospital_consult(a, now, service, mult, forced)

    def hospital_consult(
        self, a: AllianceStations, now: float, service: float, mult: float, forced: bool = False
    ) -> None:
        r, c, counting = self.r, self.c, self.counting()
        wait = a.outpatient.book(now, service, r.wait_tolerance)
        if wait is None:
            c.leaked_wait += counting
            return
        c.visits_hospital += counting
        if forced or self.rnd.random() < min(1.0, r.p_admit_hospital * mult):
            self.env.process(self.hospital_admission(a, now + wait + service))

    def referred_up(self, a: AllianceStations, at: float, mult: float):
        """Up-referral: travel to the lead hospital's outpatient clinic once the consult ends."""
        yield self.env.timeout(at - self.env.now)
        self.c.up_referrals += self.counting()
        self.hospital_consult(a, self.env.now, self.rnd.expovariate(1.0 / self.r.consult_days), mult)

    def primary_admission(self, a: AllianceStations, at: float):
        """Admission to a primary-care bed; with none free in time, up-referral for a hospital bed."""
        yield self.env.timeout(at - self.env.now)
        counting = self.counting()
        self.c.admissions_primary += counting
        if a.primary_ward.book(self.env.now, self.length_of_stay("primary"), self.r.bed_wait_tolerance) is not None:
            self.c.discharges += counting
            return
        self.c.up_referrals += counting
        yield from self.hospital_admission(a, self.env.now)

    def hospital_admission(self, a: AllianceStations, at: float):
        """Hospital stay, then down-referral for recovery when a primary-care bed is free."""
        yield self.env.timeout(at - self.env.now)
        r, c = self.r, self.c
        counting = self.counting()
        los = self.length_of_stay("hospital")
        wait = a.ward.book(self.env.now, los, r.bed_wait_tolerance)
        if wait is None:
            c.leaked_bed += counting
            return
        c.admissions_hospital += counting
        c.discharges += counting
        if self.rnd.random() < r.p_down:
            yield self.env.timeout(wait + los)
            counting = self.counting()
            ward = a.primary_ward
            if ward.has_free_server(self.env.now):
                ward.book(self.env.now, self.length_of_stay("recovery"), 0.0)
                c.down_referrals += counting
            else:
                c.down_blocked += counting

    def source(self, a: AllianceStations):
        """Poisson first contacts of the alliance's residents."""
        rnd, env = self.rnd, self.env
        if self.flows_only:
            cats = self._categories()
            weights = [p_cat * p_cont for _, _, p_cat, p_cont in cats]
            rate = a.node.arrivals_per_day * sum(weights)
            total = sum(weights)
            cum = [float(x) / total for x in np.cumsum(weights)] if rate > 0 else []
        else:
            rate = a.node.arrivals_per_day
        if rate <= 0:
            return
        r = self.r
        while True:
            yield env.timeout(rnd.expovariate(rate))
            if self.flows_only:
                k = min(bisect.bisect_right(cum, rnd.random()), len(cats) - 1)
                primary, mult = cats[k][0], cats[k][1]
                self.arrive(a, primary, mult, forced=True)
            else:
                mult = self.mult[0] if rnd.random() < r.severe_share else self.mult[1]
                self.arrive(a, rnd.random() < r.primary_first_share, mult)

    # -- run -----------------------------------------------------------------------------

    def _add_single_consults(self) -> None:
        """Flows-only: draw the episodes that end at their first consult (Poisson counts)."""
        rng = np.random.default_rng(self.rnd.getrandbits(63))
        days = self.t1 - self.t0
        for a in self.alliances:
            for primary, _, p_cat, p_cont in self._categories():
                n = int(rng.poisson(a.node.arrivals_per_day * days * p_cat * (1 - p_cont)))
                self.c.episodes += n
                if primary:
                    self.c.visits_primary += n
                else:
                    self.c.visits_hospital += n

    def run(self) -> YearRun:
        for a in self.alliances:
            self.env.process(self.source(a))
        self.env.run(until=self.t1)
        if self.flows_only:
            self._add_single_consults()
        days = self.t1 - self.t0
        clinics = [s for a in self.alliances for s in a.clinics]

        def pool(stations):
            return WaitSample.pool([s.waits for s in stations])

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
        return YearRun(
            days=days,
            counters=self.c,
            waits={
                "primary_consult": pool(clinics),
                "hospital_consult": pool([a.outpatient for a in self.alliances]),
                "hospital_bed": pool([a.ward for a in self.alliances]),
            },
            occupancy={"hospital": occ_h, "primary": occ_p},
            busy_beds={"hospital": busy_h, "primary": busy_p},
            mean_los={"hospital": los_h, "primary": los_p},
            admissions_started={"hospital": n_h, "primary": n_p},
            beds={"hospital": cap_h, "primary": cap_p},
        )
