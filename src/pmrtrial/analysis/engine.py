"""Run the statistical analysis plan of a protocol on validated datasets.

:func:`analyse_trial` is the SAP as code: which endpoint, which visit, which population, which
analyses (exactly those of each endpoint's ``analysis:`` list, run through
:mod:`pmrtrial.analysis.registry`), the baseline table, the covariates and the methods text all come
from the :class:`~pmrtrial.protocol.Protocol`; the numbers come from :mod:`pmrtrial.stats`.

Populations (protocol ``populations``; :func:`population_sets` evaluates each, and ADaM ADSL takes its
flags from the same function)
--------------------------------------------------------------------------------------------------
- *randomised*: every row of ``subjects``, analysed in the allocated arm.
- *primary analysis set*: randomised participants assessed at the primary visit, i.e. with a
  record at that visit on which the endpoint can be decided. A record whose endpoint cannot be
  decided (a missing component) is counted as "not evaluable" and reported; it is not imputed.
- *safety*: the datasets carry no exposure flag, so every randomised participant is taken as
  treated.
- a *per-protocol* set (``exclude_if``): the population it restricts less the major deviations.
- a population an endpoint is analysed on (e.g. those at risk of flare after remission): that
  endpoint's analysis dataset (for a landmark time to event, the participants who reached the landmark).

Secondary endpoints are analysed on the participants with a value at the visit (complete case),
unless the endpoint declares ``missing: non_event`` (every participant of the population without a
decided value counts as a non-event). Time-to-event endpoints are analysed on their derived dataset
(:func:`pmrtrial.derive_endpoints.derive_time_to_event`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc, stdtrit  # chi-square sf and t quantile, without importing scipy.stats

from pmrtrial.analysis import _stats_bridge as sb
from pmrtrial.analysis.registry import EndpointData, PopulationSet, describe_values, get_method, method_types
from pmrtrial.analysis.results import (
    NOT_DECLARED,
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
from pmrtrial.datasets import AnalysisDatasets
from pmrtrial.derive import (
    DerivedVisits,
    compute_predicate,
    derive_var_endpoint,
    derive_visit_variables,
    endpoint_column,
)
from pmrtrial.derive_endpoints import (
    derive_time_to_event,
    derive_var_window_composite,
    derive_vars_gc_from_log,
    derive_vars_gc_from_visits,
)
from pmrtrial.exceptions import ProtocolValidationError
from pmrtrial.protocol import Endpoint, Protocol, validate_protocol
from pmrtrial.protocol.model import Population
from pmrtrial.protocol.predicates import iter_comparisons
from pmrtrial.stats.results import software_versions

__all__ = ["analyse_trial", "evaluate_populations", "infer_published_methods", "population_sets", "prepare_visits"]

#: PrimaryResult field -> (method id, part name): today's keys of ``primary`` in results.json.
_PRIMARY_PARTS = (
    ("fisher", "fisher_exact", "fisher"),
    ("boschloo", "boschloo_exact", "boschloo"),
    ("rr_crude", "risk_ratio", "rr_crude"),
    ("rr_score", "risk_ratio", "rr_score"),
    ("rd", "risk_difference", "rd"),
    ("rr_gee", "log_binomial_gee_by_centre", "rr_gee"),
    ("rr_bayes", "bayesian_risk_ratio", "rr_bayes"),
)


#: The sensitivity methods of the primary endpoint (``primary.sensitivity``), in this order when declared.
_SENSITIVITY = ("missing_as_non_response", "per_protocol", "tipping_point")


# -- helpers ---------------------------------------------------------------------------------------


def _arms(protocol: Protocol) -> tuple[str, str, list[str]]:
    warnings: list[str] = []
    controls = [a.id for a in protocol.arms if a.is_control]
    control = controls[0] if controls else protocol.arms[-1].id
    treated_all = [a.id for a in protocol.arms if a.id != control]
    if len(treated_all) > 1:
        warnings.append(f"more than two arms: comparisons use {treated_all[0]} vs {control} only")
    return treated_all[0], control, warnings


def _endpoint_variables(endpoint: Endpoint) -> list[str]:
    if endpoint.definition is not None:
        return sorted({c.var for c in iter_comparisons(endpoint.definition)})
    return [endpoint.variable] if endpoint.variable else []


def _missing_variables(endpoint: Endpoint, columns: Sequence[str], not_derived: Mapping[str, str]) -> str | None:
    absent = [v for v in _endpoint_variables(endpoint) if v not in columns]
    if not absent:
        return None
    reasons = [not_derived.get(v, f"column {v!r} absent from the visits dataset") for v in absent]
    return "not estimable: " + "; ".join(reasons)


def _flags(frame: pd.DataFrame, column: str) -> np.ndarray[Any, Any]:
    series = frame[column]
    return np.asarray(series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan))


def _float(frame: pd.DataFrame, column: str) -> np.ndarray[Any, Any]:
    return np.asarray(pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan))


def _count(flags: np.ndarray[Any, Any]) -> dict[str, Any]:
    known = flags[~np.isnan(flags)]
    n = int(known.size)
    events = int((known == 1.0).sum())
    return {"n": n, "events": events, "pct": (100.0 * events / n) if n else None}


def _collect_warnings(prefix: str, summary: StatSummary, sink: list[str]) -> None:
    sink.extend(f"{prefix}: {w}" for w in summary.warnings)
    if not summary.available and summary.reason:
        sink.append(f"{prefix}: {summary.reason}")
    if summary.converged is False:
        sink.append(f"{prefix}: did not converge")


# -- populations -----------------------------------------------------------------------------------

#: Injections within this many days of a permitted week count as given in that week.
_INJECTION_TOLERANCE_DAYS = 3


def _study_drug_stopped(protocol: Protocol, data: pd.DataFrame, week: float, notes: list[str]) -> set[str]:
    """Participants with a visit up to ``week`` whose recorded study-drug dose is 0 while their arm's dosing
    schedules a positive daily dose at that week."""
    if "study_drug_mg_day" not in data.columns:
        notes.append("study_drug_stopped not assessable: no study_drug_mg_day column in the visits")
        return set()
    upto = data[data["week"] <= week]
    planned = np.full(len(upto), np.nan)
    weeks = upto["week"].to_numpy(dtype=np.float64)
    arm_col = upto["arm"].to_numpy()
    for arm in protocol.arms:
        for seg in arm.dosing:
            if seg.dose_mg_day is None:
                notes.append(f"study_drug_stopped not assessable for arm {arm.id}: dosing not given in mg/day")
                continue
            last = seg.to_week == max(s.to_week for s in arm.dosing)
            in_seg = (weeks >= seg.from_week) & ((weeks < seg.to_week) | (last & (weeks == seg.to_week)))
            planned[(arm_col == arm.id) & in_seg] = seg.dose_mg_day
    recorded = _float(upto, "study_drug_mg_day")
    stopped = (planned > 0) & (recorded == 0)
    return set(upto["subject_id"].to_numpy()[stopped].astype(str))


def _injection_outside(protocol: Protocol, gc_doses: pd.DataFrame | None, day: float, notes: list[str]) -> set[str]:
    """Participants with a ``gc_doses`` injection up to ``day`` not within the permitted weeks (+- tolerance)."""
    if gc_doses is None:
        notes.append("injection_outside_permitted_weeks not assessable: no gc_doses log")
        return set()
    inj = gc_doses[(gc_doses["reason"].astype(str) == "injection")]
    start = _float(inj, "start_day")
    permitted = [7.0 * w for rule in protocol.permitted_injections for w in rule.allowed_weeks]
    allowed = np.zeros(len(inj), dtype=bool)
    for d in permitted:
        allowed |= np.abs(start - d) <= _INJECTION_TOLERANCE_DAYS
    outside = (start <= day) & ~allowed
    return set(inj["subject_id"].to_numpy()[outside].astype(str))


def _restricted_set(
    protocol: Protocol,
    population: Population,
    data: pd.DataFrame,
    base: PopulationSet,
    gc_doses: pd.DataFrame | None,
) -> PopulationSet:
    """A population with ``exclude_if``: the members of ``base`` (the population it restricts, else everyone
    randomised) without a major deviation up to the primary visit."""
    primary = next((e for e in protocol.endpoints if e.role == "primary"), None)
    if primary is None or not primary.visits:
        why = f"{population.id}: no primary visit to assess the deviations up to"
        return PopulationSet(
            population.id, population.label, population.definition, frozenset(), notes=(why,), assessable=False
        )
    visit = protocol.get_visit(primary.visits[0])
    notes: list[str] = list(base.notes)
    checks = {
        "study_drug_stopped": lambda: _study_drug_stopped(protocol, data, float(visit.week), notes),
        "injection_outside_permitted_weeks": lambda: _injection_outside(protocol, gc_doses, float(visit.day), notes),
    }
    excluded: dict[str, tuple[str, ...]] = {d: tuple(sorted(checks[d]())) for d in population.exclude_if}
    dropped = set().union(*excluded.values()) if excluded else set()
    kept = frozenset(x for x in base.subject_ids if x not in dropped)
    return PopulationSet(
        population.id, population.label, population.definition, kept, excluded, tuple(notes), base.assessable
    )


def _endpoint_members(
    protocol: Protocol, endpoint: Endpoint, data: pd.DataFrame, subjects: pd.DataFrame, flares: pd.DataFrame | None
) -> frozenset[str]:
    """The participants an endpoint's analysis dataset holds with a value: at its first visit (the frame the
    endpoint is analysed on, :func:`_visit_frame`), or at risk (the time-to-event dataset,
    :func:`~pmrtrial.derive_endpoints.derive_time_to_event`)."""
    if endpoint.type == "time_to_event":
        frame = derive_time_to_event(data, subjects, endpoint, protocol, flares=flares)
        return frozenset(frame["subject_id"].astype(str))
    at = data[data["week"] == protocol.get_visit(endpoint.visits[0]).week]
    frame, _ = _visit_frame(endpoint, at, subjects, None)
    decided = pd.to_numeric(frame["value"], errors="coerce").notna().to_numpy()
    return frozenset(frame["subject_id"].astype(str).to_numpy()[decided])


def population_sets(
    protocol: Protocol,
    data: pd.DataFrame,
    subjects: pd.DataFrame,
    *,
    gc_doses: pd.DataFrame | None = None,
    flares: pd.DataFrame | None = None,
) -> dict[str, PopulationSet]:
    """Every population the protocol declares, evaluated on the derived visits ``data`` (with ``arm``/``site_id``):

    - ``randomised``: every row of ``subjects``;
    - ``safety``: every randomised participant (the datasets carry no exposure flag; noted);
    - ``primary_analysis``: the participants whose primary endpoint is decided at the primary visit (the primary
      analysis' own frame);
    - a population with ``exclude_if`` (per-protocol): the population it ``restricts`` (else everyone randomised)
      less the participants with a major deviation up to the primary visit;
    - a population an endpoint is analysed on (``endpoint.population``, e.g. those at risk of flare after
      remission): the participants of that endpoint's analysis dataset (for a landmark time to event, those who
      reached the landmark).

    A population none of these rules decides, or whose endpoint cannot be derived, is returned with
    ``assessable=False`` and the reason in ``notes``; it is never guessed.
    """
    everyone = frozenset(subjects["subject_id"].astype(str))
    out: dict[str, PopulationSet] = {}

    def evaluate(pop: Population) -> PopulationSet:
        label = (pop.id, pop.label, pop.definition)
        if pop.id == "randomised":
            return PopulationSet(*label, everyone)
        if pop.id == "safety":
            why = f"{pop.id}: the datasets carry no exposure flag; every randomised participant is taken as treated"
            return PopulationSet(*label, everyone, notes=(why,))
        if pop.exclude_if:
            base = out.get(pop.restricts) if pop.restricts else PopulationSet("randomised", "", "", everyone)
            if base is None:
                why = f"{pop.id}: restricts {pop.restricts!r}, which is not evaluated"
                return PopulationSet(*label, frozenset(), notes=(why,), assessable=False)
            return _restricted_set(protocol, pop, data, base, gc_doses)
        if pop.id == "primary_analysis":
            endpoint = next((e for e in protocol.endpoints if e.role == "primary"), None)
        else:
            endpoint = next((e for e in protocol.endpoints if e.population == pop.id), None)
        if endpoint is None:
            why = f"{pop.id}: no rule decides this population from the datasets (no endpoint is analysed on it)"
            return PopulationSet(*label, frozenset(), notes=(why,), assessable=False)
        try:
            return PopulationSet(*label, _endpoint_members(protocol, endpoint, data, subjects, flares))
        except (ValueError, KeyError) as exc:
            why = f"{pop.id}: the analysis dataset of endpoint {endpoint.id} cannot be derived: {exc}"
            return PopulationSet(*label, frozenset(), notes=(why,), assessable=False)

    # a restricted population after the one it restricts
    for pop in sorted(protocol.populations, key=lambda p: bool(p.exclude_if)):
        out[pop.id] = evaluate(pop)
    return {p.id: out[p.id] for p in protocol.populations}


def evaluate_populations(
    datasets: AnalysisDatasets,
    protocol: Protocol,
    *,
    gc_doses: pd.DataFrame | None = None,
    flares: pd.DataFrame | None = None,
) -> dict[str, PopulationSet]:
    """The members of every population the protocol declares, as :func:`analyse_trial` evaluates them (same
    derived data, same rules: :func:`population_sets`). ``gc_doses``/``flares`` default to the datasets' own."""
    gc_doses = gc_doses if gc_doses is not None else datasets.gc_doses
    flares = flares if flares is not None else datasets.flares
    _derived, _notes, data = _analysis_data(datasets, protocol, gc_doses)
    return population_sets(protocol, data, datasets.subjects, gc_doses=gc_doses, flares=flares)


