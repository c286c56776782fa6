"""Typing the screening form (HTML strings or API values) by the protocol's eligibility fields (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmrtrial.exceptions import ScoreInputError
from pmrtrial.protocol import Protocol, validate_candidate

__all__ = ["parse_candidate"]

_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


def parse_candidate(protocol: Protocol, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (typed values, field errors). Empty answers are None (unknown)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    specs = {f.name: f for f in protocol.eligibility.fields}
    for key in raw:
        if key not in specs:
            errors[key] = "Unknown screening field."
    for name, spec in specs.items():
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            values[name] = None
            continue
        if isinstance(value, str):
            text = value.strip()
            if spec.type == "boolean":
                if text.lower() in _TRUE:
                    value = True
                elif text.lower() in _FALSE:
                    value = False
                else:
                    errors[name] = "Answer yes or no."
                    continue
            elif spec.type in ("number", "integer"):
                try:
                    value = float(text.replace(",", "."))
                except ValueError:
                    errors[name] = "Enter a number."
                    continue
        values[name] = value
    if not errors:
        try:
            values = validate_candidate(protocol, values)
        except ScoreInputError as exc:
            errors[exc.field] = f"Expected {exc.expected}. Got {exc.value!r}."
    return values, errors
