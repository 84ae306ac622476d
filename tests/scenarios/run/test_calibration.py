"""Projection calibrated to observed years: a known rate is recovered, Guangzhou's published series is
reproduced, observed years are never printed as projected, low/high bracket the observations."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from scenarios.inputs.population import population_inputs
from scenarios.loader import load
from scenarios.run.projection import calibrate, projection_with_calibration
from scenarios.schema import ObservedYear
from sim.population import RatePath, project_population

REF = "《synthetic bulletin》, test, 2024"


def _with_observed(name: str, populations: dict[int, float]):
    s = load(name)
    observed = {y: ObservedYear(population={"value": v, "reference": REF}) for y, v in populations.items()}
    return s.model_copy(update={"observed": observed})


def test_calibration_recovers_a_known_net_migration_rate():
    s = load("conghua")  # births 11.79, deaths 5.28 per 1,000; compound growth with a known migration rate
    growth = (11.79 - 5.28 + 7.3) / 1000
    series = {y: 719_500 * (1 + growth) ** (y - 2020) for y in (2021, 2022, 2024)}
    with_obs = _with_observed("conghua", series)
    # the closed form is the components method's: leave out Conghua's census age structure
    components = with_obs.model_copy(
        update={"population": with_obs.population.model_copy(update={"age_structure": None})}
    )
    cal = calibrate(components, ["low", "high"])
    assert cal.fitted_rate == pytest.approx(7.3, abs=1e-4)
    assert cal.assumed_rate == s.population.net_migration_rate.value == 0.0
    assert cal.max_error < 1e-7
    assert cal.variant_rates["low"] == pytest.approx(7.3 - 2.0, abs=1e-4)  # Conghua's offsets: -2 and +5
    assert cal.variant_rates["high"] == pytest.approx(7.3 + 5.0, abs=1e-4)


def test_observed_years_are_printed_as_observed_and_the_projection_starts_from_the_latest():
    s = _with_observed("conghua", {2021: 725_000, 2023: 735_000})
    s = s.model_copy(update={"population": s.population.model_copy(update={"age_structure": None})})  # closed form
    res, cal = projection_with_calibration(s, 2030, ["medium", "low", "high"])
    for variant, df in res.table.groupby("variant"):
        df = df.set_index("year")
        assert df.loc[2020, "kind"] == "base" and df.loc[2022, "kind"] == "interpolated"
        assert df.loc[2021, "population"] == 725_000 and df.loc[2023, "population"] == 735_000
        assert (df.loc[[2021, 2023], "kind"] == "observed").all()
        assert (df.loc[2024:, "kind"] == "projected").all()
        p = df["population"].to_numpy()  # balance identity in every year, observed ones included
        np.testing.assert_allclose(p[1:], p[:-1] + (df["births"] - df["deaths"] + df["migration"]).to_numpy()[1:])
    med = res.table[res.table["variant"] == "medium"].set_index("year")
    # after the latest observation: the scenario's own (assumed) rates, from the observed population
    growth = (11.79 - 5.28 + s.population.net_migration_rate.value) / 1000
    assert med.loc[2030, "population"] == pytest.approx(735_000 * (1 + growth) ** 7, rel=1e-9)


def test_low_and_high_are_widened_to_bracket_the_observations():
    # a dip and a jump: no constant rate fits; low must stay below every observation and high above
    s = _with_observed("conghua", {2021: 740_000, 2022: 712_000, 2023: 760_000})
    cal = calibrate(s, ["low", "high"])
    assert set(cal.widened) == {"low", "high"}  # Conghua's own offsets (-2, +5 per 1,000) are too narrow here
    for variant, below in (("low", True), ("high", False)):
        inputs = population_inputs(s.population, 2020, variant)
        inputs = dataclasses.replace(inputs, migration=RatePath(2020, cal.variant_rates[variant]))
        medium = population_inputs(s.population, 2020)  # the reference of the cohort-component method
        path = project_population({"medium": medium, variant: inputs}, 2020, 2023).series(variant)
        for year, obs in cal.observed.items():
            assert (path[year] <= obs + 1e-6) if below else (path[year] >= obs - 1e-6), (variant, year)


def test_guangzhou_calibrated_projection_reproduces_its_published_populations():
    s = load("guangzhou")
    res, cal = projection_with_calibration(s, 2030, ["medium", "low", "high"])
    for year in (2021, 2022, 2023):
        assert abs(cal.errors[year]) < 0.005, (year, cal.errors[year])
    assert cal.fitted_rate == pytest.approx(-7.295, abs=0.005)  # assumed +10 per 1,000; the city grew far slower
    assert res.population(2023) == 18_827_000  # printed as observed, never as projected
    assert cal.variant_rates["low"] < cal.fitted_rate < cal.variant_rates["high"]
    out = CliRunner().invoke(main, ["project", "guangzhou", "--to", "2026"])
    assert out.exit_code == 0
    assert "fitted net migration" in out.output and "18,827,000" in out.output
    assert "│ 2023 │ medium  │ observed" in out.output
    from scenarios.labels import Labels

    en, zh = cal.describe(), cal.describe(Labels("zh"))
    assert len(en) == len(zh) and en[0].startswith("Calibrated to the observed populations of 2021, 2022, 2023")
    years = "、".join(map(str, cal.observed))
    assert zh[0].startswith(f"按{years}年的观测常住人口校准") and f"{cal.fitted_rate:+.2f}" in zh[0]
    assert years.startswith("2021、2022、2023")


def test_without_observations_nothing_changes():
    s = load("renhe")
    res, cal = projection_with_calibration(s, 2030)
    assert cal is None
    assert res.table.equals(projection_with_calibration(s, 2030, calibrated=False)[0].table)
