"""Enter the synthetic twin into a **demo** study through the EDC service layer (``pmrtrial demo``).

Import after :func:`pmrtrial.edc.setup` (this module imports Django models). Every write goes through
the public service functions (:mod:`pmrtrial.edc.services`), so roles, site isolation, validation,
locking and the audit trail apply exactly as for data entered in the web UI. The only demo-specific
paths are:

- the documented **demo-only allocation override** of :func:`~pmrtrial.edc.services.enrol_participant`
  (``demo_arm``/``randomised_on``), which keeps the twin's arm and randomisation date;
- :func:`save_demo_scores`, which enters **derived questionnaire scores** (HAQ-DI, EQ-5D index, SF-36
  PCS/MCS) when no item answers exist (the twin has scores only). It is refused unless the study was
  created with ``demo=True``, enforces the same role, site, visit and lock rules as
  :func:`~pmrtrial.edc.services.save_form`, and audits every score with the reason
  :data:`DEMO_SCORE_REASON`.

The seed is driven by the study's protocol: the twin's visits go to the protocol's visits (by week), and at each
visit only the forms the protocol lists there are entered (``labs``, ``pmr_as``, ``oral_gc``, ``study_drug``,
questionnaires, and at baseline ``demographics`` and ``ultrasound`` when the twin has their values). The twin's
``gc_doses`` rows go through the GC dose log service (:func:`~pmrtrial.edc.services.add_gc_dose`) and its
``flares`` rows through the flare log service (:func:`~pmrtrial.edc.services.add_flare`), as investigator entries
with validation and audit like any eCRF. Blinding is the EDC's: the investigators who enter the log never see
taper adherence where the arms' tapers differ (:func:`~pmrtrial.edc.services.gc_log_summary`), and the export
that holds ``gc_doses`` and the arms is the unblinded statistician's.

What the twins do not hold, and what the demo enters instead (all visible in the audit trail).

Every trial:

- screening items the twin lacks: see :mod:`pmrtrial.edc.screening.twin_records` (one answer per eligibility field
  of the protocol; from the twin's subjects row, then its week-0 visit, then a fixed demo answer);
- screening, consent and randomisation happen on the twin's randomisation date; visits on their
  protocol target dates; participants are numbered by the EDC (``<site>-<nnn>``) and the twin's centres
  become sites ``01..N`` in sorted order (the mapping is in the summary, ``pmrtrial demo`` writes it to
  ``edc.json``);
- study drug: the kit code the EDC allocated, at every visit that lists the form (no tablet counts);
- oral glucocorticoid: the visit's dose; the form asks for a rescue start date whenever a dose is recorded after
  baseline, and the demo enters the start of the twin's first ``rescue`` row of the GC log on or before the
  visit, else the start of its first GC log row, else the first visit with a dose (BACHELOR, which has no log);
- adverse events: onset date = randomisation + 7 x onset week; the twin has no relatedness, no
  seriousness criterion and no resolution date, so relatedness is ``possible``
  (:data:`DEMO_AE_RELATEDNESS`), serious events get ``important_medical_event``
  (:data:`DEMO_SERIOUS_CRITERION`) and the resolution date is left empty (the EDC's warning about a
  recovered event without a resolution date is confirmed);
- end of study: the date of the last visit the twin holds; a withdrawal or loss has the reason
  :data:`DEMO_EOS_REASON`.

BACHELOR:

- height is a fixed 160 cm (women) / 170 cm (men) and weight is chosen so that the EDC's BMI
  (rounded to 0.01) equals the twin's;
- questionnaire scores (HAQ-DI, EQ-5D, SF-36) through :func:`save_demo_scores` (no item answers).

SEMAPHORE (tocilizumab) and SAPHYR (sarilumab):

- no height or weight (the twins hold no BMI): the baseline ``demographics`` form is left empty and shows among
  the exceptions confirmed at the e-signature; no ultrasound and no fatigue VAS (not in the twins);
- sex (both) and methotrexate co-medication (SEMAPHORE) are screening answers of the protocol;
- GC dose rows: start and end dates = randomisation + the twin's ``start_day``/``end_day`` (an empty end day is an
  ongoing row), dose and reason as in the twin; overlapping rows of the same reason (a rescue on top of the taper
  is a different reason) would be warned and are confirmed;
- flare assessments (SAPHYR): date = randomisation + the twin's flare ``day``, confirmation as in the twin; the
  twin holds only the flare's CRP PMR-AS, so the PMR-AS components and CRP entered are those of the twin's first
  visit on or after the flare day, the visit the twin took that score from (the EDC's CRP PMR-AS then equals the
  twin's). The EDC derives the flare's ``rule`` itself (``dejaco_2011`` when a Dejaco 2011 rule fires), where
  the twin says ``investigator``; the analysis reads a flare's day and confirmation only.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import transaction

from pmrtrial.edc import services as svc
from pmrtrial.edc.accounts.permissions import check_participant
from pmrtrial.edc.audit.services import audit_changes
from pmrtrial.edc.crfs.form_specs import get_form_spec
from pmrtrial.edc.crfs.models import FormRecord
from pmrtrial.edc.crfs.services import void_signature
from pmrtrial.edc.errors import ConflictError, FormInvalid, LockedError, NotFound, PermissionDenied, WorkflowError
from pmrtrial.edc.screening.models import Participant
from pmrtrial.edc.screening.twin_records import plain, screening_record
from pmrtrial.edc.sites.models import Study
from pmrtrial.edc.visits.models import Visit
from pmrtrial.vocabulary import value_range

__all__ = [
    "DEMO_AE_RELATEDNESS",
    "DEMO_EOS_REASON",
    "DEMO_SCORE_REASON",
    "DEMO_SERIOUS_CRITERION",
    "DemoArgon2PasswordHasher",
    "DemoUsers",
    "TwinLoadSummary",
    "create_demo_users",
    "edc_subject_id",
    "load_twin",
    "save_demo_scores",
    "sign_and_lock",
]

DEMO_SCORE_REASON = "demo only: derived score entered directly (the synthetic twin has no item answers)"
DEMO_AE_RELATEDNESS = "possible"
DEMO_SERIOUS_CRITERION = "important_medical_event"
DEMO_EOS_REASON = "synthetic twin: no reason recorded"


#: Derived scores :func:`save_demo_scores` accepts, with their admissible range.
def _score_range(name: str) -> tuple[float, float]:
    lo, hi = value_range(name, "visits")
    if lo is None or hi is None:
        raise ValueError(f"pmrtrial.vocabulary declares no bounded range for the score {name!r}.")
    return lo, hi


DEMO_SCORES: dict[str, dict[str, tuple[float, float]]] = {
    form: {name: _score_range(name) for name in names}
    for form, names in (("haq_di", ("haq_di",)), ("eq5d", ("eq5d_index",)), ("sf36", ("sf36_pcs", "sf36_mcs")))
}
_HEIGHT_CM = {"female": 160.0, "male": 170.0}
Progress = Callable[[str, int, int], None]


class DemoArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with light parameters, for the demo users' random 256-bit passwords only.

    The hash records its parameters, so the standard hasher verifies it (and re-hashes it at the
    standard cost on a successful login).
    """

    time_cost = 1
    memory_cost = 1024
    parallelism = 1


