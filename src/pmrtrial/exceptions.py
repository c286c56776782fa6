"""Errors and warnings raised by pmrtrial.

The tree::

    PmrTrialError
     ├── ScoreInputError (also ValueError)   bad argument to a score, criterion or candidate field
     ├── UnitError (also ValueError)         unknown or unsupported unit
     ├── ProtocolError
     │    └── ProtocolValidationError        a protocol failed ``validate_protocol``
     ├── DataError (also ValueError)         a dataset failed validation
     │    ├── MissingColumnError
     │    └── DuplicateRecordError
     └── EstimationError                     a statistical fit could not produce an estimate
          └── ConvergenceError

    PmrTrialWarning (UserWarning)
     ├── StatisticalWarning                  a caveat about a result (fallback used, few clusters...)
     └── ConvergenceWarning

Messages follow one template: ``Invalid {what}. Expected {expected}. Got {got!r}.`` plus a
suggestion when one exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "DuplicateRecordError",
    "EstimationError",
    "MissingColumnError",
    "PmrTrialError",
    "PmrTrialWarning",
    "ProtocolError",
    "ProtocolValidationError",
    "ScoreInputError",
    "StatisticalWarning",
    "UnitError",
]


class PmrTrialError(Exception):
    """Base class of every error pmrtrial raises on purpose."""


class ScoreInputError(PmrTrialError, ValueError):
    """An input to a score, criterion or candidate field is out of range or of the wrong type.

    Attributes
    ----------
    field : str
        Name of the argument or field, e.g. ``"pain_vas"``.
    value : object
        The offending value (for arrays, the first offending element).
    expected : str
        What is accepted, e.g. ``"a number in [0, 10]"``.
    """

    def __init__(self, field: str, value: Any, expected: str, *, suggestion: str | None = None) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        message = f"Invalid {field}. Expected {expected}. Got {value!r}."
        if suggestion:
            message += f" Suggestion: {suggestion}"
        super().__init__(message)


class UnitError(PmrTrialError, ValueError):
    """A unit is unknown or not supported for a quantity."""

    def __init__(self, quantity: str, unit: Any, accepted: Sequence[str]) -> None:
        self.quantity = quantity
        self.unit = unit
        self.accepted = tuple(accepted)
        super().__init__(f"Invalid unit for {quantity}. Expected one of {', '.join(self.accepted)}. Got {unit!r}.")


class ProtocolError(PmrTrialError):
    """A protocol cannot be found, parsed or used."""


class ProtocolValidationError(ProtocolError, ValueError):
    """A protocol failed :func:`pmrtrial.protocol.validate_protocol`; ``issues`` lists why."""

    def __init__(self, protocol_id: str, issues: Sequence[Any]) -> None:
        self.protocol_id = protocol_id
        self.issues = list(issues)
        first = "; ".join(str(i) for i in self.issues[:3])
        more = f" (+{len(self.issues) - 3} more)" if len(self.issues) > 3 else ""
        super().__init__(f"Protocol {protocol_id!r} failed validation: {first}{more}")


class DataError(PmrTrialError, ValueError):
    """A dataset failed validation. The message names the file, row, column and value when known."""


class MissingColumnError(DataError):
    """A required column is absent."""


class DuplicateRecordError(DataError):
    """Two records share a key that must be unique."""


class EstimationError(PmrTrialError):
    """A statistical estimate could not be produced."""


class ConvergenceError(EstimationError):
    """An iterative fit did not converge."""


class PmrTrialWarning(UserWarning):
    """Base class of pmrtrial warnings."""


class StatisticalWarning(PmrTrialWarning):
    """A statistical caveat: a fallback method was used, few clusters, sparse cells..."""


class ConvergenceWarning(PmrTrialWarning):
    """An iterative fit reached its limit or ended at a boundary."""
