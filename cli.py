"""healthsim command line: click commands and rich rendering only; the stages live in ``scenarios.run``.

Every command turns a bad input into one clear message (file, field, what was expected)
and exit status 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scenarios.amounts import parse_cny, parse_years
from scenarios.labels import LANGS, Labels, check_lang, resource_label
from scenarios.loader import builtin_names, load, resolve_path
from sim.referral import DEFAULT_SEED

# The engines (pandas, Pyomo, SciPy, SimPy) are imported inside the commands that use them, so that
# `healthsim --help` and `healthsim validate` start fast.

console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)


class UserError(Exception):
    """An input problem to report in one message (no traceback)."""


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Report known input errors as a clear message and exit status 2 (an infeasible plan: status 1)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            from scenarios.errors import infeasible_errors, input_errors

            if isinstance(exc, infeasible_errors()):
                from scenarios.report.words import diagnosis_words

                err_console.print(
                    f"[bold red]infeasible:[/] {escape(diagnosis_words(exc.diagnosis))}",
                    highlight=False,
                    soft_wrap=True,
                )
                sys.exit(1)
            if isinstance(exc, input_errors(UserError)):
                err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
                sys.exit(2)
            raise

    return wrapper


def _fmt(x: Any, digits: int = 0) -> str:
    try:
        if x != x:  # NaN
            return "-"
        return f"{x:,.{digits}f}"
    except (TypeError, ValueError):
        return str(x)


@click.group()
@click.version_option(package_name="healthsim")
def main() -> None:
    """healthsim: population projection, resource allocation and referral simulation for health plans."""


@main.command("scenarios")
@friendly
def scenarios_cmd() -> None:
    """List the built-in scenarios."""
    table = Table(title="Built-in scenarios")
    for col in ("name", "region", "level", "base year", "target year", "population (base)"):
        table.add_column(col, justify="right" if col.startswith(("base", "target", "pop")) else "left")
    for name in builtin_names():
        s = load(name)
        table.add_row(
            name,
            f"{s.region.name} ({s.region.name_cn})",
            s.region.level,
            str(s.base_year),
            str(s.target_year),
            _fmt(s.population.base.value),
        )
    console.print(table)


@main.command("validate")
@click.argument("file")
@friendly
def validate_cmd(file: str) -> None:
    """Check a scenario FILE (or built-in name) against the schema."""
    s = load(file)
    n_targets = sum(1 for r in s.resources.values() if r.target is not None)
    console.print(
        f"[green]ok[/] {file}: scenario '{s.id}', {s.region.name}, base {s.base_year}, target {s.target_year}, "
        f"{len(s.resources)} resources, {n_targets} resource targets, {len(s.indicators)} other indicators"
        + (f", {len(s.observed)} observed years" if s.observed else "")
        + (
            f"; next plan: {s.next_plan.name}, {s.next_plan.base_year}-{s.next_plan.target_year}, "
            f"{len(s.next_plan.targets)} targets"
            if s.next_plan
            else ""
        )
    )


@main.command("project")
@click.argument("scenario", default="conghua")
@click.option("--to", "to_year", type=int, default=None, help="Last year to project (default: the target year).")
@click.option(
    "--variant", default="medium", show_default=True, help="low, medium, high (or another defined variant), or 'all'."
)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option(
    "--uncalibrated", is_flag=True, help="Ignore the observed years: the scenario's assumed rates from the base year."
)
@friendly
def project_cmd(scenario: str, to_year: int | None, variant: str, fmt: str, uncalibrated: bool) -> None:
    """Project the resident population of SCENARIO (built-in name or .toml path)."""
    from scenarios.inputs.population import variant_names
    from scenarios.run.projection import projection_with_calibration

    s = load(scenario)
    result, cal = projection_with_calibration(s, to_year, variant_names(s, variant), not uncalibrated)
    df = result.table
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        fit = (
            None
            if cal is None
            else {
                "fitted_net_migration_rate": cal.fitted_rate,
                "assumed_net_migration_rate": cal.assumed_rate,
                "errors": cal.errors,
                "rms_error": cal.rms_error,
                "variant_rates": cal.variant_rates,
            }
        )
        click.echo(
            json.dumps(
                {
                    "scenario": s.id,
                    "method": result.method,
                    "calibration": fit,
                    "rows": json.loads(df.to_json(orient="records")),
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    table = Table(title=f"{s.region.name}: resident population, {result.method} method")
    for col in ("year", "variant", "kind", "population", "births", "deaths", "net migration", "60+ share", "65+ share"):
        table.add_column(col, justify="left" if col in ("variant", "kind") else "right")
    for row in df.itertuples(index=False):
        table.add_row(
            str(row.year),
            row.variant,
            row.kind,
            _fmt(row.population),
            _fmt(row.births),
            _fmt(row.deaths),
            _fmt(row.migration),
            _fmt(row.share_60plus * 100, 1),
            _fmt(row.share_65plus * 100, 1),
        )
    console.print(table)
    console.print(
        "Population: persons at year end; births, deaths, migration: flows during the year; shares in %. "
        "kind: observed = published figure; interpolated = between observed years; migration there is "
        "the residual."
    )
    for line in cal.describe() if cal is not None else []:
        console.print(line, highlight=False)


def _locked(out_dir: str | None) -> contextlib.AbstractContextManager:
    """Check and lock ``--out`` before any computing (nothing when no folder is given)."""
    from scenarios.files import output_lock

    return output_lock(out_dir) if out_dir is not None else contextlib.nullcontext()


SEED_OPTION = click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=DEFAULT_SEED,
    show_default=True,
    help="Seed of the random draws: a whole number from 0 to 4,294,967,295.",
)

BASIS = click.option(
    "--basis",
    type=click.Choice(["target", "need", "both"]),
    default=None,
    help="Plan to the targets, the projected need, or both (default: the scenario's plan.basis).",
)


def _problem(
    scenario: str,
    variant: str,
    budget: str | None,
    per_year: str | None,
    base: int | None = None,
    target: int | None = None,
    basis: str | None = None,
    mode: str | None = None,
):
    """The scenario (re-based with ``--base``/``--target``), its allocation problem and the resolved options."""
    from scenarios.run.options import PipelineOptions, resolve_options
    from scenarios.run.plan import problem_for
    from scenarios.run.rebase import plan_years, rebase

    s = load(scenario)
    years = plan_years(s, base, target)
    if years is not None:
        s, figures = rebase(s, years, resolve_path(scenario))
        _print_base(figures)
    o = resolve_options(
        s,
        PipelineOptions(
            variant=variant,
            budget=parse_cny(budget),
            mode=mode,
            basis=basis,
            budget_per_year=parse_cny(per_year, "--budget-per-year"),
        ),
    )
    return s, problem_for(s, o.variant, o.budget, o.budget_per_year, o.basis), o


def _print_base(figures) -> None:
    """The base-figures table of a re-based plan: which figure is observed, which projected."""
    year = int(figures["year"].iloc[0])
    table = Table(title=f"Base year {year}: observed and projected figures")
    for col in ("item", "value", "ratio", "kind", "basis"):
        table.add_column(col, justify="right" if col in ("value", "ratio") else "left")
    for row in figures.itertuples(index=False):
        kind = {"observed": "[green]observed[/]", "projected": "[yellow]projected[/]"}.get(row.kind, row.kind)
        table.add_row(
            resource_label(row.item) if row.item != "population" else "population",
            f"{_fmt(row.value)} {row.unit}",
            _fmt(row.ratio, 2),
            kind,
            row.basis,
        )
    console.print(table)
    console.print(
        "observed = a published figure (cited); projected = derived by healthsim (population: the "
        "calibrated projection; stocks: the previous plan's result).",
        highlight=False,
    )


BASE_HELP = (
    "Plan from this year: observed figures where published, else derived (population projected, stocks "
    "from the scenario's own plan). Default: the scenario's base year (or its next plan's)."
)
TARGET_HELP = "Plan to this year (default: the scenario's target year, or its next plan's)."


@main.command("optimize")
@click.argument("scenario", default="conghua")
@click.option(
    "--mode",
    type=click.Choice(["min-cost", "max-attainment"]),
    default=None,
    help="Default: the scenario's plan.mode (min-cost).",
)
@click.option("--budget", default=None, help="Plan-period budget, CNY (e.g. 2.5e9, 25亿).")
@click.option("--budget-per-year", default=None, help="Yearly budget cap, CNY.")
@click.option(
    "--integer",
    is_flag=True,
    help="Solve the MILP to the full time limit (default: whole units when the MILP finishes in seconds, "
    "else the LP rounded and repaired); reports the optimality gap.",
)
@click.option("--variant", default="medium", show_default=True, help="Population variant to plan for.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="Write the tables as CSV here.")
@click.option(
    "--export-model",
    "export",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the model as FILE.lp or FILE.mps.",
)
@click.option("--base", "base_year", type=int, default=None, help=BASE_HELP)
@click.option("--target", "target_year", type=int, default=None, help=TARGET_HELP)
@BASIS
@friendly
def optimize_cmd(
    scenario, mode, budget, budget_per_year, integer, variant, out_dir, export, base_year, target_year, basis
) -> None:
    """Allocate new beds and staff by year and tier to reach SCENARIO's targets (or its projected need)."""
    from optimize.solve import export_model, solve
    from scenarios.files import atomic_write, check_writable_file, write_plan

    if export:
        if Path(export).suffix.lower() not in (".lp", ".mps"):
            raise UserError(f"--export-model {export}: expected a file ending in .lp or .mps")
        check_writable_file(export, "--export-model")
    with _locked(out_dir):
        s, problem, o = _problem(scenario, variant, budget, budget_per_year, base_year, target_year, basis, mode)
        if export:
            whole = bool(integer or s.plan.whole_units)  # the model that made the plan: whole units are integers
            path = atomic_write(export, lambda p: export_model(problem, p, o.mode, whole))
            console.print(f"model written to {path}")
        plan = solve(problem, mode=o.mode, integer=True if integer else (None if s.plan.whole_units else False))
        _print_plan(s, plan, variant)
        if out_dir:
            paths = write_plan(plan, out_dir, s, variant)
            console.print(f"tables written: {', '.join(str(p) for p in paths)}")


