"""Where the UI's words come from, in one place.

1. Canonical dataset variables take their label from the variable vocabulary (``pmrtrial.vocabulary``,
   labels ``{en, fr}``) when it declares the name.
2. Words that exist only in a protocol (screening fields, criteria) take the protocol's ``label: {en, fr}``.
3. Everything else is an English msgid translated by the gettext catalogue (``edc/locale``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

__all__ = ["localised", "protocol_label", "variable_label"]


def _lang() -> str:
    return (get_language() or "en")[:2]


def variable_label(name: str) -> str | None:
    """The vocabulary's label of a canonical variable in the active language, or None if it is not declared."""
    try:
        from pmrtrial import vocabulary  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        return None
    lookup = getattr(vocabulary, "get_variable", None)
    try:
        var = lookup(name) if lookup is not None else getattr(vocabulary, "VARIABLES", {}).get(name)
    except Exception:  # an unknown name: not a vocabulary variable
        return None
    label = getattr(var, "label", None) if var is not None else None
    if isinstance(label, dict):
        return str(label.get(_lang()) or label.get("en") or "") or None
    if label is not None and hasattr(label, _lang()):
        return str(getattr(label, _lang()))
    return None


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
