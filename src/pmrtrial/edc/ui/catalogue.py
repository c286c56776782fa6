"""The English msgids the UI translates at run time (form specs, instruments, statuses, roles, protocol labels).

``makemessages`` finds the strings written in templates and in ``gettext`` calls; these are data, so this
function lists them for the French completeness test (``tests/edc/test_french.py``) and for whoever
updates the catalogue.
"""

from __future__ import annotations

from pmrtrial.edc.accounts.models import ROLES
from pmrtrial.edc.crfs.form_specs import FORMS
from pmrtrial.edc.queries.models import Query
from pmrtrial.edc.queries.services import QUERY_LOCKED_MESSAGES
from pmrtrial.edc.screening.models import STATUSES
from pmrtrial.edc.ui.labels import FORM_TABLES, MESSAGE_PATTERNS
from pmrtrial.protocol import Protocol

__all__ = ["SERVICE_MESSAGES", "dynamic_msgids"]

#: Words computed by services and shown as they are.
_SERVICE_WORDS = ("low", "moderate", "high", "remission", "female", "male")

#: Fixed messages of the service layer the UI shows (translated by the views with ``gettext``).
SERVICE_MESSAGES = (
    "A casebook can be signed only after randomisation.",
    "A reason for change is required after first entry.",
    "Adverse events are recorded for randomised participants.",
    "Consent must be recorded before randomisation.",
    "Eligibility cannot be decided: answer every criterion.",
    "Give the clinical reason for emergency unblinding (at least 10 characters).",
    "No such form record.",
    "No such participant.",
    "No such query.",
    "No such unblinding request.",
    "Only a randomised participant can be unblinded.",
    "Randomisation slot already taken; retry.",
    "The database is locked.",
    "The database is locked: no data can be changed.",
    "The requester cannot approve their own request.",
    "This form is locked: no data can be changed.",
    "This form was deleted or never saved; reload it.",
    "This participant is already randomised.",
    "This participant is not randomised.",
    "This participant's casebook is locked: no data can be changed.",
    "This query is already closed.",
    "This query is already open.",
    "This query is closed.",
    "Tick the confirmation box to randomise.",
    "Tick the confirmation box to sign.",
    "Unknown action.",
    "Unlocking requires a reason.",
    "Visit forms can be entered after randomisation.",
    "Write the answer.",
    "Write the query.",
    "You raised this query: someone at the site answers it.",
    *QUERY_LOCKED_MESSAGES.values(),
    # form validation (pmrtrial.edc.crfs.form_validators, pmrtrial.edc.screening.form_validators)
    "A dose is entered but the participant is not on oral glucocorticoid.",
    "A fatal adverse event is serious.",
    "A prednisone dose above 40 mg/day is unusual in PMR: please confirm.",
    "A seriousness criterion is selected but the event is not serious.",
    "Adherence below 80%: please confirm.",
    "Answer yes or no.",
    "At most 500 characters.",
    "CRP above 300 mg/L is unusual: check the value and its unit.",
    "ESR above 120 mm/h is unusual: please confirm.",
    "Enter a date as YYYY-MM-DD.",
    "Enter a finite number.",
    "Enter a number.",
    "Enter a whole number.",
    "Enter the daily prednisone dose (the participant is on oral glucocorticoid).",
    "Enter the date rescue glucocorticoid was started.",
    "Give the reason for withdrawal or loss to follow-up.",
    "Leave empty when no injection was given.",
    "More tablets returned than dispensed.",
    "Morning stiffness over 12 hours is unusual: please confirm.",
    "Required when an injection was given.",
    "Rescue cannot start before randomisation.",
    "SF-36 summary scores not computed: too many items missing.",
    "Select the seriousness criterion of a serious adverse event.",
    "The end date is before randomisation.",
    "The event is recovered but has no resolution date: please confirm.",
    "The onset date is in the future.",
    "The rescue stop date is before the start date.",
    "The resolution date is before the onset date.",
    "The visit date is before the randomisation date.",
    "The visit date is in the future.",
    "This field is required.",
    "This kit code is not the participant's allocated kit.",
    "Unknown screening field.",
)


def dynamic_msgids(protocols: tuple[Protocol, ...] = ()) -> set[str]:
    """Every msgid the UI passes to gettext from data, for the forms and the given protocols."""
    out: set[str] = set(_SERVICE_WORDS) | set(SERVICE_MESSAGES) | {msgid for _p, msgid in MESSAGE_PATTERNS}
    from pmrtrial.vocabulary import get_variable

    for spec in FORMS.values():
        out.add(spec.title)
        for f in spec.fields:
            if f.group:
                out.add(f.group)
            try:  # a canonical variable's words come from the vocabulary
                var = get_variable(f.name, FORM_TABLES.get(spec.name, "visits"))
            except KeyError:
                var = None
            if var is None:
                out.add(f.label)
            levels = set(var.levels or ()) if var is not None else set()
            out.update(label for code, label in f.choices if code not in levels)
    out.update(label for _code, label in (*STATUSES, *ROLES, *Query.STATES))
    for protocol in protocols:
        for field in protocol.eligibility.fields:
            if not field.label_fr:
                out.add(field.label)
            out.update(field.allowed or ())
        out.update(d.label for d in protocol.eligibility.derived if not d.label_fr)
    return {m for m in out if m and not m.replace(".", "").replace(" ", "").isdigit()}
