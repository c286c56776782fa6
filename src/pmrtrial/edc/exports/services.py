"""Export the canonical analysis datasets (subjects, visits, adverse_events) from the EDC, and the
optional ``gc_doses`` and ``flares`` tables when the protocol declares those logs (lists them at a
visit). ``flares`` is written even without rows (no flare assessed). ``gc_doses`` is written once a
dose row exists: then a participant without a row took no glucocorticoid (the analysis' convention
for the log, which wins over the visit-level oral doses); an empty log is left out and
``dataset.json`` says so. A blinded export leaves ``gc_doses`` out when the arms' tapers differ
(each participant's taper rows would reveal the arm); ``dataset.json`` says so.

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
from pmrtrial.edc.crfs.canonical import adverse_event_row, canonical_frame, subject_row, visit_row
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.services import canonical_rows, declared_logs
from pmrtrial.edc.gc_doses.services import GC_DOSE_RENAMED
from pmrtrial.edc.gc_doses.summary import taper_reveals_arm
from pmrtrial.edc.randomisation.models import AllocationSecret
from pmrtrial.edc.randomisation.secrets import blinded_codes_for_service
from pmrtrial.edc.sites.services import get_protocol, get_study
from pmrtrial.vocabulary import levels

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


class ExportedDatasets:
    def __init__(
        self,
        subjects: pd.DataFrame,
        visits: pd.DataFrame,
        adverse_events: pd.DataFrame,
        manifest: dict[str, Any],
        *,
        gc_doses: pd.DataFrame | None = None,
        flares: pd.DataFrame | None = None,
    ) -> None:
        self.subjects = subjects
        self.visits = visits
        self.adverse_events = adverse_events
        self.manifest = manifest
        self.gc_doses = gc_doses  # None: the protocol does not declare the log (or it is left out)
        self.flares = flares

    def optional_tables(self) -> dict[str, pd.DataFrame]:
        return {
            name: frame for name, frame in (("gc_doses", self.gc_doses), ("flares", self.flares)) if frame is not None
        }


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
    logs: dict[tuple[int, str], list[FormRecord]] = defaultdict(list)
    for rec in FormRecord.objects.filter(participant__in=participants).order_by("id"):
        records[rec.participant_id][(rec.key, rec.form)] = {**rec.data, **rec.derived}
        if rec.form in ("gc_dose", "flare"):
            logs[(rec.participant_id, rec.form)].append(rec)
    declared = declared_logs(protocol)
    subj_rows, visit_rows, ae_rows = [], [], []
    gc_rows: list[dict[str, Any]] = []
    flare_rows: list[dict[str, Any]] = []
    for p in participants:
        gc_rows += [
            {"subject_id": p.subject_id, **row}
            for row in canonical_rows(logs[(p.pk, "gc_dose")], "gc_doses", GC_DOSE_RENAMED)
        ]
        flare_rows += [{"subject_id": p.subject_id, **row} for row in canonical_rows(logs[(p.pk, "flare")], "flares")]
        forms = records.get(p.pk, {})
        demo = forms.get(("W0", "demographics"), {})
        us = forms.get(("W0", "ultrasound"), {})
        arm = arms.get(p.subject_id)
        subj_rows.append(
            subject_row(
                subject_id=p.subject_id,
                site_id=p.site.code,
                arm=arm if unblinded else (codes.get(p.subject_id) if arm else None),
                randomised_on=p.randomised_on.isoformat() if p.randomised_on else None,
                screening=p.screening_data,
                baseline={"demographics": demo, "ultrasound": us},
                status=_canonical_status(p.subject_id, p.status),
            )
        )
        for v in protocol.visits:
            keyed = {form: data for (key, form), data in forms.items() if key == v.code}
            if not keyed or "visit_info" not in keyed:
                continue
            visit_rows.append(
                visit_row(protocol, v, keyed, subject_id=p.subject_id, arm=arm if unblinded and arm else None)
            )
        for (_key, form), ae in sorted(forms.items(), key=lambda kv: int(kv[0][0][3:]) if kv[0][0][:3] == "AE-" else 0):
            if form == "adverse_event":
                ae_rows.append(adverse_event_row(p.subject_id, ae))
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
    write_gc = "gc_doses" in declared and bool(gc_rows)
    if "gc_doses" in declared and not gc_rows:
        manifest["gc_doses_note"] = (
            "The protocol declares the glucocorticoid dose log but no row was entered: gc_doses is not written "
            "(the analysis uses the visit-level oral doses)."
        )
    elif write_gc and not unblinded and taper_reveals_arm(protocol):
        write_gc = False
        manifest["gc_doses_note"] = (
            "gc_doses is left out of this blinded export: the arms' glucocorticoid tapers differ, so each "
            "participant's taper rows would reveal the arm."
        )
    return ExportedDatasets(
        canonical_frame("subjects", subj_rows),
        canonical_frame("visits", visit_rows),
        canonical_frame("adverse_events", ae_rows),
        manifest,
        # An empty dose log is not written: it would say that nobody took glucocorticoid, and the log
        # wins over the visit-level oral doses in the analysis (manifest: gc_doses_note).
        gc_doses=canonical_frame("gc_doses", gc_rows) if write_gc else None,
        flares=canonical_frame("flares", flare_rows) if "flares" in declared else None,
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
    """Write ``subjects.csv``, ``visits.csv``, ``adverse_events.csv`` (and ``gc_doses.csv``/``flares.csv``
    when the protocol declares them), ``dataset.json`` and the screening summary ``screening.csv`` (see
    :func:`screening_summary`) to ``out_dir``."""
    data = build_datasets(actor)
    root = Path(out_dir)
    from pmrtrial.io.datasets import write_datasets  # spreadsheet-safe text cells (pmrtrial.io.csvsafe)

    write_datasets(
        root, data.subjects, data.visits, data.adverse_events, manifest=data.manifest, **data.optional_tables()
    )
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
        **{name: recs(frame) for name, frame in data.optional_tables().items()},
    }
