"""Batch runs of many scenarios and override grids on Dask (a LocalCluster or an existing scheduler).

A *grid* file (TOML) lists axes; every combination of their values, applied to every
scenario, is one job:

    [axes]
    budget = [1e9, 2e9]                                        # plan budget, CNY
    variant = ["low", "medium", "high"]                        # population variant
    "constraints.max_additions_share.nurses" = [0.15, 0.25]   # any scenario field, dotted

A number given for a quantity (``{ value = ..., source = ... }``) replaces it with
``{ value = number, assumption = "batch grid: <axis> = <number>" }``. Jobs are expanded on the
client into plain data, so workers need healthsim installed but not the scenario files.
Each finished job's result is written atomically to ``OUT/jobs/<job_id>/`` as it completes;
``--resume`` skips jobs whose result exists. A failing job is recorded with its error.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import itertools
import json
import time
import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from scenarios.loader import ScenarioError, builtin_names, deep_merge, load_raw, validate
from scenarios.run.outputs import atomic_write
from scenarios.run.pipeline import PipelineOptions, run_pipeline
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

        return ", ".join(f"{k.split('.')[-2] if k.count('.') >= 2 else k}={short(v)}" for k, v in self.overrides) or "as given"


def find_scenarios(spec: str) -> list[str]:
    """Scenario references from a folder, a glob, a file, a built-in name, or 'builtin' (all)."""
    if spec in ("builtin", "builtins", "all"):
        return builtin_names()
    if spec in builtin_names():
        return [spec]
    path = Path(spec)
    if path.is_dir():
        files = sorted(str(p) for p in path.glob("*.toml") if not p.name.startswith("_"))
    elif any(ch in spec for ch in "*?["):
        files = sorted(f for f in globlib.glob(spec) if f.endswith(".toml"))
    elif path.is_file():
        files = [str(path)]
    else:
        raise BatchError(f"{spec}: no scenario files found; expected a folder, a glob like 'dir/*.toml', "
                         f"a .toml file, a built-in name or 'builtin'")
    if not files:
        raise BatchError(f"{spec}: no .toml scenario files match")
    return files


def load_grid(path: str | Path | None) -> dict[str, list]:
    """Read a grid file's ``[axes]``: {axis: [values]}."""
    if path is None:
        return {}
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchError(f"{p}: file not found; expected a grid .toml file with an [axes] table") from None
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
        if name == "budget" and not all(isinstance(v, (int, float)) and v >= 0 for v in values):
            raise BatchError(f"{p}: axes.budget: expected amounts of CNY >= 0")
    return axes


def _set(data: dict, dotted: str, value: Any) -> dict:
    """Return a copy of ``data`` with ``dotted`` set; a bare number for a quantity becomes a labelled assumption."""
    keys = dotted.split(".")
    override: Any = value
    node = data
    for k in keys:
        node = node.get(k) if isinstance(node, dict) else None
    if isinstance(node, dict) and "value" in node and isinstance(value, (int, float)):
        override = {"value": value, "assumption": f"batch grid: {dotted} = {value}"}
    for k in reversed(keys):
        override = {k: override}
    return deep_merge(data, override)


def expand_jobs(refs: list[str], axes: dict[str, list]) -> list[Job]:
    """Every scenario x every combination of the grid's axis values."""
    names = list(axes)
    combos = list(itertools.product(*(axes[n] for n in names))) if names else [()]
    jobs = []
    for ref in refs:
        try:
            base, path = load_raw(ref)
        except ScenarioError as exc:  # recorded as a failed job; the rest of the batch goes on
            stem = Path(str(ref)).stem
            jobs.append(Job(f"{stem}-unreadable", stem, str(ref), (), {}, error=str(exc)))
            continue
        scenario_id = base.get("id", path.stem)
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
            job_id = f"{scenario_id}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"
            jobs.append(Job(job_id, scenario_id, str(ref), overrides, data, variant, budget))
    return jobs


