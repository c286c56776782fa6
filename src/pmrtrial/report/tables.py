"""Report tables built from an :class:`~pmrtrial.analysis.AnalysisResult` (one model, three renderers).

A :class:`Table` is plain data: header, rows of :class:`Cell` and notes. The HTML, PDF and DOCX
renderers all draw the same tables. When the data are synthetic and the published aggregates are
given, every reproducible cell gets a "published" neighbour, and a cell whose value differs from the
published one beyond the printed precision is flagged (``Cell.flag``) and listed in
:func:`collect_flags`.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmrtrial import vocabulary
from pmrtrial.analysis import AnalysisResult, StatSummary
from pmrtrial.analysis.registry import method_label
from pmrtrial.analysis.results import NOT_DECLARED

__all__ = [
    "Cell",
    "Table",
    "build_tables",
    "collect_flags",
    "covariate_labels",
    "fmt_p",
    "humanise",
    "primary_adjusted",
    "primary_effects",
    "printed_decimals",
    "short_label",
]


@dataclass(frozen=True)
class Cell:
    """A table cell: display text, whether it is flagged (differs from published), and why."""

    text: str
    flag: bool = False
    note: str | None = None
    published: bool = False
    compared: bool = False  # a reproduced cell checked against a published value (flag says whether it differs)


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


# -- formatting ------------------------------------------------------------------------------------


def _f(value: Any, decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–" if value is None or math.isnan(value) else ("∞" if value > 0 else "-∞")
    return f"{float(value):.{decimals}f}"


def fmt_p(p: Any) -> str:
    """p-value as printed in clinical journals: 2 significant digits, "<0.0001" below 1e-4."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    p = float(p)
    if p < 0.0001:
        return "<0.0001"
    if p >= 0.1:
        return f"{p:.2f}"
    # two significant digits, at most four decimals (0.087, 0.020, 0.0020, 0.0003)
    decimals = min(4, 1 - math.floor(math.log10(p)))
    return f"{p:.{decimals}f}"


def _est(s: StatSummary | Mapping[str, Any] | None, decimals: int = 1) -> str:
    if s is None:
        return "–"
    d = s.to_dict() if isinstance(s, StatSummary) else s
    if not d.get("available", True) or d.get("estimate") is None:
        return "not available"
    return f"{_f(d['estimate'], decimals)} ({_f(d.get('lo'), decimals)} to {_f(d.get('hi'), decimals)})"


def printed_decimals(value: Any) -> int:
    """Decimals of a number as printed in the published yaml (``2.0`` -> 1, ``14`` -> 0)."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return 0
    text = repr(float(value))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _differs(reproduced: float | None, published: Any, decimals: int | None = None) -> bool:
    if reproduced is None or published is None or isinstance(published, str):
        return False
    if isinstance(reproduced, float) and not math.isfinite(reproduced):
        return True
    d = printed_decimals(published) if decimals is None else decimals
    return (
        round(float(reproduced) + 0.0, d) != round(float(published), d)
        and abs(float(reproduced) - float(published)) > 0.5 * 10.0**-d + 1e-9
    )


def _p_differs(p: float | None, printed: Any) -> bool:
    if p is None or printed is None:
        return False
    text = str(printed).strip()
    if text.startswith("<"):
        return not p < float(text[1:])
    return fmt_p(p) != text and abs(p - float(text)) > 0.5 * 10.0 ** -(len(text.split(".")[1]) if "." in text else 0)


def _cmp_cell(text: str, pairs: Sequence[tuple[float | None, Any]], published_text: str | None) -> tuple[Cell, Cell]:
    flag = any(_differs(r, p) for r, p in pairs)
    note = f"differs from published {published_text}" if flag else None
    compared = any(p is not None for _, p in pairs)
    return Cell(text, flag, note, compared=compared), Cell(published_text or "–", published=True)


def short_label(label: str, width: int = 22) -> str:
    """An arm label cut at a word to fit a row label or an axis label ("Sarilumab 200 mg SC…")."""
    return textwrap.shorten(label, width, placeholder="…")


def _in_sentence(label: str) -> str:
    """A label inside a sentence: first letter lowered unless the first word is an acronym ("CRP PMR-AS")."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() or not label else label[0].lower() + label[1:]


def covariate_labels(names: Sequence[str]) -> str:
    """Adjustment covariates in words from the vocabulary: "baseline oral glucocorticoid dose and baseline CRP
    PMR-AS" (a name the vocabulary does not know is printed as given)."""
    words = [f"baseline {_in_sentence(vocabulary.label(str(n)))}" for n in names]
    return " and ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " and " + words[-1]


