"""Amounts and year ranges as people type them: ``25亿``, ``250000万``, ``2.5e9``; ``2021-2025``."""

from __future__ import annotations

from scenarios.bounds import outside

_MONEY_UNITS = {"亿": 1e8, "万": 1e4, "k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9}


class AmountError(ValueError):
    """An amount or a year range that cannot be read; ``str()`` names the option and what was expected."""


def parse_cny(text: str | None, option: str = "--budget") -> float | None:
    """An amount of CNY: '2.5e9', '2500000000', '25亿', '250000万', '2.5bn', '300m' (None stays None)."""
    if text is None:
        return None
    raw = str(text).strip().replace(",", "").replace("_", "")
    lower = raw.lower()
    factor = 1.0
    for suffix, f in _MONEY_UNITS.items():
        if lower.endswith(suffix):
            factor, lower = f, lower[: -len(suffix)]
            break
    try:
        value = float(lower) * factor
    except ValueError:
        raise AmountError(f"{option} {text!r}: expected an amount of CNY such as 2.5e9, 25亿 or 250000万") from None
    if value < 0:
        raise AmountError(f"{option} {text!r}: expected an amount >= 0 CNY")
    problem = outside("plan.budget_total", value)
    if problem:
        raise AmountError(f"{option} {text!r}: {problem}")
    return value


def format_cny(value: float, digits: int | None = None) -> str:
    """An amount of CNY as a planner writes it: ``1.8亿`` (100 million), ``350万`` (10,000), else ``CNY 5,000``;
    ``digits`` after the point of 亿 (default 1, none from 1,000亿)."""
    v = abs(value)
    if v >= 1e8:
        return f"{value / 1e8:,.{digits if digits is not None else (1 if v < 1e11 else 0)}f}亿"
    if v >= 1e4:
        return f"{value / 1e4:,.0f}万"
    return f"CNY {value:,.0f}"


def parse_years(
    text: str | None, default: list[int], option: str = "--years", within: tuple[int, int] | None = None
) -> list[int]:
    """'2021-2025', '2021,2023' or '2022' -> list of years; ``default`` when empty; each year within
    ``within`` (first, last) when given."""
    if not text:
        return default
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
            years = list(range(a, b + 1))
        else:
            years = [int(x) for x in text.split(",")]
    except ValueError:
        raise AmountError(f"{option} {text!r}: expected a range like 2021-2025 or a list like 2021,2023") from None
    if not years:
        raise AmountError(f"{option} {text!r}: expected at least one year (first <= last)")
    if within is not None and not within[0] <= min(years) <= max(years) <= within[1]:
        raise AmountError(f"{option} {text!r}: expected years from {within[0]} to {within[1]}")
    return years