def run_job(job: Job, simulate: bool = False, seed: int = DEFAULT_SEED) -> dict:
    """Run one job (on a worker): validate, project, optimise, optionally simulate; return its summary."""
    t0 = time.perf_counter()
    scenario = validate(job.data, job.source)
    opts = PipelineOptions(variant=job.variant, budget=job.budget, sweep_steps=0, replications=1, seed=seed,
                           simulate=simulate, flows_only=True)
    result = run_pipeline(scenario, opts)
    summary = result.summary()
    summary.update(job_id=job.job_id, source=job.source, overrides=dict(job.overrides), seconds=time.perf_counter() - t0)
    return {"summary": summary, "attainment": result.plan.attainment.to_dict(orient="records"),
            "additions": result.plan.additions, "costs": result.plan.costs}


def _atomic_json(path: Path, obj: Any) -> None:
    text = json.dumps(obj, ensure_ascii=False, indent=1, default=float)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def job_dir(out: Path, job: Job) -> Path:
    return out / "jobs" / job.job_id


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
        _atomic_json(folder / "error.json", {
            "job_id": job.job_id, "scenario": job.scenario, "overrides": dict(job.overrides),
            "error": str(exc), "type": type(exc).__name__,
            "traceback": "".join(traceback.format_exception(exc))[-4000:],
        })
        return f"error: {type(exc).__name__}"


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
    """Run ``jobs`` on Dask, writing each result as it completes; return the ranking table."""
    from dask.distributed import Client, LocalCluster, as_completed

    out = Path(out_dir)
    (out / "jobs").mkdir(parents=True, exist_ok=True)
    todo = [j for j in jobs if not (resume and (job_dir(out, j) / "summary.json").exists())]
    skipped = len(jobs) - len(todo)
    done = skipped
    for j in [j for j in todo if j.error is not None]:
        _atomic_json(job_dir(out, j) / "error.json", {"job_id": j.job_id, "scenario": j.scenario, "overrides": {},
                                                     "error": j.error, "type": "ScenarioError", "traceback": ""})
        done += 1
    todo = [j for j in todo if j.error is None]
    if progress:
        progress(done, len(jobs), f"{skipped} already done" if skipped else "starting")
    if todo:
        cluster = None
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            import logging

            cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        try:
            futures = {client.submit(run_job, j, simulate, seed, key=f"job-{j.job_id}", pure=False): j for j in todo}
            for fut in as_completed(futures):
                job = futures[fut]
                status = _record(fut, job, job_dir(out, job))
                done += 1
                if progress:
                    progress(done, len(jobs), f"{job.job_id} {status}")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    table = ranking(jobs, out)
    atomic_write(out / "ranking.csv", lambda p: table.to_csv(p, index=False))
    return table


def _targets_of(summary: dict) -> tuple:
    """A job's targets as (kind, target, nature) triples, for telling comparable jobs apart."""
    return tuple(sorted((t["kind"], str(t["target"]), t["nature"]) for t in summary.get("targets", [])))


def _describe_change(base: tuple, own: tuple) -> str:
    was, now = {k: e for k, e, _ in base}, {k: e for k, e, _ in own}
    kinds = sorted(set(was) | set(now))
    return ", ".join(f"{k} {was.get(k, '-')} -> {now.get(k, '-')}" for k in kinds if was.get(k) != now.get(k)) \
        or "natures differ"


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
        if (folder / "summary.json").exists():
            s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            row.update(status="ok", region=s["region"], all_targets_met=s["all_targets_met"],
                       attainment_score=s["attainment_score"], total_cost_cny=s["total_cost_cny"],
                       budget_cny=s.get("budget_cny"), population_target_year=s["population_target_year"],
                       plan=s["plan_note"], error="")
            targets[j.job_id] = _targets_of(s)
        elif (folder / "error.json").exists():
            e = json.loads((folder / "error.json").read_text(encoding="utf-8"))
            row.update(status="error", error=e["error"].splitlines()[0][:300])
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
    df = df.sort_values(["comparable", "attainment_score", "total_cost_cny", "job_id"],
                        ascending=[False, False, True, True], na_position="last").reset_index(drop=True)
    ranks = df["comparable"].cumsum().where(df["comparable"])
    df.insert(0, "rank", ranks.astype("Int64"))
    return df


__all__ = ["BatchError", "Job", "expand_jobs", "find_scenarios", "load_grid", "ranking", "run_batch", "run_job",
           "ScenarioError"]