def _print_plan(s, plan, variant: str) -> None:
    Y = s.target_year
    head = f"{s.region.name}: {plan.mode} plan to {Y} ({variant} population)"
    table = Table(title=head)
    for col in ("resource", "target", "nature", f"{s.base_year}", f"{Y} achieved", "attainment", "shortfall", "met"):
        table.add_column(col, justify="left" if col in ("resource", "nature") else "right")
    for row in plan.attainment.itertuples(index=False):
        share = row.measure == "private_share"
        val = (lambda v: f"{v:.1%}") if share else (lambda v: f"{v:.2f}")
        short = (
            "-"
            if row.met
            else (f"{row.shortfall_ratio:.1%}" if share else f"{row.shortfall_ratio:.3f} ({row.shortfall_units:,.0f})")
        )
        table.add_row(
            row.name,
            row.expr if share else f"{row.expr} {row.unit}",
            row.nature,
            val(row.baseline_ratio),
            val(row.achieved_ratio),
            f"{row.attainment * 100:.1f}%",
            short,
            "[green]yes[/]" if row.met else "[red]no[/]",
        )
    console.print(table)
    adds = plan.additions.pivot_table(index="kind", columns=["tier", "ownership"], values="added", aggfunc="sum")
    t2 = Table(title=f"Additions {s.base_year + 1}-{Y} (units, incl. replacement of leavers; private = 社会办医)")
    t2.add_column("resource")
    for tier, owner in adds.columns:
        t2.add_column(f"{tier} ({owner})" if owner != "public" else tier, justify="right")
    for kind, row in adds.iterrows():
        t2.add_row(resource_label(kind), *["-" if v != v else f"{v:,.0f}" for v in row])
    console.print(t2)
    by_year = plan.costs.groupby("year")[["capital_cny", "running_cny", "total_cny"]].sum()
    t3 = Table(title="Public cost by year (CNY million)")
    for col in ("year", "capital", "running", "total"):
        t3.add_column(col, justify="right")
    for year, row in by_year.iterrows():
        t3.add_row(
            str(year), f"{row.capital_cny / 1e6:,.1f}", f"{row.running_cny / 1e6:,.1f}", f"{row.total_cny / 1e6:,.1f}"
        )
    console.print(t3)
    from scenarios.report.words import cost_words, disinvestment_words, dual_words, units_words

    console.print(f"{s.base_year + 1}-{Y}: {cost_words(plan)}")
    console.print(units_words(plan))
    if disinvestment_words(plan):
        console.print(f"[yellow]{disinvestment_words(plan)}[/]")
    for text in dual_words(plan):
        console.print(f"  - {text}")
    console.print(
        f"[dim]build {plan.build_seconds:.2f} s, solve {plan.solve_seconds:.2f} s, "
        f"{plan.n_variables} variables, {plan.n_constraints} constraints[/]"
    )


