"""Batch runs of many scenarios and override grids on local processes or an existing Dask scheduler.

A *grid* file (TOML) lists axes; every combination of their values, applied to every
scenario, is one job:

    [axes]
    budget = [1e9, 2e9]                                        # plan budget, CNY
    variant = ["low", "medium", "high"]                        # population variant
    "constraints.max_additions_share.nurses" = [0.15, 0.25]   # any scenario field, dotted

A number given for a quantity (``{ value = ..., source = ... }``) replaces it with
``{ value = number, assumption = "batch grid: <axis> = <number>" }``. Jobs are expanded on the
client into plain data, so workers need healthsim installed but not the scenario files; they run on
:mod:`sim.executor`.
Each finished job's result is written atomically to ``OUT/jobs/<job_id>/`` as it completes;
``--resume`` skips jobs whose result exists and reads back whole. A failing job is recorded with its error.

A file with an ``[axes]`` table is a grid: a folder or glob of scenarios skips it, and naming it as a
scenario is an error. Before any cluster starts, every dotted grid field is checked against the
schema and every job's data is validated, so a bad grid is one message, not one failure per job.
"""

from __future__ import annotations

import contextlib
import glob as globlib
import hashlib
import itertools
import json
import time
import tomllib
import traceback
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scenarios.bounds import outside
from scenarios.files import atomic_write, inside
from scenarios.loader import ScenarioError, builtin_names, check_field, deep_merge, load_raw, validate
from scenarios.run.options import PipelineOptions, resolve_options
from scenarios.run.pipeline import run_pipeline
from scenarios.schema import safe_name
from sim.executor import SCHEDULER_TIMEOUT, SchedulerUnreachable, as_finished
from sim.executor import connect as connect_scheduler
from sim.referral.experiment import DEFAULT_SEED

SPECIAL_AXES = ("budget", "variant")
KEPT_TABLES = ("additions", "costs")  # each job's plan tables, written beside its summary


class BatchError(ValueError):
    """A batch cannot be set up (bad grid file, no scenarios)."""


@dataclass(frozen=True)
class Job:
    """One scenario with one combination of grid values."""

    job_id: str
    scenario: str  # scenario id (or file stem)
    source: str  # built-in name or file path it came from
    overrides: tuple[tuple[str, Any], ...]
    data: dict = field(hash=False, compare=False, repr=False)  # merged, overridden scenario data
    variant: str = "medium"
    budget: float | None = None
    error: str | None = None  # the scenario could not even be read: recorded, not run

    @property
    def label(self) -> str:
        def short(v: Any) -> str:
            return f"{v:g}" if isinstance(v, float) else str(v)

        return (
            ", ".join(f"{k.split('.')[-2] if k.count('.') >= 2 else k}={short(v)}" for k, v in self.overrides)
            or "as given"
        )


def is_grid(path: str | Path) -> bool:
    """Whether a .toml file is a batch grid (it has an ``[axes]`` table), not a scenario."""
    try:
        return "axes" in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # not a readable grid: loaded as a scenario, whose error says what is wrong


def find_scenarios(spec: str) -> list[str]:
    """Scenario references from a folder, a glob, a file, a built-in name, or 'builtin' (all); grids are skipped."""
    if spec in ("builtin", "builtins", "all"):
        return builtin_names()
    if spec in builtin_names():
        return [spec]
    path = Path(spec)
    if path.is_dir():
        files = sorted(str(p) for p in path.glob("*.toml") if not p.name.startswith("_") and not is_grid(p))
    elif any(ch in spec for ch in "*?["):
        files = sorted(f for f in globlib.glob(spec) if f.endswith(".toml") and not is_grid(f))
    elif path.is_file():
        if is_grid(path):
            raise BatchError(f"{spec}: is a grid (it has an [axes] table), not a scenario; pass it with --grid")
        files = [str(path)]
    else:
        raise BatchError(
            f"{spec}: no scenario files found; expected a folder, a glob like 'dir/*.toml', "
            f"a .toml file, a built-in name or 'builtin'"
        )
    if not files:
        raise BatchError(f"{spec}: no .toml scenario files match")
    return files


