"""Uncertainty of a plan: Monte Carlo over a scenario's rates and costs -> :mod:`optimize.uncertainty`.

Each labelled assumption (the ``assumptions`` table of a result says which applies):

* Birth, death and net migration rates: a two-piece normal per rate with median the medium rate and
  5th / 95th percentiles the low / high variant's rate (year by year along their paths), or the
  medium rate plus the scenario's ``[uncertainty]`` spread. Each draw holds its shock through the
  whole period (a future, not yearly noise); the shocks of the three rates have correlation
  ``rate_correlation``. Populations come from the projection engine (:func:`sim.population.project_many`).
  Where the scenario has observed years (and the run is calibrated), the draws follow the projection's rule
  (:mod:`scenarios.run.projection`): the observed and interpolated years are as observed, and each draw's
  later years are scaled to start from the latest observed population.
* Capital and running costs: one lognormal factor each (median 1, 95th percentile 1 + spread) on
  every capital / running cost, drawn independently of the rates.
* Demand rates (per-capita admissions and visits): one lognormal factor per draw (median 1, 95th
  percentile 1 + ``demand_rate``). Need from demand (:mod:`scenarios.run.need`) in a draw is the
  medium need times the draw's residents over the medium's, times that factor (the age mix of the
  medium projection is kept: an approximation, said in the assumptions table).

Draws come from ``numpy.random.SeedSequence(seed)``: the rate, cost and demand streams are spawned
children, so the same seed gives the same draws whatever else changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from optimize.problem import AllocationProblem, FloorRow
from optimize.result import AllocationPlan
from optimize.uncertainty import (
    Draws,
    DrawSolutions,
    PlanOutcomes,
    floor_outcomes,
    plan_outcomes,
    probability_frame,
    probability_table,
    robust_floors,
    robust_target_population,
    solve_draws,
)
from scenarios.inputs.need import need_table
from scenarios.inputs.population import HIGH, LOW, MEDIUM, population_inputs, reference_inputs
from scenarios.run.plan import PlanOutcome, plan_or_best_reachable
from scenarios.run.projection import Calibration, projection_with_calibration
from scenarios.schema import Scenario
from sim.population import PopulationInputs, ProjectionResult, RatePath, project_many
from sim.referral.experiment import DEFAULT_SEED

Z95 = 1.6448536269514722  # standard normal 95th percentile
RATES = ("birth_rate", "death_rate", "net_migration_rate")
# the assumptions table: distribution and note are kinds (worded by scenarios.report.words.assumption_table); label
# is the scenario's own source or assumption; detail the variants drawn from or the latest observed year
ASSUMPTION_COLUMNS = ["input", "distribution", "p5", "median", "p95", "note", "label", "detail"]
ENGINE_RATE = {"birth_rate": "birth", "death_rate": "death", "net_migration_rate": "migration"}


@dataclass(frozen=True)
class UncertaintyOptions:
    draws: int = 1000
    seed: int = DEFAULT_SEED
    share: float | None = 0.9  # robust plan: targets met in at least this share of draws (None: no robust plan)
    workers: int = 1
    scheduler: str | None = None  # a Dask scheduler address: solve the draws' chunks there
    solve: bool = True  # least cost in each draw (one LP per draw); off for a quick summary
    calibrated: bool = True  # draws start from the latest observed population (as the calibrated projection)


@dataclass
class UncertaintyResult:
    """Tables (tidy) and headline figures of a Monte Carlo run (:func:`scenarios.report.words.uncertainty_words`
    says it in sentences)."""

    scenario_id: str
    target_year: int
    options: UncertaintyOptions
    assumptions: pd.DataFrame
    fan: pd.DataFrame  # year, p10, p50, p90, medium (persons)
    probabilities: pd.DataFrame  # per target: probability (and robust_probability) with standard errors
    draws: pd.DataFrame  # per draw: population in the target year, cost factors, plan cost, least cost
    cost_summary: pd.DataFrame  # measure, mean, p10, p50, p90 (CNY)
    joint: float
    plan_cost: float
    robust: PlanOutcome | None = None
    robust_joint: float | None = None
    premium: float | None = None
    reachable_share: float | None = None  # share of draws whose least-cost LP met every target (None: not solved)
    budget_total: float | None = None  # the problem's plan budget (CNY), None: no cap
    seconds: float = 0.0
    solves: int = 0

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {
            "uncertainty_assumptions": self.assumptions,
            "uncertainty_fan": self.fan,
            "uncertainty_probabilities": self.probabilities,
            "uncertainty_draws": self.draws,
            "uncertainty_cost": self.cost_summary,
        }
        if self.robust is not None:
            out["robust_additions"] = self.robust.plan.additions
            out["robust_attainment"] = self.robust.plan.attainment
        return out

    def summary(self) -> dict:
        """Headline figures (JSON-ready)."""
        return {
            "draws": self.options.draws,
            "seed": self.options.seed,
            "joint_probability": self.joint,
            "probabilities": {
                f"{r.kind}:{'need' if r.nature == 'need' else r.expr}": float(r.probability)
                for r in self.probabilities.itertuples(index=False)
            },
            "robust_share": self.options.share,
            "robust_joint_probability": self.robust_joint,
            "robust_premium_cny": self.premium,
        }


# -- draws ---------------------------------------------------------------------------------------


def _sides(s: Scenario, name: str, medium: RatePath) -> tuple[RatePath, RatePath, tuple[str, str, str]]:
    """The rate paths at the 5th and 95th percentiles, and where they come from (note kind, label, detail)."""
    spread = getattr(s.uncertainty, name)
    if spread is not None:
        shift = lambda d: RatePath(medium.base_year, medium.base + d, tuple((y, v + d) for y, v in medium.anchors))  # noqa: E731
        return shift(spread.low), shift(spread.high), _origin(spread, "no_spread")
    pop = s.population
    side = lambda v: getattr(population_inputs(pop, s.base_year, v), ENGINE_RATE[name]) if v in pop.variants else medium  # noqa: E731
    have = [v for v in (LOW, HIGH) if v in pop.variants and getattr(pop.variants[v], name) is not None]
    origin = ("variants", "", ",".join(have)) if have else ("no_spread", "", "")
    return side(LOW), side(HIGH), origin


def _drawn_path(medium: RatePath, low: RatePath, high: RatePath, z: float) -> RatePath:
    """The two-piece normal rate path at standard normal quantile ``z`` (exact between anchors)."""
    years = sorted({y for path in (medium, low, high) for y, _ in path.anchors if y > medium.base_year})
    at = np.array([medium.base_year, *years], dtype=float)
    other = high if z > 0 else low
    vals = medium.at(at) + abs(z) / Z95 * (other.at(at) - medium.at(at))
    return RatePath(medium.base_year, float(vals[0]), tuple(zip(years, (float(v) for v in vals[1:]))))


def _rate_shocks(s: Scenario, rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 3) standard normal shocks of the three rates with correlation ``rate_correlation``."""
    rho = s.uncertainty.rate_correlation.value if s.uncertainty.rate_correlation else 0.0
    z = rng.standard_normal((n, 1 + len(RATES)))  # one row a draw: the first draws do not depend on n
    return np.sqrt(rho) * z[:, :1] + np.sqrt(1.0 - rho) * z[:, 1:]