@main.command("sweep")
@click.argument("scenario", default="conghua")
@click.option("--budget-from", "b_from", required=True, help="Lowest budget, CNY.")
@click.option("--budget-to", "b_to", required=True, help="Highest budget, CNY.")
@click.option("--steps", type=click.IntRange(2, 200), default=6, show_default=True)
@click.option("--variant", default="medium", show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write sweep.csv and sweep.html (and sweep.png when kaleido is installed) here.",
)
@click.option(
    "--lang", type=click.Choice(LANGS), default=None, help="Language of the chart (default: the scenario's, zh)."
)
@friendly
def sweep_cmd(scenario, b_from, b_to, steps, variant, out_dir, lang) -> None:
    """Attainment of each target of SCENARIO against the plan-period budget."""
    import numpy as np

    from optimize.sweep import budget_sweep
    from scenarios.report.outputs import write_sweep

    lo, hi = parse_cny(b_from, "--budget-from"), parse_cny(b_to, "--budget-to")
    if hi <= lo:
        raise UserError(f"--budget-to ({hi:,.0f}) must be above --budget-from ({lo:,.0f})")
    with _locked(out_dir):
        s, problem, o = _problem(scenario, variant, None, None, mode="min-cost")  # the sweep sets its own budgets
        table = budget_sweep(problem, np.linspace(lo, hi, steps))
        _print_sweep(s, table)
        if out_dir:
            lang = lang or o.lang
            L = Labels(lang)
            title = L.text("region_title", region=L.region(s.region), title=L.text("fig_sweep"))
            files = write_sweep(table, title, out_dir, lang)
            console.print(f"written: {', '.join(str(f) for f in files)}")


def _print_sweep(s, table) -> None:
    wide = table.pivot_table(index="budget_cny", columns="kind", values="attainment", sort=False)
    t = Table(title=f"{s.region.name}: attainment (%) of {s.target_year} targets by plan-period budget")
    t.add_column("budget (CNY million)", justify="right")
    for kind in wide.columns:
        t.add_column(resource_label(kind), justify="right")
    t.add_column("weighted score", justify="right")
    score = table.groupby("budget_cny")["score"].first()
    for b, row in wide.iterrows():
        if row.isna().all():
            t.add_row(f"{b / 1e6:,.0f}", *["no plan"] * len(row), "below the cost of keeping the base-year stock")
            continue
        t.add_row(f"{b / 1e6:,.0f}", *[f"{v * 100:.1f}" for v in row], f"{score[b] * 100:.1f}")
    console.print(t)


