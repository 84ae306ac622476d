"""Files in and out of a run: output folders checked and locked before any computing, atomic writes,
the tables of a plan or a pipeline, and reading a plan folder back (validated against the scenario).

Every problem is an :class:`OutputError` whose ``str()`` is one line naming the file or folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimize.problem import AllocationProblem
from optimize.result import TABLES, AllocationPlan
from scenarios.bounds import outside
from scenarios.inputs.referral import Capacities, capacities_by_year
from scenarios.schema import Scenario
from sim.referral.network import NetworkError

if TYPE_CHECKING:
    pass

LOCK_NAME = ".healthsim.lock"
TMP_PREFIX = ".tmp-"
PLAN_MANIFEST = "plan.json"


class OutputError(ValueError):
    """An output cannot be written, or a file written by healthsim and read back is wrong; one line."""


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def inside(folder: str | Path, name: str | Path, what: str = "name") -> Path:
    """``folder / name``, refused (:class:`OutputError`) unless it stays inside ``folder``: no absolute path,
    no ``..`` and no link that leads out."""
    base = Path(folder)
    text = str(name)
    if not text.strip():
        raise OutputError(f"{what} {text!r}: empty; expected a name inside {base}")
    rel = Path(text)
    if rel.is_absolute() or rel.drive or ".." in rel.parts:
        raise OutputError(
            f"{what} {text!r}: leads out of {base}; expected a name inside it (no '..', no absolute path)"
        )
    path = base / rel
    root = base.resolve()
    if not path.resolve().is_relative_to(root):
        raise OutputError(f"{what} {text!r}: leads out of {base} (through a link); expected a name inside it")
    return path


def check_writable_dir(path: str | Path, option: str = "--out") -> Path:
    """Create folder ``path`` if needed and prove it writable (a probe file); raise :class:`OutputError`."""
    if not str(path).strip():
        raise OutputError(f"{option} {str(path)!r}: empty; expected the name of a folder to write into")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{option} {p}: is a file; expected a folder to write into")
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=TMP_PREFIX):
            pass
    except OSError as exc:
        raise OutputError(f"{option} {p}: cannot write into this folder ({_reason(exc)})") from None
    return p


def check_writable_file(path: str | Path, option: str) -> Path:
    """Prove that file ``path`` can be written (its folder created and writable, not a folder itself)."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{option} {p}: is a folder; expected a file name")
    check_writable_dir(p.parent, option)
    return p


