"""Screening: the protocol's eligibility engine decides; screen failures are kept with their reasons."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from pmrtrial.edc.accounts.permissions import check
from pmrtrial.edc.audit.services import audit_changes
from pmrtrial.edc.errors import FormInvalid, LockedError, NotFound
from pmrtrial.edc.screening.form_validators import parse_candidate
from pmrtrial.edc.screening.models import Participant
from pmrtrial.edc.sites.models import Site, Study
from pmrtrial.edc.sites.services import get_protocol, get_study
from pmrtrial.edc.sql import Shape, col, fetch, for_update, table, vendor
from pmrtrial.protocol import screen_candidate

__all__ = ["load_participant", "screen_participant"]


@functools.cache
def _participant_query(db_vendor: str, by: str, n_sites: int | None, lock: bool) -> tuple[str, Shape, Shape, Shape]:
    """participant + its site + the site's study (without the protocol text) for one ``by`` value."""
    p, s, st = Shape(Participant, "p"), Shape(Site, "s"), Shape(Study, "st", exclude=("protocol_yaml",))
    where = f"p.{col(Participant, by)} = %s"
    if n_sites is not None:
        where += f" AND s.{col(Site, 'code')} IN ({', '.join(['%s'] * n_sites)})" if n_sites else " AND 1 = 0"
    sql = (
        f"SELECT {p.columns()}, {s.columns()}, {st.columns()} FROM {table(Participant)} p"
        f" JOIN {table(Site)} s ON s.{col(Site, 'id')} = p.{col(Participant, 'site')}"
        f" JOIN {table(Study)} st ON st.{col(Study, 'id')} = s.{col(Site, 'study')}"
        f" WHERE {where}{for_update('p') if lock else ''}"
    )
    return sql, p, s, st


def load_participant(
    *, subject_id: str | None = None, pk: int | None = None, sites: frozenset[str] | None = None, lock: bool = False
) -> Participant | None:
    """One participant by ``subject_id`` or ``pk``, with ``site`` and ``site.study`` loaded (the study's
    protocol text deferred), in one statement; None if absent or not at one of ``sites`` (None = any site).

    ``lock``: inside a transaction, lock the participant's row (PostgreSQL ``FOR UPDATE OF``; SQLite's
    writers are already serialised).
    """
    by, value = ("subject_id", subject_id) if subject_id is not None else ("id", pk)
    codes = None if sites is None else sorted(sites)
    sql, p_shape, s_shape, st_shape = _participant_query(vendor(), by, None if codes is None else len(codes), lock)
    rows = fetch(sql, [value, *(codes or ())])
    if not rows:
        return None
    participant: Participant = p_shape.instance(rows[0])
    site = s_shape.instance(rows[0], p_shape.width)
    site.study = st_shape.instance(rows[0], p_shape.width + s_shape.width)
    participant.site = site
    return participant


def screen_participant(
    actor: Any, site_code: str, data: Mapping[str, Any], *, screened_on: dt.date | None = None
) -> Participant:
    """Screen a candidate at ``site_code``; returns the participant (eligible or screen failure).

    Raises :class:`FormInvalid` (nothing saved) for bad values or when a criterion cannot be
    decided because a field is missing.
    """
    check(actor, "screen", site_code)
    study = get_study()
    if study.locked:
        raise LockedError("The database is locked.")
    protocol = get_protocol(study)
    values, errors = parse_candidate(protocol, data)
    if errors:
        raise FormInvalid(errors)
    result = screen_candidate(protocol, values)
    if result.status == "incomplete":
        raw_missing = [name for name, v in values.items() if v is None]
        missing: dict[str, str] = {}
        for o in result.unanswered:
            for var, v in o.values.items():
                if v is None:
                    for name in [var] if var in values else raw_missing:
                        missing[name] = "Required to decide criterion " + o.id
        raise FormInvalid(missing or {"__all__": "Eligibility cannot be decided: answer every criterion."})
    with transaction.atomic():
        site = Site.objects.select_for_update().filter(code=site_code).first()
        if site is None:
            raise NotFound(f"No site {site_code!r}.")
        n = Participant.objects.filter(site=site).count() + 1
        participant = Participant.objects.create(
            site=site,
            subject_id=f"{site.code}-{n:03d}",
            screened_on=screened_on or timezone.localdate(),
            screened_by=actor,
            screening_data={k: v for k, v in values.items()},
            eligibility_status=result.status,
            eligibility=result.to_dict(),
            status="eligible" if result.status == "eligible" else "screen_failed",
        )
        changes: dict[str, tuple[Any, Any]] = {k: (None, v) for k, v in values.items()}
        changes["eligibility_status"] = (None, result.status)
        changes["failed_criteria"] = (None, [o.id for o in result.failed])
        audit_changes(
            actor,
            "create",
            "screening",
            participant.subject_id,
            changes,
            site_code=site.code,
            participant=participant.subject_id,
        )
    return participant