def _lognormal_factors(spreads: list[float], rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """One lognormal factor per spread and draw: median 1, 95th percentile 1 + spread."""
    z = rng.standard_normal((n, len(spreads)))
    return tuple(np.exp(z[:, j] * np.log1p(sp) / Z95) for j, sp in enumerate(spreads))


def _spread(q) -> float:
    return q.value if q is not None else 0.0


def _origin(q, none: str) -> tuple[str, str, str]:
    """Where a spread comes from: ("scenario", its source or assumption, "") when given, else (``none``, "", "")."""
    return ("scenario", q.assumption or q.source or q.reference or "", "") if q is not None else (none, "", "")


def _from_latest_observed(
    s: Scenario, pop: np.ndarray, to_year: int, proj: ProjectionResult, cal: Calibration | None
) -> tuple[np.ndarray, int | None]:
    """Draws ``pop`` (base year .. ``to_year``) under the calibrated projection's rule: years up to the latest
    observed one as the calibrated projection ``proj`` has them (observed or interpolated, the same in every
    draw), later years scaled so that each draw starts from the latest observed population. The latest observed
    year (None when the scenario has no observation after its base year)."""
    if cal is None or cal.latest_year <= s.base_year:
        return pop, None
    latest = cal.latest_year
    known = proj.table.set_index("year")["population"]
    out = pop.copy()
    if latest < to_year:
        j = latest - s.base_year
        out[:, j + 1 :] *= float(known[latest]) / pop[:, j : j + 1]
    for y in range(s.base_year, min(latest, to_year) + 1):
        out[:, y - s.base_year] = float(known[y])
    return out, latest


def draw_futures(
    s: Scenario,
    n: int,
    seed: int = DEFAULT_SEED,
    to_year: int | None = None,
    calibrated: bool = True,
    medium_projection: tuple[ProjectionResult, Calibration | None] | None = None,
) -> tuple[Draws, pd.DataFrame]:
    """``n`` drawn futures of scenario ``s`` from its base year to ``to_year`` (default: target year), and the
    assumptions table (input, distribution, p5, median, p95 in the target year, label). ``calibrated``: start
    the draws from the latest observed population (:func:`_from_latest_observed`), on ``medium_projection``
    (the calibrated medium projection to ``to_year`` and its calibration; made here when not given)."""
    if n < 1:
        raise ValueError(f"--draws {n}: expected at least 1 draw")
    to_year = to_year or s.target_year
    rate_ss, cost_ss, demand_ss = np.random.SeedSequence(seed).spawn(3)  # children 0 and 1 do not depend on 3
    shocks = _rate_shocks(s, np.random.default_rng(rate_ss), n)
    medium = population_inputs(s.population, s.base_year, MEDIUM)
    rows, paths = [], {}
    for name in RATES:
        med = getattr(medium, ENGINE_RATE[name])
        lo, hi, label = _sides(s, name, med)
        paths[name] = (med, lo, hi)
        ty = np.array([float(to_year)])
        rows.append((name, "two_piece_normal", lo.at(ty)[0], med.at(ty)[0], hi.at(ty)[0], *label))
    inputs: list[PopulationInputs] = []
    for d in range(n):
        drawn = {ENGINE_RATE[name]: _drawn_path(*paths[name], shocks[d, j]) for j, name in enumerate(RATES)}
        inputs.append(replace(medium, **drawn))
    pop = project_many(inputs, s.base_year, to_year, reference_inputs(s.population, s.base_year))
    latest = None
    if calibrated:
        proj, cal = medium_projection or projection_with_calibration(s, to_year, [MEDIUM], True)
        pop, latest = _from_latest_observed(s, pop, to_year, proj, cal)
    u = s.uncertainty
    capital, running = _lognormal_factors(
        [_spread(u.capital_cost), _spread(u.running_cost)], np.random.default_rng(cost_ss), n
    )
    (demand,) = _lognormal_factors([_spread(u.demand_rate)], np.random.default_rng(demand_ss), n)
    for name, q in (("capital_cost", u.capital_cost), ("running_cost", u.running_cost), ("demand_rate", u.demand_rate)):
        sp = _spread(q)
        rows.append((name, "lognormal", 1 / (1 + sp), 1.0, 1 + sp, *_origin(q, "no_spread")))
    rho = u.rate_correlation
    rows.append(
        (
            "rate_correlation",
            "correlation",
            np.nan,
            rho.value if rho else 0.0,
            np.nan,
            *_origin(rho, "independent"),
        )
    )
    if latest is not None:
        rows.append(
            (
                "observed_population",
                "observed",
                np.nan,
                float(pop[0, latest - s.base_year]) if latest <= to_year else np.nan,
                np.nan,
                "observed_from",
                "",
                str(latest),
            )
        )
    rows.append(
        (
            "need_from_demand",
            "need_scaled",
            np.nan,
            np.nan,
            np.nan,
            "need_age_mix" if s.demand is not None else "need_none",
            "",
            "",
        )
    )
    table = pd.DataFrame(rows, columns=ASSUMPTION_COLUMNS)
    years = tuple(range(s.base_year, to_year + 1))
    return Draws(years, {s.id: pop}, capital, running, demand), table


# -- the run -------------------------------------------------------------------------------------


def _fan(draws: Draws, region: str, medium: dict[tuple[str, int], float]) -> pd.DataFrame:
    pop = draws.population[region]
    q = np.percentile(pop, [10, 50, 90], axis=0)
    return pd.DataFrame(
        {
            "year": list(draws.years),
            "p10": q[0],
            "p50": q[1],
            "p90": q[2],
            "medium": [medium.get((region, y), np.nan) for y in draws.years],
        }
    )


def _cost_summary(rows: dict[str, np.ndarray]) -> pd.DataFrame:
    out = []
    for name, v in rows.items():
        v = v[~np.isnan(v)]
        if len(v):
            out.append((name, float(v.mean()), *np.percentile(v, [10, 50, 90]).tolist()))
    return pd.DataFrame(out, columns=["measure", "mean_cny", "p10_cny", "p50_cny", "p90_cny"])


def _robust(problem: AllocationProblem, draws: Draws, share: float) -> PlanOutcome:
    """The least-cost plan (whole units, no budget cap) meeting every target for the ``share``-quantile population,
    and every floor (need) at the ``share``-quantile of its drawn need; where none can, the best reachable plan."""
    quantiles = robust_target_population(problem, draws, share)
    robust = replace(problem, target_population=quantiles, floors=robust_floors(problem, draws, share))
    return plan_or_best_reachable(robust.with_budget(None, None), "min-cost")


def _at_medium(problem: AllocationProblem, proj: ProjectionResult) -> AllocationProblem:
    """``problem`` measured against the medium projection the draws centre on: need and the fan are read against
    the medium residents even when the plan was made for another variant."""
    series = proj.series(MEDIUM)
    population = {(r, y): float(series[y]) for r in problem.regions for y in problem.years if y in series.index}
    return replace(problem, population={**problem.population, **population})


def need_rows(s: Scenario, proj, problem: AllocationProblem) -> tuple[FloorRow, ...]:
    """The target year's need from demand by resource (both tiers together) on the medium projection ``proj``, as
    floor rows to evaluate plans against; () when the scenario has no [demand] and [referral] or no age structure."""
    if s.demand is None or s.referral is None or proj.method != "cohort-component":
        return ()
    Y = problem.target_year
    need = need_table(s, proj, MEDIUM)
    total = need[need["year"] == Y].groupby(["region", "kind"], sort=False)["need"].sum()
    return tuple(FloorRow(r, k, None, Y, float(v), f"need: {k}") for (r, k), v in total.items() if k in problem.kinds)


def _need_probabilities(
    problem: AllocationProblem, plan: AllocationPlan, needs: tuple[FloorRow, ...], draws: Draws
) -> pd.DataFrame:
    """Rows of the probability table for the need from demand: the plan's stock against each drawn need."""
    return probability_frame(
        {
            "region": [f.region for f in needs],
            "kind": [f.kind for f in needs],
            "name": [f.label for f in needs],
            "expr": [f"{f.units:,.0f}" for f in needs],
            "unit": ["beds" if f.kind == "beds" else "persons" for f in needs],
            "nature": "need",
            "ratio": [f.units for f in needs],
            "divisor": 1.0,
        },
        floor_outcomes(problem, plan, needs, draws),
    )


def _draw_table(
    problem: AllocationProblem, draws: Draws, outcomes: PlanOutcomes, solved: DrawSolutions | None
) -> pd.DataFrame:
    region = problem.regions[0]
    df = pd.DataFrame(
        {
            "draw": np.arange(draws.n),
            "population_target_year": draws.column(region, problem.target_year),
            "capital_factor": draws.capital_factor,
            "running_factor": draws.running_factor,
            "plan_cost_cny": outcomes.cost,
            "plan_pv_cny": outcomes.pv,
            "plan_meets_all": outcomes.met.all(axis=1) if outcomes.met.size else True,
        }
    )
    if solved is not None:
        df["least_cost_cny"], df["least_pv_cny"], df["reachable"] = solved.cost, solved.pv, solved.reachable
    return df


def run_uncertainty(
    s: Scenario, problem: AllocationProblem, plan: AllocationPlan, options: UncertaintyOptions = UncertaintyOptions()
) -> UncertaintyResult:
    """Monte Carlo for ``plan`` (of ``problem``, built from scenario ``s``): probabilities, costs, robust plan."""
    t0 = time.perf_counter()
    o = options
    proj, cal = projection_with_calibration(s, problem.target_year, [MEDIUM], o.calibrated)  # once for the run
    draws, assumptions = draw_futures(s, o.draws, o.seed, problem.target_year, o.calibrated, (proj, cal))
    outcomes = plan_outcomes(problem, plan, draws)
    at_medium = _at_medium(problem, proj)
    needs = need_rows(s, proj, problem)
    probs = pd.concat(
        [probability_table(problem, outcomes), _need_probabilities(at_medium, plan, needs, draws)], ignore_index=True
    )
    solved = solve_draws(problem, draws, o.workers, scheduler=o.scheduler) if o.solve else None
    result = UncertaintyResult(
        s.id,
        problem.target_year,
        o,
        assumptions,
        _fan(draws, problem.regions[0], at_medium.population),
        probs,
        _draw_table(problem, draws, outcomes, solved),
        pd.DataFrame(),
        outcomes.joint,
        plan.total_cost,
        solves=solved.solves if solved else 0,
    )
    costs = {"plan cost (nominal)": outcomes.cost, "plan cost (present value)": outcomes.pv}
    if solved is not None:
        costs["least cost of the targets in each draw (LP, nominal)"] = solved.cost
    result.cost_summary = _cost_summary(costs)
    if o.share is not None and (problem.targets or problem.floors):
        result.robust = _robust(problem, draws, o.share)
        robust_out = plan_outcomes(problem, result.robust.plan, draws)
        robust_need = floor_outcomes(at_medium, result.robust.plan, needs, draws)
        result.probabilities["robust_probability"] = np.concatenate([robust_out.probability, robust_need.mean(axis=0)])
        result.robust_joint = robust_out.joint
        result.premium = result.robust.plan.total_cost - plan.total_cost
    result.reachable_share = float(solved.reachable.mean()) if solved is not None and len(solved.reachable) else None
    result.budget_total = problem.budget_total
    result.seconds = time.perf_counter() - t0
    return result
