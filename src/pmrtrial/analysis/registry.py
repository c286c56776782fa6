"""The analysis registry: every analysis method a protocol's ``analysis:`` list may name, in one place.

Each :class:`AnalysisMethod` has an id (the name protocols use), the endpoint types it applies to, a
description (the sentence of the methods section) and ``run``: a callable from an
:class:`EndpointData` (one endpoint at one visit, or a time-to-event dataset) to its results, a
mapping of part name -> :class:`~pmrtrial.analysis.results.StatSummary` whose first part is the
method's main result (``risk_ratio`` has two parts: Katz and score intervals).

The engine runs exactly the methods an endpoint declares. ``pmrtrial protocol check`` passes
:func:`method_types` to :func:`pmrtrial.protocol.validate_protocol`, which rejects an unknown id
(PROTO-E017).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial.analysis import _stats_bridge as sb
from pmrtrial.analysis.results import StatSummary
from pmrtrial.scores import RESPONSE_STATES

__all__ = [
    "ANALYSIS_METHODS",
    "AnalysisMethod",
    "EndpointData",
    "PopulationSet",
    "describe_values",
    "get_method",
    "method_label",
    "method_types",
]

BINARY = frozenset({"binary"})
CONTINUOUS = frozenset({"continuous"})
TIME_TO_EVENT = frozenset({"time_to_event"})


@dataclass(frozen=True)
class PopulationSet:
    """A population evaluated on the data (:func:`pmrtrial.analysis.engine.population_sets`).

    ``subject_ids`` are its members (for a restricted population, the members of the population it restricts
    less the excluded); ``excluded`` maps each deviation id to the participants it excludes; ``notes`` say what
    could not be assessed on these data and why. ``assessable`` is False when the data cannot decide membership
    at all (``subject_ids`` is then empty and means nothing).
    """

    id: str
    label: str
    definition: str
    subject_ids: frozenset[str]
    excluded: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    assessable: bool = True


@dataclass(frozen=True)
class EndpointData:
    """One endpoint's analysis data at one visit (or its time-to-event dataset).

    ``frame`` is the derived dataset: ``subject_id, site_id, arm`` and ``value`` (binary 1/0/NaN;
    continuous) or ``time_days, event`` (time to event), plus one column per covariate and, for the
    four-state table, ``response_state``. ``treated`` and ``control`` are the compared arms.
    """

    endpoint_id: str
    endpoint_type: str
    visit: str | None
    treated: str
    control: str
    frame: pd.DataFrame
    covariates: tuple[str, ...] = ()
    arms: tuple[str, ...] = field(default_factory=tuple)
    subjects: pd.DataFrame | None = None
    per_protocol: PopulationSet | None = None
    #: ``values`` by arm, computed once: every method and summary of the endpoint asks again (not a field of
    #: ``replace``: a copy with another frame starts empty).
    _values: dict[str, np.ndarray[Any, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def values(self, arm: str) -> np.ndarray[Any, Any]:
        """The non-missing values of arm ``arm`` (a read-only array, computed once per arm)."""
        found = self._values.get(arm)
        if found is None:
            v = pd.to_numeric(self.frame.loc[self.frame["arm"] == arm, "value"], errors="coerce")
            a = v.to_numpy(dtype=np.float64, na_value=np.nan)
            found = np.asarray(a[~np.isnan(a)])
            found.flags.writeable = False
            self._values[arm] = found
        return found

    def counts(self) -> tuple[int, int, int, int]:
        """(events treated, n treated, events control, n control) among decided values."""
        t, c = self.values(self.treated), self.values(self.control)
        return int((t == 1.0).sum()), int(t.size), int((c == 1.0).sum()), int(c.size)


@dataclass(frozen=True)
class AnalysisMethod:
    """A registered analysis method (see the module docstring)."""

    id: str
    endpoint_types: frozenset[str]
    description: str
    run: Callable[[EndpointData], Mapping[str, StatSummary]]
    label: str = ""  # short name for a report's table row ("Kaplan-Meier"); the id when empty


def describe_values(values: np.ndarray[Any, Any]) -> dict[str, Any]:
    """n, mean, SD, median and quartiles (SAS PCTLDEF=5 = R ``quantile(type = 2)``, the trial's convention)."""
    v = values[~np.isnan(values)]
    if v.size == 0:
        return {"n": 0, "mean": None, "sd": None, "median": None, "q1": None, "q3": None}
    q1, med, q3 = np.percentile(v, [25, 50, 75], method="averaged_inverted_cdf")
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if v.size > 1 else None,
        "median": float(med),
        "q1": float(q1),
        "q3": float(q3),
    }


