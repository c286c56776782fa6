"""Where the UI's words come from, in one place.

1. Canonical dataset variables take their label (and level labels) from the variable vocabulary
   (:mod:`pmrtrial.vocabulary`, labels ``{en, fr}``).
2. Words that exist only in a protocol (screening fields, criteria) take the protocol's ``label: {en, fr}``.
3. Everything else is an English msgid translated by the gettext catalogue (``edc/locale``).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

__all__ = [
    "FORM_TABLES",
    "MESSAGE_PATTERNS",
    "form_field_words",
    "localised",
    "protocol_label",
    "translate_message",
    "variable_label",
]


def _lang() -> str:
    return (get_language() or "en")[:2]


#: The canonical table a form's fields belong to (the others record visit-level variables).
FORM_TABLES = {"adverse_event": "adverse_events", "end_of_study": "subjects"}


def _variable(name: str, table: str | None = None) -> Any:
    from pmrtrial import vocabulary

    try:
        return vocabulary.get_variable(name, table)
    except KeyError:  # not a canonical variable (of that table)
        return None


def variable_label(name: str, table: str | None = None) -> str | None:
    """The vocabulary's label of a canonical variable in the active language, or None if it is not declared."""
    var = _variable(name, table)
    return var.label(_lang()) if var is not None else None


def form_field_words(form: str, field: Any) -> tuple[str, list[tuple[str, str]]]:
    """A form field's label and ``(code, label)`` choices in the active language.

    A canonical variable's come from the vocabulary; an entry-only field's from the catalogue.
    """
    var = _variable(field.name, FORM_TABLES.get(form, "visits"))
    if var is None:
        return _(field.label), [(str(c), _(lbl)) for c, lbl in field.choices]
    levels = set(var.levels or ())
    choices = [(str(c), var.level_label(c, _lang()) if c in levels else _(lbl)) for c, lbl in field.choices]
    return var.label(_lang()), choices


def localised(en: str, fr: str | None) -> str:
    """``fr`` in French when the protocol gives it, else the catalogue's translation of ``en``."""
    if _lang() == "fr" and fr:
        return fr
    return _(en) if en else en


def protocol_label(item: Any, name: str | None = None) -> str:
    """A protocol object's label: the vocabulary's for a canonical variable, else the protocol's own ``{en, fr}``."""
    if name is not None:
        found = variable_label(name)
        if found:
            return found
    return localised(getattr(item, "label", "") or "", getattr(item, "label_fr", None))


#: Validation messages with values in them: (pattern, msgid with named placeholders). The msgid is translated,
#: then filled with the matched values, so French lives in the catalogue like every other string.
MESSAGE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Enter a value between (?P<lo>\S+) and (?P<hi>\S+)\."), "Enter a value between %(lo)s and %(hi)s."),
    (re.compile(r"Select one of: (?P<codes>.+)\."), "Select one of: %(codes)s."),
    (
        re.compile(r"The visit date must be after the previous visit \((?P<date>[0-9-]+)\)\."),
        "The visit date must be after the previous visit (%(date)s).",
    ),
    (
        re.compile(r"Outside the visit window (?P<start>[0-9-]+) to (?P<end>[0-9-]+) \(protocol deviation\)\."),
        "Outside the visit window %(start)s to %(end)s (protocol deviation).",
    ),
    (
        re.compile(r"BMI (?P<bmi>[0-9.]+) kg/m² is unusual: check height and weight\."),
        "BMI %(bmi)s kg/m² is unusual: check height and weight.",
    ),
    (re.compile(r"Required to decide criterion (?P<id>\S+)"), "Required to decide criterion %(id)s"),
    (
        re.compile(r"Your role does not allow '(?P<action>[^']+)' at site (?P<site>\S+)\."),
        "Your role does not allow '%(action)s' at site %(site)s.",
    ),
    (re.compile(r"Your role does not allow '(?P<action>[^']+)'\."), "Your role does not allow '%(action)s'."),
    (
        re.compile(
            r"Shoulder injections are permitted at weeks (?P<weeks>.+) only: this one will be recorded as a "
            r"protocol deviation\."
        ),
        "Shoulder injections are permitted at weeks %(weeks)s only: this one will be recorded as a protocol deviation.",
    ),
)


def translate_message(message: str) -> str:
    """A service or validation message in the active language (fixed text, or one of :data:`MESSAGE_PATTERNS`)."""
    translated = _(message)
    if translated != message or _lang() == "en":
        return translated
    for pattern, msgid in MESSAGE_PATTERNS:
        m = pattern.fullmatch(message)
        if m:
            return _(msgid) % m.groupdict()
    return message
