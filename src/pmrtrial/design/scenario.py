"""Simulation scenarios as validated data: a latent PMR-AS trajectory model per arm.

A scenario names a :class:`~pmrtrial.protocol.Protocol` (visit schedule, primary endpoint,
randomisation blocks, inclusion threshold) and adds what a protocol does not say: how the disease
behaves under each arm, how centres differ, how often participants drop out and when rescue
glucocorticoid starts. Scenario files are YAML (``pmrtrial/design/scenarios/*.yaml`` ship with the
package); :func:`load_scenario` reads a bundled name, YAML text or a mapping.

The generative model (one participant *i* in centre *j*, post-baseline visit *v*) is

.. math::
    \\log S_{iv} = \\log S_{i0} + m_{a(i)}(v) + b_i + c_j + e_{iv}
                 + \\mathbf 1[\\text{on GC at } v]\\, \\log g,

with :math:`S_{i0}` a normal baseline CRP PMR-AS truncated to the protocol's inclusion threshold
(``> 17``), :math:`m_a(v) = \\log` of the arm's geometric-mean ratio to baseline at visit *v*,
:math:`b_i \\sim N(0, \\sigma_b^2)`, :math:`c_j \\sim N(0, \\sigma_c^2)`, :math:`e_{iv}` a Gaussian
AR(1) series over visits with SD :math:`\\sigma_e` and lag-one correlation :math:`\\phi`, and
:math:`g` the multiplicative effect of rescue glucocorticoid. The centre variance follows from the
stated intra-class correlation of the latent deviation :math:`d = b + c + e`:
:math:`\\sigma_c^2 = \\text{ICC}/(1-\\text{ICC})\\,(\\sigma_b^2 + \\sigma_e^2)`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pmrtrial._yaml import safe_load
from pmrtrial.exceptions import PmrTrialError, ProtocolError
from pmrtrial.protocol import Protocol, load_protocol
from pmrtrial.protocol.predicates import iter_comparisons
from pmrtrial.scores import FLARE_ABSOLUTE_THRESHOLD

__all__ = [
    "SIMULATED_VARIABLES",
    "ArmModel",
    "BaselineModel",
    "DesignSpec",
    "RescueModel",
    "Scenario",
    "ScenarioError",
    "VariabilityModel",
    "check_two_arms",
    "format_validation_error",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "scenario_mapping",
]

#: Visit-level variables the simulator produces; an endpoint may use only these.
SIMULATED_VARIABLES = ("crp_pmr_as", "on_oral_gc")


class ScenarioError(PmrTrialError, ValueError):
    """A scenario file is malformed or inconsistent with its protocol."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ArmModel(_Frozen):
    """One simulated arm.

    ``pmr_as_ratio`` maps every post-baseline visit code of the protocol to the geometric-mean
    ratio of the latent CRP PMR-AS to baseline, before rescue (1 = no change).
    """

    id: str
    label: str
    control: bool = False
    pmr_as_ratio: dict[str, float]
    dropout_per_visit: float = Field(default=0.0, ge=0.0, lt=1.0)
    notes: str | None = None

    @field_validator("pmr_as_ratio")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for code, ratio in value.items():
            if not (ratio > 0 and math.isfinite(ratio)):
                raise ValueError(f"ratio at {code} must be a positive number, got {ratio!r}")
        return value


class BaselineModel(_Frozen):
    """Baseline CRP PMR-AS: normal(mean, sd) truncated below at the inclusion threshold."""

    mean: float = Field(gt=0)
    sd: float = Field(gt=0)
    threshold: float | None = Field(
        default=None, description="lower truncation; None = read the protocol's inclusion rule on crp_pmr_as"
    )


class VariabilityModel(_Frozen):
    """SDs on the log PMR-AS scale and the centre intra-class correlation of the latent deviation."""

    sd_subject: float = Field(ge=0)
    sd_residual: float = Field(ge=0)
    residual_autocorrelation: float = Field(default=0.0, ge=0.0, lt=1.0)
    centre_icc: float = Field(ge=0.0, lt=1.0)

    @property
    def sd_centre(self) -> float:
        """:math:`\\sigma_c = \\sqrt{\\text{ICC}/(1-\\text{ICC})\\,(\\sigma_b^2+\\sigma_e^2)}`."""
        within = self.sd_subject**2 + self.sd_residual**2
        return math.sqrt(self.centre_icc / (1.0 - self.centre_icc) * within)