def load_grid(path: str | Path | None) -> dict[str, list]:
    """Read a grid file's ``[axes]``: {axis: [values]}; every axis a scenario field or budget/variant."""
    if path is None:
        return {}
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchError(f"{p}: file not found; expected a grid .toml file with an [axes] table") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"{p}: cannot be read as text ({type(exc).__name__}); expected a grid .toml file") from None
    except tomllib.TOMLDecodeError as exc:
        raise BatchError(f"{p}: not valid TOML ({exc})") from None
    axes = data.get("axes")
    if not isinstance(axes, dict) or not axes:
        raise BatchError(f"{p}: axes: expected a non-empty [axes] table of lists")
    unknown = set(data) - {"axes"}
    if unknown:
        raise BatchError(f"{p}: {', '.join(sorted(unknown))}: unknown key; expected only [axes]")
    for name, values in axes.items():
        if not isinstance(values, list) or not values:
            raise BatchError(f"{p}: axes.{name}: expected a non-empty list of values, got {values!r}")
        seen = [json.dumps(v, sort_keys=True, default=str) for v in values]
        if len(set(seen)) < len(seen):
            again = next(v for i, v in enumerate(values) if seen[i] in seen[:i])
            raise BatchError(
                f"{p}: axes.{name}: {again!r} is given twice; expected each value once (a repeated "
                "value would run and rank the same job twice)"
            )
        if name == "budget":
            for v in values:
                if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                    raise BatchError(f"{p}: axes.budget: expected amounts of CNY >= 0, got {v!r}")
                if problem := outside("plan.budget_total", v):
                    raise BatchError(f"{p}: axes.budget: {problem}")
        elif name == "variant":
            if not all(isinstance(v, str) for v in values):
                raise BatchError(f"{p}: axes.variant: expected names of population variants in quotes")
        elif problem := check_field(name):
            raise BatchError(f"{p}: axes: {problem}")
    return axes


def _set(data: dict, dotted: str, value: Any) -> dict:
    """Return a copy of ``data`` with ``dotted`` set; a bare number for a quantity becomes a labelled assumption."""
    keys = dotted.split(".")
    override: Any = value
    node, parent = data, None
    for k in keys:
        parent, node = node, node.get(k) if isinstance(node, dict) else None
    if isinstance(node, dict) and "value" in node and isinstance(value, (int, float)):
        override = {"value": value, "assumption": f"batch grid: {dotted} = {value}"}
    elif len(keys) >= 2 and keys[-2] == "target" and keys[-1] in ("expr", "nature", "year"):
        # one key of a target: it keeps its other keys (a target is replaced whole when merged); a new target
        # is 'expected' unless the grid says otherwise, as in the workbench
        kept = {k: v for k, v in parent.items() if k in ("expr", "nature", "year")} if isinstance(parent, dict) else {}
        keys, override = (
            keys[:-1],
            {"nature": "expected", **kept, keys[-1]: value, "assumption": f"batch grid: {dotted} = {value}"},
        )
    for k in reversed(keys):
        override = {k: override}
    return deep_merge(data, override)


def _problem(data: dict, source: str, variant: str) -> str | None:
    """The first problem of a job's data (schema, plausible ranges, variant), or None."""
    try:
        validate(data, source)
    except ScenarioError as exc:
        return str(exc).splitlines()[0]
    defined = ["medium", *((data.get("population") or {}).get("variants") or {})]
    if variant not in defined:
        return f"{source}: population.variants: no variant {variant!r}; defined: {', '.join(defined)}"
    return None


def expand_jobs(refs: list[str], axes: dict[str, list], grid: str | Path | None = None) -> list[Job]:
    """Every scenario x every combination of the grid's axis values, each validated on the client.

    A scenario that is wrong as given becomes failed jobs (recorded; the rest go on); a grid value
    that makes a valid scenario wrong raises :class:`BatchError` before anything runs.
    """
    names = list(axes)
    combos = list(itertools.product(*(axes[n] for n in names))) if names else [()]
    jobs = []
    for ref in refs:
        try:
            base, path = load_raw(ref)
        except ScenarioError as exc:  # recorded as a failed job; the rest of the batch goes on
            stem = Path(str(ref)).stem
            jobs.append(Job(f"{safe_name(stem)}-unreadable", stem, str(ref), (), {}, error=str(exc)))
            continue
        scenario_id = str(base.get("id", path.stem))
        base_problem = _problem(base, str(ref), "medium")
        for combo in combos:
            data = dict(base)
            data.setdefault("id", scenario_id)
            variant, budget = "medium", None
            for name, value in zip(names, combo):
                if name == "variant":
                    variant = str(value)
                elif name == "budget":
                    budget = float(value)
                else:
                    data = _set(data, name, value)
            overrides = tuple(zip(names, combo))
            key = json.dumps([scenario_id, str(path), overrides], sort_keys=True, default=str)
            job_id = f"{safe_name(scenario_id)}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"  # a folder name
            job = Job(job_id, scenario_id, str(ref), overrides, data, variant, budget, error=base_problem)
            if base_problem is None and (problem := _problem(data, str(ref), variant)):
                raise BatchError(f"{grid or 'grid'}: {job.label}: {problem}")
            jobs.append(job)
    return jobs


