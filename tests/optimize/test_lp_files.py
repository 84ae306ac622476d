"""Golden LP files: one per constraint family on a tiny problem, so a formulation change shows as a diff.

The files are compared as Pyomo's own tests compare theirs (``pyomo.repn.tests.lp_diff``): comment lines
dropped, whitespace-separated tokens, numbers equal within a relative 1e-9, so a Pyomo release that prints
``1`` as ``1.0`` or a float one ulp off still matches, while a changed coefficient does not.

Regenerate after an intended change with ``HEALTHSIM_UPDATE_LP=1 python -m pytest tests/optimize/test_lp_files.py``
and review the diff of ``tests/optimize/lp_files/``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from pathlib import Path

import pytest

from optimize.model import FAMILIES, ModelOptions, build_model
from optimize.problem import AllocationProblem, CapRow, FloorRow, TargetRow

LP_DIR = Path(__file__).parent / "lp_files"
KINDS = ("beds", "physicians", "nurses", "gps")
REL_TOL = 1e-9  # relative tolerance on every number in an LP file
ABS_TOL = 1e-12  # numbers this close to each other are equal (rounding noise around zero)


def _lp_lines(text: str) -> list[list[str]]:
    """The LP file's lines as token lists, without blank lines and ``\\`` comments (Pyomo's header)."""
    return [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("\\")]


def _same_token(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _same_line(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and all(_same_token(x, y) for x, y in zip(a, b))


def lp_differences(golden: str, written: str) -> str:
    """A unified diff of the lines that differ beyond the tolerance; empty when the two LP files agree."""
    base, test = _lp_lines(golden), _lp_lines(written)
    if len(base) == len(test) and all(_same_line(a, b) for a, b in zip(base, test)):
        return ""
    # Lines equal within the tolerance are shown as equal; only the real differences remain in the diff.
    shown_base, shown_test = [" ".join(t) for t in base], [" ".join(t) for t in test]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, shown_base, shown_test, autojunk=False).get_opcodes():
        if tag == "replace":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                if _same_line(base[i], test[j]):
                    shown_base[i] = shown_test[j]
    if shown_base == shown_test:
        return ""
    return "\n".join(difflib.unified_diff(shown_base, shown_test, "golden", "written", lineterm=""))


def tiny_problem() -> AllocationProblem:
    """One region, four kinds, two plan years; every family has data so that it is written.

    Beds have a private pool (社会办医) with a private-share target; GPs are counted inside physicians. The core
    leaves the need caps out (a family), so the expected nurse target yields only where caps are written.
    """
    base = {"beds": (80.0, 20.0), "physicians": (30.0, 10.0), "nurses": (40.0, 5.0), "gps": (2.0, 6.0)}
    baseline = {("r", k, t): v for k, (h, p) in base.items() for t, v in (("hospital", h), ("primary", p))}
    baseline["r", "beds", "private"] = 20.0
    cost = {
        "beds": (700_000.0, 100_000.0),
        "physicians": (50_000.0, 200_000.0),
        "nurses": (30_000.0, 120_000.0),
        "gps": (80_000.0, 180_000.0),
    }
    tiers = ("hospital", "primary")
    capital = {(k, t): c * (0.8 if t == "primary" else 1.0) for k, (c, _) in cost.items() for t in tiers}
    annual = {(k, t): a * (0.8 if t == "primary" else 1.0) for k, (_, a) in cost.items() for t in tiers}
    targets = (
        TargetRow("r", "beds", "floor", 6.0, 1000.0, "binding", "6.0", 5.0, 3.0, "beds"),
        TargetRow("r", "beds", "floor", 0.25, 1.0, "expected", "25%", 0.2, 1.0, "beds", measure="private_share"),
        TargetRow("r", "nurses", "floor", 3.0, 1000.0, "expected", "3.0", 2.25, 1.0, "nurses"),
        TargetRow("r", "gps", "floor", 4.0, 10000.0, "binding", "4.0", 4.0, 3.0, "GPs"),
    )
    return AllocationProblem(
        regions=("r",),
        kinds=KINDS,
        base_year=2020,
        target_year=2022,
        baseline=baseline,
        population={("r", 2020): 20_000.0, ("r", 2021): 20_200.0, ("r", 2022): 20_400.0},
        targets=targets,
        capital=capital,
        annual=annual,
        attrition={"physicians": 0.05, "nurses": 0.05, "gps": 0.5},
        max_additions={("r", k): 10.0 for k in KINDS},
        nurse_physician_ratio_min=1.1,
        hospital_nurses_per_bed_min=0.5,
        gp_primary_share_min=0.6,
        primary_share_shift_max=0.1,
        budget_total=50e6,
        budget_per_year=30e6,
        trajectory="linear",
        discount_rate=0.08,
        capital_share_max=0.6,
        private_subsidy={"beds": 50_000.0},
        private_max_additions={("r", "beds"): 5.0},
        subsets={"physicians": ("gps",)},
        floors=(FloorRow("r", "beds", "hospital", 2022, 95.0), FloorRow("r", "physicians", None, 2022, 45.0)),
        caps=(CapRow("r", "beds", "hospital", 2022, 100.0), CapRow("r", "beds", None, 2021, 118.0)),
        ramp={("r", "physicians"): 4.0},
    )


def _lp_text(
    family: str | None, tmp_path: Path, mode: str = "min-cost", problem: AllocationProblem | None = None
) -> str:
    families = frozenset() if family is None else frozenset({family})
    m = build_model(problem or tiny_problem(), ModelOptions(mode=mode, families=families))
    path = tmp_path / "model.lp"
    m.write(str(path), io_options={"symbolic_solver_labels": True})
    return path.read_text()


CASES = [("core", None, "min-cost"), ("core_max_attainment", None, "max-attainment")]
CASES += [(f, f, "min-cost") for f in FAMILIES]


@pytest.mark.parametrize("name,family,mode", CASES, ids=[c[0] for c in CASES])
def test_formulation_matches_golden_lp_file(name, family, mode, tmp_path):
    text = _lp_text(family, tmp_path, mode)
    golden = LP_DIR / f"{name}.lp"
    if os.environ.get("HEALTHSIM_UPDATE_LP"):
        golden.write_text(text)
    assert golden.exists(), f"{golden} missing: run with HEALTHSIM_UPDATE_LP=1 to create it"
    diff = lp_differences(golden.read_text(), text)
    assert not diff, f"the formulation of {name} changed (golden {golden}):\n{diff}"


def test_lp_comparison_ignores_formatting_and_float_noise():
    golden = (LP_DIR / "core.lp").read_text()
    line = next(x for x in golden.splitlines() if x.startswith("+0.648148148148148 "))
    reprinted = golden.replace("\\* Source Pyomo model name=healthsim_allocation *\\", "\\* Source Pyomo 9.9 *\\")
    reprinted = reprinted.replace("= 20.0\n", "= 20\n").replace("= -2\n", "=  -2.0 \n")
    reprinted = reprinted.replace(line, line.replace("0.648148148148148", repr(0.648148148148148 * (1 + 1e-12))))
    assert reprinted != golden and lp_differences(golden, reprinted) == ""


def _changed_lines(diff: str) -> list[str]:
    """The removed (``-``) and added (``+``) lines of a unified diff, without its two header lines."""
    return [x for x in diff.splitlines()[2:] if x[:1] in ("-", "+")]


def test_lp_comparison_fails_on_a_changed_coefficient_or_a_missing_line():
    golden = (LP_DIR / "core.lp").read_text()
    line = next(x for x in golden.splitlines() if x.startswith("+0.648148148148148 "))
    changed = line.replace("0.648148148148148", repr(0.648148148148148 * (1 + 1e-7)))
    diff = lp_differences(golden, golden.replace(line, changed))
    assert _changed_lines(diff) == ["-" + line, "+" + changed]
    assert _changed_lines(lp_differences(golden, golden.replace(line + "\n", ""))) == ["-" + line]
    renamed = line.replace("add(", "stock(")
    assert _changed_lines(lp_differences(golden, golden.replace(line, renamed))) == ["-" + line, "+" + renamed]


def test_a_changed_coefficient_in_the_model_fails_against_its_golden_file(tmp_path):
    """A real change to the data (the total budget 0.1% higher) shows in budget_total.lp's right-hand side."""
    problem = dataclasses.replace(tiny_problem(), budget_total=50e6 * 1.001)
    diff = lp_differences((LP_DIR / "budget_total.lp").read_text(), _lp_text("budget_total", tmp_path, problem=problem))
    assert _changed_lines(diff) == ["-<= 94.68799999999999", "+<= 94.73799999999999"]


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_adds_constraints_beyond_the_core(family, tmp_path):
    core = _lp_text(None, tmp_path)
    with_family = _lp_text(family, tmp_path)
    assert len(with_family.splitlines()) > len(core.splitlines())
