"""The bilingual label table and the scenario's fields with their provenance."""

from __future__ import annotations

import ast
import re
from pathlib import Path
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


# -- every display word lives in labels.py -------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Pairs in modules another change owns, to move into labels.py there; each entry must still match a pair (file, line).
PENDING: set[tuple[str, str]] = set()  # (file, source) of a pair waiting to move into labels.py


def _texts(node: ast.AST) -> list[str] | None:
    """The literal text of a display node: a string, an f-string, or a tuple, list or dict of them; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value for v in node.values if isinstance(v, ast.Constant))]
    items = (
        node.elts if isinstance(node, (ast.Tuple, ast.List)) else node.values if isinstance(node, ast.Dict) else None
    )
    if not items:
        return None
    parts = [_texts(e) for e in items]
    return None if any(p is None for p in parts) else [t for p in parts for t in p]


def _reads_language(test: ast.AST) -> bool:
    """Whether a condition reads the language (``zh``, ``lang``, ``L.lang``, ``... == "zh"``)."""
    return any(
        isinstance(n, ast.Name)
        and n.id in ("zh", "lang")
        or isinstance(n, ast.Attribute)
        and n.attr == "lang"
        or isinstance(n, ast.Constant)
        and n.value in ("zh", "en")
        for n in ast.walk(test)
    )


def _is_pair(test: ast.AST, a: ast.AST | None, b: ast.AST | None) -> bool:
    ta, tb = (_texts(a), _texts(b)) if a is not None and b is not None else (None, None)
    return ta is not None and tb is not None and _reads_language(test) and any(CJK.search(t) for t in ta + tb)


def _returned(body: list[ast.stmt]) -> ast.AST | None:
    return body[-1].value if body and isinstance(body[-1], ast.Return) else None


def display_pairs(source: str) -> list[tuple[int, str]]:
    """(line, source line) of each language choice between two literal texts, one of them Chinese: a conditional
    expression, or an ``if`` whose branch returns one text and whose ``else`` (or the next statement) the other."""
    lines, out = source.splitlines(), []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.IfExp) and _is_pair(node.test, node.body, node.orelse):
            out.append(node.lineno)
        for stmts in (getattr(node, f, None) for f in ("body", "orelse", "finalbody")):
            for i, st in enumerate(stmts if isinstance(stmts, list) else ()):
                if isinstance(st, ast.If):
                    after = stmts[i + 1] if i + 1 < len(stmts) else None
                    nxt = after.value if isinstance(after, ast.Return) else None
                    other = _returned(st.orelse) if st.orelse else nxt
                    if _is_pair(st.test, _returned(st.body), other):
                        out.append(st.lineno)
    return [(n, lines[n - 1].strip()) for n in sorted(set(out))]


def test_the_pair_finder_finds_pairs_and_only_pairs():
    found = display_pairs(
        'def f(L, zh, x):\n    a = "目标" if zh else "target"\n'
        '    b = ("费用", "均值") if L.lang == "zh" else ("cost", "mean")\n'
        '    c = f"{x}亿元" if x > 1e8 else f"{x}万元"\n'
        '    if L.lang == "zh":\n        return f"{x}需求"\n    return f"{x} needed"\n'
    )
    assert [n for n, _ in found] == [2, 3, 5]  # not the choice by size (亿元 or 万元)


def test_no_display_string_pair_outside_labels():
    files = [p for d in ("sim", "optimize", "scenarios") for p in (ROOT / d).rglob("*.py")] + [
        ROOT / "cli.py",
        ROOT / "app.py",
    ]
    found = {
        (str(p.relative_to(ROOT)), text): n
        for p in files
        if p != ROOT / "scenarios" / "labels.py"
        for n, text in display_pairs(p.read_text(encoding="utf-8"))
    }
    assert PENDING <= set(found), f"a pending pair has moved: drop it from PENDING ({PENDING - set(found)})"
    left = [f"{f}:{n}: {t}" for (f, t), n in found.items() if (f, t) not in PENDING]
    assert not left, "display words outside scenarios/labels.py (add them to its tables):\n" + "\n".join(left)


def test_the_chinese_report_shows_no_english_optimizer_sentence(tmp_path):
    from scenarios.report.html import write_report
    from scenarios.report.words import diagnosis_words, dual_words, outlook_sentences
    from scenarios.run.pipeline import PipelineOptions, run_pipeline

    r = run_pipeline(load("qingcheng"), PipelineOptions(simulate=False, sweep_steps=0, uncertainty_draws=0))
    assert r.diagnosis is not None and r.diagnosis.case == "targets"  # min-cost is infeasible: the best reachable plan
    page = write_report(r, tmp_path / "report.html", "zh").read_text(encoding="utf-8")
    en = Labels("en")
    english = [line.strip() for line in diagnosis_words(r.diagnosis, en).splitlines()]
    english += dual_words(r.plan, en) + outlook_sentences(r.outlook, en)
    assert len(english) > 5 and not [s for s in english if s in page]
    for words in (
        "优化器原文",
        "best reachable",
        "No plan meets",
        "does not bind",
        "on time only",
        "The budget",
        "yearly limits on additions",
    ):
        assert words not in page, words
    assert diagnosis_words(r.diagnosis, Labels("zh")).splitlines()[0] in page  # the diagnosis, in Chinese
    assert "2025年无法达成全部目标：年度新增上限（培养与建设能力）与目标无法同时满足" in page