_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def humanise(text: str) -> str:
    """``text`` with every variable name the vocabulary labels replaced by its label (an endpoint definition such as
    "crp_pmr_as < 10 AND oral_gc_mg_day <= 5" reads "CRP PMR-AS < 10 AND Oral glucocorticoid dose <= 5")."""
    return _NAME.sub(lambda m: vocabulary.label(m.group(0)), text)


# -- tables ----------------------------------------------------------------------------------------


def _arm_labels(result: AnalysisResult) -> dict[str, str]:
    return {str(a["id"]): str(a["label"]) for a in result.arms}


def _consort_table(result: AnalysisResult, arms: Sequence[str], labels: Mapping[str, str]) -> Table:
    c = result.consort
    rows = [
        (Cell("Randomised"), *(Cell(str(c.randomised[a])) for a in arms)),
        *(
            (Cell(f"Seen at {v['visit']} (week {v['week']:g})"), *(Cell(str(v[a])) for a in arms))
            for v in c.analysed_by_visit
        ),
        (Cell(f"Primary analysis set ({result.primary.visit})"), *(Cell(str(c.primary_analysed[a])) for a in arms)),
        (Cell("Completed"), *(Cell(str(c.completed[a])) for a in arms)),
        (Cell("Withdrawn"), *(Cell(str(c.withdrawn[a])) for a in arms)),
        (Cell("Lost to follow-up"), *(Cell(str(c.lost[a])) for a in arms)),
    ]
    return Table("consort", "Participant flow (CONSORT counts)", ("", *(labels[a] for a in arms)), tuple(rows))


def _baseline_cell(kind: str, d: Mapping[str, Any]) -> str:
    if kind == "continuous":
        if not d.get("n"):
            return "–"
        return f"{_f(d['mean'])} ({_f(d['sd'])}); {_f(d['median'])} [{_f(d['q1'])}–{_f(d['q3'])}] (n={d['n']})"
    if not d.get("n"):
        return "–"
    return f"{d['events']}/{d['n']} ({_f(d['pct'], 0)}%)"


def _baseline_table(
    result: AnalysisResult, arms: Sequence[str], labels: Mapping[str, str], pub: Mapping[str, Any] | None
) -> Table:
    header = ["Characteristic"]
    for a in arms:
        header.append(labels[a])
        if pub:
            header.append(f"{labels[a]} (published)")
    rows = []
    for row in result.baseline:
        label = row.label + (f", {row.unit}" if row.unit else "")
        cells = [Cell(label)]
        p_row = (pub or {}).get("baseline", {}).get(row.key, {})
        for a in arms:
            if not row.estimable:
                cells.append(Cell("not available", note=row.reason))
                if pub:
                    cells.append(Cell("–", published=True))
                continue
            d = row.arms.get(a, {})
            text = _baseline_cell(row.kind, d)
            if pub:
                pa = p_row.get(a) if isinstance(p_row, Mapping) else None
                if pa and row.kind == "continuous":
                    ptext = f"{pa['mean']} ({pa['sd']}); {pa['median']} [{pa['q1']}–{pa['q3']}]"
                    pairs = [(d.get(k), pa.get(k)) for k in ("mean", "sd", "median", "q1", "q3")]
                elif pa:
                    ptext = f"{pa['n']} ({pa['pct']}%)"
                    pairs = [(d.get("events"), pa.get("n")), (d.get("pct"), pa.get("pct"))]
                else:
                    ptext, pairs = None, []
                cells.extend(_cmp_cell(text, pairs, ptext))
            else:
                cells.append(Cell(text))
        rows.append(tuple(cells))
    notes = ["Continuous: mean (SD); median [IQR, SAS definition 5 = R type 2]. Binary: n/N with a value (%)."]
    if pub:
        notes.append("Published CRP is printed as mg/dL but is in mg/L (bachelor_published.yaml notes).")
    return Table(
        "baseline",
        "Table 1. Baseline characteristics (randomised population)",
        tuple(header),
        tuple(rows),
        tuple(notes),
    )


def primary_adjusted(result: AnalysisResult) -> Mapping[str, Any] | None:
    """The primary endpoint's covariate-adjusted risk ratio (endpoints[] ``adjusted_risk_ratio``), when declared."""
    entry = next((e for e in result.endpoints if e.id == result.primary.endpoint_id), None)
    return None if entry is None else entry.analyses.get("adjusted_risk_ratio")


