"""Names a protocol may refer to: visit variables, derived visit variables, eCRF forms.

The visit variables are the columns of the canonical ``visits`` analysis dataset (README,
"Canonical analysis datasets"); derived variables are computed from them by
:mod:`pmrtrial.scores`. Endpoints may use either; :func:`pmrtrial.protocol.validate_protocol`
rejects any other name.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["DERIVED_VISIT_VARIABLES", "FORMS", "SUBJECT_VARIABLES", "VISIT_VARIABLES"]

#: Canonical ``visits`` columns: name -> (unit or scale, description).
VISIT_VARIABLES = MappingProxyType(
    {
        "crp_mg_l": ("mg/L", "C-reactive protein"),
        "esr_mm_h": ("mm/h", "erythrocyte sedimentation rate, Westergren, first hour"),
        "pain_vas": ("0-10", "patient's pain, visual analogue scale"),
        "patient_global_vas": ("0-10", "patient's assessment of disease activity, VAS"),
        "fatigue_vas": ("0-10", "patient's fatigue, VAS"),
        "physician_global_vas": ("0-10", "physician's global assessment of disease activity, VAS"),
        "morning_stiffness_min": ("min", "morning stiffness"),
        "upper_limb_elevation": ("0-3", "EUL: 0 above shoulder girdle ... 3 none"),
        "oral_gc_mg_day": ("mg/day", "oral glucocorticoid, prednisone-equivalent, currently taken (0 = none)"),
        "haq_di": ("0-3", "HAQ Disability Index"),
        "eq5d_index": ("index", "EQ-5D index (value set named in the protocol)"),
        "sf36_pcs": ("T-score", "SF-36 physical component summary"),
        "sf36_mcs": ("T-score", "SF-36 mental component summary"),
        "study_drug_mg_day": ("mg/day", "study drug dose taken"),
        "us_synovitis": ("bool", "ultrasound synovitis or tenosynovitis at this visit"),
    }
)

#: Canonical ``subjects`` columns a protocol may name (baseline table, covariates).
SUBJECT_VARIABLES = MappingProxyType(
    {
        "site_id": ("-", "centre identifier"),
        "age_years": ("years", "age at randomisation"),
        "sex": ("-", "sex"),
        "disease_duration_days": ("days", "time from symptom onset to inclusion"),
        "bmi": ("kg/m2", "body-mass index"),
        "us_synovitis": ("bool", "synovitis or tenosynovitis on ultrasound at baseline"),
        "stratum": ("-", "randomisation stratum"),
    }
)

#: Variables derived per visit from the canonical columns.
DERIVED_VISIT_VARIABLES = MappingProxyType(
    {
        "crp_mg_dl": ("mg/dL", "CRP in mg/dL (crp_mg_l / 10)"),
        "crp_pmr_as": ("score", "CRP PMR-AS (Leeb & Bird 2004)"),
        "esr_pmr_as": ("score", "ESR PMR-AS"),
        "clin_pmr_as": ("score", "PMR-AS without inflammatory marker"),
        "on_oral_gc": ("bool", "oral glucocorticoid taken at the visit (oral_gc_mg_day > 0)"),
        "upper_limb_elevation_above_90": ("bool", "EUL = 0 (elevation above 90 degrees)"),
        "change_crp_pmr_as": ("score", "CRP PMR-AS change from baseline"),
        "flare": ("bool", "flare by Dejaco 2011 rules against baseline"),
        "cumulative_gc_mg": (
            "mg",
            "cumulative oral glucocorticoid from day 0 to the day before the visit (gc_doses log; without it, "
            "the step rule over visit doses)",
        ),
        "gc_free": ("bool", "no oral glucocorticoid on the visit day (gc_doses log, else oral_gc_mg_day = 0)"),
        "change_oral_gc_mg_day": ("mg/day", "oral GC dose change from baseline (oral_gc_mg_day - baseline)"),
        "flare_free_from_w12": (
            "bool",
            "no flare (Dejaco 2011, against baseline) at any recorded visit from week 12 to this visit; "
            "missing before week 12",
        ),
        "crp_normal_from_w12": (
            "bool",
            "CRP <= parameters.crp_upper_limit_mg_l at every recorded visit from week 12 to this visit; "
            "missing before week 12",
        ),
        "remission_by_w12": (
            "bool",
            "per participant: at the week-12 visit, no flare (Dejaco 2011) and CRP <= the protocol's upper limit "
            "(a proxy for 'resolution of signs and symptoms by week 12'); the same value on every row",
        ),
        "gc_taper_adherent": (
            "bool",
            "logged oral GC dose <= the arm's gc_taper dose (+ parameters.gc_taper_tolerance_mg_day) on every day "
            "from the previous scheduled visit to the day before this visit (needs the gc_doses log and the "
            "arms' gc_taper; a supplied 'gc_taper_adherent' column is kept otherwise)",
        ),
    }
)

#: eCRF forms (instruments) a visit may require.
FORMS = MappingProxyType(
    {
        "eligibility": "Screening and eligibility",
        "consent": "Informed consent",
        "demographics": "Demographics and medical history",
        "pmr_as": "PMR-AS components (VAS, morning stiffness, upper-limb elevation)",
        "labs": "Laboratory: CRP and ESR",
        "oral_gc": "Oral glucocorticoid (rescue prednisone) dose",
        "injections": "Shoulder glucocorticoid injections",
        "study_drug": "Study drug dispensing and adherence",
        "haq_di": "HAQ-DI questionnaire",
        "eq5d": "EQ-5D questionnaire",
        "sf36": "SF-36 questionnaire",
        "ultrasound": "Shoulder and hip ultrasound",
        "adverse_events": "Adverse events",
        "end_of_study": "End of study / withdrawal",
    }
)