WORKERS_OPTION = click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Local processes for the simulation's replications and years (default: the cores).",
)

SIM_KPIS = [
    ("visits_total", "visits", 0),
    ("primary_share", "primary-care share of visits", 3),
    ("up_referrals", "up-referrals", 0),
    ("down_referrals", "down-referrals", 0),
    ("discharges", "discharges", 0),
    ("in_area_rate", "in-area care rate", 4),
    ("leakage", "leakage (patients)", 0),
    ("wait_primary_mean_days", "primary wait, mean (days)", 3),
    ("wait_primary_p95_days", "primary wait, p95 (days)", 3),
    ("wait_hospital_mean_days", "outpatient wait, mean (days)", 3),
    ("bed_wait_mean_days", "bed wait, mean (days)", 3),
    ("bed_wait_p95_days", "bed wait, p95 (days)", 3),
    ("occupancy_hospital", "hospital bed occupancy", 3),
    ("occupancy_primary", "primary-care bed occupancy", 3),
]


@main.command("simulate")
@click.argument("scenario", default="conghua")
@click.option(
    "--plan",
    "plan_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder written by 'healthsim optimize --out': capacities by year from the plan.",
)
@click.option(
    "--years", default=None, help="Years to simulate, e.g. 2021-2025 (default: base year, or the plan's years)."
)
@click.option("--replications", type=click.IntRange(1, 1000), default=5, show_default=True)
@SEED_OPTION
@click.option(
    "--flows-only", is_flag=True, help="Simulate only admissions and referrals; count single consults (city scale)."
)
@WORKERS_OPTION
@click.option(
    "--scheduler", default=None, help="Run the replications on an existing Dask scheduler, e.g. tcp://host:8786."
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), default=None, help="Write runs.csv and summary.csv here."
)
@friendly
def simulate_cmd(scenario, plan_dir, years, replications, seed, flows_only, workers, scheduler, out_dir) -> None:
    """Simulate patient flows in SCENARIO's medical alliances (SimPy)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from scenarios.files import read_plan_capacities, write_tables
    from scenarios.run.simulation import FULL_CONSULT_SECONDS, SimulationRequest, simulate_years

    with _locked(out_dir):
        s = load(scenario)
        plan = read_plan_capacities(plan_dir, s) if plan_dir else None
        default = sorted(y for y in plan if y > s.base_year) if plan else [s.base_year]
        yrs = parse_years(years, default, within=(s.base_year, s.base_year + 100))
        request = SimulationRequest(
            yrs, replications, seed, True if flows_only else None, workers=workers, scheduler=scheduler
        )
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeRemainingColumn(),
            console=err_console,
        ) as bar:
            task = bar.add_task(f"simulating {s.id}", total=len(yrs) * replications)
            result, used_flows_only = simulate_years(s, request, plan, progress=lambda: bar.advance(task))
        if used_flows_only and not flows_only:
            console.print(
                f"[yellow]Queuing every consult would take over {FULL_CONSULT_SECONDS:.0f} s here: simulated "
                "admissions and referrals only (--flows-only); consult waits are not simulated.[/]"
            )
        summary = result.summary()
        _print_simulation(s, summary, yrs, replications, seed, result.not_simulated)
        if out_dir:
            paths = write_tables({"runs": result.runs, "summary": summary}, out_dir)
            console.print(f"written: {', '.join(str(p) for p in paths)}")


def _print_simulation(s, summary, yrs, replications, seed, not_simulated=frozenset()) -> None:
    table = Table(
        title=f"{s.region.name}: referral KPIs per year (mean and 95% CI over {replications} replications, seed {seed})"
    )
    table.add_column("KPI")
    for y in yrs:
        table.add_column(str(y), justify="right")
    for key, label, digits in SIM_KPIS:
        cells = []
        for y in yrs:
            row = summary[(summary["year"] == y) & (summary["kpi"] == key)].iloc[0]
            if key in not_simulated or row["mean"] != row["mean"]:
                cells.append("not simulated" if key in not_simulated else "-")
                continue
            half = "" if row.half_width != row.half_width else f" ± {row.half_width:,.{digits}f}"
            cells.append(f"{row['mean']:,.{digits}f}{half}")
        table.add_row(label, *cells)
    console.print(table)


LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(LANGS),
    default=None,
    help="Language of the report and workbook (default: the scenario's report.lang, zh).",
)


class StageProgress:
    """Progress of the pipeline's stages: a rich bar with percentage and time left in a terminal,
    one plain line per stage start and end otherwise (logs, pipes)."""

    def __init__(self, lang: str | None = None):
        import time

        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.L, self.clock, self.started = Labels(check_lang(lang)), time.perf_counter, {}
        self.tasks: dict[str, Any] = {}
        self.bar = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=err_console,
            )
            if err_console.is_terminal
            else None
        )
        self.prefix = ""

    def __enter__(self) -> StageProgress:
        if self.bar:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar:
            self.bar.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        key, label = f"{self.prefix}{stage}", f"{self.prefix}{self.L.stage(stage)}"
        if self.bar is not None:
            if key not in self.tasks:
                self.tasks[key] = self.bar.add_task(label, total=total)
            self.bar.update(self.tasks[key], completed=done, total=total)
            return
        if key not in self.started:
            self.started[key] = self.clock()
            err_console.print(f"{label} ...", highlight=False)
        elif done >= total:
            err_console.print(f"{label}: {done}/{total} in {self.clock() - self.started[key]:.1f} s", highlight=False)
        sys.stderr.flush()


@main.command("run")
@click.argument("scenario", default="conghua")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/run", show_default=True)
@click.option("--budget", default=None, help="Plan-period budget, CNY (default: the scenario's).")
@click.option("--variant", default="medium", show_default=True)
@click.option("--replications", type=click.IntRange(1, 1000), default=3, show_default=True)
@SEED_OPTION
@click.option("--no-simulate", is_flag=True, help="Skip the referral simulation.")
@click.option(
    "--full-simulation",
    is_flag=True,
    help="Queue every consult even where it takes minutes (default: wherever it fits about a minute).",
)
@WORKERS_OPTION
@click.option("--base", "base_year", type=int, default=None, help=BASE_HELP)
@click.option("--target", "target_year", type=int, default=None, help=TARGET_HELP)
@click.option(
    "--uncalibrated", is_flag=True, help="Project with the scenario's own rates, not fitted to the observed years."
)
@LANG_OPTION
@BASIS
@click.option("--no-replan", is_flag=True, help="Skip the plan -> simulate -> re-plan loop.")
@friendly
def run_cmd(
    scenario,
    out_dir,
    budget,
    variant,
    replications,
    seed,
    no_simulate,
    full_simulation,
    workers,
    base_year,
    target_year,
    uncalibrated,
    lang,
    basis,
    no_replan,
) -> None:
    """Projection -> optimizer <-> simulation (re-plan to the service standards) -> report, for SCENARIO."""
    from scenarios.report.outputs import write_outputs
    from scenarios.report.words import diagnosis_words, outlook_sentences, run_note, uncertainty_words
    from scenarios.run.options import PipelineOptions, resolve_options
    from scenarios.run.pipeline import run_pipeline

    with _locked(out_dir):
        s = load(scenario)
        opts = PipelineOptions(
            variant=variant,
            budget=parse_cny(budget),
            replications=replications,
            seed=seed,
            simulate=not no_simulate,
            flows_only=False if full_simulation else None,
            workers=workers,
            base_year=base_year,
            target_year=target_year,
            scenario_file=str(resolve_path(scenario)),
            lang=lang,
            calibrated=not uncalibrated,
            basis=basis,
            replan=not no_replan,
        )
        opts = resolve_options(s, opts)  # budget, mode, basis and language decided here, once
        lang = opts.lang
        with StageProgress(lang) as progress:
            result = run_pipeline(s, opts, progress=progress)
            progress("writing", 0, 1)
            files = write_outputs(result, out_dir, lang)
            progress("writing", 1, 1)
        if result.diagnosis:
            err_console.print(f"[yellow]{escape(diagnosis_words(result.diagnosis))}[/]", highlight=False)
        if result.base_figures is not None:
            _print_base(result.base_figures)
        for line in result.calibration.describe() if result.calibration else []:
            console.print(line, highlight=False)
        _print_plan(result.scenario, result.plan, variant)
        for text in outlook_sentences(result.outlook, Labels("en")):
            console.print(f"[yellow]unmet:[/] {escape(text)}", highlight=False)
        _print_demand(result.scenario, result)
        if result.uncertainty is not None:
            u = result.uncertainty
            console.print(
                f"[bold]Uncertainty[/] ({u.options.draws} draws; 'healthsim uncertainty {result.scenario.id}' "
                "for more):",
                highlight=False,
            )
            for text in (words := uncertainty_words(u, Labels("en")))[:1] + words[-2:]:
                console.print(f"  {escape(text)}", highlight=False)
        console.print(f"[green]{run_note(result)}[/]")
        console.print(f"written to {out_dir}: {', '.join(p.name for p in files)}")


@main.command("evaluate")
@click.argument("scenario", default="conghua")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write evaluation.csv, evaluation_population.csv and evaluation.html here.",
)
@friendly
def evaluate_cmd(scenario, out_dir) -> None:
    """Final evaluation of SCENARIO's plan: each target against the latest observed year."""
    from scenarios.run.evaluation import NOT_OBSERVED, evaluate

    with _locked(out_dir):
        ev = evaluate(load(scenario))
        s = ev.scenario
        t = Table(
            title=f"{s.region.name}: evaluation of the {s.base_year + 1}-{s.target_year} plan against observed years"
        )
        for col in (
            "resource",
            "target",
            "nature",
            f"{s.base_year}",
            "observed",
            "milestone",
            "status",
            "gap to milestone",
            "gap to target",
            f"short in {s.target_year}",
        ):
            t.add_column(col, justify="left" if col in ("resource", "nature", "status") else "right")
        colour = {"achieved": "green", "on track": "cyan", "behind": "red", NOT_OBSERVED: "dim"}
        for r in ev.targets.itertuples(index=False):
            seen = r.status != NOT_OBSERVED
            t.add_row(
                resource_label(r.kind),
                f"{r.expr} {r.unit.replace('_', ' ')}",
                r.nature,
                f"{r.base_ratio:.2f}",
                f"{r.observed_ratio:.2f} ({int(r.year)})" if seen else "-",
                f"{r.milestone_ratio:.2f}" if seen else "-",
                f"[{colour[r.status]}]{r.status}[/]",
                *(
                    f"{_fmt(v)} {r.units}" if seen else "-"
                    for v in (r.gap_to_milestone, r.gap_to_target, r.short_in_target_year)
                ),
            )
        console.print(t)
        console.print(
            f"milestone: the straight line from the {s.base_year} ratio to the target, in the observed year; "
            f"gaps in beds or persons at that year's population; short in {s.target_year}: at the projected "
            "population if the stock stayed at its observed level.",
            highlight=False,
        )
        if len(ev.population):
            p = Table(title="Resident population: observed against the scenario's assumed rates")
            for col in ("year", "observed", "assumed", "difference", "source"):
                p.add_column(col, justify="left" if col == "source" else "right")
            for r in ev.population.itertuples(index=False):
                p.add_row(str(r.year), _fmt(r.observed), _fmt(r.assumed), f"{r.difference * 100:+.1f}%", r.reference)
            console.print(p)
        for line in ev.calibration.describe() if ev.calibration else ["No observed population after the base year."]:
            console.print(line, highlight=False)
        if out_dir:
            from scenarios.report.outputs import write_evaluation

            files = write_evaluation(ev, out_dir)
            console.print(f"written to {out_dir}: {', '.join(p.name for p in files)}")


