"""What-ifs: edits to a scenario given as dotted fields, applied to its raw data and saved as a file.

An edit names a field as a dotted path (``population.net_migration_rate``,
``resources.beds.target.expr``, ``plan.budget_total``, ``constraints.enabled.hiring_limits``)
and its new value. A changed number with provenance (a quantity) becomes
``{ value = new, assumption = "changed in the workbench: <field> from <old> to <new>" }``,
so it never keeps the parent's citation; a changed target keeps its other settings and
records the change the same way. A what-if is saved as a TOML file that ``extend``\\ s its base
and holds only the changed fields; ``healthsim validate`` accepts it. Used by the browser
workbench (``app.py``) and by ``healthsim whatif``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel

from scenarios.amounts import parse_cny
from scenarios.loader import (
    BUILTIN_DIR,
    MAX_EXTEND_DEPTH,
    ScenarioError,
    _unwrap,
    deep_merge,
    load_raw,
    resolve_path,
    validate,
)
from scenarios.schema import Quantity, Scenario, TargetSpec, name_problem, safe_name

CHANGED = "changed in the workbench"
MONEY_PREFIXES = ("plan.budget_total", "plan.budget_per_year", "costs.")  # amounts of CNY: '25亿' is read
TARGET_KEYS = ("expr", "nature", "year")
NOT_SET = "not set"
WRITTEN_MARK = "# healthsim what-if (written by healthsim; it may replace this file)"


def _field(field: str) -> tuple[Any, Any]:
    """(schema type, schema default) of a dotted field; (None, None) if the schema has no such field."""
    current: Any = Scenario
    default = None
    for part in field.split("."):
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            if info is None:
                return None, None
            current, default = info.annotation, info.get_default(call_default_factory=True)
        elif getattr(current, "__origin__", None) is dict:
            current, default = current.__args__[1], None
        else:
            return None, None
    return _unwrap(current), default


def field_model(field: str) -> Any:
    """The schema type of a dotted field (a model class, ``float``, ``bool``, ...), or None if unknown."""
    return _field(field)[0]


def _is(model: Any, base: type) -> bool:
    return isinstance(model, type) and issubclass(model, base)


def _get(data: dict[str, Any], keys: list[str]) -> Any:
    node: Any = data
    for k in keys:
        node = node.get(k) if isinstance(node, dict) else None
    return node


def _show(value: Any) -> str:
    if value is None:
        return NOT_SET
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1e5 else f"{value:g}"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def rate_field(data: dict[str, Any], variant: str, rate: str) -> str:
    """The field that sets ``rate`` (birth_rate, ...) for ``variant``: the variant's own when it overrides it."""
    if variant != "medium" and rate in data.get("population", {}).get("variants", {}).get(variant, {}):
        return f"population.variants.{variant}.{rate}"
    return f"population.{rate}"


def coerce(data: dict[str, Any], field: str, raw: str, file: str = "--set") -> Any:
    """A value typed on the command line as the field expects it: amounts of CNY ('25亿'), numbers, booleans, text."""
    model, text = field_model(field), raw.strip()
    if _is(model, Quantity) or model is float or model is int:
        if field.startswith(MONEY_PREFIXES):
            return parse_cny(text, field)
        try:
            return float(text)
        except ValueError:
            raise ScenarioError(file, [(field, f"expected a number, got {raw!r}")]) from None
    if model is bool:
        if text.lower() not in ("true", "false"):
            raise ScenarioError(file, [(field, f"expected true or false, got {raw!r}")])
        return text.lower() == "true"
    if model is str or field.endswith(".expr"):
        return text
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_settings(settings: list[str], data: dict[str, Any], file: str = "--set") -> dict[str, Any]:
    """``['population.net_migration_rate=8', 'plan.budget_total=25亿']`` -> {field: typed value}."""
    edits: dict[str, Any] = {}
    for item in settings:
        field, sep, raw = item.partition("=")
        if not sep or not field.strip():
            raise ScenarioError(file, [("", f"{item!r}: expected FIELD=VALUE, e.g. population.net_migration_rate=8")])
        edits[field.strip()] = coerce(data, field.strip(), raw, file)
    return edits


