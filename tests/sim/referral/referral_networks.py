"""Small referral networks for the tests: one alliance with chosen servers, or a busy one using every path."""

from __future__ import annotations

import math

from sim.referral.network import AllianceNode, FlowRates, ReferralNetwork


def rates(**over) -> FlowRates:
    base = dict(
        primary_first_share=1.0,
        p_up=0.0,
        p_admit_primary=0.0,
        p_admit_hospital=0.0,
        p_down=0.0,
        consult_days=1.0,
        alos_hospital=5.0,
        alos_primary=5.0,
        recovery=5.0,
        los_cv=1.0,
        wait_tolerance=math.inf,
        bed_wait_tolerance=math.inf,
        congestion_wait=1.0,
        congestion_uplift=1.0,
        severe_share=0.0,
        severe_multiplier=1.0,
    )
    base.update(over)
    return FlowRates(**base)


def network(lam: float, primary_servers: int, hospital_servers: int = 1, beds: int = 1, **over) -> ReferralNetwork:
    node = AllianceNode("a", "lead", lam, 1, primary_servers, hospital_servers, beds, 1)
    return ReferralNetwork(year=2020, population=1.0, alliances=(node,), rates=rates(**over), clinic_days_share=1.0)


def busy_network(**over) -> ReferralNetwork:
    """Two congested clinics feeding a congested outpatient clinic and wards; every path is used."""
    r = dict(
        primary_first_share=0.6,
        p_up=0.1,
        p_admit_primary=0.05,
        p_admit_hospital=0.3,
        p_down=0.3,
        wait_tolerance=2.0,
        bed_wait_tolerance=1.0,
        congestion_wait=0.5,
        congestion_uplift=1.5,
        severe_share=0.2,
        severe_multiplier=2.0,
    )
    r.update(over)
    node = AllianceNode("a", "lead", 8.0, 2, 6, 5, 7, 4)  # 3 servers per clinic, 5 at outpatient
    return ReferralNetwork(year=2020, population=1.0, alliances=(node,), rates=rates(**r), clinic_days_share=1.0)
