"""Referral simulation of medical alliances (医联体/医共体), one concept a file:

network.py (the alliances and flow rates), station.py (an exact FCFS pool of servers), records.py (what a
run records), simulation.py (one replication of one year, SimPy), experiment.py (replications, KPIs, 95% CIs).
The public names below are importable from ``sim.referral``; each module loads on first use, so reading
:data:`DEFAULT_SEED` (the CLI at start-up) loads neither NumPy nor SimPy.
"""

from importlib import import_module

DEFAULT_SEED = 12345  # the one default seed of every experiment (CLI, pipeline, batch, app)

_PUBLIC = {
    "network": ("AllianceNode", "FlowRates", "NetworkError", "ReferralNetwork"),
    "station": ("Station",),
    "records": ("Counters", "WaitSample", "YearRun"),
    "simulation": ("ReferralSimulation",),
    "experiment": ("KPI_UNITS", "SimulationResult", "full_consult_fits", "kpis", "simulate"),
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}
__all__ = ["DEFAULT_SEED", *_MODULE_OF]


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'sim.referral' has no attribute {name!r}")
    return getattr(import_module(f"sim.referral.{_MODULE_OF[name]}"), name)
