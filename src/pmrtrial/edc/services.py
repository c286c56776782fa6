"""The EDC service layer: one set of functions used by the web UI, the JSON API, the CLI and the demo.

Every function takes the acting user first and enforces roles, site isolation, locking and
audit itself, so no adapter can bypass them.

Demo enrolment
--------------
:func:`enrol_participant` screens, consents and randomises in one call. Its ``demo_arm`` and
``randomised_on`` arguments are the documented **demo-only allocation override**: they let
``pmrtrial demo`` keep the synthetic twin's published arms and dates, and are refused
(:class:`~pmrtrial.edc.errors.PermissionDenied`) unless the study was created with
``init_study(..., demo=True)`` / ``pmrtrial edc init --demo``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pmrtrial.edc.accounts.services import create_token, create_user, set_language
from pmrtrial.edc.adverse_events.services import add_adverse_event, list_adverse_events
from pmrtrial.edc.audit.services import verify_audit_chain
from pmrtrial.edc.consent.services import record_consent
from pmrtrial.edc.crfs.services import (
    SIGNATURE_MEANING,
    SIGNATURE_VOID_TEXT,
    declared_logs,
    forms_for_visit,
    get_form,
    lock_database,
    lock_form,
    lock_participant,
    preview_form,
    save_form,
    sign_casebook,
    signature_exceptions,
    unlock_database,
    unlock_form,
    unlock_participant,
    verify_form,
    view_casebook,
)
from pmrtrial.edc.errors import NotFound
from pmrtrial.edc.exports.services import build_datasets, export_datasets, export_json
from pmrtrial.edc.flares.services import add_flare, list_flares
from pmrtrial.edc.gc_doses.services import add_gc_dose, gc_log_summary, list_gc_doses
from pmrtrial.edc.queries.services import (
    answer_query,
    close_query,
    get_query,
    list_queries,
    raise_query,
    reopen_query,
)
from pmrtrial.edc.randomisation.secrets import get_allocation, get_allocation_list
from pmrtrial.edc.randomisation.services import (
    approve_unblinding,
    randomise_participant,
    request_unblinding,
    reveal_allocation,
    verify_list_seal,
)
from pmrtrial.edc.screening.models import Participant
from pmrtrial.edc.screening.services import load_participant, screen_participant
from pmrtrial.edc.sites.services import get_protocol, get_study
from pmrtrial.edc.studies import init_study
from pmrtrial.edc.visits.services import missed_visits, visit_status

__all__ = [
    "SIGNATURE_MEANING",
    "SIGNATURE_VOID_TEXT",
    "add_adverse_event",
    "add_flare",
    "add_gc_dose",
    "answer_query",
    "approve_unblinding",
    "build_datasets",
    "close_query",
    "create_token",
    "create_user",
    "declared_logs",
    "enrol_participant",
    "export_datasets",
    "export_json",
    "forms_for_visit",
    "gc_log_summary",
    "get_allocation",
    "get_allocation_list",
    "get_form",
    "get_participant",
    "get_protocol",
    "get_query",
    "get_study",
    "init_study",
    "list_adverse_events",
    "list_flares",
    "list_gc_doses",
    "list_queries",
    "lock_database",
    "lock_form",
    "lock_participant",
    "missed_visits",
    "preview_form",
    "raise_query",
    "randomise_participant",
    "record_consent",
    "reopen_query",
    "request_unblinding",
    "reveal_allocation",
    "save_form",
    "screen_participant",
    "set_language",
    "sign_casebook",
    "signature_exceptions",
    "unlock_database",
    "unlock_form",
    "unlock_participant",
    "verify_audit_chain",
    "verify_form",
    "verify_list_seal",
    "view_casebook",
    "visit_status",
]


def get_participant(actor: Any, subject_id: str) -> Participant:
    """A participant the actor may see (another site's participant is "not found"), with its site and
    study (without the protocol text: form saves read the cached protocol from it), in one statement."""
    from pmrtrial.edc.accounts.permissions import can, site_codes

    p = load_participant(subject_id=subject_id, sites=site_codes(actor)) if can(actor, "view") else None
    if p is None:
        raise NotFound("No such participant.")
    return p


def enrol_participant(
    actor: Any,
    site_code: str,
    screening_data: Mapping[str, Any],
    *,
    consent_version: str = "1.0",
    consented_on: dt.date | None = None,
    screened_on: dt.date | None = None,
    randomised_on: dt.date | None = None,
    demo_arm: str | None = None,
) -> Participant:
    """Screen, consent and randomise one eligible candidate (see the module docstring for the override)."""
    p = screen_participant(actor, site_code, screening_data, screened_on=screened_on)
    if p.status != "eligible":
        return p
    record_consent(actor, p, consent_version, consented_on or screened_on or dt.date.today())
    return randomise_participant(actor, p, randomised_on=randomised_on, demo_arm=demo_arm)