def run_job(job: Job, simulate: bool = False, seed: int = DEFAULT_SEED) -> dict:
    """Run one job (on a worker): validate, project, optimise, optionally simulate; return its summary."""
    t0 = time.perf_counter()
    scenario = validate(job.data, job.source)
    opts = resolve_options(
        scenario,
        PipelineOptions(
            variant=job.variant,
            budget=job.budget,
            sweep_steps=0,
            replications=1,
            seed=seed,
            simulate=simulate,
            flows_only=True,
            workers=1,
            uncertainty_draws=0,
        ),
    )
    result = run_pipeline(scenario, opts)
    summary = result.summary()
    summary.update(
        job_id=job.job_id, source=job.source, overrides=dict(job.overrides), seconds=time.perf_counter() - t0
    )
    return {
        "summary": summary,
        "attainment": result.plan.attainment.to_dict(orient="records"),
        "additions": result.plan.additions,
        "costs": result.plan.costs,
    }


def _atomic_json(path: Path, obj: Any) -> None:
    text = json.dumps(obj, ensure_ascii=False, indent=1, default=float)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def job_dir(out: Path, job: Job) -> Path:
    """``out/jobs/<job_id>``, checked to stay inside ``out/jobs`` (a job id is never a path)."""
    return inside(out / "jobs", job.job_id, "job id")


def _record(fut, job: Job, folder: Path) -> str:
    """Write a finished job's result (or its error) into its folder; return its status in words."""
    try:
        res = fut.result()
        _atomic_json(folder / "summary.json", res["summary"])
        _atomic_json(folder / "attainment.json", res["attainment"])
        for name in KEPT_TABLES:
            atomic_write(folder / f"{name}.csv", lambda p, df=res[name]: df.to_csv(p, index=False))
        (folder / "error.json").unlink(missing_ok=True)
        return "ok"
    except Exception as exc:  # one failing scenario is recorded and does not stop the rest
        _atomic_json(
            folder / "error.json",
            {
                "job_id": job.job_id,
                "scenario": job.scenario,
                "overrides": dict(job.overrides),
                "error": str(exc),
                "type": type(exc).__name__,
                "traceback": "".join(traceback.format_exception(exc))[-4000:],
            },
        )
        return f"error: {type(exc).__name__}"


def connect(scheduler: str):
    """A Dask client of the scheduler at ``scheduler``; one line within seconds when it cannot be reached."""
    try:
        return connect_scheduler(scheduler)
    except SchedulerUnreachable as exc:
        raise _unreachable(exc) from None


def _unreachable(exc: SchedulerUnreachable) -> BatchError:
    return BatchError(
        f"--scheduler {exc.address}: cannot reach a Dask scheduler within {SCHEDULER_TIMEOUT} "
        f"({exc.why}); expected the address of a running scheduler such as tcp://host:8786"
    )


