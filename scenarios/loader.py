"""Load scenario files (TOML), resolve ``extend`` chains and report errors clearly.

A scenario file may ``extend`` another (a built-in name such as ``"conghua"`` or a
path relative to the file) and override any field: tables merge key by key; a quantity
(``{ value = ..., source = ... }``), a target and every other value (numbers, strings,
lists) replaces the parent's whole, so an overriding number never keeps a stale citation. ``extend`` composes:
a what-if can extend a what-if.
"""

from __future__ import annotations

import math
import tomllib
import warnings
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from scenarios import bounds
from scenarios.schema import UNIT_DIVISOR, Scenario, safe_name

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"


MAX_EXTEND_DEPTH = 50  # files in one extend chain; a longer chain is refused (it is a mistake, not a plan)
SCOPE_FACTOR = 3.0  # a baseline ratio and its target further apart than this suggest different scopes
STOCK_RATIO_FACTOR = 1.5  # a stated ratio and the one its stock and population imply further apart: an error
OBSERVED_GROWTH = 0.2  # a year: an observed population further from population.base than this compounded is refused


class ScenarioWarning(UserWarning):
    """A scenario loads but looks suspicious (e.g. a baseline and its target of different scope)."""


class ScenarioError(Exception):
    """A scenario file is wrong. ``str()`` gives one line per problem: file, field, what was expected."""

    def __init__(self, file: str | Path, problems: list[tuple[str, str]]):
        self.file = str(file)
        self.problems = problems
        lines = [f"{self.file}: {field}: {msg}" if field else f"{self.file}: {msg}" for field, msg in problems]
        super().__init__("\n".join(lines))