def _date(value: Any) -> dt.date:
    return pd.Timestamp(value).date()


def edc_subject_id(twin_subject_id: str) -> str:
    """The EDC number of a twin participant: ``SYN-01-003`` -> ``01-003`` (site code, rank at the site)."""
    return twin_subject_id.removeprefix("SYN-")


# -- the demo-only score path --------------------------------------------------------------------


def _study_flags() -> tuple[bool, bool]:
    """(demo, locked) of the study, read without its protocol text (one small query per check)."""
    flags = Study.objects.order_by("id").values_list("demo", "locked").first()
    if flags is None:
        raise NotFound("No study in this database.")
    return bool(flags[0]), bool(flags[1])


def save_demo_scores(
    actor: Any,
    participant: Participant,
    key: str,
    form: str,
    scores: Mapping[str, Any],
    *,
    reason: str = DEMO_SCORE_REASON,
) -> FormRecord:
    """Enter derived questionnaire scores without item answers (demo studies only; audited).

    Parameters
    ----------
    actor : User
        Needs ``enter_data`` at the participant's site (as for :func:`~pmrtrial.edc.services.save_form`).
    participant : Participant
        A randomised participant.
    key : str
        Visit code; the protocol must list ``form`` at that visit.
    form : {"haq_di", "eq5d", "sf36"}
        The questionnaire.
    scores : Mapping[str, float]
        Every score of the form (``haq_di``; ``eq5d_index``; ``sf36_pcs`` and ``sf36_mcs``).
    reason : str
        Recorded with every audit entry.

    Returns
    -------
    FormRecord
        The new record: item answers empty, the scores in ``derived``.

    Raises
    ------
    PermissionDenied
        The study is not a demo study, or the role may not enter data.
    FormInvalid
        Unknown, missing or out-of-range scores.
    ConflictError
        The form was already entered at this visit.
    LockedError
        The database or the casebook is locked.
    """
    check_participant(actor, "enter_data", participant)
    demo, _locked = _study_flags()
    if not demo:
        raise PermissionDenied("Derived scores without item answers are accepted in demo studies only.")
    if form not in DEMO_SCORES:
        raise FormInvalid({"form": f"Expected one of {', '.join(DEMO_SCORES)}. Got {form!r}."})
    if participant.randomised_on is None:
        raise WorkflowError("Visit forms can be entered after randomisation.")
    visit = Visit.objects.filter(participant=participant, code=key).first()
    if visit is None:
        raise NotFound(f"No visit {key!r} for this participant.")
    if form not in svc.forms_for_visit(key):
        raise NotFound(f"The protocol does not list form {form!r} at visit {key}.")
    ranges = DEMO_SCORES[form]
    errors = {name: "Unknown score for this form." for name in scores if name not in ranges}
    derived: dict[str, float] = {}
    for name, (lo, hi) in ranges.items():
        value = plain(scores.get(name))
        number_ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not number_ok or not lo <= float(value) <= hi:
            errors[name] = f"Expected a number between {lo:g} and {hi:g}. Got {value!r}."
        else:
            derived[name] = float(value)
    if errors:
        raise FormInvalid(errors)
    with transaction.atomic():
        p = Participant.objects.select_for_update().get(pk=participant.pk)
        if _study_flags()[1]:
            raise LockedError("The database is locked: no data can be changed.")
        if p.locked:
            raise LockedError("This participant's casebook is locked: no data can be changed.")
        if FormRecord.objects.filter(participant=p, key=key, form=form).exists():
            raise ConflictError(f"Form {form} is already entered at {key}.", current={}, version=1)
        record = FormRecord.objects.create(
            participant=p,
            visit=visit,
            key=key,
            form=form,
            data={f.name: None for f in get_form_spec(form).fields},
            derived={**derived, "entry": "derived scores (demo)"},
            confirmed_warnings={},
            created_by=actor,
            updated_by=actor,
        )
        audit_changes(
            actor,
            "create",
            f"form:{form}",
            f"{p.subject_id}/{key}",
            {f"derived.{name}": (None, value) for name, value in derived.items()},
            reason=reason,
            site_code=p.site.code,
            participant=p.subject_id,
        )
        void_signature(actor, p, f"{form} at {key}")
    return record


