"""Fuzzing: the built-in scenario files mutated at random (fields dropped, duplicated, retyped and
perturbed; extreme numbers; random bytes), then ``validate``, ``project`` and ``optimize`` run on
each in-process. Never a traceback; every refusal is a message naming the file (and the field,
once the file parses), one line per problem.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cli import main
from scenarios.loader import BUILTIN_DIR, builtin_names

FILES = {name: (BUILTIN_DIR / f"{name}.toml").read_text(encoding="utf-8") for name in builtin_names()}
DOCS = {name: tomllib.loads(text) for name, text in FILES.items()}
EXTREMES = [0, -1, -1e-300, 1e-300, 1e6, 1e12, 1e308, -1e308, math.inf, -math.inf, math.nan, 2**63, -(2**63)]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
SCALAR = st.one_of(TEXT, st.integers(-(2**63), 2**63 - 1), st.floats(), st.booleans(), st.sampled_from(EXTREMES))
ANY = st.one_of(SCALAR, st.lists(SCALAR, max_size=3), st.dictionaries(TEXT, SCALAR, max_size=3))


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and list indices) in a TOML document."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _mutate(data: st.DataObject, doc: dict) -> dict:
    """Apply 1-3 random mutations to a copy of ``doc``."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent, key = _get(doc, path[:-1]), path[-1]
        op = data.draw(st.sampled_from(["drop", "duplicate", "retype", "perturb", "extreme"]), label="op")
        value = parent[key]
        if op == "drop":
            del parent[key]
        elif op == "duplicate":  # copy this value over another field (or a new key beside it)
            other = data.draw(st.sampled_from(paths), label="onto")
            target_parent = _get(doc, other[:-1])
            try:
                target_parent[other[-1]] = copy.deepcopy(value)
            except (IndexError, TypeError):
                pass
            if isinstance(parent, dict):
                parent[f"{key}_copy"] = copy.deepcopy(value)
        elif op == "retype":
            parent[key] = data.draw(ANY, label="new value")
        elif op == "perturb" and isinstance(value, (int, float)) and not isinstance(value, bool):
            factor = data.draw(st.sampled_from([-1, 0, 0.5, 1.5, 10, 1e3, 1e6]), label="factor")
            parent[key] = value * factor
        else:
            parent[key] = data.draw(st.sampled_from(EXTREMES), label="extreme")
    return doc


