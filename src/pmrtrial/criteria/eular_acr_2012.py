"""2012 EULAR/ACR provisional classification criteria for polymyalgia rheumatica.

These are *classification* criteria for research (selecting homogeneous trial populations), not
diagnostic criteria: a patient who does not meet them may still have PMR, and mimics must be
excluded clinically first.

Scoring (Dasgupta B et al., Ann Rheum Dis 2012;71:484-92, Table 6 / Arthritis Rheum
2012;64:943-54):

Entry conditions, all required and reported separately from the points: age >= 50 years,
bilateral shoulder aching, abnormal CRP and/or ESR.

=====================================================================  ======  =======
item                                                                   no US   with US
=====================================================================  ======  =======
morning stiffness duration > 45 min                                    2       2
hip pain or limited range of motion                                    1       1
absence of RF and ACPA (both negative)                                 2       2
absence of other joint involvement                                     1       1
US: >= 1 shoulder (SD bursitis / biceps tenosynovitis / GH synovitis)
    and >= 1 hip (synovitis / trochanteric bursitis)                   -       1
US: both shoulders (SD bursitis, biceps tenosynovitis or GH synovitis) -       1
=====================================================================  ======  =======

PMR if total >= 4 without US (range 0-6) or >= 5 with US (range 0-8). An unanswered item that
could change the verdict makes the result "incomplete", never "not PMR".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from pmrtrial._validate import as_bool_array, as_float_array, as_variable_array, is_missing
from pmrtrial.exceptions import ScoreInputError

__all__ = [
    "CRP_UPPER_LIMIT_MG_L",
    "ClassificationItem",
    "ClassificationResult",
    "classify_pmr_2012",
    "compute_esr_upper_limit",
    "is_inflammatory_marker_abnormal",
]

#: Default upper limit of normal for CRP (mg/L); a protocol parameter in practice (Dasgupta et al. 2012).
CRP_UPPER_LIMIT_MG_L = 5.0

Verdict = Literal["pmr", "not_pmr", "incomplete", "not_classifiable"]


def compute_esr_upper_limit(*, age_years: Any, sex: str) -> float:
    """Upper limit of normal ESR (mm/h) by the Miller rule: men age/2, women (age + 10)/2.

    Miller A, Green M, Robinson D. Simple rule for calculating normal erythrocyte sedimentation
    rate. BMJ 1983;286:266. ``sex`` is ``"male"``/``"female"`` (or ``"M"``/``"F"``).
    """
    age = float(as_float_array(age_years, field="age_years", lo=0, hi=130).reshape(-1)[0])
    key = str(sex).strip().lower()
    if key in ("male", "m"):
        return age / 2.0
    if key in ("female", "f"):
        return (age + 10.0) / 2.0
    raise ScoreInputError("sex", sex, "one of 'male', 'female' (or 'M', 'F')")


def is_inflammatory_marker_abnormal(
    *,
    crp_mg_l: Any = None,
    esr_mm_h: Any = None,
    age_years: Any = None,
    sex: str | None = None,
    crp_upper_limit_mg_l: float = CRP_UPPER_LIMIT_MG_L,
) -> bool | None:
    """ "Abnormal CRP and/or ESR" as the 2012 criteria use it.

    True if the CRP exceeds ``crp_upper_limit_mg_l`` or the ESR exceeds the Miller limit for age
    and sex; False if every available marker is normal and both are known (or the CRP alone is
    known and normal while the ESR cannot be judged); None when nothing can be decided.
    """
    crp = as_variable_array(crp_mg_l, "crp_mg_l").reshape(-1)[0]
    esr = as_variable_array(esr_mm_h, "esr_mm_h").reshape(-1)[0]
    crp_abnormal = None if np.isnan(crp) else bool(crp > crp_upper_limit_mg_l)
    esr_abnormal: bool | None = None
    if not np.isnan(esr) and not is_missing(age_years) and sex is not None:
        esr_abnormal = bool(esr > compute_esr_upper_limit(age_years=age_years, sex=sex))
    if crp_abnormal or esr_abnormal:
        return True
    if crp_abnormal is None and esr_abnormal is None:
        return None
    if crp_abnormal is None or esr_abnormal is None:
        # One marker normal, the other unknown: "and/or" cannot be ruled out.
        return None
    return False


@dataclass(frozen=True)
class ClassificationItem:
    """One scored item: its points if present, the points it carries, and its answer."""

    id: str
    label: str
    weight: int
    answer: bool | None
    points: int | None


@dataclass(frozen=True)
class ClassificationResult:
    """Result of :func:`classify_pmr_2012`."""

    verdict: Verdict
    entry_conditions: dict[str, bool | None]
    items: tuple[ClassificationItem, ...]
    total: int
    max_possible: int
    threshold: int
    with_ultrasound: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)
    source: str = "Dasgupta B et al. Ann Rheum Dis 2012;71:484-92, Table 6"

    @property
    def entry_met(self) -> bool | None:
        values = list(self.entry_conditions.values())
        if any(v is False for v in values):
            return False
        if any(v is None for v in values):
            return None
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "entry_conditions": dict(self.entry_conditions),
            "entry_met": self.entry_met,
            "items": [
                {"id": i.id, "label": i.label, "weight": i.weight, "answer": i.answer, "points": i.points}
                for i in self.items
            ],
            "total": self.total,
            "max_possible": self.max_possible,
            "threshold": self.threshold,
            "with_ultrasound": self.with_ultrasound,
            "reasons": list(self.reasons),
            "source": self.source,
        }


def _flag(value: Any, name: str) -> bool | None:
    out = as_bool_array(value, field=name).reshape(-1)
    if out.size != 1:
        raise ScoreInputError(name, value, "a single true/false value")
    return None if np.isnan(out[0]) else bool(out[0] == 1.0)


def classify_pmr_2012(
    *,
    age_years: Any,
    bilateral_shoulder_aching: Any,
    abnormal_crp_or_esr: Any,
    morning_stiffness_min: Any,
    hip_pain_or_limited_rom: Any,
    rf_or_acpa_positive: Any,
    other_joint_involvement: Any,
    with_ultrasound: bool = False,
    us_shoulder_and_hip: Any = None,
    us_both_shoulders: Any = None,
) -> ClassificationResult:
    """Apply the 2012 EULAR/ACR provisional classification criteria for PMR to one patient.

    Parameters
    ----------
    age_years : float
        Age in years (0-130). Entry condition: >= 50.
    bilateral_shoulder_aching, abnormal_crp_or_esr : bool or None
        Entry conditions. See :func:`is_inflammatory_marker_abnormal` to derive the second.
    morning_stiffness_min : float or None
        Morning stiffness in minutes (0-1440); > 45 scores 2 (exactly 45 scores 0).
    hip_pain_or_limited_rom : bool or None
        Hip pain or limited range of motion (1 point).
    rf_or_acpa_positive : bool or None
        True if rheumatoid factor or ACPA is positive; absence of both scores 2.
    other_joint_involvement : bool or None
        Other (peripheral) joint involvement; its absence scores 1.
    with_ultrasound : bool
        Use the ultrasound algorithm (threshold 5 of 8) instead of the clinical one (4 of 6).
    us_shoulder_and_hip, us_both_shoulders : bool or None
        The two ultrasound items (only with ``with_ultrasound=True``).

    Returns
    -------
    ClassificationResult
        Points per item, total, threshold and verdict: ``"pmr"``, ``"not_pmr"``,
        ``"incomplete"`` (an unanswered item or entry condition could change the verdict) or
        ``"not_classifiable"`` (an entry condition fails).

    Examples
    --------
    Dasgupta et al. 2012 C1 (hand): 2 + 1 + 2 + 1 = 6 of 6.

    >>> r = classify_pmr_2012(age_years=72, bilateral_shoulder_aching=True, abnormal_crp_or_esr=True,
    ...     morning_stiffness_min=120, hip_pain_or_limited_rom=True, rf_or_acpa_positive=False,
    ...     other_joint_involvement=False)
    >>> r.verdict, r.total, r.threshold
    ('pmr', 6, 4)
    """
    if not isinstance(with_ultrasound, bool):
        raise ScoreInputError("with_ultrasound", with_ultrasound, "true or false")
    age = float(as_float_array(age_years, field="age_years", lo=0, hi=130).reshape(-1)[0])
    mst = float(as_variable_array(morning_stiffness_min, "morning_stiffness_min").reshape(-1)[0])
    entry = {
        "age_50_or_over": None if np.isnan(age) else age >= 50,
        "bilateral_shoulder_aching": _flag(bilateral_shoulder_aching, "bilateral_shoulder_aching"),
        "abnormal_crp_or_esr": _flag(abnormal_crp_or_esr, "abnormal_crp_or_esr"),
    }
    hip = _flag(hip_pain_or_limited_rom, "hip_pain_or_limited_rom")
    serology = _flag(rf_or_acpa_positive, "rf_or_acpa_positive")
    other = _flag(other_joint_involvement, "other_joint_involvement")
    answers: list[tuple[str, str, int, bool | None]] = [
        ("morning_stiffness_gt_45", "Morning stiffness duration > 45 minutes", 2, None if np.isnan(mst) else mst > 45),
        ("hip_pain_or_limited_rom", "Hip pain or limited range of motion", 1, hip),
        ("rf_and_acpa_negative", "Absence of RF and ACPA", 2, None if serology is None else not serology),
        ("no_other_joint_involvement", "Absence of other joint involvement", 1, None if other is None else not other),
    ]
    if with_ultrasound:
        answers += [
            (
                "us_shoulder_and_hip",
                "US: >= 1 shoulder and >= 1 hip with PMR-typical findings",
                1,
                _flag(us_shoulder_and_hip, "us_shoulder_and_hip"),
            ),
            (
                "us_both_shoulders",
                "US: both shoulders with PMR-typical findings",
                1,
                _flag(us_both_shoulders, "us_both_shoulders"),
            ),
        ]
    elif us_shoulder_and_hip is not None or us_both_shoulders is not None:
        raise ScoreInputError(
            "with_ultrasound",
            with_ultrasound,
            "true when ultrasound items are given",
            suggestion="pass with_ultrasound=True to use the ultrasound algorithm.",
        )
    items = tuple(
        ClassificationItem(id=i, label=label, weight=w, answer=a, points=None if a is None else (w if a else 0))
        for i, label, w, a in answers
    )
    threshold = 5 if with_ultrasound else 4
    total = sum(i.points or 0 for i in items)
    unknown = sum(i.weight for i in items if i.answer is None)
    max_possible = sum(i.weight for i in items)
    reasons: list[str] = []
    if any(v is False for v in entry.values()):
        verdict: Verdict = "not_classifiable"
        reasons += [f"entry condition not met: {k}" for k, v in entry.items() if v is False]
    elif total >= threshold and all(v is True for v in entry.values()):
        verdict = "pmr"
    elif total + unknown < threshold:
        verdict = "not_pmr"
        reasons.append(f"total {total} (at most {total + unknown}) < threshold {threshold}")
    else:
        verdict = "incomplete"
        reasons += [f"entry condition unanswered: {k}" for k, v in entry.items() if v is None]
        reasons += [f"item unanswered: {i.id}" for i in items if i.answer is None]
    return ClassificationResult(
        verdict=verdict,
        entry_conditions=entry,
        items=items,
        total=total,
        max_possible=max_possible,
        threshold=threshold,
        with_ultrasound=with_ultrasound,
        reasons=tuple(reasons),
    )