class RescueModel(_Frozen):
    """Rescue oral glucocorticoid.

    At each post-baseline visit from ``from_week`` on, a participant not yet on GC whose PMR-AS is
    above ``threshold`` (default: the absolute flare threshold 9.35) starts GC with probability
    ``probability`` (one number, or one per visit code). GC then continues to the end of the trial:
    every later visit is "on oral GC" (a non-responder) and the latent PMR-AS is multiplied by
    ``gc_effect_ratio`` from the next visit on.
    """

    threshold: float = FLARE_ABSOLUTE_THRESHOLD
    from_week: float = Field(default=0.0, ge=0.0)
    probability: float | dict[str, float] = 1.0
    gc_effect_ratio: float = Field(default=1.0, gt=0.0)

    @field_validator("probability")
    @classmethod
    def _probabilities(cls, value: float | dict[str, float]) -> float | dict[str, float]:
        values = value.values() if isinstance(value, dict) else (value,)
        for p in values:
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"rescue probability must be in [0, 1], got {p!r}")
        return value


class DesignSpec(_Frozen):
    """Trial size and centres. Exactly one of ``n_total`` and ``n_per_arm``; either may be a sweep."""

    n_total: int | list[int] | None = None
    n_per_arm: int | list[int] | None = None
    centres: int = Field(ge=1)
    centre_weights: list[float] | None = None
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    conf_level: float = Field(default=0.95, gt=0.0, lt=1.0)
    moments: Literal["geepack", "statsmodels"] = "geepack"

    @model_validator(mode="after")
    def _one_size(self) -> DesignSpec:
        if (self.n_total is None) == (self.n_per_arm is None):
            raise ValueError("give exactly one of 'n_total' and 'n_per_arm'")
        sizes = self.n_total if self.n_total is not None else self.n_per_arm
        values = sizes if isinstance(sizes, list) else [sizes]
        if not values or any(v is None or int(v) < 1 for v in values):
            raise ValueError(f"sample sizes must be positive integers, got {sizes!r}")
        weights = self.centre_weights
        if weights is not None and (len(weights) != self.centres or any(w <= 0 for w in weights)):
            raise ValueError(f"centre_weights needs {self.centres} positive numbers, got {self.centre_weights!r}")
        return self

    @property
    def sweeps_n(self) -> bool:
        return isinstance(self.n_total if self.n_total is not None else self.n_per_arm, list)


