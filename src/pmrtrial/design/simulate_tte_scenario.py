r"""Time-to-event scenarios for ``pmrtrial simulate``: remission, then flare under each arm's glucocorticoid taper.

A scenario file with ``kind: time_to_event`` describes a SAPHYR-like two-arm trial. Per participant of arm *a*
(times in weeks since randomisation):

* entry uniform over ``[0, accrual_weeks]``; the analysis is at calendar week ``accrual_weeks +
  follow_up_weeks`` (administrative censoring at ``analysis - entry`` since randomisation);
* drop-out: exponential with hazard :math:`\eta_a = -\log(1 - q_a) / w_a` (a proportion :math:`q_a` by week
  :math:`w_a`), from randomisation;
* clinical remission by the landmark week :math:`L` (``timeline.landmark_week``) with probability
  :math:`\pi_a`, for participants still in the study at :math:`L` (independent of everything else);
* from :math:`L` on, a participant in remission flares with hazard :math:`\lambda_a` before the end of the
  arm's taper :math:`T_a` and :math:`\lambda'_a` after it (a piecewise-constant hazard in time since
  randomisation, drawn by inverting the cumulative hazard at an Exp(1) draw);
* flare follow-up ends at the first of drop-out, administrative censoring and ``timeline.flare_end_week``.

Endpoints (the protocol's, mapped):

* **flare after remission** (time to event): participants in remission at :math:`L`, time from :math:`L` to
  the flare or censoring. The protocol's origin is the first remission visit by week 12; here it is the
  landmark itself for everyone (a fixed origin);
* **sustained remission at** ``timeline.sustained_remission_week`` (binary, all randomised, non-responder
  imputation): remission at :math:`L`, no flare and no drop-out before that week. In the protocol's terms,
  ``remission_by_w12`` is remission at :math:`L`; ``crp_normal_from_w12`` and ``flare_free_from_w12`` are "no
  flare" (the model has no CRP rise without a flare); ``taper_adherent_w12_w52`` holds unless a flare led to
  rescue glucocorticoid (the model has no other departure from the taper); a participant without a week-52
  assessment (drop-out) is a non-responder.

Each replicate is analysed as the SAPHYR statistical analysis plan says (``saphyr-v1.0.yaml`` ``methods``):
sustained remission by the two-sided Fisher exact test (:func:`pmrtrial.design.compute_fisher_pvalues`, R
``fisher.test``), the risk difference with Newcombe's hybrid-score CI and the crude risk ratio with the Katz
CI (:mod:`pmrtrial.stats.proportions`, called once per distinct 2x2 table); flare after remission by the
log-rank test (:func:`~pmrtrial.design.simulate_tte.logrank_statistics`, R ``survdiff``) and the Cox hazard
ratio with Efron ties and its Wald CI (:func:`~pmrtrial.design.simulate_tte.cox_efron_statistics`, R
``coxph``). Times are continuous, so tied flare times have probability 0 (Efron, Breslow and the exact
partial likelihood then coincide); the fit handles ties anyway.

True effects: the sustained-remission probability of an arm is closed-form,
:math:`\pi_a e^{-\eta_a W} e^{-H_a(L, W)}` with :math:`H_a` the flare cumulative hazard; the true hazard ratio
is the stated ratio when the two arms' hazards are proportional over the whole flare follow-up, and otherwise
(e.g. tapers ending at week 14 and week 52) the large-sample limit of the Cox estimate under this scenario's
follow-up (the "average hazard ratio" the Cox model estimates under non-proportional hazards; Struthers &
Kalbfleisch, Biometrika 1986), by one Cox fit on ``truth_n_per_arm`` participants per arm with a fixed seed.

Reproducibility: as the binary kind (:mod:`pmrtrial.design.simulate`): replicates are generated in RNG blocks
of :data:`~pmrtrial.design.simulate.BLOCK_SIZE`; block *k* of the design point with ``(n_control,
n_treated)`` uses ``SeedSequence(seed, spawn_key=(n_control, n_treated, k))`` and is generated whole, so
results do not depend on the batch size, the task partitioning or the Dask cluster.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.special import chdtrc, ndtr, ndtri

from pmrtrial.design.fisher import compute_fisher_pvalues
from pmrtrial.design.scenario import ScenarioError, check_two_arms, format_validation_error, scenario_mapping
from pmrtrial.design.simulate import BLOCK_SIZE, Estimate, _mean, _plan, _rate, operating_rows
from pmrtrial.design.simulate_tte import cox_efron_statistics, logrank_statistics
from pmrtrial.exceptions import ProtocolError, ScoreInputError
from pmrtrial.stats.results import software_versions

__all__ = [
    "TTE_REPLICATE_FIELDS",
    "TTE_TRUTH_SEED",
    "RemissionFlareScenario",
    "TteArmModel",
    "TteDesignPoint",
    "TteSimulationResult",
    "TteTruth",
    "closed_form_power",
    "cox_limit",
    "list_tte_scenarios",
    "load_tte_scenario",
    "scenario_kind",
    "simulate_tte_operating_characteristics",
    "simulate_tte_replicates",
    "tte_truth",
]

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[int], None]

#: Entropy of the truth simulation (non-proportional hazards only): a property of the scenario, not of the run.
TTE_TRUTH_SEED = 20261129

#: Per-replicate outputs (arrays of length n_sims per design point).
TTE_REPLICATE_FIELDS = (
    "sr_control",
    "sr_treated",
    "at_risk_control",
    "at_risk_treated",
    "events_control",
    "events_treated",
    "logrank_o_minus_e",
    "logrank_variance",
    "cox_log_hr",
    "cox_se",
    "cox_estimable",
    "cox_converged",
)

KINDS = ("binary", "time_to_event")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Dropout(_Frozen):
    """Exponential drop-out: ``proportion`` of participants lost by ``by_week`` (hazard -log(1-q)/w)."""

    proportion: float = Field(ge=0.0, lt=1.0)
    by_week: float = Field(gt=0.0)

    @property
    def hazard(self) -> float:
        return -math.log1p(-self.proportion) / self.by_week


class TteArmModel(_Frozen):
    """One arm: remission probability by the landmark, flare hazards under and after the taper, drop-out."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    label: str
    control: bool = False
    remission_probability: float = Field(ge=0.0, le=1.0)
    flare_hazard_per_week: float = Field(gt=0.0)
    taper_end_week: float | None = Field(default=None, ge=0.0)
    flare_hazard_after_taper_per_week: float | None = Field(default=None, gt=0.0)
    dropout: Dropout = Dropout(proportion=0.0, by_week=1.0)
    notes: str | None = None

    @model_validator(mode="after")
    def _taper(self) -> TteArmModel:
        if self.flare_hazard_after_taper_per_week is not None and self.taper_end_week is None:
            raise ValueError("flare_hazard_after_taper_per_week needs taper_end_week")
        return self

    @property
    def hazard_after(self) -> float:
        after = self.flare_hazard_after_taper_per_week
        return self.flare_hazard_per_week if after is None else after

    def cumulative_hazard(self, start: float, end: float) -> float:
        """Flare cumulative hazard between weeks ``start`` and ``end`` since randomisation."""
        change = math.inf if self.taper_end_week is None else self.taper_end_week
        before = max(0.0, min(end, change) - start)
        after = max(0.0, end - max(change, start))
        return self.flare_hazard_per_week * before + self.hazard_after * after


