"""Uncertainty on plain arrays: how a plan fares over many drawn futures, and plans that hold in most of them.

A :class:`Draws` holds N futures: each region's population by year (persons, end of year) and
two cost factors (capital, running; 1 = the problem's own costs). On it:

* :func:`plan_outcomes`: for a fixed plan, whether each target is met in the target year in each
  draw, and the plan's cost in each draw.
* :func:`floor_outcomes`: the same for floor rows (need), scaled to each draw's residents and demand.
* :func:`robust_target_population`: the chance-constraint equivalent. Only right-hand sides are
  random (population), so "target i is met in at least a share a of the draws" is exactly
  ``stock >= ratio x q_a / divisor`` with q_a the a-quantile of the drawn populations (floors;
  the (1 - a)-quantile for ceilings), in the target year and in every milestone year;
  :func:`robust_floors` does the same for floor rows (need).
* :func:`solve_draws`: the least cost of meeting every target (LP) in each draw, or where no plan
  can, of the best reachable plan; one persistent model per chunk of draws, chunks on
  :mod:`sim.executor` (local processes or a Dask scheduler). Chunks are fixed by their size, not by
  the number of workers, so the numbers are the same with 1 or 2 workers, or on Dask.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from optimize.model import COST_SCALE, ModelOptions
from optimize.persistent import PersistentModel
from optimize.problem import AllocationProblem, FloorRow, is_met
from optimize.result import AllocationPlan
from sim.executor import map_ordered

REACHED = 1e-7  # a shortfall (per-capita units or share) at or below this counts as met
DRAW_CHUNK = 100  # draws solved by one persistent model (fixed, so results do not depend on the workers)


@dataclass(frozen=True)
class Draws:
    """N drawn futures. ``population[region]`` has shape (N, len(years)), persons at the end of each year;
    ``capital_factor`` and ``running_factor`` (N,) multiply every capital and every running cost;
    ``demand_factor`` (N,) every per-capita use rate (None: 1), so need scales with population x demand."""

    years: tuple[int, ...]
    population: dict[str, np.ndarray]
    capital_factor: np.ndarray
    running_factor: np.ndarray
    demand_factor: np.ndarray | None = None  # (N,) per-capita use (admissions, visits) relative to the problem's

    @property
    def n(self) -> int:
        return len(self.capital_factor)

    def column(self, region: str, year: int) -> np.ndarray:
        """Every draw's population of ``region`` in ``year``."""
        return self.population[region][:, self.years.index(year)]

    def at(self, d: int) -> dict[tuple[str, int], float]:
        """Draw ``d``'s population as {(region, year): persons}."""
        return {(r, y): float(a[d, j]) for r, a in self.population.items() for j, y in enumerate(self.years)}

    def part(self, lo: int, hi: int) -> Draws:
        return Draws(
            self.years,
            {r: a[lo:hi] for r, a in self.population.items()},
            self.capital_factor[lo:hi],
            self.running_factor[lo:hi],
            None if self.demand_factor is None else self.demand_factor[lo:hi],
        )

    def need_scale(self, p: AllocationProblem, region: str, year: int) -> np.ndarray:
        """(N,) each draw's need in ``region`` and ``year`` relative to the problem's: drawn / the problem's
        residents, times the demand factor (need is taken as proportional to residents x per-capita use)."""
        scale = self.column(region, year) / p.population[region, year]
        return scale if self.demand_factor is None else scale * self.demand_factor


@dataclass(frozen=True)
class PlanOutcomes:
    """A fixed plan over the draws: ``met`` (N, targets) in the target year; ``cost`` and ``pv`` (N,) in CNY."""

    met: np.ndarray
    cost: np.ndarray
    pv: np.ndarray

    @property
    def probability(self) -> np.ndarray:
        """Share of draws in which each target is met."""
        return self.met.mean(axis=0) if self.met.size else np.ones(self.met.shape[1])

    @property
    def joint(self) -> float:
        """Share of draws in which every target is met."""
        return float(self.met.all(axis=1).mean()) if len(self.met) else 1.0


def target_stocks(p: AllocationProblem, plan: AllocationPlan) -> np.ndarray:
    """Each target's kind in the target year, over every pool, from the plan's stocks table."""
    st = plan.stocks[plan.stocks["year"] == p.target_year].groupby(["region", "kind"])["stock"].sum()
    return np.array([float(st.get((tr.region, tr.kind), 0.0)) for tr in p.targets])


