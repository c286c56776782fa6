"""Frozen result objects returned by every function of :mod:`pmrtrial.stats`.

Results are data: the analysis engine puts them in ``results.json`` through :meth:`to_dict`, and tables
and reports are built from them. Field names are shared with the GEE result (``estimate``, ``lo``,
``hi``, ``p``, ``method``, ``converged``, ``warnings``) so that a report can treat them alike.

JSON encoding of non-finite numbers: ``NaN`` becomes ``None``; ``+inf``/``-inf`` become the strings
``"inf"``/``"-inf"`` (an infinite upper confidence limit is meaningful, e.g. a risk ratio with no event
in the control arm).
"""

from __future__ import annotations

import math
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar, Generic, Protocol, TypeVar

__all__ = [
    "BangBlindingResult",
    "BlindingArm",
    "EstimateResult",
    "KaplanMeierArm",
    "KaplanMeierResult",
    "TestResult",
    "jsonable",
    "software_versions",
]


@lru_cache(maxsize=1)
def _software_versions() -> tuple[tuple[str, str], ...]:
    import numpy
    import scipy
    import statsmodels

    import pmrtrial

    return (
        ("python", platform.python_version()),
        ("numpy", numpy.__version__),
        ("scipy", scipy.__version__),
        ("statsmodels", statsmodels.__version__),
        ("pmrtrial", pmrtrial.__version__),
    )


def software_versions() -> Mapping[str, str]:
    """Versions of Python, numpy, scipy, statsmodels and pmrtrial, as recorded in every result."""
    return MappingProxyType(dict(_software_versions()))


def jsonable(value: Any, *, strict: bool = True) -> Any:
    """Convert ``value`` (numbers, numpy scalars, mappings, sequences, objects with ``to_dict``) to
    JSON-serialisable Python objects.

    NaN becomes ``None``; infinities become ``"inf"``/``"-inf"``. Any other object raises ``TypeError``
    when ``strict`` (the result objects here), or becomes its ``str`` (the analysis report, which must
    never fail on a stray label).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return jsonable(value.to_dict(), strict=strict)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, strict=strict) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, strict=strict) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return jsonable(value.item(), strict=strict)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if strict:
        raise TypeError(f"Cannot convert {type(value).__name__} to JSON.")
    return str(value)


class _HasArm(Protocol):
    @property
    def arm(self) -> str: ...


_ArmT = TypeVar("_ArmT", bound=_HasArm)


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


class _ResultBase:
    """Shared behaviour of the frozen result dataclasses: read-only mappings and ``to_dict``."""

    _kind: ClassVar[str]
    details: Mapping[str, Any]
    software: Mapping[str, str]
    warnings: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", _freeze(self.details))
        object.__setattr__(self, "software", _freeze(self.software))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of every field (see the module docstring for NaN/inf)."""
        out: dict[str, Any] = {"kind": self._kind}
        for f in fields(self):  # type: ignore[arg-type]
            out[f.name] = jsonable(getattr(self, f.name))
        return out


@dataclass(frozen=True)
class EstimateResult(_ResultBase):
    """An effect estimate with its interval (confidence or credible) and, where defined, a p-value.

    Attributes
    ----------
    estimand : str
        What is estimated: ``"risk_ratio"``, ``"risk_difference"``, ``"mean_difference"``.
        Contrasts are always treated minus (or over) control.
    estimate : float
        Point estimate (for a Bayesian result, the posterior median). NaN when not estimable.
    lo, hi : float
        Interval limits at ``conf_level``; may be 0 or ``inf`` for ratios with empty cells.
    conf_level : float
        Confidence level (credible level for a Bayesian result), e.g. 0.95.
    p : float or None
        Two-sided p-value of the null of no difference when the method defines one, else None.
    method : str
        Human-readable name of the algorithm, precise enough to reproduce it.
    n_treated, n_control : int
        Number of observations used in each arm (after dropping missing values).
    events_treated, events_control : int or None
        Number of events (binary outcomes only).
    converged : bool
        False when an iterative step (root finding, integration) did not meet its tolerance.
    warnings : tuple of str
        Caveats: corrections applied, degenerate data, numerical fall-backs.
    details : Mapping
        Method-specific extras (standard error, degrees of freedom, statistic, posterior probability...).
    software : Mapping
        Versions of the numerical stack that produced the result.
    available : bool
        False when the data do not allow the estimate (no event in an arm, an empty arm, separation...);
        the numbers are then NaN and ``reason`` says why. Never an invented number.
    reason : str or None
        Why the result is not available (None when it is).
    """

    estimand: str
    estimate: float
    lo: float
    hi: float
    conf_level: float
    p: float | None
    method: str
    n_treated: int
    n_control: int
    events_treated: int | None = None
    events_control: int | None = None
    converged: bool = True
    warnings: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    software: Mapping[str, str] = field(default_factory=software_versions)
    available: bool = True
    reason: str | None = None

    _kind: ClassVar[str] = "estimate"


@dataclass(frozen=True)
class TestResult(_ResultBase):
    """A hypothesis test.

    Attributes
    ----------
    statistic : float
        The test statistic (method-specific, see ``method``; NaN when the method defines none).
    p : float
        The p-value for ``alternative``.
    method : str
        Name of the test and the settings that change its value.
    alternative : str
        ``"two-sided"``, ``"less"`` or ``"greater"``.
    n_treated, n_control, events_treated, events_control : int or None
        The data summarised.
    converged, warnings, details, software, available, reason
        As in :class:`EstimateResult` (a test that cannot be computed has ``p`` NaN and ``available`` False).
    """

    __test__ = False  # not a pytest test class

    statistic: float
    p: float
    method: str
    alternative: str
    n_treated: int
    n_control: int
    events_treated: int | None = None
    events_control: int | None = None
    converged: bool = True
    warnings: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    software: Mapping[str, str] = field(default_factory=software_versions)
    available: bool = True
    reason: str | None = None

    _kind: ClassVar[str] = "test"


