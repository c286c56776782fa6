"""Derivations on the canonical ``visits`` dataset (admiral naming: ``derive_var_*`` adds one column).

Every ``derive_*`` function takes a DataFrame and returns a *new* DataFrame with the column(s)
added, in the input's row order (inputs are never modified or re-sorted). Arithmetic comes from
:mod:`pmrtrial.scores` and :mod:`pmrtrial.units`; nothing is computed row by row in Python, so a
million visit rows take about a second.

Three-valued results (response flags, endpoint flags, flare) use pandas' nullable ``boolean``
dtype: ``True``, ``False`` or ``<NA>`` when the value cannot be decided from the data.

:func:`derive_visit_variables` runs them all from a :class:`~pmrtrial.protocol.Protocol`: it
adds every derived variable whose inputs are present, then one flag column ``ep_<endpoint id>``
per binary endpoint, evaluated with the protocol's one predicate evaluator
(:func:`pmrtrial.protocol.predicates.evaluate_predicate_vectorised`, 6-decimal rounding at
cut-offs). Nothing is hard-coded to BACHELOR names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial._validate import FloatArray
from pmrtrial.exceptions import MissingColumnError
from pmrtrial.protocol import Endpoint, Protocol
from pmrtrial.protocol.predicates import evaluate_predicate_vectorised, iter_comparisons, parse_predicate
from pmrtrial.scores import classify_response_state, compute_crp_pmr_as, compute_esr_pmr_as, detect_flare
from pmrtrial.units import crp_mg_dl_from_mg_l

__all__ = [
    "TAPER_ADHERENCE_REASON",
    "DerivedVisits",
    "compute_predicate",
    "derive_var_crp_mg_dl",
    "derive_var_crp_normal_from",
    "derive_var_crp_pmr_as",
    "derive_var_cumulative_gc_step",
    "derive_var_cumulative_gc_trapezoid",
    "derive_var_endpoint",
    "derive_var_esr_pmr_as",
    "derive_var_flare",
    "derive_var_flare_free_from",
    "derive_var_gc_taper_adherent",
    "derive_var_on_oral_gc",
    "derive_var_remission_by",
    "derive_var_response_state",
    "derive_var_upper_limb_elevation_above_90",
    "derive_vars_change_from_baseline",
    "derive_visit_variables",
    "endpoint_column",
]


def _require(visits: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in visits.columns]
    if missing:
        raise MissingColumnError(
            f"Cannot derive {what}: column(s) {', '.join(missing)} absent from the visits dataset."
        )


def _as_float(series: pd.Series) -> FloatArray:
    if isinstance(series.dtype, pd.BooleanDtype):
        return np.asarray(series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan))
    return np.asarray(pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan))


def _tri_to_boolean(values: FloatArray, index: pd.Index) -> pd.Series:
    out = pd.array(values == 1.0, dtype="boolean")
    out[np.isnan(values)] = pd.NA
    return pd.Series(out, index=index)


# -- predicates ----------------------------------------------------------------------------------

#: The vectorised predicate evaluator (:func:`pmrtrial.protocol.predicates.evaluate_predicate_vectorised`),
#: under the name this module has always exported.
compute_predicate = evaluate_predicate_vectorised


# -- one variable each -----------------------------------------------------------------------------


def derive_var_crp_mg_dl(visits: pd.DataFrame) -> pd.DataFrame:
    """Add ``crp_mg_dl`` = ``crp_mg_l`` / 10 (:func:`pmrtrial.units.crp_mg_dl_from_mg_l`)."""
    _require(visits, ["crp_mg_l"], "crp_mg_dl")
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["crp_mg_dl"] = crp_mg_dl_from_mg_l(_as_float(visits["crp_mg_l"]))
    return out


def _clinical_inputs(visits: pd.DataFrame, patient_vas: str) -> dict[str, FloatArray]:
    return {
        "pain_vas": _as_float(visits[patient_vas]),
        "physician_global_vas": _as_float(visits["physician_global_vas"]),
        "morning_stiffness_min": _as_float(visits["morning_stiffness_min"]),
        "upper_limb_elevation": _as_float(visits["upper_limb_elevation"]),
    }


_CLINICAL = ["physician_global_vas", "morning_stiffness_min", "upper_limb_elevation"]


def derive_var_crp_pmr_as(visits: pd.DataFrame, *, patient_vas: str = "pain_vas") -> pd.DataFrame:
    """Add ``crp_pmr_as`` (:func:`pmrtrial.scores.compute_crp_pmr_as`) from ``crp_mg_l``.

    ``patient_vas`` names the VAS that enters the score as VASp: the protocol's
    ``parameters.pmr_as_patient_vas`` (BACHELOR: ``pain_vas``).
    """
    _require(visits, ["crp_mg_l", patient_vas, *_CLINICAL], "crp_pmr_as")
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["crp_pmr_as"] = compute_crp_pmr_as(
        crp_mg_l=_as_float(visits["crp_mg_l"]), **_clinical_inputs(visits, patient_vas)
    )
    return out


def derive_var_esr_pmr_as(visits: pd.DataFrame, *, patient_vas: str = "pain_vas") -> pd.DataFrame:
    """Add ``esr_pmr_as`` (:func:`pmrtrial.scores.compute_esr_pmr_as`) from ``esr_mm_h``."""
    _require(visits, ["esr_mm_h", patient_vas, *_CLINICAL], "esr_pmr_as")
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["esr_pmr_as"] = compute_esr_pmr_as(
        esr_mm_h=_as_float(visits["esr_mm_h"]), **_clinical_inputs(visits, patient_vas)
    )
    return out


def derive_var_on_oral_gc(visits: pd.DataFrame) -> pd.DataFrame:
    """Add ``on_oral_gc``: True when ``oral_gc_mg_day`` > 0, False when 0, <NA> when missing.

    Shoulder injections are not oral glucocorticoid and are not recorded in this column.
    """
    _require(visits, ["oral_gc_mg_day"], "on_oral_gc")
    dose = _as_float(visits["oral_gc_mg_day"])
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["on_oral_gc"] = _tri_to_boolean(np.where(np.isnan(dose), np.nan, (dose > 0).astype(float)), visits.index)
    return out


def derive_var_upper_limb_elevation_above_90(visits: pd.DataFrame) -> pd.DataFrame:
    """Add ``upper_limb_elevation_above_90``: EUL = 0 (elevation above 90°), <NA> when missing."""
    _require(visits, ["upper_limb_elevation"], "upper_limb_elevation_above_90")
    eul = _as_float(visits["upper_limb_elevation"])
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["upper_limb_elevation_above_90"] = _tri_to_boolean(
        np.where(np.isnan(eul), np.nan, (eul == 0).astype(float)), visits.index
    )
    return out


def derive_var_response_state(visits: pd.DataFrame) -> pd.DataFrame:
    """Add ``response_state``: the four-state class (:func:`pmrtrial.scores.classify_response_state`).

    One of ``le10_no_gc``, ``le10_gc``, ``gt10_no_gc``, ``gt10_gc`` or ``missing``. Needs
    ``crp_pmr_as`` and ``on_oral_gc`` (derive them first).
    """
    _require(visits, ["crp_pmr_as", "on_oral_gc"], "response_state")
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["response_state"] = classify_response_state(
        _as_float(visits["crp_pmr_as"]), on_oral_gc=_as_float(visits["on_oral_gc"])
    )
    return out


def _baseline_values(visits: pd.DataFrame, variable: str, baseline_week: float) -> FloatArray:
    at_base = visits.loc[visits["week"] == baseline_week, ["subject_id", variable]]
    lookup = pd.Series(_as_float(at_base[variable]), index=at_base["subject_id"].to_numpy())
    lookup = lookup[~lookup.index.duplicated()]
    return np.asarray(visits["subject_id"].map(lookup).to_numpy(dtype=np.float64, na_value=np.nan))


def derive_vars_change_from_baseline(
    visits: pd.DataFrame, variables: Iterable[str], *, baseline_week: float = 0.0
) -> pd.DataFrame:
    """Add ``baseline_<var>`` and ``change_<var>`` (= value - baseline) for each variable.

    The baseline is the participant's value at ``baseline_week`` (the protocol's baseline visit);
    without it both columns are NaN. The baseline row itself gets a change of 0.
    """
    variables = list(variables)
    _require(visits, ["subject_id", "week", *variables], "change from baseline")
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    for var in variables:
        base = _baseline_values(visits, var, baseline_week)
        out[f"baseline_{var}"] = base
        out[f"change_{var}"] = _as_float(visits[var]) - base
    return out


def derive_var_flare(visits: pd.DataFrame, *, baseline_week: float = 0.0) -> pd.DataFrame:
    """Add ``flare`` (three-valued) and ``flare_rule`` against the baseline CRP PMR-AS.

    Dejaco 2011 rules via :func:`pmrtrial.scores.detect_flare`: CRP PMR-AS > 9.35, or an increase
    > 6.6 over the participant's baseline (visit at ``baseline_week``). ``flare_rule`` is
    ``"absolute"``, ``"change"``, ``"both"``, ``"none"`` or ``None`` (undecided). Baseline rows
    themselves are evaluated like any other (the change is 0 there).
    """
    _require(visits, ["subject_id", "week", "crp_pmr_as"], "flare")
    score = _as_float(visits["crp_pmr_as"])
    base = _baseline_values(visits, "crp_pmr_as", baseline_week)
    result = detect_flare(score, reference_score=base)
    is_flare = pd.array(result.is_flare, dtype="boolean")
    by_abs = np.asarray(pd.array(result.by_absolute, dtype="boolean").fillna(False))
    by_chg = np.asarray(pd.array(result.by_change, dtype="boolean").fillna(False))
    rule = np.where(by_abs & by_chg, "both", np.where(by_abs, "absolute", np.where(by_chg, "change", "none")))
    rule_obj = rule.astype(object)
    rule_obj[np.asarray(pd.isna(is_flare))] = None
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["flare"] = pd.Series(is_flare, index=visits.index)
    out["flare_rule"] = rule_obj
    return out


def _ordered(visits: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Row order grouping each participant's visits together, by week (participants in order of first row).

    Sorting integer codes of ``subject_id`` (``pd.factorize``) instead of the strings: the grouping is the same
    and the sort is several times faster on a million rows.
    """
    codes, _ = pd.factorize(visits["subject_id"].astype(str), sort=False)
    return np.lexsort((visits["week"].to_numpy(dtype=np.float64), codes))