def _effect_words(method: str, d: Mapping[str, Any]) -> str:
    est, lo, hi = (float(d[k]) for k in ("estimate", "lo", "hi"))
    if method == "risk_difference":  # printed in percentage points, as trials report it
        return f"risk difference {100 * est:.1f} percentage points (95% CI {100 * lo:.1f} to {100 * hi:.1f})"
    name = {
        "adjusted_risk_ratio": "risk ratio adjusted for "
        + covariate_labels((d.get("details") or {}).get("covariates") or ()),
        "log_binomial_gee_by_centre": "risk ratio clustered by centre (GEE)",
    }.get(method, "crude risk ratio")
    return f"{name} {est:.2f} (95% CI {lo:.2f} to {hi:.2f})"


def primary_effects(result: AnalysisResult) -> list[str]:
    """The primary effect in words for page 1: the protocol's first declared effect analysis of the primary endpoint
    (SEMAPHORE: the adjusted risk ratio; SAPHYR: the risk difference), then the crude risk ratio when it is not."""
    entry = next((e for e in result.endpoints if e.id == result.primary.endpoint_id), None)
    effects = ("adjusted_risk_ratio", "risk_difference", "risk_ratio", "log_binomial_gee_by_centre")
    out: list[str] = []
    for method, d in entry.analyses.items() if entry is not None else ():
        if method in effects and d.get("available") and all(d.get(k) is not None for k in ("estimate", "lo", "hi")):
            out.append(_effect_words(method, d))
            break
    crude = result.primary.rr_crude.to_dict()
    if not any(text.startswith("crude") for text in out) and crude.get("available", True) and crude.get("estimate"):
        out.append(_effect_words("risk_ratio", crude))
    return out


def _primary_table(result: AnalysisResult, labels: Mapping[str, str], pub: Mapping[str, Any] | None) -> Table:
    pr = result.primary
    rows: list[tuple[Cell, ...]] = []
    pp = (pub or {}).get("primary_endpoint", {})
    for a in (pr.treated_arm, pr.control_arm):
        r = pr.responders[a]
        if "events" not in r:  # a continuous or time-to-event primary: its analyses are in "Further endpoints"
            rows.append(
                (Cell(f"Analysed, {labels[a]}"), Cell(str(r["n"])), *((Cell("–", published=True),) if pub else ()))
            )
            continue
        pct = 100.0 * r["events"] / r["n"] if r["n"] else math.nan
        text = f"{r['events']}/{r['n']} ({_f(pct, 0)}%)"
        if pub:
            pa = pp.get(a, {})
            ptext = f"{pa.get('responders')}/{pa.get('n')} ({pa.get('pct')}%)" if pa else None
            c, pc = _cmp_cell(
                text, [(r["events"], pa.get("responders")), (r["n"], pa.get("n")), (pct, pa.get("pct"))], ptext
            )
            rows.append((Cell(f"Responders, {labels[a]}"), c, pc))
        else:
            rows.append((Cell(f"Responders, {labels[a]}"), Cell(text)))

    def add(
        label: str,
        summary: StatSummary,
        text: str,
        pairs: Sequence[tuple[float | None, Any]] = (),
        ptext: str | None = None,
    ) -> None:
        if summary.reason == NOT_DECLARED:  # the protocol does not ask for this analysis
            return
        if pub:
            c, pc = _cmp_cell(text, pairs, ptext) if ptext else (Cell(text), Cell("–", published=True))
            rows.append((Cell(label), c, pc))
        else:
            rows.append((Cell(label), Cell(text)))

    add("Fisher exact p (two-sided)", pr.fisher, fmt_p(pr.fisher.p))
    add(
        "Boschloo exact p (two-sided)",
        pr.boschloo,
        fmt_p(pr.boschloo.p) if pr.boschloo.available else "not computed (see note)",
    )
    rr = pp.get("risk_ratio", {})
    add("Risk ratio, crude (Katz CI)", pr.rr_crude, _est(pr.rr_crude))
    add("Risk ratio, crude (score CI)", pr.rr_score, _est(pr.rr_score))
    add("Risk difference (Newcombe CI)", pr.rd, _est(pr.rd, 3))
    gee = pr.rr_gee
    gee_text = _est(gee)
    if gee.available:
        gee_text += f"; p {fmt_p(gee.p)}; {gee.method}"
    # The publication prints its GEE estimate as "adjusted"; with no covariate in the model it is clustered by centre.
    add(
        "Risk ratio clustered by centre (GEE, robust CI)",
        gee,
        gee_text,
        [(gee.estimate, rr.get("estimate")), (gee.lo, rr.get("lo")), (gee.hi, rr.get("hi"))] if rr else (),
        f"{rr.get('estimate')} ({rr.get('lo')} to {rr.get('hi')}), printed as adjusted" if rr else None,
    )
    md = gee.details.get("ci_mancl_derouen") if gee.available else None
    add(
        "Risk ratio clustered by centre (GEE, Mancl-DeRouen CI)",
        gee,
        f"{_f(gee.estimate)} ({_f(md[0])} to {_f(md[1])})" if md else "not available",
    )
    md_t = gee.details.get("ci_mancl_derouen_t") if gee.available else None
    add(
        f"Risk ratio clustered by centre (GEE, Mancl-DeRouen CI, t with {gee.details.get('df_t', '?')} df)",
        gee,
        f"{_f(gee.estimate)} ({_f(md_t[0])} to {_f(md_t[1])}); p {fmt_p(gee.details.get('p_mancl_derouen_t'))}"
        if md_t
        else "not available",
    )
    add("Risk ratio, Bayesian (Jeffreys priors; 95% CrI)", pr.rr_bayes, _est(pr.rr_bayes))
    adjusted = primary_adjusted(result)
    if adjusted is not None:
        text = _est(adjusted, 2) + (f"; p {fmt_p(adjusted.get('p'))}" if adjusted.get("available") else "")
        label = f"Risk ratio adjusted for {covariate_labels(adjusted.get('details', {}).get('covariates', ()))}"
        rows.append(
            (Cell(f"{label} (modified Poisson, robust CI)"), Cell(text), *((Cell("–", published=True),) if pub else ()))
        )
    header = ("", "Reproduced", "Published") if pub else ("", "Value")
    notes = [
        f"Endpoint: {pr.label} — {humanise(pr.definition)}; visit {pr.visit}; population: {humanise(pr.population)}.",
    ]
    for stat in (pr.fisher, pr.boschloo, pr.rr_crude, pr.rr_score, pr.rd, pr.rr_gee, pr.rr_bayes):
        if not stat.available and stat.reason != NOT_DECLARED:  # a cap or a failure is stated, never a silent blank
            notes.append(f"{stat.name}: {stat.reason or 'not available'}.")
    if pub:
        notes.append(
            'The published "adjusted" RR 5.8 comes from a log-binomial GEE clustered by centre (no covariate is '
            "in the model, so it is clustered, not adjusted); it is compared with the GEE row. The allocation of "
            "participants to centres is not published, so the GEE interval depends on the (unknown) allocation: "
            "across plausible allocations the robust SE of log RR ranges widely (Monte Carlo allocations of the 34 "
            "participants to 6 centres: 5th percentile 0.26, median 0.55; the published interval implies 0.31). "
            "The crude RR 5.8 also reproduces the published point estimate."
        )
    return Table("primary", "Primary endpoint", header, tuple(rows), tuple(notes))


