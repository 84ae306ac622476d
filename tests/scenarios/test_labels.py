"""The bilingual label table and the scenario's fields with their provenance."""

from __future__ import annotations

from typing import get_args

import pytest

from scenarios.labels import COLUMNS, RESOURCES, Labels, check_lang
from scenarios.loader import load
from scenarios.provenance import differences, provenance_rows
from scenarios.schema import ResourceKind


def test_every_resource_kind_has_both_names():
    assert set(get_args(ResourceKind)) == set(RESOURCES)
    zh, en = Labels("zh"), Labels("en")
    assert zh.resource("beds") == "床位" and zh.added("gps") == "新增全科医生" and zh.counter("beds") == "张"
    assert en.resource("gps") == "GPs" and en.added("beds") == "beds added"
    assert (zh.value("binding"), zh.value("expected")) == ("约束性", "预期性")
    assert zh.value("per_10000") == "每万人口" and en.value("per_1000") == "per 1,000"


def test_amounts_in_wan_and_yi():
    zh = Labels("zh")
    assert zh.cny(2_512_817_156) == "25.13亿元"
    assert zh.cny(7_599_271) == "759.9万元"
    assert Labels("en").cny(2.0e9) == "CNY 2,000.0 million (20.00亿元)"


def test_language_is_checked_and_defaults_to_chinese():
    assert check_lang(None) == "zh" and load("conghua").report.lang == "zh"
    with pytest.raises(ValueError, match="expected one of zh, en"):
        check_lang("fr")
    assert all(len(pair) == 2 and all(pair) for pair in COLUMNS.values())


def test_a_scenario_may_ask_for_english(write_toml):
    s = load(write_toml('extend = "conghua"\nid = "c_en"\n[report]\nlang = "en"\n'))
    assert s.report.lang == "en"


def test_provenance_rows_carry_sources_and_assumptions():
    rows = provenance_rows(load("conghua")).set_index("field")
    assert rows.loc["resources.beds.ratio", "source"] == "000_f481409494256020.txt:189"
    assert rows.loc["resources.beds.target", "value"].startswith("6.0")
    assert "no migration figure" in rows.loc["population.net_migration_rate", "assumption"]
    assert rows.loc["plan.mode", "value"] == "min-cost"


def test_differences_list_only_changed_fields():
    a = provenance_rows(load("conghua"))
    b = provenance_rows(load("scenarios/builtin/examples/conghua_fast_growth.toml"))
    d = differences({"a": a, "b": b})
    assert list(d["field"]) == ["id", "description", "population.net_migration_rate", "plan.mode", "plan.budget_total"]
    assert differences({"a": a, "again": a}).empty
