"""Referral simulation benchmark: patient-episodes per second against a bare SimPy M/M/c loop.

Baseline, measured in the same run: the textbook SimPy M/M/c loop (a source process, one
process per patient, Resource request / timeout / release) with the same number of patients
and the same utilisation. Cases:

* ``mmc``: the referral model reduced to one M/M/c station (like for like with the baseline);
* ``qingcheng``: one year of Qingcheng District at full scale (3.9 M episodes, full model);
* ``guangzhou``: one year of Guangzhou's inpatient and referral flows, city-wide (flows-only).

    python bench/bench_simulation.py [--skip-guangzhou]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import sys
import time
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenarios.loader import load  # noqa: E402
from sim.referral.model import ReferralSimulation  # noqa: E402
from scenarios.run.simulation import network_from_scenario  # noqa: E402
from sim.referral.network import AllianceNode, FlowRates, ReferralNetwork  # noqa: E402


def bare_mmc(n_patients: int, lam: float, mu: float, c: int, seed: int = 1) -> float:
    """Patients per second of the plain SimPy M/M/c loop."""
    rnd = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=c)
    done = [0]

    def patient():
        with server.request() as req:
            yield req
            yield env.timeout(rnd.expovariate(mu))
        done[0] += 1

    def source():
        for _ in range(n_patients):
            yield env.timeout(rnd.expovariate(lam))
            env.process(patient())

    env.process(source())
    t = time.perf_counter()
    env.run()
    return n_patients / (time.perf_counter() - t)


def model_mmc(n_patients: int, lam: float, mu: float, c: int, seed: int = 1) -> float:
    """Episodes per second of the referral model reduced to one M/M/c station."""
    rates = FlowRates(primary_first_share=1.0, p_up=0.0, p_admit_primary=0.0, p_admit_hospital=0.0, p_down=0.0,
                      consult_days=1 / mu, alos_hospital=5, alos_primary=5, recovery=5, los_cv=1,
                      wait_tolerance=math.inf, bed_wait_tolerance=math.inf, congestion_wait=1, congestion_uplift=1,
                      severe_share=0.0, severe_multiplier=1.0)
    net = ReferralNetwork(2020, 1.0, (AllianceNode("a", "h", lam, 1, c, 1, 1, 1),), rates, clinic_days_share=1.0)
    days = n_patients / lam
    sim = ReferralSimulation(net, seed, warmup_days=0.0, days=days)
    t = time.perf_counter()
    run = sim.run()
    return run.counters.episodes / (time.perf_counter() - t)


def scenario_year(name: str, flows_only: bool) -> dict:
    s = load(name)
    net = network_from_scenario(s)
    sim = ReferralSimulation(net, 1, flows_only=flows_only)
    t = time.perf_counter()
    run = sim.run()
    seconds = time.perf_counter() - t
    c = run.counters
    return {"seconds": round(seconds, 2), "episodes": c.episodes, "discharges": c.discharges,
            "episodes_per_s": round(c.episodes / seconds)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=300_000)
    ap.add_argument("--skip-guangzhou", action="store_true")
    args = ap.parse_args()
    lam, mu, c = 80.0, 10.0, 10  # utilisation 0.8
    base = bare_mmc(args.patients, lam, mu, c)
    ours = model_mmc(args.patients, lam, mu, c)
    print(json.dumps({"case": "mmc", "patients": args.patients, "bare_simpy_per_s": round(base),
                      "model_per_s": round(ours), "ratio_to_bare": round(ours / base, 2)}))
    q = scenario_year("qingcheng", flows_only=False)
    print(json.dumps({"case": "qingcheng one year, full model", **q, "ratio_to_bare": round(q["episodes_per_s"] / base, 2)}))
    if not args.skip_guangzhou:
        g = scenario_year("guangzhou", flows_only=True)
        rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(json.dumps({"case": "guangzhou one year, inpatient and referral flows", **g,
                          "peak_rss_gib": round(rss_gib, 2)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
