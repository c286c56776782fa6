"""The statistical analysis plan as code: protocol + validated datasets -> :class:`AnalysisResult`."""

from __future__ import annotations

from pmrtrial.analysis.engine import BASELINE_VARIABLES, analyse_trial, infer_published_methods
from pmrtrial.analysis.results import (
    AdverseEventSummary,
    AnalysisResult,
    BaselineRow,
    ConsortFlow,
    PrimaryResult,
    SecondaryRow,
    StatSummary,
    TrajectoryPoint,
    VisitStateRow,
)

__all__ = [
    "BASELINE_VARIABLES",
    "AdverseEventSummary",
    "AnalysisResult",
    "BaselineRow",
    "ConsortFlow",
    "PrimaryResult",
    "SecondaryRow",
    "StatSummary",
    "TrajectoryPoint",
    "VisitStateRow",
    "analyse_trial",
    "infer_published_methods",
]