def plan_outcomes(p: AllocationProblem, plan: AllocationPlan, draws: Draws) -> PlanOutcomes:
    """Whether each target of ``plan`` is met in each draw (the plan fixed, the population drawn), and its cost.

    Private-share targets do not depend on the population: met in every draw or none, as in the plan.
    """
    stocks = target_stocks(p, plan)
    met = np.zeros((draws.n, len(p.targets)), dtype=bool)
    fixed = dict(
        zip(zip(plan.attainment["region"], plan.attainment["kind"], plan.attainment["measure"]), plan.attainment["met"])
    )
    for i, tr in enumerate(p.targets):
        if tr.measure != "ratio":
            met[:, i] = bool(fixed.get((tr.region, tr.kind, tr.measure), False))
            continue
        achieved = stocks[i] / draws.column(tr.region, p.target_year) * tr.divisor
        met[:, i] = is_met(tr.sense, achieved, tr.ratio)
    c = plan.costs
    disc = c["year"].map(p.discount)
    cap, run = float(c["capital_cny"].sum()), float(c["running_cny"].sum())
    cap_pv, run_pv = float((c["capital_cny"] * disc).sum()), float((c["running_cny"] * disc).sum())
    cost = draws.capital_factor * cap + draws.running_factor * run
    pv = draws.capital_factor * cap_pv + draws.running_factor * run_pv
    return PlanOutcomes(met, cost, pv)


def floor_stock(plan: AllocationPlan, f: FloorRow) -> float:
    """The plan's stock that floor row ``f`` bounds: its tier, every pool (tier None) or the hospital pools."""
    st = plan.stocks[
        (plan.stocks["region"] == f.region) & (plan.stocks["kind"] == f.kind) & (plan.stocks["year"] == f.year)
    ]
    if f.tier == "hospital":
        st = st[st["tier"] != "primary"]
    elif f.tier is not None:
        st = st[st["tier"] == f.tier]
    return float(st["stock"].sum())


def floor_outcomes(
    p: AllocationProblem, plan: AllocationPlan, floors: tuple[FloorRow, ...], draws: Draws
) -> np.ndarray:
    """(N, floors): whether the plan's stock meets each floor (need) once scaled to the draw
    (:meth:`Draws.need_scale`)."""
    met = np.zeros((draws.n, len(floors)), dtype=bool)
    for j, f in enumerate(floors):
        have = floor_stock(plan, f)
        met[:, j] = is_met("floor", have, f.units * draws.need_scale(p, f.region, f.year))
    return met


def robust_floors(p: AllocationProblem, draws: Draws, share: float) -> tuple[FloorRow, ...]:
    """The problem's floor rows, each scaled to the ``share``-quantile of its need over the draws (a single floor
    proportional to need holds in ``share`` of the draws exactly when it holds at that quantile)."""
    out = []
    for f in p.floors:
        if f.year not in draws.years:
            out.append(f)
            continue
        q = float(np.quantile(draws.need_scale(p, f.region, f.year), share, method="inverted_cdf"))
        out.append(replace(f, units=f.units * q))
    return tuple(out)


def probability_frame(columns: dict, met: np.ndarray) -> pd.DataFrame:
    """``columns`` (one value a row) with each row's probability over the (N, rows) ``met`` matrix and its binomial
    standard error, sqrt(p(1-p)/N)."""
    n = max(len(met), 1)
    prob = met.mean(axis=0) if len(met) else np.ones(met.shape[1])
    return pd.DataFrame({**columns, "probability": prob, "std_error": np.sqrt(prob * (1 - prob) / n)})


def probability_table(p: AllocationProblem, outcomes: PlanOutcomes) -> pd.DataFrame:
    """One row per target: the probability it is met and its binomial standard error."""
    return probability_frame(
        {
            "region": [tr.region for tr in p.targets],
            "kind": [tr.kind for tr in p.targets],
            "name": [tr.name for tr in p.targets],
            "expr": [tr.expr for tr in p.targets],
            "unit": [tr.unit_label for tr in p.targets],
            "nature": [tr.nature for tr in p.targets],
            "ratio": [tr.ratio for tr in p.targets],
            "divisor": [tr.divisor for tr in p.targets],
        },
        outcomes.met,
    )


def robust_target_population(p: AllocationProblem, draws: Draws, share: float) -> dict[tuple[str, str, int], float]:
    """Residents each per-capita target must be met for so that it holds in at least ``share`` of the draws.

    Floors: the smallest drawn population with at least ``share`` of the draws at or below it (the empirical
    ``share``-quantile); ceilings: the largest with at least ``share`` at or above it. Every plan year, so
    the milestones hold in the same share.
    """
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share {share}: expected a share of draws in (0, 1]")
    out = {}
    for tr in p.targets:
        if tr.measure != "ratio":
            continue
        for y in p.years:
            col = draws.column(tr.region, y)
            q = (
                np.quantile(col, share, method="inverted_cdf")
                if tr.sense == "floor"
                else -np.quantile(-col, share, method="inverted_cdf")
            )
            out[tr.region, tr.kind, y] = float(q)
    return out


