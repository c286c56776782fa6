"""eCRF values -> canonical dataset rows (pure): the one mapping used by the EDC export and the REDCap import.

Each function takes the forms of one participant as plain dicts (each form's cleaned values merged
with its derived scores, as :func:`pmrtrial.edc.crfs.form_validators.validate_form` returns them)
and returns a row of ``subjects``, ``visits`` or ``adverse_events`` with canonical column names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from pmrtrial.protocol import Protocol, Visit
from pmrtrial.vocabulary import column_names

__all__ = ["adverse_event_row", "canonical_frame", "subject_row", "synovitis", "visit_row"]

Forms = Mapping[str, Mapping[str, Any]]
_SUBJECT_COLUMNS = frozenset(column_names("subjects"))


def synovitis(us: Mapping[str, Any] | None) -> bool | None:
    """Synovitis or tenosynovitis on an ultrasound form (None when no form was entered)."""
    return (bool(us.get("synovitis")) or bool(us.get("tenosynovitis"))) if us else None


def subject_row(
    *,
    subject_id: str,
    site_id: str,
    arm: str | None,
    randomised_on: str | None,
    screening: Mapping[str, Any],
    baseline: Forms,
    status: str,
) -> dict[str, Any]:
    """A ``subjects`` row; ``screening`` holds ``age_years``, ``sex`` and ``symptom_duration_days``.

    A screening field named as a ``subjects`` variable that this row does not set otherwise (SEMAPHORE's
    ``mtx_baseline``) is exported under its name.
    """
    row = {
        "subject_id": subject_id,
        "site_id": site_id,
        "arm": arm,
        "randomised_on": randomised_on,
        "age_years": screening.get("age_years"),
        "sex": screening.get("sex"),
        "disease_duration_days": screening.get("symptom_duration_days"),
        "bmi": baseline.get("demographics", {}).get("bmi"),
        "us_synovitis": synovitis(baseline.get("ultrasound", {})),
        "status": status,
        "stratum": site_id,  # randomisation lists are stratified by centre
    }
    for name in _SUBJECT_COLUMNS.difference(row):
        if name in screening:
            row[name] = screening[name]
    return row


def visit_row(protocol: Protocol, visit: Visit, forms: Forms, *, subject_id: str, arm: str | None) -> dict[str, Any]:
    """A ``visits`` row; the study-drug dose comes from the protocol when the arm is known (unblinded)."""
    pmr, labs, gc = forms.get("pmr_as", {}), forms.get("labs", {}), forms.get("oral_gc", {})
    dose = None
    if arm is not None:
        drug = protocol.dose_at_week(arm, visit.week)
        dose = drug[1] if drug else 0.0
    return {
        "subject_id": subject_id,
        "week": visit.week,
        "crp_mg_l": labs.get("crp_mg_l"),
        "esr_mm_h": labs.get("esr_mm_h"),
        "pain_vas": pmr.get("pain_vas"),
        "patient_global_vas": pmr.get("patient_global_vas"),
        "fatigue_vas": pmr.get("fatigue_vas"),
        "physician_global_vas": pmr.get("physician_global_vas"),
        "morning_stiffness_min": pmr.get("morning_stiffness_min"),
        "upper_limb_elevation": pmr.get("upper_limb_elevation"),
        "oral_gc_mg_day": gc.get("oral_gc_mg_day") if gc else None,
        "haq_di": forms.get("haq_di", {}).get("haq_di"),
        "eq5d_index": forms.get("eq5d", {}).get("eq5d_index"),
        "sf36_pcs": forms.get("sf36", {}).get("sf36_pcs"),
        "sf36_mcs": forms.get("sf36", {}).get("sf36_mcs"),
        "study_drug_mg_day": dose,
        "visit_date": forms.get("visit_info", {}).get("visit_date"),
        "us_synovitis": synovitis(forms.get("ultrasound", {})),
    }


def adverse_event_row(subject_id: str, ae: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "subject_id": subject_id,
        "soc": ae.get("soc"),
        "term": ae.get("term"),
        "serious": ae.get("serious"),
        "severity": ae.get("severity"),
        "onset_week": ae.get("onset_week"),
        "outcome": ae.get("outcome"),
    }


def canonical_frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a dataset: the vocabulary's columns of ``table`` that the rows fill, in vocabulary order.

    A canonical column without a source (e.g. a blinding guess before its form exists) is left out,
    so the analysis reports it absent rather than present and empty. A table without rows gets every
    column of the vocabulary.
    """
    columns = column_names(table)
    written = {k for row in rows for k in row}
    stray = sorted(written - set(columns))
    if stray:  # a programming error: only canonical columns may be written
        raise ValueError(f"Rows of {table} hold non-canonical column(s) {stray}; declare them in pmrtrial.vocabulary.")
    return pd.DataFrame(rows, columns=[c for c in columns if c in written or not rows])
