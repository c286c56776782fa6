"""Run the statistical analysis plan of a protocol on validated datasets.

:func:`analyse_trial` is the SAP as code: which endpoint, which visit, which population and which
analysis all come from the :class:`~pmrtrial.protocol.Protocol`; the numbers come from
:mod:`pmrtrial.stats` through :mod:`pmrtrial.analysis._stats_bridge`.

Populations (protocol ``populations``)
--------------------------------------
- *randomised*: every row of ``subjects``, analysed in the allocated arm.
- *primary analysis set*: randomised participants assessed at the primary visit, i.e. with a
  record at that visit on which the endpoint can be decided. A record whose endpoint cannot be
  decided (a missing component) is counted as "not evaluable" and reported; it is not imputed.
- *safety*: the datasets carry no exposure flag, so every randomised participant is taken as
  treated (in BACHELOR the safety population equals the 34 randomised).

Secondary endpoints are analysed on the participants with a value at the visit (complete case).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from pmrtrial.analysis import _stats_bridge as sb
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
from pmrtrial.datasets import AnalysisDatasets
from pmrtrial.derive import DerivedVisits, derive_visit_variables, endpoint_column
from pmrtrial.protocol import Endpoint, Protocol
from pmrtrial.protocol.predicates import iter_comparisons
from pmrtrial.scores import RESPONSE_STATES

__all__ = ["BASELINE_VARIABLES", "analyse_trial", "infer_published_methods"]

#: Table 1 rows: (key as in the published yaml, label, dataset, column, kind, unit, transform).
#: ``transform`` turns a column into the binary indicator for "binary" rows.
BASELINE_VARIABLES: tuple[tuple[str, str, str, str, str, str | None, str | None], ...] = (
    ("age_years", "Age", "subjects", "age_years", "continuous", "years", None),
    ("female", "Female", "subjects", "sex", "binary", None, "eq:female"),
    ("male", "Male", "subjects", "sex", "binary", None, "eq:male"),
    ("disease_duration_days", "Disease duration", "subjects", "disease_duration_days", "continuous", "days", None),
    ("bmi", "Body-mass index", "subjects", "bmi", "continuous", "kg/m2", None),
    ("crp_pmr_as", "CRP PMR-AS", "visits", "crp_pmr_as", "continuous", None, None),
    (
        "patient_disease_activity_vas",
        "Patient's disease activity VAS",
        "visits",
        "patient_global_vas",
        "continuous",
        "0-10",
        None,
    ),
    ("patient_fatigue_vas", "Patient's fatigue VAS", "visits", "fatigue_vas", "continuous", "0-10", None),
    ("physician_global_vas", "Physician's global VAS", "visits", "physician_global_vas", "continuous", "0-10", None),
    (
        "upper_limb_elevation_below_90",
        "Elevation of the upper limbs < 90°",
        "visits",
        "upper_limb_elevation",
        "binary",
        None,
        "ge:1",
    ),
    ("morning_stiffness_min", "Morning stiffness", "visits", "morning_stiffness_min", "continuous", "min", None),
    ("sf36_pcs", "SF-36 PCS", "visits", "sf36_pcs", "continuous", None, None),
    ("sf36_mcs", "SF-36 MCS", "visits", "sf36_mcs", "continuous", None, None),
    ("haq_di", "HAQ-DI", "visits", "haq_di", "continuous", None, None),
    ("eq5d_index", "EQ-5D index", "visits", "eq5d_index", "continuous", None, None),
    ("crp", "CRP", "visits", "crp_mg_l", "continuous", "mg/L", None),
    (
        "synovitis_on_ultrasound",
        "Synovitis or tenosynovitis on ultrasound",
        "subjects",
        "us_synovitis",
        "binary",
        None,
        "eq:true",
    ),
)

_METHODS = (
    "Primary endpoint: responders by arm at the primary visit in the primary analysis set (randomised "
    "participants assessed at that visit; no imputation). Fisher's exact test (two-sided); Boschloo's exact "
    "unconditional test; crude risk ratio with Katz log CI and with the score CI; risk difference with "
    "Newcombe's hybrid-score CI; Bayesian risk ratio (independent Jeffreys Beta(0.5, 0.5) priors, posterior "
    "median and equal-tailed 95% credible interval); adjusted risk ratio from a log-binomial GEE with "
    "exchangeable correlation within centre (geepack moment estimators), robust (sandwich) SE and, beside "
    "it, the Mancl-DeRouen small-sample SE; if the log-binomial fit fails, a modified Poisson GEE (Zou 2004) "
    "is used and named.",
    "Secondary continuous endpoints: mean (SD) per arm among participants with a value at the visit; "
    "difference in means (treated - control) with Welch's t 95% CI and crude two-sided p.",
    "Secondary binary endpoints: n (%) per arm among participants in whom the endpoint can be decided; crude "
    "risk ratio with Katz log CI; Fisher's exact p.",
    "Four-state table: CRP PMR-AS <= 10 or > 10 crossed with oral glucocorticoid at the visit; records "
    "without a score or GC status are counted as 'missing', never as non-responders.",
    "Baseline table: mean (SD) and median (IQR; quartiles by SAS's default definition 5 = R type 2) for continuous "
    "variables, n (%) of participants with a value for binary ones; randomised population.",
    "Adverse events: participants with at least one event (and at least one serious event) by MedDRA SOC "
    "and arm; deaths are events with outcome 'fatal'; safety population taken as all randomised.",
)


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


def _describe(values: np.ndarray[Any, Any]) -> dict[str, Any]:
    v = values[~np.isnan(values)]
    if v.size == 0:
        return {"n": 0, "mean": None, "sd": None, "median": None, "q1": None, "q3": None}
    # SAS PROC UNIVARIATE default (PCTLDEF=5) = R quantile(type = 2): the SAS convention of the trial
    # (and of the synthetic twin, pmrtrial.synth._search).
    q1, med, q3 = np.percentile(v, [25, 50, 75], method="averaged_inverted_cdf")
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if v.size > 1 else None,
        "median": float(med),
        "q1": float(q1),
        "q3": float(q3),
    }


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


# -- parts -----------------------------------------------------------------------------------------


def _primary(
    protocol: Protocol,
    data: pd.DataFrame,
    derived: DerivedVisits,
    treated: str,
    control: str,
    warnings: list[str],
) -> PrimaryResult:
    ep = protocol.primary_endpoint
    visit = protocol.get_visit(ep.visits[0])
    reason = _missing_variables(ep, list(data.columns), derived.not_derived)
    at = data[data["week"] == visit.week]
    flags = _flags(at, endpoint_column(ep)) if reason is None else np.full(len(at), np.nan)
    arm = at["arm"].to_numpy()
    responders: dict[str, dict[str, int]] = {}
    not_evaluable: dict[str, int] = {}
    for a in (treated, control):
        f = flags[arm == a]
        responders[a] = {"n": int((~np.isnan(f)).sum()), "events": int((f == 1.0).sum())}
        not_evaluable[a] = int(np.isnan(f).sum())
        if not_evaluable[a]:
            warnings.append(
                f"primary: {not_evaluable[a]} participant(s) of arm {a} seen at {visit.code} could not be "
                "evaluated (missing component) and are excluded from the primary analysis set"
            )
    et, nt = responders[treated]["events"], responders[treated]["n"]
    ec, nc = responders[control]["events"], responders[control]["n"]
    if reason is not None or nt == 0 or nc == 0:
        why = reason or "no participant analysed in an arm"
        warnings.append(f"primary: {why}")
        none = {
            k: StatSummary(name=k, available=False, reason=why)
            for k in ("fisher", "boschloo", "rr_crude", "rr_score", "rd", "rr_gee", "rr_bayes")
        }
        results = none
    else:
        keep = ~np.isnan(flags) & np.isin(arm, [treated, control])
        y = flags[keep]
        t = (arm[keep] == treated).astype(np.float64)
        cluster = at["site_id"].to_numpy()[keep]
        results = {
            "fisher": sb.fisher(et, nt, ec, nc),
            "boschloo": sb.boschloo(et, nt, ec, nc),
            "rr_crude": sb.rr_katz(et, nt, ec, nc),
            "rr_score": sb.rr_score(et, nt, ec, nc),
            "rd": sb.rd_newcombe(et, nt, ec, nc),
            "rr_gee": sb.gee(y, t, cluster),
            "rr_bayes": sb.rr_bayes(et, nt, ec, nc),
        }
        for name, summary in results.items():
            _collect_warnings(f"primary {name}", summary, warnings)
    population = next((p.label for p in protocol.populations if p.id == ep.population), ep.population)
    return PrimaryResult(
        endpoint_id=ep.id,
        label=ep.label,
        definition=ep.definition.describe() if ep.definition else str(ep.variable),
        visit=visit.code,
        week=float(visit.week),
        population=population,
        treated_arm=treated,
        control_arm=control,
        responders=responders,
        not_evaluable=not_evaluable,
        **results,
    )


def _secondary(
    protocol: Protocol,
    data: pd.DataFrame,
    derived: DerivedVisits,
    treated: str,
    control: str,
    warnings: list[str],
) -> tuple[SecondaryRow, ...]:
    rows: list[SecondaryRow] = []
    for ep in protocol.endpoints:
        if ep.role != "secondary" or "four_state_table" in ep.analysis:
            continue
        reason = _missing_variables(ep, list(data.columns), derived.not_derived)
        for code in ep.visits:
            visit = protocol.get_visit(code)
            at = data[data["week"] == visit.week]
            arm = at["arm"].to_numpy()
            if reason is not None:
                warnings.append(f"secondary {ep.id} at {code}: {reason}")
                rows.append(
                    SecondaryRow(
                        ep.id,
                        ep.label,
                        ep.type,
                        float(visit.week),
                        code,
                        ep.unit,
                        False,
                        {},
                        StatSummary(name="effect", available=False, reason=reason),
                        None,
                        reason,
                    )
                )
                continue
            if ep.type == "continuous":
                values = _float(at, str(ep.variable))
                vt, vc = values[arm == treated], values[arm == control]
                vt, vc = vt[~np.isnan(vt)], vc[~np.isnan(vc)]
                arms = {
                    a: {k: d[k] for k in ("n", "mean", "sd")}
                    for a, d in ((treated, _describe(vt)), (control, _describe(vc)))
                }
                if vt.size >= 2 and vc.size >= 2:
                    effect = sb.mean_difference_welch(vt, vc)
                else:
                    effect = StatSummary(
                        name="mean_difference", available=False, reason="fewer than 2 values in an arm"
                    )
                _collect_warnings(f"secondary {ep.id} at {code}", effect, warnings)
                rows.append(
                    SecondaryRow(
                        ep.id, ep.label, "continuous", float(visit.week), code, ep.unit, True, arms, effect, None
                    )
                )
            else:
                flags = _flags(at, endpoint_column(ep))
                ct, cc = _count(flags[arm == treated]), _count(flags[arm == control])
                arms = {treated: ct, control: cc}
                if ct["n"] and cc["n"]:
                    effect = sb.rr_katz(ct["events"], ct["n"], cc["events"], cc["n"])
                    test = sb.fisher(ct["events"], ct["n"], cc["events"], cc["n"])
                else:
                    effect = StatSummary(name="rr_crude", available=False, reason="no participant in an arm")
                    test = StatSummary(name="fisher", available=False, reason="no participant in an arm")
                _collect_warnings(f"secondary {ep.id} at {code}", effect, warnings)
                rows.append(
                    SecondaryRow(ep.id, ep.label, "binary", float(visit.week), code, ep.unit, True, arms, effect, test)
                )
    return tuple(rows)


def _state_visits(protocol: Protocol) -> list[str]:
    for ep in protocol.endpoints:
        if "four_state_table" in ep.analysis:
            return list(ep.visits)
    return [v.code for v in protocol.visits if v.phase != "baseline" and v.phase != "screening"]


def _visit_states(protocol: Protocol, data: pd.DataFrame, arms: Sequence[str]) -> tuple[VisitStateRow, ...]:
    if "response_state" not in data.columns:
        return ()
    rows = []
    for code in _state_visits(protocol):
        visit = protocol.get_visit(code)
        at = data[data["week"] == visit.week]
        counts: dict[str, dict[str, int]] = {}
        for a in arms:
            states = at.loc[at["arm"] == a, "response_state"]
            tally = states.value_counts()
            counts[a] = {"n": len(states), **{s: int(tally.get(s, 0)) for s in RESPONSE_STATES}}
        rows.append(VisitStateRow(float(visit.week), code, counts))
    return tuple(rows)


def _trajectories(
    protocol: Protocol, data: pd.DataFrame, arms: Sequence[str], variable: str = "crp_pmr_as"
) -> tuple[TrajectoryPoint, ...]:
    if variable not in data.columns:
        return ()
    points = []
    for visit in protocol.visits:
        at = data[data["week"] == visit.week]
        for a in arms:
            v = _float(at[at["arm"] == a], variable)
            v = v[~np.isnan(v)]
            if v.size == 0:
                continue
            mean = float(v.mean())
            sd = float(v.std(ddof=1)) if v.size > 1 else math.nan
            half = float(sps.t.ppf(0.975, v.size - 1) * sd / math.sqrt(v.size)) if v.size > 1 else math.nan
            points.append(
                TrajectoryPoint(variable, a, float(visit.week), int(v.size), mean, sd, mean - half, mean + half)
            )
    return tuple(points)


def _baseline(
    protocol: Protocol, subjects: pd.DataFrame, data: pd.DataFrame, arms: Sequence[str], baseline_week: float
) -> tuple[BaselineRow, ...]:
    base = subjects[["subject_id", "arm"]].merge(
        data[data["week"] == baseline_week].drop(columns=["arm"], errors="ignore"), on="subject_id", how="left"
    )
    rows = []
    for key, label, source, column, kind, unit, transform in BASELINE_VARIABLES:
        frame = subjects if source == "subjects" else base
        if column not in frame.columns:
            rows.append(BaselineRow(key, label, kind, unit, {}, False, f"column {column!r} absent from {source}"))
            continue
        per_arm: dict[str, dict[str, Any]] = {}
        for a in arms:
            part = frame.loc[frame["arm"] == a, column]
            if kind == "continuous":
                per_arm[a] = _describe(pd.to_numeric(part, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan))
            else:
                assert transform is not None
                op, target = transform.split(":")
                known = part.notna().to_numpy()
                if op == "eq" and target == "true":
                    hit = part.astype("boolean").fillna(False).to_numpy(dtype=bool)
                elif op == "eq":
                    hit = (part.astype(object) == target).to_numpy(dtype=bool)
                else:
                    hit = (pd.to_numeric(part, errors="coerce") >= float(target)).to_numpy(dtype=bool)
                flags = np.where(known, hit.astype(np.float64), np.nan)
                per_arm[a] = _count(flags)
        rows.append(BaselineRow(key, label, kind, unit, per_arm))
    return tuple(rows)


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
        at = data[data["week"] == visit.week]
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


def infer_published_methods(
    published: Mapping[str, Any], *, treated: str = "baricitinib", control: str = "placebo"
) -> dict[str, Any]:
    """Recompute the published secondary effects from the published summaries to infer the method.

    For every ``kind: mean`` row the difference and CI are recomputed by Welch and by pooled t
    (:func:`pmrtrial.stats.compare_with_published`, tolerance one unit of the printed last digit);
    for ``kind: count`` rows the crude risk ratio with Katz CI and the Fisher and Pearson chi-square
    p-values are recomputed from the printed counts. The result lists each row and a one-paragraph
    finding. ``published`` is the trial's section of ``bachelor_published.yaml``.
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
                if cmp is None:
                    return {"available": False, "reason": "pmrtrial.stats.compare_with_published is not available"}
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
                table = np.array([[et, nt - et], [ec, nc - ec]])
                chi2_p = (
                    float(sps.chi2_contingency(table, correction=False)[1])
                    if (table.sum(axis=0) > 0).all()
                    else math.nan
                )
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