def _changed_target(data: dict[str, Any], keys: list[str], changes: dict[str, Any]) -> dict[str, Any] | None:
    """The new target table for ``changes`` to its expr/nature/year (None when nothing changes)."""
    old = _get(data, keys)
    old = old if isinstance(old, dict) else {}
    new = {k: v for k, v in old.items() if k in TARGET_KEYS}
    notes = []
    for key, value in changes.items():
        if old.get(key) == value:
            continue
        new[key] = value
        notes.append(f"{'.'.join(keys)}.{key} from {_show(old.get(key))} to {_show(value)}")
    if not notes:
        return None
    new.setdefault("nature", "expected")
    new["assumption"] = f"{CHANGED}: {'; '.join(notes)}"
    return new


def _changed_value(data: dict[str, Any], field: str, value: Any) -> tuple[bool, Any]:
    """(changed?, the override for ``field``): a number for a quantity becomes a labelled assumption."""
    keys = field.split(".")
    old = _get(data, keys)
    is_quantity = (isinstance(old, dict) and "value" in old) or _is(field_model(field), Quantity)
    if is_quantity and isinstance(value, (int, float)) and not isinstance(value, bool):
        before = old.get("value") if isinstance(old, dict) else None
        if before is not None and float(before) == float(value):
            return False, None
        dropped = " (its yearly path dropped)" if isinstance(old, dict) and old.get("path") else ""
        return True, {
            "value": value,
            "assumption": f"{CHANGED}: {field} from {_show(before)} to {_show(value)}{dropped}",
        }
    if old is None:
        old = _field(field)[1]  # absent: the schema's default applies
    return old != value, value


