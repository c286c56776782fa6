"""The eligibility engine: screen a candidate record against a protocol's criteria."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pmrtrial._validate import as_float_array
from pmrtrial.exceptions import ScoreInputError
from pmrtrial.protocol.derived import DERIVATIONS
from pmrtrial.protocol.model import Criterion, FieldSpec, Protocol
from pmrtrial.protocol.predicates import evaluate_predicate, iter_comparisons

__all__ = ["CriterionOutcome", "EligibilityResult", "screen_candidate", "validate_candidate"]

#: Keys a candidate record may carry besides the protocol's fields.
META_KEYS = frozenset({"id", "candidate_id", "label", "description", "note", "site_id"})

Status = Literal["eligible", "not_eligible", "incomplete"]
Outcome = Literal["met", "not_met", "unknown"]


@dataclass(frozen=True)
class CriterionOutcome:
    """How one criterion came out for a candidate."""

    id: str
    kind: Literal["inclusion", "exclusion"]
    source_text: str
    source_ref: str
    rule: str
    outcome: Outcome
    values: dict[str, Any]

    @property
    def failed(self) -> bool:
        return self.outcome == "not_met"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "source_text": self.source_text,
            "source_ref": self.source_ref,
            "rule": self.rule,
            "outcome": self.outcome,
            "values": dict(self.values),
        }


@dataclass(frozen=True)
class EligibilityResult:
    """Result of :func:`screen_candidate`.

    ``status`` is ``"not_eligible"`` when any criterion fails, otherwise ``"incomplete"`` when
    any criterion cannot be answered, otherwise ``"eligible"``.
    """

    status: Status
    protocol_id: str
    protocol_version: str
    outcomes: tuple[CriterionOutcome, ...]
    derived: dict[str, Any] = field(default_factory=dict)
    candidate_id: str | None = None

    @property
    def failed(self) -> tuple[CriterionOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome == "not_met")

    @property
    def unanswered(self) -> tuple[CriterionOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome == "unknown")

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate_id": self.candidate_id,
            "protocol": {"id": self.protocol_id, "version": self.protocol_version},
            "status": self.status,
            "derived": dict(self.derived),
            "failed": [o.to_dict() for o in self.failed],
            "unanswered": [o.to_dict() for o in self.unanswered],
            "criteria": [o.to_dict() for o in self.outcomes],
        }


def _validate_field(spec: FieldSpec, value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value
        raise ScoreInputError(spec.name, value, "true or false (or null if unknown)")
    if spec.type == "category":
        allowed = spec.allowed or ()
        if isinstance(value, str) and value in allowed:
            return value
        raise ScoreInputError(spec.name, value, "one of " + ", ".join(repr(a) for a in allowed))
    number = as_float_array(value, field=spec.name, lo=spec.min, hi=spec.max, integer=spec.type == "integer").reshape(
        -1
    )
    if number.size != 1:
        raise ScoreInputError(spec.name, value, "a single number")
    result = float(number[0])
    return int(result) if spec.type == "integer" else result


def validate_candidate(protocol: Protocol, candidate: Mapping[str, Any]) -> dict[str, Any]:
    """Check a candidate record against the protocol's typed fields.

    Returns the validated values (every protocol field present; None where missing). Raises
    :class:`ScoreInputError` for an unknown field (a typo would otherwise read as "missing"), a
    wrong type, or a value out of range, naming the field, the value and what is accepted.
    """
    if not isinstance(candidate, Mapping):
        raise ScoreInputError("candidate", type(candidate).__name__, "a mapping of field names to values")
    specs = {f.name: f for f in protocol.eligibility.fields}
    unknown = sorted(k for k in candidate if k not in specs and k not in META_KEYS)
    if unknown:
        raise ScoreInputError(
            "candidate field",
            unknown[0],
            "one of the protocol's fields: " + ", ".join(sorted(specs)),
            suggestion="check the spelling; run `pmrtrial protocol show` to list the fields.",
        )
    return {name: _validate_field(spec, candidate.get(name)) for name, spec in specs.items()}


def _evaluate(
    criterion: Criterion, kind: Literal["inclusion", "exclusion"], values: Mapping[str, Any]
) -> CriterionOutcome:
    holds = evaluate_predicate(criterion.rule, values)
    if holds is None:
        outcome: Outcome = "unknown"
    elif kind == "inclusion":
        outcome = "met" if holds else "not_met"
    else:
        outcome = "not_met" if holds else "met"
    used = {c.var: values.get(c.var) for c in iter_comparisons(criterion.rule)}
    return CriterionOutcome(
        id=criterion.id,
        kind=kind,
        source_text=criterion.source_text,
        source_ref=criterion.source_ref,
        rule=criterion.rule.describe() if kind == "inclusion" else "exclude if " + criterion.rule.describe(),
        outcome=outcome,
        values=used,
    )


def screen_candidate(protocol: Protocol, candidate: Mapping[str, Any]) -> EligibilityResult:
    """Evaluate every inclusion and exclusion criterion of ``protocol`` for ``candidate``.

    Parameters
    ----------
    protocol : Protocol
        A validated protocol (see :func:`pmrtrial.protocol.load_protocol`).
    candidate : mapping
        Field name -> value. Fields are typed by the protocol (``pmrtrial protocol show`` lists
        them); a missing field is None, which makes any criterion that needs it "unknown".

    Returns
    -------
    EligibilityResult
        eligible / not eligible / incomplete, with every failed or unanswerable criterion, its id,
        its verbatim source text and the values it was evaluated on.
    """
    values = validate_candidate(protocol, candidate)
    derived: dict[str, Any] = {}
    for d in protocol.eligibility.derived:
        derived[d.name] = DERIVATIONS[d.function].compute(values, protocol.parameters)
    merged = {**values, **derived}
    outcomes = tuple(
        [_evaluate(c, "inclusion", merged) for c in protocol.eligibility.inclusion]
        + [_evaluate(c, "exclusion", merged) for c in protocol.eligibility.exclusion]
    )
    if any(o.outcome == "not_met" for o in outcomes):
        status: Status = "not_eligible"
    elif any(o.outcome == "unknown" for o in outcomes):
        status = "incomplete"
    else:
        status = "eligible"
    cid = candidate.get("candidate_id", candidate.get("id"))
    return EligibilityResult(
        status=status,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        outcomes=outcomes,
        derived=derived,
        candidate_id=None if cid is None else str(cid),
    )
