"""Which published composite figures can hold together with their component figures (arithmetic only).

The CRP PMR-AS is ``CRP(mg/dL) + pain + physician VAS + 0.1 x stiffness(min) + EUL`` and the ESR PMR-AS the same
with ``0.1 x ESR(mm/h)`` for the CRP. So an arm's mean composite is the sum of its mean components. The
secondary table prints every component's mean, the count with EUL 0 (so EUL's mean lies between k/n and 3k/n
for k participants with EUL >= 1), and the composite means: when the interval of possible sums misses the
printed composite, the publication conflicts with itself and the twin keeps the components.

For the SDs the triangle inequality bounds the composite: SD(clinical part) lies within SD(CRP PMR-AS) +/-
SD(CRP mg/dL), and SD(ESR PMR-AS) within SD(clinical part) +/- SD(ESR)/10.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CompositeCheck", "check_secondary_composites"]

#: Printed values are used within this fraction of their rounding half-width (search tolerance).
MARGIN = 0.9


@dataclass(frozen=True)
class CompositeCheck:
    """Feasibility of one composite figure (arm, week, row, statistic)."""

    week: int
    arm: str
    row: str
    stat: str
    feasible: bool
    lo: float
    hi: float
    explanation: str


def _window(x: Any) -> tuple[float, float]:
    return float(x) - MARGIN * x.halfwidth, float(x) + MARGIN * x.halfwidth


def check_secondary_composites(published: Mapping[str, Any]) -> list[CompositeCheck]:
    """Check the CRP and ESR PMR-AS means and SDs of the secondary table against their components."""
    out: list[CompositeCheck] = []
    for block in published["secondary"]:
        week = int(block["week"])
        rows = block["rows"]
        for arm in ("baricitinib", "placebo"):
            n = int(block["n"][arm])
            k = n - int(rows["upper_limb_elevation_above_90"][arm][0])

            def m(row: str, arm: str = arm, rows: Any = rows) -> tuple[float, float]:
                return _window(rows[row][arm][0])

            pain, phys, mst = m("pain_vas"), m("physician_vas"), m("morning_stiffness_min")
            crp, esr = m("crp_mg_dl"), m("esr_mm_h")
            eul = (k / n, 3 * k / n)
            clin = (pain[0] + phys[0] + 0.1 * mst[0] + eul[0], pain[1] + phys[1] + 0.1 * mst[1] + eul[1])
            for row, marker in (("crp_pmr_as", crp), ("esr_pmr_as", (0.1 * esr[0], 0.1 * esr[1]))):
                lo, hi = clin[0] + marker[0], clin[1] + marker[1]
                printed = rows[row][arm][0]
                plo, phi = _window(printed)
                ok = hi >= plo and lo <= phi
                label = "CRP(mg/dL)" if row == "crp_pmr_as" else "ESR/10"
                expl = (
                    f"mean {row} = mean {label} + pain + physician VAS + stiffness/10 + EUL; the printed component "
                    f"means and {n - k}/{n} with EUL 0 allow {lo:.3f} to {hi:.3f}; printed {float(printed):g}"
                )
                if not ok:
                    expl += ": the printed mean cannot hold with the printed components; the twin keeps the components"
                out.append(CompositeCheck(week, arm, row, "mean", ok, lo, hi, expl))
            # SD bounds (triangle inequality)
            sd_crp_as = float(rows["crp_pmr_as"][arm][1])
            sd_crp = float(rows["crp_mg_dl"][arm][1])
            sd_esr = 0.1 * float(rows["esr_mm_h"][arm][1])
            clin_lo, clin_hi = max(0.0, sd_crp_as - sd_crp), sd_crp_as + sd_crp
            lo, hi = max(0.0, clin_lo - sd_esr), clin_hi + sd_esr
            printed = rows["esr_pmr_as"][arm][1]
            plo, phi = _window(printed)
            ok = hi >= plo and lo <= phi
            expl = (
                f"SD(esr_pmr_as) must lie within SD(crp_pmr_as) {sd_crp_as:g} +/- SD(CRP mg/dL) {sd_crp:g} "
                f"+/- SD(ESR)/10 {sd_esr:g}, i.e. {lo:.2f} to {hi:.2f}; printed {float(printed):g}"
            )
            if not ok:
                expl += ": impossible with the printed SDs; the twin keeps the CRP PMR-AS and ESR SDs"
            out.append(CompositeCheck(week, arm, "esr_pmr_as", "sd", ok, lo, hi, expl))
    return out