@dataclass(frozen=True)
class DrawSolutions:
    """Per draw: ``feasible`` (some plan keeps every constraint), ``reachable`` (one meets every target),
    ``cost`` and ``pv`` (CNY, the least-cost plan meeting every target, else the best reachable at least
    cost), ``shortfall`` (N, targets; per-capita units or share) and the number of LP solves."""

    feasible: np.ndarray
    reachable: np.ndarray
    cost: np.ndarray
    pv: np.ndarray
    shortfall: np.ndarray
    solves: int


def _solve_chunk(p: AllocationProblem, draws: Draws) -> DrawSolutions:
    """Solve every draw of a chunk on one persistent min-cost model (targets hard: shortfall capped at 0);
    a draw no plan meets goes to a max-attainment model first, whose shortfalls become the caps."""
    zeros = tuple(0.0 for _ in p.targets)
    floors = frozenset({"floors"}) if p.floors else frozenset()
    hard = PersistentModel(
        p,
        ModelOptions(
            mode="min-cost",
            elastic_targets=True,
            shortfall_caps=zeros,
            mutable=frozenset({"population", "caps"}) | floors,
        ),
    )
    best: PersistentModel | None = None
    n, t = draws.n, len(p.targets)
    out = dict(
        feasible=np.zeros(n, bool),
        reachable=np.zeros(n, bool),
        cost=np.full(n, np.nan),
        pv=np.full(n, np.nan),
        shortfall=np.full((n, t), np.nan),
    )
    solves, hard_first = 0, True  # after an unreachable draw, the next goes to the max-attainment model first
    for d in range(n):
        pop, cf, rf = draws.at(d), float(draws.capital_factor[d]), float(draws.running_factor[d])
        scale = {
            (f.region, f.year): float(draws.need_scale(p, f.region, f.year)[d])
            for f in p.floors
            if f.year in draws.years
        }
        hard.set_population(pop)
        hard.set_cost_factors(cf, rf)
        if floors:
            hard.set_floor_scale(scale)
        caps = zeros
        if hard_first:
            hard.set_shortfall_caps(zeros)
            hard.solve()
            solves += 1
        if not hard_first or not hard.ok:
            if best is None:
                best = PersistentModel(
                    p, ModelOptions(mode="max-attainment", mutable=frozenset({"population"}) | floors)
                )
            best.set_population(pop)
            best.set_cost_factors(cf, rf)
            if floors:
                best.set_floor_scale(scale)
            best.solve()
            solves += 1
            if not best.ok:
                hard_first = False
                continue
            best.load()
            caps = tuple(c if c > REACHED else 0.0 for c in best.shortfalls())
            hard.set_shortfall_caps(caps)
            hard.solve()
            solves += 1
            if not hard.ok:
                continue
        hard_first = not any(caps)
        hard.load()
        out["reachable"][d] = hard_first
        out["feasible"][d] = True
        out["cost"][d], out["pv"][d] = hard.total_cost(), hard.objective * COST_SCALE
        out["shortfall"][d] = hard.shortfalls()
    return DrawSolutions(solves=solves, **out)


def solve_draws(
    p: AllocationProblem, draws: Draws, workers: int = 1, chunk: int = DRAW_CHUNK, scheduler: str | None = None
) -> DrawSolutions:
    """:func:`_solve_chunk` over fixed chunks of ``chunk`` draws, in draw order, on
    :func:`sim.executor.map_ordered`: in this process, on ``workers`` local processes when more than one,
    or on the Dask scheduler at ``scheduler`` (an address) when the draws are many."""
    parts = [draws.part(lo, min(lo + chunk, draws.n)) for lo in range(0, draws.n, chunk)]
    results = map_ordered(partial(_solve_chunk, p), parts, workers, scheduler)
    if not results:
        empty = np.zeros(0)
        return DrawSolutions(empty.astype(bool), empty.astype(bool), empty, empty, np.zeros((0, len(p.targets))), 0)
    cat = lambda name: np.concatenate([getattr(r, name) for r in results])  # noqa: E731
    return DrawSolutions(
        cat("feasible"), cat("reachable"), cat("cost"), cat("pv"), cat("shortfall"), sum(r.solves for r in results)
    )