def _no_one(name: str) -> StatSummary:
    return StatSummary(name=name, available=False, reason="no participant analysed in an arm")


def _two_by_two(
    name: str, stat: Callable[[int, int, int, int], StatSummary]
) -> Callable[[EndpointData], Mapping[str, StatSummary]]:
    def run(data: EndpointData) -> Mapping[str, StatSummary]:
        et, nt, ec, nc = data.counts()
        return {name: stat(et, nt, ec, nc) if nt and nc else _no_one(name)}

    return run


def _risk_ratio(data: EndpointData) -> Mapping[str, StatSummary]:
    et, nt, ec, nc = data.counts()
    if not (nt and nc):
        return {"rr_crude": _no_one("rr_crude"), "rr_score": _no_one("rr_score")}
    return {"rr_crude": sb.rr_katz(et, nt, ec, nc), "rr_score": sb.rr_score(et, nt, ec, nc)}


def _gee_by_centre(data: EndpointData) -> Mapping[str, StatSummary]:
    _, nt, _, nc = data.counts()
    if not (nt and nc):
        return {"rr_gee": _no_one("rr_gee")}
    f = data.frame
    value = pd.to_numeric(f["value"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    keep = ~np.isnan(value) & f["arm"].isin([data.treated, data.control]).to_numpy()
    treated = (f["arm"].to_numpy()[keep] == data.treated).astype(np.float64)
    return {"rr_gee": sb.gee(value[keep], treated, f["site_id"].to_numpy()[keep])}


def _mean_difference(data: EndpointData) -> Mapping[str, StatSummary]:
    vt, vc = data.values(data.treated), data.values(data.control)
    if vt.size >= 2 and vc.size >= 2:
        effect = sb.mean_difference_welch(vt, vc)
    else:
        effect = StatSummary(name="mean_difference", available=False, reason="fewer than 2 values in an arm")
    return {"mean_difference": effect}


def _median_iqr(data: EndpointData) -> Mapping[str, StatSummary]:
    present = all(describe_values(data.values(a))["n"] for a in (data.treated, data.control))
    return {
        "median_iqr": StatSummary(
            name="median_iqr",
            available=present,
            method="median and interquartile range per arm (quartiles: SAS PCTLDEF=5 = R quantile type 2)",
            reason=None if present else "no value in an arm",
        )
    }


def _four_state_table(data: EndpointData) -> Mapping[str, StatSummary]:
    counts: dict[str, dict[str, int]] = {}
    has_states = "response_state" in data.frame.columns
    for a in data.arms or (data.treated, data.control):
        states = data.frame.loc[data.frame["arm"] == a, "response_state"] if has_states else pd.Series(dtype=object)
        tally = states.value_counts()
        counts[a] = {"n": len(states), **{s: int(tally.get(s, 0)) for s in RESPONSE_STATES}}
    return {
        "four_state_table": StatSummary(
            name="four_state_table",
            available=has_states,
            method="participants by CRP PMR-AS <= 10 / > 10 and oral glucocorticoid yes / no; 'missing' when undecided",
            reason=None if has_states else "response_state could not be derived (CRP PMR-AS or oral GC absent)",
            details={"counts": counts},
        )
    }


def _survival(method_id: str) -> Callable[[EndpointData], Mapping[str, StatSummary]]:
    def run(data: EndpointData) -> Mapping[str, StatSummary]:
        f = data.frame[data.frame["arm"].isin([data.treated, data.control])]
        if len(f) == 0:
            return {method_id: StatSummary(name=method_id, available=False, reason="no participant at risk")}
        time = pd.to_numeric(f["time_days"]).to_numpy(dtype=np.float64)
        event = pd.to_numeric(f["event"]).to_numpy(dtype=np.float64)
        arm = f["arm"].astype(str).to_numpy()
        arms = (data.treated, data.control)
        if method_id == "kaplan_meier":
            return {method_id: sb.km(time, event, arm, arms)}
        if method_id == "logrank":
            return {method_id: sb.logrank(time, event, arm, arms)}
        covariates = f[list(data.covariates)].reset_index(drop=True) if data.covariates else None
        return {method_id: sb.cox(time, event, arm, arms, covariates)}

    return run


def _adjusted_risk_ratio(data: EndpointData) -> Mapping[str, StatSummary]:
    f = data.frame[data.frame["arm"].isin([data.treated, data.control])]
    y = pd.to_numeric(f["value"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    treated = (f["arm"] == data.treated).to_numpy(dtype=np.float64)
    covariates = f[list(data.covariates)].reset_index(drop=True) if data.covariates else None
    return {"adjusted_risk_ratio": sb.adjusted_rr(y, treated, covariates)}


def _wilcoxon_hodges_lehmann(data: EndpointData) -> Mapping[str, StatSummary]:
    vt, vc = data.values(data.treated), data.values(data.control)
    if vt.size == 0 or vc.size == 0:
        return {"wilcoxon_hodges_lehmann": _no_one("wilcoxon_hodges_lehmann")}
    return {"wilcoxon_hodges_lehmann": sb.hodges_lehmann(vt, vc)}


def _by_arm(flags: pd.DataFrame, treated: str, control: str) -> tuple[int, int, int, int]:
    """(events, n) per arm of ``arm``/``value`` rows with a decided value."""
    decided = flags[flags["value"].notna()]
    t = decided.loc[decided["arm"] == treated, "value"].to_numpy(dtype=np.float64)
    c = decided.loc[decided["arm"] == control, "value"].to_numpy(dtype=np.float64)
    return int((t == 1.0).sum()), int(t.size), int((c == 1.0).sum()), int(c.size)


def _all_randomised(data: EndpointData) -> pd.DataFrame:
    """Every randomised participant of the compared arms with the visit's value (NaN when not assessed or
    not evaluable)."""
    subjects = data.subjects if data.subjects is not None else data.frame[["subject_id", "arm"]]
    values = data.frame[["subject_id", "value"]].assign(value=lambda f: pd.to_numeric(f["value"], errors="coerce"))
    everyone = subjects[["subject_id", "arm"]].merge(values, on="subject_id", how="left")
    return everyone[everyone["arm"].isin([data.treated, data.control])]


def _arm(events: int, n: int) -> dict[str, Any]:
    return {"n": n, "events": events, "pct": 100.0 * events / n if n else None}


def _sensitivity(
    name: str, data: EndpointData, counts: tuple[int, int, int, int], population: str, extra: Mapping[str, Any]
) -> StatSummary:
    """Crude risk ratio (Katz) with Fisher's p as the main numbers, the Newcombe risk difference in details."""
    et, nt, ec, nc = counts
    if not (nt and nc):
        return StatSummary(name=name, available=False, reason="no participant analysed in an arm", details=extra)
    rr, fisher, rd = sb.rr_katz(et, nt, ec, nc), sb.fisher(et, nt, ec, nc), sb.rd_newcombe(et, nt, ec, nc)
    arms = {data.treated: _arm(et, nt), data.control: _arm(ec, nc)}
    return StatSummary(
        name=name,
        available=rr.available,
        estimate=rr.estimate,
        lo=rr.lo,
        hi=rr.hi,
        p=fisher.p,
        method=f"{population}: crude risk ratio ({rr.method}); Fisher's exact p; risk difference ({rd.method})",
        converged=True,
        warnings=rr.warnings + fisher.warnings + rd.warnings,
        reason=rr.reason,
        details={
            "population": population,
            "arms": arms,
            "rd": {"estimate": rd.estimate, "lo": rd.lo, "hi": rd.hi, "available": rd.available},
            "rr_correction": rr.details.get("correction"),
            **extra,
        },
    )


def _missing_as_non_response(data: EndpointData) -> Mapping[str, StatSummary]:
    everyone = _all_randomised(data)
    undecided = everyone["value"].isna()
    imputed = {a: int((undecided & (everyone["arm"] == a)).sum()) for a in (data.treated, data.control)}
    counts = _by_arm(everyone.assign(value=everyone["value"].fillna(0.0)), data.treated, data.control)
    population = "all randomised, no decided response = non-responder"
    name = "missing_as_non_response"
    return {name: _sensitivity(name, data, counts, population, {"imputed_non_responders": imputed})}


def _per_protocol(data: EndpointData) -> Mapping[str, StatSummary]:
    name = "per_protocol"
    pp = data.per_protocol
    if pp is None:
        reason = "the protocol declares no per-protocol population (a population with restricts/exclude_if)"
        return {name: StatSummary(name=name, available=False, reason=reason)}
    kept = data.frame[data.frame["subject_id"].isin(pp.subject_ids)]
    kept = kept.assign(value=pd.to_numeric(kept["value"], errors="coerce"))
    extra = {
        "population_id": pp.id,
        "excluded": {k: list(v) for k, v in pp.excluded.items()},
        "not_assessable": list(pp.notes),
    }
    summary = _sensitivity(name, data, _by_arm(kept, data.treated, data.control), pp.label, extra)
    return {name: replace(summary, warnings=summary.warnings + pp.notes)}


def _tipping_point(data: EndpointData) -> Mapping[str, StatSummary]:
    everyone = _all_randomised(data)
    et, nt, ec, nc = _by_arm(everyone, data.treated, data.control)
    undecided = everyone["value"].isna()
    mt = int((undecided & (everyone["arm"] == data.treated)).sum())
    mc = int((undecided & (everyone["arm"] == data.control)).sum())
    return {"tipping_point": sb.tipping_point(et, nt, mt, ec, nc, mc)}


_GUESS_COLUMNS = {"participant": "blinding_guess_participant", "investigator": "blinding_guess_investigator"}


def _blinding_index(data: EndpointData) -> Mapping[str, StatSummary]:
    """From the randomised participants' end-of-study guesses (``subjects.blinding_guess_*``)."""
    subjects = data.subjects if data.subjects is not None else pd.DataFrame()
    parts: dict[str, StatSummary] = {}
    for who, column in _GUESS_COLUMNS.items():
        if column not in subjects.columns or subjects[column].isna().all():
            continue
        keep = subjects["arm"].isin([data.treated, data.control]).to_numpy()
        guesses = subjects[column].astype(object).where(subjects[column].notna(), None)
        parts.update(sb.blinding(who, subjects["arm"][keep], guesses[keep], (data.treated, data.control)))
    if not parts:
        reason = "no blinding guess recorded (subjects.blinding_guess_participant / _investigator absent or empty)"
        return {"blinding_index": StatSummary(name="blinding_index", available=False, reason=reason)}
    return parts


_METHODS: tuple[AnalysisMethod, ...] = (
    AnalysisMethod(
        "fisher_exact",
        BINARY,
        "Fisher's exact test (two-sided).",
        _two_by_two("fisher", sb.fisher),
        label="Fisher's exact test",
    ),
    AnalysisMethod(
        "boschloo_exact",
        BINARY,
        "Boschloo's exact unconditional test (two-sided).",
        _two_by_two("boschloo", sb.boschloo),
        label="Boschloo's exact test",
    ),
    AnalysisMethod(
        "barnard_exact",
        BINARY,
        "Barnard's exact unconditional test (pooled z, two-sided).",
        _two_by_two("barnard", sb.barnard),
        label="Barnard's exact test",
    ),
    AnalysisMethod(
        "risk_ratio",
        BINARY,
        "Crude risk ratio with the Katz log CI and with the score CI.",
        _risk_ratio,
        label="Risk ratio (Katz CI)",
    ),
    AnalysisMethod(
        "risk_difference",
        BINARY,
        "Risk difference with Newcombe's hybrid-score CI.",
        _two_by_two("rd", sb.rd_newcombe),
        label="Risk difference (Newcombe CI)",
    ),
    AnalysisMethod(
        "log_binomial_gee_by_centre",
        BINARY,
        "Risk ratio clustered by centre (no covariates): log-binomial GEE with exchangeable correlation within "
        "centre (geepack moment estimators), robust (sandwich) SE and, beside it, the Mancl-DeRouen small-sample "
        "SE; if the log-binomial fit fails, a modified Poisson GEE (Zou 2004) is used and named.",
        _gee_by_centre,
        label="Risk ratio, GEE clustered by centre",
    ),
    AnalysisMethod(
        "bayesian_risk_ratio",
        BINARY,
        "Bayesian risk ratio (independent Jeffreys Beta(0.5, 0.5) priors, posterior median and equal-tailed 95% "
        "credible interval).",
        _two_by_two("rr_bayes", sb.rr_bayes),
        label="Bayesian risk ratio",
    ),
    AnalysisMethod(
        "four_state_table",
        BINARY,
        "Four-state table: CRP PMR-AS <= 10 or > 10 crossed with oral glucocorticoid at the visit; records without "
        "a score or GC status are counted as 'missing', never as non-responders.",
        _four_state_table,
        label="Four-state table",
    ),
    AnalysisMethod(
        "mean_difference",
        CONTINUOUS,
        "Mean (SD) per arm among participants with a value at the visit; difference in means (treated - control) "
        "with Welch's t 95% CI and crude two-sided p.",
        _mean_difference,
        label="Difference in means (Welch)",
    ),
    AnalysisMethod(
        "median_iqr",
        CONTINUOUS,
        "Median (IQR) per arm among participants with a value at the visit.",
        _median_iqr,
        label="Median (IQR)",
    ),
    AnalysisMethod(
        "wilcoxon_hodges_lehmann",
        CONTINUOUS,
        "Wilcoxon rank-sum p and the Hodges-Lehmann shift (treated - control) with its CI, as R "
        "wilcox.test(conf.int = TRUE).",
        _wilcoxon_hodges_lehmann,
        label="Wilcoxon rank-sum, Hodges-Lehmann shift",
    ),
    AnalysisMethod(
        "adjusted_risk_ratio",
        BINARY,
        "Covariate-adjusted risk ratio (modified Poisson with robust HC0 SE, Zou 2004) adjusting for the covariates "
        "the protocol names for the endpoint.",
        _adjusted_risk_ratio,
        label="Adjusted risk ratio (modified Poisson)",
    ),
    AnalysisMethod(
        "kaplan_meier",
        TIME_TO_EVENT,
        "Kaplan-Meier estimate per arm: n, events, median time with its 95% CI (R survfit defaults: Greenwood "
        "variance, log-transformed limits).",
        _survival("kaplan_meier"),
        label="Kaplan-Meier",
    ),
    AnalysisMethod(
        "logrank", TIME_TO_EVENT, "Log-rank test (R survdiff).", _survival("logrank"), label="Log-rank test"
    ),
    AnalysisMethod(
        "cox_ph",
        TIME_TO_EVENT,
        "Hazard ratio (treated vs control) from a Cox model with Efron ties, Wald 95% CI and p (R coxph); adjusted "
        "for the endpoint's covariates when the protocol names any.",
        _survival("cox_ph"),
        label="Cox hazard ratio",
    ),
    AnalysisMethod(
        "missing_as_non_response",
        BINARY,
        "Sensitivity analysis: all randomised participants, a participant without a decided response at the visit "
        "(not assessed or not evaluable) counted as a non-responder; crude risk ratio (Katz log CI), Fisher's exact "
        "p and risk difference (Newcombe).",
        _missing_as_non_response,
        label="Missing as non-response",
    ),
    AnalysisMethod(
        "per_protocol",
        BINARY,
        "Sensitivity analysis: the per-protocol set (the protocol's population with restricts/exclude_if) assessed "
        "at the visit; crude risk ratio (Katz log CI), Fisher's exact p and risk difference (Newcombe).",
        _per_protocol,
        label="Per-protocol set",
    ),
    AnalysisMethod(
        "tipping_point",
        BINARY,
        "Sensitivity analysis: tipping point. Every number of responders among the randomised participants "
        "without a decided response, in each arm, analysed with Fisher's exact test and the crude risk ratio; "
        "the imputations that change the two-sided 5% conclusion are listed.",
        _tipping_point,
        label="Tipping point",
    ),
    AnalysisMethod(
        "blinding_index",
        frozenset({"binary", "continuous", "time_to_event"}),
        "Blinding indices from the end-of-study guesses of participants and investigators: Bang's index per arm "
        "with its CI, and James' index.",
        _blinding_index,
        label="Blinding index",
    ),
)

#: Method id -> :class:`AnalysisMethod`.
ANALYSIS_METHODS: Mapping[str, AnalysisMethod] = MappingProxyType({m.id: m for m in _METHODS})


def get_method(method_id: str) -> AnalysisMethod:
    """The registered method ``method_id``; ``KeyError`` naming the known ids otherwise."""
    try:
        return ANALYSIS_METHODS[method_id]
    except KeyError:
        raise KeyError(f"Unknown analysis method {method_id!r}; registered: {', '.join(ANALYSIS_METHODS)}") from None


def method_label(method_id: str) -> str:
    """The short name of a method for a report's table row ("Kaplan-Meier"); an unknown id with spaces."""
    method = ANALYSIS_METHODS.get(method_id)
    return method.label if method is not None and method.label else method_id.replace("_", " ")


def method_types() -> Mapping[str, frozenset[str]]:
    """Method id -> endpoint types it applies to (what :func:`pmrtrial.protocol.validate_protocol` checks)."""
    return MappingProxyType({m.id: m.endpoint_types for m in _METHODS})
