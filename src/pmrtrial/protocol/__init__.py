"""Protocols as data: schema, validation, loading and the eligibility engine."""

from __future__ import annotations

from pmrtrial.protocol.eligibility import CriterionOutcome, EligibilityResult, screen_candidate, validate_candidate
from pmrtrial.protocol.model import (
    Arm,
    Criterion,
    DoseSegment,
    Endpoint,
    FieldSpec,
    Protocol,
    Visit,
)
from pmrtrial.protocol.predicates import Predicate, evaluate_predicate, parse_predicate
from pmrtrial.protocol.registry import (
    ProtocolRegistry,
    list_protocols,
    load_example_candidates,
    load_protocol,
    parse_protocol,
)
from pmrtrial.protocol.validate import ProtocolIssue, validate_protocol

__all__ = [
    "Arm",
    "Criterion",
    "CriterionOutcome",
    "DoseSegment",
    "EligibilityResult",
    "Endpoint",
    "FieldSpec",
    "Predicate",
    "Protocol",
    "ProtocolIssue",
    "ProtocolRegistry",
    "Visit",
    "evaluate_predicate",
    "list_protocols",
    "load_example_candidates",
    "load_protocol",
    "parse_predicate",
    "parse_protocol",
    "screen_candidate",
    "validate_candidate",
    "validate_protocol",
]