class TteDesign(_Frozen):
    """Trial size and timing. Exactly one of ``n_per_arm`` (may be a sweep) and ``n_treated`` + ``n_control``."""

    n_per_arm: int | list[int] | None = None
    n_treated: int | None = Field(default=None, ge=1)
    n_control: int | None = Field(default=None, ge=1)
    accrual_weeks: float = Field(ge=0.0)
    follow_up_weeks: float = Field(gt=0.0, description="after the last entry")
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    conf_level: float = Field(default=0.95, gt=0.0, lt=1.0)
    min_events: int = Field(default=10, ge=1, description="replicates with fewer flares are counted and reported")

    @model_validator(mode="after")
    def _sizes(self) -> TteDesign:
        both = self.n_treated is not None and self.n_control is not None
        one = (self.n_treated is None) != (self.n_control is None)
        if one or (self.n_per_arm is None) != both:
            raise ValueError("give either n_per_arm (a number or a list) or both n_treated and n_control")
        if self.n_per_arm is not None:
            values = self.n_per_arm if isinstance(self.n_per_arm, list) else [self.n_per_arm]
            if not values or any(int(v) < 2 for v in values):
                raise ValueError(f"n_per_arm must be integers >= 2, got {self.n_per_arm!r}")
            if len(set(values)) != len(values):
                raise ValueError(f"n_per_arm values must be distinct, got {self.n_per_arm!r}")
        return self


class TteTimeline(_Frozen):
    """Landmark of remission (origin of the flare analysis), week of sustained remission, end of flare follow-up."""

    landmark_week: float = Field(ge=0.0)
    sustained_remission_week: float = Field(gt=0.0)
    flare_end_week: float | None = Field(default=None, gt=0.0, description="None: to the analysis cut")

    @model_validator(mode="after")
    def _order(self) -> TteTimeline:
        if self.sustained_remission_week <= self.landmark_week:
            raise ValueError(
                f"sustained_remission_week ({self.sustained_remission_week:g}) must be after landmark_week "
                f"({self.landmark_week:g})"
            )
        if self.flare_end_week is not None and self.flare_end_week <= self.landmark_week:
            raise ValueError(f"flare_end_week ({self.flare_end_week:g}) must be after landmark_week")
        return self