#: Row labels of the sensitivity table, by method id (the order is the protocol's).
_SENSITIVITY_LABELS = {
    "missing_as_non_response": "All randomised, missing = non-response",
    "per_protocol": "Per-protocol set",
    "tipping_point": "Tipping point (every imputation of the missing)",
}


def _counts(d: Mapping[str, Any] | None) -> str:
    if not d or not d.get("n"):
        return "–"
    return f"{d['events']}/{d['n']} ({_f(100.0 * d['events'] / d['n'], 0)}%)"


def _tipping_cells(s: StatSummary, t: str, c: str) -> tuple[str, str, str, str, str, str]:
    """(treated, control, RR range, RD, p range, note) of the tipping-point row."""
    d = s.details
    cells = list(d.get("cells") or ())
    arms = (f"{d.get('missing_treated', 0)} missing", f"{d.get('missing_control', 0)} missing")
    if not cells:
        return (*arms, "–", "–", "–", "no participant without a decided response: nothing to impute")
    rr = [x["rr"] for x in cells if x.get("rr") is not None]
    ps = [x["p"] for x in cells if x.get("p") is not None]
    rr_text = f"{_f(min(rr))} to {_f(max(rr))} over {len(cells)} imputation(s)" if rr else "–"
    p_text = f"{fmt_p(min(ps))} to {fmt_p(max(ps))}" if ps else "–"
    if d.get("robust"):
        note = f"no imputation changes the conclusion at two-sided {d.get('alpha', 0.05):g}"
    else:
        points = "; ".join(f"{i} {t} and {j} {c} responder(s)" for i, j in d.get("tipping_points") or ())
        note = f"the conclusion changes from: {points}"
    return (*arms, rr_text, "–", p_text, note)


