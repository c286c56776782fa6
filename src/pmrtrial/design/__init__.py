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
  (:func:`simulate_operating_characteristics`), true marginal effects (:func:`compute_true_effect`);
* time-to-event trial simulator (:class:`TteScenario`, :func:`simulate_tte_trials`,
  :func:`analyse_tte_trials`): flare times under a taper, every replicate analysed by the log-rank test;
  vectorised Cox fits (:func:`cox_efron_statistics`); ``kind: time_to_event`` scenarios
  (:func:`load_tte_scenario`, :func:`simulate_tte_operating_characteristics`): remission, flare under each
  arm's taper, analysed as SAPHYR's SAP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmrtrial._lazy import lazy_exports

if TYPE_CHECKING:
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
    from pmrtrial.design.simulate_tte import (
        CoxFits,
        TteOperatingCharacteristics,
        TteScenario,
        TteSimulation,
        analyse_tte_trials,
        cox_efron_statistics,
        logrank_statistics,
        simulate_tte_trials,
    )
    from pmrtrial.design.simulate_tte_scenario import (
        RemissionFlareScenario,
        TteSimulationResult,
        list_tte_scenarios,
        load_tte_scenario,
        simulate_tte_operating_characteristics,
    )
    from pmrtrial.design.survival import (
        SURVIVAL_METHODS,
        SurvivalDesignResult,
        compute_power_survival,
        find_sample_size_survival,
        required_events,
    )

# Names are imported from their module on first use (pmrtrial._lazy), so that ``pmrtrial design power`` does not
# pay for the simulator and ``import pmrtrial.design.fisher`` does not pay for the rest.
_LAZY: dict[str, str] = {
    "APPROXIMATE_METHODS": "pmrtrial.design.sample_size",
    "BoschlooRejectionRegion": "pmrtrial.design.boschloo",
    "CoxFits": "pmrtrial.design.simulate_tte",
    "EXACT_METHODS": "pmrtrial.design.sample_size",
    "FisherRejectionRegion": "pmrtrial.design.fisher",
    "METHODS": "pmrtrial.design.sample_size",
    "OperatingCharacteristics": "pmrtrial.design.simulate",
    "PowerCurvePoint": "pmrtrial.design._results",
    "PowerResult": "pmrtrial.design._results",
    "RemissionFlareScenario": "pmrtrial.design.simulate_tte_scenario",
    "SURVIVAL_METHODS": "pmrtrial.design.survival",
    "SampleSizeCandidate": "pmrtrial.design._results",
    "SampleSizeExplanation": "pmrtrial.design._results",
    "SampleSizeResult": "pmrtrial.design._results",
    "Scenario": "pmrtrial.design.scenario",
    "ScenarioError": "pmrtrial.design.scenario",
    "SimulationResult": "pmrtrial.design.simulate",
    "SurvivalDesignResult": "pmrtrial.design.survival",
    "TrueEffect": "pmrtrial.design.simulate",
    "TteOperatingCharacteristics": "pmrtrial.design.simulate_tte",
    "TteScenario": "pmrtrial.design.simulate_tte",
    "TteSimulation": "pmrtrial.design.simulate_tte",
    "TteSimulationResult": "pmrtrial.design.simulate_tte_scenario",
    "analyse_tte_trials": "pmrtrial.design.simulate_tte",
    "compute_boschloo_pvalues": "pmrtrial.design.boschloo",
    "compute_boschloo_rejection_region": "pmrtrial.design.boschloo",
    "compute_fisher_pvalues": "pmrtrial.design.fisher",
    "compute_fisher_rejection_region": "pmrtrial.design.fisher",
    "compute_n_arcsine": "pmrtrial.design.approximate",
    "compute_n_normal": "pmrtrial.design.approximate",
    "compute_n_normal_cc": "pmrtrial.design.approximate",
    "compute_power": "pmrtrial.design.sample_size",
    "compute_power_arcsine": "pmrtrial.design.approximate",
    "compute_power_boschloo": "pmrtrial.design.boschloo",
    "compute_power_curve": "pmrtrial.design.sample_size",
    "compute_power_fisher_exact": "pmrtrial.design.fisher",
    "compute_power_normal": "pmrtrial.design.approximate",
    "compute_power_normal_cc": "pmrtrial.design.approximate",
    "compute_power_survival": "pmrtrial.design.survival",
    "compute_true_effect": "pmrtrial.design.simulate",
    "cox_efron_statistics": "pmrtrial.design.simulate_tte",
    "explain_published_sample_size": "pmrtrial.design.sample_size",
    "find_sample_size": "pmrtrial.design.sample_size",
    "find_sample_size_all": "pmrtrial.design.sample_size",
    "find_sample_size_survival": "pmrtrial.design.survival",
    "list_scenarios": "pmrtrial.design.scenario",
    "list_tte_scenarios": "pmrtrial.design.simulate_tte_scenario",
    "logrank_statistics": "pmrtrial.design.simulate_tte",
    "load_scenario": "pmrtrial.design.scenario",
    "load_tte_scenario": "pmrtrial.design.simulate_tte_scenario",
    "parse_scenario": "pmrtrial.design.scenario",
    "required_events": "pmrtrial.design.survival",
    "simulate_operating_characteristics": "pmrtrial.design.simulate",
    "simulate_trials": "pmrtrial.design.simulate",
    "simulate_tte_operating_characteristics": "pmrtrial.design.simulate_tte_scenario",
    "simulate_tte_trials": "pmrtrial.design.simulate_tte",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "APPROXIMATE_METHODS",
    "EXACT_METHODS",
    "METHODS",
    "SURVIVAL_METHODS",
    "BoschlooRejectionRegion",
    "CoxFits",
    "FisherRejectionRegion",
    "OperatingCharacteristics",
    "PowerCurvePoint",
    "PowerResult",
    "RemissionFlareScenario",
    "SampleSizeCandidate",
    "SampleSizeExplanation",
    "SampleSizeResult",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "SurvivalDesignResult",
    "TrueEffect",
    "TteOperatingCharacteristics",
    "TteScenario",
    "TteSimulation",
    "TteSimulationResult",
    "analyse_tte_trials",
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
    "cox_efron_statistics",
    "explain_published_sample_size",
    "find_sample_size",
    "find_sample_size_all",
    "find_sample_size_survival",
    "list_scenarios",
    "list_tte_scenarios",
    "load_scenario",
    "load_tte_scenario",
    "logrank_statistics",
    "parse_scenario",
    "required_events",
    "simulate_operating_characteristics",
    "simulate_trials",
    "simulate_tte_operating_characteristics",
    "simulate_tte_trials",
]
