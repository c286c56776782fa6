"""Polymyalgia rheumatica activity scores (PMR-AS), activity categories, flare and BACHELOR response.

All functions are pure and vectorised: each argument is a scalar or an array-like (all the same
shape, or broadcastable). A scalar call returns a Python ``float``/``str``/``bool`` (or ``None``
for a missing categorical result); an array call returns a NumPy array.

Input rules (shared by every function here)
-------------------------------------------
- ``None`` or NaN is *missing*: the score is missing (NaN), never an error and never a zero.
- A value of the wrong type (a string, a boolean for a number) or out of range raises
  :class:`~pmrtrial.exceptions.ScoreInputError`, which is also a ``ValueError`` and names the
  argument, the value and what is accepted:

  ===========================  ==============================
  argument                     accepted
  ===========================  ==============================
  ``crp_mg_l``/``crp_mg_dl``   number >= 0
  ``esr_mm_h``                 number in [0, 200]
  ``pain_vas``                 number in [0, 10]
  ``physician_global_vas``     number in [0, 10]
  ``morning_stiffness_min``    number in [0, 1440]
  ``upper_limb_elevation``     one of {0, 1, 2, 3}
  ===========================  ==============================

- CRP is given in exactly one unit, named in the argument. Passing both, or neither, raises.

References
----------
Leeb BF, Bird HA. A disease activity score for polymyalgia rheumatica. Ann Rheum Dis
2004;63:1279-83 (score, categories low < 7, medium 7-17, high > 17).
Leeb BF et al. The polymyalgia rheumatica activity score in daily use: proposal for a definition
of remission. Arthritis Rheum 2007;57:810-5 (remission 0-1.5).
Dejaco C et al. Definition of remission and relapse in polymyalgia rheumatica. Ann Rheum Dis
2011;70:447-53, Table 1 (relapse: PMR-AS > 9.35 or an increase > 6.6).
Devauchelle-Pensec V et al. RMD Open 2024 (PMC10946364): ESR-PMR-AS and clin-PMR-AS in the
SEMAPHORE trial; the Brest group applies the CRP-PMR-AS cut-offs (0-7-17) to the derived scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from pmrtrial._validate import FloatArray, as_bool_array, as_float_array, as_variable_array, is_scalar_input, unwrap
from pmrtrial.exceptions import ScoreInputError

__all__ = [
    "ACTIVITY_CUTOFFS",
    "FLARE_ABSOLUTE_THRESHOLD",
    "FLARE_CHANGE_THRESHOLD",
    "RESPONSE_STATES",
    "RESPONSE_THRESHOLD",
    "ActivityCutoffs",
    "FlareResult",
    "classify_pmr_as_activity",
    "classify_response_state",
    "compute_clin_pmr_as",
    "compute_crp_pmr_as",
    "compute_esr_pmr_as",
    "detect_flare",
    "is_bachelor_responder",
]

#: Boundary comparisons happen after rounding to this many decimals, so that 0.1 * 70 + ...
#: landing at 6.999999999 is classified on the documented side of the cut-off.
_ROUND_DECIMALS = 6

#: Flare (relapse) rule, Dejaco 2011 Table 1: CRP PMR-AS > 9.35 ...
FLARE_ABSOLUTE_THRESHOLD = 9.35
#: ... or an increase > 6.6 against a reference visit.
FLARE_CHANGE_THRESHOLD = 6.6
#: BACHELOR response: CRP PMR-AS <= 10 and no oral glucocorticoid at the visit.
RESPONSE_THRESHOLD = 10.0


@dataclass(frozen=True)
class ActivityCutoffs:
    """Cut-offs of the activity categories.

    remission: score <= ``remission_max``; low: ``remission_max`` < score < ``moderate_min``;
    moderate: ``moderate_min`` <= score <= ``high_above``; high: score > ``high_above``.
    """

    remission_max: float
    moderate_min: float
    high_above: float
    source: str


ACTIVITY_CUTOFFS: dict[str, ActivityCutoffs] = {
    "crp": ActivityCutoffs(
        1.5, 7.0, 17.0, "Leeb & Bird 2004 (low < 7, medium 7-17, high > 17); Leeb 2007 (remission <= 1.5)"
    ),
    # The ESR and clinical scores have no separately validated cut-offs; the Brest group uses the
    # CRP-PMR-AS ones for them (ACR 2016 abstract 882; RMD Open 2024, PMC10946364).
    "esr": ActivityCutoffs(1.5, 7.0, 17.0, "CRP-PMR-AS cut-offs applied to ESR-PMR-AS (Brest group, RMD Open 2024)"),
    "clin": ActivityCutoffs(
        1.5, 7.0, 17.0, "CRP-PMR-AS cut-offs applied to clin-PMR-AS (Brest group, ACR 2016 abstract 882)"
    ),
}


def _clinical_components(
    pain_vas: Any, physician_global_vas: Any, morning_stiffness_min: Any, upper_limb_elevation: Any
) -> FloatArray:
    vasp = as_variable_array(pain_vas, "pain_vas")
    vasph = as_variable_array(physician_global_vas, "physician_global_vas")
    mst = as_variable_array(morning_stiffness_min, "morning_stiffness_min")
    eul = as_variable_array(upper_limb_elevation, "upper_limb_elevation")
    total: FloatArray = vasp + vasph + 0.1 * mst + eul
    return total


class _NotGiven:
    """Sentinel: the argument was not passed (distinct from None, which means missing)."""

    def __repr__(self) -> str:
        return "<not given>"


_NOT_GIVEN: Any = _NotGiven()


def _crp_mg_dl(crp_mg_l: Any, crp_mg_dl: Any) -> FloatArray:
    if (crp_mg_l is _NOT_GIVEN) == (crp_mg_dl is _NOT_GIVEN):
        raise ScoreInputError(
            "crp_mg_l/crp_mg_dl",
            {"crp_mg_l": crp_mg_l, "crp_mg_dl": crp_mg_dl},
            "exactly one of crp_mg_l or crp_mg_dl",
            suggestion="pass the CRP in the unit the laboratory reported; pmrtrial converts mg/L to mg/dL.",
        )
    if crp_mg_l is not _NOT_GIVEN:
        return as_variable_array(crp_mg_l, "crp_mg_l") / 10.0
    return as_variable_array(crp_mg_dl, "crp_mg_dl")


def compute_crp_pmr_as(
    *,
    pain_vas: Any,
    physician_global_vas: Any,
    morning_stiffness_min: Any,
    upper_limb_elevation: Any,
    crp_mg_l: Any = _NOT_GIVEN,
    crp_mg_dl: Any = _NOT_GIVEN,
) -> Any:
    """CRP PMR-AS (Leeb & Bird 2004).

    .. math:: \\text{CRP PMR-AS} = CRP_{mg/dL} + VAS_p + VAS_{ph} + 0.1\\,MST_{min} + EUL

    Parameters
    ----------
    pain_vas : float or array-like
        Patient's pain, VAS 0-10 (0 = no pain, 10 = unbearable). A 0-100 mm VAS must be converted
        with :func:`pmrtrial.units.convert_vas` first.
    physician_global_vas : float or array-like
        Physician's global assessment of disease activity, VAS 0-10.
    morning_stiffness_min : float or array-like
        Morning stiffness in minutes, 0-1440.
    upper_limb_elevation : int or array-like
        EUL: 0 above the shoulder girdle, 1 up to it, 2 below it, 3 none.
    crp_mg_l, crp_mg_dl : float or array-like
        C-reactive protein in exactly one of mg/L or mg/dL (1 mg/dL = 10 mg/L). Pass exactly
        one of them; ``None`` in it means a missing CRP.

    Returns
    -------
    float or numpy.ndarray
        The score; NaN where any component is missing.

    Raises
    ------
    ScoreInputError
        A component is out of range or of the wrong type, or the CRP unit is ambiguous.

    Examples
    --------
    Worked example P1 (Leeb & Bird 2004 formula, hand): 3.5 + 6.6 + 6.8 + 12.0 + 1 = 29.9.

    >>> round(compute_crp_pmr_as(crp_mg_l=35, pain_vas=6.6, physician_global_vas=6.8,
    ...                          morning_stiffness_min=120, upper_limb_elevation=1), 6)
    29.9
    """
    crp = _crp_mg_dl(crp_mg_l, crp_mg_dl)
    clinical = _clinical_components(pain_vas, physician_global_vas, morning_stiffness_min, upper_limb_elevation)
    score = crp + clinical
    return unwrap(
        score,
        crp_mg_l if crp_mg_l is not _NOT_GIVEN else crp_mg_dl,
        pain_vas,
        physician_global_vas,
        morning_stiffness_min,
        upper_limb_elevation,
    )


def compute_esr_pmr_as(
    *,
    esr_mm_h: Any,
    pain_vas: Any,
    physician_global_vas: Any,
    morning_stiffness_min: Any,
    upper_limb_elevation: Any,
) -> Any:
    """ESR PMR-AS: the CRP PMR-AS with 0.1 x ESR (mm/h, Westergren first hour) in place of CRP (mg/dL).

    .. math:: \\text{ESR PMR-AS} = 0.1\\,ESR_{mm/h} + VAS_p + VAS_{ph} + 0.1\\,MST_{min} + EUL

    Used as a secondary endpoint in TENOR, SEMAPHORE and BACHELOR; defined in the SEMAPHORE post
    hoc comparison (RMD Open 2024, PMC10946364). ``esr_mm_h`` must lie in [0, 200]; other
    arguments as in :func:`compute_crp_pmr_as`.

    Examples
    --------
    Leeb & Bird 2004 ESR example (hand): 2.2 + 3.3 + 0.9 + 1.0 + 0 = 7.4.

    >>> round(compute_esr_pmr_as(esr_mm_h=22, pain_vas=3.3, physician_global_vas=0.9,
    ...                          morning_stiffness_min=10, upper_limb_elevation=0), 6)
    7.4
    """
    esr = as_variable_array(esr_mm_h, "esr_mm_h")
    clinical = _clinical_components(pain_vas, physician_global_vas, morning_stiffness_min, upper_limb_elevation)
    return unwrap(
        0.1 * esr + clinical, esr_mm_h, pain_vas, physician_global_vas, morning_stiffness_min, upper_limb_elevation
    )


def compute_clin_pmr_as(
    *,
    pain_vas: Any,
    physician_global_vas: Any,
    morning_stiffness_min: Any,
    upper_limb_elevation: Any,
) -> Any:
    """Clinical PMR-AS: the PMR-AS without an inflammatory marker (Brest group, ACR 2016 abstract 882).

    Meant for patients on IL-6 or JAK blockade, which normalise CRP. Arguments as in
    :func:`compute_crp_pmr_as`.
    """
    clinical = _clinical_components(pain_vas, physician_global_vas, morning_stiffness_min, upper_limb_elevation)
    return unwrap(clinical, pain_vas, physician_global_vas, morning_stiffness_min, upper_limb_elevation)


def classify_pmr_as_activity(score: Any, *, marker: Literal["crp", "esr", "clin"] = "crp") -> Any:
    """Activity category of a PMR-AS: ``"remission"``, ``"low"``, ``"moderate"`` or ``"high"``.

    remission <= 1.5 < low < 7 <= moderate <= 17 < high (Leeb & Bird 2004; Leeb 2007). The deck
    writes "17以上" (>= 17) for high; pmrtrial follows the primary source, in which 17.0 is
    moderate, consistent with BACHELOR's inclusion criterion "CRP PMR-AS > 17". Scores are rounded
    to 6 decimals before comparison. A missing score gives ``None``.

    Parameters
    ----------
    score : float or array-like
        A PMR-AS (>= 0).
    marker : {"crp", "esr", "clin"}
        Which score it is; selects the cut-offs in :data:`ACTIVITY_CUTOFFS`.
    """
    if marker not in ACTIVITY_CUTOFFS:
        raise ScoreInputError("marker", marker, "one of " + ", ".join(sorted(ACTIVITY_CUTOFFS)))
    cut = ACTIVITY_CUTOFFS[marker]
    values = np.round(as_float_array(score, field="score", lo=0), _ROUND_DECIMALS)
    out = np.full(values.shape, None, dtype=object)
    ok = ~np.isnan(values)
    out[ok & (values <= cut.remission_max)] = "remission"
    out[ok & (values > cut.remission_max) & (values < cut.moderate_min)] = "low"
    out[ok & (values >= cut.moderate_min) & (values <= cut.high_above)] = "moderate"
    out[ok & (values > cut.high_above)] = "high"
    if is_scalar_input(score):
        return out.reshape(-1)[0]
    return out


@dataclass(frozen=True)
class FlareResult:
    """Flare status at a visit (Dejaco 2011, Table 1).

    ``is_flare`` is True if either rule fired, False if neither did, None when it cannot be
    decided (score missing). ``change`` is current - reference (NaN without a reference).
    """

    is_flare: Any
    by_absolute: Any
    by_change: Any
    change: Any
    rule: str = "CRP PMR-AS > 9.35 or increase > 6.6 vs reference (Dejaco 2011, Table 1)"

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, np.ndarray):
                return [plain(x) for x in v.tolist()]
            if isinstance(v, float) and np.isnan(v):
                return None
            return v

        return {
            "is_flare": plain(self.is_flare),
            "by_absolute": plain(self.by_absolute),
            "by_change": plain(self.by_change),
            "change": plain(self.change),
            "rule": self.rule,
        }


def _tri_state(flags: FloatArray) -> Any:
    """1.0/0.0/NaN floats -> True/False/None objects."""
    out = np.full(flags.shape, None, dtype=object)
    out[flags == 1.0] = True
    out[flags == 0.0] = False
    return out


def detect_flare(score: Any, *, reference_score: Any = None) -> FlareResult:
    """Flare by the absolute rule (score > 9.35) and the change rule (score - reference > 6.6).

    A visit is a flare if either rule holds; the result says which rule fired. Without a
    reference only the absolute rule is evaluated (``by_change`` is None). When the score is
    missing the status is None; when only the reference is missing, the absolute rule decides a
    flare but cannot rule one out.

    Examples
    --------
    Leeb & Bird 2004: P6 (10.2) against reference P2 (4.9): change 5.3 is not > 6.6, but 10.2 > 9.35.

    >>> r = detect_flare(10.2, reference_score=4.9)
    >>> r.is_flare, r.by_absolute, r.by_change
    (True, True, False)
    """
    current = np.round(as_float_array(score, field="score", lo=0), _ROUND_DECIMALS)
    absolute = np.where(np.isnan(current), np.nan, (current > FLARE_ABSOLUTE_THRESHOLD).astype(float))
    if reference_score is None:
        change = np.full(current.shape, np.nan)
        by_change = np.full(current.shape, np.nan)
        either = absolute
    else:
        reference = as_float_array(reference_score, field="reference_score", lo=0)
        change = np.round(current - reference, _ROUND_DECIMALS)
        by_change = np.where(np.isnan(change), np.nan, (change > FLARE_CHANGE_THRESHOLD).astype(float))
        either = np.where(
            (absolute == 1.0) | (by_change == 1.0),
            1.0,
            np.where(np.isnan(absolute) | np.isnan(by_change), np.nan, 0.0),
        )
    scalar = is_scalar_input(score) and (reference_score is None or is_scalar_input(reference_score))
    flare, by_abs, by_chg = _tri_state(either), _tri_state(absolute), _tri_state(by_change)
    if scalar:
        return FlareResult(
            is_flare=flare.reshape(-1)[0],
            by_absolute=by_abs.reshape(-1)[0],
            by_change=by_chg.reshape(-1)[0],
            change=float(change.reshape(-1)[0]),
        )
    return FlareResult(is_flare=flare, by_absolute=by_abs, by_change=by_chg, change=change)


def is_bachelor_responder(crp_pmr_as: Any, *, on_oral_gc: Any) -> Any:
    """BACHELOR response at a visit: CRP PMR-AS <= 10 and no oral glucocorticoid at that visit.

    Rescue oral prednisone makes the participant a non-responder at that visit, whatever the score;
    shoulder injections at weeks 1 and 4 are not oral glucocorticoid. Returns True/False, or None
    when it cannot be decided (score missing and not on oral GC, or GC status missing with a
    score <= 10).
    """
    score = np.round(as_variable_array(crp_pmr_as, "crp_pmr_as"), _ROUND_DECIMALS)
    gc = as_bool_array(on_oral_gc, field="on_oral_gc")
    low = np.where(np.isnan(score), np.nan, (score <= RESPONSE_THRESHOLD).astype(float))
    responder = np.where(gc == 1.0, 0.0, np.where(low == 0.0, 0.0, np.where(np.isnan(low) | np.isnan(gc), np.nan, 1.0)))
    out = _tri_state(responder)
    if is_scalar_input(crp_pmr_as) and is_scalar_input(on_oral_gc):
        return out.reshape(-1)[0]
    return out


#: The four published per-visit states plus "missing".
RESPONSE_STATES = ("le10_no_gc", "le10_gc", "gt10_no_gc", "gt10_gc", "missing")


def classify_response_state(crp_pmr_as: Any, *, on_oral_gc: Any) -> Any:
    """Four-state class of a visit: {CRP PMR-AS <= 10, > 10} x {oral GC, none}.

    Returns one of ``"le10_no_gc"``, ``"le10_gc"``, ``"gt10_no_gc"``, ``"gt10_gc"``, or
    ``"missing"`` when the score or the GC status is missing. "missing" is never silently folded
    into a non-responder state (Leeb & Bird 2004).
    """
    score = np.round(as_variable_array(crp_pmr_as, "crp_pmr_as"), _ROUND_DECIMALS)
    gc = as_bool_array(on_oral_gc, field="on_oral_gc")
    score, gc = np.broadcast_arrays(score, gc)
    out = np.full(score.shape, "missing", dtype=object)
    known = ~np.isnan(score) & ~np.isnan(gc)
    le = score <= RESPONSE_THRESHOLD
    out[known & le & (gc == 0.0)] = "le10_no_gc"
    out[known & le & (gc == 1.0)] = "le10_gc"
    out[known & ~le & (gc == 0.0)] = "gt10_no_gc"
    out[known & ~le & (gc == 1.0)] = "gt10_gc"
    if is_scalar_input(crp_pmr_as) and is_scalar_input(on_oral_gc):
        return out.reshape(-1)[0]
    return out
