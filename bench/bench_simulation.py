"""Referral simulation benchmark: speed against a bare SimPy M/M/c loop, a full-consult
Guangzhou year, and replications on 2 worker processes against 1.

Baseline, measured in the same run: the textbook SimPy M/M/c loop (a source process, one
process per patient, Resource request / timeout / release) with the same number of patients
and the same utilisation. Cases:

* ``mmc``: the referral model reduced to one M/M/c station (like for like with the baseline;
  goal >= 5x the bare loop);
* ``qingcheng``: one year of Qingcheng District at full scale (3.9 M episodes, full model);
* ``workers``: 4 replications of a Qingcheng year on 1 and on 2 worker processes (wall
  time; goal >= 1.8x on 2 workers);
* ``guangzhou``: one year of Guangzhou with every consult simulated (103 M episodes in the
  base year), in a child process of its own: CPU seconds and peak memory (goals < 120 CPU-s,
  < 2 GiB). ``--guangzhou-days D`` runs D days after no warm-up instead and extrapolates
  the CPU seconds to the 425 days of a run (60 warm-up + 365), saying so.

Before the block engine (commit d7d30c7) on this machine: mmc 3.5x the bare loop;
Qingcheng year 15.1 s (2.6x); full-consult Guangzhou 525 CPU-s per 425 days (extrapolated
from 10 days; the issue estimates about 4 GiB); flows-only Guangzhou year 49 CPU-s, 365 MiB;
replications ran on one core.

    python bench/bench_simulation.py [--skip-guangzhou | --guangzhou-days D] [--skip-workers]
    python bench/bench_simulation.py --replan-loop [--scenario qingcheng]   # cost of the re-plan loop (issue 10)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenarios.inputs.referral import network_from_scenario
from scenarios.loader import load  # noqa: E402
from sim.referral.experiment import simulate  # noqa: E402
from sim.referral.network import AllianceNode, FlowRates, ReferralNetwork  # noqa: E402
from sim.referral.simulation import ReferralSimulation  # noqa: E402

RUN_DAYS = 425.0  # default warm-up (60) + one year


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
    rates = FlowRates(
        primary_first_share=1.0,
        p_up=0.0,
        p_admit_primary=0.0,
        p_admit_hospital=0.0,
        p_down=0.0,
        consult_days=1 / mu,
        alos_hospital=5,
        alos_primary=5,
        recovery=5,
        los_cv=1,
        wait_tolerance=math.inf,
        bed_wait_tolerance=math.inf,
        congestion_wait=1,
        congestion_uplift=1,
        severe_share=0.0,
        severe_multiplier=1.0,
    )
    net = ReferralNetwork(2020, 1.0, (AllianceNode("a", "h", lam, 1, c, 1, 1, 1),), rates, clinic_days_share=1.0)
    days = n_patients / lam
    sim = ReferralSimulation(net, seed, warmup_days=0.0, days=days)
    t = time.perf_counter()
    run = sim.run()
    return run.counters.episodes / (time.perf_counter() - t)


def scenario_year(name: str, flows_only: bool = False, days: float | None = None) -> dict:
    """One run of a scenario's base year; ``days``: that many days after no warm-up instead."""
    net = network_from_scenario(load(name))
    sim = (
        ReferralSimulation(net, 1, flows_only=flows_only)
        if days is None
        else ReferralSimulation(net, 1, warmup_days=0.0, days=days, flows_only=flows_only)
    )
    cpu, t = time.process_time(), time.perf_counter()
    run = sim.run()
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    c = run.counters
    return {
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "episodes": c.episodes,
        "discharges": c.discharges,
        "episodes_per_s": round(c.episodes / seconds),
    }


def workers_case(name: str = "qingcheng", replications: int = 4) -> dict:
    """Wall seconds of ``replications`` year runs on 1 and on 2 worker processes."""
    nets = [network_from_scenario(load(name))]
    load_before = os.getloadavg()[0]
    out = {}
    for workers in (1, 2):
        t = time.perf_counter()
        res = simulate(nets, replications, seed=1, workers=workers)
        out[workers] = (time.perf_counter() - t, res.runs)
    assert out[1][1].equals(out[2][1]), "1 and 2 workers disagree"
    return {
        "case": f"{name}: {replications} replications, 1 vs 2 workers",
        "wall_s_1": round(out[1][0], 2),
        "wall_s_2": round(out[2][0], 2),
        "speedup_2_workers": round(out[1][0] / out[2][0], 2),
        "identical_runs": True,
        "cores": os.cpu_count(),
        "load_avg_1min": round(load_before, 2),
    }  # other processes' load shrinks the speed-up


