"""What-ifs as dotted-field edits: labelled assumptions, files that extend their base and validate, CLI."""

from __future__ import annotations

import tomllib

import pytest
from click.testing import CliRunner

from cli import main
from scenarios.amounts import AmountError
from scenarios.loader import ScenarioError, load, load_raw
from scenarios.whatif import (
    CHANGED,
    apply_edits,
    changed_fields,
    edited_scenario,
    override_for,
    parse_settings,
    rate_field,
    save_whatif,
)


@pytest.fixture(scope="module")
def conghua():
    return load_raw("conghua")[0]


def test_a_changed_number_becomes_a_labelled_assumption(conghua):
    data = apply_edits(conghua, {"population.net_migration_rate": 8.0, "plan.budget_total": 2.5e9})
    rate = data["population"]["net_migration_rate"]
    assert rate == {"value": 8.0, "assumption": f"{CHANGED}: population.net_migration_rate from 0 to 8"}
    assert "source" not in data["plan"]["budget_total"]
    assert data["plan"]["budget_total"]["assumption"].endswith("from not set to 2,500,000,000")
    assert data["population"]["birth_rate"] == conghua["population"]["birth_rate"]  # untouched keeps its citation


def test_unchanged_values_are_not_edits(conghua):
    assert (
        override_for(
            conghua,
            {
                "population.birth_rate": 11.79,
                "resources.beds.target.expr": "6.0",
                "constraints.enabled.hiring_limits": True,
            },
        )
        == {}
    )


def test_target_edit_keeps_the_rest_and_records_both_changes(conghua):
    over = override_for(conghua, {"resources.beds.target.expr": "7.0", "resources.beds.target.nature": "binding"})
    target = over["resources"]["beds"]["target"]
    assert target["expr"] == "7.0" and target["nature"] == "binding" and "source" not in target
    assert "resources.beds.target.expr from 6.0 to 7.0" in target["assumption"]
    assert "resources.beds.target.nature from expected to binding" in target["assumption"]
    assert changed_fields(over) == ["resources.beds.target"]


def test_settings_are_typed_by_the_schema(conghua):
    edits = parse_settings(
        [
            "plan.budget_total=25亿",
            "population.death_rate=6",
            "constraints.enabled.hiring_limits=false",
            "resources.gps.target.expr=5",
            "plan.mode=max-attainment",
        ],
        conghua,
    )
    assert edits == {
        "plan.budget_total": 2.5e9,
        "population.death_rate": 6.0,
        "constraints.enabled.hiring_limits": False,
        "resources.gps.target.expr": "5",
        "plan.mode": "max-attainment",
    }
    with pytest.raises(AmountError, match="plan.budget_total 'abc': expected an amount of CNY"):
        parse_settings(["plan.budget_total=abc"], conghua)
    with pytest.raises(ScenarioError, match="population.death_rate: expected a number, got 'many'"):
        parse_settings(["population.death_rate=many"], conghua)


def test_bad_edits_name_the_field(conghua):
    with pytest.raises(
        ScenarioError,
        match=r"conghua \(what-if\): population.birth_rate.value: expected a value "
        r"that is greater than or equal to 0, got -1",
    ):
        edited_scenario("conghua", {"population.birth_rate": -1.0})
    with pytest.raises(ScenarioError, match="population.foo: unknown key"):
        edited_scenario("conghua", {"population.foo": 1.0})


def test_variant_rates_are_edited_where_the_variant_sets_them(conghua):
    assert rate_field(conghua, "high", "net_migration_rate") == "population.variants.high.net_migration_rate"
    assert rate_field(conghua, "high", "death_rate") == "population.death_rate"  # high does not override it
    assert rate_field(conghua, "medium", "birth_rate") == "population.birth_rate"
    over = override_for(conghua, {"population.variants.high.birth_rate": 13.0})
    assert "its yearly path dropped" in over["population"]["variants"]["high"]["birth_rate"]["assumption"]


def test_saved_whatif_extends_its_base_holds_only_changes_and_validates(tmp_path):
    edits = {"population.net_migration_rate": 8.0, "resources.nurses.target.expr": "5.0"}
    path = save_whatif("conghua", edits, tmp_path / "fast.toml")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert raw["extend"] == "conghua" and raw["id"] == "fast"
    assert set(raw) == {"extend", "id", "description", "population", "resources"}
    assert load(path).model_dump(exclude={"id", "description"}) == edited_scenario("conghua", edits).model_dump(
        exclude={"id", "description"}
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0 and "ok" in result.output


def test_whatif_of_a_file_extends_it_by_relative_path(tmp_path):
    base = save_whatif("conghua", {"population.death_rate": 6.0}, tmp_path / "a" / "base.toml")
    child = save_whatif(base, {"population.birth_rate": 10.0}, tmp_path / "b" / "child.toml")
    assert tomllib.loads(child.read_text(encoding="utf-8"))["extend"] == "../a/base.toml"
    s = load(child)
    assert (s.population.death_rate.value, s.population.birth_rate.value) == (6.0, 10.0)


def test_cli_whatif_writes_a_file_validate_accepts(tmp_path):
    out = tmp_path / "my.toml"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "whatif",
            "conghua",
            "--set",
            "population.net_migration_rate=8",
            "--set",
            "plan.budget_total=25亿",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    s = load(out)
    assert s.population.net_migration_rate.value == 8.0 and s.plan.budget_total.value == 2.5e9
    assert runner.invoke(main, ["validate", str(out)]).exit_code == 0
    bad = runner.invoke(main, ["whatif", "conghua", "--set", "population.birth_rate=-1"])
    assert bad.exit_code == 2 and "population.birth_rate.value: expected a value that is greater" in bad.output
    assert "Traceback" not in bad.output