@main.command("compare")
@click.argument("refs", nargs=-1, required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/compare", show_default=True)
@click.option("--replications", type=click.IntRange(1, 1000), default=3, show_default=True)
@SEED_OPTION
@click.option("--no-simulate", is_flag=True, help="Skip the referral simulation of scenarios that are run.")
@LANG_OPTION
@friendly
def compare_cmd(refs, out_dir, replications, seed, no_simulate, lang) -> None:
    """Compare scenarios side by side: REFS are built-in names, scenario files or result folders of 'healthsim run'."""

    from scenarios.report.compare import differences_table, write_comparison
    from scenarios.run.compare import resolve
    from scenarios.run.options import PipelineOptions

    if len(refs) < 2:
        raise UserError(
            f"compare: got {len(refs)} scenario; expected two or more (names, .toml files or result folders)"
        )
    opts = PipelineOptions(replications=replications, seed=seed, simulate=not no_simulate, lang=lang)
    records = []
    with _locked(out_dir):
        with StageProgress(lang) as progress:
            for ref in refs:
                progress.prefix = f"{Path(ref).stem}: "
                records.append(resolve(ref, opts, progress))
        files = write_comparison(records, out_dir, lang)
    diff = differences_table(records)
    if diff.empty:
        console.print(
            f"No input field differs between {', '.join(r.name for r in records)}: they are the same "
            f"scenario as given. written to {out_dir}: {', '.join(p.name for p in files)}",
            highlight=False,
        )
        return
    table = Table(title=f"{len(diff)} field(s) differ between {', '.join(r.name for r in records)}")
    for col in diff.columns:
        table.add_column(col, overflow="fold")
    for row in diff.fillna("").itertuples(index=False):
        table.add_row(*[str(v) for v in row])
    console.print(table)
    console.print(f"written to {out_dir}: {', '.join(p.name for p in files)}")


@main.command("whatif")
@click.argument("base")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A changed field, dotted (repeatable): population.net_migration_rate=8, plan.budget_total=25亿, "
    "resources.beds.target.expr=7.0, resources.beds.target.nature=binding, "
    "constraints.enabled.hiring_limits=false.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the what-if here (default: print it).",
)
@click.option("--id", "wid", default=None, help="Scenario id of the what-if (default: the file's name).")
@click.option(
    "--force", is_flag=True, help="Replace --out even when it is a built-in or a file healthsim did not write."
)
@friendly
def whatif_cmd(base, settings, out_file, wid, force) -> None:
    """Save BASE with changed fields as a what-if file that extends BASE (what the workbench saves).

    --out never replaces BASE or a file BASE extends; without --force, never a built-in scenario nor a file
    that is not a what-if written by healthsim."""
    from scenarios.loader import load_raw
    from scenarios.schema import name_problem
    from scenarios.whatif import (
        changed_fields,
        dumps_whatif,
        override_for,
        parse_settings,
        save_whatif,
        whatif_document,
    )

    if wid is not None and (problem := name_problem(wid)):
        raise UserError(f"--id {wid!r}: {problem.removesuffix(f', got {wid!r}')}")
    data, _ = load_raw(base)
    edits = parse_settings(list(settings), data)
    fields = changed_fields(override_for(data, edits))
    if out_file is None:
        click.echo(dumps_whatif(whatif_document(base, edits, wid)), nl=False)
        return
    path = save_whatif(base, edits, out_file, wid, force=force)
    console.print(
        f"written {path}: extends {base}; changed: {', '.join(fields) or 'nothing'}. Run it with: healthsim run {path}",
        highlight=False,
    )


