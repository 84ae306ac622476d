"""Optimizer benchmark: build + solve time of the allocation model, new formulation against the previous one.

Cases: the Guangzhou scenario (one city) and a synthetic province of 100 districts x 5 resource
kinds x 2 tiers (+ private beds) x 10 years. In one run:

* **new LP**: the current formulation (per-pool no decline, linear milestones, discounting,
  capital smoothing, private pools, subsets), continuous;
* **new MILP**: the same in whole units (what users get by default), with its optimality gap;
* **previous**: the formulation of commit f15617c, extracted with ``git archive`` into a temporary
  folder and timed there in a subprocess on the same cases (its own scenario data and synthetic
  province, same seed);
* **solver alone**: HiGHS (highspy) reading the new LP from an MPS file, i.e. no modelling layer.

Reported per case: seconds and the ratios new / previous and new / solver alone.

    python bench/bench_optimizer.py [--districts 100] [--years 10] [--repeat 3] [--milp-seconds 60]

Persistent re-solves (one model, data changed in place; see :func:`persistent_section`): Monte Carlo
draws of Guangzhou per second and budget-sweep points of the province per second, each against
rebuilding the model for every solve, as ratios in the same run:

    python bench/bench_optimizer.py --only-persistent [--draws 1000] [--sweep-points 50] [--rebuild-sample 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimize.problem import PRIVATE, TIERS, AllocationProblem, TargetRow  # noqa: E402
from optimize.solve import export_model, solve  # noqa: E402
from scenarios.inputs.allocation import from_scenario  # noqa: E402
from scenarios.loader import load  # noqa: E402
from scenarios.run.projection import project  # noqa: E402

PREVIOUS = "f15617c"
KINDS = ("beds", "physicians", "nurses", "gps", "public_health_staff")
RATIO = {
    "beds": 4.0,
    "physicians": 2.4,
    "nurses": 2.9,
    "gps": 3.0,
    "public_health_staff": 0.7,
}  # per 1,000 (GPs per 10,000)
TARGET = {"beds": 6.0, "physicians": 3.0, "nurses": 4.0, "gps": 4.0, "public_health_staff": 0.9}
DIV = {"gps": 10_000.0}


def synthetic_province(n_districts: int, n_years: int, seed: int = 1) -> AllocationProblem:
    """A reproducible synthetic province (the previous bench's, same seed) with the new settings: 20% of
    hospital beds private, whole leavers, linear milestones, 8% discounting, capital smoothing, GPs inside
    physicians; costs and constraints from the built-in defaults."""
    rng = np.random.default_rng(seed)
    ref = from_scenario(load("conghua"), project(load("conghua"), 2035))
    base_year, target_year = 2020, 2020 + n_years
    regions = tuple(f"d{i:03d}" for i in range(n_districts))
    baseline, population, targets, max_add, private_add = {}, {}, [], {}, {}
    for r in regions:
        p0 = rng.uniform(2e5, 1.5e6)
        growth = rng.uniform(-0.002, 0.012)
        for j, y in enumerate(range(base_year, target_year + 1)):
            population[r, y] = p0 * (1 + growth) ** j
        for k in KINDS:
            div = DIV.get(k, 1000.0)
            stock = round(RATIO[k] * rng.uniform(0.7, 1.3) * p0 / div)
            share = 0.8 if k == "gps" else rng.uniform(0.15, 0.35)
            baseline[r, k, "primary"] = round(stock * share)
            baseline[r, k, "hospital"] = stock - baseline[r, k, "primary"]
            targets.append(TargetRow(r, k, "floor", TARGET[k], div, "expected", str(TARGET[k]), RATIO[k]))
            max_add[r, k] = int(0.25 * stock)
        baseline[r, "beds", PRIVATE] = round(0.2 * baseline[r, "beds", "hospital"])
        baseline[r, "beds", "hospital"] -= baseline[r, "beds", PRIVATE]
        private_add[r, "beds"] = int(0.13 * baseline[r, "beds", PRIVATE])
    return AllocationProblem(
        regions=regions,
        kinds=KINDS,
        base_year=base_year,
        target_year=target_year,
        baseline=baseline,
        population=population,
        targets=tuple(targets),
        capital={(k, t): ref.capital.get((k, t), 20_000.0) for k in KINDS for t in TIERS},
        annual={(k, t): ref.annual[k, t] for k in KINDS for t in TIERS},
        attrition={k: ref.attrition.get(k, 0.0) for k in KINDS},
        max_additions=max_add,
        nurse_physician_ratio_min=ref.nurse_physician_ratio_min,
        hospital_nurses_per_bed_min=ref.hospital_nurses_per_bed_min,
        gp_primary_share_min=ref.gp_primary_share_min,
        primary_share_shift_max=ref.primary_share_shift_max,
        trajectory="linear",
        discount_rate=ref.discount_rate,
        capital_share_max=ref.capital_share_max,
        private_max_additions=private_add,
        subsets={"physicians": ("gps",)},
    )


def guangzhou_problem() -> AllocationProblem:
    """Guangzhou under its defaults with hiring limits off (as the previous bench) and private growth unlimited,
    so that min-cost has a plan."""
    gz = load("guangzhou")
    return replace(from_scenario(gz, project(gz, 2035)), max_additions={}, private_max_additions={})


def highspy_baseline(problem: AllocationProblem) -> tuple[float, float]:
    """Solve the same LP with highspy from an MPS file; return (seconds, objective)."""
    import highspy

    with tempfile.TemporaryDirectory() as tmp:
        path = export_model(problem, Path(tmp) / "model.mps")
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        t0 = time.perf_counter()
        h.readModel(str(path))
        h.run()
        return time.perf_counter() - t0, h.getInfo().objective_function_value


PREVIOUS_SCRIPT = """
import json, sys
sys.path.insert(0, ".")
sys.argv = ["bench"]
import bench.bench_optimizer as b
from optimize.solve import solve
from scenarios.loader import load
from scenarios.run.plan import from_scenario
from scenarios.run.projection import project  # noqa: E402
gz = load("guangzhou")
gz_problem = from_scenario(gz.model_copy(update={"constraints": gz.constraints.model_copy(update={
    "enabled": gz.constraints.enabled.model_copy(update={"hiring_limits": False})})}), project(gz))
out = {}
for name, p in (("guangzhou", gz_problem), ("province", b.synthetic_province(%(districts)d, %(years)d))):
    best = None
    for _ in range(%(repeat)d):
        plan = solve(p)
        t = plan.build_seconds + plan.solve_seconds
        best = t if best is None else min(best, t)
    out[name] = {"build_plus_solve_s": best, "variables": plan.n_variables, "constraints": plan.n_constraints}
print(json.dumps(out))
"""


def previous_times(districts: int, years: int, repeat: int) -> dict:
    """Build + solve seconds of the previous formulation (commit :data:`PREVIOUS`) on the same cases."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", PREVIOUS], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        script = PREVIOUS_SCRIPT % {"districts": districts, "years": years, "repeat": repeat}
        res = subprocess.run([sys.executable, "-c", script], cwd=tmp, capture_output=True, text=True, check=True)
        return json.loads(res.stdout.strip().splitlines()[-1])


