"""Tipping-point analysis of a binary primary endpoint with missing participants.

For ``m_t`` treated and ``m_c`` control participants whose outcome is missing, every imputation "``i`` of
the ``m_t`` are responders, ``j`` of the ``m_c`` are responders" (``0 <= i <= m_t``, ``0 <= j <= m_c``) is
analysed with Fisher's exact test (two-sided, R ``fisher.test``) and the crude risk ratio (Katz CI) on the
completed table ``(e_t + i) / (n_t + m_t)`` vs ``(e_c + j) / (n_c + m_c)``. The result lists every cell
and where the conclusion (``p <= alpha``) differs from the complete-case analysis: the tipping points.
Best and worst cases for the treatment are the corners ``(m_t, 0)`` and ``(0, m_c)``.

Cost: ``(m_t + 1)(m_c + 1)`` Fisher tests; ``max_cells`` caps it (the result then says it was not run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.stats._checks import check_conf_level, check_two_by_two
from pmrtrial.stats.exact import fisher_exact_test
from pmrtrial.stats.proportions import estimate_risk_ratio
from pmrtrial.stats.results import _ArmEntry, _ResultBase, software_versions

__all__ = ["TippingPointCell", "TippingPointResult", "tipping_point_binary"]


@dataclass(frozen=True)
class TippingPointCell(_ArmEntry):
    """One imputation: ``imputed_treated`` / ``imputed_control`` of the missing participants respond."""

    imputed_treated: int
    imputed_control: int
    events_treated: int
    n_treated: int
    events_control: int
    n_control: int
    p: float
    rr: float
    rr_lo: float
    rr_hi: float
    significant: bool
    flips: bool


@dataclass(frozen=True, kw_only=True)
class TippingPointResult(_ResultBase):
    """All imputations of the missing binary outcomes, with the complete-case analysis beside them.

    Attributes
    ----------
    alpha : float
        Significance level of the conclusion ``p <= alpha``.
    missing_treated, missing_control : int
        Participants without an outcome in each arm.
    complete_case : TippingPointCell or None
        Analysis of the observed participants only (imputed counts 0, ``flips`` False).
    cells : tuple of TippingPointCell
        Every imputation, ``imputed_treated`` major.
    tipping_points : tuple of (int, int)
        For each number of treated responders imputed, the smallest number of control responders imputed at
        which the conclusion differs from the complete case (only those ``i`` where it happens).
    robust : bool
        True when no imputation changes the conclusion.
    best_case, worst_case : TippingPointCell or None
        Imputations (all treated respond, no control responds) and (no treated responds, all control respond).
    """

    alpha: float
    missing_treated: int
    missing_control: int
    complete_case: TippingPointCell | None
    cells: tuple[TippingPointCell, ...]
    tipping_points: tuple[tuple[int, int], ...]
    robust: bool
    best_case: TippingPointCell | None
    worst_case: TippingPointCell | None
    method: str
    warnings: tuple[str, ...] = ()
    details: Any = field(default_factory=dict)
    software: Any = field(default_factory=software_versions)
    available: bool = True
    reason: str | None = None

    _kind: ClassVar[str] = "tipping_point"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (cells as dicts)."""
        out = super().to_dict()
        out["tipping_points"] = [list(t) for t in self.tipping_points]
        return out


def _count(value: Any, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScoreInputError(field_name, value, "an integer >= 0")
    return value


def tipping_point_binary(
    events_treated: int,
    *,
    n_treated: int,
    missing_treated: int,
    events_control: int,
    n_control: int,
    missing_control: int,
    alpha: float = 0.05,
    max_cells: int = 10_000,
) -> TippingPointResult:
    """Fisher p and risk ratio for every imputation of the missing outcomes, and where the conclusion flips.

    Parameters
    ----------
    events_treated, n_treated, events_control, n_control : int
        Responders and participants with an observed outcome, per arm (``n`` may be 0 when all are missing).
    missing_treated, missing_control : int
        Participants whose outcome is missing, per arm.
    alpha : float
        Two-sided level of the conclusion.
    max_cells : int
        Largest number of imputations analysed; beyond it the result is not available and says so.

    Examples
    --------
    >>> res = tipping_point_binary(14, n_treated=16, missing_treated=2, events_control=2, n_control=14,
    ...                            missing_control=1)
    >>> res.robust, len(res.cells)
    (True, 6)
    """
    level = check_conf_level(alpha, "alpha")
    mt, mc = _count(missing_treated, "missing_treated"), _count(missing_control, "missing_control")
    et, nt = _count(events_treated, "events_treated"), _count(n_treated, "n_treated")
    ec, nc = _count(events_control, "events_control"), _count(n_control, "n_control")
    check_two_by_two(et, nt + mt, ec, nc + mc)  # totals >= 1 and events within the observed counts
    if et > nt or ec > nc:
        field_name, value, n = ("events_treated", et, nt) if et > nt else ("events_control", ec, nc)
        raise ScoreInputError(field_name, value, f"an integer in [0, {n}] (observed participants)")
    method = "Tipping-point analysis: every imputation of the missing outcomes, Fisher exact test and crude RR"

    def cell(i: int, j: int, reference: bool | None) -> TippingPointCell:
        imputed = reference is not None
        a, n1, c, n0 = et + i, nt + (mt if imputed else 0), ec + j, nc + (mc if imputed else 0)
        p = fisher_exact_test(a, n_treated=n1, events_control=c, n_control=n0).p
        rr = estimate_risk_ratio(a, n_treated=n1, events_control=c, n_control=n0)
        significant = p <= level
        return TippingPointCell(
            i, j, a, n1, c, n0, p, rr.estimate, rr.lo, rr.hi, significant,
            flips=reference is not None and significant != reference,
        )  # fmt: skip

    n_cells = (mt + 1) * (mc + 1)
    complete = cell(0, 0, None) if nt > 0 and nc > 0 else None
    if n_cells > max_cells:
        return TippingPointResult(
            alpha=level, missing_treated=mt, missing_control=mc, complete_case=complete, cells=(), tipping_points=(),
            robust=False, best_case=None, worst_case=None, method=method, available=False,
            reason=f"not computed: {n_cells:,} imputations exceed the cap of {max_cells:,}",
        )  # fmt: skip
    warns = []
    if complete is None:
        warns.append("an arm has no observed outcome: no complete-case conclusion; flips are against 'not significant'")
    reference = complete.significant if complete is not None else False
    cells = tuple(cell(i, j, reference) for i in range(mt + 1) for j in range(mc + 1))
    tipping = []
    for i in range(mt + 1):
        row = [c for c in cells if c.imputed_treated == i and c.flips]
        if row:
            tipping.append((i, min(c.imputed_control for c in row)))
    by_key = {(c.imputed_treated, c.imputed_control): c for c in cells}
    return TippingPointResult(
        alpha=level,
        missing_treated=mt,
        missing_control=mc,
        complete_case=complete,
        cells=cells,
        tipping_points=tuple(tipping),
        robust=not any(c.flips for c in cells),
        best_case=by_key[(mt, 0)],
        worst_case=by_key[(0, mc)],
        method=method,
        warnings=tuple(warns),
        details={"n_imputations": n_cells},
    )