def _analysis_data(
    datasets: AnalysisDatasets, protocol: Protocol, gc_doses: pd.DataFrame | None
) -> tuple[DerivedVisits, list[str], pd.DataFrame]:
    """The derived visits, the methods notes, and the derived visits with each participant's arm and site."""
    derived, notes = prepare_visits(datasets, protocol, gc_doses=gc_doses)
    data = _left_join(derived.data, datasets.subjects[["subject_id", "arm", "site_id"]])
    return derived, notes, data


# -- endpoints through the registry ---------------------------------------------------------------


@dataclass(frozen=True)
class _VisitRun:
    """One endpoint at one visit (``visit`` None for time to event): its data and method results."""

    visit: str | None
    week: float | None
    data: EndpointData
    reason: str | None
    results: Mapping[str, Mapping[str, StatSummary]]
    imputed: Mapping[str, int]


@dataclass(frozen=True)
class _EndpointRun:
    endpoint: Endpoint
    runs: tuple[_VisitRun, ...]
    derived: pd.DataFrame


def _left_join(left: pd.DataFrame, right: pd.DataFrame, keys: pd.Index | None = None) -> pd.DataFrame:
    """``left.merge(right, on="subject_id", how="left")``, by position when ``right`` has one row per subject and
    no other column of ``left`` (the engine's joins, ~60 per report): ``left``'s rows in order on a new
    RangeIndex, ``right``'s columns taken at each subject's row, a subject absent from ``right`` filled as
    ``merge`` fills it (NaN; integers and booleans then widened the same way). Other shapes go to ``merge``.
    ``keys``: ``pd.Index(right["subject_id"])`` when the caller joins to the same ``right`` again (its hash
    table is then built once)."""
    extra = [c for c in right.columns if c != "subject_id"]
    keys = pd.Index(right["subject_id"]) if keys is None else keys
    if not keys.is_unique or set(extra) & set(left.columns):
        return left.merge(right, on="subject_id", how="left")
    rows = keys.get_indexer(pd.Index(left["subject_id"]))
    missing = bool((rows < 0).any())
    out = left.copy(deep=False)  # ``left`` is never modified: columns are added to the copy, none is written into
    out.index = pd.RangeIndex(len(out))
    for name in extra:
        out[name] = right[name].array.take(rows, allow_fill=missing)
    return out