def run_case(name: str, problem: AllocationProblem, repeat: int, milp_seconds: float, previous: dict) -> dict:
    lp_times, milp_times, bases = [], [], []
    for _ in range(repeat):
        lp = solve(problem, integer=False)
        lp_times.append(lp.build_seconds + lp.solve_seconds)
        base_s, base_obj = highspy_baseline(problem)
        bases.append(base_s)
        assert abs(base_obj - lp.objective) <= 1e-6 * max(1.0, abs(lp.objective)), (base_obj, lp.objective)
        t0 = time.perf_counter()
        milp = solve(problem, integer=True, time_limit=milp_seconds)
        milp_times.append(time.perf_counter() - t0)
    t_lp, t_milp, t_base, t_prev = min(lp_times), min(milp_times), min(bases), previous["build_plus_solve_s"]
    return {
        "case": name,
        "variables": lp.n_variables,
        "constraints": lp.n_constraints,
        "previous_variables": previous["variables"],
        "previous_constraints": previous["constraints"],
        "previous_build_plus_solve_s": round(t_prev, 3),
        "new_lp_build_plus_solve_s": round(t_lp, 3),
        "new_milp_total_s": round(t_milp, 3),
        "milp_rounding": milp.rounding,
        "milp_gap": milp.mip_gap,
        "ratio_new_lp_to_previous": round(t_lp / t_prev, 2),
        "ratio_new_milp_to_previous": round(t_milp / t_prev, 2),
        "solver_alone_highspy_mps_s": round(t_base, 3),
        "ratio_new_lp_to_solver_alone": round(t_lp / t_base, 1),
        "lp_total_cost_cny": round(lp.total_cost),
        "milp_total_cost_cny": round(milp.total_cost),
    }


# -- persistent re-solves (issue 14) ------------------------------------------------------------


def _rebuilt_draw(p: AllocationProblem, pop: dict, cf: float, rf: float) -> float:
    """One draw as :func:`optimize.uncertainty.solve_draws` does it, building every model afresh; its cost (CNY)."""
    from optimize.model import ModelOptions, build_model
    from optimize.solve import run_model, solved

    q = replace(
        p,
        population={**p.population, **pop},
        capital={k: v * cf for k, v in p.capital.items()},
        annual={k: v * rf for k, v in p.annual.items()},
        private_subsidy={k: v * cf for k, v in p.private_subsidy.items()},
    )
    zeros = tuple(0.0 for _ in q.targets)
    hard = lambda caps: build_model(q, ModelOptions(mode="min-cost", elastic_targets=True, shortfall_caps=caps))  # noqa: E731
    m = hard(zeros)
    res = run_model(m)
    if not solved(res):
        best = build_model(q, ModelOptions(mode="max-attainment"))
        res = run_model(best)
        res.solution_loader.load_vars()
        m = hard(tuple(float(best.shortfall[i].value or 0.0) for i in range(len(q.targets))))
        res = run_model(m)
    return float(res.incumbent_objective)