class Scenario(_Frozen):
    """A simulation scenario (see the module docstring for the model).

    Attributes
    ----------
    name, description : str
        Identifier and what the scenario represents.
    sources : tuple of str
        Where each assumption comes from (published figures, calibration, stated guesses).
    protocol : str
        Bundled protocol name (e.g. ``"bachelor"``); its visits, primary endpoint, randomisation
        blocks and inclusion threshold are used.
    arms : tuple of ArmModel
        Exactly two; one ``control``. Allocation ratio: ``allocation_ratio`` or, when the arm ids
        are the protocol's, the protocol's ratio.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    protocol: str = "bachelor"
    design: DesignSpec
    arms: tuple[ArmModel, ...]
    allocation_ratio: dict[str, int] | None = None
    baseline: BaselineModel
    variability: VariabilityModel
    rescue: RescueModel = RescueModel()
    calibration: dict[str, Any] | None = None
    truth_n_per_arm: int = Field(default=2_000_000, ge=1000)

    @model_validator(mode="after")
    def _arms(self) -> Scenario:
        check_two_arms(self.arms)
        if self.allocation_ratio is not None and set(self.allocation_ratio) != {a.id for a in self.arms}:
            raise ValueError(f"allocation_ratio must name the arms {[a.id for a in self.arms]}")
        return self

    # -- derived, checked against the protocol ---------------------------------------------------
    @cached_property
    def protocol_obj(self) -> Protocol:
        """The named protocol (bundled), loaded and validated."""
        return load_protocol(self.protocol)

    @property
    def control_arm(self) -> ArmModel:
        return next(a for a in self.arms if a.control)

    @property
    def treated_arm(self) -> ArmModel:
        return next(a for a in self.arms if not a.control)

    def visit_codes(self) -> tuple[str, ...]:
        """Post-baseline visit codes in schedule order."""
        return tuple(v.code for v in sorted(self.protocol_obj.visits, key=lambda v: v.week) if v.week > 0)

    def visit_weeks(self) -> tuple[float, ...]:
        return tuple(self.protocol_obj.get_visit(c).week for c in self.visit_codes())

    def primary_visit(self) -> str:
        return self.protocol_obj.primary_endpoint.visits[0]

    def ratio(self) -> tuple[int, int]:
        """Allocation ratio (control, treated)."""
        r = self.allocation_ratio if self.allocation_ratio is not None else self.protocol_obj.randomisation.ratio
        return int(r[self.control_arm.id]), int(r[self.treated_arm.id])

    def block_sizes(self) -> tuple[int, ...]:
        return tuple(self.protocol_obj.randomisation.block_sizes)

    def inclusion_threshold(self) -> float:
        """Lower truncation of baseline PMR-AS: stated, or the protocol's ``crp_pmr_as > x`` rule."""
        if self.baseline.threshold is not None:
            return self.baseline.threshold
        for crit in self.protocol_obj.eligibility.inclusion:
            for comp in iter_comparisons(crit.rule):
                if comp.var == "crp_pmr_as" and comp.op in ("gt", "ge"):
                    return float(comp.value)
        raise ScenarioError(
            f"Scenario {self.name!r}: protocol {self.protocol!r} has no inclusion rule on crp_pmr_as; "
            "state baseline.threshold."
        )

    def rescue_probabilities(self) -> tuple[float, ...]:
        """Per post-baseline visit: probability of starting rescue GC when above the threshold."""
        out = []
        p = self.rescue.probability
        for code, week in zip(self.visit_codes(), self.visit_weeks(), strict=True):
            value = p.get(code, 0.0) if isinstance(p, dict) else p
            out.append(float(value) if week >= self.rescue.from_week else 0.0)
        return tuple(out)

    def sample_sizes(self) -> tuple[int, ...]:
        """Total randomised per design point (the sweep, or one value)."""
        d = self.design
        if d.n_total is not None:
            vals = d.n_total if isinstance(d.n_total, list) else [d.n_total]
            return tuple(int(v) for v in vals)
        per = d.n_per_arm if isinstance(d.n_per_arm, list) else [d.n_per_arm]
        c, t = self.ratio()
        return tuple(int(v) * (c + t) // min(c, t) for v in per if v is not None)

    def n_axis(self) -> tuple[str, tuple[int, ...]]:
        """Label and values of the sample-size axis as the scenario states it."""
        d = self.design
        if d.n_per_arm is not None:
            per = d.n_per_arm if isinstance(d.n_per_arm, list) else [d.n_per_arm]
            return "n per arm", tuple(int(v) for v in per)
        return "n randomised", self.sample_sizes()

    def check(self) -> Scenario:
        """Check the scenario against its protocol; raises :class:`ScenarioError`."""
        try:
            proto = self.protocol_obj
        except ProtocolError as exc:
            raise ScenarioError(f"Scenario {self.name!r}: {exc}") from None
        codes = self.visit_codes()
        for arm in self.arms:
            missing = [c for c in codes if c not in arm.pmr_as_ratio]
            extra = [c for c in arm.pmr_as_ratio if c not in codes]
            if missing or extra:
                raise ScenarioError(
                    f"Scenario {self.name!r}, arm {arm.id!r}: pmr_as_ratio must give every post-baseline visit "
                    f"of protocol {proto.id!r} {list(codes)}; missing {missing}, unknown {extra}."
                )
        if isinstance(self.rescue.probability, dict):
            extra = [c for c in self.rescue.probability if c not in codes]
            if extra:
                raise ScenarioError(f"Scenario {self.name!r}: rescue.probability names unknown visits {extra}.")
        if self.allocation_ratio is None and {a.id for a in self.arms} != set(proto.randomisation.ratio):
            raise ScenarioError(
                f"Scenario {self.name!r}: arms {[a.id for a in self.arms]} are not the protocol's "
                f"{sorted(proto.randomisation.ratio)}; state allocation_ratio."
            )
        c, t = self.ratio()
        for b in self.block_sizes():
            if b % (c + t):
                raise ScenarioError(
                    f"Scenario {self.name!r}: block size {b} is not a multiple of the allocation ratio {c}:{t}."
                )
        if self.design.n_per_arm is not None and c != t:
            raise ScenarioError(f"Scenario {self.name!r}: n_per_arm needs a 1:1 ratio; give n_total instead.")
        endpoint = proto.primary_endpoint
        if endpoint.type != "binary" or endpoint.definition is None:
            raise ScenarioError(f"Protocol {proto.id!r}: the primary endpoint must be binary with a definition.")
        used = {comp.var for comp in iter_comparisons(endpoint.definition)}
        unknown = sorted(used - set(SIMULATED_VARIABLES))
        if unknown:
            raise ScenarioError(
                f"Primary endpoint of {proto.id!r} uses {unknown}, which the simulator does not produce "
                f"(it produces {list(SIMULATED_VARIABLES)})."
            )
        if self.primary_visit() not in codes:
            raise ScenarioError(f"Primary visit {self.primary_visit()!r} is not a post-baseline visit.")
        self.inclusion_threshold()
        return self

    def with_n_total(self, n_total: int) -> Scenario:
        """A copy with one fixed total size (a point of a sweep)."""
        design = self.design.model_copy(update={"n_total": int(n_total), "n_per_arm": None})
        return self.model_copy(update={"design": design})

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


#: Bundled scenarios: name -> file in pmrtrial/design/scenarios/.
_BUNDLED = {
    "bachelor-as-run": "bachelor-as-run.yaml",
    "bachelor-null": "bachelor-null.yaml",
    "larger-confirmatory": "larger-confirmatory.yaml",
    "bari-4mg-vs-2mg": "bari-4mg-vs-2mg.yaml",
}


def check_two_arms(arms: Sequence[Any]) -> None:
    """A scenario (either kind) has exactly two arms with distinct ids, one of them ``control: true``."""
    if len(arms) != 2:
        raise ValueError(f"a scenario needs exactly two arms (treatment vs control), got {len(arms)}")
    if sum(a.control for a in arms) != 1:
        raise ValueError("exactly one arm must have 'control: true'")
    if arms[0].id == arms[1].id:
        raise ValueError("arm ids must differ")


def list_scenarios() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(_BUNDLED)


def format_validation_error(error: ValidationError) -> str:
    """The first three schema errors as ``field.path: message (got value)`` (the value when the message lacks it)."""
    parts = []
    for e in error.errors()[:3]:
        loc = ".".join(str(x) for x in e["loc"]) or "(root)"
        shown = "" if e["type"] in ("missing", "value_error") else f" (got {e.get('input')!r})"
        parts.append(f"{loc}: {e['msg']}{shown}")
    return "; ".join(parts)


def scenario_mapping(source: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """The top-level mapping of a scenario given as YAML text or a mapping; :class:`ScenarioError` otherwise."""
    if isinstance(source, str):
        try:
            data = safe_load(source)
        except yaml.YAMLError as exc:
            raise ScenarioError(f"Invalid scenario YAML: {exc}") from None
    else:
        data = source
    if not isinstance(data, Mapping):
        raise ScenarioError(f"Invalid scenario: expected a mapping at the top level, got {type(data).__name__}.")
    return data


def parse_scenario(source: str | Mapping[str, Any]) -> Scenario:
    """Build and check a scenario from YAML text or a mapping (see :func:`load_scenario`)."""
    data = scenario_mapping(source)
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(f"Invalid scenario {data.get('name', '?')!r}: {format_validation_error(exc)}") from None
    return scenario.check()


def load_scenario(source: str | Mapping[str, Any]) -> Scenario:
    """A validated scenario from a bundled name (``"bachelor-as-run"``), YAML text or a mapping.

    Reading a user's file is the caller's job (the CLI), so the core does no file I/O beyond its
    own package data.

    Raises
    ------
    ScenarioError
        Unknown name, malformed YAML, schema error or inconsistency with the protocol.
    """
    if isinstance(source, str) and source in _BUNDLED:
        text = resources.files("pmrtrial.design.scenarios").joinpath(_BUNDLED[source]).read_text(encoding="utf-8")
        return parse_scenario(text)
    if isinstance(source, str) and "\n" not in source and ":" not in source:
        raise ScenarioError(f"Unknown scenario {source!r}. Expected one of {list_scenarios()} or a scenario file.")
    return parse_scenario(source)