def guangzhou_child(days: float | None) -> dict:
    """Run in its own process: a full-consult Guangzhou run, CPU seconds and peak memory."""
    g = scenario_year("guangzhou", days=days)
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out = {"case": "guangzhou one year, every consult", **g, "peak_rss_gib": round(rss_gib, 2)}
    if days is not None:
        out["case"] = f"guangzhou, every consult, {days:g} days after no warm-up"
        out["cpu_s_per_year_run_extrapolated"] = round(g["cpu_s"] * RUN_DAYS / days, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=300_000)
    ap.add_argument("--skip-guangzhou", action="store_true")
    ap.add_argument(
        "--guangzhou-days",
        type=float,
        default=None,
        help="Simulate this many days of Guangzhou and extrapolate (default: a whole year run).",
    )
    ap.add_argument("--skip-workers", action="store_true")
    ap.add_argument("--guangzhou-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.guangzhou_child:
        print(json.dumps(guangzhou_child(args.guangzhou_days), ensure_ascii=False))
        return
    lam, mu, c = 80.0, 10.0, 10  # utilisation 0.8
    base = bare_mmc(args.patients, lam, mu, c)
    ours = model_mmc(args.patients, lam, mu, c)
    print(
        json.dumps(
            {
                "case": "mmc",
                "patients": args.patients,
                "bare_simpy_per_s": round(base),
                "model_per_s": round(ours),
                "ratio_to_bare": round(ours / base, 2),
            }
        ),
        flush=True,
    )
    q = scenario_year("qingcheng")
    print(
        json.dumps(
            {"case": "qingcheng one year, full model", **q, "ratio_to_bare": round(q["episodes_per_s"] / base, 2)}
        ),
        flush=True,
    )
    if not args.skip_workers:
        print(json.dumps(workers_case()), flush=True)
    if not args.skip_guangzhou:
        cmd = [sys.executable, __file__, "--guangzhou-child"]
        if args.guangzhou_days is not None:
            cmd += ["--guangzhou-days", str(args.guangzhou_days)]
        subprocess.run(cmd, check=True)


# -- issue 10: the plan -> simulate -> re-plan loop ------------------------------------------


def replan_loop_cost(name: str = "qingcheng", basis: str = "target", replications: int = 3) -> dict:
    """Seconds of the re-plan loop (iterations x (solve + target-year simulation)) beside the
    pipeline's one simulation of every plan year on the final plan (the cost without the loop)."""
    from scenarios.inputs.allocation import from_scenario
    from scenarios.run.options import PipelineOptions
    from scenarios.run.pipeline import _target_year_simulator, simulate_plan
    from scenarios.run.projection import project
    from scenarios.run.replan import replan

    s = load(name)
    o = PipelineOptions(replications=replications, basis=basis)
    proj = project(s, s.target_year + 10)
    problem = from_scenario(s, proj, basis=basis)
    sim_once = _target_year_simulator(s, proj, o)
    sim_seconds = []

    def timed(plan):
        t = time.perf_counter()
        out = sim_once(plan)
        sim_seconds.append(time.perf_counter() - t)
        return out

    t = time.perf_counter()
    loop = replan(s, problem, s.plan.mode, timed)
    loop_s = time.perf_counter() - t
    t = time.perf_counter()
    simulate_plan(s, proj, loop.outcome.plan, o)  # what the pipeline runs after the loop, same settings
    years_s = time.perf_counter() - t
    return {
        "case": f"{name} re-plan loop (basis {basis}, {replications} replications)",
        "iterations": loop.count,
        "converged": loop.converged,
        "loop_seconds": round(loop_s, 2),
        "simulation_seconds_per_iteration": round(sum(sim_seconds) / len(sim_seconds), 2),
        "solve_seconds_per_iteration": round((loop_s - sum(sim_seconds)) / loop.count, 2),
        "plan_years_simulation_seconds": round(years_s, 2),
        "ratio_loop_to_plan_years_simulation": round(loop_s / years_s, 2),
    }


def replan_main() -> None:
    ap = argparse.ArgumentParser(description="Cost of the plan -> simulate -> re-plan loop")
    ap.add_argument("--replan-loop", action="store_true")
    ap.add_argument("--scenario", default="qingcheng")
    ap.add_argument("--replications", type=int, default=3)
    args = ap.parse_args()
    for basis in ("target", "need"):
        print(json.dumps(replan_loop_cost(args.scenario, basis, args.replications), ensure_ascii=False))


if __name__ == "__main__":
    replan_main() if "--replan-loop" in sys.argv else main()
