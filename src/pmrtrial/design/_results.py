"""Frozen result objects of the design engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PowerCurvePoint",
    "PowerResult",
    "SampleSizeCandidate",
    "SampleSizeExplanation",
    "SampleSizeResult",
]


@dataclass(frozen=True)
class PowerResult:
    """Power of one test for two independent proportions at fixed group sizes.

    Attributes
    ----------
    method : str
        ``"normal"``, ``"normal-cc"``, ``"arcsine"``, ``"fisher-exact"`` or ``"boschloo"``.
    power : float
        Probability of rejecting H0 (two-sided) under the alternative.
    p_control, p_treated : float
        True response probabilities under the alternative.
    n_control, n_treated : int
        Group sizes.
    alpha : float
        Two-sided significance level.
    assumptions : tuple of str
        What the number assumes (formula, variance, tails, p-value definition...).
    warnings : tuple of str
        Caveats raised while computing (empty when none).
    """

    method: str
    power: float
    p_control: float
    p_treated: float
    n_control: int
    n_treated: int
    alpha: float
    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def n_per_group(self) -> tuple[int, int]:
        """``(n_control, n_treated)``."""
        return (self.n_control, self.n_treated)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation (JSON-serialisable)."""
        return {
            "method": self.method,
            "power": self.power,
            "p_control": self.p_control,
            "p_treated": self.p_treated,
            "n_control": self.n_control,
            "n_treated": self.n_treated,
            "alpha": self.alpha,
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PowerCurvePoint:
    """One point of a power curve: group sizes and power."""

    n_control: int
    n_treated: int
    power: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation."""
        return {"n_control": self.n_control, "n_treated": self.n_treated, "power": self.power}


@dataclass(frozen=True)
class SampleSizeResult:
    """Smallest group size reaching a target power, for one method.

    Attributes
    ----------
    method : str
        Method name (see :class:`PowerResult`).
    n_per_group : int
        Smallest ``n_control`` whose power reaches ``target_power`` (``n_treated`` follows from
        ``ratio``).
    n_treated : int
        ``ceil(ratio * n_per_group)``.
    power_at_n : float
        Power at ``n_per_group``.
    n_always : int
        Smallest ``n_control`` from which the target holds for every size up to ``n_max``. Equal
        to ``n_per_group`` when power is monotone in n (approximations); may exceed it for exact
        tests, whose power is saw-toothed.
    n_continuous : float or None
        The closed-form (real-valued) solution of the approximation, before rounding up; None for
        exact methods.
    curve : tuple of PowerCurvePoint
        Power for every ``n_control`` in ``[n_min, n_max]``.
    """

    method: str
    p_control: float
    p_treated: float
    alpha: float
    target_power: float
    ratio: float
    n_per_group: int
    n_treated: int
    power_at_n: float
    n_always: int
    n_continuous: float | None
    n_min: int
    n_max: int
    curve: tuple[PowerCurvePoint, ...]
    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def is_exact(self) -> bool:
        """True for enumeration-based (exact) methods."""
        return self.n_continuous is None

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation (JSON-serialisable)."""
        return {
            "method": self.method,
            "p_control": self.p_control,
            "p_treated": self.p_treated,
            "alpha": self.alpha,
            "target_power": self.target_power,
            "ratio": self.ratio,
            "n_per_group": self.n_per_group,
            "n_treated": self.n_treated,
            "power_at_n": self.power_at_n,
            "n_always": self.n_always,
            "n_continuous": self.n_continuous,
            "n_min": self.n_min,
            "n_max": self.n_max,
            "curve": [p.to_dict() for p in self.curve],
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class SampleSizeCandidate:
    """One assumption that may explain a published sample size (an inference, not a fact).

    Attributes
    ----------
    assumption : str
        Human-readable description of the assumption.
    n : int
        Group size the assumption yields.
    method : str
        Underlying power method.
    dropout : float
        Drop-out allowance used (0 when none): ``n = ceil(n_base / (1 - dropout))``.
    matches : bool
        True when ``n`` equals the published size being explained.
    """

    assumption: str
    n: int
    method: str
    dropout: float = 0.0
    matches: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation (JSON-serialisable)."""
        return {
            "assumption": self.assumption,
            "n": self.n,
            "method": self.method,
            "dropout": self.dropout,
            "matches": self.matches,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class SampleSizeExplanation:
    """Candidate assumptions that reproduce (or not) a published sample size.

    This is an **inference**: the trial report states only the inputs and the result, so each
    candidate is a hypothesis about the unstated assumption. ``candidates`` lists every assumption
    tried with the size it yields; ``matching`` the subset that gives the published size.
    """

    n_published: int
    p_control: float
    p_treated: float
    alpha: float
    target_power: float
    candidates: tuple[SampleSizeCandidate, ...]
    label: str = "inference"
    note: str = ""

    @property
    def matching(self) -> tuple[SampleSizeCandidate, ...]:
        """Candidates whose size equals the published one."""
        return tuple(c for c in self.candidates if c.matches)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python representation (JSON-serialisable)."""
        return {
            "label": self.label,
            "note": self.note,
            "n_published": self.n_published,
            "p_control": self.p_control,
            "p_treated": self.p_treated,
            "alpha": self.alpha,
            "target_power": self.target_power,
            "candidates": [c.to_dict() for c in self.candidates],
            "matching": [c.to_dict() for c in self.matching],
        }