def _cumulative_gc(visits: pd.DataFrame, trapezoid: bool) -> FloatArray:
    _require(visits, ["subject_id", "week", "oral_gc_mg_day"], "cumulative oral glucocorticoid")
    order = _ordered(visits)
    subj = visits["subject_id"].astype(str).to_numpy()[order]
    week = visits["week"].to_numpy(dtype=np.float64)[order]
    dose = _as_float(visits["oral_gc_mg_day"])[order]
    n = len(order)
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = subj[:-1] == subj[1:]
    next_week = np.empty(n)
    next_week[:-1] = week[1:]
    next_dose = np.empty(n)
    next_dose[:-1] = dose[1:]
    days = np.where(same_next, (np.where(same_next, next_week, week) - week) * 7.0, 0.0)
    rate = (dose + np.where(same_next, next_dose, dose)) / 2.0 if trapezoid else dose
    contribution = np.where(same_next, rate * days, 0.0)  # interval from this visit to the next one
    bad = np.where(same_next, np.isnan(contribution), False)
    filled = np.where(bad, 0.0, contribution)
    # cumulative dose at a visit = sum of the contributions of the earlier intervals of that subject
    starts = np.ones(n, dtype=bool)
    starts[1:] = subj[1:] != subj[:-1]
    group = np.cumsum(starts) - 1
    total = np.cumsum(filled)
    nbad = np.cumsum(bad.astype(np.int64))
    first_index = np.flatnonzero(starts)[group]
    before_total = total - filled  # exclusive prefix sum over the whole array
    before_bad = nbad - bad
    base_total = before_total[first_index]
    base_bad = before_bad[first_index]
    cum = before_total - base_total
    cum = np.where(before_bad - base_bad > 0, np.nan, cum)
    result = np.empty(n)
    result[order] = cum
    return result


