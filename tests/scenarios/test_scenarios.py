"""Built-in scenarios load, cite real seed lines, compose with `extend`, and reject bad input clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEEDS, require
from pydantic import BaseModel

from cli import main
from scenarios.loader import ScenarioError, builtin_names, deep_merge, load
from scenarios.schema import Quantity, TargetSpec
from scenarios.targets import parse_target

BUILTINS = ["conghua", "xiangqiao", "qingcheng", "renhe", "guangzhou"]


def test_the_five_seed_regions_are_built_in():
    assert builtin_names() == sorted(BUILTINS)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_loads_with_targets(name):
    s = load(name)
    assert s.base_year == 2020 and s.target_year == 2025
    assert s.population.base.value > 100_000
    for kind in ("beds", "physicians", "nurses", "gps"):
        assert kind in s.resources, f"{name} lacks {kind}"
    assert any(r.target is not None for r in s.resources.values())
    assert {"low", "high"} <= set(s.population.variants)


def _quantities(obj, path=""):
    """Yield (path, Quantity-or-TargetSpec) for every number-with-provenance in a model."""
    if isinstance(obj, (Quantity, TargetSpec)):
        yield path, obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _quantities(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _quantities(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _quantities(v, f"{path}[{i}]")


def _cited_lines(source: str) -> tuple[Path, list[int]]:
    file, spec = source.split(":")
    lines: list[int] = []
    for part in spec.split(","):
        a, _, b = part.partition("-")
        lines.extend(range(int(a), int(b or a) + 1))
    return SEEDS / file, lines


@pytest.mark.parametrize("name", BUILTINS)
def test_every_cited_seed_line_exists_and_printed_values_appear_on_it(name):
    require(SEEDS.exists(), f"no seed files at {SEEDS} (shared/seeds beside the checkout, or HEALTHSIM_SEEDS)")
    s = load(name)
    checked = 0
    for path, q in _quantities(s):
        if not q.source:
            continue
        file, lines = _cited_lines(q.source)
        text = file.read_text(encoding="utf-8").splitlines()
        assert max(lines) <= len(text), f"{name}:{path} cites line {max(lines)} of a {len(text)}-line seed"
        note = (q.note or "").lower()
        if isinstance(q, Quantity) and "derived" not in note and not getattr(q, "path", None):
            cited = " ".join(text[i - 1] for i in lines)
            v = q.value
            forms = {
                f"{v:g}",
                f"{v:.2f}",
                f"{v:.1f}",
                f"{v / 1e4:g}",
                f"{v * 100:g}%",
                f"{v * 100:.1f}%",
                f"{v * 100:.2f}%",
            }  # 万 = 10,000
            in_percent_column = f"{v * 100:g}" in cited.split()  # a share printed in a column headed (%)
            assert in_percent_column or any(f in cited for f in forms), f"{name}:{path}={v} not printed on {q.source}"
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("name", BUILTINS)
def test_every_number_has_a_source_or_an_assumption(name):
    for path, q in _quantities(load(name)):
        assert q.source or q.reference or q.assumption, path


def test_renhe_keeps_both_physician_targets_and_uses_the_table_one():
    r = load("renhe").resources["physicians"]
    assert r.target.expr == "3.78" and r.target.source.endswith(":117")
    assert [t.expr for t in r.alternative_targets] == ["2.6"]
    assert r.alternative_targets[0].source.endswith(":464")


def test_target_forms():
    assert parse_target("6.0").sense == "floor"
    t = parse_target(">4.0")
    assert (t.sense, t.value, t.strict) == ("floor", 4.0, True)
    assert parse_target("<=7.0").sense == "ceiling"
    assert parse_target("≤7.0").sense == "ceiling"
    rel = parse_target("+30%")
    assert rel.relative and rel.resolve(0.5) == pytest.approx(0.65)
    assert parse_target("-5%").sense == "ceiling"
    with pytest.raises(ValueError, match="expected a number like"):
        parse_target("about six")


def test_extend_overrides_one_field_and_inherits_the_rest(write_toml):
    path = write_toml(
        'extend = "conghua"\nid = "conghua_more_beds"\n[resources.beds]\ntarget = '
        '{ expr = "7.0", nature = "expected", assumption = "what-if" }\n'
    )
    s = load(path)
    base = load("conghua")
    assert s.id == "conghua_more_beds"
    assert s.resources["beds"].target.expr == "7.0"
    assert s.resources["beds"].stock == base.resources["beds"].stock  # inherited
    assert s.resources["nurses"] == base.resources["nurses"]


def test_extend_chains_compose(write_toml, tmp_path):
    write_toml(
        'extend = "conghua"\n[population]\nnet_migration_rate = { value = 4.0, assumption = "what-if" }\n', "a.toml"
    )
    b = write_toml('extend = "a.toml"\n[population]\nbirth_rate = { value = 9.0, assumption = "what-if" }\n', "b.toml")
    s = load(b)
    assert s.population.net_migration_rate.value == 4.0
    assert s.population.birth_rate.value == 9.0
    assert s.population.death_rate == load("conghua").population.death_rate


def test_deep_merge_replaces_lists_and_merges_tables():
    out = deep_merge({"a": {"x": 1, "y": [1, 2]}, "b": 1}, {"a": {"y": [3]}, "c": 2})
    assert out == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}


# -- bad input: one clear message naming file, field, expectation ------------------------

BAD = [
    (
        "negative population",
        '[population]\nbase = { value = -5, assumption = "x" }\n',
        "population.base.value",
        "greater than 0",
    ),
    ("wrong unit", '[resources.beds]\nunit = "per_100"\n', "resources.beds.unit", "'per_1000'"),
    (
        "target below zero",
        '[resources.beds]\ntarget = { expr = "-1", nature = "expected", assumption = "x" }\n',
        "resources.beds.target.expr",
        "expected a number like",
    ),
    ("unknown key", 'colour = "blue"\n', "colour", "unknown key; allowed here: id"),
    (
        "unknown nested key",
        '[resources.beds]\nstok = { value = 1, assumption = "x" }\n',
        "resources.beds.stok",
        "allowed here: unit, stock",
    ),
    (
        "unknown resource",
        '[resources.bedz]\nunit = "per_1000"\nratio = { value = 1, assumption = "x" }\n',
        "resources.bedz",
        "'beds'",
    ),
    ("number without provenance", '[population]\nbase = { value = 700000 }\n', "population.base", "needs a 'source'"),
    (
        "malformed citation",
        '[population]\nbase = { value = 700000, source = "the plan, p. 3" }\n',
        "population.base.source",
        "NNN_<16 hex>.txt:LINE",
    ),
    (
        "text for a number",
        '[population]\nbase = { value = "many", assumption = "x" }\n',
        "population.base.value",
        "expected a number, got 'many'",
    ),
    (
        "share above one",
        '[resources.beds]\nprimary_share = { value = 1.5, assumption = "x" }\n',
        "resources.beds.primary_share.value",
        "less than or equal to 1",
    ),
    ("target year before base", "target_year = 2019\n", "", "must be after base_year"),
    (
        "bad nature",
        '[resources.beds]\ntarget = { expr = "6", nature = "mandatory", assumption = "x" }\n',
        "resources.beds.target.nature",
        "'binding' or 'expected'",
    ),
    (
        "negative birth rate",
        '[population]\nbirth_rate = { value = -3, assumption = "x" }\n',
        "population.birth_rate.value",
        "greater than or equal to 0",
    ),
    (
        "medium as a variant",
        '[population.variants.medium]\ndescription = "x"\n',
        "population.variants",
        "'medium' is the scenario's own rates",
    ),
]


@pytest.mark.parametrize("label,body,field,expect", BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_one_clear_message(write_toml, label, body, field, expect):
    path = write_toml('extend = "conghua"\n' + body)
    with pytest.raises(ScenarioError) as info:
        load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f": {field}:" in msg or (field == "" and expect in msg), msg
    assert expect in msg, msg


def test_missing_field_is_named(write_toml):
    path = write_toml(
        'id = "x"\nbase_year = 2020\ntarget_year = 2025\n[region]\nname = "X"\nname_cn = "X"\nlevel = "district"\n'
    )
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert f"{path}: population: missing; this field is required" in str(info.value)
    assert "resources: missing" in str(info.value)


def test_toml_syntax_error_names_the_file(write_toml):
    path = write_toml("base_year = = 2020\n")
    with pytest.raises(ScenarioError, match=re.escape(str(path)) + ": not valid TOML"):
        load(path)


def test_missing_file_and_unknown_builtin():
    with pytest.raises(ScenarioError, match="file not found"):
        load("no/such/file.toml")
    with pytest.raises(ScenarioError, match="no built-in scenario named 'atlantis'; expected one of conghua"):
        load("atlantis")


def test_extend_unknown_parent_and_cycle(write_toml):
    bad = write_toml('extend = "atlantis"\n', "bad.toml")
    with pytest.raises(ScenarioError, match=re.escape(str(bad)) + ": extend: no built-in scenario named 'atlantis'"):
        load(bad)
    write_toml('extend = "d.toml"\n', "c.toml")
    d = write_toml('extend = "c.toml"\n', "d.toml")
    with pytest.raises(ScenarioError, match="cycle"):
        load(d)


def test_cli_validate_reports_without_traceback(write_toml):
    path = write_toml('extend = "conghua"\n[population]\nbase = { value = -1, assumption = "x" }\n')
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "population.base.value" in result.output and "Traceback" not in result.output
    ok = CliRunner().invoke(main, ["validate", "qingcheng"])
    assert ok.exit_code == 0 and "ok" in ok.output


def test_cli_lists_scenarios():
    result = CliRunner().invoke(main, ["scenarios"])
    assert result.exit_code == 0
    for name in BUILTINS:
        assert name in result.output
    assert "18,740,000" in result.output


def test_overriding_a_number_drops_the_parents_citation(write_toml):
    path = write_toml('extend = "conghua"\n[population]\nbase = { value = 800000, assumption = "what-if" }\n')
    base = load(path).population.base
    assert base.value == 800000 and base.source is None and base.note is None


def test_example_what_ifs_validate_and_compose():
    from conftest import ROOT

    fast = load(ROOT / "scenarios" / "builtin" / "examples" / "conghua_fast_growth.toml")
    both = load(ROOT / "scenarios" / "builtin" / "examples" / "conghua_no_hiring_limits.toml")
    assert fast.population.net_migration_rate.value == 8.0 and fast.plan.mode == "max-attainment"
    assert both.plan.budget_total.value == 2.0e9 and both.constraints.enabled.hiring_limits is False
    assert both.resources == load("conghua").resources


def test_a_baseline_far_from_its_target_warns_about_scope():
    from scenarios.loader import ScenarioWarning

    with pytest.warns(
        ScenarioWarning,
        match=r"xiangqiao.toml: resources.beds: baseline 0.96 and target 4.58 per 1,000 "
        r"differ by a factor of 4.8",
    ):
        load("xiangqiao")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        load("conghua")  # 3.88 -> 6.0: no warning


def test_audit_data_fixes():
    renhe = load("renhe").resources["health_technicians"]
    assert renhe.target.expr == "9.0" and renhe.target.source == "003_1753e892e2b070b6.txt:464"
    p_down = load("conghua").referral.p_down
    assert p_down.value == pytest.approx(464 / (82_200 + 61_200), abs=5e-5) and p_down.source.endswith(":80,84")


def test_regional_defaults():
    renhe, conghua, gz = load("renhe"), load("conghua"), load("guangzhou")
    assert renhe.region.province == "Sichuan" and conghua.region.province == "Guangdong"
    ratio = 113_655 / 148_119  # Sichuan / Guangdong 2021 health-sector wage
    for kind in ("physicians", "nurses", "gps"):
        assert renhe.costs[kind].annual.value == pytest.approx(conghua.costs[kind].annual.value * ratio, rel=0.01)
    assert gz.primary_share("beds") == pytest.approx(4378 / 101_640, abs=1e-4)
    # hiring limits checked against observed growth: the best recent year plus replacing leavers, not 3x it
    observed = {"physicians": 66_204 / 62_329 - 1, "nurses": 88_017 / 82_484 - 1}
    for kind, growth in observed.items():
        cap = gz.constraints.max_additions_share[kind].value
        assert growth < cap <= growth + gz.constraints.attrition[kind].value + 0.01


def test_private_capacity_from_the_seeds():
    qc, gz, xq = load("qingcheng"), load("guangzhou"), load("xiangqiao")
    assert qc.resources["beds"].private.stock.value == 1791
    assert gz.resources["beds"].private.share.value == pytest.approx(0.2034)
    assert gz.resources["beds"].private.target.expr == "30"
    assert xq.resources["beds"].private.target.expr == ">10"


def test_private_capacity_needs_one_baseline(write_toml):
    path = write_toml(
        'extend = "conghua"\n[resources.beds.private]\n'
        'stock = { value = 10, assumption = "x" }\nshare = { value = 0.1, assumption = "x" }\n'
    )
    with pytest.raises(ScenarioError, match="resources.beds.private: give the private base-year capacity as 'stock'"):
        load(path)
