"""Optimizer benchmark: build + solve time of the allocation LP.

Cases: the Guangzhou scenario (one city) and a synthetic province of 100 districts x 5
resource kinds x 2 tiers x 10 years. Baseline, measured in the same run: HiGHS (highspy)
reading the same model from an MPS file and solving it, i.e. the solver alone with no
modelling layer. Reported: Pyomo build, Pyomo->HiGHS solve, and their ratio to the baseline.

    python bench/bench_optimizer.py [--districts 100] [--years 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimize.problem import TIERS, AllocationProblem, TargetRow  # noqa: E402
from optimize.solve import export_model, solve  # noqa: E402
from scenarios.loader import load  # noqa: E402
from scenarios.run.plan import from_scenario  # noqa: E402
from scenarios.run.projection import project  # noqa: E402

KINDS = ("beds", "physicians", "nurses", "gps", "public_health_staff")
RATIO = {"beds": 4.0, "physicians": 2.4, "nurses": 2.9, "gps": 3.0, "public_health_staff": 0.7}  # per 1,000 (GPs per 10,000)
TARGET = {"beds": 6.0, "physicians": 3.0, "nurses": 4.0, "gps": 4.0, "public_health_staff": 0.9}
DIV = {"gps": 10_000.0}


def synthetic_province(n_districts: int, n_years: int, seed: int = 1) -> AllocationProblem:
    """A reproducible synthetic province; costs and constraints from the built-in defaults."""
    rng = np.random.default_rng(seed)
    ref = from_scenario(load("conghua"), project(load("conghua")))
    base_year, target_year = 2020, 2020 + n_years
    regions = tuple(f"d{i:03d}" for i in range(n_districts))
    baseline, population, targets, max_add = {}, {}, [], {}
    for r in regions:
        p0 = rng.uniform(2e5, 1.5e6)
        growth = rng.uniform(-0.002, 0.012)
        for j, y in enumerate(range(base_year, target_year + 1)):
            population[r, y] = p0 * (1 + growth) ** j
        for k in KINDS:
            div = DIV.get(k, 1000.0)
            stock = RATIO[k] * rng.uniform(0.7, 1.3) * p0 / div
            share = 0.8 if k == "gps" else rng.uniform(0.15, 0.35)
            baseline[r, k, "primary"], baseline[r, k, "hospital"] = stock * share, stock * (1 - share)
            targets.append(TargetRow(r, k, "floor", TARGET[k], div, "expected", str(TARGET[k]), RATIO[k]))
            max_add[r, k] = 0.25 * stock
    return AllocationProblem(
        regions=regions, kinds=KINDS, base_year=base_year, target_year=target_year, baseline=baseline,
        population=population, targets=tuple(targets),
        capital={(k, t): ref.capital[k, t] for k in KINDS for t in TIERS},
        annual={(k, t): ref.annual[k, t] for k in KINDS for t in TIERS},
        attrition={k: ref.attrition.get(k, 0.0) for k in KINDS}, max_additions=max_add,
        nurse_physician_ratio_min=ref.nurse_physician_ratio_min,
        hospital_nurses_per_bed_min=ref.hospital_nurses_per_bed_min,
        gp_primary_share_min=ref.gp_primary_share_min, primary_share_shift_max=ref.primary_share_shift_max,
    )


def highspy_baseline(problem: AllocationProblem) -> tuple[float, float]:
    """Solve the same model with highspy from an MPS file; return (seconds, objective)."""
    import highspy

    with tempfile.TemporaryDirectory() as tmp:
        path = export_model(problem, Path(tmp) / "model.mps")
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        t0 = time.perf_counter()
        h.readModel(str(path))
        h.run()
        seconds = time.perf_counter() - t0
        return seconds, h.getInfo().objective_function_value


def run_case(name: str, problem: AllocationProblem, repeat: int) -> dict:
    builds, solves, bases = [], [], []
    for _ in range(repeat):
        plan = solve(problem)
        builds.append(plan.build_seconds)
        solves.append(plan.solve_seconds)
        base_s, base_obj = highspy_baseline(problem)
        bases.append(base_s)
        assert abs(base_obj - plan.objective) <= 1e-6 * max(1.0, abs(plan.objective)), (base_obj, plan.objective)
    b, s, h = min(builds), min(solves), min(bases)
    return {
        "case": name, "variables": plan.n_variables, "constraints": plan.n_constraints,
        "build_s": round(b, 3), "solve_s": round(s, 3), "build_plus_solve_s": round(b + s, 3),
        "baseline_highspy_mps_s": round(h, 3), "ratio_to_baseline": round((b + s) / h, 1),
        "total_cost_cny": round(plan.total_cost),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--districts", type=int, default=100)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    gz = load("guangzhou").model_copy()
    gz_problem = from_scenario(gz.model_copy(update={"constraints": gz.constraints.model_copy(update={
        "enabled": gz.constraints.enabled.model_copy(update={"hiring_limits": False})})}), project(gz))
    rows = [
        run_case("guangzhou (1 city, hiring limits off)", gz_problem, args.repeat),
        run_case(f"synthetic province ({args.districts} districts x 5 kinds x 2 tiers x {args.years} years)",
                 synthetic_province(args.districts, args.years), args.repeat),
    ]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