def derive_var_cumulative_gc_step(visits: pd.DataFrame) -> pd.DataFrame:
    """Add ``cumulative_gc_mg``: oral glucocorticoid taken since the first visit, by the step rule.

    Integration rule (step function): the daily dose recorded at a visit is assumed to be taken
    every day from that visit until the participant's next recorded visit, i.e. over
    ``7 x (week_next - week)`` days. The cumulative dose at a visit is the sum over the earlier
    intervals, so it excludes the dose recorded at that visit. A missed visit extends the previous
    interval; a missing dose makes the cumulative dose missing from the next visit on.
    Prednisone-equivalent mg (convert other glucocorticoids with
    :func:`pmrtrial.units.prednisone_equivalent_mg` before).
    """
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["cumulative_gc_mg"] = _cumulative_gc(visits, trapezoid=False)
    return out


def derive_var_cumulative_gc_trapezoid(visits: pd.DataFrame) -> pd.DataFrame:
    """Add ``cumulative_gc_mg`` by the trapezoid rule (the alternative to the step rule).

    Over each interval between consecutive recorded visits the daily dose is taken to change
    linearly from the dose recorded at the first visit to that at the second, so the interval
    contributes ``(dose_k + dose_k+1) / 2 x 7 x (week_k+1 - week_k)`` mg. Otherwise as
    :func:`derive_var_cumulative_gc_step`.
    """
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["cumulative_gc_mg"] = _cumulative_gc(visits, trapezoid=True)
    return out