def _sensitivity_table(result: AnalysisResult, labels: Mapping[str, str]) -> Table | None:
    """The primary endpoint's declared sensitivity analyses, numbered S1, S2..., under the primary result."""
    pr = result.primary
    if not pr.sensitivity:
        return None
    t, c = pr.treated_arm, pr.control_arm
    rows: list[tuple[Cell, ...]] = [
        (
            Cell("–"),
            Cell(f"Primary analysis ({pr.population})"),
            Cell(_counts(pr.responders.get(t))),
            Cell(_counts(pr.responders.get(c))),
            Cell(_est(pr.rr_crude, 2)),
            Cell(_est(pr.rd, 3)),
            Cell(fmt_p(pr.fisher.p)),
        )
    ]
    notes = [
        "Risk ratio: crude, Katz log CI; risk difference: Newcombe hybrid-score CI; p: Fisher's exact test, two-sided. "
        "The first row repeats the primary analysis for comparison."
    ]
    for k, (method, s) in enumerate(pr.sensitivity.items(), start=1):
        label = _SENSITIVITY_LABELS.get(method, method.replace("_", " "))
        if not s.available:
            rows.append((Cell(f"S{k}"), Cell(label, note=s.reason), *(Cell("not available") for _ in range(5))))
            notes.append(f"S{k}: {s.reason or 'not available'}.")
            continue
        if method == "tipping_point":
            tt, tc, rr_text, rd_text, p, note = _tipping_cells(s, labels[t], labels[c])
            rows.append((Cell(f"S{k}"), Cell(label), *(Cell(x) for x in (tt, tc, rr_text, rd_text, p))))
            notes.append(f"S{k}: {note}; every cell is in results.json (primary.sensitivity.tipping_point).")
            continue
        arms = s.details.get("arms", {})
        rd = s.details.get("rd")
        rows.append(
            (
                Cell(f"S{k}"),
                Cell(label),
                Cell(_counts(arms.get(t))),
                Cell(_counts(arms.get(c))),
                Cell(_est(s, 2)),
                Cell(_est(rd, 3)),
                Cell(fmt_p(s.p)),
            )
        )
        imputed = s.details.get("imputed_non_responders")
        if imputed:
            notes.append(
                f"S{k}: counted as non-responders: "
                + ", ".join(f"{n} {labels.get(a, a)}" for a, n in imputed.items())
                + "."
            )
        excluded = s.details.get("excluded")
        if excluded is not None:
            parts = [f"{len(ids)} for {dev.replace('_', ' ')}" for dev, ids in excluded.items()]
            notes.append(f"S{k}: excluded from the primary analysis set: {', '.join(parts) or 'none'}.")
            notes.extend(f"S{k}: {n}." for n in s.details.get("not_assessable", ()))
    header = ("", "Analysis", labels[t], labels[c], "Risk ratio (95% CI)", "Risk difference (95% CI)", "p")
    return Table("primary_sensitivity", "Primary endpoint: sensitivity analyses", header, tuple(rows), tuple(notes))


_STATES = ("le10_no_gc", "le10_gc", "gt10_no_gc", "gt10_gc", "missing")
_STATE_LABELS = {
    "le10_no_gc": "≤10, no GC",
    "le10_gc": "≤10, GC",
    "gt10_no_gc": ">10, no GC",
    "gt10_gc": ">10, GC",
    "missing": "missing",
}


def _states_table(
    result: AnalysisResult, arms: Sequence[str], labels: Mapping[str, str], pub: Mapping[str, Any] | None
) -> Table:
    header = ["Week", "Arm", "n", *(_STATE_LABELS[s] for s in _STATES)]
    if pub:
        header.append("Published (n; four states)")
    published = {float(v["week"]): v for v in (pub or {}).get("visit_states", ())}
    rows = []
    for row in result.visit_states:
        for a in arms:
            c = row.counts[a]
            cells = [Cell(f"{row.week:g}"), Cell(labels[a])]
            pv: Mapping[str, Any] = published.get(row.week, {}).get(a, {}) if pub else {}
            for key in ("n", *_STATES):
                flag = key in pv and c[key] != pv[key]
                note = f"published {pv[key]}" if flag else None
                cells.append(Cell(str(c[key]), flag, note, compared=key in pv))
            if pub:
                ptext = f"{pv['n']}; " + " / ".join(str(pv[s]) for s in _STATES[:4]) if pv else "–"
                cells.append(Cell(ptext, published=True))
            rows.append(tuple(cells))
    return Table(
        "visit_states",
        "Four states per visit: CRP PMR-AS ≤10 or >10 by oral glucocorticoid (GC) use",
        tuple(header),
        tuple(rows),
        ("'missing': score or GC status missing at an attended visit (never counted as non-response).",),
    )