class _ArmEntry:
    """One arm's entry of a per-arm result (a frozen dataclass): JSON via ``to_dict``."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict of every field."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class _ArmsResultBase(_ResultBase, Generic[_ArmT]):
    """A result holding one entry per arm (``arms``, declared by the subclass), looked up by :meth:`arm`."""

    arms: tuple[_ArmT, ...]
    converged: bool = True
    warnings: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    software: Mapping[str, str] = field(default_factory=software_versions)
    available: bool = True
    reason: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "arms", tuple(self.arms))

    def arm(self, name: str) -> _ArmT:
        """Return the entry of arm ``name`` (KeyError naming the arms when absent)."""
        for entry in self.arms:
            if entry.arm == name:
                return entry
        raise KeyError(f"No arm {name!r}; arms are {[a.arm for a in self.arms]}")


@dataclass(frozen=True)
class KaplanMeierArm(_ArmEntry):
    """The Kaplan-Meier estimate of one arm (as R ``survfit(Surv(time, event) ~ 1)`` on that arm).

    Attributes
    ----------
    arm : str
        The arm label.
    n, events : int
        Participants and events in the arm.
    median, median_lo, median_hi : float
        Median survival time and its confidence interval by the ``survfit`` rule (the times at which
        the survival curve and its lower/upper confidence curves reach 0.5; midpoint rule on a flat
        segment at exactly 0.5). NaN when not reached (R's ``NA``), see ``median_reached``.
    median_reached : bool
        Whether the survival curve falls to 0.5 or below.
    table_time, table_n_risk, table_n_event, table_n_censor, table_survival, table_lo, table_hi : tuple
        The step table at each distinct observed time (R's ``fit$time``, ``n.risk``, ``n.event``,
        ``n.censor``, ``surv``, ``lower``, ``upper``); an undefined limit (survival 0) is NaN.
    at_time, at_survival, at_lo, at_hi, at_n_risk : tuple
        Survival and numbers at risk at the requested times (R ``summary(fit, times = ...)``); a time
        after the last observed time gives NaN survival and 0 at risk.
    available, reason
        False with a reason when the arm is empty.
    """

    arm: str
    n: int
    events: int
    median: float
    median_lo: float
    median_hi: float
    median_reached: bool
    table_time: tuple[float, ...] = ()
    table_n_risk: tuple[int, ...] = ()
    table_n_event: tuple[int, ...] = ()
    table_n_censor: tuple[int, ...] = ()
    table_survival: tuple[float, ...] = ()
    table_lo: tuple[float, ...] = ()
    table_hi: tuple[float, ...] = ()
    at_time: tuple[float, ...] = ()
    at_survival: tuple[float, ...] = ()
    at_lo: tuple[float, ...] = ()
    at_hi: tuple[float, ...] = ()
    at_n_risk: tuple[int, ...] = ()
    available: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class KaplanMeierResult(_ArmsResultBase[KaplanMeierArm]):
    """Kaplan-Meier estimates by arm.

    Attributes
    ----------
    arms : tuple of KaplanMeierArm
        One entry per arm, in the order requested.
    conf_level : float
        Level of the pointwise and median intervals.
    conf_type : str
        ``"log"`` (R ``survfit``'s default): limits ``S * exp(+-z * se(log S))`` with Greenwood's
        variance, the upper limit capped at 1.
    method : str
        Description of the estimator.
    converged, warnings, details, software, available, reason
        As in :class:`EstimateResult`; ``available`` is False when no arm has a participant.
    """

    arms: tuple[KaplanMeierArm, ...]
    conf_level: float
    conf_type: str
    method: str

    _kind: ClassVar[str] = "kaplan_meier"


@dataclass(frozen=True)
class BlindingArm(_ArmEntry):
    """Bang's blinding index of one arm.

    Attributes
    ----------
    arm : str
        The arm label.
    n, correct, incorrect, dont_know : int
        Respondents in the arm and how many guessed their own arm, the other arm, or did not know.
    estimate, se, lo, hi : float
        The index ``(correct - incorrect) / n`` in [-1, 1] (0 = random guessing, 1 = everyone correct,
        -1 = everyone wrong), its standard error and Wald limits. NaN when not available.
    available, reason
        False with the reason when the arm has no respondent or nobody in it made a guess.
    """

    arm: str
    n: int
    correct: int
    incorrect: int
    dont_know: int
    estimate: float
    se: float
    lo: float
    hi: float
    available: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class BangBlindingResult(_ArmsResultBase[BlindingArm]):
    """Bang's blinding index per arm (Bang, Ni & Davis 2004).

    Attributes
    ----------
    arms : tuple of BlindingArm
        Treated arm first, then control.
    conf_level : float
        Level of the two-sided Wald intervals.
    method, converged, warnings, details, software, available, reason
        As in :class:`EstimateResult`.
    """

    arms: tuple[BlindingArm, ...]
    conf_level: float
    method: str

    _kind: ClassVar[str] = "bang_blinding_index"
