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
    "BaselineVariable",
    "Criterion",
    "DerivedField",
    "DoseSegment",
    "Eligibility",
    "Endpoint",
    "EventSpec",
    "FieldSpec",
    "FlareEvent",
    "InjectionRule",
    "Origin",
    "Parameters",
    "Population",
    "Protocol",
    "Randomisation",
    "RescueRule",
    "SampleSize",
    "TableEvent",
    "TimeToEvent",
    "Visit",
    "WindowComposite",
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
    """A trial arm: study-drug ``dosing`` and, optionally, the protocol's oral glucocorticoid taper
    (``gc_taper``, prednisone-equivalent ``dose_mg_day`` by week; no segment = 0 mg/day scheduled)."""

    id: str
    label: str
    is_control: bool = False
    dosing: tuple[DoseSegment, ...]
    gc_taper: tuple[DoseSegment, ...] = ()


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


class FlareEvent(_Frozen):
    """The event is a flare by the protocol's flare rule, judged against a reference CRP PMR-AS.

    ``reference: baseline`` compares with the baseline visit; ``reference: origin`` with the visit
    at the origin (the landmark, e.g. the first remission). ``rule`` is the flare rule (Dejaco 2011:
    CRP PMR-AS > 9.35, or an increase > 6.6 over the reference).
    """

    rule: Literal["dejaco_2011"] = "dejaco_2011"
    reference: Literal["baseline", "origin"] = "baseline"


class TableEvent(_Frozen):
    """The event is a row of an event dataset (``table: flares``): the first after the origin.

    ``confirmed_only`` keeps only rows with ``confirmed`` true.
    """

    table: Literal["flares"]
    confirmed_only: bool = True


class EventSpec(_Frozen):
    """Exactly one of ``flare`` (derived from visits) or ``dataset`` (an event table)."""

    flare: FlareEvent | None = None
    dataset: TableEvent | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> EventSpec:
        if (self.flare is None) == (self.dataset is None):
            raise ValueError("an event needs exactly one of 'flare' or 'dataset'")
        return self

    def describe(self) -> str:
        if self.flare is not None:
            return f"flare ({self.flare.rule}, against the {self.flare.reference} CRP PMR-AS)"
        assert self.dataset is not None
        return f"first {'confirmed ' if self.dataset.confirmed_only else ''}event in the {self.dataset.table} table"


class Origin(_Frozen):
    """Time zero: ``randomisation`` (day 0), or a ``landmark``: the first assessed visit at which
    ``predicate`` holds, no later than ``by_week``. Participants who never reach the landmark are
    not at risk and are left out of the analysis."""

    kind: Literal["randomisation", "landmark"] = "randomisation"
    predicate: Predicate | None = None
    by_week: float | None = None

    @model_validator(mode="after")
    def _landmark_needs_predicate(self) -> Origin:
        if self.kind == "landmark" and self.predicate is None:
            raise ValueError("a landmark origin needs a 'predicate'")
        if self.kind == "randomisation" and (self.predicate is not None or self.by_week is not None):
            raise ValueError("an origin at randomisation takes no 'predicate' or 'by_week'")
        return self

    def describe(self) -> str:
        if self.kind == "randomisation":
            return "randomisation"
        assert self.predicate is not None
        by = f" by week {self.by_week:g}" if self.by_week is not None else ""
        return f"first visit with {self.predicate.describe()}{by}"


class TimeToEvent(_Frozen):
    """A time-to-event endpoint: days from the origin to the event.

    Participants without the event are censored at their last assessed visit (which also covers
    withdrawal and loss to follow-up), and at ``end_week`` (end of study; default: the last scheduled
    visit) at the latest. Visit days are the scheduled days (``7 x week``).
    """

    event: EventSpec
    origin: Origin = Origin()
    end_week: float | None = None


