"""Export the canonical analysis datasets (subjects, visits, adverse_events) from the EDC.

Blinded users get, in the ``arm`` column, a per-participant blinded code (``BC-XXXXXXXX``, see
:func:`~pmrtrial.edc.randomisation.secrets.blinded_codes_for_service`) instead of the arm, and no
study-drug dose (which would reveal the arm); ``dataset.json`` says ``"blinded": true``. Unlike one
study-wide A/B mask, a code reveals no grouping, and unblinding one participant decodes no other.
An unlocked database is exported with a "not locked" mark in ``dataset.json``; site users never
reach an export (role check).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
from django.utils import timezone

from pmrtrial.edc.accounts.permissions import check, is_unblinded, visible_participants
from pmrtrial.edc.audit.services import audit_event
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.randomisation.models import AllocationSecret
from pmrtrial.edc.randomisation.secrets import blinded_codes_for_service
from pmrtrial.edc.sites.services import get_protocol, get_study
from pmrtrial.vocabulary import column_names, levels

__all__ = ["ExportedDatasets", "build_datasets", "export_datasets"]

#: EDC participant status -> canonical ``subjects.status`` level. A randomised participant without
#: an end-of-study form is still in follow-up: ``ongoing`` (interim export). Every other EDC status
#: of a randomised participant is already a canonical level; anything else is refused by
#: :func:`_canonical_status` rather than exported as a value dataset validation would reject.
_STATUS_FROM_EDC = {"randomised": "ongoing"}


def _canonical_status(subject_id: str, status: str) -> str:
    value = _STATUS_FROM_EDC.get(status, status)
    accepted = levels("status", "subjects") or ()
    if value not in accepted:
        raise ValueError(
            f"Cannot export participant {subject_id}: status {status!r} has no canonical level. "
            f"Expected one of {', '.join(accepted)} (or 'randomised', exported as 'ongoing')."
        )
    return value


def _frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a dataset: the vocabulary's columns of ``table`` that the EDC fills, in vocabulary order.

    A canonical column the EDC has no source for (e.g. a blinding guess before its form exists) is
    left out, so the analysis reports it absent rather than present and empty. A table without rows
    gets every column of the vocabulary.
    """
    columns = column_names(table)
    written = {k for row in rows for k in row}
    stray = sorted(written - set(columns))
    if stray:  # a programming error: the EDC must only write canonical columns
        raise ValueError(
            f"Export of {table} writes non-canonical column(s) {stray}; declare them in pmrtrial.vocabulary."
        )
    return pd.DataFrame(rows, columns=[c for c in columns if c in written or not rows])


class ExportedDatasets:
    def __init__(
        self, subjects: pd.DataFrame, visits: pd.DataFrame, adverse_events: pd.DataFrame, manifest: dict[str, Any]
    ) -> None:
        self.subjects = subjects
        self.visits = visits
        self.adverse_events = adverse_events
        self.manifest = manifest


def _synovitis(us: dict[str, Any]) -> bool | None:
    """Synovitis or tenosynovitis on an ultrasound form (None when no form was entered)."""
    return (bool(us.get("synovitis")) or bool(us.get("tenosynovitis"))) if us else None


