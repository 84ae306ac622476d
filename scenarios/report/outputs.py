"""Everything a run leaves on disk for a person: CSV tables, ``summary.json``, the workbook and the HTML
pages of a run, a sweep, an evaluation and a Monte Carlo study, each written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from scenarios.files import PLAN_MANIFEST, _write_json, atomic_write, plan_manifest, staged, write_tables
from scenarios.labels import Labels
from scenarios.report.words import (
    assumption_table,
    diagnosis_words,
    outlook_sentences,
    overbuilt_words,
    replan_table,
    replan_words,
    run_note,
    uncertainty_words,
    worded_tables,
)

if TYPE_CHECKING:
    from scenarios.run.evaluation import Evaluation
    from scenarios.run.pipeline import PipelineResult
    from scenarios.run.uncertainty import UncertaintyResult


def write_uncertainty(result: UncertaintyResult, title: str, out_dir: str | Path, lang: str = "zh") -> list[Path]:
    """Write the uncertainty tables (CSV), ``uncertainty.json`` and the charts (``uncertainty.html``), atomically."""
    from scenarios.report.html import write_uncertainty_html

    out = Path(out_dir)
    tables = {**result.tables(), "uncertainty_assumptions": assumption_table(result, Labels("en"))}
    written = write_tables(tables, out)
    written.append(
        atomic_write(
            out / "uncertainty.json",
            lambda p: p.write_text(
                json.dumps(uncertainty_summary(result), ensure_ascii=False, indent=1, default=float), encoding="utf-8"
            ),
        )
    )
    written.append(atomic_write(out / "uncertainty.html", lambda p: write_uncertainty_html(result, title, p, lang)))
    return written


def write_outputs(result: PipelineResult, out_dir: str | Path, lang: str | None = None) -> list[Path]:
    """Write CSV tables (shadow prices and the outlook with their English words), summary.json, plan.json,
    scenario.json (the scenario as run, with every source), the Excel workbook and the HTML report (in ``lang``,
    default the run's), staged and swapped in whole (:func:`scenarios.files.staged`): files a previous, wider
    run left are removed."""
    from scenarios.report.html import write_report
    from scenarios.report.workbook import write_workbook

    en = Labels("en")
    with staged(out_dir) as out:  # swapped in whole: never a mix of two runs, nothing left from a wider run
        tables = worded_tables(result.tables(), result.plan, en)
        if result.uncertainty is not None:
            tables["uncertainty_assumptions"] = assumption_table(result.uncertainty, en)
        if result.replan is not None:
            tables["replan"] = replan_table(result.replan.iterations, en)
        written = write_tables(tables, out)
        summary = result.summary()  # the diagnosis and the outlook in English sentences, as summary.json has them
        summary["plan_note"] = run_note(result, en)
        if result.replan is not None:  # the loop's end and the overbuilt tiers in English, as always
            loop = summary["demand"]["replan"]
            loop.pop("stop")
            loop.update(message=replan_words(result.replan, en), overbuilt=overbuilt_words(result.replan.flags, en))
        summary["diagnosis"] = None if result.diagnosis is None else diagnosis_words(result.diagnosis, en)
        summary["outlook"] = outlook_sentences(result.outlook, en)
        if result.uncertainty is not None:
            summary["uncertainty"] = uncertainty_summary(result.uncertainty)
        written.append(_write_json(out / "summary.json", summary))
        manifest = plan_manifest(result.scenario, result.plan, result.options.variant)
        written.append(_write_json(out / PLAN_MANIFEST, manifest))
        written.append(
            atomic_write(
                out / "scenario.json",
                lambda p: p.write_text(
                    json.dumps(result.scenario.model_dump(), ensure_ascii=False, indent=1), encoding="utf-8"
                ),
            )
        )
        written.append(atomic_write(out / "results.xlsx", lambda p: write_workbook(result, p, lang)))
        written.append(atomic_write(out / "report.html", lambda p: write_report(result, p, lang)))
    return [Path(out_dir) / p.name for p in written]


def write_evaluation(ev: Evaluation, out_dir: str | Path) -> list[Path]:
    """Write ``evaluation.csv``, ``evaluation_population.csv`` and ``evaluation.html``, each atomically."""
    from scenarios.report.html import write_evaluation_report

    out = Path(out_dir)
    written = write_tables({"evaluation": ev.targets, "evaluation_population": ev.population}, out)
    written.append(atomic_write(out / "evaluation.html", lambda p: write_evaluation_report(ev, p)))
    return written


def write_sweep(table: pd.DataFrame, title: str, out_dir: str | Path, lang: str = "en") -> list[Path]:
    """Write a budget sweep as ``sweep.csv`` and ``sweep.html`` (and ``sweep.png`` when kaleido works)."""
    from scenarios.report.html import sweep_page

    out = Path(out_dir)
    written = write_tables({"sweep": table}, out)
    fig, page = sweep_page(table, title, lang)
    written.append(atomic_write(out / "sweep.html", lambda p: p.write_text(page, encoding="utf-8")))
    try:
        written.append(atomic_write(out / "sweep.png", lambda p: fig.write_image(str(p), width=1000, height=600)))
    except Exception:  # kaleido (a browser engine) is optional; the HTML chart stands on its own
        pass
    return written


def uncertainty_summary(u: UncertaintyResult) -> dict:
    """``u``'s headline figures (JSON-ready) with its sentences in English under ``words``."""
    return {**u.summary(), "words": uncertainty_words(u, Labels("en"))}
