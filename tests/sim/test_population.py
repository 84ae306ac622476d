"""Population projection against theory: balance identity, closed forms, a textbook Leslie example."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from scenarios.inputs.population import rate_path
from scenarios.loader import load
from scenarios.run.projection import project
from scenarios.schema import AgeStructure, Rate
from sim.population import ProjectionError, cohort_step, leslie_matrix

BUILTINS = ["conghua", "xiangqiao", "qingcheng", "renhe", "guangzhou"]


def _assert_balance(table: pd.DataFrame) -> None:
    for _, df in table.groupby("variant"):
        df = df.sort_values("year")
        p = df["population"].to_numpy()
        flows = (df["births"] - df["deaths"] + df["migration"]).to_numpy()[1:]
        np.testing.assert_allclose(p[1:], p[:-1] + flows, rtol=1e-12, atol=1e-6)


def _without_ages(s):
    """The scenario without its age structure: the components method."""
    return s.model_copy(update={"population": s.population.model_copy(update={"age_structure": None})})


@pytest.mark.parametrize("name", BUILTINS)
def test_balance_identity_holds_every_year_for_every_variant(name):
    s = load(name)
    result = project(s, 2035, ["medium", *s.population.variants])
    assert result.method == "cohort-component"  # every built-in carries its 2020 census age structure
    assert len(result.table) == 3 * 16
    _assert_balance(result.table)
    _assert_balance(project(_without_ages(s), 2035, ["medium", *s.population.variants]).table)


# 2020 census shares 60+ / 65+ (research/demand.md Table A4, from the leiii/census county table)
CENSUS_OLD_SHARES = {
    "conghua": (0.1252, 0.0890),
    "xiangqiao": (0.1996, 0.1389),
    "qingcheng": (0.1334, 0.0948),
    "renhe": (0.1870, 0.1457),
    "guangzhou": (0.1141, 0.0782),
}


@pytest.mark.parametrize("name", BUILTINS)
def test_builtins_fill_old_age_shares_from_the_census_and_age_year_by_year(name):
    s = load(name)
    t = project(s, 2035).table.set_index("year")
    assert t["share_60plus"].notna().all() and t["share_65plus"].notna().all()
    s60, s65 = CENSUS_OLD_SHARES[name]
    assert t.loc[2020, "share_60plus"] == pytest.approx(s60, abs=6e-5)
    assert t.loc[2020, "share_65plus"] == pytest.approx(s65, abs=6e-5)
    assert t.loc[2020, "population"] == pytest.approx(s.population.base.value)
    assert (t["share_65plus"].diff().dropna() > 0).all()  # ageing in every year


@pytest.mark.parametrize("name", BUILTINS)
def test_cohort_projection_stays_close_to_the_components_totals(name):
    """Same birth level (fertility calibrated to the birth rate), mortality from life expectancy:
    totals agree within 2% by the target year and 8% ten years later (older regions die faster)."""
    s = load(name)
    cohort, comp = project(s, 2035), project(_without_ages(s), 2035)
    assert cohort.population(2025) == pytest.approx(comp.population(2025), rel=0.02)
    assert cohort.population(2035) == pytest.approx(comp.population(2035), rel=0.08)


def test_constant_rates_give_compound_growth():
    s = _without_ages(load("conghua"))
    result = project(s, 2030, calibrated=False)
    r = (11.79 - 5.28 + 0.0) / 1000
    for year in range(2020, 2031):
        assert result.population(year) == pytest.approx(719_500 * (1 + r) ** (year - 2020), rel=1e-12)


def test_variants_are_ordered_low_medium_high():
    s = load("guangzhou")
    res = project(s, 2030, ["low", "medium", "high"])
    assert res.population(2030, "low") < res.population(2030, "medium") < res.population(2030, "high")


def test_rate_path_is_linear_between_anchors_and_flat_after():
    rate = Rate(value=10.0, path={2025: 12.5, 2030: 12.0}, assumption="test")
    got = rate_path(rate, 2020).at(np.arange(2021, 2034))
    np.testing.assert_allclose(got[:5], [10.5, 11.0, 11.5, 12.0, 12.5])
    np.testing.assert_allclose(got[5:10], [12.4, 12.3, 12.2, 12.1, 12.0])
    np.testing.assert_allclose(got[10:], 12.0)


def test_high_variant_births_reach_the_plan_target_rate():
    s = _without_ages(load("conghua"))
    t = project(s, 2025, ["high"]).table.set_index("year")
    # births(2025) / population(2024) = 12.5 per 1,000, the plan's target (seed line 209)
    assert t.loc[2025, "births"] / t.loc[2024, "population"] * 1000 == pytest.approx(12.5)


def test_unknown_variant_and_bad_years_are_clear():
    s = load("renhe")
    with pytest.raises(ProjectionError, match="variant 'extreme' is not defined.*medium, low, high"):
        project(s, 2030, ["extreme"])
    with pytest.raises(ProjectionError, match="must be after the base year 2020"):
        project(s, 2019)
    res = project(s, 2025)
    with pytest.raises(ProjectionError, match="outside the projection 2020-2025"):
        res.population(2030)


# -- Leslie matrix: textbook worked example ---------------------------------------------
# H. Anton & C. Rorres, Elementary Linear Algebra: Applications Version, section
# "Leslie Matrix Models of Population Growth", Example 1: three age classes,
# L = [[0, 4, 3], [1/2, 0, 0], [0, 1/4, 0]], 1,000 females in each class initially;
# x(1) = (7000, 500, 250), x(2) = (2750, 3500, 125), x(3) = (14375, 1375, 875);
# dominant eigenvalue 3/2 with eigenvector (1, 1/3, 1/18).


def test_leslie_textbook_example_anton_rorres():
    L = leslie_matrix(np.array([0.0, 4.0, 3.0]), np.array([0.5, 0.25]))
    x = np.array([1000.0, 1000.0, 1000.0])
    expected = [(7000, 500, 250), (2750, 3500, 125), (14375, 1375, 875)]
    for want in expected:
        x = L @ x
        np.testing.assert_allclose(x, want)
    vals, vecs = np.linalg.eig(L)
    k = int(np.argmax(vals.real))
    assert vals[k].real == pytest.approx(1.5)
    v = vecs[:, k].real / vecs[0, k].real
    np.testing.assert_allclose(v, [1, 1 / 3, 1 / 18])


# -- cohort-component -------------------------------------------------------------------

N = 18  # 0-4, ..., 80-84, 85+


def _ages(**over) -> AgeStructure:
    female = np.linspace(40_000, 10_000, N)
    male = female * 1.04
    surv = np.concatenate([np.linspace(0.999, 0.9, N - 1), [0.5]])
    fert = np.zeros(N)
    fert[3:10] = [0.01, 0.06, 0.09, 0.06, 0.025, 0.006, 0.001]  # 15-19 .. 45-49
    base = dict(
        male=male.tolist(),
        female=female.tolist(),
        survival_male=(surv * 0.995).tolist(),
        survival_female=surv.tolist(),
        birth_survival_male=0.994,
        birth_survival_female=0.995,
        fertility=fert.tolist(),
        sex_ratio_at_birth=106.0,
        assumption="synthetic test population",
    )
    base.update(over)
    return AgeStructure(**base)


def _cohort_scenario(ages: AgeStructure, migration_rate: float = 0.0):
    s = load("conghua")
    total = sum(ages.male) + sum(ages.female)
    pop = s.population.model_copy(
        update={
            "base": s.population.base.model_copy(update={"value": total}),
            "age_structure": ages,
            "net_migration_rate": Rate(value=migration_rate, assumption="test"),
        }
    )
    return s.model_copy(update={"population": pop, "observed": {}})  # Conghua's observations are not this population's


def test_cohort_step_balance_identity_is_exact():
    ages = _ages(net_migrants_male=[50.0] * N, net_migrants_female=[-20.0] * N)
    m0, f0 = np.asarray(ages.male), np.asarray(ages.female)
    step = cohort_step(m0, f0, ages)
    before = m0.sum() + f0.sum()
    after = step.male.sum() + step.female.sum()
    assert after == pytest.approx(before + step.births - step.deaths + step.migration, rel=1e-13)
    assert step.migration == pytest.approx(30.0 * N)


def test_cohort_step_without_deaths_or_births_only_ages_people():
    ages = _ages(survival_male=[1.0] * N, survival_female=[1.0] * N, fertility=[0.0] * N)
    m0, f0 = np.asarray(ages.male), np.asarray(ages.female)
    step = cohort_step(m0, f0, ages)
    assert step.births == 0 and step.deaths == 0
    np.testing.assert_allclose(step.female[1:-1], f0[:-2])
    assert step.female[-1] == pytest.approx(f0[-2] + f0[-1])
    assert step.female[0] == 0


def test_cohort_births_follow_fertility_and_sex_ratio():
    ages = _ages()
    f0 = np.asarray(ages.female)
    step = cohort_step(np.asarray(ages.male), f0, ages)
    fert, s = np.asarray(ages.fertility), np.asarray(ages.survival_female)
    # PHG: births = 5 * sum F_x * (W_x(t) + W_x(t+5)) / 2 with W_x(t+5) = S_{x-1} W_{x-1}(t)
    w_end = np.concatenate([[0.0], s[:-1] * f0[:-1]])
    expected = 5 * (fert * (f0 + w_end) / 2).sum()
    assert step.births == pytest.approx(expected, rel=1e-12)
    girls = step.female[0] / ages.birth_survival_female
    boys = step.male[0] / ages.birth_survival_male
    assert boys / girls == pytest.approx(1.06)


def test_cohort_projection_balances_and_reports_old_age_shares():
    s = _cohort_scenario(_ages(), migration_rate=3.0)
    res = project(s, 2040, ["medium", "high"])
    assert res.method == "cohort-component"
    _assert_balance(res.table)
    med = res.table[res.table["variant"] == "medium"].set_index("year")
    assert med.loc[2020, "share_60plus"] == pytest.approx(
        (sum(s.population.age_structure.male[12:]) + sum(s.population.age_structure.female[12:]))
        / s.population.base.value
    )
    assert med["share_65plus"].notna().all()
    assert res.population(2040, "high") > res.population(2040, "medium")


def test_age_structure_must_match_base_population(write_toml):
    from scenarios.loader import ScenarioError

    path = write_toml(
        'extend = "conghua"\n[population.age_structure]\nmale = [10.0, 10.0]\nfemale = [10.0, 10.0]\n'
        'survival_male = [1.0, 1.0]\nsurvival_female = [1.0, 1.0]\nbirth_survival_male = 1.0\n'
        'birth_survival_female = 1.0\nfertility = [0.0, 0.1]\nsex_ratio_at_birth = 105\nassumption = "x"\n'
        'scale_to_base = false\n'  # conghua's census counts are scaled to its base; these must match it
    )
    with pytest.raises(ScenarioError, match="population: age_structure totals 40 persons but base is 719,500"):
        load(path)


# -- CLI -----------------------------------------------------------------------------------


def test_cli_project_formats():
    runner = CliRunner()
    table = runner.invoke(main, ["project", "conghua"])
    assert table.exit_code == 0 and "727,400" in table.output and "observed" in table.output  # 2021 as published
    csv = runner.invoke(main, ["project", "renhe", "--to", "2030", "--variant", "all", "--format", "csv"])
    assert csv.exit_code == 0
    assert (
        csv.output.splitlines()[0] == "year,variant,population,births,deaths,migration,share_60plus,share_65plus,kind"
    )
    assert len(csv.output.splitlines()) == 1 + 3 * 11
    js = runner.invoke(main, ["project", "qingcheng", "--format", "json"])
    data = json.loads(js.output)
    assert data["scenario"] == "qingcheng" and data["rows"][0]["population"] == 1_118_000
    bad = runner.invoke(main, ["project", "qingcheng", "--variant", "extreme"])
    assert bad.exit_code == 2 and "not defined" in bad.output


# -- life table -----------------------------------------------------------------------------


def test_life_table_constant_hazard_gives_life_expectancy_one_over_m():
    from sim.population import life_table

    lt = life_table(np.full(18, 0.02))
    assert lt.e0 == pytest.approx(50.0, rel=1e-12)  # e0 = 1 / m for a constant hazard
    np.testing.assert_allclose(lt.survival, np.exp(-0.02 * 5))  # every 5-year survival ratio is exp(-5 m)
    assert lt.birth_survival == pytest.approx((1 - np.exp(-0.1)) / 0.1)  # 5L0 / 5


def test_mortality_scaled_to_a_life_expectancy_reaches_it():
    from sim.population import scale_to_life_expectancy

    shape = np.geomspace(0.0005, 0.2, 18)
    k, lt = scale_to_life_expectancy(shape, 78.0, q0_4=0.004)
    assert lt.e0 == pytest.approx(78.0, abs=1e-6)
    k2, lt2 = scale_to_life_expectancy(shape, 80.0, q0_4=0.004)
    assert k2 < k and all(a >= b for a, b in zip(lt2.survival, lt.survival))
    with pytest.raises(ValueError, match="cannot be reached"):
        scale_to_life_expectancy(shape, 1000.0)


def test_project_many_matches_the_engine_one_by_one():
    from sim.population import PopulationInputs, RatePath, project_many, project_population

    draws = [
        PopulationInputs(
            base=1e5 * (1 + i / 10),
            birth=RatePath(2020, 10.0 + i, ((2025, 8.0),)),
            death=RatePath(2020, 6.0),
            migration=RatePath(2020, -3.0 + 2 * i),
        )
        for i in range(4)
    ]
    many = project_many(draws, 2020, 2030)
    for i, d in enumerate(draws):
        one = project_population({"medium": d}, 2020, 2030).series("medium").to_numpy()
        np.testing.assert_allclose(many[i], one, rtol=1e-12)