# -- users -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUsers:
    """The demo's users. Passwords are random, held in memory for e-signatures only (never shown or written)."""

    investigators: Mapping[str, Any]  # site code -> user
    data_manager: Any
    unblinded_statistician: Any
    _passwords: Mapping[str, str] = field(repr=False)

    def password(self, user: Any) -> str:
        return self._passwords[user.username]

    @property
    def usernames(self) -> tuple[str, ...]:
        return (
            *(u.username for u in self.investigators.values()),
            self.data_manager.username,
            self.unblinded_statistician.username,
        )


def create_demo_users(site_codes: list[str]) -> DemoUsers:
    """One investigator per site, a data manager and an unblinded statistician, with random passwords."""
    passwords: dict[str, str] = {}

    def make(username: str, role: str, sites: tuple[str, ...] = ()) -> Any:
        passwords[username] = secrets.token_urlsafe(32)
        return svc.create_user(None, username, passwords[username], role, sites)

    investigators = {code: make(f"demo-investigator-{code}", "investigator", (code,)) for code in site_codes}
    dm = make("demo-data-manager", "data_manager")
    stat = make("demo-unblinded-statistician", "unblinded_statistician")
    return DemoUsers(investigators, dm, stat, passwords)


# -- mapping twin rows to EDC entries ---------------------------------------------------------------


