"""Observed years in a scenario: citations (seed line or public document), and bad input named by file and field."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import main
from scenarios.loader import ScenarioError, load
from scenarios.schema import Quantity

REF = "《2023年广州市国民经济和社会发展统计公报》, 广州市统计局, 2024"


def test_guangzhou_observes_its_published_population_and_resources():
    s = load("guangzhou")
    pop = {y: q.value for y, q in s.observed_series("population").items()}
    assert pop == {2021: 18_810_600, 2022: 18_734_100, 2023: 18_827_000, 2024: 18_978_000}
    assert {y: q.value for y, q in s.observed_series("physicians").items()} == {2021: 66_204, 2022: 68_687}
    assert {y: q.value for y, q in s.observed_series("nurses").items()} == {2021: 88_017, 2022: 91_203}
    for year, obs in s.observed.items():
        for q in [obs.population, obs.visits, obs.discharges, *obs.resources.values()]:
            assert q is None or (q.reference and "《" in q.reference and q.reference.rstrip()[-4:].isdigit()), (year, q)


def test_a_public_reference_is_accepted_and_checked():
    q = Quantity(value=1.0, reference=REF)
    assert q.citation == REF
    with pytest.raises(ValueError, match="reference must cite a public document"):
        Quantity(value=1.0, reference="the city's website")
    with pytest.raises(ValueError, match="reference must cite a public document"):
        Quantity(value=1.0, reference="《广州统计年鉴》 without a year")


BAD = [
    (
        "observed year after the target year",
        f'[observed.2027]\npopulation = {{ value = 760000, reference = "{REF}" }}\n',
        "observed.2027",
        "after the target year 2025",
    ),
    (
        "observed year before the base year",
        f'[observed.2019]\npopulation = {{ value = 700000, reference = "{REF}" }}\n',
        "observed.2019",
        "before the base year 2020",
    ),
    (
        "observed figure without a source",
        "[observed.2022]\npopulation = { value = 730000 }\n",
        "observed.2022.population",
        "an observed figure needs a 'reference'",
    ),
    (
        "observed figure with only an assumption",
        '[observed.2022]\npopulation = { value = 730000, assumption = "guess" }\n',
        "observed.2022.population",
        "an assumption is not an observation",
    ),
    (
        "observed resource the scenario lacks",
        f'[observed.2022.resources]\npharmacists = {{ value = 300, reference = "{REF}" }}\n',
        "observed.2022.resources.pharmacists",
        "not a resource of this scenario",
    ),
    (
        "unknown observed field",
        f'[observed.2022]\nresidents = {{ value = 1, reference = "{REF}" }}\n',
        "observed.2022.residents",
        "unknown key; allowed here: population, births",
    ),
    (
        "next plan base year with no way to derive it",
        '[next_plan]\nname = "x"\nbase_year = 2027\ntarget_year = 2030\n[next_plan.targets]\n'
        'beds = { expr = "6", nature = "expected", assumption = "x" }\n',
        "next_plan.base_year",
        "after the scenario's target year 2025",
    ),
]


@pytest.mark.parametrize("label,body,field,expect", BAD, ids=[b[0] for b in BAD])
def test_bad_observed_input_names_file_and_field(write_toml, label, body, field, expect):
    path = write_toml('extend = "conghua"\n' + body)
    with pytest.raises(ScenarioError) as info:
        load(path)
    msg = str(info.value)
    assert f"{path}: {field}:" in msg and expect in msg, msg


def test_cli_reports_an_observed_figure_without_source_without_traceback(write_toml):
    path = write_toml('extend = "conghua"\n[observed.2022]\npopulation = { value = 730000 }\n')
    out = CliRunner().invoke(main, ["validate", str(path)])
    assert out.exit_code == 2 and "observed.2022.population" in out.output and "Traceback" not in out.output