def _covariate_frame(
    endpoint: Endpoint, subjects: pd.DataFrame, data: pd.DataFrame, baseline_week: float
) -> pd.DataFrame:
    """subject_id + one column per covariate (subjects column, else the baseline-visit value)."""
    out = subjects[["subject_id"]].copy()
    wanted = ["subject_id", *(c for c in endpoint.covariates if c not in subjects.columns)]
    base = _rows_at(data, baseline_week, wanted).drop_duplicates("subject_id").set_index("subject_id")
    for name in endpoint.covariates:
        if name in subjects.columns:
            out[name] = subjects[name].to_numpy()
        elif name in base.columns:
            out[name] = out["subject_id"].map(base[name]).to_numpy()
        else:
            out[name] = np.nan
    return out


def _rows_at(data: pd.DataFrame, week: float, columns: Sequence[str]) -> pd.DataFrame:
    """``data[data["week"] == week][columns]`` (the columns ``data`` has) on a new RangeIndex, taking only those
    columns: the analysis data has one column per derived variable, and each endpoint needs a few."""
    rows = np.flatnonzero((data["week"] == week).to_numpy(dtype=bool))
    taken = {}
    for name in dict.fromkeys(columns):
        if name in data.columns:
            column = data[name]
            values = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
            taken[name] = values.take(rows)
    return pd.DataFrame(taken)