def _weight_for(bmi: float, height_cm: float) -> float:
    """A weight whose BMI, as the EDC computes it (``round(w / h^2, 2)``), is exactly ``bmi``."""
    h2 = (height_cm / 100.0) ** 2
    for digits in (1, 2, 3, 4, 6, 9):
        weight = round(bmi * h2, digits)
        if round(weight / h2, 2) == bmi:
            return weight
    raise WorkflowError(f"No weight gives BMI {bmi} at height {height_cm} cm.")


_PMR_AS_FIELDS = tuple(f.name for f in get_form_spec("pmr_as").fields)
_FLARE_COMPONENTS = ("pain_vas", "physician_global_vas", "morning_stiffness_min", "upper_limb_elevation")


def _whole(value: Any) -> Any:
    """A whole float as an int (the twins hold ``1.0`` where a form's choice field accepts ``1``)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _visit_forms(
    row: Mapping[str, Any], forms: frozenset[str], rescue_start: dt.date | None, kit: str
) -> dict[str, Any]:
    """The visit's labs, PMR-AS, oral glucocorticoid and study-drug forms from its twin row (listed forms only)."""
    out: dict[str, Any] = {
        "labs": {"crp_value": plain(row["crp_mg_l"]), "crp_unit": "mg/L", "esr_mm_h": plain(row.get("esr_mm_h"))},
        "pmr_as": {name: _whole(plain(row.get(name))) for name in _PMR_AS_FIELDS},
    }
    dose = float(row["oral_gc_mg_day"])
    out["oral_gc"] = {
        "on_oral_gc": dose > 0,
        "prednisone_mg_day": dose if dose > 0 else None,
        "rescue_start": rescue_start.isoformat() if dose > 0 and rescue_start else None,
    }
    if "study_drug" in forms:
        out["study_drug"] = {"kit_code": kit}
    return {name: data for name, data in out.items() if name in forms}


def _log_starts(log: pd.DataFrame | None) -> tuple[list[int], list[int]]:
    """(start days of the twin's GC log rows, of its ``rescue`` rows), ascending: what :func:`_rescue_start` reads,
    computed once per participant."""
    if log is None or not len(log):
        return [], []
    starts = [int(d) for d in log["start_day"]]
    reasons = [str(r) for r in log["reason"]] if "reason" in log else [""] * len(starts)
    return sorted(starts), sorted(d for d, r in zip(starts, reasons, strict=True) if r == "rescue")


def _rescue_start(
    starts: tuple[list[int], list[int]], day0: dt.date, visit_date: dt.date, first_dose: dt.date
) -> dt.date:
    """The oral-GC form's rescue start at a visit with a dose (see the module docstring): the first ``rescue`` row of
    the GC log (``starts``: :func:`_log_starts`) on or before the visit, else its first row on or before the visit,
    else ``first_dose`` (the first visit with a dose)."""
    day = (visit_date - day0).days
    all_rows, rescue = starts
    for days in (rescue, all_rows):
        if days and days[0] <= day:
            return day0 + dt.timedelta(days=days[0])
    return first_dose


def _gc_dose_entry(row: Mapping[str, Any], day0: dt.date) -> dict[str, Any]:
    end = plain(row.get("end_day"))
    return {
        "start_date": (day0 + dt.timedelta(days=int(row["start_day"]))).isoformat(),
        "end_date": None if end is None else (day0 + dt.timedelta(days=int(end))).isoformat(),
        "dose_mg_day": float(row["dose_mg_day"]),
        "dose_reason": plain(row.get("reason")) or "other",
    }


def _flare_entry(row: Mapping[str, Any], day0: dt.date, visits: list[dict[str, Any]]) -> dict[str, Any]:
    """A flare assessment: the twin's day and confirmation; the components and CRP of the twin's first visit on or
    after the flare day (the last visit when none follows)."""
    day = int(row["day"])
    after = [v for v in visits if 7 * float(v["week"]) >= day]
    visit = after[0] if after else visits[-1]
    return {
        "assessment_date": (day0 + dt.timedelta(days=day)).isoformat(),
        **{name: _whole(plain(visit[name])) for name in _FLARE_COMPONENTS},
        "crp_value": plain(visit["crp_mg_l"]),
        "crp_unit": "mg/L",
        "confirmed": bool(row["confirmed"]),
    }