class Endpoint(Sourced):
    """An endpoint: binary (a predicate), continuous (a variable) at named visits, or time to event.

    ``missing`` (binary): ``exclude`` analyses the participants whose value is decided at the visit;
    ``non_event`` counts every participant of the population without a decided value as a
    non-event (denominator = the population; non-responder imputation). ``covariates`` names the
    baseline variables (subjects columns or baseline-visit variables) of adjusted analyses.
    """

    id: str
    label: str
    role: Literal["primary", "secondary"]
    type: Literal["binary", "continuous", "time_to_event"]
    visits: tuple[str, ...] = ()
    variable: str | None = None
    definition: Predicate | None = None
    time_to_event: TimeToEvent | None = None
    population: str
    analysis: tuple[str, ...] = ()
    covariates: tuple[str, ...] = ()
    missing: Literal["exclude", "non_event"] = "exclude"
    unit: str | None = None

    def describe(self) -> str:
        """The definition in words: the predicate, the variable, or event and origin."""
        if self.time_to_event is not None:
            tte = self.time_to_event
            return f"time from {tte.origin.describe()} to {tte.event.describe()}"
        if self.definition is not None:
            return self.definition.describe()
        return str(self.variable)


class WindowComposite(_Frozen):
    """A per-participant variable built from a predicate across a window of visits.

    ``kind: every_visit``: ``predicate`` holds at every assessed visit with ``from_week <= week <=
    to_week`` (sustained remission, flare-free). ``kind: first_by``: ``predicate`` holds at some
    assessed visit with ``from_week <= week <= to_week`` ("by week to_week").

    ``missing_visit`` says what a scheduled visit of the window without a record (or with the
    predicate undecided) does: ``ignore`` (skip it; the answer comes from the assessed visits, and is
    undecided if none was assessed), ``failure`` (the composite fails) or ``undecided`` (the composite
    is undecided unless already decided by the assessed visits). The value is copied to every visit
    row of the participant, under the name ``id``.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    kind: Literal["every_visit", "first_by"]
    predicate: Predicate
    from_week: float = 0.0
    to_week: float
    missing_visit: Literal["ignore", "failure", "undecided"] = "undecided"


class BaselineVariable(_Frozen):
    """One row of the baseline table (Table 1).

    ``table``: ``subjects`` or ``visits`` (the baseline visit). A ``continuous`` row summarises
    ``variable``; a ``binary`` row counts the participants for whom ``when`` holds (participants
    whose value is missing are left out of the denominator).
    """

    key: str
    label: str
    table: Literal["subjects", "visits"]
    variable: str
    kind: Literal["continuous", "binary"]
    unit: str | None = None
    when: Predicate | None = None

    @model_validator(mode="after")
    def _binary_needs_when(self) -> BaselineVariable:
        if (self.kind == "binary") != (self.when is not None):
            raise ValueError("a binary baseline row needs 'when'; a continuous one takes none")
        return self


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
    """How participants are allocated.

    ``permuted_blocks`` (stratified by ``stratify_by``): block sizes drawn at random from
    ``block_sizes``. The default, (4, 6), is for new protocols: with blocks of 2 the second allocation
    of every block can be guessed, and blocks of 2 and 4 let a site that knows past allocations guess
    72% of them under the convergence strategy, against 69% for 4 and 6 (Blackwell & Hodges 1957;
    :func:`pmrtrial.design.allocation.permuted_block_predictability`).

    ``minimisation``: Pocock–Simon over ``minimisation_factors`` (e.g. ``site_id``,
    ``baseline_gc_category``), the preferred arm given with probability ``minimisation_p``.
    """

    ratio: dict[str, int]
    stratify_by: tuple[str, ...] = ()
    method: Literal["permuted_blocks", "minimisation"] = "permuted_blocks"
    block_sizes: tuple[int, ...] = (4, 6)
    minimisation_factors: tuple[str, ...] = ()
    minimisation_p: float = Field(default=0.8, ge=0.5, le=1.0)

    @model_validator(mode="after")
    def _factors_for_minimisation(self) -> Randomisation:
        if self.method == "minimisation" and not self.minimisation_factors:
            raise ValueError("randomisation.minimisation_factors: minimisation needs at least one factor")
        return self


class Parameters(_Frozen):
    crp_upper_limit_mg_l: float = 5.0
    pmr_as_patient_vas: Literal["pain_vas", "patient_global_vas"] = "pain_vas"
    eq5d_value_set: str | None = None
    #: A logged oral GC dose up to this many mg/day above the arm's ``gc_taper`` still adheres.
    gc_taper_tolerance_mg_day: float = Field(default=0.0, ge=0)


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
    composites: tuple[WindowComposite, ...] = ()
    baseline_table: tuple[BaselineVariable, ...] = ()
    methods: tuple[str, ...] = ()
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
                    "definition": e.describe(),
                }
                for e in self.endpoints
            ],
        }
