"""healthsim command line: scenarios, validation, projection, optimisation, simulation.

Every command turns a bad input into one clear message (file, field, what was expected)
and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.table import Table

from scenarios.loader import ScenarioError, builtin_names, load
from sim.population import ProjectionError, project

console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)


class UserError(Exception):
    """An input problem to report in one message (no traceback)."""


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Report known input errors as a clear message and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ScenarioError, ProjectionError, UserError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(2)

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
            name, f"{s.region.name} ({s.region.name_cn})", s.region.level, str(s.base_year),
            str(s.target_year), _fmt(s.population.base.value),
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
    )


@main.command("project")
@click.argument("scenario", default="conghua")
@click.option("--to", "to_year", type=int, default=None, help="Last year to project (default: the target year).")
@click.option("--variant", default="medium", show_default=True, help="low, medium, high (or another defined variant), or 'all'.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@friendly
def project_cmd(scenario: str, to_year: int | None, variant: str, fmt: str) -> None:
    """Project the resident population of SCENARIO (built-in name or .toml path)."""
    s = load(scenario)
    variants = ["medium", *s.population.variants] if variant == "all" else [variant]
    result = project(s, to_year, variants)
    df = result.table
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        click.echo(json.dumps({"scenario": s.id, "method": result.method,
                               "rows": json.loads(df.to_json(orient="records"))}, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"{s.region.name}: resident population, {result.method} method")
    for col in ("year", "variant", "population", "births", "deaths", "net migration", "60+ share", "65+ share"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for row in df.itertuples(index=False):
        table.add_row(
            str(row.year), row.variant, _fmt(row.population), _fmt(row.births), _fmt(row.deaths),
            _fmt(row.migration), _fmt(row.share_60plus * 100, 1), _fmt(row.share_65plus * 100, 1),
        )
    console.print(table)
    console.print("Population: persons at year end; births, deaths, migration: flows during the year; shares in %.")


if __name__ == "__main__":
    main()
