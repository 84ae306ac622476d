"""The browser workbench (app.py), driven headless with Streamlit's AppTest, and rendered in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import CHROMIUM, WORKBENCH_READY, render, workbench
from click.testing import CliRunner
from conftest import ROOT, require
from streamlit.testing.v1 import AppTest

from cli import main
from scenarios.loader import load

MIGRATION = "conghua|population.net_migration_rate"
# Opens the uncertainty tab (react-aria tabs take pointer events, not .click()), then waits for its three charts.
UNCERTAINTY_READY = """(() => {
  const tab = [...document.querySelectorAll('[role=tab]')].find(b => b.innerText.trim() === 'uncertainty');
  if (!tab) return false;
  if (tab.getAttribute('aria-selected') !== 'true') {
    const r = tab.getBoundingClientRect();
    const o = {bubbles: true, cancelable: true, pointerType: 'mouse', isPrimary: true, pointerId: 1, button: 0,
               clientX: r.x + 5, clientY: r.y + 5};
    for (const type of ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click'])
      tab.dispatchEvent(type.startsWith('pointer') ? new PointerEvent(type, o) : new MouseEvent(type, o));
    return false;
  }
  const panel = document.querySelector('[role=tabpanel]:not([hidden])');
  return !!panel && panel.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg').length >= 3
    && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]');
})()"""


@pytest.fixture
def app(monkeypatch):
    monkeypatch.delenv("HEALTHSIM_SCENARIO", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    assert not at.exception, at.exception
    return at


def _plan(at) -> list:
    """The plan table (additions by year x tier) as shown."""
    return at.table[0].value.values.tolist()


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _errors(at) -> str:
    return "\n".join(e.value for e in at.error)


def test_opens_on_conghua_with_the_plan(app):
    assert "Conghua" in app.subheader[0].value
    assert _metric(app, "targets met") == "5 of 5"
    plan = app.table[0].value
    assert list(plan.index)[-1] == "total" and {"beds", "nurses"} <= set(plan.columns.get_level_values(0))


def test_more_migration_changes_the_plan_and_its_cost(app):
    app.checkbox(key="conghua|calibrated").uncheck().run()  # else migration is fitted to the observed years
    before, cost = _plan(app), _metric(app, "total cost")
    app.number_input(key=MIGRATION).set_value(8.0).run()
    assert not app.exception and not app.error
    assert _plan(app) != before
    assert float(_metric(app, "total cost").split()[0]) > float(cost.split()[0])  # more residents, more to add
    assert any("population.net_migration_rate" in m.value for m in app.markdown)  # the compare tab names it


def test_calibrated_projection_is_said_and_a_migration_what_if_still_moves_the_plan(app):
    assert any("Calibrated to the observed populations of 2021, 2023" in c.value for c in app.caption)
    before = _plan(app)
    app.number_input(key=MIGRATION).set_value(8.0).run()
    assert _plan(app) != before  # the observed years are fitted; the stated rate holds after the latest one
    assert any("holds from the latest observed year on" in c.value for c in app.sidebar.caption)


def test_impossible_target_shows_the_diagnosis(app):
    app.text_input(key="conghua|resources.beds.target.expr").set_value("60").run()
    text = "\n".join(w.value for w in app.warning)
    assert "No plan meets every target in 2025" in text and "beds (conghua): best reachable" in text
    assert _metric(app, "targets met") == "4 of 5"


@pytest.mark.parametrize(
    "key, value, cli_set",
    [
        ("conghua|resources.beds.target.expr", "lots", "resources.beds.target.expr=lots"),
        ("conghua|population.birth_rate", -1.0, "population.birth_rate=-1"),
        ("conghua|plan.budget_total", "abc", "plan.budget_total=abc"),
    ],
)
def test_bad_input_shows_the_cli_message_beside_the_field(app, key, value, cli_set):
    widget = app.number_input(key=key) if isinstance(value, float) else app.text_input(key=key)
    widget.set_value(value).run()
    assert not app.exception
    cli = CliRunner().invoke(main, ["whatif", "conghua", "--set", cli_set])
    message = cli.output.strip().removeprefix("error: ")
    assert cli.exit_code == 2 and message
    sidebar_errors = [e.value for e in app.sidebar.error]
    assert message in sidebar_errors, (message, sidebar_errors)


def test_save_a_whatif_and_validate_it(app, tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSIM_WHATIF_DIR", str(tmp_path))  # the one folder the workbench saves into
    app.number_input(key=MIGRATION).set_value(8.0).run()
    app.text_input(key="conghua|plan.budget_total").set_value("25亿").run()
    target = tmp_path / "my_whatif.toml"
    app.text_input(key="whatif_path").set_value(target.name).run()
    app.button(key="whatif_save").click().run()
    assert not app.exception and any(str(target) in s.value for s in app.success)
    result = CliRunner().invoke(main, ["validate", str(target)])
    assert result.exit_code == 0, result.output
    s = load(target)
    assert s.population.net_migration_rate.value == 8.0 and s.plan.budget_total.value == 2.5e9
    assert (
        "changed in the workbench: population.net_migration_rate from 0 to 8"
        in s.population.net_migration_rate.assumption
    )
    assert 'extend = "conghua"' in app.code[0].value  # the same text is offered for download


@pytest.mark.parametrize("name", ["../escaped.toml", "/tmp/escaped.toml", "sub/../../escaped.toml"])
def test_the_save_box_never_writes_outside_its_folder(app, tmp_path, monkeypatch, name):
    monkeypatch.setenv("HEALTHSIM_WHATIF_DIR", str(tmp_path / "saves"))
    app.text_input(key="whatif_path").set_value(name).run()
    app.button(key="whatif_save").click().run()
    assert not app.exception and not app.success
    assert "leads out of" in _errors(app)
    assert not (tmp_path / "escaped.toml").exists() and not Path("/tmp/escaped.toml").exists()


def test_the_save_box_asks_before_replacing_a_file(app, tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSIM_WHATIF_DIR", str(tmp_path))
    target = tmp_path / "mine.toml"
    target.write_text("# my own notes\n", encoding="utf-8")
    app.text_input(key="whatif_path").set_value(target.name).run()
    app.button(key="whatif_save").click().run()
    assert not app.success and any("tick 'replace the existing mine.toml'" in w.value for w in app.warning)
    assert target.read_text(encoding="utf-8") == "# my own notes\n"
    app.checkbox(key="whatif_overwrite|mine.toml").check().run()
    app.button(key="whatif_save").click().run()
    assert "not a what-if written by healthsim" in _errors(app)  # ticked, yet a file healthsim did not write stays
    assert target.read_text(encoding="utf-8") == "# my own notes\n"


def test_the_id_box_takes_only_a_name(app):
    app.text_input(key="whatif_id").set_value("../../ESCAPED").run()
    assert not app.exception
    assert "id of the what-if: expected a name of letters" in _errors(app)


@pytest.mark.slow
def test_simulation_on_demand_and_downloads(app):
    app.number_input(key="sim_reps").set_value(1).run()
    app.button(key="sim_run").click().run()
    assert not app.exception and not app.error
    kpis = [t.value for t in app.table if "in_area_rate" in list(t.value.index)]
    assert kpis and [int(c) for c in kpis[0].columns] == [2021, 2022, 2023, 2024, 2025]
    app.button(key="outputs_make").click().run()
    files = next(iter(app.session_state["outputs"].values()))
    assert files["results.xlsx"][:2] == b"PK" and b"Plotly.newPlot" in files["report.html"]
    assert "转诊模拟指标".encode() in files["report.html"]  # the simulation just run is in the (Chinese) report


def _probabilities(at):
    """The uncertainty tab's table: per target, the share of futures in which this plan and the robust plan meet it."""
    return next(t.value for t in at.table if "this plan" in t.value.columns)


