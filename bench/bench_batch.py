"""Batch benchmark: scenarios per minute with 1 worker (this process) and 2 local worker processes.

Jobs: Renhe x a grid of budget (4) x population variant (3) = 12 jobs, each projection +
optimisation + one replication of the referral simulation over 2021-2025. Wall time
includes starting the processes. The speed-up is the 2-worker rate over the 1-worker rate.

    python bench/bench_batch.py [--budgets 4]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenarios.run.batch import expand_jobs, run_batch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", type=int, default=4)
    args = ap.parse_args()
    axes = {"budget": [5e6 * (i + 1) for i in range(args.budgets)], "variant": ["low", "medium", "high"]}
    jobs = expand_jobs(["renhe"], axes)
    rates = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            table = run_batch(jobs, out, workers=workers, simulate=True, seed=1)
            seconds = time.perf_counter() - t
        assert (table["status"] == "ok").all()
        rates[workers] = len(jobs) / seconds * 60
        print(
            json.dumps(
                {
                    "workers": workers,
                    "jobs": len(jobs),
                    "seconds": round(seconds, 1),
                    "scenarios_per_minute": round(rates[workers], 1),
                }
            )
        )
    print(json.dumps({"speedup_2_over_1": round(rates[2] / rates[1], 2)}))


if __name__ == "__main__":
    main()
