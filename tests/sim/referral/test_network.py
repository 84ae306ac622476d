"""The referral network refuses bad input: zero capacity where patients go, probabilities and rates out of range."""

from __future__ import annotations

import pytest
from referral_networks import rates

from scenarios.inputs.referral import network_from_scenario
from scenarios.loader import ScenarioError, load
from sim.referral.network import AllianceNode, NetworkError, ReferralNetwork


def test_zero_capacity_is_refused():
    node = AllianceNode("a", "lead", 10.0, 1, 0, 5, 10, 1)
    net = ReferralNetwork(2020, 1.0, (node,), rates())
    with pytest.raises(NetworkError, match="zero primary-care clinicians but patients arrive there"):
        net.check()
    s = load("renhe")
    with pytest.raises(NetworkError, match="zero hospital beds but patients are admitted"):
        network_from_scenario(
            s, capacities={"hospital": {"clinicians": 100, "beds": 0}, "primary": {"clinicians": 100, "beds": 50}}
        )


def test_probabilities_out_of_range_are_refused(write_toml):
    with pytest.raises(NetworkError, match="p_up = 1.5: expected a probability within"):
        rates(p_up=1.5)
    path = write_toml('extend = "qingcheng"\n[referral]\np_down = { value = 1.2, assumption = "x" }\n')
    with pytest.raises(ScenarioError, match="referral.p_down.value: expected a value that is less than or equal to 1"):
        load(path)


def test_alliance_shares_must_sum_to_one(write_toml):
    path = write_toml(
        'extend = "renhe"\n[referral]\nalliances = [ { name = "a", lead = "h", members = 3, '
        'population_share = 0.6, assumption = "x" }, { name = "b", lead = "h", members = 2, '
        'population_share = 0.6, assumption = "x" } ]\n'
    )
    with pytest.raises(ScenarioError, match="population_share values sum to 1.2; expected them to sum to 1"):
        load(path)


def test_negative_rates_are_refused(write_toml):
    path = write_toml('extend = "renhe"\n[referral]\nvisits_per_capita = { value = -2, assumption = "x" }\n')
    with pytest.raises(
        ScenarioError, match="referral.visits_per_capita.value: expected a value that is greater than 0"
    ):
        load(path)
    with pytest.raises(NetworkError, match="arrivals_per_day = -1"):
        AllianceNode("a", "h", -1.0, 1, 1, 1, 1, 1)
