"""Frozen result objects of the SAP run: :class:`AnalysisResult` and its parts.

Every part has ``to_dict()`` returning JSON-ready Python (NaN -> None, inf -> "inf"), so
``AnalysisResult.to_dict()`` is ``results.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from types import MappingProxyType
from typing import Any

from pmrtrial.stats.results import jsonable as _jsonable

__all__ = [
    "NOT_DECLARED",
    "AdverseEventSummary",
    "AnalysisResult",
    "BaselineRow",
    "ConsortFlow",
    "EndpointResult",
    "PrimaryResult",
    "SecondaryRow",
    "StatSummary",
    "TrajectoryPoint",
    "VisitStateRow",
    "jsonable",
]


#: ``StatSummary.reason`` of a legacy slot (``primary.boschloo``...) whose method the protocol does not declare.
NOT_DECLARED = "not in the protocol's analysis list for this endpoint"


def jsonable(value: Any) -> Any:
    """JSON-ready copy: NaN -> None, +-inf -> "inf"/"-inf", numpy scalars -> Python, recursively;
    any other object becomes its ``str`` (see :func:`pmrtrial.stats.results.jsonable`)."""
    return _jsonable(value, strict=False)


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


class _ToDict:
    def to_dict(self) -> dict[str, Any]:
        assert is_dataclass(self)
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class StatSummary(_ToDict):
    """One statistical result in a common shape (from :mod:`pmrtrial.stats` or not available).

    ``available`` is False when the method could not run (library missing, data degenerate, n too
    large for an exact method); ``reason`` says why. ``details`` keeps method-specific extras (for
    the GEE: robust and Mancl-DeRouen SEs, fallback, correlation).
    """

    name: str
    available: bool
    estimate: float | None = None
    lo: float | None = None
    hi: float | None = None
    p: float | None = None
    method: str = ""
    converged: bool | None = None
    warnings: tuple[str, ...] = ()
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "details", _freeze(self.details))


@dataclass(frozen=True)
class PrimaryResult(_ToDict):
    """The primary endpoint: responders by arm at the primary visit and every planned estimate.

    ``responders`` maps arm id -> ``{"n": analysed, "events": responders}`` (only ``n`` when the
    primary endpoint is continuous or time to event: its estimates are in ``endpoints[]``); ``not_evaluable``
    maps arm id -> participants with a primary-visit record whose response could not be decided.
    """

    endpoint_id: str
    label: str
    definition: str
    visit: str
    week: float
    population: str
    treated_arm: str
    control_arm: str
    responders: Mapping[str, Mapping[str, int]]
    not_evaluable: Mapping[str, int]
    fisher: StatSummary
    boschloo: StatSummary
    rr_crude: StatSummary
    rr_score: StatSummary
    rd: StatSummary
    rr_gee: StatSummary
    rr_bayes: StatSummary

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["fisher_p"] = out["fisher"]["p"]
        out["boschloo_p"] = out["boschloo"]["p"]
        return out


@dataclass(frozen=True)
class SecondaryRow(_ToDict):
    """One secondary endpoint at one visit.

    ``arms`` maps arm id -> summary: continuous ``{"n", "mean", "sd"}``, binary
    ``{"n", "events", "pct"}``. ``effect`` is the mean difference (continuous) or the risk ratio
    (binary), treated vs control, with ``p`` the crude test (Welch t; Fisher exact).
    ``estimable`` False with ``reason`` when the data lack a needed column.
    """

    endpoint_id: str
    label: str
    kind: str
    week: float
    visit: str
    unit: str | None
    estimable: bool
    arms: Mapping[str, Mapping[str, Any]]
    effect: StatSummary
    test: StatSummary | None = None
    reason: str | None = None


@dataclass(frozen=True)
class VisitStateRow(_ToDict):
    """Counts of the four states (and "missing") per arm at one visit; ``n`` = participants seen."""

    week: float
    visit: str
    counts: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class TrajectoryPoint(_ToDict):
    """Mean of a variable in one arm at one visit with a t-based 95% CI."""

    variable: str
    arm: str
    week: float
    n: int
    mean: float
    sd: float
    lo: float
    hi: float


@dataclass(frozen=True)
class BaselineRow(_ToDict):
    """One Table 1 row; ``arms`` holds per-arm ``{"n", "mean", "sd", "median", "q1", "q3"}`` or
    ``{"n", "events", "pct"}``; ``key`` matches the published yaml's baseline keys."""

    key: str
    label: str
    kind: str
    unit: str | None
    arms: Mapping[str, Mapping[str, Any]]
    estimable: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class AdverseEventSummary(_ToDict):
    """Participants with >= 1 AE / >= 1 serious AE by SOC and arm, serious-event counts, deaths."""

    population: str
    n_by_arm: Mapping[str, int]
    any_ae_by_soc: tuple[Mapping[str, Any], ...]
    serious_by_soc: tuple[Mapping[str, Any], ...]
    participants_any_ae: Mapping[str, int]
    participants_serious: Mapping[str, int]
    serious_events: Mapping[str, int]
    deaths: Mapping[str, int]
    deaths_known: bool