def _secondary_table(
    result: AnalysisResult, arms: Sequence[str], labels: Mapping[str, str], pub: Mapping[str, Any] | None
) -> Table:
    t, c = arms
    header = ["Week", "Endpoint", labels[t], labels[c], "Effect (95% CI)", "p"]
    if pub:
        header += ["Published effect (95% CI)", "Published p"]
    published: dict[tuple[float, str], Mapping[str, Any]] = {}
    for block in (pub or {}).get("secondary", ()):
        for key, row in block["rows"].items():
            published[(float(block["week"]), key)] = row
    rows = []
    for row in result.secondary:
        label = row.label + (f", {row.unit}" if row.unit else "")
        if not row.estimable:
            cells = [
                Cell(f"{row.week:g}"),
                Cell(label),
                Cell("not estimable", note=row.reason),
                Cell("–"),
                Cell("–"),
                Cell("–"),
            ]
            if pub:
                cells += [Cell("–", published=True), Cell("–", published=True)]
            rows.append(tuple(cells))
            continue
        pr = published.get((row.week, row.endpoint_id)) if pub else None
        cells = [Cell(f"{row.week:g}"), Cell(label)]
        for i, a in enumerate((t, c)):
            d = row.arms.get(a, {})
            if row.kind == "continuous":
                text = f"{_f(d.get('mean'))} ({_f(d.get('sd'))}) n={d.get('n')}"
                pairs = [(d.get("mean"), pr[a][0]), (d.get("sd"), pr[a][1])] if pr else []
            else:
                text = f"{d.get('events')}/{d.get('n')} ({_f(d.get('pct'), 0)}%)"
                pairs = [(d.get("events"), pr[a][0]), (d.get("pct"), pr[a][1])] if pr else []
            flag = any(_differs(r, p) for r, p in pairs)
            cells.append(Cell(text, flag, f"published {pr[a]}" if flag and pr else None, compared=bool(pairs)))
            del i
        eff = row.effect
        eff_text = _est(eff, 2 if row.kind == "continuous" else 1)
        eff_flag = (
            pr is not None
            and eff.available
            and any(_differs(v, p) for v, p in zip((eff.estimate, eff.lo, eff.hi), pr["effect"], strict=True))
        )
        p_value = row.test.p if row.test is not None else eff.p
        p_flag = pr is not None and _p_differs(p_value, pr["p"])
        compared = pr is not None
        cells.append(
            Cell(
                eff_text, eff_flag, "differs from published" if eff_flag else None, compared=compared and eff.available
            )
        )
        cells.append(Cell(fmt_p(p_value), p_flag, compared=compared))
        if pub:
            cells.append(
                Cell(f"{pr['effect'][0]} ({pr['effect'][1]} to {pr['effect'][2]})" if pr else "–", published=True)
            )
            cells.append(Cell(str(pr["p"]) if pr else "–", published=True))
        rows.append(tuple(cells))
    notes = [
        "Continuous: mean (SD); difference in means treated − control with Welch 95% CI, crude p. Binary: n/N (%); "
        "crude risk ratio with Katz CI, Fisher exact p.",
    ]
    if pub:
        notes.append(
            "Published CRP mg/dL effects are not the difference of the printed means (bachelor_published.yaml notes); "
            "flags on those rows are expected."
        )
    return Table("secondary", "Secondary endpoints", tuple(header), tuple(rows), tuple(notes))


def _ae_table(
    result: AnalysisResult, arms: Sequence[str], labels: Mapping[str, str], pub: Mapping[str, Any] | None
) -> Table:
    ae = result.adverse_events
    header = ["", "System organ class", *(f"{labels[a]} (N={ae.n_by_arm[a]})" for a in arms)]
    if pub:
        header.append("Published (serious)")
    published = {r["soc"]: r for r in (pub or {}).get("adverse_events", {}).get("serious_by_soc", ())}

    def pct(n: int, a: str) -> str:
        return f"{n} ({_f(100.0 * n / ae.n_by_arm[a], 0)}%)" if ae.n_by_arm[a] else str(n)

    rows: list[tuple[Cell, ...]] = []
    extra = [Cell("", published=True)] if pub else []
    rows.append((Cell("Any AE"), Cell("All"), *(Cell(pct(ae.participants_any_ae[a], a)) for a in arms), *extra))
    for r in ae.any_ae_by_soc:
        rows.append((Cell("Any AE"), Cell(str(r["soc"])), *(Cell(pct(int(r[a]), a)) for a in arms), *extra))
    rows.append((Cell("Serious AE"), Cell("All"), *(Cell(pct(ae.participants_serious[a], a)) for a in arms), *extra))
    socs = sorted({str(r["soc"]) for r in ae.serious_by_soc} | set(published))
    ours = {str(r["soc"]): r for r in ae.serious_by_soc}
    for soc in socs:
        r = ours.get(soc, {})
        pr = published.get(soc)
        cells = [Cell("Serious AE"), Cell(soc)]
        for a in arms:
            n = int(r.get(a, 0))
            flag = pr is not None and n != int(pr[a])
            cells.append(Cell(pct(n, a), flag, compared=pr is not None))
        if pub:
            cells.append(Cell(" / ".join(str(pr[a]) for a in arms) if pr else "–", published=True))
        rows.append(tuple(cells))
    rows.append(
        (Cell("Serious AE"), Cell("Number of events"), *(Cell(str(ae.serious_events[a])) for a in arms), *extra)
    )
    deaths = [Cell(str(ae.deaths[a]) if ae.deaths_known else "not recorded") for a in arms]
    rows.append((Cell("Deaths"), Cell(""), *deaths, *extra))
    return Table(
        "adverse_events",
        "Adverse events: participants with at least one event, by SOC and arm",
        tuple(header),
        tuple(rows),
        (f"Population: {ae.population}.",),
    )


