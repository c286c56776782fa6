"""Arithmetic feasibility of the published composite figures (hand calculations in each test)."""

from __future__ import annotations

import pytest

from pmrtrial.published import load_bachelor_published
from pmrtrial.synth._feasibility import check_secondary_composites


@pytest.fixture(scope="module")
def checks() -> dict[tuple[int, str, str, str], object]:
    return {(c.week, c.arm, c.row, c.stat): c for c in check_secondary_composites(load_bachelor_published())}


def test_crp_pmr_as_means_are_feasible(checks: dict) -> None:
    # e.g. week 24 baricitinib (yaml secondary[week=24]): 0.3 + 1.1 + 0.5 + 1.5/10 + 1/18 = 2.106 at the printed
    # centres; the windows reach down to 2.106 - 0.9 * (0.05 * 3 + 0.005) = 1.966 <= 2.0 + 0.045
    for week in (12, 24, 36):
        for arm in ("baricitinib", "placebo"):
            assert checks[(week, arm, "crp_pmr_as", "mean")].feasible, (week, arm)
    c = checks[(24, "baricitinib", "crp_pmr_as", "mean")]
    assert c.lo == pytest.approx(0.3 + 1.1 + 0.5 + 0.15 + 1 / 18 - 0.9 * (0.05 * 3 + 0.005), abs=1e-9)


def test_esr_pmr_as_means_all_conflict(checks: dict) -> None:
    # week 12 placebo (yaml secondary[week=12]): 12.9/10 + 1.6 + 1.9 + 14.0/10 + 3/15 = 6.39 at centres,
    # at least 6.39 - 0.9*(0.005 + 0.05 + 0.05 + 0.005) - ... > 5.5 + 0.045
    for week in (12, 24, 36):
        for arm in ("baricitinib", "placebo"):
            assert not checks[(week, arm, "esr_pmr_as", "mean")].feasible, (week, arm)
    c = checks[(12, "placebo", "esr_pmr_as", "mean")]
    assert c.lo == pytest.approx(1.29 + 1.6 + 1.9 + 1.4 + 3 / 15 - 0.9 * (0.005 + 0.05 + 0.05 + 0.005), abs=1e-9)


def test_esr_pmr_as_sds(checks: dict) -> None:
    # lower bound SD(CRP PMR-AS) - SD(CRP mg/dL) - SD(ESR)/10: week 24 placebo 5.2 - 1.0 - 0.87 = 3.33 > 2.5
    assert not checks[(24, "placebo", "esr_pmr_as", "sd")].feasible
    assert checks[(24, "placebo", "esr_pmr_as", "sd")].lo == pytest.approx(3.33)
    assert not checks[(36, "placebo", "esr_pmr_as", "sd")].feasible  # 5.9 - 0.4 - 1.22 = 4.28 > 3.3
    # week 12 baricitinib: 5.0 - 0.6 - 1.59 = 2.81 <= 4.8 <= 5.0 + 0.6 + 1.59 = 7.19
    assert checks[(12, "baricitinib", "esr_pmr_as", "sd")].feasible