class RemissionFlareScenario(_Frozen):
    """A ``kind: time_to_event`` scenario (model in the module docstring)."""

    kind: Literal["time_to_event"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    protocol: str | None = None
    design: TteDesign
    timeline: TteTimeline
    arms: tuple[TteArmModel, ...]
    calibration: dict[str, Any] | None = None
    truth_n_per_arm: int = Field(default=200_000, ge=10_000, le=2_000_000)

    @model_validator(mode="after")
    def _arms(self) -> RemissionFlareScenario:
        check_two_arms(self.arms)
        if self.design.follow_up_weeks < self.timeline.sustained_remission_week:
            raise ValueError(
                f"design.follow_up_weeks ({self.design.follow_up_weeks:g}) must be at least "
                f"timeline.sustained_remission_week ({self.timeline.sustained_remission_week:g}), so that every "
                "participant can reach the sustained-remission assessment before the analysis"
            )
        return self

    @property
    def control_arm(self) -> TteArmModel:
        return next(a for a in self.arms if a.control)

    @property
    def treated_arm(self) -> TteArmModel:
        return next(a for a in self.arms if not a.control)

    @property
    def analysis_week(self) -> float:
        return self.design.accrual_weeks + self.design.follow_up_weeks

    def design_points(self) -> tuple[tuple[int, int], ...]:
        """(n_control, n_treated) per design point."""
        d = self.design
        if d.n_per_arm is None:
            return ((int(cast(int, d.n_control)), int(cast(int, d.n_treated))),)
        values = d.n_per_arm if isinstance(d.n_per_arm, list) else [d.n_per_arm]
        return tuple((int(v), int(v)) for v in values)

    def n_axis(self) -> tuple[str, tuple[int, ...]]:
        if self.design.n_per_arm is not None:
            return "n per arm", tuple(c for c, _ in self.design_points())
        return "n randomised", tuple(c + t for c, t in self.design_points())

    def flare_horizon(self) -> float:
        """Latest week since randomisation at which a flare can be observed."""
        end = self.timeline.flare_end_week
        return self.analysis_week if end is None else min(end, self.analysis_week)

    def check(self) -> RemissionFlareScenario:
        """Check the arms against the named protocol (arm ids, taper end = end of the protocol's ``gc_taper``)."""
        if self.protocol is None:
            return self
        from pmrtrial.protocol import load_protocol

        try:
            proto = load_protocol(self.protocol)
        except ProtocolError as exc:
            raise ScenarioError(f"Scenario {self.name!r}: protocol {self.protocol!r}: {exc}") from None
        known = {a.id: a for a in proto.arms}
        for arm in self.arms:
            if arm.id not in known:
                raise ScenarioError(
                    f"Scenario {self.name!r}: arms.{arm.id}: not an arm of protocol {proto.id!r} "
                    f"(accepted: {sorted(known)}); drop 'protocol' for a hypothetical trial."
                )
            taper = getattr(known[arm.id], "gc_taper", None) or ()
            end = max((float(step.to_week) for step in taper), default=None)
            if end is not None and arm.taper_end_week != end:
                raise ScenarioError(
                    f"Scenario {self.name!r}: arms.{arm.id}.taper_end_week is {arm.taper_end_week!r}; protocol "
                    f"{proto.id!r} ends that arm's gc_taper at week {end:g}."
                )
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @cached_property
    def model_key(self) -> str:
        return self.model_dump_json(exclude={"calibration", "description", "sources", "name"})


# ------------------------------------------------------------------------------------------------
# loading

#: Bundled time-to-event scenarios: name -> file in pmrtrial/design/scenarios/.
_BUNDLED_TTE = {name: f"{name}.yaml" for name in ("saphyr-as-run", "saphyr-null", "next-pmr-flare",
                                                  "next-pmr-flare-exponential")}  # fmt: skip


def list_tte_scenarios() -> list[str]:
    """Names of the bundled time-to-event scenarios."""
    return sorted(_BUNDLED_TTE)


def scenario_kind(source: str | Mapping[str, Any]) -> str:
    """The ``kind`` of a scenario (YAML text or mapping): ``binary`` (the default) or ``time_to_event``."""
    kind = scenario_mapping(source).get("kind", "binary")
    if kind not in KINDS:
        raise ScenarioError(f"Invalid scenario: field 'kind' is {kind!r}; accepted: {', '.join(KINDS)}.")
    return str(kind)


def load_tte_scenario(source: str | Mapping[str, Any]) -> RemissionFlareScenario:
    """A checked time-to-event scenario from a bundled name (``"saphyr-as-run"``), YAML text or a mapping.

    Raises
    ------
    ScenarioError
        Unknown name, malformed YAML, a field out of range (named, with the value and what is accepted) or an
        inconsistency with the named protocol.
    """
    if isinstance(source, str) and source in _BUNDLED_TTE:
        source = resources.files("pmrtrial.design.scenarios").joinpath(_BUNDLED_TTE[source]).read_text("utf-8")
    elif isinstance(source, str) and "\n" not in source and ":" not in source:
        raise ScenarioError(f"Unknown scenario {source!r}. Expected one of {list_tte_scenarios()} or a scenario file.")
    data = scenario_mapping(source)
    try:
        scenario = RemissionFlareScenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(f"Invalid scenario {data.get('name', '?')!r}: {format_validation_error(exc)}") from None
    return scenario.check()


# ------------------------------------------------------------------------------------------------
# generation


@dataclass(frozen=True)
class TteDesignPoint:
    """Per-participant parameters of one design point (columns: control first, then treated)."""

    n_control: int
    n_treated: int
    remission: FloatArray
    hazard_before: FloatArray
    hazard_after: FloatArray
    change: FloatArray
    dropout_hazard: FloatArray
    landmark: float
    sr_week: float
    flare_end: float
    accrual: float
    analysis_week: float

    @classmethod
    def build(cls, scenario: RemissionFlareScenario, n_control: int, n_treated: int) -> TteDesignPoint:
        arms = (scenario.control_arm, scenario.treated_arm)
        counts = (n_control, n_treated)

        def per(values: Sequence[float]) -> FloatArray:
            return np.repeat(np.asarray(values, dtype=float), counts)

        end = scenario.timeline.flare_end_week
        return cls(
            n_control=n_control,
            n_treated=n_treated,
            remission=per([a.remission_probability for a in arms]),
            hazard_before=per([a.flare_hazard_per_week for a in arms]),
            hazard_after=per([a.hazard_after for a in arms]),
            change=per([math.inf if a.taper_end_week is None else a.taper_end_week for a in arms]),
            dropout_hazard=per([a.dropout.hazard for a in arms]),
            landmark=scenario.timeline.landmark_week,
            sr_week=scenario.timeline.sustained_remission_week,
            flare_end=math.inf if end is None else end,
            accrual=scenario.design.accrual_weeks,
            analysis_week=scenario.analysis_week,
        )

    @property
    def group(self) -> npt.NDArray[np.int64]:
        return np.repeat(np.array([0, 1], dtype=np.int64), (self.n_control, self.n_treated))


@dataclass(frozen=True)
class TteReplicates:
    """Patient-level replicates (rows) of one design point; ``flare_time`` is NaN for those not at risk."""

    at_risk: npt.NDArray[np.bool_]
    flare_time: FloatArray
    flare_event: npt.NDArray[np.bool_]
    sustained_remission: npt.NDArray[np.bool_]
    group: npt.NDArray[np.int64]


def _flare_weeks(point: TteDesignPoint, unit: FloatArray) -> FloatArray:
    """Flare week since randomisation: invert the cumulative hazard from the landmark at Exp(1) draws."""
    start = point.landmark
    first = np.clip(point.change - start, 0.0, None) * point.hazard_before  # hazard accumulated before the change
    with np.errstate(invalid="ignore"):
        before = start + unit / point.hazard_before
        after = np.maximum(point.change, start) + (unit - first) / point.hazard_after
    return np.where(unit < first, before, after)


def _generate(point: TteDesignPoint, rng: np.random.Generator, n_reps: int) -> TteReplicates:
    shape = (n_reps, point.n_control + point.n_treated)
    entry = rng.uniform(0.0, point.accrual, shape)
    in_remission = rng.random(shape) < point.remission
    with np.errstate(divide="ignore"):
        dropout = rng.standard_exponential(shape) / point.dropout_hazard  # inf where no drop-out
    flare = _flare_weeks(point, rng.standard_exponential(shape))
    at_risk = in_remission & (dropout > point.landmark)
    end = np.minimum(np.minimum(dropout, point.analysis_week - entry), point.flare_end)
    event = at_risk & (flare <= end)
    time_ = np.where(at_risk, np.minimum(flare, end) - point.landmark, np.nan)
    sustained = at_risk & (flare > point.sr_week) & (dropout > point.sr_week)
    return TteReplicates(at_risk, time_, event, sustained, point.group)


def _block_rng(seed: int, point: TteDesignPoint, block: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(point.n_control, point.n_treated, block)))