def _numbers(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths of the numbers in a TOML document."""
    return [
        p
        for p in _paths(node, prefix)
        if isinstance(_get(node, p), (int, float)) and not isinstance(_get(node, p), bool)
    ]


def _nudge(data: st.DataObject, doc: dict) -> dict:
    """Scale 1-4 numbers by 0.3-3 (a plausible scenario, so projection and optimizer run on it)."""
    doc = copy.deepcopy(doc)
    paths = _numbers(doc)
    for _ in range(data.draw(st.integers(1, 4), label="nudges")):
        path = data.draw(st.sampled_from(paths), label="number")
        parent = _get(doc, path[:-1])
        parent[path[-1]] = parent[path[-1]] * data.draw(st.floats(0.3, 3), label="scale")
    return doc


def _file(data: st.DataObject, folder: Path, hows: list[str] | None = None) -> Path:
    name = data.draw(st.sampled_from(sorted(FILES)), label="scenario")
    path = folder / f"fuzz_{name}.toml"
    how = data.draw(st.sampled_from(hows or ["mutate"] * 6 + ["nudge"] * 2 + ["bytes", "splice"]), label="how")
    if how == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=200), label="bytes"))
    elif how == "splice":  # random bytes inside the real file
        raw = FILES[name].encode("utf-8")
        at = data.draw(st.integers(0, len(raw)), label="at")
        path.write_bytes(raw[:at] + data.draw(st.binary(min_size=1, max_size=20), label="junk") + raw[at + 20 :])
    elif how == "nudge":
        path.write_text(tomli_w.dumps(_nudge(data, DOCS[name])), encoding="utf-8")
    else:
        path.write_text(tomli_w.dumps(_mutate(data, DOCS[name])), encoding="utf-8")
    return path


def _check(result, path: Path) -> None:
    out = result.output
    assert "Traceback" not in out, out
    assert isinstance(result.exception, SystemExit) or result.exception is None, repr(result.exception) + out
    if result.exit_code in (0, 1):  # a result, or an infeasible plan explained in words
        return
    assert result.exit_code == 2, out
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, out
    for line in lines:  # one line per problem, each naming the file, and a field once the file parses
        assert str(path) in line or f"'{path.stem}'" in line or re.search(r"scenario '[^']+'", line), line
        if "not valid TOML" not in line and "not UTF-8" not in line and str(path) in line:
            assert re.match(rf"^(error: )?{re.escape(str(path))}: .+: ", line), line


def _check_projection(csv: str) -> None:
    """An accepted projection: population above zero, the balance identity P(t) = P(t-1) + B - D + M in every year."""
    table = pd.read_csv(io.StringIO(csv))
    assert len(table) and (table["population"] > 0).all()
    for _, df in table.groupby("variant"):
        p = df["population"].to_numpy()
        flows = (df["births"] - df["deaths"] + df["migration"]).to_numpy()[1:]
        np.testing.assert_allclose(p[1:], p[:-1] + flows, rtol=1e-9, atol=1e-6)
        assert (df[["births", "deaths"]].iloc[1:] >= 0).all().all()


def _check_plan(out: Path, doc: dict) -> None:
    """An accepted plan (optimal, or the best reachable one with a diagnosis): attainment 0-100%, costs of the
    public budget never negative (unless disinvestment is on), whole units (unless turned off), and each pool's
    stock identity stock(y) = stock(y-1) + added - removed - leavers, the same number of leavers every year."""
    switches = doc.get("constraints", {}).get("enabled", {})
    whole = doc.get("plan", {}).get("whole_units", True) is not False
    att = pd.read_csv(out / "attainment.csv")
    assert ((att["attainment"] >= 0) & (att["attainment"] <= 1 + 1e-9)).all(), att
    costs = pd.read_csv(out / "costs.csv")
    np.testing.assert_allclose(costs["total_cny"], costs["capital_cny"] + costs["running_cny"], rtol=1e-9, atol=1e-3)
    if switches.get("disinvestment") is not True:
        assert (costs[["capital_cny", "running_cny", "total_cny"]] >= -1e-6).all().all(), costs
    stocks, adds = pd.read_csv(out / "stocks.csv"), pd.read_csv(out / "additions.csv")
    assert (stocks["stock"] >= -1e-6).all() and (adds[["added", "removed"]] >= -1e-6).all().all()
    if whole:
        for values in (stocks["stock"], adds["added"], adds["removed"]):
            np.testing.assert_allclose(values, np.round(values), atol=1e-6)
    pools = ["region", "kind", "tier", "ownership"]
    for _, st_ in stocks.groupby(pools):
        st_ = st_.sort_values("year")
        key = tuple(st_.iloc[0][pools])
        a = adds[(adds[pools] == pd.Series(key, index=pools)).all(axis=1)].set_index("year")
        change = st_["stock"].diff().to_numpy()[1:]
        flow = (a.loc[st_["year"].iloc[1:], "added"] - a.loc[st_["year"].iloc[1:], "removed"]).to_numpy()
        leavers = flow - change
        np.testing.assert_allclose(leavers, leavers[0], atol=1e-6)  # a fixed number a year
        assert leavers[0] >= -1e-6


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("HEALTHSIM_FUZZ_EXAMPLES", 1000)),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_scenarios_never_give_a_traceback(data, folder):
    path = _file(data, folder)
    runner = CliRunner()
    out = folder / f"out_{path.stem}"
    shutil.rmtree(out, ignore_errors=True)
    for argv in (
        ["validate", str(path)],
        ["project", str(path), "--format", "csv"],
        ["optimize", str(path), "--out", str(out)],
    ):
        result = runner.invoke(main, argv)
        event(f"{argv[0]} exit {result.exit_code}")
        _check(result, path)
        if result.exit_code == 0 and argv[0] == "project":
            _check_projection(result.stdout)
        if result.exit_code in (0, 1) and argv[0] == "optimize" and (out / "attainment.csv").exists():
            _check_plan(out, tomllib.loads(path.read_text(encoding="utf-8")))


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("HEALTHSIM_FUZZ_RUN_EXAMPLES", 12)),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_scenarios_run_end_to_end_with_checked_answers(data, folder):
    """``run --no-simulate --no-replan`` on mutated files (a few: each run writes the report and workbook): a clear
    refusal, or a run folder whose plan passes the same checks as ``optimize``'s and whose projection balances."""
    path = _file(data, folder)
    out = folder / f"run_{path.stem}"
    shutil.rmtree(out, ignore_errors=True)
    result = CliRunner().invoke(main, ["run", str(path), "--no-simulate", "--no-replan", "--out", str(out)])
    event(f"run exit {result.exit_code}")
    _check(result, path)
    if result.exit_code in (0, 1) and (out / "attainment.csv").exists():
        _check_plan(out, tomllib.loads(path.read_text(encoding="utf-8")))
        _check_projection((out / "population.csv").read_text(encoding="utf-8"))


def _check_manifest(out: Path) -> None:
    """A run folder matches its manifest: complete, every listed file present, each CSV with the rows it lists."""
    manifest = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is True
    for name in manifest["files"]:
        assert (out / name).exists(), name
    for name, rows in manifest["rows"].items():
        assert len(pd.read_csv(out / name)) == rows, name


def _check_simulation(out: Path) -> None:
    """Accepted referral KPIs: occupancies and shares within 0-1, counts never negative, CIs around their means."""
    summary = pd.read_csv(out / "summary.csv")
    shares = summary[summary["kpi"].str.contains("occupancy|share|rate") & summary["mean"].notna()]
    assert ((shares["mean"] >= -1e-9) & (shares["mean"] <= 1 + 1e-9)).all(), shares
    counts = summary[summary["kpi"].isin(["visits_total", "up_referrals", "down_referrals", "discharges"])]
    assert (counts["mean"].dropna() >= 0).all(), counts


def _check_uncertainty(out: Path) -> None:
    """Accepted Monte Carlo: probabilities within 0-1 with non-negative standard errors; the fan ordered."""
    probs = pd.read_csv(out / "uncertainty_probabilities.csv")
    assert ((probs["probability"] >= 0) & (probs["probability"] <= 1)).all() and (probs["std_error"] >= 0).all()
    fan = pd.read_csv(out / "uncertainty_fan.csv")
    assert (fan["p10"] <= fan["p50"] + 1e-6).all() and (fan["p50"] <= fan["p90"] + 1e-6).all()


def _check_batch(out: Path) -> None:
    """An accepted batch: one ranked row, ok with attainment 0-100% and a non-negative cost, or a recorded error."""
    ranking = pd.read_csv(out / "ranking.csv")
    assert len(ranking) == 1 and ranking["status"].iloc[0] in ("ok", "error"), ranking
    ok = ranking[ranking["status"] == "ok"]
    assert ((ok["attainment_score"] >= 0) & (ok["attainment_score"] <= 1 + 1e-9)).all()


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("HEALTHSIM_FUZZ_STUDY_EXAMPLES", 16)),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_scenarios_in_simulate_uncertainty_and_batch_give_checked_answers(data, folder):
    """``simulate``, ``uncertainty`` and ``batch`` on mutated files: a clear refusal, or answers within their
    ranges; a ``run`` folder written for the same file matches its manifest. Mostly plausible files (nudged), so
    that the answers are reached and checked."""
    path = _file(data, folder, ["nudge"] * 3 + ["mutate"])
    runner = CliRunner()
    base = folder / f"study_{path.stem}"
    shutil.rmtree(base, ignore_errors=True)
    commands = {
        "simulate": ["simulate", str(path), "--replications", "1", "--flows-only", "--workers", "1"],
        "uncertainty": ["uncertainty", str(path), "--draws", "20", "--no-solve", "--robust", "0.9"],
        "batch": ["batch", str(path), "--workers", "1"],
        "run": ["run", str(path), "--no-simulate", "--no-replan"],
    }
    checks = {
        "simulate": _check_simulation,
        "uncertainty": _check_uncertainty,
        "batch": _check_batch,
        "run": _check_manifest,
    }
    for name, argv in commands.items():
        out = base / name
        result = runner.invoke(main, [*argv, "--out", str(out)])
        event(f"{name} exit {result.exit_code}")
        if name == "batch":  # a batch records a bad job as a failed row and goes on
            assert "Traceback" not in result.output, result.output
            if (out / "ranking.csv").exists():
                checks[name](out)
            continue
        _check(result, path)
        if result.exit_code in (0, 1) and out.exists() and any(out.iterdir()):
            checks[name](out)