# -- cross-visit variables (sustained endpoints such as SAPHYR's) ----------------------------------


def _running_all_from(visits: pd.DataFrame, values: FloatArray, start_week: float) -> FloatArray:
    """Per participant, in week order: 1.0 if ``values`` is true at every row from ``start_week``
    to this row, 0.0 if false at any, NaN if undecided (a missing value and no false); NaN before
    ``start_week``. Rows absent from the dataset (missed visits) are not counted.
    """
    order = _ordered(visits)
    subj = visits["subject_id"].astype(str).to_numpy()[order]
    week = visits["week"].to_numpy(dtype=np.float64)[order]
    x = values[order]
    active = week >= start_week
    is_false = (active & (x == 0.0)).astype(np.int64)
    is_nan = (active & np.isnan(x)).astype(np.int64)
    n = len(order)
    starts = np.ones(n, dtype=bool)
    starts[1:] = subj[1:] != subj[:-1]
    first_index = np.flatnonzero(starts)[np.cumsum(starts) - 1]

    def _group_cumsum(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        c = np.cumsum(a)
        return np.asarray(c - (c - a)[first_index])

    n_false, n_nan = _group_cumsum(is_false), _group_cumsum(is_nan)
    res = np.where(~active, np.nan, np.where(n_false > 0, 0.0, np.where(n_nan > 0, np.nan, 1.0)))
    out = np.empty(n)
    out[order] = res
    return out


def _crp_normal(visits: pd.DataFrame, crp_upper_limit_mg_l: float) -> FloatArray:
    crp = _as_float(visits["crp_mg_l"])
    normal = parse_predicate({"var": "crp_mg_l", "op": "le", "value": crp_upper_limit_mg_l})
    return evaluate_predicate_vectorised(normal, {"crp_mg_l": crp})


def derive_var_flare_free_from(visits: pd.DataFrame, *, start_week: float = 12.0) -> pd.DataFrame:
    """Add ``flare_free_from_w<start>``: no flare at any recorded visit from ``start_week`` to this one.

    Uses the ``flare`` column (:func:`derive_var_flare`, Dejaco 2011 rules via
    :func:`pmrtrial.scores.detect_flare`). Three-valued: False as soon as one visit flared, <NA>
    when a visit's flare status is unknown and none flared, <NA> before ``start_week``.
    """
    _require(visits, ["subject_id", "week", "flare"], f"flare_free_from_w{start_week:g}")
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    flags = _running_all_from(visits, 1.0 - _as_float(visits["flare"]), start_week)
    out[f"flare_free_from_w{start_week:g}"] = _tri_to_boolean(flags, visits.index)
    return out


def derive_var_crp_normal_from(
    visits: pd.DataFrame, *, crp_upper_limit_mg_l: float, start_week: float = 12.0
) -> pd.DataFrame:
    """Add ``crp_normal_from_w<start>``: CRP <= ``crp_upper_limit_mg_l`` at every recorded visit
    from ``start_week`` to this one (three-valued as :func:`derive_var_flare_free_from`)."""
    _require(visits, ["subject_id", "week", "crp_mg_l"], f"crp_normal_from_w{start_week:g}")
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    flags = _running_all_from(visits, _crp_normal(visits, crp_upper_limit_mg_l), start_week)
    out[f"crp_normal_from_w{start_week:g}"] = _tri_to_boolean(flags, visits.index)
    return out


def derive_var_remission_by(visits: pd.DataFrame, *, crp_upper_limit_mg_l: float, week: float = 12.0) -> pd.DataFrame:
    """Add ``remission_by_w<week>``, one value per participant copied to all of their rows.

    True when, at the participant's visit at ``week``, there is no flare (``flare`` column) and
    CRP <= ``crp_upper_limit_mg_l``; False when either fails; <NA> when undecided or the visit is
    absent. A proxy for "resolution of signs and symptoms by week 12": the canonical datasets hold
    no investigator judgement of resolution.
    """
    _require(visits, ["subject_id", "week", "flare", "crp_mg_l"], f"remission_by_w{week:g}")
    no_flare = 1.0 - _as_float(visits["flare"])
    crp_ok = _crp_normal(visits, crp_upper_limit_mg_l)
    both = np.where(
        (no_flare == 0.0) | (crp_ok == 0.0),
        0.0,
        np.where(np.isnan(no_flare) | np.isnan(crp_ok), np.nan, 1.0),
    )
    at = visits["week"].to_numpy(dtype=np.float64) == week
    lookup = pd.Series(both[at], index=visits["subject_id"].to_numpy()[at])
    lookup = lookup[~lookup.index.duplicated()]
    per_row = np.asarray(visits["subject_id"].map(lookup).to_numpy(dtype=np.float64, na_value=np.nan))
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out[f"remission_by_w{week:g}"] = _tri_to_boolean(per_row, visits.index)
    return out


#: Why adherence to a glucocorticoid taper cannot be derived from the canonical datasets.
TAPER_ADHERENCE_REASON = (
    "gc_taper_adherent cannot be derived from the canonical datasets: adherence to a protocol-mandated "
    "glucocorticoid taper needs the taper schedule of each arm and the daily doses actually taken (or the "
    "investigator's adherence assessment); the visits dataset records only the oral glucocorticoid dose at "
    "each visit. Supply a 'gc_taper_adherent' column to estimate endpoints that need it."
)


def derive_var_gc_taper_adherent(visits: pd.DataFrame) -> pd.DataFrame:
    """Keep a supplied ``gc_taper_adherent`` column (as three-valued boolean); otherwise refuse.

    Raises
    ------
    MissingColumnError
        The column is absent (always so for canonical datasets); the message says why it cannot
        be derived (:data:`TAPER_ADHERENCE_REASON`).
    """
    if "gc_taper_adherent" not in visits.columns:
        raise MissingColumnError(TAPER_ADHERENCE_REASON)
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out["gc_taper_adherent"] = _tri_to_boolean(_as_float(visits["gc_taper_adherent"]), visits.index)
    return out


def endpoint_column(endpoint: Endpoint) -> str:
    """Name of the flag column of a binary endpoint: ``ep_<endpoint id>``."""
    return f"ep_{endpoint.id}"


def derive_var_endpoint(visits: pd.DataFrame, endpoint: Endpoint) -> pd.DataFrame:
    """Add ``ep_<id>``: the endpoint's definition evaluated on every row (three-valued ``boolean``).

    The flag is evaluated on all rows; the analysis selects the endpoint's visits.
    """
    if endpoint.definition is None:
        raise ValueError(f"Endpoint {endpoint.id!r} has no definition (type {endpoint.type}).")
    out = visits.copy(deep=False)  # new or replaced columns only: the input frame is never modified
    out[endpoint_column(endpoint)] = _tri_to_boolean(
        evaluate_predicate_vectorised(endpoint.definition, visits), visits.index
    )
    return out


# -- everything from the protocol ----------------------------------------------------------------


@dataclass(frozen=True)
class DerivedVisits:
    """The visits dataset with every derivable column, and what could not be derived.

    Attributes
    ----------
    data : pandas.DataFrame
        Visits plus derived columns (input row order).
    not_derived : Mapping[str, str]
        Derived variable -> reason (the input columns that were absent).
    baseline_week : float
        Week of the protocol's baseline visit (reference for change and flare).
    cumulative_gc_rule : str
        Integration rule used for ``cumulative_gc_mg``.
    """

    data: pd.DataFrame
    not_derived: Mapping[str, str] = field(default_factory=dict)
    baseline_week: float = 0.0
    cumulative_gc_rule: str = "step"


def _referenced_variables(protocol: Protocol) -> set[str]:
    names = {r.variable for r in protocol.rescue}
    for e in protocol.endpoints:
        if e.variable:
            names.add(e.variable)
        if e.definition is not None:
            names.update(c.var for c in iter_comparisons(e.definition))
    return names


def derive_visit_variables(visits: pd.DataFrame, protocol: Protocol) -> DerivedVisits:
    """Add every derived visit variable the data allow, then a flag per binary endpoint.

    Derived, in order: ``crp_mg_dl``, ``crp_pmr_as``, ``esr_pmr_as`` (VASp is the protocol's
    ``parameters.pmr_as_patient_vas``), ``on_oral_gc``, ``upper_limb_elevation_above_90``,
    ``response_state``, ``baseline_crp_pmr_as``/``change_crp_pmr_as``, ``flare``/``flare_rule``,
    ``cumulative_gc_mg`` (step rule), and ``ep_<id>`` for each binary endpoint. A variable whose
    inputs are absent is listed in ``not_derived`` with the reason instead.

    Only when an endpoint or rescue rule of the protocol names them (so that BACHELOR's output is
    unchanged): ``baseline_oral_gc_mg_day``/``change_oral_gc_mg_day``, ``flare_free_from_w12``,
    ``crp_normal_from_w12``, ``remission_by_w12`` (CRP limit: ``parameters.crp_upper_limit_mg_l``)
    and ``gc_taper_adherent`` (never derivable from canonical data: listed in ``not_derived``
    with :data:`TAPER_ADHERENCE_REASON` unless the column is supplied).
    """
    patient_vas = protocol.parameters.pmr_as_patient_vas
    base_visits = [v for v in protocol.visits if v.phase == "baseline"]
    baseline_week = float(base_visits[0].week) if base_visits else 0.0
    steps: list[tuple[str, Any]] = [
        ("crp_mg_dl", derive_var_crp_mg_dl),
        ("crp_pmr_as", lambda d: derive_var_crp_pmr_as(d, patient_vas=patient_vas)),
        ("esr_pmr_as", lambda d: derive_var_esr_pmr_as(d, patient_vas=patient_vas)),
        ("on_oral_gc", derive_var_on_oral_gc),
        ("upper_limb_elevation_above_90", derive_var_upper_limb_elevation_above_90),
        ("response_state", derive_var_response_state),
        (
            "change_crp_pmr_as",
            lambda d: derive_vars_change_from_baseline(d, ["crp_pmr_as"], baseline_week=baseline_week),
        ),
        ("flare", lambda d: derive_var_flare(d, baseline_week=baseline_week)),
        ("cumulative_gc_mg", derive_var_cumulative_gc_step),
    ]
    uln = protocol.parameters.crp_upper_limit_mg_l
    on_demand: list[tuple[str, Any]] = [
        (
            "change_oral_gc_mg_day",
            lambda d: derive_vars_change_from_baseline(d, ["oral_gc_mg_day"], baseline_week=baseline_week),
        ),
        ("flare_free_from_w12", lambda d: derive_var_flare_free_from(d, start_week=12.0)),
        ("crp_normal_from_w12", lambda d: derive_var_crp_normal_from(d, crp_upper_limit_mg_l=uln, start_week=12.0)),
        ("remission_by_w12", lambda d: derive_var_remission_by(d, crp_upper_limit_mg_l=uln, week=12.0)),
        ("gc_taper_adherent", derive_var_gc_taper_adherent),
    ]
    referenced = _referenced_variables(protocol)
    steps += [(name, step) for name, step in on_demand if name in referenced]
    data = visits
    not_derived: dict[str, str] = {}
    for name, step in steps:
        try:
            data = step(data)
        except MissingColumnError as exc:
            not_derived[name] = str(exc)
    for endpoint in protocol.endpoints:
        if endpoint.type == "binary" and endpoint.definition is not None:
            data = derive_var_endpoint(data, endpoint)
    return DerivedVisits(data=data, not_derived=not_derived, baseline_week=baseline_week)