def bench_draws(n: int, sample: int, workers: int) -> dict:
    """Guangzhou draws per second: persistent models (1 and ``workers`` processes) against rebuilding per draw."""
    from optimize.uncertainty import solve_draws
    from scenarios.run.plan import problem_for
    from scenarios.run.uncertainty import draw_futures

    s = load("guangzhou")
    p = problem_for(s)
    draws, _ = draw_futures(s, n)
    t0 = time.perf_counter()
    one = solve_draws(p, draws, workers=1)
    t1 = time.perf_counter()
    many = solve_draws(p, draws, workers=workers)
    t2 = time.perf_counter()
    for d in range(sample):
        pv = _rebuilt_draw(p, draws.at(d), float(draws.capital_factor[d]), float(draws.running_factor[d]))
        assert abs(pv * 1e6 - one.pv[d]) <= 1e-6 * abs(one.pv[d]), (d, pv * 1e6, one.pv[d])
    t3 = time.perf_counter()
    assert np.array_equal(one.cost, many.cost, equal_nan=True)
    persistent, parallel, rebuilt = n / (t1 - t0), n / (t2 - t1), sample / (t3 - t2)
    return {
        "case": f"guangzhou Monte Carlo ({n} draws, {one.solves} LP solves)",
        "persistent_draws_per_s": round(persistent, 1),
        f"persistent_{workers}_workers_draws_per_s": round(parallel, 1),
        f"{workers}_workers_s": round(t2 - t1, 1),
        "rebuilt_draws_per_s": round(rebuilt, 1),
        "ratio_persistent_to_rebuilt": round(persistent / rebuilt, 1),
        "same_with_1_and_2_workers": True,
    }


def bench_sweep(problem: AllocationProblem, points: int, sample: int) -> dict:
    """Budget-sweep points per second: one persistent model against a model built for every point."""
    from optimize.model import ModelOptions, build_model
    from optimize.solve import floor_cost, run_model, solved
    from optimize.sweep import budget_sweep

    low = floor_cost(problem)
    top = solve(problem, integer=False).total_cost * 1.1
    budgets = np.linspace(low, top, points)
    t0 = time.perf_counter()
    table = budget_sweep(problem, budgets)
    t1 = time.perf_counter()
    caps = None
    for b in budgets[:sample]:  # the sweep as it was: a model built for every budget
        m = build_model(problem.with_budget(b), ModelOptions(mode="max-attainment", shortfall_caps=caps))
        res = run_model(m, time_limit=120.0)
        if solved(res):
            res.solution_loader.load_vars()
            caps = tuple(float(m.shortfall[i].value or 0.0) for i in range(len(problem.targets)))
    t2 = time.perf_counter()
    persistent, rebuilt = points / (t1 - t0), sample / (t2 - t1)
    return {
        "case": f"province budget sweep ({points} points, {len(problem.regions)} districts)",
        "persistent_s": round(t1 - t0, 1),
        "persistent_points_per_s": round(persistent, 2),
        "rebuilt_points_per_s": round(rebuilt, 2),
        "ratio_persistent_to_rebuilt": round(persistent / rebuilt, 1),
        "feasible_points": int(table.groupby("budget_cny")["feasible"].first().sum()),
    }


def persistent_section(args: argparse.Namespace) -> list[dict]:
    return [
        bench_draws(args.draws, args.rebuild_sample, 2),
        bench_sweep(synthetic_province(args.districts, args.years), args.sweep_points, args.rebuild_sample),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--districts", type=int, default=100)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--milp-seconds", type=float, default=60.0, help="time limit of each MILP solve")
    ap.add_argument("--only-persistent", action="store_true", help="Only the persistent re-solve section.")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--sweep-points", type=int, default=50)
    ap.add_argument("--rebuild-sample", type=int, default=10, help="Solves timed with a model rebuilt each time.")
    args = ap.parse_args()
    if args.only_persistent:
        for row in persistent_section(args):
            print(json.dumps(row, ensure_ascii=False))
        return
    previous = previous_times(args.districts, args.years, args.repeat)
    rows = [
        run_case(
            "guangzhou (1 city, hiring and private-growth limits off)",
            guangzhou_problem(),
            args.repeat,
            args.milp_seconds,
            previous["guangzhou"],
        ),
        run_case(
            f"synthetic province ({args.districts} districts x 5 kinds x 2 tiers + private beds x {args.years} years)",
            synthetic_province(args.districts, args.years),
            args.repeat,
            args.milp_seconds,
            previous["province"],
        ),
    ]
    for row in rows + persistent_section(args):
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