def _said(at, text: str) -> str:
    return next((m.value for m in at.markdown if text in m.value), "")


def test_uncertainty_tab_shows_the_short_summary(app):
    probs = _probabilities(app)
    targets, needs = probs[probs["nature"] != "need"], probs[probs["nature"] == "need"]
    assert {t.split(" ")[0] for t in targets["target"]} == {"beds", "physicians", "nurses", "GPs", "public-health"}
    assert sorted(t.split(" needed")[0] for t in needs["target"]) == ["GPs", "beds", "nurses", "physicians"]
    assert list(probs.columns)[-1] == "robust plan (90%)"
    beds = targets[targets["target"].str.startswith("beds ")].iloc[0]
    plan_pct, robust_pct = int(beds["this plan"].split("%")[0]), int(beds["robust plan (90%)"].rstrip("%"))
    assert 0 < plan_pct < robust_pct <= 100  # the plan is a median bet; the robust plan holds in more futures
    words = _said(app, "drawn futures")
    assert words.startswith("- Over 200 drawn futures (seed 12345)") and "A plan holding in 9 of 10 futures" in words
    assert any("without a solve per draw" in c.value for c in app.caption)


def test_uncertainty_run_on_demand_replaces_the_summary(app):
    app.number_input(key="unc_draws").set_value(100).run()
    app.slider(key="unc_share").set_value(0.5).run()
    app.button(key="unc_run").click().run()
    assert not app.exception and not app.error
    words = _said(app, "drawn futures")
    assert "Over 100 drawn futures" in words and "in 5 of 10 futures costs" in words
    assert "A plan meeting every target exists under the constraints in" in words  # a least-cost LP in each draw
    assert any("100 LP solves" in c.value for c in app.caption)
    assert "robust plan (50%)" in _probabilities(app).columns
    assert any(e.label.startswith("additions of the robust plan (50% of futures)") for e in app.expander)
    app.button(key="outputs_make").click().run()  # the run just made goes into the report
    report = next(iter(app.session_state["outputs"].values()))["report.html"].decode()
    assert "常住人口：100次抽样的P10-P90区间" in report


@pytest.mark.slow
def test_server_renders_plan_table_and_charts_in_headless_chromium():
    require(CHROMIUM, "no Chromium on this machine (.ci/run installs Debian's chromium where it can)")
    with workbench("conghua") as url:
        ready, dom, png = render(url, WORKBENCH_READY, screenshot=True)
        unc_ready, unc_dom, _ = render(url, UNCERTAINTY_READY)
    assert unc_ready, "the uncertainty tab's three charts did not appear within the time limit"
    assert "2025年各目标的达标概率" in unc_dom and "常住人口：200次抽样的P10-P90区间" in unc_dom
    assert ready, "the plan table and a chart did not appear within the time limit"
    assert "additions 2021-2025 by year and tier" in dom and "广州市从化区" in dom
    assert dom.count('data-testid="stPlotlyChart"') >= 2 and "attainment (%) against the plan-period budget" in dom
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
