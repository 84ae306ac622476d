"""Golden LP files: one per constraint family on a tiny problem, so a formulation change shows as a diff.

Regenerate after an intended change with ``HEALTHSIM_UPDATE_LP=1 python -m pytest tests/optimize/test_lp_files.py``
and review the diff of ``tests/optimize/lp_files/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from optimize.model import FAMILIES, ModelOptions, build_model
from optimize.problem import AllocationProblem, FloorRow, TargetRow

LP_DIR = Path(__file__).parent / "lp_files"
KINDS = ("beds", "physicians", "nurses", "gps")


def tiny_problem() -> AllocationProblem:
    """One region, four kinds, two plan years; every family has data so that it is written.

    Beds have a private pool (社会办医) with a private-share target; GPs are counted inside physicians.
    """
    base = {"beds": (80.0, 20.0), "physicians": (30.0, 10.0), "nurses": (40.0, 5.0), "gps": (2.0, 6.0)}
    baseline = {("r", k, t): v for k, (h, p) in base.items() for t, v in (("hospital", h), ("primary", p))}
    baseline["r", "beds", "private"] = 20.0
    cost = {"beds": (700_000.0, 100_000.0), "physicians": (50_000.0, 200_000.0),
            "nurses": (30_000.0, 120_000.0), "gps": (80_000.0, 180_000.0)}
    capital = {(k, t): c * (0.8 if t == "primary" else 1.0) for k, (c, _) in cost.items() for t in ("hospital", "primary")}
    annual = {(k, t): a * (0.8 if t == "primary" else 1.0) for k, (_, a) in cost.items() for t in ("hospital", "primary")}
    targets = (
        TargetRow("r", "beds", "floor", 6.0, 1000.0, "binding", "6.0", 5.0, 3.0, "beds"),
        TargetRow("r", "beds", "floor", 0.25, 1.0, "expected", "25%", 0.2, 1.0, "beds", measure="private_share"),
        TargetRow("r", "nurses", "floor", 3.0, 1000.0, "expected", "3.0", 2.25, 1.0, "nurses"),
        TargetRow("r", "gps", "floor", 4.0, 10000.0, "binding", "4.0", 4.0, 3.0, "GPs"),
    )
    return AllocationProblem(
        regions=("r",), kinds=KINDS, base_year=2020, target_year=2022, baseline=baseline,
        population={("r", 2020): 20_000.0, ("r", 2021): 20_200.0, ("r", 2022): 20_400.0},
        targets=targets, capital=capital, annual=annual,
        attrition={"physicians": 0.05, "nurses": 0.05, "gps": 0.5},
        max_additions={("r", k): 10.0 for k in KINDS},
        nurse_physician_ratio_min=1.1, hospital_nurses_per_bed_min=0.5, gp_primary_share_min=0.6,
        primary_share_shift_max=0.1, budget_total=50e6, budget_per_year=30e6,
        trajectory="linear", discount_rate=0.08, capital_share_max=0.6,
        private_subsidy={"beds": 50_000.0}, private_max_additions={("r", "beds"): 5.0},
        subsets={"physicians": ("gps",)},
        floors=(FloorRow("r", "beds", "hospital", 2022, 95.0), FloorRow("r", "physicians", None, 2022, 45.0)),
    )


def _lp_text(family: str | None, tmp_path: Path, mode: str = "min-cost") -> str:
    families = frozenset() if family is None else frozenset({family})
    m = build_model(tiny_problem(), ModelOptions(mode=mode, families=families))
    path = tmp_path / "model.lp"
    m.write(str(path), io_options={"symbolic_solver_labels": True})
    return path.read_text()


CASES = [("core", None, "min-cost"), ("core_max_attainment", None, "max-attainment")] + [(f, f, "min-cost") for f in FAMILIES]


@pytest.mark.parametrize("name,family,mode", CASES, ids=[c[0] for c in CASES])
def test_formulation_matches_golden_lp_file(name, family, mode, tmp_path):
    text = _lp_text(family, tmp_path, mode)
    golden = LP_DIR / f"{name}.lp"
    if os.environ.get("HEALTHSIM_UPDATE_LP"):
        golden.write_text(text)
    assert golden.exists(), f"{golden} missing: run with HEALTHSIM_UPDATE_LP=1 to create it"
    assert text == golden.read_text(), f"the formulation of {name} changed: diff against {golden}"


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_adds_constraints_beyond_the_core(family, tmp_path):
    core = _lp_text(None, tmp_path)
    with_family = _lp_text(family, tmp_path)
    assert len(with_family.splitlines()) > len(core.splitlines())