@main.command("app")
@click.argument("scenario", default="conghua")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@friendly
def app_cmd(scenario, port) -> None:
    """Open the what-if workbench on SCENARIO in the browser (local only, http://127.0.0.1:PORT)."""
    import os
    import signal
    import subprocess

    load(scenario)  # a bad name or file is reported here, not in the browser
    _check_port(port)
    app = Path(__file__).resolve().with_name("app.py")
    env = {**os.environ, "HEALTHSIM_SCENARIO": scenario}
    console.print(f"healthsim workbench on http://127.0.0.1:{port} (Ctrl+C stops it)")
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopping healthsim stops the server too
    server = subprocess.Popen(cmd, env=env)
    try:
        sys.exit(server.wait())
    except KeyboardInterrupt:  # Ctrl+C reaches the server too; let it finish
        sys.exit(server.wait())
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=20)


def _check_port(port: int) -> None:
    """Refuse a port another program listens on, before announcing the workbench's address."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise UserError(
                f"--port {port}: 127.0.0.1:{port} is in use ({exc.strerror or exc}); expected a free "
                f"port, e.g. --port {port + 1 if port < 65535 else 8502}"
            ) from None


def _print_demand(s, result) -> None:
    """Need, target and plan by year; the re-plan iterations; tiered care on the plan."""
    from scenarios.report.words import overbuilt_words, replan_table, replan_words

    if result.need is not None:
        nd = result.need[result.need["tier"] == "all"].dropna(subset=["need"])
        years = sorted(nd["year"].unique())
        t = Table(
            title=f"{s.region.name}: need (from the projected residents), target and plan by year "
            f"(basis: {result.demand_summary()['basis']})"
        )
        t.add_column("resource")
        t.add_column("")
        for y in years:
            t.add_column(str(y), justify="right")
        for kind, df in nd.groupby("kind", sort=False):
            df = df.set_index("year")
            for col in ("need", "target", "plan"):
                at_most = col == "target" and (df["target_sense"] == "ceiling").any()
                t.add_row(
                    resource_label(kind) if col == "need" else "",
                    "target (at most)" if at_most else col,
                    *[_fmt(df.loc[y, col]) for y in years],
                )
        console.print(t)
    if result.replan is not None:
        r = result.replan
        t = Table(title=f"Plan -> simulate -> re-plan ({s.target_year}): {r.count} iteration(s)")
        for col in ("iteration", "tier", "beds", "occupancy", "p95 bed wait (days)", "action"):
            t.add_column(col, justify="left" if col in ("tier", "action") else "right")
        for row in replan_table(r.iterations).itertuples():
            t.add_row(
                str(row.iteration),
                row.tier,
                _fmt(row.beds),
                f"{row.occupancy:.1%}",
                _fmt(row.bed_wait_p95_days, 2),
                row.action,
            )
        console.print(t)
        console.print(("[green]" if r.converged else "[yellow]") + replan_words(r) + "[/]", highlight=False)
        for flag in overbuilt_words(r.flags):
            console.print(f"[yellow]{flag}[/]", highlight=False)
    care = result.demand_summary().get("tiered_care")
    if care:
        a, b = care[0], care[-1]
        console.print(
            f"Tiered care (分级诊疗) on the plan: primary-care share of visits {a['primary_share_simulated']:.1%} "
            f"({a['year']}) -> {b['primary_share_simulated']:.1%} ({b['year']}); in-area care rate "
            f"{a['in_area_rate_simulated']:.1%} -> {b['in_area_rate_simulated']:.1%}.",
            highlight=False,
        )


@main.command("uncertainty")
@click.argument("scenario", default="conghua")
@click.option("--draws", type=click.IntRange(1, 1_000_000), default=1000, show_default=True, help="Drawn futures.")
@click.option(
    "--plan",
    "plan_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="A plan written by 'healthsim optimize --out DIR' (default: the scenario's own plan).",
)
@click.option(
    "--robust",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.9,
    show_default=True,
    help="Share of draws the robust plan must meet every target in.",
)
@SEED_OPTION
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes solving the draws (the numbers do not depend on it).",
)
@click.option(
    "--scheduler",
    default=None,
    help="Solve the draws on an existing Dask scheduler, e.g. tcp://host:8786 (for many draws).",
)
@click.option("--budget", default=None, help="Plan-period budget, CNY (default: the scenario's).")
@click.option("--no-solve", is_flag=True, help="Skip the least-cost plan of each draw (one LP a draw).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/uncertainty", show_default=True)
@LANG_OPTION
@friendly
def uncertainty_cmd(
    scenario, draws, plan_dir, robust, seed, workers, scheduler, budget, no_solve, out_dir, lang
) -> None:
    """How likely SCENARIO's plan is to meet its targets over drawn futures, and what a robust plan costs."""
    if draws < 2:
        raise UserError(
            f"--draws {draws}: one draw gives a probability of 0 or 1 with no spread (it would print "
            "± 0.0%); expected at least 2 draws (100 or more for a 95% half-width under 10 points)"
        )
    with _locked(out_dir):
        _uncertainty(scenario, draws, plan_dir, robust, seed, workers, scheduler, budget, no_solve, out_dir, lang)


