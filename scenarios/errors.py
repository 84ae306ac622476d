"""The input-error classes the command line and the workbench report in one line (no traceback).

Light on purpose: an error class whose module was never imported cannot have been raised, so the
tuples are built from the modules already loaded (:data:`sys.modules`) and printing an error never
imports Dask, Pyomo or SimPy first.
"""

from __future__ import annotations

import sys

# (module, class): input errors reported as "error: ..." (exit status 2)
INPUT_ERRORS = (
    ("scenarios.loader", "ScenarioError"),
    ("scenarios.amounts", "AmountError"),
    ("scenarios.files", "OutputError"),
    ("scenarios.run.batch", "BatchError"),
    ("sim.population", "ProjectionError"),
    ("optimize.problem", "ProblemError"),
    ("optimize.solve", "OptimizeError"),
    ("sim.referral.network", "NetworkError"),
    ("sim.executor", "SchedulerUnreachable"),
)
INFEASIBLE = (("optimize.solve", "InfeasiblePlan"),)  # no plan meets the targets: an answer (exit status 1)


def _loaded(names: tuple[tuple[str, str], ...]) -> tuple[type, ...]:
    return tuple(getattr(sys.modules[m], c) for m, c in names if m in sys.modules)


def input_errors(*extra: type) -> tuple[type, ...]:
    """The input-error classes of the modules loaded so far (plus ``extra``), for ``except`` and ``isinstance``."""
    return (*_loaded(INPUT_ERRORS), *extra)


def infeasible_errors() -> tuple[type, ...]:
    """The 'no plan meets the targets' classes loaded so far."""
    return _loaded(INFEASIBLE)