def override_for(data: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    """The nested override holding only the fields ``edits`` change in ``data`` (raw scenario data)."""
    override: dict[str, Any] = {}
    targets: dict[tuple[str, ...], dict[str, Any]] = {}

    def put(keys: list[str], value: Any) -> None:
        node = override
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value

    for field, value in edits.items():
        keys = field.split(".")
        if len(keys) >= 2 and keys[-1] in TARGET_KEYS and _is(field_model(".".join(keys[:-1])), TargetSpec):
            targets.setdefault(tuple(keys[:-1]), {})[keys[-1]] = value
            continue
        changed, new = _changed_value(data, field, value)
        if changed:
            put(keys, new)
    for keys, changes in targets.items():
        new = _changed_target(data, list(keys), changes)
        if new is not None:
            put(list(keys), new)
    return override


def changed_fields(override: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the leaves of an override (a quantity or target counts as one field)."""
    out = []
    for k, v in override.items():
        name = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and "value" not in v and "expr" not in v:
            out.extend(changed_fields(v, name))
        else:
            out.append(name)
    return out


def apply_edits(data: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``edits`` applied (changed quantities labelled as workbench assumptions)."""
    return deep_merge(data, override_for(data, edits))


def label_of(base: str | Path) -> str:
    """How messages name an edited scenario: '<base> (what-if)'."""
    return f"{base} (what-if)"


def edited_scenario(base: str | Path, edits: dict[str, Any]) -> Scenario:
    """Load ``base`` (built-in name or path), apply ``edits`` and validate; ScenarioError names each bad field."""
    data, _ = load_raw(base)
    return validate(apply_edits(data, edits), label_of(base))


def _extend_ref(base: str | Path, out: Path | None) -> str:
    """How the saved file names its base: a built-in by name, a file by its path relative to the what-if."""
    text = str(base)
    path = Path(text)
    if not text.endswith(".toml") and "/" not in text and "\\" not in text:
        return text
    if path.resolve().parent == BUILTIN_DIR:
        return path.stem
    if out is None:
        return str(path.resolve())
    return Path(os.path.relpath(path.resolve(), out.resolve().parent)).as_posix()


def whatif_document(
    base: str | Path,
    edits: dict[str, Any],
    wid: str | None = None,
    description: str | None = None,
    out: str | Path | None = None,
) -> dict[str, Any]:
    """The what-if as TOML data: ``extend``, ``id``, ``description`` and only the changed fields.
    ``wid`` must be a name (it names files and folders): ScenarioError otherwise."""
    if wid is not None and (problem := name_problem(wid)):
        raise ScenarioError(label_of(base), [("id", problem)])
    data, _ = load_raw(base)
    override = override_for(data, edits)
    validate(deep_merge(data, override), label_of(base))  # never save a what-if that does not load
    fields = changed_fields(override)
    doc: dict[str, Any] = {
        "extend": _extend_ref(base, Path(out) if out else None),
        "id": wid or f"{data.get('id', Path(str(base)).stem)}_whatif",
        "description": description
        or f"What-if of {data.get('id', base)}: {', '.join(fields) if fields else 'no changes'}.",
    }
    return {**doc, **override}


def dumps_whatif(doc: dict[str, Any], header: str = "") -> str:
    """TOML text of a what-if document, with optional comment lines on top."""
    lines = "".join(f"# {line}\n" for line in header.splitlines())
    return lines + tomli_w.dumps(doc)


def chain_files(base: str | Path) -> list[Path]:
    """The files ``base`` is made of: its own and every file its ``extend`` chain reads (resolved)."""
    files: list[Path] = []
    path = resolve_path(base)
    while path.resolve() not in files and len(files) <= MAX_EXTEND_DEPTH:
        files.append(path.resolve())
        try:
            parent = tomllib.loads(path.read_text(encoding="utf-8-sig")).get("extend")
            path = resolve_path(parent, path.parent) if isinstance(parent, str) else None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ScenarioError):
            path = None
        if path is None:
            break
    return files


def written_by_healthsim(path: Path) -> bool:
    """Whether file ``path`` is a what-if written by :func:`save_whatif` (its first line is :data:`WRITTEN_MARK`)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return fh.readline().rstrip("\n") == WRITTEN_MARK
    except OSError:
        return False


def save_problem(base: str | Path, out: str | Path, force: bool = False) -> str | None:
    """Why the what-if of ``base`` must not be written to ``out`` (None when it may).

    Never the base itself or a file its chain extends (the what-if would extend itself); without ``force``,
    never into the built-in scenarios nor over a file that is not a what-if written by healthsim.
    """
    target = Path(out)
    if target.is_dir():
        return "is a folder; expected a file name ending in .toml"
    if target.suffix != ".toml":
        return "expected a file name ending in .toml"
    resolved = target.resolve()
    if resolved in chain_files(base):
        return (
            f"is the scenario this what-if extends ({base}); saving there would make it extend itself; "
            "expected another file name"
        )
    if force:
        return None
    if resolved.is_relative_to(BUILTIN_DIR):
        return "is inside the built-in scenarios (scenarios/builtin/); expected a file elsewhere (or --force)"
    if target.exists() and not written_by_healthsim(target):
        return "exists and is not a what-if written by healthsim; expected a new file name (or --force to replace it)"
    return None


def save_whatif(
    base: str | Path,
    edits: dict[str, Any],
    out: str | Path,
    wid: str | None = None,
    description: str | None = None,
    header: str = "",
    force: bool = False,
    option: str = "--out",
) -> Path:
    """Write the what-if file to ``out`` (atomically) and return its path; :func:`save_problem` is checked first
    (an OutputError naming ``option``)."""
    from scenarios.files import OutputError, atomic_write

    out = Path(out)
    if problem := save_problem(base, out, force):
        raise OutputError(f"{option} {out}: {problem}")
    doc = whatif_document(base, edits, wid or safe_name(out.stem), description, out)
    text = WRITTEN_MARK + "\n" + dumps_whatif(doc, header)
    return atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