def _uncertainty(scenario, draws, plan_dir, robust, seed, workers, scheduler, budget, no_solve, out_dir, lang) -> None:
    from scenarios.files import read_plan
    from scenarios.report.outputs import write_uncertainty
    from scenarios.report.words import target_text, uncertainty_words
    from scenarios.run.plan import plan_or_best_reachable
    from scenarios.run.uncertainty import UncertaintyOptions, run_uncertainty

    if scheduler and not no_solve:
        from scenarios.run.batch import connect

        connect(scheduler).close()  # one line within seconds when it cannot be reached, before any work

    s, problem, o = _problem(scenario, "medium", budget, None)
    with err_console.status("uncertainty") as status:
        if plan_dir:
            plan = read_plan(plan_dir, problem)
        else:
            status.update(f"{s.id}: plan")
            plan = plan_or_best_reachable(problem, o.mode, s.plan.whole_units).plan
        status.update(f"{s.id}: {draws:,} draws")
        opts = UncertaintyOptions(
            draws=draws, seed=seed, share=robust, workers=workers, solve=not no_solve, scheduler=scheduler
        )
        result = run_uncertainty(s, problem, plan, opts)
    t = Table(title=f"{s.region.name}: probability of meeting each {s.target_year} target ({draws:,} draws)")
    for col in ("target", "this plan", f"robust plan ({robust:.0%})"):
        t.add_column(col, justify="left" if col == "target" else "right")
    for row in result.probabilities.itertuples(index=False):
        rob = getattr(row, "robust_probability", float("nan"))
        t.add_row(target_text(row, Labels("en")), f"{row.probability:.1%}", f"{rob:.1%}" if rob == rob else "-")
    console.print(t)
    for text in uncertainty_words(result, Labels("en")):
        console.print(text, highlight=False)
    lang = lang or o.lang
    L = Labels(lang)
    title = L.text("uncertainty_title", region=L.region(s.region), year=s.target_year)
    files = write_uncertainty(result, title, out_dir, lang)
    console.print(
        f"{result.seconds:.1f} s, {result.solves:,} LP solves; written to {out_dir}: {', '.join(p.name for p in files)}"
    )