def run_batch(
    jobs: list[Job],
    out_dir: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    simulate: bool = False,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Run ``jobs`` on ``workers`` local processes (None: 2) or the Dask ``scheduler``, writing each result as
    it completes; return the ranking table."""
    out = Path(out_dir)
    (out / "jobs").mkdir(parents=True, exist_ok=True)
    todo = [j for j in jobs if not (resume and read_summary(job_dir(out, j)) is not None)]
    skipped = len(jobs) - len(todo)
    done = skipped
    for j in [j for j in todo if j.error is not None]:
        _atomic_json(
            job_dir(out, j) / "error.json",
            {
                "job_id": j.job_id,
                "scenario": j.scenario,
                "overrides": {},
                "error": j.error,
                "type": "ScenarioError",
                "traceback": "",
            },
        )
        done += 1
    todo = [j for j in todo if j.error is None]
    if progress:
        progress(done, len(jobs), f"{skipped} already done" if skipped else "starting")
    finished = as_finished(partial(run_job, simulate=simulate, seed=seed), todo, workers or 2, scheduler or None)
    try:
        with contextlib.closing(finished):
            for i, fut in finished:
                job = todo[i]
                status = _record(fut, job, job_dir(out, job))
                done += 1
                if progress:
                    progress(done, len(jobs), f"{job.job_id} {status}")
    except SchedulerUnreachable as exc:
        raise _unreachable(exc) from None
    table = ranking(jobs, out)
    atomic_write(out / "ranking.csv", lambda p: table.to_csv(p, index=False))
    return table


def _targets_of(summary: dict) -> tuple:
    """A job's targets as (kind, target, nature) triples, for telling comparable jobs apart."""
    return tuple(sorted((t["kind"], str(t["target"]), t["nature"]) for t in summary.get("targets", [])))


def _describe_change(base: tuple, own: tuple) -> str:
    was, now = {k: e for k, e, _ in base}, {k: e for k, e, _ in own}
    kinds = sorted(set(was) | set(now))
    return (
        ", ".join(f"{k} {was.get(k, '-')} -> {now.get(k, '-')}" for k in kinds if was.get(k) != now.get(k))
        or "natures differ"
    )


class JobSummary(BaseModel):
    """What ``ranking`` reads back from a job's ``summary.json`` (other keys are kept, not checked)."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    scenario: str
    all_targets_met: bool
    attainment_score: float = Field(ge=0, le=1)
    total_cost_cny: float
    budget_cny: float | None = None
    population_target_year: float = Field(ge=0)
    plan_mode: str
    plan_reached: bool = True  # False: no plan meets every target; the best reachable one


class JobError(BaseModel):
    model_config = ConfigDict(extra="allow")
    error: str


def _read_record(path: Path, model: type[BaseModel]) -> Any:
    """``path`` read back and validated with ``model``; None when missing, unreadable or invalid."""
    try:
        return model.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def read_summary(folder: Path) -> JobSummary | None:
    """A finished job's summary, or None when it has none that reads back whole and valid."""
    return _read_record(folder / "summary.json", JobSummary)


def ranking(jobs: list[Job], out: Path) -> pd.DataFrame:
    """Combined table: one row per job, ranked by attainment score (desc), then total cost (asc).

    Jobs are comparable only with the same targets: per region, the targets most jobs share are the
    base; a job whose targets differ is marked in ``targets_differ`` (what changed) and left unranked
    (listed after the ranked jobs) instead of being ranked as if it answered the same question.
    """
    rows, targets = [], {}
    for j in jobs:
        folder = job_dir(out, j)
        row = {"job_id": j.job_id, "scenario": j.scenario, "grid": j.label, "variant": j.variant}
        summary, error = read_summary(folder), _read_record(folder / "error.json", JobError)
        if summary is not None:
            row.update(
                status="ok",
                region=getattr(summary, "region", ""),
                all_targets_met=summary.all_targets_met,
                attainment_score=summary.attainment_score,
                total_cost_cny=summary.total_cost_cny,
                budget_cny=summary.budget_cny,
                population_target_year=summary.population_target_year,
                plan=summary.plan_mode if summary.plan_reached else "best reachable",
                error="",
            )
            targets[j.job_id] = _targets_of(summary.model_dump())
        elif error is not None:
            row.update(status="error", error=(error.error.splitlines() or [""])[0][:300])
        elif (folder / "summary.json").exists():
            row.update(
                status="error", error=f"{folder / 'summary.json'}: unreadable or incomplete; rerun with --resume"
            )
        else:
            row.update(status="not run")
        rows.append(row)
    df = pd.DataFrame(rows)
    for col in ("attainment_score", "total_cost_cny", "region"):
        if col not in df:
            df[col] = float("nan")
    df["targets_differ"] = ""
    for region, group in df[df["job_id"].isin(targets)].groupby("region", sort=False):
        sigs = [targets[j] for j in group["job_id"]]
        base = max(dict.fromkeys(sigs), key=sigs.count)  # the most common; ties: the first seen
        for idx, sig in zip(group.index, sigs):
            if sig != base:
                df.loc[idx, "targets_differ"] = _describe_change(base, sig)
    df["comparable"] = (df["status"] == "ok") & (df["targets_differ"] == "")
    df = df.sort_values(
        ["comparable", "attainment_score", "total_cost_cny", "job_id"],
        ascending=[False, False, True, True],
        na_position="last",
    ).reset_index(drop=True)
    ranks = df["comparable"].cumsum().where(df["comparable"])
    df.insert(0, "rank", ranks.astype("Int64"))
    return df


__all__ = [
    "BatchError",
    "Job",
    "expand_jobs",
    "find_scenarios",
    "load_grid",
    "ranking",
    "run_batch",
    "run_job",
    "ScenarioError",
]
