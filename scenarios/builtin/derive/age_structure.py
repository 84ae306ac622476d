"""Derive the built-ins' ``[population.age_structure]`` tables (run: ``python scenarios/builtin/derive/age_structure.py``).

Prints one TOML table per region; the numbers in the scenario files were made by this script.

* Counts: 2020 (seventh) census, persons by 5-year age group and sex (0 and 1-4 summed into 0-4),
  county-level yearbook tables as transcribed in the public dataset leiii/census,
  ``data/census/census_county_2020_v1.xlsx`` (sheet 七普（年鉴）; Dong, Du & Liu, *Mapping Evolving
  Population Geography in China*, SSRN 4049338, 2022). Sums checked against each unit's total.
* Survival: the China 2000-census age-specific death rates by sex (China Statistical Yearbook 2002,
  table 4-11) as an age *shape*, 85+ = 1.15 x the 85-89 rate, scaled by one factor per sex (ages 5+)
  to the seed's 2020 life expectancy; 0-4 deaths from the seed's under-5 mortality. ASSUMPTION.
* Fertility: the Fuzhou 2020-census age pattern (福州市2020人口普查年鉴, table 6-3) scaled to the TFR
  whose births over 2020-2025 equal the scenario's birth rate applied by the components method. ASSUMPTION.
* Sex ratio at birth: the census age-0 counts (boys per 100 girls).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from scenarios.loader import load  # noqa: E402
from sim.population import AgeTable, cohort_step, scale_to_life_expectancy  # noqa: E402

# 2020 census counts, 0-4 ... 80-84, 85+ (male, female); age-0 (male, female)
CENSUS = {
    "conghua": ([27963, 28581, 19692, 35139, 44594, 26801, 28505, 27474, 23452, 25991, 24917, 20770, 12944, 11725, 7631, 4676, 2898, 2168],
                [24767, 23848, 16658, 26514, 34702, 23989, 26827, 26492, 22493, 24964, 23205, 19509, 13044, 13409, 8189, 5304, 3755, 4094],
                (4416, 3849), 440117),
    "xiangqiao": ([16993, 17304, 16209, 14759, 16123, 20478, 22033, 20654, 19353, 23525, 22521, 21703, 17249, 15881, 10187, 5089, 3137, 2593],
                  [15405, 15902, 15109, 16548, 17402, 19763, 21710, 20838, 19968, 23238, 22005, 21329, 17716, 17571, 10727, 5588, 4691, 4494],
                  (2562, 2340), 445102),
    "qingcheng": ([43436, 48893, 37734, 41814, 37675, 44136, 52582, 48100, 41141, 43472, 42319, 34281, 20936, 19945, 12780, 7754, 4926, 3609],
                  [36056, 39357, 30886, 32654, 28458, 39284, 51809, 45565, 37245, 39581, 39430, 34559, 22387, 21617, 14182, 8768, 6192, 6338],
                  (6925, 5795), 441802),
    "renhe": ([7004, 6068, 5684, 6356, 6917, 8254, 10645, 7520, 9781, 17968, 15433, 11051, 5732, 5512, 5042, 4215, 2116, 1151],
              [6641, 5522, 5223, 5329, 5845, 7465, 9725, 7215, 9905, 16707, 14106, 9544, 5237, 6686, 6336, 3916, 2310, 1401],
              (1124, 1043), 510411),
    "guangzhou": ([544130, 486117, 367286, 544642, 1018596, 1110255, 1188099, 941267, 728273, 773438, 652005, 506867, 330993, 274257, 170902, 98858, 73162, 56858],
                  [474693, 410733, 307230, 438194, 896396, 942804, 996187, 814228, 643693, 695790, 593699, 471385, 339272, 301635, 188114, 116404, 92107, 88036],
                  (86581, 75053), 440100),
}

# China 2000 census death rates per 1,000 (0-4 ... 80-84, 85-89): male, female
DEATHS_2000_M = [5.25, 0.65, 0.50, 0.77, 1.21, 1.36, 1.66, 2.15, 3.05, 4.33, 6.71, 10.57, 17.92, 29.59, 51.03, 79.89, 133.28, 188.75]
DEATHS_2000_F = [6.98, 0.44, 0.33, 0.47, 0.72, 0.84, 0.98, 1.18, 1.70, 2.57, 4.19, 6.63, 11.43, 19.06, 34.11, 55.70, 97.48, 145.36]
OPEN_FACTOR = 1.15  # 85+ rate / 85-89 rate (assumption: the open group is older than 85-89)

# Fuzhou 2020 census ASFR per 1,000 women, 15-19 ... 45-49 (groups 3..9): the age pattern only
FUZHOU_ASFR = [3.04, 40.54, 98.71, 65.80, 26.95, 6.41, 1.35]

SEX_GAP = 5.51  # years, female - male e0, China 2020 (杨明旭 et al., 人口学刊 2025(2))

# seed life expectancy (both sexes, or (male, female)) and under-5 mortality per 1,000, 2020
SEED = {
    "conghua": ((76.33, 82.95), "000_f481409494256020.txt:56", 3.81, "000_f481409494256020.txt:187"),
    "xiangqiao": (79.1, "001_0088d1915777a4e3.txt:188", 0.14, "001_0088d1915777a4e3.txt:193"),
    "qingcheng": (77.8, "002_10740625b364617c.txt:12", 2.21, "002_10740625b364617c.txt:185"),
    "renhe": (78.84, "003_1753e892e2b070b6.txt:108", 4.44, "003_1753e892e2b070b6.txt:112"),
    "guangzhou": (82.90, "004_6ff5060c94930f53.txt:582", 3.02, "004_6ff5060c94930f53.txt:590"),
}


def _shape(rates: list[float]) -> np.ndarray:
    m = np.asarray(rates, float) / 1000.0
    m[-1] *= OPEN_FACTOR
    return m


def derive(name: str) -> dict:
    male, female, age0, code = CENSUS[name]
    s = load(name)
    male, female = np.asarray(male, float), np.asarray(female, float)
    census_total = male.sum() + female.sum()
    scale = s.population.base.value / census_total
    e0, e0_src, u5, u5_src = SEED[name]
    e_m, e_f = e0 if isinstance(e0, tuple) else (e0 - SEX_GAP / 2, e0 + SEX_GAP / 2)
    k_m, lt_m = scale_to_life_expectancy(_shape(DEATHS_2000_M), e_m, u5 / 1000.0)
    k_f, lt_f = scale_to_life_expectancy(_shape(DEATHS_2000_F), e_f, u5 / 1000.0)
    shape = np.zeros(18)
    shape[3:10] = np.asarray(FUZHOU_ASFR) / sum(FUZHOU_ASFR) / 5.0  # per woman-year at TFR 1
    srb = 100.0 * age0[0] / age0[1]
    table = AgeTable(tuple(male * scale), tuple(female * scale), lt_m.survival, lt_f.survival, lt_m.birth_survival,
                     lt_f.birth_survival, tuple(shape), srb)
    births_at_tfr1 = cohort_step(male * scale, female * scale, table).births
    p = s.population
    r = (p.birth_rate.value - p.death_rate.value + p.net_migration_rate.value) / 1000.0
    base = s.population.base.value
    want = p.birth_rate.value / 1000.0 * sum(base * (1 + r) ** y for y in range(5))
    tfr = want / births_at_tfr1
    return dict(male=male, female=female, survival_male=lt_m.survival, survival_female=lt_f.survival,
                birth_survival_male=lt_m.birth_survival, birth_survival_female=lt_f.birth_survival,
                fertility=shape * tfr, sex_ratio_at_birth=srb, tfr=tfr, k=(k_m, k_f), e0=(e_m, e_f),
                e0_src=e0_src, u5=u5, u5_src=u5_src, code=code, scale=scale, census_total=census_total)


def _list(xs, digits: int) -> str:
    return "[" + ", ".join(f"{x:.{digits}f}" if digits else f"{int(x)}" for x in xs) + "]"


def toml(name: str) -> str:
    d = derive(name)
    counts = (f"2020 census counts (total {d['census_total']:,.0f}); the projection scales them by {d['scale']:.4f} "
              "to the scenario's base" + (" (the seed's total population differs from the census resident count: "
                                          "the census age and sex shape is kept)" if abs(d["scale"] - 1) > 0.005 else ""))
    e_m, e_f = d["e0"]
    return "\n".join([
        "",
        "",
        "# Age structure by 5-year group (0-4 ... 80-84, 85+) and sex: switches the projection to the",
        "# cohort-component method. Made by scenarios/builtin/derive/age_structure.py (see its docstring).",
        "[population.age_structure]",
        f'reference = "\\"census_county_2020_v1.xlsx\\" (2020 census county-level yearbook tables, area code {d["code"]}) '
        'in the public dataset leiii/census, Dong, Du & Liu, Mapping Evolving Population Geography in China, SSRN 4049338, 2022"',
        f'note = "male/female: {counts}"',
        f'assumption = "survival: the China 2000-census death rates by sex (China Statistical Yearbook 2002, table 4-11) as an '
        f'age shape, 85+ at 1.15 x the 85-89 rate, scaled (x{d["k"][0]:.3f} male, x{d["k"][1]:.3f} female, ages 5+) to life '
        f'expectancy {e_m:.2f} / {e_f:.2f} years ('
        + (f'{d["e0_src"]}' if name == "conghua" else f'{d["e0_src"]} both sexes, split by the national 2020 female-male gap of 5.51 years')
        + f'), 0-4 deaths at the under-5 mortality {d["u5"]} per 1,000 ({d["u5_src"]}); fertility: the Fuzhou 2020-census age '
        f'pattern scaled to TFR {d["tfr"]:.3f}, the level at which births over the first five years equal the scenario\'s birth rate; '
        'sex ratio at birth: census age-0 boys per 100 girls"',
        f"male = {_list(d['male'], 0)}",
        f"female = {_list(d['female'], 0)}",
        f"survival_male = {_list(d['survival_male'], 6)}",
        f"survival_female = {_list(d['survival_female'], 6)}",
        f"birth_survival_male = {d['birth_survival_male']:.6f}",
        f"birth_survival_female = {d['birth_survival_female']:.6f}",
        f"fertility = {_list(d['fertility'], 6)}",
        f"sex_ratio_at_birth = {d['sex_ratio_at_birth']:.2f}",
        "scale_to_base = true",
    ])


if __name__ == "__main__":
    for region in sys.argv[1:] or CENSUS:
        print(f"## {region}")
        print(toml(region))
