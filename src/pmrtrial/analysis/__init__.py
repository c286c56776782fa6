"""The statistical analysis plan as code: protocol + validated datasets -> :class:`AnalysisResult`."""

from __future__ import annotations

from pmrtrial.analysis.engine import (
    analyse_trial,
    evaluate_populations,
    infer_published_methods,
    population_sets,
    prepare_visits,
)
from pmrtrial.analysis.registry import ANALYSIS_METHODS, AnalysisMethod, PopulationSet, get_method, method_types
from pmrtrial.analysis.results import (
    AdverseEventSummary,
    AnalysisResult,
    BaselineRow,
    ConsortFlow,
    EndpointResult,
    PrimaryResult,
    SecondaryRow,
    StatSummary,
    TrajectoryPoint,
    VisitStateRow,
)

__all__ = [
    "ANALYSIS_METHODS",
    "AdverseEventSummary",
    "AnalysisMethod",
    "AnalysisResult",
    "BaselineRow",
    "ConsortFlow",
    "EndpointResult",
    "PopulationSet",
    "PrimaryResult",
    "SecondaryRow",
    "StatSummary",
    "TrajectoryPoint",
    "VisitStateRow",
    "analyse_trial",
    "evaluate_populations",
    "get_method",
    "infer_published_methods",
    "method_types",
    "population_sets",
    "prepare_visits",
]
