"""Need from demand: the beds and staff the projected residents will use, beside the plan's targets.

For every year from the base year to the target year, with the scenario's ``[demand]`` and
``[referral]`` sections:

* **Use by age.** Visits and admissions per resident are the referral section's base-year rates
  moved by the projected 65+ share: a resident aged 65+ uses ``R`` times what one under 65 does,
  with ``R`` from the survey ratio older-adult / all-ages rate (see :func:`age_factor`).
* **Beds** (the standard planning formula): admissions x average length of stay / (365 x target
  occupancy), by tier: hospital admissions at the hospital stay (moving to the seed's target stay);
  primary-care admissions at the primary stay plus down-referred recoveries.
* **Physicians** (WHO WISN): (consults x minutes per consult + bed-days x minutes per bed-day) /
  clinical minutes per physician-year, by tier, visits split by the base-year primary-care share.
* **GPs**: residents signed with a family doctor / residents per GP (primary care), where the seed
  gives a sign-up rate.
* **Nurses** (both tiers together; no seed splits nurses by tier): the scenario's own staffing
  floors applied to the need above (nurses per physician, hospital nurses per hospital bed).

Other kinds have no demand standard: they follow their targets only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimize.problem import FloorRow, TargetRow
from scenarios.inputs.population import MEDIUM
from scenarios.labels import resource_label
from scenarios.schema import DemandSettings, Scenario
from sim.population import ProjectionError, ProjectionResult

NEED_COLUMNS = ["region", "year", "kind", "tier", "need", "basis"]


def older_relative_rate(ratio_to_all: float, reference_share: float) -> float:
    """Rate of a 65+ resident relative to one under 65, from the 65+ / all-ages ratio measured on a
    population whose 65+ share is ``reference_share``: ``ratio (1 - s) / (1 - s ratio)``."""
    s = reference_share
    if s * ratio_to_all >= 1.0:
        raise ValueError(f"a 65+ ratio of {ratio_to_all} is impossible when 65+ are {s:.1%} of the population")
    return ratio_to_all * (1.0 - s) / (1.0 - s * ratio_to_all)


def age_factor(share_65plus: np.ndarray | float, base_share: float, ratio_to_all: float, reference_share: float):
    """Use per resident relative to the base year when the 65+ share moves from ``base_share``."""
    r = older_relative_rate(ratio_to_all, reference_share)
    mix = lambda s: (1.0 - s) + s * r  # noqa: E731
    return mix(np.asarray(share_65plus, float)) / mix(base_share)


def beds_needed(admissions_per_year: float, alos_days: float, occupancy: float) -> float:
    """The planning formula: admissions x average length of stay / (365 x target occupancy), beds."""
    return admissions_per_year * alos_days / (365.0 * occupancy)


def staff_needed(minutes_by_activity: list[tuple[float, float]], clinical_minutes_per_year: float) -> float:
    """WHO WISN: sum of (activities a year x minutes each) / available clinical minutes a year, persons."""
    return sum(n * minutes for n, minutes in minutes_by_activity) / clinical_minutes_per_year


def _demand(s: Scenario) -> DemandSettings:
    if s.demand is None or s.referral is None:
        missing = " and ".join(n for n, v in (("[demand]", s.demand), ("[referral]", s.referral)) if v is None)
        raise ProjectionError(
            f"scenario '{s.id}' has no {missing} section; need from demand needs both "
            "(use rates, lengths of stay and workload standards)"
        )
    return s.demand


def demand_by_year(
    s: Scenario, projection: ProjectionResult, variant: str = MEDIUM, years: list[int] | None = None
) -> pd.DataFrame:
    """Per year (default base .. target year; each must be projected): population, 65+ share,
    visits and admissions per resident, hospital stay (days; the seed's target holds after the target year)."""
    d, ref = _demand(s), s.referral
    table = projection.table[projection.table["variant"] == variant].set_index("year")
    years = np.asarray(range(s.base_year, s.target_year + 1) if years is None else years, int)
    missing = sorted(set(years.tolist()) - set(table.index) | ({s.base_year} - set(table.index)))
    if missing:
        raise ProjectionError(f"scenario '{s.id}': need by year needs the projection of {missing[0]}")
    t = table.loc[years]
    share = t["share_65plus"].to_numpy(float)
    base_share = float(table.loc[s.base_year, "share_65plus"])
    if np.isnan(share).any() or np.isnan(base_share):
        raise ProjectionError(
            f"scenario '{s.id}': need by age needs the 65+ share every year; "
            "give [population.age_structure] (cohort-component projection)"
        )
    frac = np.clip((years - s.base_year) / (s.target_year - s.base_year), 0.0, 1.0)
    alos0 = ref.alos_hospital_days.value
    alos1 = d.alos_hospital_target_days.value if d.alos_hospital_target_days else alos0
    return pd.DataFrame(
        {
            "year": years,
            "population": t["population"].to_numpy(float),
            "share_65plus": share,
            "visits_per_capita": ref.visits_per_capita.value
            * age_factor(share, base_share, d.visits_ratio_65plus.value, d.reference_share_65plus.value),
            "admissions_per_capita": ref.admissions_per_capita.value
            * age_factor(share, base_share, d.admissions_ratio_65plus.value, d.reference_share_65plus.value),
            "alos_hospital_days": alos0 + frac * (alos1 - alos0),
        }
    )


def _need_rows(s: Scenario, row) -> list[tuple[str, str, float, str]]:
    """(kind, tier, need, basis) for one year of :func:`demand_by_year`."""
    d, ref = s.demand, s.referral
    adm = row.admissions_per_capita * row.population
    adm_p = adm * ref.primary_admission_share.value
    adm_h = adm - adm_p
    days_h = adm_h * row.alos_hospital_days
    days_p = adm_p * ref.alos_primary_days.value + adm_h * ref.p_down.value * ref.recovery_days.value
    occ_h, occ_p = d.target_occupancy_hospital.value, d.target_occupancy_primary.value
    visits = row.visits_per_capita * row.population
    share = ref.primary_first_share.value
    minutes = d.clinical_minutes_per_year.value
    phys_h = staff_needed(
        [(visits * (1 - share), d.consult_minutes_hospital.value), (days_h, d.bed_day_minutes_hospital.value)], minutes
    )
    phys_p = staff_needed(
        [(visits * share, d.consult_minutes_primary.value), (days_p, d.bed_day_minutes_primary.value)], minutes
    )
    beds_h = beds_needed(adm_h, row.alos_hospital_days, occ_h)
    beds_p = beds_needed(1.0, days_p, occ_p)  # bed-days of admissions and recoveries
    rows = [
        ("beds", "hospital", beds_h, f"admissions x {row.alos_hospital_days:.1f} days / (365 x {occ_h:.0%})"),
        ("beds", "primary", beds_p, f"admissions and recoveries x stay / (365 x {occ_p:.0%})"),
        ("physicians", "hospital", phys_h, "WISN: consult and bed-day minutes / clinical minutes a year"),
        ("physicians", "primary", phys_p, "WISN: consult and bed-day minutes / clinical minutes a year"),
    ]
    if d.signup_rate is not None and d.residents_per_gp is not None:
        rows.append(
            (
                "gps",
                "primary",
                row.population * d.signup_rate.value / d.residents_per_gp.value,
                f"{d.signup_rate.value:.1%} signed residents / {d.residents_per_gp.value:,.0f} per GP",
            )
        )
    c = s.constraints
    if c.nurse_physician_ratio_min is not None and c.hospital_nurses_per_bed_min is not None:
        npr, npb = c.nurse_physician_ratio_min.value, c.hospital_nurses_per_bed_min.value
        rows.append(
            (
                "nurses",
                "all",
                max(npb * beds_h, npr * phys_h) + npr * phys_p,
                f"{npr:g} per physician, at least {npb:g} per hospital bed, of the need (both tiers)",
            )
        )
    return [r for r in rows if r[0] in s.resources]


def need_table(s: Scenario, projection: ProjectionResult, variant: str = MEDIUM) -> pd.DataFrame:
    """Tidy need: region, year, kind, tier, need (beds or persons), basis (the formula in words)."""
    rows = [
        (s.id, int(r.year), *n) for r in demand_by_year(s, projection, variant).itertuples() for n in _need_rows(s, r)
    ]
    return pd.DataFrame(rows, columns=NEED_COLUMNS)


def need_floors(need: pd.DataFrame, year: int) -> tuple[FloorRow, ...]:
    """The need of ``year`` as stock floors by tier (plain rows for the optimizer)."""
    sub = need[need["year"] == year]
    return tuple(
        FloorRow(
            r.region,
            r.kind,
            None if r.tier == "all" else r.tier,
            int(r.year),
            float(r.need),
            f"need: {resource_label(r.kind)}",
        )
        for r in sub.itertuples()
    )


def need_vs_plan(
    need: pd.DataFrame, stocks: pd.DataFrame, targets: tuple[TargetRow, ...], population: pd.Series
) -> pd.DataFrame:
    """Need, target and plan side by side: year, kind, tier ('all' = both tiers), need, target, plan.

    ``target`` is the target ratio applied to each year's population (units), shown on the
    'all' rows (``target_sense``: floor, or ceiling for an upper limit); ``population``: residents by year.
    """
    plan = stocks.groupby(["year", "kind", "tier"], as_index=False)["stock"].sum()
    plan = pd.concat([plan, plan.groupby(["year", "kind"], as_index=False)["stock"].sum().assign(tier="all")])
    nd = need.groupby(["year", "kind", "tier"], as_index=False)["need"].sum()
    split = nd[nd["tier"] != "all"]
    nd = pd.concat([nd, split.groupby(["year", "kind"], as_index=False)["need"].sum().assign(tier="all")])
    out = plan.merge(nd, on=["year", "kind", "tier"], how="left").rename(columns={"stock": "plan"})
    ratio = {tr.kind: tr for tr in targets if tr.measure == "ratio"}  # a private-share target is no count of units
    out["target"] = [
        ratio[k].ratio * population.get(y, np.nan) / ratio[k].divisor if t == "all" and k in ratio else np.nan
        for y, k, t in zip(out["year"], out["kind"], out["tier"])
    ]
    out["target_sense"] = [
        ratio[k].sense if t == "all" and k in ratio else "" for k, t in zip(out["kind"], out["tier"])
    ]
    out = out[["year", "kind", "tier", "need", "target", "target_sense", "plan"]]
    return out.sort_values(["kind", "tier", "year"]).reset_index(drop=True)
