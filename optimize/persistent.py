"""A model built once and solved many times: only its data change between solves.

:class:`PersistentModel` builds the Pyomo model of a problem with the named data groups as
mutable parameters (``population``, ``budget``, ``caps``, ``floors``; see
:func:`optimize.model.define_parameters`) and keeps it in Pyomo's persistent HiGHS interface,
which holds one highspy instance: a re-solve passes only the changed coefficients, right-hand
sides and bounds to HiGHS and starts from the previous basis (warm start). Cost factors change
the objective's column costs in HiGHS directly, in one call (a Pyomo parameter on every cost
coefficient would make each re-solve re-evaluate hundreds of expressions). Monte Carlo draws
and budget sweeps use it instead of rebuilding the model for each solve.
"""

from __future__ import annotations

from dataclasses import replace

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs
from pyomo.repn import generate_standard_repn

from optimize.model import COST_SCALE, ModelOptions, build_model, floor_rows
from optimize.problem import PRIVATE, AllocationProblem
from optimize.result import attainment_table
from optimize.solve import OptimizeError

_SOLVED = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kTimeLimit,
    highspy.HighsModelStatus.kIterationLimit,
)


def _persistent_solver() -> Highs:
    solver = Highs()
    if not solver.available():
        raise OptimizeError("the HiGHS solver (highspy) is not available; install it with 'pip install highspy'")
    cfg = solver.config
    cfg.load_solutions = False
    cfg.raise_exception_on_nonoptimal_result = False
    for key in list(cfg.auto_updates.keys()):  # the structure never changes: pass only parameter values
        setattr(cfg.auto_updates, key, key == "update_parameters")
    return solver


def _linear(expr, cols: dict) -> tuple[np.ndarray, np.ndarray, float]:
    """A linear expression as (HiGHS column indices, coefficients, constant), to evaluate on a solution vector."""
    repn = generate_standard_repn(expr, compute_values=True)
    idx = np.array([cols[id(v)] for v in repn.linear_vars], dtype=np.int64)
    return idx, np.array(repn.linear_coefs, dtype=float), float(repn.constant)


