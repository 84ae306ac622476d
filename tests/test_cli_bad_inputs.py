"""Every kind of bad input the command line is tested with: one clear message, never a traceback.

Each case runs in-process through click's runner. docs/bad-inputs.md lists the same cases with
the message each gives; regenerate it with ``HEALTHSIM_UPDATE_DOCS=1 python -m pytest tests/test_cli_bad_inputs.py``.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest
from click.testing import CliRunner
from filelock import FileLock

from cli import main

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad-inputs.md"
GRID = "scenarios/builtin/grids/example.toml"
RENHE = 'extend = "renhe"\n'
CONGHUA = 'extend = "conghua"\n'
MESSAGES: dict[str, str] = {}  # case id -> the message it gave (for the docs)


@dataclass
class Case:
    id: str
    what: str
    argv: list[str]  # "{f}" = the case's file, "{tmp}" = its folder, "{plan}" = a copy of a renhe plan folder
    expect: str  # a fragment of the message
    files: dict[str, str | bytes | None] = field(default_factory=dict)  # written under {tmp} (plan files under {plan})
    code: int = 2
    setup: Callable[[Path, pytest.MonkeyPatch], object] | None = None
    check: Callable[[Path], None] | None = None


def scen(case_id: str, what: str, toml: str, expect: str) -> Case:
    """A scenario file that ``validate`` refuses."""
    return Case(case_id, what, ["validate", "{f}"], expect, {"case.toml": toml})


def plan_case(
    case_id: str, what: str, files: dict[str, str | bytes | None], expect: str, scenario: str = "renhe"
) -> Case:
    """A plan folder (a copy of ``optimize renhe --out``) with files replaced, read by ``simulate --plan``."""
    return Case(
        case_id,
        what,
        ["simulate", scenario, "--plan", "{plan}", "--replications", "1", "--flows-only"],
        expect,
        {f"plan/{k}": v for k, v in files.items()},
    )


def _hold_lock(tmp: Path, _mp: pytest.MonkeyPatch) -> FileLock:
    (tmp / "out").mkdir()
    lock = FileLock(tmp / "out" / ".healthsim.lock", timeout=0)
    lock.acquire()
    return lock


def _disk_full(_tmp: Path, mp: pytest.MonkeyPatch) -> None:
    real = pd.DataFrame.to_csv
    calls = []

    def to_csv(self, path=None, *a, **k):
        calls.append(path)
        if len(calls) == 2:  # the second table: the first is already in place
            Path(path).write_text("half a ta")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, path, *a, **k)

    mp.setattr(pd.DataFrame, "to_csv", to_csv)


def _nothing_half_written(tmp: Path) -> None:
    out = tmp / "out"
    assert not list(out.rglob(".tmp-*")), "a temporary file was left behind"
    # the plan is staged and swapped in whole: the folder keeps what it had (here nothing), never part of a plan
    assert not (out / "additions.csv").exists() and not (out / "stocks.csv").exists()


class _Busy:
    """A listening socket on a port (released by the test)."""

    def __init__(self, port: int):
        import socket

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen()

    def release(self) -> None:
        self.sock.close()


BUSY_PORT = 18517


def _busy_port(_tmp: Path, _mp: pytest.MonkeyPatch) -> _Busy:
    return _Busy(BUSY_PORT)


def _plan_edit(edit: Callable[[list[str]], list[str]]) -> Callable[[Path, pytest.MonkeyPatch], None]:
    """A setup that rewrites the copied plan's stocks.csv lines with ``edit``."""

    def setup(tmp: Path, _mp: pytest.MonkeyPatch) -> None:
        path = tmp / "plan" / "stocks.csv"
        path.write_text("\n".join(edit(path.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8")

    return setup


def _plan_incomplete(tmp: Path, _mp: pytest.MonkeyPatch) -> None:
    import json

    path = tmp / "plan" / "plan.json"
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), "complete": False}), encoding="utf-8")


def _untouched(name: str) -> Callable[[Path], None]:
    def check(tmp: Path) -> None:
        assert (tmp / name).read_text(encoding="utf-8").startswith(("# my notes", 'extend = "renhe"')), name

    return check


CHAIN = {
    "c0.toml": RENHE,
    **{f"c{i}.toml": f'extend = "c{i - 1}.toml"\n' for i in range(1, 1000)},
    "case.toml": 'extend = "c999.toml"\n',
}


GOOD_STOCKS_HEAD = "region,year,kind,tier,stock\n"