@main.command("batch")
@click.argument("scenarios", nargs=-1, required=True)
@click.option(
    "--grid", "grid_file", type=click.Path(dir_okay=False), default=None, help="Grid TOML with an [axes] table."
)
@click.option(
    "--workers", type=click.IntRange(1, 256), default=None, help="Local worker processes (default: the cores)."
)
@click.option("--scheduler", default=None, help="Address of an existing Dask scheduler, e.g. tcp://host:8786.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/batch", show_default=True)
@click.option("--resume", is_flag=True, help="Skip jobs whose result is already in --out.")
@click.option("--simulate", is_flag=True, help="Also run one replication of the referral simulation per job.")
@SEED_OPTION
@friendly
def batch_cmd(scenarios, grid_file, workers, scheduler, out_dir, resume, simulate, seed) -> None:
    """Run many SCENARIOS (folders, globs, files, built-in names, or 'builtin') and their grid in parallel."""
    import os

    import pandas as pd
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from scenarios.run.batch import BatchError, expand_jobs, find_scenarios, load_grid, run_batch

    try:
        refs = [r for spec in scenarios for r in find_scenarios(spec)]
        jobs = expand_jobs(refs, load_grid(grid_file), grid_file)
    except BatchError as exc:
        raise UserError(str(exc)) from None
    workers = workers or (os.cpu_count() or 1)
    where = scheduler or f"{workers} local process(es)"
    with _locked(out_dir):
        console.print(f"{len(jobs)} jobs ({len(refs)} scenario(s) x grid) on {where}; results in {out_dir}")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err_console,
        ) as bar:
            task = bar.add_task("batch", total=len(jobs))

            def progress(done: int, total: int, msg: str) -> None:
                bar.update(task, completed=done, description=f"batch: {msg[:40]}")

            try:
                table = run_batch(jobs, out_dir, workers, scheduler, resume, simulate, seed, progress)
            except BatchError as exc:
                raise UserError(str(exc)) from None
    show = Table(title=f"Ranking ({len(table)} jobs; attainment first, then cost; jobs with other targets unranked)")
    for col in ("rank", "job", "grid", "status", "score", "cost (CNY M)", "all met"):
        show.add_column(col, justify="right" if col in ("rank", "score", "cost (CNY M)") else "left")
    for row in table.head(25).itertuples(index=False):
        ok = row.status == "ok"
        status = (
            (f"[yellow]targets differ: {row.targets_differ}[/]" if row.targets_differ else "ok")
            if ok
            else f"[red]{row.status}[/]"
        )
        show.add_row(
            "-" if pd.isna(row.rank) else str(row.rank),
            row.job_id,
            row.grid[:50],
            status,
            f"{row.attainment_score * 100:.1f}%" if ok else "-",
            f"{row.total_cost_cny / 1e6:,.0f}" if ok else "-",
            ("yes" if row.all_targets_met else "no") if ok else "-",
        )
    console.print(show)
    errors = table[table["status"] == "error"]
    for row in errors.itertuples(index=False):
        err_console.print(f"[red]{row.job_id}[/]: {escape(str(row.error))}", highlight=False)
    console.print(f"ranking written to {Path(out_dir) / 'ranking.csv'}")
    if len(errors):
        sys.exit(1)


if __name__ == "__main__":
    main()