def _visit_frame(
    endpoint: Endpoint, at: pd.DataFrame, subjects: pd.DataFrame, reason: str | None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """subject_id, site_id, arm, value (+ response_state) at one visit; with ``missing: non_event`` every
    randomised participant, an undecided or absent value counted as 0."""
    column = endpoint_column(endpoint) if endpoint.type == "binary" else str(endpoint.variable)
    if reason is not None:
        values = np.full(len(at), np.nan)
    elif endpoint.type == "binary":
        values = _flags(at, column)
    else:
        values = _float(at, column)
    frame = pd.DataFrame(
        {
            "subject_id": at["subject_id"].to_numpy(),
            "site_id": at["site_id"].to_numpy(),
            "arm": at["arm"].to_numpy(),
            "value": values,
        }
    )
    if "response_state" in at.columns:
        frame["response_state"] = at["response_state"].to_numpy()
    imputed: dict[str, int] = {}
    if endpoint.type == "binary" and endpoint.missing == "non_event" and reason is None:
        everyone = _left_join(subjects[["subject_id", "site_id", "arm"]], frame.drop(columns=["site_id", "arm"]))
        undecided = everyone["value"].isna().to_numpy()
        imputed = {str(a): int((undecided & (everyone["arm"] == a).to_numpy()).sum()) for a in everyone["arm"].unique()}
        everyone["value"] = everyone["value"].fillna(0.0)
        frame = everyone
    return frame, imputed


def _run_methods(endpoint: Endpoint, data: EndpointData, reason: str | None) -> dict[str, Mapping[str, StatSummary]]:
    results: dict[str, Mapping[str, StatSummary]] = {}
    for method_id in endpoint.analysis:
        method = get_method(method_id)
        if reason is not None:
            results[method_id] = {method_id: StatSummary(name=method_id, available=False, reason=reason)}
        else:
            results[method_id] = method.run(data)
    return results


def _run_endpoint(
    protocol: Protocol,
    endpoint: Endpoint,
    data: pd.DataFrame,
    subjects: pd.DataFrame,
    derived: DerivedVisits,
    arms: tuple[str, str],
    flares: pd.DataFrame | None,
    per_protocol: PopulationSet | None = None,
) -> _EndpointRun:
    treated, control = arms
    covariates = _covariate_frame(endpoint, subjects, data, derived.baseline_week)
    keys = pd.Index(covariates["subject_id"])
    runs: list[_VisitRun] = []
    parts: list[pd.DataFrame] = []
    if endpoint.type == "time_to_event":
        reason = None
        try:
            frame = derive_time_to_event(data, subjects, endpoint, protocol, flares=flares)
        except (ValueError, KeyError) as exc:
            reason = f"not estimable: {exc}"
            frame = pd.DataFrame(columns=["subject_id", "site_id", "arm", "time_days", "event"])
        parts.append(frame)
        frame = _left_join(frame, covariates, keys)
        ed = EndpointData(
            endpoint.id, endpoint.type, None, treated, control, frame, endpoint.covariates, arms, subjects, per_protocol
        )
        runs.append(_VisitRun(None, None, ed, reason, _run_methods(endpoint, ed, reason), {}))
        return _EndpointRun(endpoint, tuple(runs), parts[0])
    reason = _missing_variables(endpoint, list(data.columns), derived.not_derived)
    for code in endpoint.visits:
        visit = protocol.get_visit(code)
        column = endpoint_column(endpoint) if endpoint.type == "binary" else str(endpoint.variable)
        at = _rows_at(data, visit.week, ["subject_id", "site_id", "arm", column, "response_state"])
        frame, imputed = _visit_frame(endpoint, at, subjects, reason)
        parts.append(frame[["subject_id", "site_id", "arm", "value"]].assign(visit=code))
        frame = _left_join(frame, covariates, keys)
        ed = EndpointData(
            endpoint.id, endpoint.type, code, treated, control, frame, endpoint.covariates, arms, subjects, per_protocol
        )
        runs.append(_VisitRun(code, float(visit.week), ed, reason, _run_methods(endpoint, ed, reason), imputed))
    derived_frame = pd.concat(parts, ignore_index=True)[["subject_id", "site_id", "arm", "visit", "value"]]
    return _EndpointRun(endpoint, tuple(runs), derived_frame)


def _part(run: _VisitRun, method_id: str, part: str) -> StatSummary:
    found = run.results.get(method_id)
    if found is None:
        return StatSummary(name=part, available=False, reason=NOT_DECLARED)
    return found[part]


def _main(results: Mapping[str, StatSummary]) -> StatSummary:
    return next(iter(results.values()))


def _entry(run: _VisitRun, method_id: str, endpoint: Endpoint) -> dict[str, Any]:
    """One ``endpoints[].analyses.<method>`` value at one visit: the main part flat, other parts by name."""
    results = run.results[method_id]
    main = _main(results)
    out: dict[str, Any] = {
        "available": main.available,
        "estimate": main.estimate,
        "lo": main.lo,
        "hi": main.hi,
        "p": main.p,
        "method": main.method,
        "reason": main.reason,
        "converged": main.converged,
        "warnings": list(main.warnings),
    }
    details = dict(main.details)
    if "arms" in details:  # kaplan_meier: arms.<arm>.{n, events, median, median_lo, median_hi, table}
        out["arms"] = details.pop("arms")
    out["details"] = details
    for name, other in list(results.items())[1:]:
        out[name] = other.to_dict()
    if "arms" in out:
        pass
    elif endpoint.type == "continuous":
        out["arms"] = {a: describe_values(run.data.values(a)) for a in (run.data.treated, run.data.control)}
    elif endpoint.type == "binary":
        out["arms"] = {a: _count(run.data.values(a)) for a in (run.data.treated, run.data.control)}
    if run.imputed:
        out["imputed_non_events"] = dict(run.imputed)
    if run.visit is not None:
        out["visit"] = run.visit
    return out


def _endpoint_result(er: _EndpointRun, protocol: Protocol) -> EndpointResult:
    ep = er.endpoint
    analyses: dict[str, Any] = {}
    for method_id in ep.analysis:
        by_visit = {str(r.visit): _entry(r, method_id, ep) for r in er.runs if r.visit is not None}
        first = _entry(er.runs[0], method_id, ep)
        analyses[method_id] = {**first, "by_visit": by_visit} if len(by_visit) > 1 else first
    population = next((p.label for p in protocol.populations if p.id == ep.population), ep.population)
    return EndpointResult(
        id=ep.id,
        label=ep.label,
        type=ep.type,
        role=ep.role,
        population=population,
        visits=tuple(ep.visits),
        definition=ep.describe(),
        missing=ep.missing,
        covariates=tuple(ep.covariates),
        n_analysed=len(er.derived),
        analyses=analyses,
    )


def _primary(protocol: Protocol, er: _EndpointRun, treated: str, control: str, warnings: list[str]) -> PrimaryResult:
    ep = er.endpoint
    run = er.runs[0]
    visit = protocol.get_visit(ep.visits[0]) if ep.visits else None
    responders: dict[str, dict[str, int]] = {}
    not_evaluable: dict[str, int] = {}
    if ep.type == "binary":
        frame = run.data.frame
        for a in (treated, control):
            f = pd.to_numeric(frame.loc[frame["arm"] == a, "value"]).to_numpy(dtype=np.float64, na_value=np.nan)
            responders[a] = {"n": int((~np.isnan(f)).sum()), "events": int((f == 1.0).sum())}
            not_evaluable[a] = int(np.isnan(f).sum())
            if not_evaluable[a] and run.reason is None:
                warnings.append(
                    f"primary: {not_evaluable[a]} participant(s) of arm {a} seen at {run.visit} could not be "
                    "evaluated (missing component) and are excluded from the primary analysis set"
                )
    elif ep.type == "continuous":  # n analysed only; the estimates are in endpoints[]
        responders = {a: {"n": int(run.data.values(a).size)} for a in (treated, control)}
    else:
        responders = {a: {"n": int((run.data.frame["arm"] == a).sum())} for a in (treated, control)}
    nt, nc = responders.get(treated, {}).get("n", 0), responders.get(control, {}).get("n", 0)
    if ep.type != "binary":
        why = f"the primary endpoint is {ep.type}: see endpoints[]"
        warnings.append(f"primary: {why}")
        parts = {name: StatSummary(name=name, available=False, reason=why) for name, _, _ in _PRIMARY_PARTS}
    elif run.reason is not None or nt == 0 or nc == 0:
        why = run.reason or "no participant analysed in an arm"
        warnings.append(f"primary: {why}")
        parts = {name: StatSummary(name=name, available=False, reason=why) for name, _, _ in _PRIMARY_PARTS}
    else:
        parts = {name: _part(run, method_id, part) for name, method_id, part in _PRIMARY_PARTS}
        for name, summary in parts.items():
            if summary.reason != NOT_DECLARED:
                _collect_warnings(f"primary {name}", summary, warnings)
        _extra_warnings(er, {m for _, m, _ in _PRIMARY_PARTS}, warnings)
    population = next((p.label for p in protocol.populations if p.id == ep.population), ep.population)
    binary_ok = ep.type == "binary" and run.reason is None and nt > 0 and nc > 0
    sensitivity = {m: _main(run.results[m]) for m in _SENSITIVITY if m in run.results}
    return PrimaryResult(
        endpoint_id=ep.id,
        label=ep.label,
        definition=ep.describe(),
        visit=visit.code if visit else "",
        week=float(visit.week) if visit else math.nan,
        population=population,
        treated_arm=treated,
        control_arm=control,
        responders=responders,
        not_evaluable=not_evaluable,
        **parts,
        sensitivity=sensitivity,
        by_centre=_by_centre(run.data) if binary_ok else (),
    )


def _interval(summary: StatSummary) -> dict[str, Any]:
    return {
        "available": summary.available,
        "estimate": summary.estimate,
        "lo": summary.lo,
        "hi": summary.hi,
        "reason": summary.reason,
    }


def _by_centre(data: EndpointData) -> tuple[dict[str, Any], ...]:
    """Per-centre counts, risk difference (Newcombe) and risk ratio (Katz, only with a responder in each arm)."""
    f = data.frame.assign(value=pd.to_numeric(data.frame["value"], errors="coerce"))
    f = f[f["value"].notna() & f["arm"].isin([data.treated, data.control])]
    # counted per centre code in one pass (not one scan of every row per centre)
    codes, sites = pd.factorize(f["site_id"].astype(str).to_numpy())
    arm, value = f["arm"].to_numpy(), f["value"].to_numpy(dtype=np.float64)
    counts = {}
    for a in (data.treated, data.control):
        in_arm = np.asarray(arm == a, dtype=bool)
        counts[a] = (
            np.bincount(codes[in_arm & (value == 1)], minlength=len(sites)),
            np.bincount(codes[in_arm], minlength=len(sites)),
        )
    rows: list[dict[str, Any]] = []
    for i in sorted(range(len(sites)), key=lambda j: str(sites[j])):
        site = str(sites[i])
        et, nt = int(counts[data.treated][0][i]), int(counts[data.treated][1][i])
        ec, nc = int(counts[data.control][0][i]), int(counts[data.control][1][i])
        if not (nt and nc):
            why = "no participant of an arm at this centre: not estimable"
            rd = rr = StatSummary(name="rd", available=False, reason=why)
        else:
            rd = sb.rd_newcombe(et, nt, ec, nc)
            if et and ec:
                rr = sb.rr_katz(et, nt, ec, nc)
            else:
                rr = StatSummary(
                    name="rr",
                    available=False,
                    reason="no responder in an arm at this centre: risk ratio not estimable (no continuity correction)",
                )
        rows.append(
            {
                "site_id": site,
                "arms": {data.treated: {"n": nt, "events": et}, data.control: {"n": nc, "events": ec}},
                "rd": _interval(rd),
                "rr": _interval(rr),
            }
        )
    return tuple(rows)


def _extra_warnings(er: _EndpointRun, skip: set[str], warnings: list[str]) -> None:
    """Warnings of the methods that have no legacy slot (primary/secondary), prefixed by endpoint and method."""
    ep = er.endpoint
    for run in er.runs:
        where = f"{ep.role} {ep.id}" + (f" at {run.visit}" if run.visit else "")
        if run.reason is not None and not (skip & set(ep.analysis)):
            warnings.append(f"{where}: {run.reason}")
            continue
        for method_id, results in run.results.items():
            if method_id in skip or run.reason is not None:
                continue
            for summary in results.values():
                _collect_warnings(f"{where} {method_id}", summary, warnings)


def _secondary(protocol: Protocol, runs: Sequence[_EndpointRun], warnings: list[str]) -> tuple[SecondaryRow, ...]:
    """Today's secondary rows: continuous -> mean_difference; binary -> risk ratio (Katz) and Fisher."""
    rows: list[SecondaryRow] = []
    for er in runs:
        ep = er.endpoint
        if ep.role != "secondary":
            continue
        if ep.type == "time_to_event" or "four_state_table" in ep.analysis:
            _extra_warnings(er, set(), warnings)
            continue
        legacy = {"mean_difference"} if ep.type == "continuous" else {"risk_ratio", "fisher_exact"}
        for run in er.runs:
            code = str(run.visit)
            week = float(run.week if run.week is not None else math.nan)
            if run.reason is not None:
                warnings.append(f"secondary {ep.id} at {code}: {run.reason}")
                rows.append(
                    SecondaryRow(
                        ep.id,
                        ep.label,
                        ep.type,
                        week,
                        code,
                        ep.unit,
                        False,
                        {},
                        StatSummary(name="effect", available=False, reason=run.reason),
                        None,
                        run.reason,
                    )
                )
                continue
            treated, control = run.data.treated, run.data.control
            if ep.type == "continuous":
                arms = {
                    a: {k: describe_values(run.data.values(a))[k] for k in ("n", "mean", "sd")}
                    for a in (treated, control)
                }
                effect = _part(run, "mean_difference", "mean_difference")
                test = None
            else:
                arms = {a: _count(run.data.values(a)) for a in (treated, control)}
                effect = _part(run, "risk_ratio", "rr_crude")
                test = _part(run, "fisher_exact", "fisher") if "fisher_exact" in ep.analysis else None
            if effect.reason != NOT_DECLARED:
                _collect_warnings(f"secondary {ep.id} at {code}", effect, warnings)
            rows.append(SecondaryRow(ep.id, ep.label, ep.type, week, code, ep.unit, True, arms, effect, test))
        _extra_warnings(er, legacy, warnings)
    return tuple(rows)


def _visit_states(runs: Sequence[_EndpointRun]) -> tuple[VisitStateRow, ...]:
    for er in runs:
        if "four_state_table" not in er.endpoint.analysis:
            continue
        rows = []
        for run in er.runs:
            summary = run.results["four_state_table"]["four_state_table"]
            if summary.available:
                rows.append(VisitStateRow(float(run.week or 0.0), str(run.visit), summary.details["counts"]))
        return tuple(rows)
    return ()


def _baseline(
    protocol: Protocol, subjects: pd.DataFrame, data: pd.DataFrame, arms: Sequence[str], baseline_week: float
) -> tuple[BaselineRow, ...]:
    """The protocol's ``baseline_table`` rows, on the randomised population."""
    base = subjects[["subject_id", "arm"]].merge(
        data[data["week"] == baseline_week].drop(columns=["arm"], errors="ignore"), on="subject_id", how="left"
    )
    # each arm's rows of each table taken once, not once per baseline row
    by_arm = {name: {a: t[t["arm"] == a] for a in arms} for name, t in (("subjects", subjects), ("visits", base))}
    rows = []
    for row in protocol.baseline_table:
        frame = subjects if row.table == "subjects" else base
        if row.variable not in frame.columns:
            rows.append(
                BaselineRow(
                    row.key,
                    row.label,
                    row.kind,
                    row.unit,
                    {},
                    False,
                    f"column {row.variable!r} absent from {row.table}",
                )
            )
            continue
        per_arm: dict[str, dict[str, Any]] = {}
        for a in arms:
            part = by_arm["subjects" if row.table == "subjects" else "visits"][a]
            if row.kind == "continuous":
                per_arm[a] = describe_values(_float(part, row.variable))
            else:
                assert row.when is not None
                per_arm[a] = _count(compute_predicate(row.when, part))
        rows.append(BaselineRow(row.key, row.label, row.kind, row.unit, per_arm))
    return tuple(rows)


# -- other parts -----------------------------------------------------------------------------------


def _trajectories(
    protocol: Protocol, data: pd.DataFrame, arms: Sequence[str], variable: str = "crp_pmr_as"
) -> tuple[TrajectoryPoint, ...]:
    if variable not in data.columns:
        return ()
    points = []
    for visit in protocol.visits:
        at = _rows_at(data, visit.week, ["arm", variable])
        for a in arms:
            v = _float(at[at["arm"] == a], variable)
            v = v[~np.isnan(v)]
            if v.size == 0:
                continue
            mean = float(v.mean())
            sd = float(v.std(ddof=1)) if v.size > 1 else math.nan
            half = float(stdtrit(v.size - 1, 0.975) * sd / math.sqrt(v.size)) if v.size > 1 else math.nan
            quartiles = describe_values(v)
            points.append(
                TrajectoryPoint(
                    variable,
                    a,
                    float(visit.week),
                    int(v.size),
                    mean,
                    sd,
                    mean - half,
                    mean + half,
                    quartiles["median"],
                    quartiles["q1"],
                    quartiles["q3"],
                )
            )
    return tuple(points)


def _adverse_events(subjects: pd.DataFrame, ae: pd.DataFrame, arms: Sequence[str]) -> AdverseEventSummary:
    n_by_arm = {a: int((subjects["arm"] == a).sum()) for a in arms}
    merged = ae.merge(subjects[["subject_id", "arm"]], on="subject_id", how="left")
    serious = (
        merged["serious"].astype("boolean").fillna(False).to_numpy(dtype=bool) if len(merged) else np.zeros(0, bool)
    )

    def by_soc(frame: pd.DataFrame) -> tuple[dict[str, Any], ...]:
        out = []
        for soc in sorted(frame["soc"].dropna().unique()):
            part = frame[frame["soc"] == soc]
            counts = {a: int(part.loc[part["arm"] == a, "subject_id"].nunique()) for a in arms}
            out.append({"soc": soc, **counts, "total": int(part["subject_id"].nunique())})
        return tuple(out)

    def participants(frame: pd.DataFrame) -> dict[str, int]:
        return {a: int(frame.loc[frame["arm"] == a, "subject_id"].nunique()) for a in arms}

    deaths_known = "outcome" in merged.columns
    fatal = merged[merged["outcome"] == "fatal"] if deaths_known else merged.iloc[0:0]
    return AdverseEventSummary(
        population="safety (all randomised; no exposure flag in the datasets)",
        n_by_arm=n_by_arm,
        any_ae_by_soc=by_soc(merged),
        serious_by_soc=by_soc(merged[serious]),
        participants_any_ae=participants(merged),
        participants_serious=participants(merged[serious]),
        serious_events={a: int(((merged["arm"] == a).to_numpy() & serious).sum()) for a in arms},
        deaths=participants(fatal),
        deaths_known=deaths_known,
    )


def _consort(
    protocol: Protocol, subjects: pd.DataFrame, data: pd.DataFrame, arms: Sequence[str], primary: PrimaryResult
) -> ConsortFlow:
    def per_arm(mask: pd.Series) -> dict[str, int]:
        return {a: int((mask & (subjects["arm"] == a)).sum()) for a in arms}

    by_visit = []
    for visit in protocol.visits:
        at = _rows_at(data, visit.week, ["subject_id", "arm"])
        by_visit.append(
            {
                "visit": visit.code,
                "week": float(visit.week),
                **{a: int(at.loc[at["arm"] == a, "subject_id"].nunique()) for a in arms},
            }
        )
    return ConsortFlow(
        randomised={a: int((subjects["arm"] == a).sum()) for a in arms},
        analysed_by_visit=tuple(by_visit),
        primary_analysed={a: primary.responders[a]["n"] for a in primary.responders},
        completed=per_arm(subjects["status"] == "completed"),
        withdrawn=per_arm(subjects["status"] == "withdrawn"),
        lost=per_arm(subjects["status"] == "lost"),
    )


def _sample_size(protocol: Protocol) -> Mapping[str, Any]:
    ss = protocol.sample_size
    if ss is None:
        return {"available": False, "reason": "the protocol states no sample-size assumptions"}
    out = dict(sb.sample_size(ss.p_control, ss.p_treated, ss.alpha_two_sided, ss.power))
    out["protocol"] = {
        "p_control": ss.p_control,
        "p_treated": ss.p_treated,
        "alpha_two_sided": ss.alpha_two_sided,
        "power": ss.power,
        "n_per_group": ss.n_per_group,
        "source_text": ss.source_text,
    }
    return out


# -- published-method inference -------------------------------------------------------------------


def _pearson_chi2_p(et: int, nt: int, ec: int, nc: int) -> float:
    """Pearson chi-square p of a 2x2 table without continuity correction (scipy chi2_contingency(correction=False)):
    X2 = N (ad - bc)^2 / (n1 n0 m1 m0) on 1 df; NaN when a column total is 0."""
    a, b, c, d = et, nt - et, ec, nc - ec
    events, non_events, total = a + c, b + d, nt + nc
    if events == 0 or non_events == 0:
        return math.nan
    x2 = total * (a * d - b * c) ** 2 / (nt * nc * events * non_events)
    return float(chdtrc(1, x2))


def infer_published_methods(published: Mapping[str, Any], *, treated: str, control: str) -> dict[str, Any]:
    """Recompute the published secondary effects from the published summaries to infer the method.

    For every ``kind: mean`` row the difference and CI are recomputed by Welch and by pooled t
    (:func:`pmrtrial.stats.compare_with_published`, tolerance one unit of the printed last digit);
    for ``kind: count`` rows the crude risk ratio with Katz CI and the Fisher and Pearson chi-square
    p-values are recomputed from the printed counts. The result lists each row and a one-paragraph
    finding. ``published`` is the trial's published-figures section; ``treated`` and ``control`` are
    the arm ids its rows are keyed by.
    """
    rows: list[dict[str, Any]] = []
    for block in published.get("secondary", ()):
        week = block["week"]
        n = block["n"]
        for key, row in block["rows"].items():
            if row["kind"] == "mean":
                args = {
                    "mean_treated": row[treated][0],
                    "sd_treated": row[treated][1],
                    "n_treated": n[treated],
                    "mean_control": row[control][0],
                    "sd_control": row[control][1],
                    "n_control": n[control],
                    "published_difference": row["effect"][0],
                    "published_lo": row["effect"][1],
                    "published_hi": row["effect"][2],
                    "published_p": row["p"],
                }
                cmp = sb.compare_published_mean_difference(args)
                entry: dict[str, Any] = {"week": week, "row": key, "kind": "mean"}
                if "error" in cmp:
                    entry["error"] = cmp["error"]
                else:
                    entry.update(
                        {
                            "closest": cmp["closest"],
                            "welch_within": cmp["welch"]["within_tolerance"],
                            "pooled_within": cmp["pooled"]["within_tolerance"],
                            "welch": {k: cmp["welch"]["result"][k] for k in ("estimate", "lo", "hi", "p")},
                            "pooled": {k: cmp["pooled"]["result"][k] for k in ("estimate", "lo", "hi", "p")},
                            "published": {"effect": list(row["effect"]), "p": row["p"]},
                        }
                    )
                rows.append(entry)
            else:
                et, ec = int(row[treated][0]), int(row[control][0])
                nt, nc = int(n[treated]), int(n[control])
                rr = sb.rr_katz(et, nt, ec, nc)
                fisher = sb.fisher(et, nt, ec, nc)
                chi2_p = _pearson_chi2_p(et, nt, ec, nc)
                rows.append(
                    {
                        "week": week,
                        "row": key,
                        "kind": "count",
                        "rr_katz": {"estimate": rr.estimate, "lo": rr.lo, "hi": rr.hi},
                        "fisher_p": fisher.p,
                        "chi2_p": chi2_p,
                        "published": {"effect": list(row["effect"]), "p": row["p"]},
                    }
                )
    means = [r for r in rows if r["kind"] == "mean" and "error" not in r]
    welch = [r for r in means if r["welch_within"]]
    pooled = [r for r in means if r["pooled_within"]]
    neither = [f"{r['row']} (week {r['week']})" for r in means if not r["welch_within"] and not r["pooled_within"]]
    closer_welch = sum(1 for r in means if r["closest"].lower().startswith("welch"))
    finding = (
        f"Of {len(means)} published mean differences, Welch's t reproduces {len(welch)} and the pooled-variance t "
        f"{len(pooled)} within one unit of the last printed digit; Welch is the closer of the two for "
        f"{closer_welch}. {len(neither)} rows are reproduced by neither"
        + (f" ({', '.join(neither[:8])}{', ...' if len(neither) > 8 else ''})" if neither else "")
        + ": their printed effects are not the difference of the printed means, so they come from another "
        "analysis (adjusted model, other population or units); this is an inference from printed summaries."
    )
    return {
        "available": True,
        "rows": rows,
        "finding": finding,
        "n_mean_rows": len(means),
        "welch_within": len(welch),
        "pooled_within": len(pooled),
        "neither": neither,
    }


# -- entry point ------------------------------------------------------------------------------------


#: Why an input of a window composite can be absent (the composite is then not derived).
_ABSENT_INPUT = {
    "gc_taper_adherent": "taper adherence is derived from a gc_doses log against the arm's gc_taper; the datasets "
    "have no gc_doses table (and no gc_taper_adherent column)",
}


def prepare_visits(
    datasets: AnalysisDatasets, protocol: Protocol, *, gc_doses: pd.DataFrame | None = None
) -> tuple[DerivedVisits, list[str]]:
    """Every derived visit variable: GC exposure (log or visits), the protocol's derivations, the
    window composites and the endpoint flags. Returns the derived visits and the methods notes."""
    notes: list[str] = []
    visits = datasets.visits
    log_columns: dict[str, pd.Series] = {}
    if gc_doses is not None:
        visits, record = derive_vars_gc_from_log(visits, gc_doses, datasets.subjects, protocol)
        notes.append(record.note)
        log_columns = {c: visits[c] for c in ("cumulative_gc_mg",)}
    else:
        visits = derive_vars_gc_from_visits(visits)
    derived = derive_visit_variables(visits, protocol)
    data = derived.data
    not_derived = dict(derived.not_derived)
    for column, values in log_columns.items():
        data = data.assign(**{column: values.to_numpy()})
        not_derived.pop(column, None)
    if gc_doses is not None and "gc_taper_adherent" in data.columns:
        not_derived.pop("gc_taper_adherent", None)
    weeks = [float(v.week) for v in protocol.visits]
    for composite in protocol.composites:
        absent = sorted({c.var for c in iter_comparisons(composite.predicate)} - set(data.columns))
        if absent:
            # An absent input must not reach the missing-visit rule (which would turn it into a failure
            # for everyone): the composite is not derived, and endpoints using it are not estimable.
            reasons = [not_derived.get(v) or _ABSENT_INPUT.get(v, f"column {v!r} absent") for v in absent]
            not_derived[composite.id] = f"{composite.id} needs {', '.join(absent)}: " + "; ".join(reasons)
            continue
        data = derive_var_window_composite(data, composite, weeks)
        notes.append(
            f"{composite.label} ({composite.id}): {composite.predicate.describe()} "
            + ("at every assessed visit" if composite.kind == "every_visit" else "at some assessed visit")
            + f" from week {composite.from_week:g} to week {composite.to_week:g}; a missed or undecided visit in "
            f"the window: {composite.missing_visit}."
        )
    if protocol.composites or gc_doses is not None:
        for endpoint in protocol.endpoints:
            if endpoint.type == "binary" and endpoint.definition is not None:
                data = derive_var_endpoint(data, endpoint)
    return (
        DerivedVisits(data=data, not_derived=not_derived, baseline_week=derived.baseline_week),
        notes,
    )


def _methods_text(protocol: Protocol) -> tuple[str, ...]:
    if protocol.methods:
        return tuple(protocol.methods)
    declared = dict.fromkeys(m for e in protocol.endpoints for m in e.analysis)
    return tuple(get_method(m).description for m in declared)


def _check_declared(protocol: Protocol) -> None:
    issues = [i for i in validate_protocol(protocol, analysis_methods=method_types()) if i.id == "PROTO-E017"]
    if issues:
        raise ProtocolValidationError(protocol.id, issues)


def analyse_trial(
    datasets: AnalysisDatasets,
    protocol: Protocol,
    *,
    published: Mapping[str, Any] | None = None,
    gc_doses: pd.DataFrame | None = None,
    flares: pd.DataFrame | None = None,
) -> AnalysisResult:
    """Run the protocol's analysis plan on validated datasets.

    Parameters
    ----------
    datasets : AnalysisDatasets
        From :func:`pmrtrial.datasets.validate_datasets` (or :func:`pmrtrial.io.datasets.read_datasets`).
    protocol : Protocol
        Arms, visits, endpoints and their analyses, populations, baseline table, methods text.
    published : mapping, optional
        The trial's published aggregates; when given, the published secondary effects are recomputed
        to infer the authors' method.
    gc_doses, flares : DataFrame, optional
        The optional canonical tables (default: ``datasets.gc_doses`` / ``datasets.flares`` when the
        datasets carry them). With ``gc_doses`` the GC exposure comes from the log.

    Returns
    -------
    AnalysisResult
        Every number of the report; ``to_dict()`` is ``results.json``; ``derived_datasets`` holds one
        analysis dataset per endpoint.

    Raises
    ------
    ProtocolValidationError
        An endpoint names an analysis method that is not registered or does not suit its type (PROTO-E017).
    """
    _check_declared(protocol)
    gc_doses = gc_doses if gc_doses is not None else datasets.gc_doses
    flares = flares if flares is not None else datasets.flares
    warnings: list[str] = []
    treated, control, arm_warnings = _arms(protocol)
    warnings.extend(arm_warnings)
    arms = [treated, control]
    derived, notes, data = _analysis_data(datasets, protocol, gc_doses)
    for name, why in derived.not_derived.items():
        warnings.append(f"derivation of {name} skipped: {why}")
    subjects = datasets.subjects
    populations = population_sets(protocol, data, subjects, gc_doses=gc_doses, flares=flares)
    # the per-protocol sensitivity analysis runs on the first population with exclude_if
    per_protocol = next((populations[p.id] for p in protocol.populations if p.exclude_if), None)
    runs = [
        _run_endpoint(protocol, ep, data, subjects, derived, (treated, control), flares, per_protocol)
        for ep in protocol.endpoints
    ]
    primary_run = next(r for r in runs if r.endpoint.role == "primary")
    primary = _primary(protocol, primary_run, treated, control, warnings)
    secondary = _secondary(protocol, runs, warnings)
    published_methods: Mapping[str, Any] = (
        infer_published_methods(published, treated=treated, control=control)
        if published is not None
        else {"available": False, "reason": "no published aggregates given"}
    )
    if datasets.synthetic:
        warnings.insert(0, "SYNTHETIC data: every number describes the synthetic twin, not the trial")
    cumulative_rule = (
        "cumulative oral glucocorticoid from the gc_doses log"
        if gc_doses is not None
        else "cumulative oral glucocorticoid by the step rule (the dose recorded at a visit is taken until the next "
        "visit)"
    )
    return AnalysisResult(
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        synthetic=datasets.synthetic,
        arms=tuple({"id": a.id, "label": a.label, "is_control": a.is_control} for a in protocol.arms),
        primary=primary,
        secondary=secondary,
        visit_states=_visit_states(runs),
        trajectories=_trajectories(protocol, data, arms)
        + (_trajectories(protocol, data, arms, "cumulative_gc_mg") if gc_doses is not None else ()),
        baseline=_baseline(protocol, subjects, data, arms, derived.baseline_week),
        adverse_events=_adverse_events(subjects, datasets.adverse_events, arms),
        consort=_consort(protocol, subjects, data, arms, primary),
        sample_size=_sample_size(protocol),
        published_methods=published_methods,
        methods=(
            *_methods_text(protocol),
            f"Derived variables: CRP PMR-AS with VASp = {protocol.parameters.pmr_as_patient_vas}; {cumulative_rule}.",
            *notes,
        ),
        not_derived=derived.not_derived,
        warnings=tuple(dict.fromkeys(warnings)),
        software=software_versions(),
        endpoints=tuple(_endpoint_result(r, protocol) for r in runs),
        derived_datasets={r.endpoint.id: r.derived for r in runs},
    )