CASES = [
    # -- scenario files ---------------------------------------------------------------------------
    Case("file-missing", "scenario file that does not exist", ["validate", "{tmp}/nothere.toml"], "file not found"),
    Case(
        "file-is-folder",
        "a folder given as the scenario file",
        ["validate", "{tmp}/x.toml"],
        "is a directory",
        {"x.toml/keep": ""},
    ),
    Case(
        "file-random-bytes",
        "random bytes instead of TOML",
        ["validate", "{f}"],
        "not UTF-8 text",
        {"case.toml": bytes(range(256))},
    ),
    Case("file-bad-toml", "broken TOML syntax", ["validate", "{f}"], "not valid TOML", {"case.toml": "base_year = \n"}),
    Case(
        "builtin-unknown",
        "unknown built-in scenario name",
        ["validate", "nowhere"],
        "no built-in scenario named 'nowhere'",
    ),
    scen(
        "key-unknown",
        "misspelt key",
        RENHE + "[population]\nbirth_rat = 3\n",
        "population.birth_rat: unknown key; allowed here",
    ),
    scen("field-missing", "required field missing", 'id = "x"\n', "base_year: missing; this field is required"),
    scen(
        "extend-missing",
        "extend names a file that does not exist",
        'extend = "nothere.toml"\n',
        "extend: 'nothere.toml' not found",
    ),
    Case(
        "extend-cycle",
        "extend chain that loops",
        ["validate", "{f}"],
        "extends itself in a cycle",
        {"case.toml": 'extend = "other.toml"\n', "other.toml": 'extend = "case.toml"\n'},
    ),
    scen(
        "extend-not-text",
        "extend given as a number",
        "extend = 3\n",
        "extend: expected a scenario name or path as a string",
    ),
    scen(
        "quantity-bare-number",
        "a number without its source",
        RENHE + "[population]\nbirth_rate = 7.1\n",
        "population.birth_rate: expected a table like { value = 6.0, source",
    ),
    scen(
        "quantity-no-provenance",
        "a quantity with neither source nor assumption",
        RENHE + "[population]\nbase = { value = 300000 }\n",
        "needs a 'source' (seed file:line), a 'reference'",
    ),
    scen(
        "source-bad-citation",
        "a source that cites no seed line",
        RENHE + '[population]\nbase = { value = 300000, source = "the internet" }\n',
        "source must cite a seed",
    ),
    scen(
        "population-huge",
        "population of 1e12",
        RENHE + '[population]\nbase = { value = 1e12, assumption = "x" }\n',
        "population.base.value: 1e+12 is outside the plausible range 1,000 to 130,000,000",
    ),
    scen(
        "population-tiny",
        "population of 10",
        RENHE + '[population]\nbase = { value = 10, assumption = "x" }\n',
        "population.base.value: 10 is outside the plausible range 1,000",
    ),
    scen(
        "population-zero",
        "population of 0",
        RENHE + '[population]\nbase = { value = 0, assumption = "x" }\n',
        "population.base.value: expected a value that is greater than 0",
    ),
    scen(
        "population-nan",
        "population NaN",
        RENHE + '[population]\nbase = { value = nan, assumption = "x" }\n',
        "population.base.value: expected a finite number, got nan",
    ),
    scen(
        "population-inf",
        "population infinite",
        RENHE + '[population]\nbase = { value = inf, assumption = "x" }\n',
        "population.base.value: expected a finite number, got inf",
    ),
    scen(
        "population-text",
        "population as text",
        RENHE + '[population]\nbase = { value = "many", assumption = "x" }\n',
        "population.base.value: expected a number, got 'many'",
    ),
    scen(
        "ratio-huge",
        "ratio of 1e308",
        RENHE + '[resources.beds]\nunit = "per_1000"\nratio = { value = 1e308, assumption = "x" }\n',
        "resources.beds.ratio.value: 1e+308 is outside the plausible range 0 to 1,000",
    ),
    scen(
        "ratio-negative",
        "negative ratio",
        RENHE + '[resources.beds]\nunit = "per_1000"\nratio = { value = -1, assumption = "x" }\n',
        "resources.beds.ratio.value: expected a value that is greater than or equal to 0",
    ),
    scen(
        "stock-huge",
        "stock of 1e9 beds",
        RENHE + '[resources.beds]\nunit = "per_1000"\nstock = { value = 1e9, assumption = "x" }\n',
        "resources.beds.stock.value: 1e+09 is outside the plausible range 0 to 10,000,000",
    ),
    scen(
        "birth-rate-high",
        "birth rate 90 per 1,000",
        RENHE + '[population]\nbirth_rate = { value = 90, assumption = "x" }\n',
        "population.birth_rate.value: 90 is outside the plausible range 1 to 60",
    ),
    scen(
        "death-rate-negative",
        "negative death rate",
        RENHE + '[population]\ndeath_rate = { value = -2, assumption = "x" }\n',
        "population.death_rate.value: expected a value that is greater than or equal to 0",
    ),
    scen(
        "migration-extreme",
        "net migration 500 per 1,000",
        RENHE + '[population]\nnet_migration_rate = { value = 500, assumption = "x" }\n',
        "population.net_migration_rate.value: 500 is outside the plausible range -200 to 200",
    ),
    scen(
        "path-year-far",
        "rate path to the year 9999",
        RENHE + '[population]\nbirth_rate = { value = 7, assumption = "x", path = { 9999 = 5 } }\n',
        "population.birth_rate.path.9999: 9,999 is outside the plausible range 1,950 to 2,100",
    ),
    scen(
        "path-nan",
        "rate path value NaN",
        RENHE + '[population]\nbirth_rate = { value = 7, assumption = "x", path = { 2025 = nan } }\n',
        "population.birth_rate.path.2025: expected a finite number",
    ),
    scen(
        "variant-rate-high",
        "a variant's birth rate of 70",
        RENHE + '[population.variants.high]\nbirth_rate = { value = 70, assumption = "x" }\n',
        "population.variants.high.birth_rate.value: 70 is outside the plausible range 1 to 60",
    ),
    scen(
        "variant-medium",
        "a variant named medium",
        RENHE + '[population.variants.medium]\ndescription = "x"\n',
        "'medium' is the scenario's own rates",
    ),
    scen(
        "share-above-one",
        "primary-care share of 1.5",
        RENHE + '[resources.beds]\nunit = "per_1000"\nratio = { value = 5, assumption = "x" }\nprimary_share = '
        '{ value = 1.5, assumption = "x" }\n',
        "resources.beds.primary_share.value: expected a value that is less than or equal to 1",
    ),
    scen(
        "target-unquoted",
        "target of -1 as a TOML number",
        RENHE + '[resources.beds.target]\nexpr = -1\nnature = "binding"\nassumption = "x"\n',
        "resources.beds.target.expr: expected a target in quotes such as \"6.0\"",
    ),
    scen(
        "target-garbage",
        "target that is not a target",
        RENHE + '[resources.beds.target]\nexpr = "lots"\nnature = "binding"\nassumption = "x"\n',
        "target 'lots' is not understood",
    ),
    scen(
        "target-huge",
        "target of 99,999 per 1,000",
        RENHE + '[resources.beds.target]\nexpr = "99999"\nnature = "binding"\nassumption = "x"\n',
        "resources.beds.target.expr: 99,999 is outside the plausible range 0 to 1,000",
    ),
    scen(
        "target-relative-huge",
        "relative target of +5000%",
        RENHE + '[resources.beds.target]\nexpr = "+5000%"\nnature = "binding"\nassumption = "x"\n',
        "resources.beds.target.expr: 5,000 is outside the plausible range -100 to 1,000",
    ),
    scen(
        "target-nature",
        "target nature that is neither binding nor expected",
        RENHE + '[resources.beds.target]\nexpr = "6"\nnature = "maybe"\nassumption = "x"\n',
        "resources.beds.target.nature: input should be 'binding' or 'expected', got 'maybe'",
    ),
    scen(
        "unit-unknown",
        "unknown per-capita unit",
        RENHE + '[resources.beds]\nunit = "per_100"\n',
        "resources.beds.unit: input should be 'per_1000', 'per_10000' or 'per_100000'",
    ),
    scen(
        "resource-unknown",
        "unknown resource kind",
        RENHE + '[resources.dentists]\nunit = "per_1000"\nratio = { value = 1, assumption = "x" }\n',
        "resources.dentists: input should be 'beds'",
    ),
    scen(
        "cost-huge",
        "capital cost of CNY 1e12 per bed",
        RENHE + '[costs.beds]\ncapital = { value = 1e12, assumption = "x" }\n',
        "costs.beds.capital.value: 1e+12 is outside the plausible range 0 to 10,000,000",
    ),
    scen(
        "cost-negative",
        "negative running cost",
        RENHE + '[costs.beds]\nannual = { value = -5, assumption = "x" }\n',
        "costs.beds.annual.value: expected a value that is greater than or equal to 0",
    ),
    scen(
        "attrition-high",
        "90% of nurses leaving each year",
        RENHE + '[constraints.attrition]\nnurses = { value = 0.9, assumption = "x" }\n',
        "constraints.attrition.nurses.value: 0.9 is outside the plausible range 0 to 0.5",
    ),
    scen(
        "hiring-limit-huge",
        "hiring limit of 100 times the stock a year",
        RENHE + '[constraints.max_additions_share]\nnurses = { value = 100, assumption = "x" }\n',
        "constraints.max_additions_share.nurses.value: 100 is outside the plausible range 0 to 5",
    ),
    scen(
        "switch-not-bool",
        "a constraint switch given as text",
        RENHE + '[constraints.enabled]\nhiring_limits = "yes please"\n',
        "constraints.enabled.hiring_limits: expected true or false, got 'yes please'",
    ),
    scen(
        "budget-file-inf",
        "plan budget infinite",
        RENHE + '[plan]\nbudget_total = { value = inf, assumption = "x" }\n',
        "plan.budget_total.value: expected a finite number, got inf",
    ),
    scen(
        "budget-file-huge",
        "plan budget of CNY 1e20",
        RENHE + '[plan]\nbudget_total = { value = 1e20, assumption = "x" }\n',
        "plan.budget_total.value: 1e+20 is outside the plausible range 0 to 1e+13",
    ),
    scen(
        "weights-negative",
        "negative target weight",
        RENHE + "[plan.weights]\nbinding = -3\n",
        "plan.weights.binding: expected a value that is greater than or equal to 0",
    ),
    scen(
        "mode-unknown",
        "unknown optimizer mode",
        RENHE + '[plan]\nmode = "cheapest"\n',
        "plan.mode: input should be 'min-cost' or 'max-attainment'",
    ),
    scen(
        "years-reversed",
        "target year before the base year",
        RENHE + "target_year = 2019\n",
        "target_year (2019) must be after base_year (2020)",
    ),
    scen(
        "year-ancient",
        "base year 1800",
        RENHE + "base_year = 1800\n",
        "base_year: expected a value that is greater than or equal to 1950",
    ),
    scen(
        "region-level",
        "unknown region level",
        RENHE + '[region]\nlevel = "galaxy"\n',
        "region.level: input should be 'district', 'county', 'city' or 'province'",
    ),
    scen(
        "alliance-shares",
        "alliance population shares that do not sum to 1",
        RENHE + '[referral]\nalliances = [ '
        '{ name = "a", lead = "h", members = 3, population_share = 0.6, assumption = "x" }, '
        '{ name = "b", lead = "h", members = 2, population_share = 0.6, assumption = "x" } ]\n',
        "population_share values sum to 1.2; expected them to sum to 1",
    ),
    scen(
        "alliance-members-zero",
        "an alliance with no health centres",
        RENHE
        + '[referral]\nalliances = [ { name = "a", lead = "h", members = 0, population_share = 1, assumption = "x" } '
        ']\n',
        "referral.alliances.0.members: expected a value that is greater than or equal to 1",
    ),
    scen(
        "visits-extreme",
        "1,000 visits per resident a year",
        RENHE + '[referral]\nvisits_per_capita = { value = 1000, assumption = "x" }\n',
        "referral.visits_per_capita.value: 1,000 is outside the plausible range 0 to 30",
    ),
    scen(
        "probability-above-one",
        "referral probability 1.2",
        RENHE + '[referral]\np_down = { value = 1.2, assumption = "x" }\n',
        "referral.p_down.value: expected a value that is less than or equal to 1",
    ),
    scen(
        "stay-years",
        "hospital stay of 10,000 days",
        RENHE + '[referral]\nalos_hospital_days = { value = 10000, assumption = "x" }\n',
        "referral.alos_hospital_days.value: 10,000 is outside the plausible range 0 to 365",
    ),
    # -- amounts, years and options ---------------------------------------------------------------
    Case(
        "budget-inf",
        "--budget inf",
        ["optimize", "renhe", "--budget", "inf"],
        "--budget 'inf': expected a finite number",
    ),
    Case(
        "budget-nan",
        "--budget nan",
        ["optimize", "renhe", "--budget", "nan"],
        "--budget 'nan': expected a finite number",
    ),
    Case("budget-negative", "negative --budget", ["optimize", "renhe", "--budget=-5"], "expected an amount >= 0 CNY"),
    Case(
        "budget-words",
        "--budget in words",
        ["optimize", "renhe", "--budget", "lots"],
        "expected an amount of CNY such as 2.5e9",
    ),
    Case(
        "budget-huge",
        "--budget 1e30",
        ["optimize", "renhe", "--budget", "1e30"],
        "1e+30 is outside the plausible range",
    ),
    Case(
        "budget-per-year-inf",
        "--budget-per-year inf",
        ["optimize", "renhe", "--budget-per-year", "inf"],
        "--budget-per-year 'inf': expected a finite number",
    ),
    Case(
        "run-budget-inf",
        "run --budget inf",
        ["run", "renhe", "--budget", "inf", "--out", "{tmp}/out"],
        "--budget 'inf': expected a finite number",
    ),
    Case(
        "sweep-reversed",
        "sweep from a budget above its end",
        ["sweep", "renhe", "--budget-from", "5e8", "--budget-to", "1e8"],
        "--budget-to (100,000,000) must be above --budget-from",
    ),
    Case(
        "sweep-inf",
        "sweep to an infinite budget",
        ["sweep", "renhe", "--budget-from", "0", "--budget-to", "inf"],
        "--budget-to 'inf': expected a finite number",
    ),
    Case(
        "project-to-before",
        "project to a year before the base year",
        ["project", "renhe", "--to", "2000"],
        "--to 2000 must be after the base year 2020",
    ),
    Case("project-to-far", "project 480 years ahead", ["project", "renhe", "--to", "2500"], "more than 100 years past"),
    Case(
        "project-variant",
        "unknown population variant",
        ["project", "renhe", "--variant", "mid"],
        "variant 'mid' is not defined",
    ),
    Case(
        "years-far",
        "simulate --years 2020-9999",
        ["simulate", "renhe", "--years", "2020-9999"],
        "--years '2020-9999': expected years from 2020 to 2120",
    ),
    Case(
        "years-words",
        "simulate --years in words",
        ["simulate", "renhe", "--years", "soon"],
        "expected a range like 2021-2025",
    ),
    Case(
        "years-before-base",
        "simulate years before the base year",
        ["simulate", "renhe", "--years", "2010-2012"],
        "expected years from 2020",
    ),
    Case(
        "years-option-reversed",
        "simulate --years 2025-2021",
        ["simulate", "renhe", "--years", "2025-2021"],
        "expected at least one year",
    ),
    Case(
        "max-attainment-no-budget",
        "max-attainment without a budget",
        ["optimize", "renhe", "--mode", "max-attainment"],
        "max-attainment needs a budget",
    ),
    # -- infeasible plans: the worded diagnosis ------------------------------------------------------
    Case(
        "infeasible-per-year",
        "yearly budget cap below what the targets need",
        ["optimize", "conghua", "--budget-per-year", "3亿"],
        "the yearly budget cap cannot be kept together with the targets",
        code=1,
    ),
    Case(
        "infeasible-total",
        "plan budget below what the targets need",
        ["optimize", "conghua", "--budget", "1亿"],
        "the plan-period budget",
        code=1,
    ),
    # -- output paths (checked before any computing) ------------------------------------------------
    Case(
        "out-is-file",
        "optimize --out names a file",
        ["optimize", "renhe", "--out", "{tmp}/afile"],
        "Invalid value for '--out': Directory '{tmp}/afile' is a file",
        {"afile": "x"},
    ),
    Case(
        "out-under-file",
        "--out inside a file",
        ["optimize", "renhe", "--out", "{tmp}/afile/sub"],
        "cannot write into this folder (Not a directory)",
        {"afile": "x"},
    ),
    Case(
        "out-checked-first",
        "unwritable --out and an unknown scenario: the output is checked first",
        ["run", "nowhere", "--out", "{tmp}/afile/run"],
        "--out {tmp}/afile/run: cannot write into this folder",
        {"afile": "x"},
    ),
    Case(
        "run-out-under-file",
        "run --out inside a file",
        ["run", "renhe", "--out", "{tmp}/afile/run"],
        "cannot write into this folder",
        {"afile": "x"},
    ),
    Case(
        "sweep-out-is-file",
        "sweep --out names a file",
        ["sweep", "renhe", "--budget-from", "0", "--budget-to", "1e8", "--out", "{tmp}/afile"],
        "is a file",
        {"afile": "x"},
    ),
    Case(
        "simulate-out-is-file",
        "simulate --out names a file",
        ["simulate", "renhe", "--out", "{tmp}/afile"],
        "is a file",
        {"afile": "x"},
    ),
    Case(
        "export-extension",
        "--export-model with an unknown extension",
        ["optimize", "renhe", "--export-model", "{tmp}/m.txt"],
        "expected a file ending in .lp or .mps",
    ),
    Case(
        "export-unwritable",
        "--export-model inside a file",
        ["optimize", "renhe", "--export-model", "{tmp}/afile/m.lp"],
        "--export-model {tmp}/afile: is a file; expected a folder to write into",
        {"afile": "x"},
    ),
    Case(
        "export-is-folder",
        "--export-model names a folder",
        ["optimize", "renhe", "--export-model", "{tmp}/d.lp"],
        "File '{tmp}/d.lp' is a directory",
        {"d.lp/keep": ""},
    ),
    Case(
        "out-locked",
        "another run is writing into the same --out",
        ["optimize", "renhe", "--out", "{tmp}/out"],
        "another healthsim run is writing into this folder",
        setup=_hold_lock,
    ),
    Case(
        "disk-full",
        "the disk fills while writing the plan",
        ["optimize", "renhe", "--out", "{tmp}/out"],
        "stocks.csv: writing failed (No space left on device)",
        setup=_disk_full,
        check=_nothing_half_written,
    ),
    # -- plan folders read back by simulate --plan ----------------------------------------------------
    Case(
        "plan-missing",
        "--plan folder that does not exist",
        ["simulate", "renhe", "--plan", "{tmp}/nothere"],
        "not a folder",
    ),
    plan_case(
        "plan-no-manifest",
        "plan folder without plan.json (not from optimize --out)",
        {"plan.json": None},
        "plan.json: not found",
    ),
    plan_case(
        "plan-other-region",
        "a Renhe plan used for Conghua",
        {},
        "region: the plan is for Renhe District, Panzhihua",
        "conghua",
    ),
    plan_case("plan-manifest-broken", "plan.json cut short", {"plan.json": '{"scenario": "renhe", '}, "plan.json: "),
    plan_case(
        "plan-manifest-years",
        "plan.json for other years",
        {
            "plan.json": '{"scenario": "renhe", "region": "Renhe District, Panzhihua", "base_year": 2010, '
            '"target_year": 2015, '
            '"variant": "medium", "kinds": []}'
        },
        "years: the plan runs 2010-2015; expected a plan from 2020",
    ),
    plan_case("plan-stocks-missing", "plan folder without stocks.csv", {"stocks.csv": None}, "stocks.csv: not found"),
    plan_case(
        "plan-stocks-truncated",
        "stocks.csv cut after two columns",
        {"stocks.csv": "year,kind\n2021,beds\n"},
        "columns ['kind', 'year']; expected at least",
    ),
    plan_case(
        "plan-stocks-text",
        "a stock that is not a number",
        {"stocks.csv": GOOD_STOCKS_HEAD + "renhe,2021,beds,hospital,lots\n"},
        "row 2: stock: input should be a valid number",
    ),
    plan_case(
        "plan-stocks-negative",
        "a negative stock",
        {"stocks.csv": GOOD_STOCKS_HEAD + "renhe,2021,beds,hospital,-4\n"},
        "row 2: stock: input should be greater than or equal to 0",
    ),
    plan_case(
        "plan-stocks-inf",
        "an infinite stock",
        {"stocks.csv": GOOD_STOCKS_HEAD + "renhe,2021,beds,hospital,inf\n"},
        "row 2: stock: input should be a finite number",
    ),
    plan_case(
        "plan-stocks-huge",
        "a stock of 1e12 beds",
        {"stocks.csv": GOOD_STOCKS_HEAD + "renhe,2021,beds,hospital,1e12\n"},
        "row 2: stock: 1e+12 is outside the plausible range",
    ),
    plan_case(
        "plan-stocks-year",
        "a year outside the scenario's",
        {"stocks.csv": GOOD_STOCKS_HEAD + "renhe,2031,beds,hospital,5\n"},
        "row 2: year 2031; expected 2020-2025",
    ),
    plan_case(
        "plan-stocks-tier",
        "an unknown tier",
        {"stocks.csv": GOOD_STOCKS_HEAD + "renhe,2021,beds,clinic,5\n"},
        "row 2: tier: input should be 'hospital' or 'primary'",
    ),
    plan_case(
        "plan-stocks-region",
        "rows of another region",
        {"stocks.csv": GOOD_STOCKS_HEAD + "conghua,2021,beds,hospital,5\n"},
        "row 2: region 'conghua'; expected 'renhe'",
    ),
    plan_case(
        "plan-stocks-no-beds",
        "a year without hospital beds",
        {"stocks.csv": GOOD_STOCKS_HEAD + "renhe,2021,physicians,hospital,5\nrenhe,2021,physicians,primary,5\n"},
        "year 2021: no hospital beds",
    ),
    plan_case("plan-stocks-bytes", "random bytes as stocks.csv", {"stocks.csv": bytes(range(256)) * 4}, "stocks.csv: "),
    # -- batch -----------------------------------------------------------------------------------
    Case("batch-grid-as-scenario", "a grid given as a scenario", ["batch", GRID], "is a grid (it has an [axes] table)"),
    Case(
        "batch-grid-missing",
        "--grid file that does not exist",
        ["batch", "renhe", "--grid", "{tmp}/nothere.toml"],
        "file not found; expected a grid .toml file",
    ),
    Case(
        "batch-grid-not-toml",
        "--grid file that is not TOML",
        ["batch", "renhe", "--grid", "{f}"],
        "not valid TOML",
        {"case.toml": "[axes\n"},
    ),
    Case(
        "batch-grid-no-axes",
        "grid without [axes]",
        ["batch", "renhe", "--grid", "{f}"],
        "expected a non-empty [axes] table",
        {"case.toml": "[axis]\nbudget = [1e9]\n"},
    ),
    Case(
        "batch-grid-unknown-field",
        "grid axis naming no scenario field",
        ["batch", "renhe", "--grid", "{f}"],
        "constraints.max_additions_share.nurse: unknown key 'nurse'",
        {"case.toml": '[axes]\n"constraints.max_additions_share.nurse" = [0.2]\n'},
    ),
    Case(
        "batch-grid-bad-value",
        "grid value outside its plausible range",
        ["batch", "renhe", "--grid", "{f}"],
        "constraints.attrition.nurses.value: 0.9 is outside the plausible range",
        {"case.toml": '[axes]\n"constraints.attrition.nurses" = [0.02, 0.9]\n'},
    ),
    Case(
        "batch-grid-budget-inf",
        "grid budget infinite",
        ["batch", "renhe", "--grid", "{f}"],
        "axes.budget: expected a finite number",
        {"case.toml": "[axes]\nbudget = [inf]\n"},
    ),
    Case(
        "batch-grid-variant",
        "grid variant the scenario does not define",
        ["batch", "renhe", "--grid", "{f}"],
        "no variant 'mid'",
        {"case.toml": '[axes]\nvariant = ["mid"]\n'},
    ),
    Case(
        "batch-no-scenarios",
        "a folder with no scenarios",
        ["batch", "{tmp}/empty"],
        "no .toml scenario files match",
        {"empty/readme.txt": "x"},
    ),
    Case(
        "batch-out-is-file",
        "batch --out names a file",
        ["batch", "renhe", "--out", "{tmp}/afile"],
        "is a file",
        {"afile": "x"},
    ),
    Case(
        "uncertainty-scheduler-down",
        "unreachable Dask scheduler",
        ["uncertainty", "renhe", "--draws", "10", "--scheduler", "tcp://127.0.0.1:1", "--out", "{tmp}/out"],
        "cannot reach a Dask scheduler within",
    ),
    Case(
        "batch-scheduler-down",
        "unreachable Dask scheduler",
        ["batch", "renhe", "--scheduler", "tcp://127.0.0.1:1", "--out", "{tmp}/out"],
        "cannot reach a Dask scheduler within",
    ),
    # -- issue 21: names, saves, run folders, tracebacks and unclear messages ---------------------------
    scen(
        "id-path",
        "a scenario id that is a path",
        RENHE + 'id = "../../../ESCAPED"\n',
        "id: expected a name of letters, digits, '_', '-' or Chinese characters",
    ),
    scen("id-empty", "an empty scenario id", RENHE + 'id = ""\n', "id: expected a name of letters"),
    Case(
        "whatif-id-path",
        "whatif --id that is a path",
        ["whatif", "renhe", "--id", "../../x", "--out", "{tmp}/w.toml"],
        "--id '../../x': expected a name of letters",
    ),
    Case(
        "whatif-out-base",
        "whatif --out naming its own base",
        ["whatif", "{f}", "--out", "{f}"],
        "saving there would make it extend itself",
        {"case.toml": RENHE},
        check=_untouched("case.toml"),
    ),
    Case(
        "whatif-out-builtin",
        "whatif --out naming a built-in",
        ["whatif", "conghua", "--out", "scenarios/builtin/renhe.toml"],
        "is inside the built-in scenarios",
    ),
    Case(
        "whatif-out-foreign",
        "whatif --out naming a file healthsim did not write",
        ["whatif", "renhe", "--out", "{tmp}/mine.toml"],
        "exists and is not a what-if written by healthsim",
        {"mine.toml": "# my notes\n"},
        check=_untouched("mine.toml"),
    ),
    Case(
        "out-empty-run", "run --out ''", ["run", "renhe", "--out", ""], "--out '': empty; expected the name of a folder"
    ),
    Case("out-empty-optimize", "optimize --out ''", ["optimize", "renhe", "--out", ""], "--out '': empty"),
    Case("out-empty-compare", "compare --out ''", ["compare", "renhe", "conghua", "--out", ""], "--out '': empty"),
    Case(
        "seed-negative-run",
        "run --seed -1",
        ["run", "renhe", "--seed", "-1", "--out", "{tmp}/out"],
        "Invalid value for '--seed': -1 is not in the range 0<=x<=4294967295",
    ),
    Case(
        "seed-negative-simulate",
        "simulate --seed -1",
        ["simulate", "renhe", "--seed", "-1"],
        "Invalid value for '--seed': -1 is not in the range",
    ),
    Case(
        "seed-negative-uncertainty",
        "uncertainty --seed -1",
        ["uncertainty", "renhe", "--seed", "-1"],
        "Invalid value for '--seed': -1 is not in the range",
    ),
    Case(
        "draws-one",
        "uncertainty --draws 1 (no spread)",
        ["uncertainty", "renhe", "--draws", "1", "--out", "{tmp}/out"],
        "--draws 1: one draw gives a probability of 0 or 1 with no spread",
    ),
    Case(
        "extend-chain-long",
        "a chain of 1,000 extends",
        ["validate", "{f}"],
        "extend: the extend chain is longer than 50 files",
        CHAIN,
    ),
    Case("validate-grid", "a grid given to validate", ["validate", GRID], "is a batch grid (it has an [axes] table)"),
    scen(
        "extend-grid",
        "extend naming a grid",
        f'extend = "{(ROOT / GRID).as_posix()}"\n',
        "extend: example.toml is a batch grid (it has an [axes] table), not a scenario",
    ),
    Case(
        "extend-folder",
        "extend naming a folder",
        ["validate", "{f}"],
        "extend: 'sub' is a folder",
        {"case.toml": 'extend = "sub"\n', "sub/keep": ""},
    ),
    Case(
        "batch-grid-repeated",
        "a grid axis with a repeated value",
        ["batch", "renhe", "--grid", "{f}"],
        "axes.budget: 1000000000.0 is given twice; expected each value once",
        {"case.toml": "[axes]\nbudget = [1e9, 1e9]\n"},
    ),
    Case(
        "app-port-busy",
        "app on a port in use",
        ["app", "renhe", "--port", str(BUSY_PORT)],
        f"--port {BUSY_PORT}: 127.0.0.1:{BUSY_PORT} is in use",
        setup=_busy_port,
    ),
    plan_case(
        "plan-stocks-header-only",
        "stocks.csv with only its header",
        {"stocks.csv": "region,year,kind,tier,ownership,stock\n"},
        "stocks.csv: no rows (only its header)",
    ),
    Case(
        "plan-stocks-duplicate",
        "a duplicated row in stocks.csv",
        ["simulate", "renhe", "--plan", "{plan}", "--replications", "1", "--flows-only"],
        "stocks.csv: row 62: region/year/kind/tier/ownership (renhe, 2020, beds, hospital, public) repeats row 2",
        setup=_plan_edit(lambda lines: [*lines, lines[1]]),
    ),
    Case(
        "plan-stocks-row-missing",
        "a row missing from stocks.csv",
        ["simulate", "renhe", "--plan", "{plan}", "--replications", "1", "--flows-only"],
        "stocks.csv: 59 rows; plan.json says 60 were written",
        setup=_plan_edit(lambda lines: lines[:-1]),
    ),
    Case(
        "plan-incomplete",
        "a plan folder whose writing was stopped (complete = false)",
        ["uncertainty", "renhe", "--plan", "{plan}", "--draws", "5", "--out", "{tmp}/out"],
        "plan.json: complete: false; the run that wrote this folder stopped",
        setup=_plan_incomplete,
    ),
    # -- cross-checks that name the mistake (issue 21) ---------------------------------------------------
    scen(
        "gps-per-1000",
        "GPs per 1,000 given with unit per_10000 (stock and ratio disagree)",
        CONGHUA + '[resources.gps]\nratio = { value = 0.452, assumption = "x" }\n',
        "resources.gps.ratio: 0.452 per 10,000 residents, but stock 325 over population.base 719,500 is 4.517 per "
        "10,000; expected them to agree within a factor of 1.5; off by a factor of 0.1: a ratio per 1,000 residents",
    ),
    scen(
        "stock-extra-zero",
        "an extra zero on a stock",
        CONGHUA + '[resources.beds]\nstock = { value = 27930, assumption = "x" }\n',
        "resources.beds.ratio: 3.88 per 1,000 residents, but stock 27,930 over population.base 719,500 is 38.82 per "
        "1,000; expected them to agree within a factor of 1.5; off by a factor of 0.1: an extra zero on the stock",
    ),
    scen(
        "stock-other-scope",
        "a stock and a ratio of different institutions",
        CONGHUA + '[resources.nurses]\nstock = { value = 1000, assumption = "x" }\n',
        "resources.nurses.ratio: 2.87 per 1,000 residents, but stock 1,000 over population.base 719,500 is 1.39 per "
        "1,000; expected them to agree within a factor of 1.5; expected a stock and a ratio of the same institutions",
    ),
    scen(
        "target-year-interim",
        "a target for a year before the target year",
        CONGHUA + '[resources.physicians]\n'
        'target = { expr = "3.0", nature = "expected", year = 2023, assumption = "x" }\n',
        "resources.physicians.target.year: 2023 is not the target year 2025; the optimizer plans every target for "
        "the target year",
    ),
    scen(
        "target-relative-zero",
        "a +30% target on a zero stock",
        CONGHUA + '[resources.public_health_staff]\nratio = { value = 0, assumption = "x" }\n',
        "resources.public_health_staff.target.expr: '+30%' is relative to a base-year ratio of 0",
    ),
    scen(
        "birth-rate-fraction",
        "a birth rate per mille typed as a fraction (0.01179)",
        RENHE + '[population]\nbirth_rate = { value = 0.01179, assumption = "x" }\n',
        "population.birth_rate.value: 0.01179 is outside the plausible range 1 to 60",
    ),
    scen(
        "death-rate-fraction",
        "a death rate per mille typed as a fraction (0.0069)",
        RENHE + '[population]\ndeath_rate = { value = 0.0069, assumption = "x" }\n',
        "population.death_rate.value: 0.0069 is outside the plausible range 0.5 to 60",
    ),
    scen(
        "observed-tenfold",
        "an observed population ten times the base",
        RENHE + '[observed.2022]\npopulation = { value = 2655620, reference = "《x》, test, 2024" }\n',
        "observed.2022.population: 2,655,620 is 10 times population.base 265,562 (2020), a change of +216% a year",
    ),
    Case(
        "observed-fit-fails",
        "observed populations no constant net migration fits (up 18%, then down 30%)",
        ["project", "{f}"],
        "population: observed.2021,2022.population: no net migration rate makes the projection",
        {
            "case.toml": RENHE + '[observed.2021]\npopulation = { value = 313000, reference = "《x》, test, 2024" }\n'
            '[observed.2022]\npopulation = { value = 186000, reference = "《x》, test, 2024" }\n'
        },
    ),
]


