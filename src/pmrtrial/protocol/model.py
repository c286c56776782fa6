"""The protocol schema: a parallel-group trial as validated, versioned data.

Every rule keeps its verbatim source text (``source_text``) and where it comes from
(``source_ref``) beside its machine form. Instances are YAML files, one per protocol version; an
amendment is a new file with a new ``version``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class _Labelled(_Frozen):
    """``label`` is English text, or ``{en: ..., fr: ...}`` in the file (kept as ``label`` + ``label_fr``)."""

    label: str
    label_fr: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_label(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("label"), dict):
            text = dict(data["label"])
            unknown = sorted(set(text) - {"en", "fr"})
            if unknown or "en" not in text:
                raise ValueError(f"label must be text or {{en: ..., fr: ...}}; got keys {sorted(text)}")
            data = {**data, "label": text["en"], "label_fr": text.get("fr")}
        return data


class FieldSpec(_Labelled):
    """A typed candidate field used by eligibility rules."""

    name: str
    type: Literal["number", "integer", "boolean", "category"]
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None


class DerivedField(_Labelled):
    """A field computed from candidate fields by a named pmrtrial function."""

    name: str
    function: str


class DoseSegment(_Frozen):
    """Study-drug dose over ``[from_week, to_week)``.

    Either a daily dose (``dose_mg_day``, as in BACHELOR), or a dose given every
    ``interval_weeks`` weeks (``dose`` in ``unit``, e.g. 8 ``mg/kg`` every 4 weeks IV, or 200 ``mg``
    every 2 weeks SC), never both.
    """

    from_week: float
    to_week: float
    drug: str
    dose_mg_day: float | None = Field(default=None, ge=0)
    dose: float | None = Field(default=None, ge=0)
    unit: Literal["mg", "mg/kg"] | None = None
    interval_weeks: float | None = Field(default=None, gt=0)
    route: Literal["oral", "iv", "sc"] | None = None

    @model_validator(mode="after")
    def _daily_or_interval(self) -> DoseSegment:
        interval = (self.dose, self.unit, self.interval_weeks)
        if self.dose_mg_day is not None:
            if any(x is not None for x in interval):
                raise ValueError("give either dose_mg_day or (dose, unit, interval_weeks), not both")
        elif any(x is None for x in interval):
            raise ValueError("a dose segment needs dose_mg_day, or all of dose, unit and interval_weeks")
        return self

    @property
    def is_daily(self) -> bool:
        return self.dose_mg_day is not None

    def describe(self) -> str:
        """E.g. ``weeks 0-12: baricitinib 4 mg/day`` or ``weeks 0-24: tocilizumab 8 mg/kg IV every 4 weeks``."""
        route = f" {self.route.upper()}" if self.route else ""
        if self.dose_mg_day is not None:
            what = f"{self.dose_mg_day:g} mg/day{route}"
        else:
            what = f"{self.dose:g} {self.unit}{route} every {self.interval_weeks:g} weeks"
        return f"weeks {self.from_week:g}-{self.to_week:g}: {self.drug} {what}"


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


class Criterion(Sourced, _Labelled):
    """An eligibility criterion. For inclusion the rule must hold; for exclusion it must not.

    ``label`` is the short reading shown at screening (``{en, fr}``); empty means "show ``source_text``".
    """

    id: str
    rule: Predicate
    label: str = ""


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

    def get_dose_segment(self, arm_id: str, week: float) -> DoseSegment | None:
        """The dosing segment of ``arm_id`` covering ``week``, or None outside the dosing period."""
        for segment in self.get_arm(arm_id).dosing:
            if segment.from_week <= week < segment.to_week:
                return segment
        return None

    def dose_at_week(self, arm_id: str, week: float) -> tuple[str, float] | None:
        """(drug, mg/day) of ``arm_id`` at ``week``, or None outside the dosing period.

        For a segment dosed every ``interval_weeks`` (not daily) there is no mg/day: the dose is
        NaN; use :meth:`get_dose_segment` for the dose, unit, interval and route.
        """
        segment = self.get_dose_segment(arm_id, week)
        if segment is None:
            return None
        return segment.drug, segment.dose_mg_day if segment.dose_mg_day is not None else float("nan")

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
                    "dosing": [s.describe() for s in a.dosing],
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
