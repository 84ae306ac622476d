"""Files in and out of a run: atomic writes, the tables of a plan or a pipeline, reading a plan folder back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pandas as pd

from optimize.result import TABLES, AllocationPlan
from scenarios.run.report import write_evaluation_report, write_report
from scenarios.run.simulation import Capacities, capacities_by_year
from sim.referral.network import NetworkError

if TYPE_CHECKING:
    from scenarios.run.evaluation import Evaluation
    from scenarios.run.pipeline import PipelineResult


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a temporary sibling (same suffix), then rename it over ``path``.

    A reader never sees half a file, and a killed run leaves none behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")  # same suffix, so writers that check it are content
    write(tmp)
    tmp.replace(path)
    return path


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each table as ``<name>.csv`` into ``out_dir`` (created), atomically; return the paths."""
    return [atomic_write(Path(out_dir) / f"{name}.csv", lambda p, df=df: df.to_csv(p, index=False))
            for name, df in tables.items()]


def plan_tables(plan: AllocationPlan) -> dict[str, pd.DataFrame]:
    """The plan's tables by name: additions, stocks, ratios, costs, attainment, duals."""
    return {name: getattr(plan, name) for name in TABLES}


def write_plan(plan: AllocationPlan, out_dir: str | Path) -> list[Path]:
    """Write a plan's tables as CSV (what ``healthsim optimize --out`` writes)."""
    return write_tables(plan_tables(plan), out_dir)


def read_plan_capacities(plan_dir: str | Path) -> dict[int, Capacities]:
    """Capacities by year from a plan folder (``stocks.csv`` from ``optimize --out``)."""
    path = Path(plan_dir) / "stocks.csv"
    if not path.exists():
        raise NetworkError(f"{path}: not found; expected the stocks.csv written by 'healthsim optimize --out DIR'")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # unreadable CSV
        raise NetworkError(f"{path}: not a readable CSV ({exc})") from None
    need = {"year", "kind", "tier", "stock"}
    if not need <= set(df.columns):
        raise NetworkError(f"{path}: columns {sorted(set(df.columns))}; expected at least {sorted(need)}")
    if (df["stock"] < 0).any():
        raise NetworkError(f"{path}: field stock: expected values >= 0")
    return capacities_by_year(df, str(path))


def _write_excel(tables: dict[str, pd.DataFrame], path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name, df in tables.items():
            df.to_excel(xl, sheet_name=name[:31], index=False)


def write_outputs(result: PipelineResult, out_dir: str | Path) -> list[Path]:
    """Write CSV tables, summary.json, an Excel workbook and the HTML report, each atomically."""
    out = Path(out_dir)
    tables = result.tables()
    written = write_tables(tables, out)
    written.append(atomic_write(out / "summary.json", lambda p: p.write_text(
        json.dumps(result.summary(), ensure_ascii=False, indent=1, default=float), encoding="utf-8")))
    written.append(atomic_write(out / "results.xlsx", lambda p: _write_excel(tables, p)))
    written.append(atomic_write(out / "report.html", lambda p: write_report(result, p)))
    return written


def write_evaluation(ev: Evaluation, out_dir: str | Path) -> list[Path]:
    """Write ``evaluation.csv``, ``evaluation_population.csv`` and ``evaluation.html``, each atomically."""
    out = Path(out_dir)
    written = write_tables({"evaluation": ev.targets, "evaluation_population": ev.population}, out)
    written.append(atomic_write(out / "evaluation.html", lambda p: write_evaluation_report(ev, p)))
    return written
