"""Amounts of CNY and year ranges as people type them."""

from __future__ import annotations

import pytest

from scenarios.amounts import AmountError, parse_cny, parse_years


def test_parse_cny():
    assert parse_cny("25亿") == 2.5e9
    assert parse_cny("250000万") == 2.5e9
    assert parse_cny("2.5e9") == 2.5e9
    assert parse_cny("1,000,000") == 1e6
    with pytest.raises(AmountError, match="expected an amount of CNY"):
        parse_cny("lots")


def test_parse_years():
    assert parse_years("2021-2023", []) == [2021, 2022, 2023]
    assert parse_years("2021,2025", []) == [2021, 2025]
    assert parse_years(None, [2020]) == [2020]
    with pytest.raises(AmountError, match="expected a range"):
        parse_years("soon", [])