def analyse_trial(
    datasets: AnalysisDatasets,
    protocol: Protocol,
    *,
    published: Mapping[str, Any] | None = None,
) -> AnalysisResult:
    """Run the protocol's analysis plan on validated datasets.

    Parameters
    ----------
    datasets : AnalysisDatasets
        From :func:`pmrtrial.datasets.validate_datasets` (or :func:`pmrtrial.io.datasets.read_datasets`).
    protocol : Protocol
        Arms, visits, endpoints, populations and sample-size assumptions.
    published : mapping, optional
        The trial's published aggregates (the trial section of ``bachelor_published.yaml``); when
        given, the published secondary effects are recomputed to infer the authors' method.

    Returns
    -------
    AnalysisResult
        Every number of the report; ``to_dict()`` is ``results.json``.
    """
    warnings: list[str] = []
    treated, control, arm_warnings = _arms(protocol)
    warnings.extend(arm_warnings)
    arms = [treated, control]
    derived = derive_visit_variables(datasets.visits, protocol)
    for name, why in derived.not_derived.items():
        warnings.append(f"derivation of {name} skipped: {why}")
    subjects = datasets.subjects
    data = derived.data.merge(subjects[["subject_id", "arm", "site_id"]], on="subject_id", how="left")
    primary = _primary(protocol, data, derived, treated, control, warnings)
    secondary = _secondary(protocol, data, derived, treated, control, warnings)
    published_methods: Mapping[str, Any] = (
        infer_published_methods(published, treated=treated, control=control)
        if published is not None
        else {"available": False, "reason": "no published aggregates given"}
    )
    if datasets.synthetic:
        warnings.insert(0, "SYNTHETIC data: every number describes the synthetic twin, not the trial")
    return AnalysisResult(
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        synthetic=datasets.synthetic,
        arms=tuple({"id": a.id, "label": a.label, "is_control": a.is_control} for a in protocol.arms),
        primary=primary,
        secondary=secondary,
        visit_states=_visit_states(protocol, data, arms),
        trajectories=_trajectories(protocol, data, arms),
        baseline=_baseline(protocol, subjects, data, arms, derived.baseline_week),
        adverse_events=_adverse_events(subjects, datasets.adverse_events, arms),
        consort=_consort(protocol, subjects, data, arms, primary),
        sample_size=_sample_size(protocol),
        published_methods=published_methods,
        methods=(
            *_METHODS,
            f"Derived variables: CRP PMR-AS with VASp = {protocol.parameters.pmr_as_patient_vas}; cumulative oral "
            "glucocorticoid by the step rule (the dose recorded at a visit is taken until the next visit).",
        ),
        not_derived=derived.not_derived,
        warnings=tuple(dict.fromkeys(warnings)),
        software=sb.software_versions(),
    )