@contextmanager
def output_lock(path: str | Path, option: str = "--out") -> Iterator[Path]:
    """Check folder ``path`` and hold its lock file while a run writes there.

    A second run into the same folder is refused at once (not interleaved). Temporary files
    left by a killed run are removed once the lock is held.
    """
    from filelock import FileLock, Timeout

    out = check_writable_dir(path, option)
    lock = FileLock(out / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputError(
            f"{option} {out}: another healthsim run is writing into this folder (lock file "
            f"{out / LOCK_NAME}); wait for it to finish or choose another folder"
        ) from None
    try:
        for stale in out.rglob(f"{TMP_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
        yield out
    finally:
        lock.release()


def _umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a temporary sibling (same suffix), then rename it over ``path``.

    A reader never sees half a file; on a failure (disk full, no permission) the temporary file
    is removed, ``path`` keeps what it had, and an :class:`OutputError` says what happened.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=f"-{path.name}")
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({_reason(exc)})") from None
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would have made it (mkstemp makes 0600)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"{path}: writing failed ({_reason(exc)}); the file was left as it was and files "
            "written before it are intact"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each table as ``<name>.csv`` into ``out_dir`` (created), atomically; return the paths."""
    return [
        atomic_write(Path(out_dir) / f"{name}.csv", lambda p, df=df: df.to_csv(p, index=False))
        for name, df in tables.items()
    ]


@contextmanager
def staged(out_dir: str | Path) -> Iterator[Path]:
    """A staging folder inside ``out_dir`` to write a whole result into; on success it is published
    (:func:`publish`), on any failure removed and ``out_dir`` keeps the previous result untouched."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out, prefix=f"{TMP_PREFIX}stage-"))
    try:
        yield stage
        publish(stage, out)
    except OutputError as exc:  # name the file as the person knows it, not the staging folder
        raise OutputError(
            str(exc)
            .replace(str(stage), str(out))
            .replace("files written before it are intact", f"the previous result in {out} is untouched")
        ) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


OUTPUT_SUFFIXES = (".csv", ".json", ".html", ".xlsx", ".png")  # what a result folder holds (legacy clean-up)


def _previous_files(out: Path) -> list[str]:
    """The files the previous result in ``out`` consists of: its manifest's list, else (written before the list
    was kept) every output-looking file beside a ``plan.json``."""
    try:
        listed = json.loads((out / PLAN_MANIFEST).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return []
    if isinstance(listed, list):
        return [f for f in listed if isinstance(f, str)]
    return [p.name for p in out.iterdir() if p.is_file() and p.suffix in OUTPUT_SUFFIXES]


def publish(stage: Path, out: Path) -> None:
    """Swap the result in ``stage`` into ``out``: the manifest (``plan.json``) is first rewritten with
    ``complete = false``, files of the previous result the new one does not have are removed, the new files
    are moved in, and the manifest with ``complete = true``, its file list and row counts goes in last.
    A run stopped half-way thus leaves a folder that says so, and readers refuse it."""
    files = sorted(p.name for p in stage.iterdir() if p.is_file())
    manifest_path = stage / PLAN_MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    except (OSError, ValueError):
        manifest = {}
    rows = {f: len(pd.read_csv(stage / f)) for f in files if f.endswith(".csv") and (stage / f).stat().st_size}
    manifest.update(complete=True, files=[*files, PLAN_MANIFEST] if PLAN_MANIFEST not in files else files, rows=rows)
    old = _previous_files(out)
    _write_json(out / PLAN_MANIFEST, {**manifest, "complete": False, "files": sorted(set(old) | set(files))})
    try:
        for name in old:
            if name not in manifest["files"]:
                inside(out, name, "file").unlink(missing_ok=True)
        for name in files:
            if name != PLAN_MANIFEST:
                os.replace(stage / name, out / name)
    except OSError as exc:
        raise OutputError(
            f"{out}: replacing the previous result failed ({_reason(exc)}); its plan.json says the "
            "folder is incomplete; rerun into it"
        ) from None
    _write_json(out / PLAN_MANIFEST, manifest)


def plan_tables(plan: AllocationPlan) -> dict[str, pd.DataFrame]:
    """The plan's tables by name: additions, stocks, ratios, costs, attainment, duals."""
    return {name: getattr(plan, name) for name in TABLES}


def plan_manifest(scenario: Scenario, plan: AllocationPlan, variant: str) -> dict:
    """What a plan folder was computed for (``plan.json``): scenario, region, years, variant."""
    return {
        "scenario": scenario.id,
        "region": scenario.region.name,
        "base_year": scenario.base_year,
        "target_year": scenario.target_year,
        "variant": variant,
        "mode": plan.mode,
        "kinds": sorted(set(plan.stocks["kind"])),
    }


def _write_json(path: Path, obj: dict) -> Path:
    text = json.dumps(obj, ensure_ascii=False, indent=1, default=float)
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_plan(plan: AllocationPlan, out_dir: str | Path, scenario: Scenario, variant: str) -> list[Path]:
    """Write a plan's tables as CSV and its ``plan.json`` manifest (what ``healthsim optimize --out`` writes),
    staged and swapped in whole (:func:`staged`)."""
    with staged(out_dir) as stage:
        written = write_tables(plan_tables(plan), stage)
        written.append(_write_json(stage / PLAN_MANIFEST, plan_manifest(scenario, plan, variant)))
    return [Path(out_dir) / p.name for p in written]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class PlanManifest(_Record):
    complete: bool = True  # false while (or when a run stopped while) the folder's result was being replaced
    rows: dict[str, int] = Field(default_factory=dict)  # rows of each CSV file as written
    scenario: str
    region: str
    base_year: int
    target_year: int
    variant: str
    kinds: list[str]


class StockRow(_Record):
    region: str
    year: int
    kind: str
    tier: Literal["hospital", "primary"]
    stock: float = Field(ge=0)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    if err["type"] == "json_invalid":
        return f"not valid JSON ({err['msg'].removeprefix('Invalid JSON: ')})"
    field = ".".join(str(x) for x in err["loc"]) or "contents"
    return f"{field}: {err['msg'][0].lower()}{err['msg'][1:]}, got {str(err.get('input'))[:40]!r}"


def read_plan_manifest(plan_dir: Path, scenario: Scenario) -> PlanManifest:
    """The plan folder's ``plan.json``, checked against ``scenario`` (same region and years)."""
    path = plan_dir / PLAN_MANIFEST
    try:
        manifest = PlanManifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise OutputError(
            f"{path}: not found; expected a plan folder written by 'healthsim optimize --out DIR' "
            "(rerun it to write plan.json)"
        ) from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot read ({_reason(exc)})") from None
    except ValidationError as exc:
        raise OutputError(
            f"{path}: {_first_error(exc)}; expected the plan.json written by 'healthsim optimize --out'"
        ) from None
    if not manifest.complete:
        raise OutputError(
            f"{path}: complete: false; the run that wrote this folder stopped before it finished "
            "(its files may mix two results); expected a finished result: rerun it"
        )
    s = scenario
    if manifest.region != s.region.name:
        raise OutputError(
            f"{path}: region: the plan is for {manifest.region} (scenario '{manifest.scenario}'), "
            f"not {s.region.name}; expected a plan of scenario '{s.id}'"
        )
    if not s.base_year <= manifest.base_year < manifest.target_year <= s.base_year + 100:
        raise OutputError(
            f"{path}: years: the plan runs {manifest.base_year}-{manifest.target_year}; expected a plan "
            f"from {s.base_year} (the base year of scenario '{s.id}') or later"
        )
    return manifest


PLAN_KEYS = {
    "stocks": ["region", "year", "kind", "tier", "ownership"],
    "costs": ["year", "kind", "tier", "ownership"],
    "attainment": ["region", "kind", "measure"],
}  # what identifies a row (columns present)


def check_rows(path: Path, df: pd.DataFrame, expected_rows: int | None, keys: list[str]) -> None:
    """Refuse a plan table read back with no rows, a row whose ``keys`` repeat an earlier row's (both named,
    counting the header as row 1), or another number of rows than its manifest says were written."""
    if df.empty:
        raise OutputError(
            f"{path}: no rows (only its header); expected the rows written by 'healthsim optimize --out DIR'"
        )
    have = [k for k in keys if k in df.columns]
    dup = df.duplicated(have, keep=False) if have else pd.Series(False, index=df.index)
    if dup.any():
        df = df.reset_index(drop=True)
        again = int(df.index[df.duplicated(have)][0])
        first = int((df[have] == df.loc[again, have]).all(axis=1).idxmax())
        what = ", ".join(str(df.loc[again, k]) for k in have)
        raise OutputError(
            f"{path}: row {again + 2}: {'/'.join(have)} ({what}) repeats row {first + 2}; expected "
            "each once, as written by 'healthsim optimize --out DIR'"
        )
    if expected_rows is not None and len(df) != expected_rows:
        raise OutputError(
            f"{path}: {len(df)} rows; plan.json says {expected_rows} were written; expected the file "
            "as written (rows were removed or added)"
        )


def read_plan_capacities(plan_dir: str | Path, scenario: Scenario) -> dict[int, Capacities]:
    """Capacities by year from a plan folder (``plan.json`` and ``stocks.csv`` from ``optimize --out``),
    each row checked: columns, types, ranges, region and years matching ``scenario``."""
    folder = Path(plan_dir)
    if not folder.is_dir():
        raise OutputError(f"--plan {folder}: not a folder; expected a folder written by 'healthsim optimize --out DIR'")
    manifest = read_plan_manifest(folder, scenario)
    path = folder / "stocks.csv"
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise OutputError(
            f"{path}: not found; expected the stocks.csv written by 'healthsim optimize --out DIR'"
        ) from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise OutputError(
            f"{path}: not a readable CSV ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None
    need = {"region", "year", "kind", "tier", "stock"}
    if not need <= set(df.columns):
        raise OutputError(f"{path}: columns {sorted(df.columns)}; expected at least {sorted(need)}")
    check_rows(path, df.iloc[:0] if df.empty else df.iloc[:1], None, [])  # only its header: refused first
    rows = []
    for i, record in enumerate(df[sorted(need)].to_dict(orient="records"), start=2):  # row 1 is the header
        try:
            rows.append(StockRow.model_validate(record))
        except ValidationError as exc:
            raise OutputError(f"{path}: row {i}: {_first_error(exc)}") from None
    for i, r in enumerate(rows, start=2):
        problem = (
            f"region {r.region!r}; expected {manifest.scenario!r} as in plan.json"
            if r.region != manifest.scenario
            else f"year {r.year}; expected {manifest.base_year}-{manifest.target_year} as in plan.json"
            if not manifest.base_year <= r.year <= manifest.target_year
            else (msg := outside("resources.*.stock", r.stock)) and f"stock: {msg}"
        )
        if problem:
            raise OutputError(f"{path}: row {i}: {problem}")
    try:
        capacities = capacities_by_year(pd.DataFrame([r.model_dump() for r in rows]), str(path))
    except NetworkError as exc:
        raise OutputError(str(exc)) from None
    check_rows(path, df, manifest.rows.get(path.name), PLAN_KEYS["stocks"])  # each row once, none missing
    return capacities


PLAN_FILES = {
    "stocks": {"region", "year", "kind", "tier", "stock"},
    "costs": {"year", "capital_cny", "running_cny", "total_cny"},
    "attainment": {"region", "kind", "measure", "met"},
}


def _read_plan_table(plan_dir: Path, name: str, manifest: PlanManifest | None = None) -> pd.DataFrame:
    path = plan_dir / f"{name}.csv"
    if not path.exists():
        raise OutputError(f"{path}: not found; expected the {name}.csv written by 'healthsim optimize --out DIR'")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # unreadable CSV
        raise OutputError(f"{path}: not a readable CSV ({exc})") from None
    missing = PLAN_FILES[name] - set(df.columns)
    if missing:
        raise OutputError(
            f"{path}: no column(s) {', '.join(sorted(missing))}; expected {', '.join(sorted(PLAN_FILES[name]))}"
        )
    check_rows(path, df, manifest.rows.get(path.name) if manifest else None, PLAN_KEYS[name])
    return df


def read_plan(plan_dir: str | Path, problem: AllocationProblem) -> AllocationPlan:
    """A plan folder written by ``optimize --out`` (stocks, costs, attainment) as a plan of ``problem``."""
    d = Path(plan_dir)
    manifest = None
    if (d / PLAN_MANIFEST).exists():  # a plan folder without one (written before plan.json) is read unchecked
        try:
            manifest = PlanManifest.model_validate_json((d / PLAN_MANIFEST).read_bytes())
        except (OSError, ValidationError) as exc:
            raise OutputError(
                f"{d / PLAN_MANIFEST}: {str(exc).splitlines()[0]}; expected the plan.json written by "
                "'healthsim optimize --out'"
            ) from None
        if not manifest.complete:
            raise OutputError(
                f"{d / PLAN_MANIFEST}: complete: false; the run that wrote this folder stopped before "
                "it finished; expected a finished result: rerun it"
            )
    stocks, costs, att = (_read_plan_table(d, n, manifest) for n in ("stocks", "costs", "attainment"))
    region = problem.regions[0]
    have = stocks[(stocks["region"].astype(str) == region) & (stocks["year"] == problem.target_year)]
    if have.empty:
        raise OutputError(
            f"{d / 'stocks.csv'}: no stocks of region {region!r} in {problem.target_year}; expected a "
            "plan of the same scenario and target year"
        )
    stocks = stocks.assign(region=stocks["region"].astype(str))
    att = att.assign(region=att["region"].astype(str), met=att["met"].astype(bool))
    empty = pd.DataFrame()
    return AllocationPlan(
        mode="read",
        status="read",
        objective=float("nan"),
        total_cost=float(costs["total_cny"].sum()),
        budget_total=problem.budget_total,
        additions=empty,
        stocks=stocks,
        ratios=empty,
        costs=costs,
        attainment=att,
        duals=empty,
    )
