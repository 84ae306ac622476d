"""Pydantic schema of a healthsim scenario file.

Every number in a scenario is a :class:`Quantity`: a value plus a ``source``
(``seed file:line``, e.g. ``000_f481409494256020.txt:189``), a ``reference`` (a public
document: its title in 《》 or quotes, the issuer and the year, e.g. ``"《2023年广州市国民经济和社会
发展统计公报》, 广州市统计局, 2024"``) or an ``assumption`` (the reason, in words). The schema
refuses a number that carries none. Observed figures (``[observed.<year>]``) need a source or a
reference: an assumption is not an observation.

Units: per-capita ratios are ``per_1000`` / ``per_10000`` / ``per_100000`` residents;
rates are per 1,000 residents per year; money is CNY; times are years.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scenarios.targets import Target as ParsedTarget
from scenarios.targets import parse_target

SEED_SOURCE = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt:\d+(?:[-,]\d+)*$")


def check_seed_citation(v: str | None) -> str | None:
    """Validate a ``seed file:line`` citation such as ``000_f481409494256020.txt:189``."""
    if v is not None and not SEED_SOURCE.match(v):
        raise ValueError(
            f"source must cite a seed as 'NNN_<16 hex>.txt:LINE' (lines may be '12-14' or '12,15'), got {v!r}"
        )
    return v


# A public document: a title in 《》 or quotes, then (issuer and) the year of publication.
PUBLIC_REFERENCE = re.compile(r"(《[^》]+》|\"[^\"]+\"|“[^”]+”).*?(?<!\d)(19|20)\d{2}(?!\d)")


def check_public_reference(v: str | None) -> str | None:
    """Validate a public-document citation such as ``《2023年广州统计年鉴》, 广州市统计局, 2023``."""
    if v is not None and not PUBLIC_REFERENCE.search(v):
        raise ValueError(
            "reference must cite a public document as '《title》, issuer, YEAR' (title in 《》 or quotes, "
            f"then the year of publication), got {v!r}"
        )
    return v


Unit = Literal["per_1000", "per_10000", "per_100000"]
UNIT_DIVISOR: dict[str, float] = {"per_1000": 1_000.0, "per_10000": 10_000.0, "per_100000": 100_000.0}

ResourceKind = Literal[
    "beds",
    "physicians",
    "nurses",
    "gps",
    "public_health_staff",
    "pharmacists",
    "tcm_physicians",
    "psychiatrists",
    "health_technicians",
]


class Strict(BaseModel):
    """Base model: unknown keys are errors; a validated model is frozen (immutable)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # plausible ranges: scenarios/bounds.py


class Provenanced(Strict):
    """Something from a seed (``source``: seed file:line), a public document (``reference``) or an
    ``assumption`` (its reason)."""

    source: str | None = None
    reference: str | None = None
    assumption: str | None = None
    note: str | None = None
    _what: ClassVar[str] = "a number"

    @field_validator("source")
    @classmethod
    def _seed_citation(cls, v: str | None) -> str | None:
        return check_seed_citation(v)

    @field_validator("reference")
    @classmethod
    def _public_reference(cls, v: str | None) -> str | None:
        return check_public_reference(v)

    @model_validator(mode="after")
    def _has_provenance(self) -> Provenanced:
        if not self.source and not self.reference and not self.assumption:
            raise ValueError(
                f"{self._what} needs a 'source' (seed file:line), a 'reference' "
                "(public document and year) or an 'assumption' (its reason)"
            )
        return self

    @property
    def citation(self) -> str:
        """Where the figure comes from, in words (seed line, public document or 'assumption: ...')."""
        return self.source or self.reference or f"assumption: {self.assumption}"


class Quantity(Provenanced):
    """A number with its provenance: a seed citation or a labelled assumption."""

    value: float


class PositiveQuantity(Quantity):
    value: float = Field(gt=0)


class NonNegativeQuantity(Quantity):
    value: float = Field(ge=0)


class Fraction(Quantity):
    value: float = Field(ge=0, le=1)