def builtin_names() -> list[str]:
    """Names of the built-in scenarios (files in scenarios/builtin/ not starting with '_')."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml") if not p.stem.startswith("_"))


def resolve_path(ref: str | Path, relative_to: Path | None = None) -> Path:
    """Map a built-in name or a path to a scenario file."""
    ref_s = str(ref)
    if not ref_s.endswith(".toml") and "/" not in ref_s and "\\" not in ref_s:
        candidate = BUILTIN_DIR / f"{ref_s}.toml"
        if candidate.exists():
            return candidate
        raise ScenarioError(
            ref_s,
            [
                (
                    "",
                    f"no built-in scenario named {ref_s!r}; expected one of {', '.join(builtin_names())} or a path to "
                    f"a .toml file",
                )
            ],
        )
    path = Path(ref_s)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's data; a UTF-8 byte-order mark (as some Windows editors write) is accepted."""
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ScenarioError(path, [("", "file not found; expected a scenario .toml file")]) from None
    except IsADirectoryError:
        raise ScenarioError(path, [("", "is a directory; expected a scenario .toml file")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, [("", f"not valid TOML ({exc})")]) from None
    except UnicodeDecodeError:
        raise ScenarioError(path, [("", "not UTF-8 text; expected a TOML file")]) from None


def _is_leaf_table(value: dict[str, Any]) -> bool:
    """A quantity (``value = ...``) or a target (``expr = ...``) is replaced whole, never merged,
    so an overriding number never inherits the parent's citation."""
    return "value" in value or "expr" in value


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``: tables recursively, other values replaced.

    Quantities and targets are replaced whole (see :func:`_is_leaf_table`).
    """
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not _is_leaf_table(value):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


AGE_RATES = ("birth_rate", "death_rate", "net_migration_rate")


def tie_age_rates(own: dict[str, Any], merged: dict[str, Any]) -> dict[str, Any]:
    """``merged`` with ``population.age_structure.rates`` set to its population rates when ``own`` (one file's
    data) gives an age structure without ``rates``: the age table stands for the rates stated with it, and
    a file extending it that changes a rate scales the table's fertility or mortality (see
    :class:`scenarios.schema.AgeRates`)."""
    ages = own.get("population", {}).get("age_structure") if isinstance(own.get("population"), dict) else None
    pop = merged.get("population")
    if not isinstance(ages, dict) or "rates" in ages or not isinstance(pop, dict):
        return merged
    if not isinstance(pop.get("age_structure"), dict) or not all(k in pop for k in AGE_RATES):
        return merged  # the schema reports what is missing
    ages_out = {**pop["age_structure"], "rates": {k: pop[k] for k in AGE_RATES}}
    return {**merged, "population": {**pop, "age_structure": ages_out}}


def load_raw(ref: str | Path, _chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Path]:
    """Read a scenario file and everything it extends, merged; return (data, path). An age structure
    without ``rates`` is tied to the rates of the file that gives it (:func:`tie_age_rates`)."""
    path = resolve_path(ref, _chain[-1].parent if _chain else None)
    key = path.resolve()
    if key in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, key))
        raise ScenarioError(path, [("extend", f"extends itself in a cycle ({cycle}); expected a chain that ends")])
    if len(_chain) >= MAX_EXTEND_DEPTH:
        raise ScenarioError(
            _chain[0],
            [
                (
                    "extend",
                    f"the extend chain is longer than {MAX_EXTEND_DEPTH} files "
                    f"(it reaches {path.name}); expected a chain of at most "
                    f"{MAX_EXTEND_DEPTH}",
                )
            ],
        )
    data = _read_toml(path)
    if isinstance(data.get("axes"), dict):
        raise ScenarioError(
            path,
            [
                (
                    "axes",
                    f"{path.name} is a batch grid (it has an [axes] table), not a scenario; "
                    "expected a scenario file (pass a grid to 'healthsim batch --grid')",
                )
            ],
        )
    if not _chain and "id" not in data:  # a what-if without its own id is named after its file
        data["id"] = safe_name(path.stem)
    parent = data.pop("extend", None)
    if parent is None:
        return tie_age_rates(data, data), path
    if not isinstance(parent, str):
        raise ScenarioError(path, [("extend", f"expected a scenario name or path as a string, got {parent!r}")])
    try:
        target = path.parent / parent if (path.parent / parent).is_dir() else resolve_path(parent, path.parent)
        if target.is_dir():
            raise ScenarioError(
                path,
                [
                    (
                        "extend",
                        f"{parent!r} is a folder ({target}); expected a built-in name "
                        "or a path to a .toml file relative to this file",
                    )
                ],
            )
        if not target.is_file():
            raise ScenarioError(
                path,
                [
                    (
                        "extend",
                        f"{parent!r} not found (looked for {target}); expected a built-in "
                        "name or a path to a .toml file relative to this file",
                    )
                ],
            )
        base, _ = load_raw(parent, (*_chain, key))
    except ScenarioError as exc:
        if exc.file == str(parent):  # unknown built-in name: blame the extending file
            raise ScenarioError(path, [("extend", msg) for _, msg in exc.problems]) from None
        raise
    return tie_age_rates(data, deep_merge(base, data)), path


def _unwrap(tp: Any) -> Any:
    """Optional[X] / X | None -> X (the first model, dict or list among the union's arms)."""
    if get_origin(tp) in (Union, UnionType):
        for arm in get_args(tp):
            if arm is not type(None):
                return arm
    return tp


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """Keys allowed at the parent of ``loc`` (for an 'unknown key' message)."""
    current: Any = model
    for part in loc[:-1]:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list:
            current = get_args(current)[0]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


_QUANTITY = (
    "a table like { value = 6.0, source = \"<seed>.txt:LINE\" }, { value = 6.0, reference = \"《document》, year\" } "
    "or { value = 6.0, assumption = \"why\" }"
)
_EXPECTED = {  # pydantic error type -> what was expected, in words
    "string_type": "text in quotes",
    "dict_type": "a table",
    "list_type": "a list [...]",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "finite_number": "a finite number",
}


def _short(value: Any, limit: int = 60) -> str:
    """``repr`` of an offending input, cut to ``limit`` characters (one line)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_field(dotted: str) -> str | None:
    """Why ``dotted`` (e.g. ``constraints.max_additions_share.nurses``) is not a scenario field, or None."""
    parts = dotted.split(".")
    current: Any = Scenario
    for i, part in enumerate(parts):
        here = ".".join(parts[: i + 1])
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if part not in current.model_fields:
                return f"{here}: unknown field; allowed here: {', '.join(current.model_fields)}"
            current = current.model_fields[part].annotation
        elif get_origin(current) is dict:
            key_type, current = get_args(current)
            allowed = get_args(key_type) if get_origin(key_type) is Literal else ()
            if allowed and part not in allowed:
                return f"{here}: unknown key {part!r}; allowed here: {', '.join(allowed)}"
        else:
            return f"{here}: {'.'.join(parts[:i]) or 'the scenario'} has no fields to set (a value or a list)"
    return None


def _describe(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid"))
    got = _short(err.get("input"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "missing":
        return "missing; this field is required"
    if kind == "model_type":  # a bare value where a table (usually a quantity) is expected
        what = _QUANTITY if "Quantity" in msg or "Rate" in msg or "Fraction" in msg else "a table"
        return f"expected {what}, got {got}"
    if kind == "string_type" and err["loc"] and err["loc"][-1] == "expr":
        return f"expected a target in quotes such as \"6.0\", \">4.0\" or \"+30%\", got {got}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {got}"
    if kind == "literal_error":
        return f"{msg[0].lower()}{msg[1:]}, got {got}"
    if kind in ("float_parsing", "int_parsing", "float_type", "int_type", "int_from_float"):
        return f"expected a number, got {got}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"expected a value that is {msg[len('Input should be ') :]}, got {got}"
    return msg


def base_year_problems(s: Scenario, year: int, field: str) -> list[tuple[str, str]]:
    """Why ``year`` cannot be a plan's base year of ``s`` (empty when it can).

    A base year needs each figure observed in that year or derivable: the population by projection
    from the scenario's base year on, a resource stock from the scenario's own plan
    (``base_year``..``target_year``).
    """
    if year < s.base_year:
        return [
            (
                field,
                f"base year {year} is before the scenario's base year {s.base_year}; no figures can be "
                f"derived for it; expected a year from {s.base_year} on",
            )
        ]
    obs = s.observed.get(year)
    missing = [k for k in s.resources if obs is None or k not in obs.resources]
    if year > s.target_year and missing:
        return [
            (
                field,
                f"base year {year} is after the scenario's target year {s.target_year} and "
                f"observed.{year} gives no stock of {', '.join(missing)}; expected a base year up to "
                f"{s.target_year} (derived from the plan) or observed.{year}.resources for every resource",
            )
        ]
    return []


def _unit_hint(unit: str, factor: float) -> str:
    """The likely mistake when a stated ratio is ``factor`` times the one its stock implies."""
    power = round(math.log10(factor))
    if power == 0 or abs(math.log10(factor) - power) > math.log10(STOCK_RATIO_FACTOR):
        return "expected a stock and a ratio of the same institutions and year"
    other = {v: k for k, v in UNIT_DIVISOR.items()}.get(UNIT_DIVISOR[unit] * 10.0**power)
    n = abs(power)
    extra, missing = ("an extra zero", "a zero missing") if n == 1 else (f"{n} extra zeros", f"{n} zeros missing")
    stock, base = (extra, missing) if power < 0 else (missing, extra)
    ratio = f"a ratio per {int(UNIT_DIVISOR[other]):,} residents given with unit = \"{unit}\", " if other else ""
    return (
        f"off by a factor of {10.0**power:g}: {ratio}{stock} on the stock or {base} on population.base looks like this"
    )


def _stock_ratio_problems(s: Scenario) -> list[tuple[str, str]]:
    """A resource giving both its stock and its ratio: the ratio must agree with stock / population.base within a
    factor of :data:`STOCK_RATIO_FACTOR` (rounding of a printed ratio and small scope differences pass)."""
    problems = []
    base = s.population.base.value
    for kind, res in s.resources.items():
        if res.stock is None or res.ratio is None or (res.stock.value == 0 and res.ratio.value == 0):
            continue
        per = int(UNIT_DIVISOR[res.unit])
        implied = res.stock.value / base * UNIT_DIVISOR[res.unit]
        factor = res.ratio.value / implied if implied > 0 else math.inf
        if 1 / STOCK_RATIO_FACTOR <= factor <= STOCK_RATIO_FACTOR:
            continue
        hint = (
            _unit_hint(res.unit, factor)
            if math.isfinite(factor) and factor > 0
            else "expected both zero or both above zero"
        )
        problems.append(
            (
                f"resources.{kind}.ratio",
                f"{res.ratio.value:g} per {per:,} residents, but stock {res.stock.value:,.0f} over "
                f"population.base {base:,.0f} is {implied:.4g} per {per:,}; expected them to agree within "
                f"a factor of {STOCK_RATIO_FACTOR:g}; {hint}",
            )
        )
    return problems


def _target_problems(s: Scenario) -> list[tuple[str, str]]:
    """A planned target's ``year`` must be its plan's target year (the optimizer plans each target for the target
    year, with yearly milestones on the straight line to it: no interim targets); a relative target needs a base
    above zero. ``alternative_targets`` are kept for the record, never planned, and may name other years."""
    targets = [(f"resources.{k}.target", s.target_year, r.target) for k, r in s.resources.items()]
    targets += [
        (f"resources.{k}.private.target", s.target_year, r.private.target)
        for k, r in s.resources.items()
        if r.private is not None
    ]
    if s.next_plan is not None:
        targets += [(f"next_plan.targets.{k}", s.next_plan.target_year, t) for k, t in s.next_plan.targets.items()]
    problems = [
        (
            f"{field}.year",
            f"{t.year} is not the target year {year}; the optimizer plans every target for the "
            "target year (its yearly milestones run on a straight line to it), so an interim "
            f"target cannot be planned; expected year = {year} or no year",
        )
        for field, year, t in targets
        if t is not None and t.year is not None and t.year != year
    ]
    for kind, res in s.resources.items():
        t = res.target
        if t is not None and t.parsed.relative and s.baseline_ratio(kind) == 0:
            problems.append(
                (
                    f"resources.{kind}.target.expr",
                    f"{t.expr!r} is relative to a base-year ratio of 0, which no percentage can move; "
                    f"expected an absolute target such as \"1.0\" (per {int(UNIT_DIVISOR[res.unit]):,} "
                    "residents) or a base-year stock above 0",
                )
            )
    return problems


def _observed_problems(s: Scenario) -> list[tuple[str, str]]:
    """An observed population after the base year must lie within +-:data:`OBSERVED_GROWTH` a year, compounded, of
    ``population.base`` (the calibration's net migration bound, 200 per 1,000 a year)."""
    problems = []
    base = s.population.base.value
    for year, fig in s.observed_series("population").items():
        if year <= s.base_year or fig.value <= 0:
            continue
        growth = (fig.value / base) ** (1.0 / (year - s.base_year)) - 1.0
        if abs(growth) > OBSERVED_GROWTH:
            problems.append(
                (
                    f"observed.{year}.population",
                    f"{fig.value:,.0f} is {fig.value / base:.3g} times population.base {base:,.0f} "
                    f"({s.base_year}), a change of {growth * 100:+.0f}% a year; expected at most "
                    f"{OBSERVED_GROWTH:.0%} a year either way; a figure with an extra or a missing zero, in "
                    "another unit (万 persons) or of another area looks like this",
                )
            )
    return problems


def _cross_checks(s: Scenario) -> list[tuple[str, str]]:
    """Checks across fields: observed years within the plan years, observed and next-plan kinds known, stocks
    against ratios (:func:`_stock_ratio_problems`), target years and relative targets (:func:`_target_problems`),
    observed populations against the base (:func:`_observed_problems`)."""
    last = max(s.target_year, s.next_plan.target_year if s.next_plan else s.target_year)
    problems = _stock_ratio_problems(s) + _target_problems(s) + _observed_problems(s)
    for year, obs in sorted(s.observed.items()):
        if year > last:
            problems.append(
                (
                    f"observed.{year}",
                    f"year {year} is after the target year {last}; "
                    f"expected observed years from {s.base_year} to {last}",
                )
            )
        elif year < s.base_year:
            problems.append(
                (
                    f"observed.{year}",
                    f"year {year} is before the base year {s.base_year}; "
                    f"expected observed years from {s.base_year} to {last}",
                )
            )
        for kind in obs.resources:
            if kind not in s.resources:
                problems.append(
                    (
                        f"observed.{year}.resources.{kind}",
                        f"not a resource of this scenario; expected one of {', '.join(s.resources)}",
                    )
                )
    if s.next_plan is not None:
        for kind in s.next_plan.targets:
            if kind not in s.resources:
                problems.append(
                    (
                        f"next_plan.targets.{kind}",
                        f"not a resource of this scenario; expected one of {', '.join(s.resources)}",
                    )
                )
        problems += base_year_problems(s, s.next_plan.base_year, "next_plan.base_year")
    return problems


def validate(data: dict[str, Any], file: str | Path) -> Scenario:
    """Validate merged scenario data against the schema and the plausible ranges (:mod:`scenarios.bounds`);
    raise :class:`ScenarioError` listing every problem."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _schema_problems(exc)
        seen = {field for field, _ in problems}
        problems += [(f, m) for f, m in bounds.check(data) if f not in seen]
        raise ScenarioError(file, problems) from None
    problems = bounds.check(scenario.model_dump()) + _cross_checks(scenario)
    if problems:
        raise ScenarioError(file, problems)
    return scenario


def field_name(parts: tuple[Any, ...]) -> str:
    """A dotted field name; a key that is not printable text is shown quoted and escaped (one line)."""
    return ".".join(str(p) if str(p).isprintable() and str(p) else repr(str(p)) for p in parts)


def _schema_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, message) for each schema error, in words."""
    problems: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if p != "[key]")
        field = field_name(loc)
        if err.get("type") == "extra_forbidden":
            allowed = _allowed_keys(Scenario, loc)
            hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
            problems.append((field, f"unknown key{hint}"))
        else:
            problems.append((field, _describe(err)))
    return problems


def scope_warnings(s: Scenario, file: str | Path) -> list[str]:
    """One message per resource whose baseline ratio and target differ by more than :data:`SCOPE_FACTOR`."""
    out = []
    for kind, res in s.resources.items():
        if res.target is None or res.target.parsed.relative:
            continue
        base, goal = s.baseline_ratio(kind), res.target.parsed.value
        if base > 0 and goal > 0 and max(base / goal, goal / base) > SCOPE_FACTOR:
            unit = f"per {int(UNIT_DIVISOR[res.unit]):,}"
            out.append(
                f"{file}: resources.{kind}: baseline {base:g} and target {res.target.expr} {unit} "
                f"differ by a factor of {max(base / goal, goal / base):.1f}; expected both to count the same "
                "institutions (a different scope, e.g. district-run only against all institutions, looks alike)"
            )
    return out


def load(ref: str | Path) -> Scenario:
    """Load a scenario by built-in name or path, with its ``extend`` chain resolved; warn (:class:`ScenarioWarning`)
    about baselines and targets that look like different scopes."""
    data, path = load_raw(ref)
    scenario = validate(data, path)
    for message in scope_warnings(scenario, path.name):
        warnings.warn(message, ScenarioWarning, stacklevel=2)
    return scenario
