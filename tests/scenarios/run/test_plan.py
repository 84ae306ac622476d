"""Credible plans on all five built-ins under their defaults: what a district health bureau would check.

No pool declines, no negative cost line, every year on or above its milestone, no year's capital above
the smoothing share, whole units everywhere, private and public additions in separate rows, and for each
unmet target an earliest year and a least change; words that match the tables.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from optimize.problem import PRIVATE
from optimize.solve import GAP_ACCEPTED, InfeasiblePlan, solve
from scenarios.inputs.allocation import SUBSETS, tier_split
from scenarios.labels import Labels
from scenarios.loader import ScenarioWarning, load
from scenarios.report.words import diagnosis_words, dual_words, outlook_sentences, outlook_words, plan_note
from scenarios.run.plan import plan_or_best_reachable, problem_for

BUILTINS = ["conghua", "xiangqiao", "qingcheng", "renhe", "guangzhou"]


@pytest.fixture(scope="module")
def outcomes():
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        for name in BUILTINS:
            p = problem_for(load(name))
            out[name] = (p, plan_or_best_reachable(p))
    return out


@pytest.mark.parametrize("name", BUILTINS)
def test_no_pool_declines_and_no_negative_cost_line(outcomes, name):
    p, o = outcomes[name]
    st = o.plan.stocks
    base = st[st["year"] == p.base_year].set_index(["kind", "tier", "ownership"])["stock"]
    for (kind, tier, owner), df in st.groupby(["kind", "tier", "ownership"]):
        assert (df["stock"] >= base[kind, tier, owner] - 1e-9).all(), (kind, tier, owner)
    costs = o.plan.costs
    assert (costs[["capital_cny", "running_cny", "total_cny"]] >= 0).all().all()
    for parent, children in p.subsets.items():  # members outside the 其中 rows never fall either
        for tier in ("hospital", "primary"):
            pub = st[(st["ownership"] == "public") & (st["tier"] == tier)].pivot_table(
                index="year", columns="kind", values="stock"
            )
            rest = pub[parent] - pub[[c for c in children if c in pub]].sum(axis=1)
            assert (rest >= rest[p.base_year] - 1e-9).all(), (parent, tier)


@pytest.mark.parametrize("name", BUILTINS)
def test_every_year_on_or_above_its_milestone(outcomes, name):
    p, o = outcomes[name]
    ms = o.plan.milestones
    assert p.trajectory == "linear" and len(ms) == len(p.targets) * len(p.years)
    assert ms["on_track"].all()
    met = set(o.plan.attainment.loc[o.plan.attainment["met"], "name"])
    on_target = ms[ms["name"].isin(met)]
    floors = on_target.merge(o.plan.attainment[["name", "sense"]], on="name")
    floors = floors[floors["sense"] == "floor"]
    assert (floors["achieved"] >= floors["milestone"] - 1e-9).all()  # met targets follow the line to the target


@pytest.mark.parametrize("name", BUILTINS)
def test_no_year_above_the_capital_smoothing_share(outcomes, name):
    p, o = outcomes[name]
    cap = o.plan.costs.groupby("year")["capital_cny"].sum()
    assert p.capital_share_max == pytest.approx(0.30)
    assert (cap <= p.capital_share_max * cap.sum() + 1.0).all(), cap


@pytest.mark.parametrize("name", BUILTINS)
def test_whole_units_everywhere(outcomes, name):
    _, o = outcomes[name]
    assert o.plan.integer and o.plan.rounding in ("milp", "repaired")
    for table, col in ((o.plan.additions, "added"), (o.plan.stocks, "stock")):
        values = table[col].to_numpy()
        np.testing.assert_array_equal(values, np.round(values))
    # a whole plan always reports its gap: the MILP's own (accepted within GAP_ACCEPTED), or a repaired LP plan's
    # against the LP relaxation (whole units cost a few per cent at most)
    assert o.plan.mip_gap is not None and 0 <= o.plan.mip_gap <= (GAP_ACCEPTED if o.plan.rounding == "milp" else 0.05)


@pytest.mark.parametrize("name", BUILTINS)
def test_private_and_public_additions_in_separate_rows(outcomes, name):
    p, o = outcomes[name]
    add = o.plan.additions
    assert set(add["ownership"]) <= {"public", "private"}
    has_private = (name, "beds", PRIVATE) in p.baseline
    assert has_private == (name in ("qingcheng", "guangzhou", "xiangqiao"))
    beds = add[add["kind"] == "beds"]
    assert ("private" in set(beds["ownership"])) == has_private and "public" in set(beds["ownership"])
    assert not beds.duplicated(["year", "tier", "ownership"]).any()
    if has_private:  # private capacity costs the public budget only its subsidy (none by default)
        private = o.plan.costs[o.plan.costs["ownership"] == "private"]
        assert private["total_cny"].sum() == 0


@pytest.mark.parametrize("name", BUILTINS)
def test_each_unmet_target_has_an_earliest_year_and_a_least_change(outcomes, name):
    p, o = outcomes[name]
    unmet = o.plan.attainment[~o.plan.attainment["met"]]
    look = o.outlook
    assert len(look) == len(unmet)
    assert list(look["name"]) == list(unmet["name"])
    for row, sentence in zip(look.itertuples(), outlook_sentences(look, Labels("en"))):
        assert re.search(
            r": (reachable in 20\d\d|not reachable by 2035 under the same limits); on time only ", sentence
        ), sentence
        if not pd.isna(row.earliest_year):
            assert p.target_year < row.earliest_year <= 2035 and f"reachable in {row.earliest_year}" in sentence
        assert row.binding_limit


def test_unmet_targets_are_the_expected_ones(outcomes):
    assert outcomes["conghua"][1].plan.all_met and outcomes["renhe"][1].plan.all_met
    gz = outcomes["guangzhou"][1]
    assert not gz.plan.all_met and "physicians" in set(gz.outlook["kind"])
    phys = gz.outlook[gz.outlook["name"] == "physicians"].iloc[0]
    # Guangzhou's physician limit was set from observed growth (9%/yr)
    assert "hiring" in outlook_words(phys, Labels("en"))


@pytest.mark.parametrize("name", ["qingcheng", "xiangqiao", "guangzhou"])
def test_the_diagnosis_quotes_the_fallback_plan(outcomes, name):
    p, o = outcomes[name]
    note = plan_note(o.mode, p.budget_total, o.diagnosis is None, Labels("en"))
    assert o.diagnosis is not None and "best reachable plan" in note
    diagnosis = diagnosis_words(o.diagnosis, Labels("en"))
    att = o.plan.attainment
    for row in att[~att["met"]].itertuples():
        value = (
            f"{row.achieved_ratio:.1%}" if row.measure == "private_share" else f"{row.achieved_ratio:.3g} {row.unit}"
        )
        assert f"{row.name} ({name}): best reachable {value} against the target {row.expr}" in diagnosis
    quoted = re.findall(r"^  (.+) \(" + name + r"\): best reachable", diagnosis, flags=re.M)
    assert sorted(quoted) == sorted(att.loc[~att["met"], "name"])  # no met target is called short


@pytest.mark.parametrize("name", BUILTINS)
def test_words_match_the_tables(outcomes, name):
    p, o = outcomes[name]
    plan = o.plan
    en = Labels("en")
    duals = dual_words(plan, en)
    note = plan_note(o.mode, p.budget_total, o.diagnosis is None, en)
    texts = duals + [note, diagnosis_words(o.diagnosis, en) if o.diagnosis else ""] + outlook_sentences(o.outlook, en)
    assert not any("1,000,000,000,000,000" in t for t in texts)  # no placeholder budget
    met = dict(zip(plan.attainment["name"], plan.attainment["met"]))
    for text in duals:
        m = re.match(r"The (.+?) target is (short|met)", text)
        if m and m.group(1) in met:
            assert (m.group(2) == "met") == bool(met[m.group(1)]), text
        if "is short: each" in text:  # a short target's price is its own weight over its ratio, said as such
            tr = next(t for t in p.targets if t.name == m.group(1))
            per = 0.01 if tr.measure == "private_share" else 1.0  # a share's step is one percentage point
            assert f"by {tr.weight / tr.ratio * per:.4f}" in text and "without changing the plan" in text
        if "every target is met" in text:
            assert plan.all_met, text


def test_budget_words_when_targets_are_unmet():
    p = problem_for(load("qingcheng"))
    plan = solve(p.with_budget(1e11), mode="max-attainment")
    budget = dual_words(plan)[plan.duals.index[plan.duals["constraint"] == "budget_total"][0]]
    assert not plan.all_met
    assert "every target is met" not in budget and "are unmet" in budget


def test_subsets_are_counted_inside_physicians():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        s = load("qingcheng")
    p = problem_for(s)
    assert p.subsets == {"physicians": ("gps", "tcm_physicians")}
    assert "gps" in SUBSETS["physicians"] and "tcm_physicians" in SUBSETS["physicians"]
    with pytest.raises(InfeasiblePlan) as info:
        solve(p)
    st = info.value.plan.stocks.groupby(["year", "kind"])["stock"].sum().unstack()
    assert (st["gps"] + st["tcm_physicians"] <= st["physicians"]).all()
    # a GP's running cost is its own; physicians pay only for those outside the subsets
    costs = info.value.plan.costs.groupby(["year", "kind"])["running_cny"].sum().unstack()
    phys_rest = st["physicians"] - st["gps"] - st["tcm_physicians"]
    assert costs.loc[2025, "physicians"] <= 300_000 * (phys_rest[2025] - phys_rest[2020]) + 1


def test_tier_split_is_in_whole_units():
    s = load("conghua")
    split = tier_split(s, "beds")
    assert split == {"primary": 536.0, "hospital": 2257.0}  # 536 primary of 2,793 (000_f481409494256020.txt:74,76)


def test_disinvestment_is_shown_and_explained():
    from optimize.problem import TIERS, AllocationProblem, TargetRow
    from scenarios.report.words import disinvestment_words

    p = AllocationProblem(
        regions=("r",),
        kinds=("beds",),
        base_year=2020,
        target_year=2022,
        baseline={("r", "beds", "hospital"): 100.0, ("r", "beds", "primary"): 0.0},
        population={("r", y): 100_000.0 for y in (2020, 2021, 2022)},
        targets=(TargetRow("r", "beds", "floor", 0.5, 1000.0, "expected", "0.5", 1.0),),
        capital={("beds", t): 10.0 for t in TIERS},
        annual={("beds", t): 1.0 for t in TIERS},
        allow_disinvestment=True,
    )
    plan = solve(p)  # the target (50 beds) is below the base stock: the cheapest plan cuts 50 beds
    assert plan.additions["removed"].sum() == 50 and (plan.costs["running_cny"] < 0).any()
    words = disinvestment_words(plan)
    assert "It cuts 50 beds." in words and "running-cost lines are negative" in words
    assert disinvestment_words(solve(replace(p, allow_disinvestment=False))) == ""


def test_free_trajectory_keeps_the_old_behaviour(write_toml):
    from optimize.model import ModelOptions, build_model

    path = write_toml('extend = "conghua"\n[plan]\ntrajectory = "free"\n')
    p = problem_for(load(path))
    assert p.trajectory == "free" and not hasattr(build_model(p, ModelOptions()), "milestone")
    linear = problem_for(load("conghua"))
    assert hasattr(build_model(linear, ModelOptions()), "milestone")
    free, lin = solve(p, integer=False), solve(linear, integer=False)
    assert free.present_value <= lin.present_value + 1e-6  # the line costs something: spending earlier
    early = lambda plan: plan.costs[plan.costs["year"] <= 2022]["total_cny"].sum()  # noqa: E731
    assert early(lin) > early(free)
