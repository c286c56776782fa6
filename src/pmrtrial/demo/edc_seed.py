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

What the twin does not hold, and what the demo enters instead (all visible in the audit trail):

- screening items the twin lacks are answered so that the 2012 EULAR/ACR criteria and the protocol's
  rules can be decided (bilateral shoulder aching and hip pain yes; RF/ACPA, other joints,
  glucocorticoid in the last 2 weeks and every exclusion no; ultrasound findings = ``us_synovitis``);
  baseline CRP, ESR and PMR-AS components are the twin's week-0 values;
- screening, consent and randomisation happen on the twin's randomisation date; visits on their
  protocol target dates;
- height is a fixed 160 cm (women) / 170 cm (men) and weight is chosen so that the EDC's BMI
  (rounded to 0.01) equals the twin's;
- oral glucocorticoid: the rescue start date is the first visit at which the twin records a dose;
- adverse events: onset date = randomisation + 7 x onset week; the twin has no relatedness, no
  seriousness criterion and no resolution date, so relatedness is ``possible``
  (:data:`DEMO_AE_RELATEDNESS`), serious events get ``important_medical_event``
  (:data:`DEMO_SERIOUS_CRITERION`) and the resolution date is left empty (the EDC's warning about a
  recovered event without a resolution date is confirmed);
- end of study: the date of the last visit the twin holds; a withdrawal or loss has the reason
  :data:`DEMO_EOS_REASON`.
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
    study = svc.get_study()
    if not study.demo:
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
        if svc.get_study().locked:
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


def _visit_forms(row: Mapping[str, Any], forms: list[str], rescue_start: dt.date | None, kit: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "labs": {"crp_value": plain(row["crp_mg_l"]), "crp_unit": "mg/L", "esr_mm_h": plain(row["esr_mm_h"])},
        "pmr_as": {
            name: plain(row[name])
            for name in (
                "pain_vas",
                "patient_global_vas",
                "fatigue_vas",
                "physician_global_vas",
                "morning_stiffness_min",
                "upper_limb_elevation",
            )
        },
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "participants": self.participants,
            "visits": self.visits,
            "forms": self.forms,
            "score_forms": self.score_forms,
            "adverse_events": self.adverse_events,
            "confirmed_warnings": self.confirmed_warnings,
            "subject_ids": dict(self.subject_ids),
        }


def load_twin(
    users: DemoUsers,
    subjects: pd.DataFrame,
    visits: pd.DataFrame,
    adverse_events: pd.DataFrame,
    *,
    progress: Progress | None = None,
) -> TwinLoadSummary:
    """Screen, consent, randomise and enter every visit, AE and end of study of the twin (one transaction each).

    Participants are enrolled site by site in the order of their twin number, so the EDC numbers
    them ``<site>-<nnn>`` like the twin (checked).
    """
    report = progress or (lambda _stage, _done, _total: None)
    protocol = svc.get_protocol()
    codes = {v.week: v.code for v in protocol.visits}
    forms_at = {v.code: svc.forms_for_visit(v.code) for v in protocol.visits}
    by_subject = {sid: g.sort_values("week") for sid, g in visits.groupby("subject_id", sort=False)}
    aes_by_subject = {sid: g for sid, g in adverse_events.groupby("subject_id", sort=False)}
    ordered = subjects.sort_values(["site_id", "subject_id"]).to_dict("records")
    n_forms = n_scores = n_aes = n_visits = n_warn = 0
    ids: dict[str, str] = {}
    for i, subject in enumerate(ordered):
        sid = str(subject["subject_id"])
        rows = by_subject[sid].to_dict("records")
        inv = users.investigators[str(subject["site_id"])]
        day0 = _date(subject["randomised_on"])
        with transaction.atomic():
            p = svc.enrol_participant(
                inv,
                str(subject["site_id"]),
                screening_record(subject, rows[0]),
                screened_on=day0,
                consented_on=day0,
                randomised_on=day0,
                demo_arm=str(subject["arm"]),
            )
            if p.status != "randomised":
                raise WorkflowError(f"Twin participant {sid} is not eligible at screening ({p.eligibility_status}).")
            if p.subject_id != edc_subject_id(sid):
                raise WorkflowError(f"Twin participant {sid} was numbered {p.subject_id} by the EDC.")
            ids[sid] = p.subject_id
            schedule = {v.code: v.target_date for v in Visit.objects.filter(participant=p)}
            rescue: dt.date | None = None
            last_date = day0
            for row in rows:
                code = codes[float(row["week"])]
                visit_date = schedule[code]
                last_date = visit_date
                if rescue is None and float(row["oral_gc_mg_day"]) > 0:
                    rescue = visit_date
                entries: dict[str, Any] = {"visit_info": {"visit_date": visit_date.isoformat()}}
                if code == protocol.visits[0].code:
                    height = _HEIGHT_CM[str(subject["sex"])]
                    entries["demographics"] = {
                        "height_cm": height,
                        "weight_kg": _weight_for(float(subject["bmi"]), height),
                    }
                    entries["ultrasound"] = {"synovitis": bool(subject["us_synovitis"])}
                elif "us_synovitis" in row and not pd.isna(row["us_synovitis"]):
                    entries["ultrasound"] = {"synovitis": bool(row["us_synovitis"])}
                entries.update(_visit_forms(row, forms_at[code], rescue, p.kit_code))
                for form, data in entries.items():
                    rec = svc.save_form(inv, p, code, form, data, confirm_warnings=True)
                    n_warn += len(rec.confirmed_warnings)
                    n_forms += 1
                for form, names in DEMO_SCORES.items():
                    values = {name: plain(row[name]) for name in names}
                    if form in forms_at[code] and all(v is not None for v in values.values()):
                        save_demo_scores(inv, p, code, form, values)
                        n_scores += 1
                n_visits += 1
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
    return TwinLoadSummary(len(ordered), n_visits, n_forms, n_scores, n_aes, n_warn, ids)


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