@dataclass(frozen=True)
class TwinLoadSummary:
    """What :func:`load_twin` entered."""

    participants: int
    visits: int
    forms: int
    score_forms: int
    adverse_events: int
    confirmed_warnings: int
    subject_ids: Mapping[str, str]  # twin id -> EDC id
    gc_doses: int = 0
    flares: int = 0
    sites: Mapping[str, str] = field(default_factory=dict)  # twin site id -> EDC site code

    def to_dict(self) -> dict[str, Any]:
        return {
            "participants": self.participants,
            "visits": self.visits,
            "forms": self.forms,
            "score_forms": self.score_forms,
            "adverse_events": self.adverse_events,
            "gc_doses": self.gc_doses,
            "flares": self.flares,
            "confirmed_warnings": self.confirmed_warnings,
            "subject_ids": dict(self.subject_ids),
            "sites": dict(self.sites),
        }


def site_codes(twin_sites: Any) -> dict[str, str]:
    """Twin site ids -> the EDC's site codes ``01..N``, in sorted order (``S02`` -> ``02``; BACHELOR's ``01`` stays)."""
    return {str(site): f"{i:02d}" for i, site in enumerate(sorted({str(s) for s in twin_sites}), start=1)}


def _by_subject(frame: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    if frame is None or not len(frame):
        return {}
    return {str(sid): g for sid, g in frame.groupby("subject_id", sort=False)}


def load_twin(
    users: DemoUsers,
    subjects: pd.DataFrame,
    visits: pd.DataFrame,
    adverse_events: pd.DataFrame,
    *,
    gc_doses: pd.DataFrame | None = None,
    flares: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> TwinLoadSummary:
    """Screen, consent, randomise and enter every visit, AE, GC dose row, flare and end of study of the twin
    (one transaction per participant), driven by the study's protocol: its visit schedule and the forms it lists
    at each visit.

    Participants are enrolled site by site in the order of their twin number, so the EDC's numbers
    ``<site>-<nnn>`` sort as the twin's ids do (the mapping is returned).
    """
    report = progress or (lambda _stage, _done, _total: None)
    protocol = svc.get_protocol()
    codes = {v.week: v.code for v in protocol.visits}
    forms_at = {v.code: frozenset(svc.forms_for_visit(v.code)) for v in protocol.visits}
    by_subject = {sid: g.sort_values("week") for sid, g in _by_subject(visits).items()}
    aes_by_subject = _by_subject(adverse_events)
    gc_by_subject = {sid: g.sort_values("start_day", kind="stable") for sid, g in _by_subject(gc_doses).items()}
    flares_by_subject = {sid: g.sort_values("day", kind="stable") for sid, g in _by_subject(flares).items()}
    sites = site_codes(subjects["site_id"])
    ordered = subjects.sort_values(["site_id", "subject_id"]).to_dict("records")
    n_forms = n_scores = n_aes = n_visits = n_warn = n_gc = n_flares = 0
    ids: dict[str, str] = {}
    for i, subject in enumerate(ordered):
        sid = str(subject["subject_id"])
        rows = by_subject[sid].to_dict("records")
        site = sites[str(subject["site_id"])]
        inv = users.investigators[site]
        day0 = _date(subject["randomised_on"])
        log = gc_by_subject.get(sid)
        starts = _log_starts(log)
        with transaction.atomic():
            p = svc.enrol_participant(
                inv,
                site,
                screening_record(subject, rows[0], protocol),
                screened_on=day0,
                consented_on=day0,
                randomised_on=day0,
                demo_arm=str(subject["arm"]),
            )
            if p.status != "randomised":
                raise WorkflowError(f"Twin participant {sid} is not eligible at screening ({p.eligibility_status}).")
            ids[sid] = p.subject_id
            schedule = {v.code: v.target_date for v in Visit.objects.filter(participant=p)}
            first_dose: dt.date | None = None
            rescue: dt.date | None = None
            last_date = day0
            for row in rows:
                code = codes[float(row["week"])]
                visit_date = schedule[code]
                last_date = visit_date
                if float(row["oral_gc_mg_day"]) > 0:
                    first_dose = first_dose or visit_date
                    rescue = _rescue_start(starts, day0, visit_date, first_dose)
                entries: dict[str, Any] = {"visit_info": {"visit_date": visit_date.isoformat()}}
                if code == protocol.visits[0].code:
                    bmi = plain(subject.get("bmi"))
                    if "demographics" in forms_at[code] and bmi is not None:
                        height = _HEIGHT_CM[str(subject["sex"])]
                        entries["demographics"] = {"height_cm": height, "weight_kg": _weight_for(float(bmi), height)}
                    if plain(subject.get("us_synovitis")) is not None:
                        entries["ultrasound"] = {"synovitis": bool(subject["us_synovitis"])}
                elif plain(row.get("us_synovitis")) is not None:
                    entries["ultrasound"] = {"synovitis": bool(row["us_synovitis"])}
                entries.update(_visit_forms(row, forms_at[code], rescue, p.kit_code))
                for form, data in entries.items():
                    rec = svc.save_form(inv, p, code, form, data, confirm_warnings=True)
                    n_warn += len(rec.confirmed_warnings)
                    n_forms += 1
                for form, names in DEMO_SCORES.items():
                    values = {name: plain(row.get(name)) for name in names}
                    if form in forms_at[code] and all(v is not None for v in values.values()):
                        save_demo_scores(inv, p, code, form, values)
                        n_scores += 1
                n_visits += 1
            for dose in [] if log is None else log.to_dict("records"):
                rec = svc.add_gc_dose(inv, p, _gc_dose_entry(dose, day0), confirm_warnings=True)
                n_warn += len(rec.confirmed_warnings)
                n_gc += 1
            flare_rows = flares_by_subject.get(sid)
            for flare in [] if flare_rows is None else flare_rows.to_dict("records"):
                rec = svc.add_flare(inv, p, _flare_entry(flare, day0, rows), confirm_warnings=True)
                n_warn += len(rec.confirmed_warnings)
                n_flares += 1
            ae_rows = aes_by_subject.get(sid)
            for ae in [] if ae_rows is None else ae_rows.to_dict("records"):
                serious = bool(ae["serious"])
                rec = svc.add_adverse_event(
                    inv,
                    p,
                    {
                        "soc": ae["soc"],
                        "term": ae["term"],
                        "serious": serious,
                        "serious_criterion": DEMO_SERIOUS_CRITERION if serious else None,
                        "severity": ae["severity"],
                        "relatedness": DEMO_AE_RELATEDNESS,
                        "onset_date": (day0 + dt.timedelta(days=round(float(ae["onset_week"]) * 7))).isoformat(),
                        "outcome": str(ae["outcome"]).strip().lower().replace(" ", "_"),
                    },
                    confirm_warnings=True,
                )
                n_warn += len(rec.confirmed_warnings)
                n_aes += 1
            status = str(subject["status"])
            svc.save_form(
                inv,
                p,
                "EOS",
                "end_of_study",
                {
                    "status": status,
                    "end_date": last_date.isoformat(),
                    "reason": DEMO_EOS_REASON if status != "completed" else None,
                },
            )
            n_forms += 1
        report("enrol", i + 1, len(ordered))
    return TwinLoadSummary(len(ordered), n_visits, n_forms, n_scores, n_aes, n_warn, ids, n_gc, n_flares, sites)


def sign_and_lock(users: DemoUsers, *, progress: Progress | None = None) -> None:
    """Each site's investigator e-signs each casebook (password re-entered); the data manager locks
    every casebook, then the database."""
    report = progress or (lambda _stage, _done, _total: None)
    participants = list(Participant.objects.select_related("site").filter(randomised_on__isnull=False))
    for i, p in enumerate(participants):
        inv = users.investigators[p.site.code]
        # Demo only: the exceptions are confirmed as listed (they are stored with the signature).
        svc.sign_casebook(inv, p, users.password(inv), confirm_exceptions=svc.signature_exceptions(p))
        svc.lock_participant(users.data_manager, p)
        report("sign", i + 1, len(participants))
    svc.lock_database(users.data_manager)