class PersistentModel:
    """The model of ``problem`` with ``options.mutable`` data as parameters, kept in one HiGHS instance.

    Change data with the ``set_*`` methods, then :meth:`solve`. ``problem`` follows the changes
    (population, budget), so :meth:`attainment` reads the solution against the data it was solved with.
    """

    def __init__(self, problem: AllocationProblem, options: ModelOptions):
        self.problem = problem
        self.options = options
        self.model = build_model(problem, options)
        self._solver = _persistent_solver()
        self._solver.set_instance(self.model)
        self._solver._solver_model.setOptionValue("output_flag", False)  # no log, no coefficient warnings
        self.status = "not solved"
        self._ok, self._objective, self._values = False, float("nan"), None
        self.n_solves = 0
        m = self.model
        self._factors = (1.0, 1.0)
        highs, cols = self._solver._solver_model, self._solver._pyomo_var_to_solver_var_map
        self._capital_total = _linear(sum(m.capital_cost[y] for y in problem.years) * COST_SCALE, cols)
        self._running_total = _linear(sum(m.running_cost[y] for y in problem.years) * COST_SCALE, cols)
        lp = highs.getLp()
        self._col_cost, self._offset = np.asarray(lp.col_cost_, dtype=float), float(lp.offset_)
        self._capital_cols = np.array([cols[id(v)] for v in m.add.values() if id(v) in cols], dtype=np.int32)
        self._running_cols = np.array([cols[id(v)] for v in m.stock.values() if id(v) in cols], dtype=np.int32)
        self._vars = [(v, cols[id(v)]) for v in m.component_data_objects(pyo.Var) if id(v) in cols]
        Y = problem.target_year
        self._target_stock = [
            _linear(sum(m.stock[tr.region, tr.kind, t, Y] for t in problem.counted_pools(tr)), cols)
            for tr in problem.targets
        ]

    def _require(self, group: str) -> None:
        if group not in self.options.mutable:
            raise OptimizeError(f"the persistent model was built without mutable {group!r} data")

    def set_population(self, population: dict[tuple[str, int], float]) -> None:
        """Residents by (region, year) that every per-capita target and milestone is measured against."""
        self._require("population")
        m, p = self.model, self.problem
        for i, y in m.target_population:
            m.target_population[i, y] = population[p.targets[i].region, y]
        self.problem = replace(p, population={**p.population, **population}, target_population={})

    def set_floor_scale(self, scale: dict[tuple[str, int], float]) -> None:
        """Each floor row's units times ``scale[(region, year)]`` (1 where absent): need that moves with the
        drawn population and demand rates."""
        self._require("floors")
        m = self.model
        if not hasattr(m, "floor_units"):
            return
        for i, f in enumerate(floor_rows(self.problem)):
            m.floor_units[i] = f.units * float(scale.get((f.region, f.year), 1.0))

    def set_cost_factors(self, capital: float = 1.0, running: float = 1.0) -> None:
        """Multiply every capital and every running cost in the objective (and in :meth:`total_cost`) by a factor.

        Capital cost sits on the ``add`` columns and running cost on the ``stock`` columns, so scaling their
        objective costs is exact. Budget rows keep the problem's own rates.
        """
        cost = self._col_cost.copy()
        cost[self._capital_cols] *= capital
        cost[self._running_cols] *= running
        self._solver._solver_model.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        self._factors = (float(capital), float(running))

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

    def solve(self, time_limit: float | None = None) -> bool:
        """Pass the changed parameters to HiGHS and re-solve from the previous basis; return whether there is a plan.

        HiGHS is run directly (not through ``Highs.solve``, whose results object and output capture cost more
        than a small re-solve).
        """
        s = self._solver
        s._active_config = s.config
        s.update()
        h = s._solver_model
        h.setOptionValue("time_limit", float(time_limit) if time_limit else float("inf"))
        # the first, cold solve by interior point (with crossover, so it leaves a basis): on a large model it is
        # several times faster than simplex from scratch; every later solve starts from the basis by simplex
        h.setOptionValue("solver", "ipm" if self.n_solves == 0 else "simplex")
        h.run()
        self.n_solves += 1
        status, info = h.getModelStatus(), h.getInfo()
        self.status = h.modelStatusToString(status)
        self._ok = status in _SOLVED and info.primal_solution_status == 2
        # Pyomo keeps the objective's constant (the running cost of the base-year stock, subtracted) at its
        # built value; scale it with the running-cost factor here
        self._objective = (
            float(info.objective_function_value) + self._offset * (self._factors[1] - 1.0) if self._ok else float("nan")
        )
        self._values = np.asarray(h.getSolution().col_value) if self._ok else None
        return self._ok

    @property
    def ok(self) -> bool:
        return self._ok

    @property
    def objective(self) -> float:
        """Objective of the last solve (the model's own units: CNY million, or weighted shortfall)."""
        return self._objective

    def load(self) -> None:
        """Load the last solution into the model's variables."""
        if self._values is None:
            raise OptimizeError(f"no solution to load (last solve: {self.status})")
        vals = self._values
        for v, j in self._vars:
            v.set_value(float(vals[j]), skip_validation=True)

    def total_cost(self) -> float:
        """Public CNY over the plan period (nominal, with the current cost factors) of the loaded solution."""
        cf, rf = self._factors
        return cf * self._value(self._capital_total) + rf * self._value(self._running_total)

    def target_stocks(self) -> list[float]:
        """Each target's kind in the target year, every pool (loaded solution)."""
        return [self._value(e) for e in self._target_stock]

    def _value(self, linear: tuple[np.ndarray, np.ndarray, float]) -> float:
        idx, coef, const = linear
        return float(coef @ self._values[idx] + const)

    def attainment(self) -> pd.DataFrame:
        """The ``attainment`` table of the loaded solution, read off the model (no plan tables: fast on large
        models)."""
        p, m, Y = self.problem, self.model, self.problem.target_year
        achieved = []
        for tr, total in zip(p.targets, self.target_stocks()):
            if tr.measure == "private_share":
                hosp = sum(m.stock[tr.region, tr.kind, t, Y].value or 0.0 for t in p.hospital_pools(tr.region, tr.kind))
                achieved.append((m.stock[tr.region, tr.kind, PRIVATE, Y].value or 0.0) / hosp if hosp > 0 else 0.0)
            else:
                achieved.append(total / p.population[tr.region, Y] * tr.divisor)
        return attainment_table(p, achieved)

    def shortfalls(self) -> list[float]:
        """Each target's shortfall (per-capita units or share) in the loaded solution; zeros when not elastic."""
        m = self.model
        return (
            [float(m.shortfall[i].value or 0.0) for i in range(len(self.problem.targets))]
            if hasattr(m, "shortfall")
            else [0.0] * len(self.problem.targets)
        )