@pytest.fixture(scope="module")
def renhe_plan(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "plan"
    result = CliRunner().invoke(main, ["optimize", "renhe", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _materialise(case: Case, tmp: Path, plan: Path) -> list[str]:
    if any("{plan}" in a for a in case.argv):
        shutil.copytree(plan, tmp / "plan", ignore=shutil.ignore_patterns(".healthsim.lock"))
    for rel, content in case.files.items():
        path = tmp / rel
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("/keep"):
            continue
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    subs = {"{f}": str(tmp / "case.toml"), "{tmp}": str(tmp), "{plan}": str(tmp / "plan")}
    out = []
    for a in case.argv:
        for k, v in subs.items():
            a = a.replace(k, v)
        out.append(a)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_one_clear_message(case: Case, tmp_path: Path, renhe_plan: Path, monkeypatch):
    argv = _materialise(case, tmp_path, renhe_plan)
    held = case.setup(tmp_path, monkeypatch) if case.setup else None
    try:
        result = CliRunner().invoke(main, argv)
    finally:
        if held is not None:
            held.release()
    output = result.output  # stdout and stderr
    assert isinstance(result.exception, SystemExit), f"unhandled {result.exception!r}\n{output}"
    assert "Traceback" not in output
    assert result.exit_code == case.code, output
    message = [line for line in result.stderr.splitlines() if line.startswith(("error:", "infeasible:", "Error:"))]
    assert message, output
    assert case.expect.replace("{tmp}", str(tmp_path)) in message[0], output
    if case.check:
        case.check(tmp_path)
    MESSAGES[case.id] = message[0].replace(str(tmp_path), "…")


def _doc_table() -> str:
    rows = ["| # | id | bad input | command | message (first line) |", "|---|---|---|---|---|"]
    for i, c in enumerate(CASES, 1):
        cmd = " ".join(a.replace("{tmp}", "…").replace("{f}", "case.toml").replace("{plan}", "PLAN") for a in c.argv)
        msg = MESSAGES.get(c.id, "")
        msg = (msg[:220] + ("…" if len(msg) > 220 else "")).replace("|", "\\|")
        rows.append(f"| {i} | `{c.id}` | {c.what} | `healthsim {cmd}` | {msg} |")
    return "\n".join(rows)


def test_docs_list_every_case():
    """docs/bad-inputs.md lists exactly these cases (regenerated with HEALTHSIM_UPDATE_DOCS=1 after a full run)."""
    if os.environ.get("HEALTHSIM_UPDATE_DOCS") and len(MESSAGES) == len(CASES):
        text = DOC.read_text(encoding="utf-8")
        head = text[: text.index("| # | id |")]
        tail = text[text.index("<!-- end of table -->") :]
        DOC.write_text(head + _doc_table() + "\n\n" + tail, encoding="utf-8")
    text = DOC.read_text(encoding="utf-8")
    listed = [line.split("`")[1] for line in text.splitlines() if line.startswith("| ") and line.count("`") >= 2]
    assert listed == [c.id for c in CASES]
    assert len(CASES) >= 50 and len({c.id for c in CASES}) == len(CASES)