def _sample_size_table(result: AnalysisResult) -> Table:
    ss = result.sample_size
    rows: list[tuple[Cell, ...]] = []
    notes: list[str] = []
    proto = ss.get("protocol", {})
    if proto:
        notes.append(
            f"Protocol: {proto['p_control']:g} vs {proto['p_treated']:g}, two-sided α {proto['alpha_two_sided']:g}, "
            f"power {proto['power']:g}; published n per group {proto['n_per_group']}."
        )
    if not ss.get("available"):
        rows.append((Cell("not available"), Cell(str(ss.get("reason", "")))))
        return Table("sample_size", "Sample size", ("Method", "n per group"), tuple(rows), tuple(notes))
    for m in ss["methods"]:
        rows.append((Cell(str(m["method"])), Cell(f"{m['n_per_group']} (power {_f(m['power_at_n'], 3)})")))
    if ss.get("note"):
        notes.append(str(ss["note"]))
    return Table(
        "sample_size",
        "Sample size recomputed from the protocol's assumptions",
        ("Method", "n per group"),
        tuple(rows),
        tuple(notes),
    )


def _published_methods_table(result: AnalysisResult) -> Table | None:
    pm = result.published_methods
    if not pm.get("available"):
        return None
    rows = []
    for r in pm["rows"]:
        if r["kind"] == "mean" and "error" not in r:
            w, p = r["welch"], r["pooled"]
            rows.append(
                (
                    Cell(f"{r['week']}"),
                    Cell(r["row"]),
                    Cell(f"{r['published']['effect']} p {r['published']['p']}"),
                    Cell(
                        f"{_f(w['estimate'], 2)} ({_f(w['lo'], 2)} to {_f(w['hi'], 2)}) p {fmt_p(w['p'])}",
                        not r["welch_within"],
                    ),
                    Cell(
                        f"{_f(p['estimate'], 2)} ({_f(p['lo'], 2)} to {_f(p['hi'], 2)}) p {fmt_p(p['p'])}",
                        not r["pooled_within"],
                    ),
                )
            )
        elif r["kind"] == "count":
            k = r["rr_katz"]
            rows.append(
                (
                    Cell(f"{r['week']}"),
                    Cell(r["row"]),
                    Cell(f"{r['published']['effect']} p {r['published']['p']}"),
                    Cell(
                        f"RR {_f(k['estimate'], 2)} ({_f(k['lo'], 2)} to {_f(k['hi'], 2)}); "
                        f"Fisher p {fmt_p(r['fisher_p'])}"
                    ),
                    Cell(f"Pearson χ² p {fmt_p(r['chi2_p'])}"),
                )
            )
    return Table(
        "published_methods",
        "Published secondary effects recomputed from the published summaries (method inference)",
        ("Week", "Row", "Published", "Welch t (or RR Katz, Fisher)", "Pooled t (or χ²)"),
        tuple(rows),
        (str(pm["finding"]), "Flagged: not reproduced within one unit of the printed last digit."),
    )


#: Methods already shown by the primary, four-state and secondary tables.
_SHOWN_ELSEWHERE = {
    "primary": {
        "fisher_exact",
        "boschloo_exact",
        "risk_ratio",
        "risk_difference",
        "log_binomial_gee_by_centre",
        "bayesian_risk_ratio",
        "missing_as_non_response",
        "per_protocol",
        "tipping_point",
    },
    "secondary": {"mean_difference", "risk_ratio", "fisher_exact", "four_state_table"},
}