def build_datasets(actor: Any) -> ExportedDatasets:
    """The three tables for ``actor`` (arms masked unless the actor is unblinded). ``None`` = blinded system."""
    if actor is not None:
        check(actor, "export")
    unblinded = actor is not None and is_unblinded(actor)
    study = get_study()
    protocol = get_protocol(study)
    from pmrtrial.edc.screening.models import Participant

    participants = visible_participants(actor) if actor is not None else Participant.objects.select_related("site")
    participants = participants.filter(randomised_on__isnull=False).order_by("subject_id")
    arms = dict(
        AllocationSecret.objects.filter(slot__participant__in=participants).values_list(
            "slot__participant__subject_id", "arm"
        )
    )
    codes = {} if unblinded else blinded_codes_for_service([p.subject_id for p in participants])
    records: dict[int, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    for rec in FormRecord.objects.filter(participant__in=participants):
        records[rec.participant_id][(rec.key, rec.form)] = {**rec.data, **rec.derived}
    subj_rows, visit_rows, ae_rows = [], [], []
    for p in participants:
        forms = records.get(p.pk, {})
        demo = forms.get(("W0", "demographics"), {})
        us = forms.get(("W0", "ultrasound"), {})
        arm = arms.get(p.subject_id)
        subj_rows.append(
            {
                "subject_id": p.subject_id,
                "site_id": p.site.code,
                "arm": arm if unblinded else (codes.get(p.subject_id) if arm else None),
                "randomised_on": p.randomised_on.isoformat() if p.randomised_on else None,
                "age_years": p.screening_data.get("age_years"),
                "sex": p.screening_data.get("sex"),
                "disease_duration_days": p.screening_data.get("symptom_duration_days"),
                "bmi": demo.get("bmi"),
                "us_synovitis": _synovitis(us),
                "status": _canonical_status(p.subject_id, p.status),
                "stratum": p.site.code,  # the EDC's randomisation list is stratified by centre
            }
        )
        for v in protocol.visits:
            keyed = {form: data for (key, form), data in forms.items() if key == v.code}
            if not keyed or "visit_info" not in keyed:
                continue
            pmr, labs, gc = keyed.get("pmr_as", {}), keyed.get("labs", {}), keyed.get("oral_gc", {})
            dose = None
            if unblinded and arm is not None:
                drug = protocol.dose_at_week(arm, v.week)
                dose = drug[1] if drug else 0.0
            visit_rows.append(
                {
                    "subject_id": p.subject_id,
                    "week": v.week,
                    "crp_mg_l": labs.get("crp_mg_l"),
                    "esr_mm_h": labs.get("esr_mm_h"),
                    "pain_vas": pmr.get("pain_vas"),
                    "patient_global_vas": pmr.get("patient_global_vas"),
                    "fatigue_vas": pmr.get("fatigue_vas"),
                    "physician_global_vas": pmr.get("physician_global_vas"),
                    "morning_stiffness_min": pmr.get("morning_stiffness_min"),
                    "upper_limb_elevation": pmr.get("upper_limb_elevation"),
                    "oral_gc_mg_day": gc.get("oral_gc_mg_day") if gc else None,
                    "haq_di": keyed.get("haq_di", {}).get("haq_di"),
                    "eq5d_index": keyed.get("eq5d", {}).get("eq5d_index"),
                    "sf36_pcs": keyed.get("sf36", {}).get("sf36_pcs"),
                    "sf36_mcs": keyed.get("sf36", {}).get("sf36_mcs"),
                    "study_drug_mg_day": dose,
                    "visit_date": keyed["visit_info"].get("visit_date"),
                    "us_synovitis": _synovitis(keyed.get("ultrasound", {})),
                }
            )
        for (_key, form), ae in sorted(forms.items(), key=lambda kv: int(kv[0][0][3:]) if kv[0][0][:3] == "AE-" else 0):
            if form != "adverse_event":
                continue
            ae_rows.append(
                {
                    "subject_id": p.subject_id,
                    "soc": ae.get("soc"),
                    "term": ae.get("term"),
                    "serious": ae.get("serious"),
                    "severity": ae.get("severity"),
                    "onset_week": ae.get("onset_week"),
                    "outcome": ae.get("outcome"),
                }
            )
    manifest = {
        "synthetic": bool(study.demo),  # a demo study holds synthetic data, never trial data
        "source": "pmrtrial EDC",
        "protocol": {"id": protocol.id, "version": protocol.version},
        "exported_at": timezone.now().isoformat(),
        "exported_by": getattr(actor, "username", "system (blinded)"),
        "locked": study.locked,
        "lock_status": "locked" if study.locked else "NOT LOCKED: interim data, may change",
        "arms_masked": not unblinded,
        "blinded": not unblinded,
        "arm_coding": "per-participant blinded code" if not unblinded else "arm id",
        "arm_labels": [] if not unblinded else [a.id for a in protocol.arms],
        "demo": study.demo,
    }
    return ExportedDatasets(
        _frame("subjects", subj_rows),
        _frame("visits", visit_rows),
        _frame("adverse_events", ae_rows),
        manifest,
    )


#: Columns of ``screening.csv``: one row per screened person (randomised or not), for the CONSORT enrolment stage.
SCREENING_COLUMNS = ("screening_id", "site_id", "screened_on", "eligibility", "randomised", "excluded_by")


def screening_summary(actor: Any) -> pd.DataFrame:
    """Everyone screened (visible to ``actor``): eligibility, whether randomised, and the criteria that excluded them.

    ``excluded_by`` lists the ids of the failed criteria (``;``-separated); empty for the eligible. No clinical
    data and no arm: the table only feeds the CONSORT diagram's "assessed for eligibility / excluded" boxes.
    """
    from pmrtrial.edc.screening.models import Participant

    people = visible_participants(actor) if actor is not None else Participant.objects.select_related("site")
    rows = [
        {
            "screening_id": p.subject_id,
            "site_id": p.site.code,
            "screened_on": p.screened_on.isoformat(),
            "eligibility": p.eligibility_status,
            "randomised": p.randomised_on is not None,
            "excluded_by": ";".join(str(o.get("id")) for o in (p.eligibility or {}).get("failed", [])),
        }
        for p in people.order_by("subject_id")
    ]
    return pd.DataFrame(rows, columns=list(SCREENING_COLUMNS))


def _write_screening(actor: Any, root: Path) -> None:
    from pmrtrial.io import write_text_atomic
    from pmrtrial.io.csvsafe import neutralise_frame

    # spreadsheet-safe text cells, as the other exported tables (pmrtrial.io.csvsafe); read_enrolment undoes it
    write_text_atomic(root / "screening.csv", neutralise_frame(screening_summary(actor)).to_csv(index=False))


def export_datasets(actor: Any, out_dir: str | os.PathLike[str]) -> ExportedDatasets:
    """Write ``subjects.csv``, ``visits.csv``, ``adverse_events.csv``, ``dataset.json`` and the screening summary
    ``screening.csv`` (see :func:`screening_summary`) to ``out_dir``."""
    data = build_datasets(actor)
    root = Path(out_dir)
    from pmrtrial.io.datasets import write_datasets  # spreadsheet-safe text cells (pmrtrial.io.csvsafe)

    write_datasets(root, data.subjects, data.visits, data.adverse_events, manifest=data.manifest)
    _write_screening(actor, root)
    audit_event(
        actor,
        "export",
        "datasets",
        dt.date.today().isoformat(),
        detail={"dir": str(root), "arms_masked": data.manifest["arms_masked"], "n_subjects": len(data.subjects)},
    )
    return data


def export_json(actor: Any) -> dict[str, Any]:
    """The datasets as JSON-ready records (API export)."""
    data = build_datasets(actor)
    audit_event(
        actor,
        "export",
        "datasets",
        "api",
        detail={"arms_masked": data.manifest["arms_masked"], "n_subjects": len(data.subjects)},
    )

    def recs(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return json.loads(frame.to_json(orient="records"))

    return {
        "manifest": data.manifest,
        "subjects": recs(data.subjects),
        "visits": recs(data.visits),
        "adverse_events": recs(data.adverse_events),
    }
