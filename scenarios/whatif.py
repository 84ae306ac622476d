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
from scenarios.loader import BUILTIN_DIR, ScenarioError, _unwrap, deep_merge, load_raw, validate
from scenarios.schema import Quantity, Scenario, TargetSpec

CHANGED = "changed in the workbench"
MONEY_PREFIXES = ("plan.budget_total", "plan.budget_per_year", "costs.")  # amounts of CNY: '25亿' is read
TARGET_KEYS = ("expr", "nature", "year")
NOT_SET = "not set"


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
        return True, {"value": value, "assumption": f"{CHANGED}: {field} from {_show(before)} to {_show(value)}{dropped}"}
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


def whatif_document(base: str | Path, edits: dict[str, Any], wid: str | None = None,
                    description: str | None = None, out: str | Path | None = None) -> dict[str, Any]:
    """The what-if as TOML data: ``extend``, ``id``, ``description`` and only the changed fields."""
    data, _ = load_raw(base)
    override = override_for(data, edits)
    validate(deep_merge(data, override), label_of(base))  # never save a what-if that does not load
    fields = changed_fields(override)
    doc: dict[str, Any] = {"extend": _extend_ref(base, Path(out) if out else None),
                           "id": wid or f"{data.get('id', Path(str(base)).stem)}_whatif",
                           "description": description or f"What-if of {data.get('id', base)}: "
                                                         f"{', '.join(fields) if fields else 'no changes'}."}
    return {**doc, **override}


def dumps_whatif(doc: dict[str, Any], header: str = "") -> str:
    """TOML text of a what-if document, with optional comment lines on top."""
    lines = "".join(f"# {line}\n" for line in header.splitlines())
    return lines + tomli_w.dumps(doc)


def save_whatif(base: str | Path, edits: dict[str, Any], out: str | Path, wid: str | None = None,
                description: str | None = None, header: str = "") -> Path:
    """Write the what-if file to ``out`` (atomically) and return its path."""
    from scenarios.files import atomic_write

    out = Path(out)
    text = dumps_whatif(whatif_document(base, edits, wid or out.stem, description, out), header)
    return atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