def simulate_tte_replicates(
    scenario: RemissionFlareScenario, n_sims: int, seed: int, *, point: int = 0
) -> TteReplicates:
    """Patient-level data of the first ``n_sims`` replicates of design point ``point`` (for inspection and the R
    checks); exactly those analysed by :func:`simulate_tte_operating_characteristics` with the same seed."""
    dp = TteDesignPoint.build(scenario, *scenario.design_points()[point])
    blocks = [_generate(dp, _block_rng(seed, dp, k), BLOCK_SIZE) for k in range(-(-n_sims // BLOCK_SIZE))]
    joined = {f: np.concatenate([getattr(b, f) for b in blocks])[:n_sims] for f in _ROW_FIELDS}
    return dataclasses.replace(blocks[0], **joined)


_ROW_FIELDS = ("at_risk", "flare_time", "flare_event", "sustained_remission")


def _rows(data: TteReplicates, lo: int, hi: int) -> TteReplicates:
    """Replicates ``lo`` to ``hi - 1``."""
    return dataclasses.replace(data, **{f: getattr(data, f)[lo:hi] for f in _ROW_FIELDS})


# ------------------------------------------------------------------------------------------------
# analysis


def _analyse(data: TteReplicates) -> dict[str, npt.NDArray[Any]]:
    g = data.group.astype(bool)
    # participants not at risk are set to time -1, censored: before every event time, so in no risk set
    t = np.where(data.at_risk, data.flare_time, -1.0)
    e = data.flare_event
    o_e, var, _ = logrank_statistics(t, e, data.group)
    cox = cox_efron_statistics(t, e, data.group)
    return {
        "sr_control": data.sustained_remission[:, ~g].sum(axis=1),
        "sr_treated": data.sustained_remission[:, g].sum(axis=1),
        "at_risk_control": data.at_risk[:, ~g].sum(axis=1),
        "at_risk_treated": data.at_risk[:, g].sum(axis=1),
        "events_control": e[:, ~g].sum(axis=1),
        "events_treated": e[:, g].sum(axis=1),
        "logrank_o_minus_e": o_e,
        "logrank_variance": var,
        "cox_log_hr": cox.log_hr,
        "cox_se": cox.se,
        "cox_estimable": cox.estimable,
        "cox_converged": cox.converged,
    }


@dataclass(frozen=True)
class _Model:
    """What a task needs (picklable for Dask): the design points and their order."""

    points: tuple[TteDesignPoint, ...]


def run_tte_task(
    model: _Model, index: int, seed: int, first_block: int, n_reps: int, batch_size: int, _unused: bool = True
) -> tuple[dict[str, npt.NDArray[Any]], dict[str, int]]:
    """Generate and analyse ``n_reps`` replicates of design point ``index`` from RNG block ``first_block`` on.

    Same signature as the binary kind's task (:func:`pmrtrial.design.simulate.run_task`), so that the same Dask
    runner submits it; blocks are generated whole and analysed in batches of ``batch_size``.
    """
    point = model.points[index]
    parts: list[dict[str, npt.NDArray[Any]]] = []
    for k in range(-(-n_reps // BLOCK_SIZE)):
        data = _generate(point, _block_rng(seed, point, first_block + k), BLOCK_SIZE)
        keep = min(BLOCK_SIZE, n_reps - k * BLOCK_SIZE)
        for lo in range(0, keep, batch_size):  # batches never cross a block: results do not depend on batch_size
            hi = min(lo + batch_size, keep)
            parts.append(_analyse(_rows(data, lo, hi)))
    return {k: np.concatenate([p[k] for p in parts]) for k in TTE_REPLICATE_FIELDS}, {}


# ------------------------------------------------------------------------------------------------
# truth


@dataclass(frozen=True)
class TteTruth:
    """True sustained-remission probabilities (closed form) and the true hazard ratio of flare after remission."""

    sr_control: float
    sr_treated: float
    risk_difference: float
    risk_ratio: float
    hazard_ratio: float
    log_hr: float
    mcse_log_hr: float
    proportional_hazards: bool
    hr_method: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _proportional(scenario: RemissionFlareScenario) -> float | None:
    """The constant hazard ratio over the flare follow-up window, or None when hazards are not proportional."""
    lo, hi = scenario.timeline.landmark_week, scenario.flare_horizon()
    c, t = scenario.control_arm, scenario.treated_arm
    cuts = sorted(
        {lo, hi, *(a.taper_end_week for a in (c, t) if a.taper_end_week is not None and lo < a.taper_end_week < hi)}
    )
    ratios = set()
    for a, b in itertools.pairwise(cuts):
        mid = (a + b) / 2
        rate = [
            arm.flare_hazard_per_week if arm.taper_end_week is None or mid < arm.taper_end_week else arm.hazard_after
            for arm in (c, t)
        ]
        ratios.add(round(rate[1] / rate[0], 12))
    return ratios.pop() if len(ratios) == 1 else None


_TRUTH_CACHE: dict[str, TteTruth] = {}


def cox_limit(scenario: RemissionFlareScenario) -> tuple[float, float]:
    """(log HR, SE) of one Cox fit on ``truth_n_per_arm`` participants per arm (seed :data:`TTE_TRUTH_SEED`)."""
    n = scenario.truth_n_per_arm
    point = TteDesignPoint.build(scenario, n, n)
    data = _generate(point, np.random.default_rng(np.random.SeedSequence(TTE_TRUTH_SEED)), 1)
    fit = cox_efron_statistics(np.where(data.at_risk, data.flare_time, -1.0), data.flare_event, point.group)
    return float(fit.log_hr[0]), float(fit.se[0])


def tte_truth(scenario: RemissionFlareScenario) -> TteTruth:
    """True effects of a scenario (see the module docstring); memoised per scenario model."""
    cached = _TRUTH_CACHE.get(scenario.model_key)
    if cached is not None:
        return cached
    w, lm = scenario.timeline.sustained_remission_week, scenario.timeline.landmark_week
    sr = [
        arm.remission_probability * math.exp(-arm.dropout.hazard * w - arm.cumulative_hazard(lm, w))
        for arm in (scenario.control_arm, scenario.treated_arm)
    ]
    ph = _proportional(scenario)
    if ph is not None:
        log_hr, mcse, method = math.log(ph), 0.0, "stated: the arms' flare hazards are proportional over follow-up"
    else:
        log_hr, mcse = cox_limit(scenario)
        method = (
            "non-proportional hazards: large-sample limit of the Cox estimate under this scenario's follow-up, one "
            f"Cox fit on {scenario.truth_n_per_arm:,} participants per arm (seed {TTE_TRUTH_SEED}); "
            "mcse_log_hr = its SE"
        )
    truth = TteTruth(
        sr_control=sr[0], sr_treated=sr[1], risk_difference=sr[1] - sr[0],
        risk_ratio=sr[1] / sr[0] if sr[0] > 0 else math.nan, hazard_ratio=math.exp(log_hr), log_hr=log_hr,
        mcse_log_hr=mcse, proportional_hazards=ph is not None, hr_method=method,
    )  # fmt: skip
    _TRUTH_CACHE[scenario.model_key] = truth
    return truth


# ------------------------------------------------------------------------------------------------
# summary


def _binary_analyses(
    x_t: npt.NDArray[np.int64], n_t: int, x_c: npt.NDArray[np.int64], n_c: int, conf_level: float
) -> dict[str, FloatArray]:
    """Fisher p, Newcombe RD and Katz RR per replicate, each distinct table computed once by pmrtrial.stats."""
    from pmrtrial.stats.proportions import estimate_risk_difference, estimate_risk_ratio

    fisher = compute_fisher_pvalues(n_c, n_t)[x_c, x_t]
    tables, inverse = np.unique(np.stack([x_t, x_c], axis=1), axis=0, return_inverse=True)
    cols: dict[str, list[float]] = {k: [] for k in ("rd", "rd_lo", "rd_hi", "rr", "rr_lo", "rr_hi", "rr_p")}
    for a, c in tables:
        rd = estimate_risk_difference(
            int(a), n_treated=n_t, events_control=int(c), n_control=n_c, conf_level=conf_level
        )
        rr = estimate_risk_ratio(int(a), n_treated=n_t, events_control=int(c), n_control=n_c, conf_level=conf_level)
        for key, value in (("rd", rd.estimate), ("rd_lo", rd.lo), ("rd_hi", rd.hi), ("rr", rr.estimate),
                           ("rr_lo", rr.lo), ("rr_hi", rr.hi), ("rr_p", rr.p)):  # fmt: skip
            cols[key].append(math.nan if value is None else float(value))
    out = {k: np.asarray(v)[inverse.ravel()] for k, v in cols.items()}
    out["fisher_p"] = fisher
    return out


@dataclass(frozen=True)
class TteOperatingPoint:
    """Operating characteristics of one design point (metrics with Monte Carlo SEs, and counts)."""

    n_control: int
    n_treated: int
    n_axis_value: int
    n_sims: int
    alpha: float
    is_null: bool
    metrics: dict[str, Estimate]
    counts: dict[str, int]

    @property
    def n_total(self) -> int:
        return self.n_control + self.n_treated

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_control": self.n_control,
            "n_treated": self.n_treated,
            "n_axis_value": self.n_axis_value,
            "n_sims": self.n_sims,
            "alpha": self.alpha,
            "is_null": self.is_null,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "counts": dict(self.counts),
        }


def summarise_tte(
    reps: Mapping[str, npt.NDArray[Any]],
    truth: TteTruth,
    *,
    n_control: int,
    n_treated: int,
    n_axis_value: int,
    alpha: float,
    conf_level: float,
    min_events: int,
) -> TteOperatingPoint:
    """Power per analysis, estimates, coverage, events and the replicates with too few events or no Cox fit.

    A replicate whose Cox fit is not estimable (no flare, or every flare in one arm: infinite estimate) counts as
    not rejected by the Wald test and is left out of the HR summaries and coverage; the log-rank test is
    undefined (V = 0) only without any flare and then counts as not rejected. Both are counted.
    """
    n = int(reps["sr_control"].size)
    z = float(ndtri(0.5 + conf_level / 2))
    m: dict[str, Estimate] = {}
    b = _binary_analyses(reps["sr_treated"], n_treated, reps["sr_control"], n_control, conf_level)
    m["sustained_remission_control"] = _mean(reps["sr_control"] / n_control)
    m["sustained_remission_treated"] = _mean(reps["sr_treated"] / n_treated)
    m["power_fisher"] = _rate(b["fisher_p"] <= alpha)
    m["power_rd_newcombe"] = _rate((b["rd_lo"] > 0) | (b["rd_hi"] < 0))
    m["power_rr_katz"] = _rate(np.nan_to_num(b["rr_p"], nan=2.0) <= alpha)
    m["mean_risk_difference"] = _mean(b["rd"])
    m["coverage_rd_newcombe"] = _rate((b["rd_lo"] <= truth.risk_difference) & (truth.risk_difference <= b["rd_hi"]))
    if math.isfinite(truth.risk_ratio) and truth.risk_ratio > 0:
        m["coverage_rr_katz"] = _rate((b["rr_lo"] <= truth.risk_ratio) & (truth.risk_ratio <= b["rr_hi"]))
    var = reps["logrank_variance"]
    testable = var > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        p_lr = np.where(testable, chdtrc(1, np.where(testable, reps["logrank_o_minus_e"] ** 2 / var, 0.0)), np.nan)
    est = reps["cox_estimable"].astype(bool)
    log_hr, se = reps["cox_log_hr"], reps["cox_se"]
    with np.errstate(invalid="ignore", divide="ignore"):
        p_wald = np.where(est, 2.0 * ndtr(-np.abs(log_hr / se)), np.nan)
    m["power_logrank"] = _rate(np.nan_to_num(p_lr, nan=2.0) <= alpha)
    m["power_cox_wald"] = _rate(np.nan_to_num(p_wald, nan=2.0) <= alpha)
    m["mean_hr"] = _mean(np.exp(log_hr[est]))
    hr_sorted = np.exp(log_hr[est])
    m["median_hr"] = Estimate(
        float(np.median(hr_sorted)) if hr_sorted.size else math.nan, math.nan, int(hr_sorted.size)
    )
    m["bias_log_hr"] = _mean(log_hr[est] - truth.log_hr)
    m["coverage_cox_wald"] = _rate(np.abs(log_hr[est] - truth.log_hr) <= z * se[est])
    events = (reps["events_control"] + reps["events_treated"]).astype(np.float64)
    m["flare_events"] = _mean(events)
    m["flare_events_control"] = _mean(reps["events_control"].astype(np.float64))
    m["flare_events_treated"] = _mean(reps["events_treated"].astype(np.float64))
    m["at_risk_after_remission"] = _mean((reps["at_risk_control"] + reps["at_risk_treated"]).astype(np.float64))
    m["too_few_events_rate"] = _rate(events < min_events)
    m["cox_not_estimable_rate"] = _rate(~est)
    counts = {
        "too_few_events": int((events < min_events).sum()),
        "min_events": int(min_events),
        "no_flare": int((events == 0).sum()),
        "logrank_not_testable": int((~testable).sum()),
        "cox_not_estimable": int((~est).sum()),
        "cox_all_flares_in_one_arm": int(((reps["events_control"] == 0) | (reps["events_treated"] == 0)).sum()),
        "cox_non_convergence": int(
            (~reps["cox_converged"].astype(bool) & (reps["events_control"] > 0) & (reps["events_treated"] > 0)).sum()
        ),
        "fisher_rejections": int((b["fisher_p"] <= alpha).sum()),
        "logrank_rejections": int((np.nan_to_num(p_lr, nan=2.0) <= alpha).sum()),
    }
    is_null = abs(truth.log_hr) < 1e-12 and abs(truth.risk_difference) < 1e-12
    return TteOperatingPoint(n_control, n_treated, n_axis_value, n, alpha, is_null, m, counts)


def _n_for_power(axis: Sequence[int], points: Sequence[TteOperatingPoint], metric: str) -> dict[str, Any]:
    """Smallest swept n reaching 80% and 90% power, and the linear interpolation between the bracketing points."""
    out: dict[str, Any] = {}
    values = [p.metrics[metric].value for p in points]
    for target in (0.8, 0.9):
        hit = next((i for i, v in enumerate(values) if v >= target), None)
        entry: dict[str, Any] = {"smallest_swept_n": None if hit is None else axis[hit], "interpolated_n": None}
        if hit is not None and hit > 0 and values[hit] > values[hit - 1]:
            x0, x1, y0, y1 = axis[hit - 1], axis[hit], values[hit - 1], values[hit]
            entry["interpolated_n"] = x0 + (target - y0) * (x1 - x0) / (y1 - y0)
        out[f"{target:.0%}"] = entry
    return out


def closed_form_power(scenario: RemissionFlareScenario) -> dict[str, Any] | None:
    """Schoenfeld power of the log-rank test at each design point (:func:`pmrtrial.design.compute_power_survival`,
    as ``pmrtrial design power --endpoint time-to-event`` and rpact ``getPowerSurvival``), when the scenario meets
    the closed form's assumptions: everyone at risk from randomisation (remission probability 1, landmark 0),
    exponential flare times (no change at a taper end), the same drop-out in both arms, 1:1 allocation, and flare
    follow-up to the analysis cut. None otherwise."""
    from pmrtrial.design.survival import compute_power_survival

    c, t = scenario.control_arm, scenario.treated_arm
    exponential = all(a.hazard_after == a.flare_hazard_per_week for a in (c, t))
    if not (
        exponential
        and c.remission_probability == t.remission_probability == 1.0
        and scenario.timeline.landmark_week == 0
        and scenario.timeline.flare_end_week is None
        and c.dropout.hazard == t.dropout.hazard
        and all(n_c == n_t for n_c, n_t in scenario.design_points())
    ):
        return None
    hr = t.flare_hazard_per_week / c.flare_hazard_per_week
    axis = scenario.n_axis()[1]
    points = []
    for (n_c, n_t), value in zip(scenario.design_points(), axis, strict=True):
        res = compute_power_survival(
            hr, n=n_c + n_t, alpha=scenario.design.alpha, lambda_control=c.flare_hazard_per_week,
            accrual_time=scenario.design.accrual_weeks, follow_up_time=scenario.design.follow_up_weeks,
            dropout_rate=c.dropout.proportion, dropout_time=c.dropout.by_week,
        )  # fmt: skip
        points.append({"n_axis_value": value, "power": res.power, "events": res.events})
    return {"method": "Schoenfeld (1981), pmrtrial.design.compute_power_survival", "hazard_ratio": hr, "points": points}


# ------------------------------------------------------------------------------------------------
# driver


@dataclass(frozen=True)
class TteSimulationResult:
    """Operating characteristics of a time-to-event scenario over its design points, with run metadata."""

    scenario: str
    description: str
    seed: int
    n_sims: int
    batch_size: int
    executor: str
    elapsed_s: float
    trials_per_second: float
    n_axis_label: str
    truth: TteTruth
    points: tuple[TteOperatingPoint, ...]
    n_for_power: dict[str, Any]
    closed_form: dict[str, Any] | None
    scenario_data: dict[str, Any]
    software: dict[str, str]
    replicates: tuple[dict[str, npt.NDArray[Any]], ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "time_to_event",
            "scenario": self.scenario,
            "description": self.description,
            "seed": self.seed,
            "n_sims": self.n_sims,
            "block_size": BLOCK_SIZE,
            "batch_size": self.batch_size,
            "executor": self.executor,
            "elapsed_s": self.elapsed_s,
            "trials_per_second": self.trials_per_second,
            "n_axis_label": self.n_axis_label,
            "analysis": (
                "sustained remission (all randomised, non-responder imputation): Fisher exact two-sided p (R "
                "fisher.test), risk difference with Newcombe hybrid-score CI, crude risk ratio with Katz CI; flare "
                "after remission (in remission at the landmark, time from the landmark): log-rank test (R survdiff) "
                "and Cox PH hazard ratio, Efron ties, Wald CI (R coxph)"
            ),
            "truth": self.truth.to_dict(),
            "points": [p.to_dict() for p in self.points],
            "n_for_power": self.n_for_power,
            "closed_form": self.closed_form,
            "scenario_definition": self.scenario_data,
            "software": dict(self.software),
        }

    def table_rows(self) -> list[dict[str, Any]]:
        """One flat row per design point and metric (the same columns as the binary kind's table)."""
        return operating_rows(self.scenario, self.n_axis_label, self.points)


def simulate_tte_operating_characteristics(
    scenario: RemissionFlareScenario,
    *,
    n_sims: int,
    seed: int,
    batch_size: int = 5000,
    client: Any = None,
    progress: Progress | None = None,
    keep_replicates: bool = True,
) -> TteSimulationResult:
    """Simulate ``n_sims`` trials per design point and summarise their operating characteristics.

    Results depend only on ``(scenario, seed)`` (see the module docstring): ``batch_size`` (replicates analysed
    per vectorised batch and, rounded up to whole RNG blocks, per task) and ``client`` (a Dask client, or None
    for in-process) change only how fast.
    """
    if isinstance(n_sims, bool) or not isinstance(n_sims, int | np.integer) or n_sims < 1:
        raise ScoreInputError("n_sims", n_sims, "a positive integer")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ScoreInputError("batch_size", batch_size, "a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise ScoreInputError("seed", seed, "a non-negative integer")
    n_sims, batch_size, seed = int(n_sims), int(batch_size), int(seed)
    sizes = scenario.design_points()
    largest = max(c + t for c, t in sizes)
    if min(batch_size, BLOCK_SIZE) * largest > 50_000_000:
        raise ScoreInputError("batch_size", batch_size, f"at most {50_000_000 // largest} for {largest} participants")
    model = _Model(tuple(TteDesignPoint.build(scenario, c, t) for c, t in sizes))
    truth = tte_truth(scenario)
    plan = _plan(n_sims, batch_size)
    t0 = time.perf_counter()
    if client is None:
        results: list[list[tuple[dict[str, npt.NDArray[Any]], dict[str, int]]]] = []
        for i in range(len(sizes)):
            parts = []
            for first_block, n_reps in plan:
                parts.append(run_tte_task(model, i, seed, first_block, n_reps, batch_size))
                if progress is not None:
                    progress(n_reps)
            results.append(parts)
        executor = "in-process"
    else:
        from pmrtrial.design.simulate_dask import run_tasks_dask

        # the binary kind's runner: it submits task(model, index, seed, first_block, n_reps, batch_size, flag)
        results = run_tasks_dask(
            client, run_tte_task, cast(Any, model), range(len(sizes)), seed, plan, batch_size, True, progress
        )
        executor = f"dask: {client.scheduler.address if hasattr(client, 'scheduler') else client}"
    elapsed = time.perf_counter() - t0
    axis_label, axis_values = scenario.n_axis()
    points, kept = [], []
    for (n_c, n_t), axis_value, parts in zip(sizes, axis_values, results, strict=True):
        reps = {k: np.concatenate([p[0][k] for p in parts]) for k in TTE_REPLICATE_FIELDS}
        points.append(
            summarise_tte(
                reps, truth, n_control=n_c, n_treated=n_t, n_axis_value=axis_value, alpha=scenario.design.alpha,
                conf_level=scenario.design.conf_level, min_events=scenario.design.min_events,
            )
        )  # fmt: skip
        if keep_replicates:
            kept.append(reps)
    n_for_power = {}
    if len(points) > 1:
        for metric in ("power_logrank", "power_cox_wald", "power_fisher"):
            n_for_power[metric] = _n_for_power(axis_values, points, metric)
    total = n_sims * len(sizes)
    return TteSimulationResult(
        scenario=scenario.name, description=scenario.description, seed=seed, n_sims=n_sims, batch_size=batch_size,
        executor=executor, elapsed_s=elapsed, trials_per_second=total / elapsed if elapsed > 0 else math.inf,
        n_axis_label=axis_label, truth=truth, points=tuple(points), n_for_power=n_for_power,
        closed_form=closed_form_power(scenario),
        scenario_data=scenario.to_dict(), software=dict(software_versions()), replicates=tuple(kept),
    )  # fmt: skip
