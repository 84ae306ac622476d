"""A model built once and solved many times: only its data change between solves.

:class:`PersistentModel` builds the Pyomo model of a problem with the named data groups as
mutable parameters (``population``, ``costs``, ``budget``, ``caps``; see
:func:`optimize.model.define_parameters`) and keeps it in Pyomo's persistent HiGHS interface,
which holds one highspy instance: a re-solve passes only the changed coefficients, right-hand
sides and bounds to HiGHS and starts from the previous basis (warm start). Monte Carlo draws
and budget sweeps use it instead of rebuilding the model for each solve.
"""

from __future__ import annotations

from dataclasses import replace

import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from optimize.model import COST_SCALE, ModelOptions, build_model
from optimize.problem import AllocationProblem
from optimize.result import AllocationPlan, extract_plan
from optimize.solve import OptimizeError, solved


def _persistent_solver() -> Highs:
    solver = Highs()
    if not solver.available():
        raise OptimizeError("the HiGHS solver (highspy) is not available; install it with 'pip install highspy'")
    cfg = solver.config
    cfg.load_solutions = False
    cfg.raise_exception_on_nonoptimal_result = False
    for key in list(cfg.auto_updates.keys()):  # the structure never changes: pass only parameter values
        setattr(cfg.auto_updates, key, key in ("update_parameters", "update_vars"))
    return solver


class PersistentModel:
    """The model of ``problem`` with ``options.mutable`` data as parameters, kept in one HiGHS instance.

    Change data with the ``set_*`` methods, then :meth:`solve`. ``problem`` follows the changes
    (population, budget), so :meth:`plan` reads the solution against the data it was solved with.
    """

    def __init__(self, problem: AllocationProblem, options: ModelOptions):
        self.problem = problem
        self.options = options
        self.model = build_model(problem, options)
        self._solver = _persistent_solver()
        self._solver.set_instance(self.model)
        self._solver._solver_model.setOptionValue("output_flag", False)  # no log, no coefficient warnings
        self.results = None
        self.n_solves = 0
        m = self.model
        self._cost_total = sum(m.cost[y] for y in problem.years) * COST_SCALE
        Y = problem.target_year
        self._target_stock = [sum(m.stock[tr.region, tr.kind, t, Y] for t in problem.pools(tr.region, tr.kind))
                              for tr in problem.targets]

    def _require(self, group: str) -> None:
        if group not in self.options.mutable:
            raise OptimizeError(f"the persistent model was built without mutable {group!r} data")

    def set_population(self, population: dict[tuple[str, int], float]) -> None:
        """Residents by (region, year) that every per-capita target and milestone is measured against."""
        self._require("population")
        m, p = self.model, self.problem
        for (i, y) in m.target_population:
            m.target_population[i, y] = population[p.targets[i].region, y]
        self.problem = replace(p, population={**p.population, **population}, target_population={})

    def set_target_population(self, values: dict[tuple[str, str, int], float]) -> None:
        """Residents a (region, kind)'s target is measured against in a year (a robust plan's quantiles)."""
        self._require("population")
        m, p = self.model, self.problem
        for (i, y) in m.target_population:
            tr = p.targets[i]
            m.target_population[i, y] = values.get((tr.region, tr.kind, y), p.population[tr.region, y])
        self.problem = replace(p, target_population=dict(values))

    def set_cost_factors(self, capital: float = 1.0, running: float = 1.0) -> None:
        """Multiply every capital and every running cost by a factor (1: as the problem gives them)."""
        self._require("costs")
        self.model.capital_factor = float(capital)
        self.model.running_factor = float(running)

    def set_budget(self, total: float | None = None, per_year: float | None = None) -> None:
        """Change the budgets (CNY) the model was built with; a budget it was built without cannot be added."""
        self._require("budget")
        m = self.model
        if total is not None:
            if not hasattr(m, "budget"):
                raise OptimizeError("the persistent model was built without a plan-period budget")
            m.budget_total_cny = float(total)
        if per_year is not None:
            if not hasattr(m, "budget_year"):
                raise OptimizeError("the persistent model was built without a yearly budget")
            m.budget_per_year_cny = float(per_year)
        self.problem = self.problem.with_budget(total if total is not None else self.problem.budget_total, per_year)

    def set_shortfall_caps(self, caps: tuple[float, ...]) -> None:
        """No target's shortfall (per-capita units) above its cap (budget sweeps keep curves monotone)."""
        self._require("caps")
        m = self.model
        for i, c in enumerate(caps):
            m.shortfall_cap[i] = float(c) + 1e-9

    def solve(self, time_limit: float | None = None):
        """Re-solve from the previous basis; return the results object (``solved(res)`` says whether it has a plan)."""
        self._solver.config.time_limit = time_limit
        self.results = self._solver.solve(self.model)
        self.n_solves += 1
        return self.results

    @property
    def ok(self) -> bool:
        return self.results is not None and solved(self.results)

    @property
    def objective(self) -> float:
        return float(self.results.incumbent_objective)

    def load(self) -> None:
        """Load the last solution into the model's variables."""
        self.results.solution_loader.load_vars()

    def total_cost(self) -> float:
        """Public CNY over the plan period (nominal, with the current cost factors) of the loaded solution."""
        return float(pyo.value(self._cost_total))

    def target_stocks(self) -> list[float]:
        """Each target's kind in the target year, every pool (loaded solution)."""
        return [float(pyo.value(e)) for e in self._target_stock]

    def shortfalls(self) -> list[float]:
        """Each target's shortfall (per-capita units or share) in the loaded solution; zeros when not elastic."""
        m = self.model
        return [float(m.shortfall[i].value or 0.0) for i in range(len(self.problem.targets))] if hasattr(m, "shortfall") \
            else [0.0] * len(self.problem.targets)

    def plan(self) -> AllocationPlan:
        """The last solution (loaded) as an :class:`AllocationPlan` (fractional units, no shadow prices)."""
        self.load()
        plan = extract_plan(self.problem, self.model, self.options, {}, whole=False)
        plan.status, plan.objective, plan.rounding = self.results.termination_condition.name, self.objective, "lp"
        return plan
