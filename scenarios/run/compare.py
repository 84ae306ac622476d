"""Scenarios side by side: population, need, plan additions, cost by year, attainment, KPIs, and the
input fields that differ between the scenarios with their values and sources.

Each scenario is given as a built-in name, a scenario file, or a result folder written by
``healthsim run`` (its ``summary.json``, ``scenario.json`` and CSV tables); names and files are run
through the pipeline first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scenarios.loader import ScenarioError, load
from scenarios.run.options import PipelineOptions, Progress
from scenarios.run.pipeline import PipelineResult, run_pipeline

TABLES = ("population", "additions", "costs", "attainment", "need")


@dataclass
class RunRecord:
    """What a comparison needs of one run: the scenario as run, its summary and its tables."""

    name: str
    scenario: dict
    summary: dict
    tables: dict[str, pd.DataFrame]


def record_from_result(result: PipelineResult) -> RunRecord:
    return RunRecord(result.scenario.id, result.scenario.model_dump(), result.summary(), result.tables())


def read_record(folder: str | Path) -> RunRecord:
    """A run read back from its result folder; a clear error when the folder is not one."""
    folder = Path(folder)
    need = [folder / "summary.json", folder / "scenario.json"]
    missing = [p.name for p in need if not p.exists()]
    if missing:
        raise ScenarioError(
            folder, [("", f"missing {', '.join(missing)}; expected a folder written by 'healthsim run --out'")]
        )
    try:
        complete = json.loads((folder / "plan.json").read_text(encoding="utf-8")).get("complete", True)
    except (OSError, ValueError, AttributeError):
        complete = True  # no manifest (written before it was kept): read as it is
    if complete is False:
        raise ScenarioError(
            folder / "plan.json",
            [
                (
                    "complete",
                    "false; the run that wrote this folder stopped "
                    "before it finished; expected a finished result: "
                    "rerun it",
                )
            ],
        )
    summary = json.loads(need[0].read_text(encoding="utf-8"))
    scenario = json.loads(need[1].read_text(encoding="utf-8"))
    tables = {n: pd.read_csv(folder / f"{n}.csv") for n in TABLES if (folder / f"{n}.csv").exists()}
    return RunRecord(summary.get("scenario", folder.name), scenario, summary, tables)


def resolve(ref: str, options: PipelineOptions, progress: Progress | None = None) -> RunRecord:
    """A result folder is read; a built-in name or a scenario file is run."""
    path = Path(ref)
    if path.is_dir():
        return read_record(path)
    return record_from_result(run_pipeline(load(ref), options, progress))


def _unique_names(records: list[RunRecord]) -> list[RunRecord]:
    seen: dict[str, int] = {}
    for r in records:
        n = seen.get(r.name, 0)
        seen[r.name] = n + 1
        if n:
            r.name = f"{r.name} ({n + 1})"
    return records
