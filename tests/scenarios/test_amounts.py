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


def test_format_cny_writes_yi_and_wan_and_tells_close_amounts_apart():
    from scenarios.amounts import format_cny
    from scenarios.report.words import _distinct

    assert (format_cny(1.8e8), format_cny(3.5e6), format_cny(5000)) == ("1.8亿", "350万", "CNY 5,000")
    assert format_cny(3.845e10) == "384.5亿" and format_cny(9.2e8, 2) == "9.20亿"
    assert _distinct(9.2205e8, 9.19e8) == ("9.22亿", "9.19亿")  # both 9.2亿 at one digit
    assert _distinct(29.8e8, 29.4e8) == ("29.8亿", "29.4亿")
