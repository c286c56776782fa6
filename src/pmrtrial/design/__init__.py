"""Trial design: power and sample size for two independent proportions.

Pure core (numpy/scipy only). One algorithm per function:

* approximations: :func:`compute_power_normal`, :func:`compute_power_normal_cc` (Fleiss),
  :func:`compute_power_arcsine` (Cohen's h) and their closed-form sizes ``compute_n_*``;
* exact enumeration: :func:`compute_power_fisher_exact` (R ``fisher.test`` p-value),
  :func:`compute_power_boschloo` (tables ordered by Fisher's two-sided p), with reusable rejection
  regions (:func:`compute_fisher_rejection_region`, :func:`compute_boschloo_rejection_region`);
* time to event: :func:`required_events` (Schoenfeld, Freedman), :func:`find_sample_size_survival` and
  :func:`compute_power_survival` (accrual, follow-up and drop-out turned into participants; as rpact);
* search: :func:`find_sample_size`, :func:`find_sample_size_all`,
  :func:`explain_published_sample_size`;
* Monte Carlo trial simulator: scenarios (:func:`load_scenario`, :class:`Scenario`), patient-level
  trials (:func:`simulate_trials`), operating characteristics analysed as the SAP does
  (:func:`simulate_operating_characteristics`), true marginal effects (:func:`compute_true_effect`).
"""

from __future__ import annotations

from pmrtrial.design._results import (
    PowerCurvePoint,
    PowerResult,
    SampleSizeCandidate,
    SampleSizeExplanation,
    SampleSizeResult,
)
from pmrtrial.design.approximate import (
    compute_n_arcsine,
    compute_n_normal,
    compute_n_normal_cc,
    compute_power_arcsine,
    compute_power_normal,
    compute_power_normal_cc,
)
from pmrtrial.design.boschloo import (
    BoschlooRejectionRegion,
    compute_boschloo_pvalues,
    compute_boschloo_rejection_region,
    compute_power_boschloo,
)
from pmrtrial.design.fisher import (
    FisherRejectionRegion,
    compute_fisher_pvalues,
    compute_fisher_rejection_region,
    compute_power_fisher_exact,
)
from pmrtrial.design.sample_size import (
    APPROXIMATE_METHODS,
    EXACT_METHODS,
    METHODS,
    compute_power,
    compute_power_curve,
    explain_published_sample_size,
    find_sample_size,
    find_sample_size_all,
)
from pmrtrial.design.scenario import Scenario, ScenarioError, list_scenarios, load_scenario, parse_scenario
from pmrtrial.design.simulate import (
    OperatingCharacteristics,
    SimulationResult,
    TrueEffect,
    compute_true_effect,
    simulate_operating_characteristics,
    simulate_trials,
)
from pmrtrial.design.survival import (
    SURVIVAL_METHODS,
    SurvivalDesignResult,
    compute_power_survival,
    find_sample_size_survival,
    required_events,
)

__all__ = [
    "APPROXIMATE_METHODS",
    "EXACT_METHODS",
    "METHODS",
    "SURVIVAL_METHODS",
    "BoschlooRejectionRegion",
    "FisherRejectionRegion",
    "OperatingCharacteristics",
    "PowerCurvePoint",
    "PowerResult",
    "SampleSizeCandidate",
    "SampleSizeExplanation",
    "SampleSizeResult",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "SurvivalDesignResult",
    "TrueEffect",
    "compute_boschloo_pvalues",
    "compute_boschloo_rejection_region",
    "compute_fisher_pvalues",
    "compute_fisher_rejection_region",
    "compute_n_arcsine",
    "compute_n_normal",
    "compute_n_normal_cc",
    "compute_power",
    "compute_power_arcsine",
    "compute_power_boschloo",
    "compute_power_curve",
    "compute_power_fisher_exact",
    "compute_power_normal",
    "compute_power_normal_cc",
    "compute_power_survival",
    "compute_true_effect",
    "explain_published_sample_size",
    "find_sample_size",
    "find_sample_size_all",
    "find_sample_size_survival",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "required_events",
    "simulate_operating_characteristics",
    "simulate_trials",
]