class Rate(Quantity):
    """A rate per 1,000 residents per year, optionally moving along ``path``.

    ``path`` maps a year to the rate reached in that year; between anchors the rate
    moves linearly, after the last anchor it stays constant.
    """

    value: float = Field(ge=-1000, le=1000)
    path: dict[int, float] = Field(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _path_in_range(cls, v: dict[int, float]) -> dict[int, float]:
        for year, rate in v.items():
            if not -1000 <= rate <= 1000:
                raise ValueError(f"path[{year}] must be a rate per 1,000 within [-1000, 1000], got {rate}")
        return v


class VitalRate(Rate):
    value: float = Field(ge=0, le=1000)

    @field_validator("path")
    @classmethod
    def _path_nonnegative(cls, v: dict[int, float]) -> dict[int, float]:
        for year, rate in v.items():
            if rate < 0:
                raise ValueError(f"path[{year}] must be a rate per 1,000 >= 0, got {rate}")
        return v


class AgeRates(Strict):
    """The crude rates an age table stands for (per 1,000 residents per year): its fertility was scaled to
    ``birth_rate`` and its survival goes with ``death_rate`` (and its ``net_migrants_*`` with
    ``net_migration_rate``). The cohort-component method scales fertility by the scenario's birth rate over
    this one (mortality likewise), so a changed ``population.birth_rate`` moves the projection."""

    birth_rate: VitalRate
    death_rate: VitalRate
    net_migration_rate: Rate


class AgeStructure(Provenanced):
    """Base-year population by 5-year age group (0-4, 5-9, ..., last group open) and sex.

    ``survival_*[i]`` is the 5-year survival ratio from group i to group i+1; the last
    entry is the open group's own 5-year survival. ``birth_survival_*`` is the share of
    births of a 5-year period alive in the 0-4 group at its end (5L0 / 5 l0).
    ``fertility[i]`` is the age-specific fertility rate of women in group i (births per
    woman per year). ``net_migrants_*[i]`` are net migrants per 5-year period.
    ``scale_to_base``: the counts give the shape only (e.g. census counts for a base that differs);
    otherwise they must total ``population.base`` within 0.5%. Either way the projection scales
    them to the base. ``rates``: the crude rates the table stands for (:class:`AgeRates`); when the
    file does not give them, the loader takes the population rates of the file that gives the age
    structure (after its own ``extend``), so a what-if extending it that changes a rate changes the projection.
    """

    male: list[float]
    female: list[float]
    survival_male: list[float]
    survival_female: list[float]
    birth_survival_male: float = Field(gt=0, le=1)
    birth_survival_female: float = Field(gt=0, le=1)
    fertility: list[float]
    sex_ratio_at_birth: float = Field(gt=0, description="male births per 100 female births")
    net_migrants_male: list[float] | None = None
    net_migrants_female: list[float] | None = None
    scale_to_base: bool = Field(
        default=False, description="counts give the age-sex shape only; scaled to population.base"
    )
    rates: AgeRates | None = None
    _what: ClassVar[str] = "an age structure"

    @model_validator(mode="after")
    def _consistent(self) -> AgeStructure:
        n = len(self.female)
        if n < 2:
            raise ValueError("needs at least two age groups")
        for name in ("male", "survival_male", "survival_female", "fertility"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"'{name}' has {len(getattr(self, name))} groups, expected {n} like 'female'")
        for name in ("net_migrants_male", "net_migrants_female"):
            vals = getattr(self, name)
            if vals is not None and len(vals) != n:
                raise ValueError(f"'{name}' has {len(vals)} groups, expected {n} like 'female'")
        if any(x < 0 for x in self.male + self.female):
            raise ValueError("population counts must be >= 0")
        if any(not 0 <= s <= 1 for s in self.survival_male + self.survival_female):
            raise ValueError("survival ratios must lie in [0, 1]")
        if any(f < 0 for f in self.fertility):
            raise ValueError("fertility rates must be >= 0")
        return self


class PopulationVariant(Strict):
    """Overrides of the medium-variant rates for a low/high (or any named) variant."""

    description: str | None = None
    birth_rate: VitalRate | None = None
    death_rate: VitalRate | None = None
    net_migration_rate: Rate | None = None


class Population(Strict):
    """Resident population of the base year (persons, end of year) and its components."""

    base: PositiveQuantity
    birth_rate: VitalRate
    death_rate: VitalRate
    net_migration_rate: Rate
    share_60plus: Fraction | None = None
    share_65plus: Fraction | None = None
    age_structure: AgeStructure | None = None
    variants: dict[str, PopulationVariant] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _age_total_matches(self) -> Population:
        ages = self.age_structure
        if ages is not None and not ages.scale_to_base:
            total = sum(ages.male) + sum(ages.female)
            if abs(total - self.base.value) > 0.005 * self.base.value:
                raise ValueError(
                    f"age_structure totals {total:,.0f} persons but base is {self.base.value:,.0f}; "
                    "expected them to agree within 0.5%"
                )
        return self

    @field_validator("variants")
    @classmethod
    def _no_medium_override(cls, v: dict[str, PopulationVariant]) -> dict[str, PopulationVariant]:
        if "medium" in v:
            raise ValueError("'medium' is the scenario's own rates; define only other variants (e.g. low, high)")
        return v


class TargetSpec(Provenanced):
    """A plan target as printed: ``6.0``, ``>4.0``, ``<=7.0`` or ``+30%``."""

    expr: str
    nature: Literal["binding", "expected"]
    year: int | None = None
    scope: Literal["area", "bureau"] = "area"  # what it counts: every institution in the area, or the bureau's own
    _what: ClassVar[str] = "a target"

    @field_validator("expr")
    @classmethod
    def _parses(cls, v: str) -> str:
        parse_target(v)  # raises ValueError with the expected forms
        return v

    @property
    def parsed(self) -> ParsedTarget:
        return parse_target(self.expr)


class GrowthRate(Quantity):
    """A pool's growth as a share of its stock per year (0.066 = +6.6% a year), observed or from its own projects."""

    value: float = Field(ge=-0.5, le=1.0)


class Ownership(Strict):
    """Privately run (社会办医) hospital capacity of a resource in the base year, and its target.

    ``stock``: private units (beds or persons); or ``share``: the private share of hospital
    capacity (all but primary care), 0-1. ``target``: the plan's private-share target, written
    in percent as the seeds print it (``"30"``, ``">10"``). Private capacity is projected, not decided:
    ``growth`` a year (observed; held flat when absent), or ``path`` (cited stocks by year). ``lever = true``
    makes private additions a decision of the plan instead, priced at ``costs.<kind>.private_subsidy`` (above 0:
    a private bed is never free to the plan) and capped at the observed growth.
    """

    stock: NonNegativeQuantity | None = None
    share: Fraction | None = None
    target: TargetSpec | None = None
    growth: GrowthRate | None = None
    path: dict[int, NonNegativeQuantity] = Field(default_factory=dict)
    lever: bool = False

    @model_validator(mode="after")
    def _one_baseline(self) -> Ownership:
        if (self.stock is None) == (self.share is None):
            raise ValueError(
                "give the private base-year capacity as 'stock' (count) or 'share' (of hospital capacity), not both"
            )
        if self.target is not None and self.target.parsed.relative:
            raise ValueError("a private-share target is a percentage such as '30' or '>10'")
        return self


class OtherPublic(Strict):
    """Hospital capacity of other public operators inside the area (city, provincial, army, enterprise hospitals):
    counted by the area's indicators, not decided by the district's plan. ``stock``: base-year units, within the
    resource's stock; ``growth`` a year or ``path`` (cited stocks by year, from their own projects); held flat when
    neither is given. ``who``: the institutions, as the source names them."""

    stock: NonNegativeQuantity
    growth: GrowthRate | None = None
    path: dict[int, NonNegativeQuantity] = Field(default_factory=dict)
    who: str = ""


class Resource(Strict):
    """Baseline and target of one resource (beds or a staff type), over every institution in the area.

    ``stock`` counts every operator (the bureau's own tiers, ``other_public`` and ``private``, both within the
    hospital tier); ``ratio`` must agree with it (see ``scenarios.loader.RECONCILE_TOL``).
    """

    unit: Unit
    stock: NonNegativeQuantity | None = None
    ratio: NonNegativeQuantity | None = None
    primary_share: Fraction | None = None
    target: TargetSpec | None = None
    alternative_targets: list[TargetSpec] = Field(default_factory=list)
    private: Ownership | None = None
    other_public: OtherPublic | None = None

    @model_validator(mode="after")
    def _baseline(self) -> Resource:
        if self.stock is None and self.ratio is None:
            raise ValueError("give the baseline as 'stock' (count) or 'ratio' (per-capita), or both")
        if self.target is not None and self.target.parsed.relative and self.ratio is None and self.stock is None:
            raise ValueError("a relative target needs a baseline")
        return self


class Indicator(Strict):
    """A non-resource row of the plan's indicator table, kept for completeness."""

    name: str
    name_cn: str | None = None
    unit: str | None = None
    baseline: str | None = None
    target: str
    nature: Literal["binding", "expected"]
    source: str

    @field_validator("source")
    @classmethod
    def _seed_citation(cls, v: str) -> str:
        return check_seed_citation(v)  # type: ignore[return-value]


class ResourceCost(Strict):
    """Costs of one resource kind, CNY at base-year prices.

    ``capital``: one-off per unit added (a new bed's construction and equipment; a new
    staff member's recruitment or training). ``annual``: per unit in service per year
    (staff salary and on-costs; a bed's non-staff running cost). ``primary_factor``
    multiplies both for the primary-care tier (1.0 when absent). ``private_subsidy``: public
    CNY per privately run unit added (0 when absent: private capacity costs the public budget nothing).
    """

    capital: NonNegativeQuantity
    annual: NonNegativeQuantity
    primary_factor: PositiveQuantity | None = None
    private_subsidy: NonNegativeQuantity | None = None


class Switches(Strict):
    """Which realism constraints the optimizer applies (all but disinvestment on by default).

    ``disinvestment``: allow cutting a pool below its base-year stock (shifting or cutting staff);
    off, no tier, ownership or subset pool ever falls and no cost line is negative.
    """

    hiring_limits: bool = True
    private_growth: bool = True
    subsets: bool = True
    capital_smoothing: bool = True
    nurse_physician_ratio: bool = True
    hospital_nurses_per_bed: bool = True
    gp_primary_share: bool = True
    primary_share_band: bool = True
    disinvestment: bool = False


class Constraints(Strict):
    """Realism constraints of the allocation LP.

    ``attrition[kind]``: share of the stock lost each year (retirement, resignation;
    0 for beds). ``max_additions_share[kind]``: most units added in one year, as a share
    of the base-year stock (training pipeline, construction capacity).
    ``nurse_physician_ratio_min``: nurses per physician in the target year.
    ``hospital_nurses_per_bed_min``: hospital-tier nurses per hospital bed, target year.
    ``gp_primary_share_min``: share of GPs working in primary care, every year.
    ``primary_share_shift_max``: the primary-care share of each kind in the target year
    stays within [base-year share, base-year share + this].
    ``private_max_additions_share[kind]``: most privately run units added in one year, as a
    share of the base-year private stock. ``capital_share_max``: no year's public capital
    spending above this share of the plan period's (smoothing).
    """

    attrition: dict[ResourceKind, Fraction] = Field(default_factory=dict)
    max_additions_share: dict[ResourceKind, NonNegativeQuantity] = Field(default_factory=dict)
    nurse_physician_ratio_min: NonNegativeQuantity | None = None
    hospital_nurses_per_bed_min: NonNegativeQuantity | None = None
    gp_primary_share_min: Fraction | None = None
    primary_share_shift_max: Fraction | None = None
    private_max_additions_share: dict[ResourceKind, NonNegativeQuantity] = Field(default_factory=dict)
    capital_share_max: Fraction | None = None
    enabled: Switches = Field(default_factory=Switches)


class Weights(Strict):
    """Weights of relative shortfalls in max-attainment mode."""

    binding: float = Field(default=3.0, ge=0)
    expected: float = Field(default=1.0, ge=0)
    kinds: dict[ResourceKind, float] = Field(default_factory=dict)


Basis = Literal["target", "need", "both"]


class PlanSettings(Strict):
    """Budget (public CNY over the plan period, optionally capped per year) and optimizer settings.

    ``trajectory``: ``linear`` (default) puts every year on or above the straight line from the
    base-year ratio to the target (年度目标); ``free`` lets the plan reach the target any way.
    ``discount_rate``: yearly rate at which costs are discounted in the objective (0 when absent).
    ``whole_units``: plan in whole beds and persons (default) or allow fractions.
    ``basis``: what the plan must reach in the target year: the plan's per-capita targets (``target``),
    the ``need`` implied by the projected population (``[demand]``), or ``both``.
    ``size_by_need`` (default on): the bureau builds no beds past the need from demand (plus
    ``demand.planning_headroom``, less other operators' beds) unless a binding (约束性) target forces it; an expected
    (预期性) target above the need is reported as not justified by demand. ``meet_expected_above_need``: meet such
    targets anyway (the beds past the need are still reported).
    """

    budget_total: NonNegativeQuantity | None = None
    budget_per_year: NonNegativeQuantity | None = None
    mode: Literal["min-cost", "max-attainment"] = "min-cost"
    basis: Basis = "target"
    weights: Weights = Field(default_factory=Weights)
    trajectory: Literal["linear", "free"] = "linear"
    discount_rate: Fraction | None = None
    whole_units: bool = True
    size_by_need: bool = True
    meet_expected_above_need: bool = False


class Alliance(Provenanced):
    """A medical alliance (医联体/医共体): a lead hospital and its primary-care members."""

    name: str
    lead: str
    members: int = Field(ge=1, description="member township/community health centres")
    population_share: float = Field(ge=0, le=1, description="share of the region's residents it serves")
    _what: ClassVar[str] = "an alliance"


class ReferralSettings(Strict):
    """Patient-flow parameters of the referral simulation (time in days, rates per resident per year).

    ``visits_per_capita``: outpatient visits (both tiers) per resident per year.
    ``admissions_per_capita``: inpatient admissions per resident per year.
    ``primary_first_share``: share of first contacts made in primary care (the rest bypass to hospital).
    ``p_up``: probability that a primary-care consult is referred up to hospital outpatient.
    ``p_down``: probability that a hospital discharge is referred down to a primary-care bed.
    ``primary_admission_share``: share of admissions to primary-care beds.
    ``alos_hospital_days`` / ``alos_primary_days`` / ``recovery_days``: mean lengths of stay.
    ``los_cv``: coefficient of variation of lengths of stay (lognormal).
    ``consults_per_clinician_day``: outpatient consults one clinician can give in a working day.
    ``clinic_days_share``: share of calendar days a clinician gives outpatient consults.
    ``wait_tolerance_days``: a patient waiting longer for a consult leaves the area.
    ``bed_wait_tolerance_days``: an admission waiting longer for a bed leaves the area.
    ``congestion_uplift``: up-referral probability multiplier for a patient who waited more than
    ``congestion_wait_days`` in primary care (capacity effect).
    ``severe_share`` / ``severe_multiplier``: case mix; severe cases are referred up and admitted
    ``severe_multiplier`` times as often as others (the mean probabilities are kept).
    """

    alliances: list[Alliance]
    visits_per_capita: PositiveQuantity
    admissions_per_capita: NonNegativeQuantity
    primary_first_share: Fraction
    p_up: Fraction
    p_down: Fraction
    primary_admission_share: Fraction
    alos_hospital_days: PositiveQuantity
    alos_primary_days: PositiveQuantity
    recovery_days: PositiveQuantity
    los_cv: NonNegativeQuantity
    consults_per_clinician_day: PositiveQuantity
    clinic_days_share: Fraction
    wait_tolerance_days: PositiveQuantity
    bed_wait_tolerance_days: PositiveQuantity
    congestion_uplift: PositiveQuantity
    congestion_wait_days: PositiveQuantity
    severe_share: Fraction
    severe_multiplier: PositiveQuantity

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> ReferralSettings:
        total = sum(a.population_share for a in self.alliances)
        if self.alliances and abs(total - 1.0) > 1e-6:
            raise ValueError(f"alliances' population_share values sum to {total:.6g}; expected them to sum to 1")
        if not self.alliances:
            raise ValueError("expected at least one alliance")
        return self


class ServiceStandards(Strict):
    """Service standards the re-plan loop holds the simulated plan to (target year).

    ``occupancy_max``: simulated bed occupancy above it raises the bed need of that tier;
    ``occupancy_min``: below it the plan is flagged as overbuilt; ``bed_wait_p95_max_days``:
    95th percentile wait for a hospital bed; ``max_iterations``: re-plans before giving up.
    """

    occupancy_max: Fraction
    occupancy_min: Fraction
    bed_wait_p95_max_days: PositiveQuantity
    max_iterations: int = Field(default=5, ge=1, le=50)


class DemandSettings(Strict):
    """Need from demand (beds by the planning formula, staff by workload) and tiered-care response.

    Age: a resident aged 65+ is admitted ``admissions_ratio_65plus`` times and visits
    ``visits_ratio_65plus`` times as often as the average of a population whose 65+ share is
    ``reference_share_65plus``; the referral section's per-capita rates hold in the base year and
    move with the projected 65+ share. Beds: admissions x length of stay / (365 x target occupancy);
    the hospital length of stay moves linearly from the referral section's ``alos_hospital_days``
    (base year) to ``alos_hospital_target_days`` (the seed's target) by the target year.
    Staff (WHO WISN): minutes of consults and inpatient bed-days over ``clinical_minutes_per_year``
    per physician; GPs: residents signed with a family doctor (``signup_rate``) / ``residents_per_gp``.
    Tiered care: logit(primary-care share of first contacts) moves by ``primary_share_elasticity``
    x ln(primary / hospital physicians relative to the base year); the share of residents' episodes
    treated outside the area (``bypass_share`` in the base year) moves with the area's physicians
    (both tiers) per 1,000 to the power ``-bypass_elasticity``.
    ``planning_headroom``: beds the plan may hold above the need (share; the need bound). ``observed_occupancy_*``:
    base-year bed occupancy (病床使用率) by tier, against which the need model is checked on the base year;
    ``non_resident_share``: share of the area's admissions that are patients from outside it (a referral centre).
    """

    admissions_ratio_65plus: PositiveQuantity
    visits_ratio_65plus: PositiveQuantity
    reference_share_65plus: Fraction
    target_occupancy_hospital: Fraction
    target_occupancy_primary: Fraction
    alos_hospital_target_days: PositiveQuantity | None = None
    clinical_minutes_per_year: PositiveQuantity
    consult_minutes_hospital: PositiveQuantity
    consult_minutes_primary: PositiveQuantity
    bed_day_minutes_hospital: PositiveQuantity
    bed_day_minutes_primary: PositiveQuantity
    signup_rate: Fraction | None = None
    residents_per_gp: PositiveQuantity | None = None
    primary_share_elasticity: NonNegativeQuantity
    bypass_share: Fraction
    bypass_elasticity: NonNegativeQuantity
    standards: ServiceStandards
    planning_headroom: Fraction | None = None
    observed_occupancy_hospital: Fraction | None = None
    observed_occupancy_primary: Fraction | None = None
    non_resident_share: Fraction | None = None


class RateSpread(Provenanced):
    """A rate's 5th and 95th percentiles in the Monte Carlo draws, as deviations from the medium rate (per 1,000)."""

    low: float = Field(le=0)
    high: float = Field(ge=0)
    _what: ClassVar[str] = "a rate spread"


class UncertaintySettings(Strict):
    """Distributions of ``healthsim uncertainty``'s draws; a rate without a spread takes it from the low and
    high variants. ``capital_cost`` / ``running_cost``: the 95th percentile of a lognormal factor (median 1)
    on every capital / running cost is 1 + value; ``demand_rate``: the same for every per-capita use rate (admissions,
    visits), which moves the need from demand. ``rate_correlation``: correlation of the rate shocks."""

    birth_rate: RateSpread | None = None
    death_rate: RateSpread | None = None
    net_migration_rate: RateSpread | None = None
    rate_correlation: Fraction | None = None
    capital_cost: NonNegativeQuantity | None = None
    running_cost: NonNegativeQuantity | None = None
    demand_rate: NonNegativeQuantity | None = None


class Region(Strict):
    name: str
    name_cn: str
    level: Literal["district", "county", "city", "province"]
    province: str | None = None


class ObservedFigure(NonNegativeQuantity):
    """A published figure of an observed year: a seed line (``source``) or a public document
    (``reference``); an ``assumption`` alone is refused."""

    _what: ClassVar[str] = "an observed figure"

    @model_validator(mode="after")
    def _has_provenance(self) -> ObservedFigure:  # replaces the base check: an assumption is not enough
        if not self.source and not self.reference:
            raise ValueError(
                "an observed figure needs a 'reference' (public document and year, e.g. "
                "'《2023年广州市国民经济和社会发展统计公报》, 广州市统计局, 2024') or a 'source' "
                "(seed file:line); an assumption is not an observation"
            )
        return self


class ObservedYear(Strict):
    """Published figures of one year (end of year): residents and resource stocks (persons, beds),
    and where published births, deaths (persons in the year), visits and discharges (per year)."""

    population: ObservedFigure | None = None
    births: ObservedFigure | None = None
    deaths: ObservedFigure | None = None
    visits: ObservedFigure | None = None
    discharges: ObservedFigure | None = None
    resources: dict[ResourceKind, ObservedFigure] = Field(default_factory=dict)


class NextPlan(Strict):
    """The next five-year plan (e.g. the 15th, 2026-2030): it starts from the end of this scenario's
    plan (``base_year``: observed figures where known, else this plan's result) and has its own
    ``targets`` (one per resource kind; kinds without one have no target)."""

    name: str
    base_year: int = Field(ge=1950, le=2100)
    target_year: int = Field(ge=1950, le=2100)
    targets: dict[ResourceKind, TargetSpec]

    @model_validator(mode="after")
    def _years(self) -> NextPlan:
        if self.target_year <= self.base_year:
            raise ValueError(f"target_year ({self.target_year}) must be after base_year ({self.base_year})")
        return self


NAME_CHARS = "A-Za-z0-9_\\-\u3400-\u4dbf\u4e00-\u9fff"  # letters, digits, _ and -, Chinese characters
NAME_RE = re.compile(f"[{NAME_CHARS}]{{1,100}}")
NAME_EXPECTED = (
    "expected a name of letters, digits, '_', '-' or Chinese characters (1-100 of them, no '/', '.' or spaces)"
)


def name_problem(value: object) -> str | None:
    """Why ``value`` cannot be a scenario id (it names files and folders), or None when it can."""
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        return f"{NAME_EXPECTED}, got {value!r}"
    return None


def safe_name(text: str) -> str:
    """``text`` with every character a name may not hold replaced by '_' (a file stem made an id)."""
    return re.sub(f"[^{NAME_CHARS}]", "_", text)[:100] or "_"


class ReportSettings(Strict):
    """How reports and workbooks are written: ``lang`` zh (Chinese, the default) or en."""

    lang: Literal["zh", "en"] = "zh"


class Scenario(Strict):
    """A complete, validated scenario: region, population, resources, targets."""

    id: str  # a name (NAME_RE): it names output folders and files
    description: str | None = None
    seed: str | None = None
    base_year: int = Field(ge=1950, le=2100)
    target_year: int = Field(ge=1950, le=2100)
    region: Region
    population: Population
    resources: dict[ResourceKind, Resource]
    indicators: list[Indicator] = Field(default_factory=list)
    primary_share_defaults: dict[ResourceKind, Fraction] = Field(default_factory=dict)
    costs: dict[ResourceKind, ResourceCost] = Field(default_factory=dict)
    constraints: Constraints = Field(default_factory=Constraints)
    plan: PlanSettings = Field(default_factory=PlanSettings)
    referral: ReferralSettings | None = None
    observed: dict[int, ObservedYear] = Field(default_factory=dict)
    next_plan: NextPlan | None = None
    report: ReportSettings = Field(default_factory=ReportSettings)
    demand: DemandSettings | None = None

    uncertainty: UncertaintySettings = Field(default_factory=UncertaintySettings)

    @field_validator("id")
    @classmethod
    def _id_is_a_name(cls, v: str) -> str:
        if problem := name_problem(v):
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _years(self) -> Scenario:
        if self.target_year <= self.base_year:
            raise ValueError(f"target_year ({self.target_year}) must be after base_year ({self.base_year})")
        return self

    # -- derived views -------------------------------------------------------------
    def observed_series(self, field: str = "population") -> dict[int, ObservedFigure]:
        """Observed figures of one field (``population``, ``births``, ... or a resource kind) by year."""
        out = {}
        for year, obs in sorted(self.observed.items()):
            fig = obs.resources.get(field) if field in self.resources else getattr(obs, field, None)
            if fig is not None:
                out[year] = fig
        return out

    def baseline_stock(self, kind: str) -> float:
        """Baseline count of a resource (persons or beds); from the ratio when no count is given."""
        res = self.resources[kind]
        if res.stock is not None:
            return res.stock.value
        assert res.ratio is not None
        return res.ratio.value * self.population.base.value / UNIT_DIVISOR[res.unit]

    def primary_share(self, kind: str) -> float:
        """Base-year share of a resource in primary care: the resource's own, else the default."""
        own = self.resources[kind].primary_share
        if own is not None:
            return own.value
        if kind in self.primary_share_defaults:
            return self.primary_share_defaults[kind].value
        raise KeyError(kind)

    def baseline_ratio(self, kind: str) -> float:
        """Baseline per-capita ratio in the resource's own unit."""
        res = self.resources[kind]
        if res.ratio is not None:
            return res.ratio.value
        assert res.stock is not None
        return res.stock.value / self.population.base.value * UNIT_DIVISOR[res.unit]
