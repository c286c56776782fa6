"""The protocol schema: a parallel-group trial as validated, versioned data.

Every rule keeps its verbatim source text (``source_text``) and where it comes from
(``source_ref``) beside its machine form. Instances are YAML files, one per protocol version; an
amendment is a new file with a new ``version``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pmrtrial.protocol.predicates import Predicate

__all__ = [
    "Arm",
    "Criterion",
    "DerivedField",
    "DoseSegment",
    "Eligibility",
    "Endpoint",
    "FieldSpec",
    "InjectionRule",
    "Parameters",
    "Population",
    "Protocol",
    "Randomisation",
    "RescueRule",
    "SampleSize",
    "Visit",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Sourced(_Frozen):
    """Mixin: verbatim source text and its reference."""

    source_text: str = Field(min_length=1)
    source_ref: str = Field(min_length=1)


class FieldSpec(_Frozen):
    """A typed candidate field used by eligibility rules."""

    name: str
    type: Literal["number", "integer", "boolean", "category"]
    label: str
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None


class DerivedField(_Frozen):
    """A field computed from candidate fields by a named pmrtrial function."""

    name: str
    function: str
    label: str


class DoseSegment(_Frozen):
    """Study-drug dose over ``[from_week, to_week)``."""

    from_week: float
    to_week: float
    drug: str
    dose_mg_day: float = Field(ge=0)


class Arm(Sourced):
    id: str
    label: str
    is_control: bool = False
    dosing: tuple[DoseSegment, ...]


class Visit(_Frozen):
    """A scheduled visit; the window is [day - window_before_days, day + window_after_days]."""

    code: str
    week: float
    day: int
    window_before_days: int = Field(ge=0)
    window_after_days: int = Field(ge=0)
    label: str
    phase: Literal["screening", "baseline", "treatment", "follow_up"]
    forms: tuple[str, ...] = ()


class Criterion(Sourced):
    """An eligibility criterion. For inclusion the rule must hold; for exclusion it must not."""

    id: str
    rule: Predicate


class Eligibility(_Frozen):
    fields: tuple[FieldSpec, ...]
    derived: tuple[DerivedField, ...] = ()
    inclusion: tuple[Criterion, ...]
    exclusion: tuple[Criterion, ...]


class Endpoint(Sourced):
    """An endpoint: a binary definition (predicate) or a continuous variable, at named visits."""

    id: str
    label: str
    role: Literal["primary", "secondary"]
    type: Literal["binary", "continuous"]
    visits: tuple[str, ...]
    variable: str | None = None
    definition: Predicate | None = None
    population: str
    analysis: tuple[str, ...] = ()
    unit: str | None = None


class RescueRule(Sourced):
    id: str
    drug: str
    route: Literal["oral"]
    consequence: Literal["non_responder_at_visit"]
    variable: str


class InjectionRule(Sourced):
    id: str
    site: str
    agents: tuple[str, ...]
    allowed_weeks: tuple[float, ...]


class Population(_Frozen):
    id: str
    label: str
    definition: str


class Randomisation(Sourced):
    ratio: dict[str, int]
    stratify_by: tuple[str, ...] = ()
    method: Literal["permuted_blocks"] = "permuted_blocks"
    block_sizes: tuple[int, ...] = (2, 4)


class Parameters(_Frozen):
    crp_upper_limit_mg_l: float = 5.0
    pmr_as_patient_vas: Literal["pain_vas", "patient_global_vas"] = "pain_vas"
    eq5d_value_set: str | None = None


class SampleSize(Sourced):
    p_control: float
    p_treated: float
    alpha_two_sided: float
    power: float
    n_per_group: int


class Protocol(_Frozen):
    """A parallel-group trial protocol (see README, "Protocols as data")."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: str
    title: str
    short_title: str
    citation: str
    registration: str | None = None
    design: str
    arms: tuple[Arm, ...]
    visits: tuple[Visit, ...]
    eligibility: Eligibility
    endpoints: tuple[Endpoint, ...]
    rescue: tuple[RescueRule, ...] = ()
    permitted_injections: tuple[InjectionRule, ...] = ()
    populations: tuple[Population, ...]
    randomisation: Randomisation
    parameters: Parameters = Parameters()
    sample_size: SampleSize | None = None
    notes: tuple[str, ...] = ()

    # -- lookups (get_ prefix, style 8.2) ------------------------------------------------------
    def get_visit(self, code: str) -> Visit:
        for visit in self.visits:
            if visit.code == code:
                return visit
        raise KeyError(f"Unknown visit {code!r}. Expected one of {[v.code for v in self.visits]}.")

    def get_visit_by_week(self, week: float) -> Visit:
        for visit in self.visits:
            if visit.week == week:
                return visit
        raise KeyError(f"No visit at week {week!r}. Scheduled weeks: {[v.week for v in self.visits]}.")

    def get_arm(self, arm_id: str) -> Arm:
        for arm in self.arms:
            if arm.id == arm_id:
                return arm
        raise KeyError(f"Unknown arm {arm_id!r}. Expected one of {[a.id for a in self.arms]}.")

    def get_endpoint(self, endpoint_id: str) -> Endpoint:
        for endpoint in self.endpoints:
            if endpoint.id == endpoint_id:
                return endpoint
        raise KeyError(f"Unknown endpoint {endpoint_id!r}.")

    @property
    def primary_endpoint(self) -> Endpoint:
        return next(e for e in self.endpoints if e.role == "primary")

    def dose_at_week(self, arm_id: str, week: float) -> tuple[str, float] | None:
        """(drug, mg/day) of ``arm_id`` at ``week``, or None outside the dosing period."""
        for segment in self.get_arm(arm_id).dosing:
            if segment.from_week <= week < segment.to_week:
                return segment.drug, segment.dose_mg_day
        return None

    def summary(self) -> dict[str, Any]:
        """A plain-data overview (arms, dosing, visits, criteria, endpoints) for display."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "citation": self.citation,
            "design": self.design,
            "arms": [
                {
                    "id": a.id,
                    "label": a.label,
                    "ratio": self.randomisation.ratio.get(a.id),
                    "dosing": [
                        f"weeks {s.from_week:g}-{s.to_week:g}: {s.drug} {s.dose_mg_day:g} mg/day" for s in a.dosing
                    ],
                }
                for a in self.arms
            ],
            "visits": [
                {
                    "code": v.code,
                    "week": v.week,
                    "day": v.day,
                    "window": f"-{v.window_before_days}/+{v.window_after_days} d",
                    "phase": v.phase,
                    "forms": list(v.forms),
                }
                for v in self.visits
            ],
            "inclusion": [
                {"id": c.id, "text": c.source_text, "rule": c.rule.describe()} for c in self.eligibility.inclusion
            ],
            "exclusion": [
                {"id": c.id, "text": c.source_text, "rule": c.rule.describe()} for c in self.eligibility.exclusion
            ],
            "endpoints": [
                {
                    "id": e.id,
                    "role": e.role,
                    "type": e.type,
                    "label": e.label,
                    "visits": list(e.visits),
                    "definition": e.definition.describe() if e.definition else e.variable,
                }
                for e in self.endpoints
            ],
        }
