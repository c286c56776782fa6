"""Where the UI's words come from, in one place.

1. Canonical dataset variables take their label (and level labels) from the variable vocabulary
   (:mod:`pmrtrial.vocabulary`, labels ``{en, fr}``).
2. Words that exist only in a protocol (screening fields, criteria) take the protocol's ``label: {en, fr}``.
3. Everything else is an English msgid translated by the gettext catalogue (``edc/locale``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

__all__ = ["FORM_TABLES", "form_field_words", "localised", "protocol_label", "variable_label"]


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