def _arm_summary(endpoint_type: str, method: str, d: Mapping[str, Any] | None) -> str:
    if not d:
        return "–"
    if method == "kaplan_meier":
        median = "not reached" if d.get("median") is None else f"{_f(d['median'], 0)}"
        ci = f" ({_f(d.get('median_lo'), 0)} to {_f(d.get('median_hi'), 0)})" if d.get("median") is not None else ""
        return f"{d['events']}/{d['n']} events; median {median}{ci} days"
    if endpoint_type == "binary":
        return f"{d['events']}/{d['n']} ({_f(d['pct'], 0)}%)" if d.get("n") else "–"
    if not d.get("n"):
        return "–"
    return f"{_f(d['mean'])} ({_f(d['sd'])}); median {_f(d['median'])} [{_f(d['q1'])}, {_f(d['q3'])}]; n {d['n']}"


def _method_text(method: str, entry: Mapping[str, Any]) -> str:
    """The method's short name, with the adjustment covariates in words when the model has any."""
    covariates = (entry.get("details") or {}).get("covariates") or ()
    name = method_label(method)
    return f"{name}; covariates: {covariate_labels(covariates)}" if covariates else name


def _endpoints_table(result: AnalysisResult, arms: Sequence[str], labels: Mapping[str, str]) -> Table | None:
    """Every declared analysis not already in the primary, four-state or secondary tables (time to event,
    Wilcoxon/Hodges-Lehmann, adjusted risk ratio...), one row per endpoint, visit and method."""
    t, c = arms
    rows: list[tuple[Cell, ...]] = []
    for ep in result.endpoints:
        shown = set() if ep.type == "time_to_event" else _SHOWN_ELSEWHERE.get(ep.role, set())
        for method, entry in ep.analyses.items():
            if method in shown:
                continue
            by_visit = entry.get("by_visit") or {entry.get("visit", ""): entry}
            for visit, e in by_visit.items():
                if e.get("available"):
                    effect = "–" if e.get("estimate") is None else _est(e, 2)
                    p = fmt_p(e.get("p"))
                else:
                    effect, p = "not available", "–"
                arm_cells = [Cell(_arm_summary(ep.type, method, (e.get("arms") or {}).get(a))) for a in (t, c)]
                rows.append(
                    (
                        Cell(ep.label),
                        Cell(visit or "–"),
                        Cell(_method_text(method, e), note=None if e.get("available") else e.get("reason")),
                        *arm_cells,
                        Cell(effect),
                        Cell(p),
                    )
                )
    if not rows:
        return None
    header = ("Endpoint", "Visit", "Analysis", labels[t], labels[c], "Estimate (95% CI)", "p")
    notes = (
        "Time to event: days from the origin; Kaplan-Meier median with its 95% CI; the Cox estimate is the hazard "
        "ratio (treated vs control). Every row is also in results.json (endpoints[]) and each endpoint's analysis "
        "dataset in derived/<endpoint id>.csv.",
    )
    return Table("endpoints", "Further endpoints and analyses declared by the protocol", header, tuple(rows), notes)


def build_tables(result: AnalysisResult, published: Mapping[str, Any] | None = None) -> tuple[Table, ...]:
    """Every report table. ``published`` (the trial section of the yaml) adds published columns;
    pass it only when the data are the synthetic twin of that trial."""
    labels = _arm_labels(result)
    arms = (result.primary.treated_arm, result.primary.control_arm)
    tables = [
        _consort_table(result, arms, labels),
        _baseline_table(result, arms, labels, published),
        _primary_table(result, labels, published),
        *((sens,) if (sens := _sensitivity_table(result, labels)) is not None else ()),
        *((_states_table(result, arms, labels, published),) if result.visit_states else ()),
        _secondary_table(result, arms, labels, published),
        _ae_table(result, arms, labels, published),
        _sample_size_table(result),
    ]
    further = _endpoints_table(result, arms, labels)
    if further is not None:
        tables.append(further)
    pm = _published_methods_table(result)
    if pm is not None:
        tables.append(pm)
    return tuple(tables)


def collect_flags(tables: Sequence[Table]) -> list[dict[str, Any]]:
    """Every flagged cell: table id, row label, column header, reproduced text, note."""
    out = []
    for t in tables:
        if t.id == "published_methods":
            continue
        for row in t.rows:
            for j, cell in enumerate(row):
                if cell.flag:
                    label = " / ".join(c.text for c in row[:2] if not c.flag)
                    out.append(
                        {
                            "table": t.id,
                            "title": t.title,
                            "row": label,
                            "column": t.header[j],
                            "value": cell.text,
                            "note": cell.note,
                        }
                    )
    return out