@dataclass(frozen=True)
class ConsortFlow(_ToDict):
    """CONSORT counts: randomised, analysed at each visit, completed, withdrawn, lost, by arm."""

    randomised: Mapping[str, int]
    analysed_by_visit: tuple[Mapping[str, Any], ...]
    primary_analysed: Mapping[str, int]
    completed: Mapping[str, int]
    withdrawn: Mapping[str, int]
    lost: Mapping[str, int]


@dataclass(frozen=True)
class EndpointResult(_ToDict):
    """One protocol endpoint and every analysis it declares (``results.json`` ``endpoints[]``).

    ``analyses`` maps method id -> ``{available, estimate, lo, hi, p, method, reason, converged,
    warnings, details, ...}`` at the endpoint's first visit, with ``by_visit`` (visit code -> the same)
    when the endpoint has several visits. Binary entries hold ``arms.<arm>.{n, events, pct}``,
    continuous ones ``arms.<arm>.{n, mean, sd, median, q1, q3}``; ``kaplan_meier`` holds
    ``arms.<arm>.{n, events, median, median_lo, median_hi}``; ``cox_ph``'s estimate is the hazard ratio.
    Further parts of a method are keyed by name (``risk_ratio``: ``rr_score``).
    ``n_analysed`` is the number of rows of the endpoint's derived dataset.
    """

    id: str
    label: str
    type: str
    role: str
    population: str
    visits: tuple[str, ...]
    definition: str
    missing: str
    covariates: tuple[str, ...]
    n_analysed: int
    analyses: Mapping[str, Any]


@dataclass(frozen=True)
class AnalysisResult(_ToDict):
    """The whole SAP run. ``warnings`` gathers every warning of every part (surfaced in reports).

    ``derived_datasets`` (endpoint id -> DataFrame, the analysis dataset of each endpoint) is not part
    of ``to_dict()``: the report writes it as ``derived/<endpoint id>.csv``.
    """

    protocol_id: str
    protocol_version: str
    synthetic: bool
    arms: tuple[Mapping[str, Any], ...]
    primary: PrimaryResult
    secondary: tuple[SecondaryRow, ...]
    visit_states: tuple[VisitStateRow, ...]
    trajectories: tuple[TrajectoryPoint, ...]
    baseline: tuple[BaselineRow, ...]
    adverse_events: AdverseEventSummary
    consort: ConsortFlow
    sample_size: Mapping[str, Any]
    published_methods: Mapping[str, Any]
    methods: tuple[str, ...]
    not_derived: Mapping[str, str]
    warnings: tuple[str, ...]
    software: Mapping[str, str]
    endpoints: tuple[EndpointResult, ...] = ()
    derived_datasets: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "derived_datasets"}
