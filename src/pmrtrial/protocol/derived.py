"""Registry of functions that derive candidate fields (PMR-AS, 2012 criteria...) for eligibility.

A protocol names a derived field and the registry key of the function that computes it; the
function receives the validated candidate values and the protocol parameters. Only functions in
this registry can be named, so a protocol file never carries code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pmrtrial.criteria import classify_pmr_2012, is_inflammatory_marker_abnormal
from pmrtrial.protocol.model import Parameters
from pmrtrial.scores import compute_crp_pmr_as

__all__ = ["DERIVATIONS", "Derivation"]


@dataclass(frozen=True)
class Derivation:
    """A named derivation: which candidate fields it reads and how it computes its value."""

    inputs: tuple[str, ...]
    compute: Callable[[Mapping[str, Any], Parameters], Any]
    description: str


def _crp_pmr_as(v: Mapping[str, Any], p: Parameters) -> Any:
    score = compute_crp_pmr_as(
        crp_mg_l=v.get("crp_mg_l"),
        pain_vas=v.get(p.pmr_as_patient_vas),
        physician_global_vas=v.get("physician_global_vas"),
        morning_stiffness_min=v.get("morning_stiffness_min"),
        upper_limb_elevation=v.get("upper_limb_elevation"),
    )
    return None if score != score else round(float(score), 6)  # NaN -> missing


def _abnormal_marker(v: Mapping[str, Any], p: Parameters) -> Any:
    return is_inflammatory_marker_abnormal(
        crp_mg_l=v.get("crp_mg_l"),
        esr_mm_h=v.get("esr_mm_h"),
        age_years=v.get("age_years"),
        sex=v.get("sex"),
        crp_upper_limit_mg_l=p.crp_upper_limit_mg_l,
    )


def _eular_acr_2012(v: Mapping[str, Any], p: Parameters) -> Any:
    """True if the clinical algorithm, or the ultrasound one when US was done, classifies PMR."""
    common = {
        "age_years": v.get("age_years"),
        "bilateral_shoulder_aching": v.get("bilateral_shoulder_aching"),
        "abnormal_crp_or_esr": _abnormal_marker(v, p),
        "morning_stiffness_min": v.get("morning_stiffness_min"),
        "hip_pain_or_limited_rom": v.get("hip_pain_or_limited_rom"),
        "rf_or_acpa_positive": v.get("rf_or_acpa_positive"),
        "other_joint_involvement": v.get("other_joint_involvement"),
    }
    verdicts = [classify_pmr_2012(**common).verdict]
    if v.get("us_shoulder_and_hip") is not None or v.get("us_both_shoulders") is not None:
        verdicts.append(
            classify_pmr_2012(
                **common,
                with_ultrasound=True,
                us_shoulder_and_hip=v.get("us_shoulder_and_hip"),
                us_both_shoulders=v.get("us_both_shoulders"),
            ).verdict
        )
    if "pmr" in verdicts:
        return True
    if "incomplete" in verdicts:
        return None
    return False


DERIVATIONS: Mapping[str, Derivation] = {
    "crp_pmr_as": Derivation(
        ("crp_mg_l", "physician_global_vas", "morning_stiffness_min", "upper_limb_elevation"),
        _crp_pmr_as,
        "CRP PMR-AS (Leeb & Bird 2004) with the protocol's patient VAS (parameters.pmr_as_patient_vas)",
    ),
    "abnormal_crp_or_esr": Derivation(
        ("crp_mg_l", "esr_mm_h", "age_years", "sex"),
        _abnormal_marker,
        "CRP above parameters.crp_upper_limit_mg_l or ESR above the Miller limit for age and sex",
    ),
    "eular_acr_2012_pmr": Derivation(
        (
            "age_years",
            "bilateral_shoulder_aching",
            "crp_mg_l",
            "esr_mm_h",
            "sex",
            "morning_stiffness_min",
            "hip_pain_or_limited_rom",
            "rf_or_acpa_positive",
            "other_joint_involvement",
        ),
        _eular_acr_2012,
        "2012 EULAR/ACR classification (clinical algorithm, or ultrasound algorithm when US was done)",
    ),
}
