"""Every field of a scenario as one flat row with its provenance, and the fields that differ between scenarios.

A row is ``field`` (dotted path, e.g. ``population.net_migration_rate``), ``value`` (the number, target
expression or setting as text), ``source`` (seed file:line), ``assumption`` (its reasoning) and ``note``.
Reports list the rows (every assumption used, with its source); ``healthsim compare`` diffs them.
"""

from __future__ import annotations

from typing import Any, Iterator

import pandas as pd

from scenarios.schema import Scenario

FIELDS = ["field", "value", "source", "assumption", "note"]
_PROVENANCE = ("source", "assumption", "note")


def _text(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.6g}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_text(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "; ".join(_text(x) for x in v)
    return "" if v is None else str(v)


def _walk(node: Any, path: str) -> Iterator[dict[str, str]]:
    if (
        isinstance(node, dict)
        and any(k in node for k in ("source", "assumption"))
        and ("value" in node or "expr" in node)
    ):
        rest = {k: v for k, v in node.items() if k not in _PROVENANCE and v not in (None, {}, [])}
        value = _text(rest.pop("value", None) if "value" in rest else rest.pop("expr", None))
        extra = ", ".join(f"{k} {_text(v)}" for k, v in rest.items())
        yield {
            "field": path,
            "value": f"{value} ({extra})" if extra else value,
            **{k: _text(node.get(k)) for k in _PROVENANCE},
        }
        return
    if (
        isinstance(node, dict) and "name" in node and ("source" in node or "assumption" in node)
    ):  # an alliance, an indicator
        for k, v in node.items():
            if k not in _PROVENANCE and k != "name":
                yield {"field": f"{path}.{k}", "value": _text(v), **{p: _text(node.get(p)) for p in _PROVENANCE}}
        return
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}" if path else str(k))
        return
    if isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
        for i, x in enumerate(node):
            yield from _walk(x, f"{path}[{x.get('name', i)}]")
        return
    if node is not None and node != [] and node != {}:
        yield {"field": path, "value": _text(node), "source": "", "assumption": "", "note": ""}


def provenance_rows(scenario: Scenario | dict) -> pd.DataFrame:
    """One row per field of the scenario (columns :data:`FIELDS`), in the order of the schema."""
    data = scenario.model_dump() if isinstance(scenario, Scenario) else scenario
    return pd.DataFrame(list(_walk(data, "")), columns=FIELDS)


def differences(named: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Fields whose value or provenance differs between scenarios: one row per field, one
    ``value``/``source`` column pair per scenario (empty where a scenario lacks the field)."""
    frames = {name: rows.set_index("field") for name, rows in named.items()}
    fields: list[str] = []
    for rows in frames.values():
        fields += [f for f in rows.index if f not in fields]
    out = []
    for f in fields:
        cells = {}
        for name, rows in frames.items():
            if f in rows.index:
                r = rows.loc[f]
                cells[name] = (r["value"], r["source"] or (f"assumption: {r['assumption']}" if r["assumption"] else ""))
            else:
                cells[name] = ("", "")
        if len({c for c in cells.values()}) > 1:
            row = {"field": f}
            for name, (v, src) in cells.items():
                row[f"{name}: value"] = v
                row[f"{name}: source"] = src
            out.append(row)
    cols = ["field"] + [f"{n}: {c}" for n in named for c in ("value", "source")]
    return pd.DataFrame(out, columns=cols)
