"""Form rules on plain dicts: types, ranges, cross-field and cross-visit checks, and scores.

Every function here is pure (no Django, no database), so the rules are unit-tested without HTTP.
Scores come from the core (:mod:`pmrtrial.scores`); a :class:`~pmrtrial.exceptions.ScoreInputError`
raised by the core becomes a field-level error on the field it names.

``validate_form(name, data, context)`` returns a :class:`ValidationOutcome`: the cleaned values,
``errors`` (field -> message: nothing may be saved), ``warnings`` (field -> message: saving
needs the user's confirmation) and ``derived`` (scores and flags computed at entry).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pmrtrial.edc.crfs.form_specs import FieldDef, FormSpec, get_form_spec
from pmrtrial.exceptions import ScoreInputError
from pmrtrial.protocol import Protocol
from pmrtrial.scores import (
    classify_pmr_as_activity,
    compute_clin_pmr_as,
    compute_crp_pmr_as,
    compute_eq5d_index,
    compute_esr_pmr_as,
    compute_haq_di,
    compute_sf36,
    detect_flare,
)
from pmrtrial.units import convert_crp

__all__ = ["FormContext", "ValidationOutcome", "compute_visit_scores", "judge_flare", "validate_form"]

_TRUE = {"true", "on", "yes", "1", "y"}
_FALSE = {"false", "off", "no", "0", "n"}


@dataclass(frozen=True)
class FormContext:
    """What a form's rules may look at besides its own values."""

    protocol: Protocol | None = None
    week: float | None = None
    randomised_on: dt.date | None = None
    kit_code: str = ""
    same_visit: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # other forms' cleaned data
    previous_visit_date: dt.date | None = None
    window: tuple[dt.date, dt.date] | None = None
    #: The participant's other records of the same repeating log (key -> cleaned data), e.g. the
    #: other GC dose rows when one is entered.
    log: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: The reference CRP PMR-AS a flare is judged against (Dejaco 2011) and where it comes from.
    flare_reference: float | None = None
    flare_reference_label: str = "baseline"


@dataclass(frozen=True)
class ValidationOutcome:
    cleaned: dict[str, Any]
    errors: dict[str, str]
    warnings: dict[str, str]
    derived: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"cleaned": self.cleaned, "errors": self.errors, "warnings": self.warnings, "derived": self.derived}


def _blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and value.strip() == "")
        or (isinstance(value, float) and math.isnan(value))
    )


def _coerce(spec: FieldDef, value: Any) -> Any:
    """Return the typed value or raise ValueError with a user-facing message."""
    if spec.type in ("number", "integer"):
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise ValueError("Enter a number.") from None
        if not math.isfinite(number):
            raise ValueError("Enter a finite number.")
        if spec.type == "integer":
            if number != int(number):
                raise ValueError("Enter a whole number.")
            number = int(number)
        if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
            raise ValueError(f"Enter a value between {spec.min:g} and {spec.max:g}.")
        return number
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("Answer yes or no.")
    if spec.type == "choice":
        for code, _label in spec.choices:
            if str(code) == str(value).strip() and not isinstance(value, bool):
                return code
        raise ValueError("Select one of: " + ", ".join(str(c) for c, _ in spec.choices) + ".")
    if spec.type == "date":
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD.") from None
    text = str(value).strip()
    if len(text) > 500:
        raise ValueError("At most 500 characters.")
    return text


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) and value else None


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


Rule = Callable[[dict[str, Any], FormContext, dict[str, str], dict[str, str], dict[str, Any]], None]


def _rules_visit_info(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    visit_date = _date(c.get("visit_date"))
    if visit_date is None:
        return
    if ctx.randomised_on is not None and ctx.week and visit_date < ctx.randomised_on:
        err["visit_date"] = "The visit date is before the randomisation date."
    if ctx.previous_visit_date is not None and visit_date <= ctx.previous_visit_date:
        err["visit_date"] = f"The visit date must be after the previous visit ({ctx.previous_visit_date.isoformat()})."
    if visit_date > dt.date.today():
        err["visit_date"] = "The visit date is in the future."
    if ctx.window is not None:
        out = not (ctx.window[0] <= visit_date <= ctx.window[1])
        der["out_of_window"] = out
        if out and "visit_date" not in err:
            warn["visit_date"] = (
                f"Outside the visit window {ctx.window[0].isoformat()} to {ctx.window[1].isoformat()} "
                "(protocol deviation)."
            )


def compute_visit_scores(pmr: Mapping[str, Any], labs: Mapping[str, Any] | None) -> dict[str, Any]:
    """CRP, ESR and clinical PMR-AS and the CRP PMR-AS activity category (core functions)."""
    comps = {
        "pain_vas": pmr.get("pain_vas"),
        "physician_global_vas": pmr.get("physician_global_vas"),
        "morning_stiffness_min": pmr.get("morning_stiffness_min"),
        "upper_limb_elevation": pmr.get("upper_limb_elevation"),
    }
    out: dict[str, Any] = {"clin_pmr_as": _num(compute_clin_pmr_as(**comps))}
    crp_mg_l = esr = None
    if labs:
        if labs.get("crp_value") is not None and labs.get("crp_unit"):
            crp_mg_l = float(convert_crp(labs["crp_value"], from_unit=labs["crp_unit"], to_unit="mg/L"))
        esr = labs.get("esr_mm_h")
    out["crp_mg_l"] = crp_mg_l
    out["crp_pmr_as"] = _num(compute_crp_pmr_as(**comps, crp_mg_l=crp_mg_l))
    out["esr_pmr_as"] = _num(compute_esr_pmr_as(**comps, esr_mm_h=esr))
    for key, marker in (("crp_pmr_as", "crp"), ("esr_pmr_as", "esr"), ("clin_pmr_as", "clin")):
        out[f"{key}_activity"] = classify_pmr_as_activity(out[key], marker=marker) if out[key] is not None else None
    for key in ("clin_pmr_as", "crp_pmr_as", "esr_pmr_as"):
        if out[key] is not None:
            out[key] = round(out[key], 2)
    return out


def _rules_pmr_as(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    if (c.get("morning_stiffness_min") or 0) > 720:
        warn["morning_stiffness_min"] = "Morning stiffness over 12 hours is unusual: please confirm."
    der.update(compute_visit_scores(c, ctx.same_visit.get("labs")))


def _rules_labs(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    if c.get("crp_value") is not None and c.get("crp_unit"):
        crp_mg_l = float(convert_crp(c["crp_value"], from_unit=c["crp_unit"], to_unit="mg/L"))
        der["crp_mg_l"] = crp_mg_l
        if crp_mg_l > 300:
            warn["crp_value"] = "CRP above 300 mg/L is unusual: check the value and its unit."
    if (c.get("esr_mm_h") or 0) > 120:
        warn["esr_mm_h"] = "ESR above 120 mm/h is unusual: please confirm."
    pmr = ctx.same_visit.get("pmr_as")
    if pmr:
        der.update({k: v for k, v in compute_visit_scores(pmr, c).items() if k != "crp_mg_l"})


def _rules_oral_gc(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    on = c.get("on_oral_gc")
    dose = c.get("prednisone_mg_day")
    if on is True and (dose is None or dose <= 0):
        err["prednisone_mg_day"] = "Enter the daily prednisone dose (the participant is on oral glucocorticoid)."
    if on is False and dose not in (None, 0, 0.0):
        err["prednisone_mg_day"] = "A dose is entered but the participant is not on oral glucocorticoid."
    if on is True and dose is not None and dose > 40:
        warn["prednisone_mg_day"] = "A prednisone dose above 40 mg/day is unusual in PMR: please confirm."
    start, stop = _date(c.get("rescue_start")), _date(c.get("rescue_stop"))
    if on is True and start is None and ctx.week:
        err["rescue_start"] = "Enter the date rescue glucocorticoid was started."
    if start and stop and stop < start:
        err["rescue_stop"] = "The rescue stop date is before the start date."
    if start and ctx.randomised_on and start < ctx.randomised_on:
        err["rescue_start"] = "Rescue cannot start before randomisation."
    der["on_oral_gc"] = on
    der["oral_gc_mg_day"] = (dose or 0.0) if on else 0.0


def _rules_injections(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    given = c.get("injection_given")
    der["deviation"] = False
    if not given:
        for name in ("injection_week", "injection_date", "agent", "side"):
            if c.get(name) is not None:
                err[name] = "Leave empty when no injection was given."
        return
    for name in ("injection_week", "agent"):
        if c.get(name) is None:
            err[name] = "Required when an injection was given."
    allowed: tuple[float, ...] = (1.0, 4.0)
    if ctx.protocol is not None and ctx.protocol.permitted_injections:
        allowed = ctx.protocol.permitted_injections[0].allowed_weeks
    week = c.get("injection_week")
    if week is not None and float(week) not in {float(w) for w in allowed}:
        der["deviation"] = True
        warn["injection_week"] = (
            "Shoulder injections are permitted at weeks "
            + " and ".join(f"{w:g}" for w in allowed)
            + " only: this one will be recorded as a protocol deviation."
        )


def _rules_study_drug(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    if ctx.kit_code and c.get("kit_code") and c["kit_code"] != ctx.kit_code:
        err["kit_code"] = "This kit code is not the participant's allocated kit."
    d, r = c.get("tablets_dispensed"), c.get("tablets_returned")
    if d is not None and r is not None and r > d:
        err["tablets_returned"] = "More tablets returned than dispensed."
    if c.get("adherence_pct") is not None and c["adherence_pct"] < 80:
        warn["adherence_pct"] = "Adherence below 80%: please confirm."


def _rules_demographics(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    if c.get("height_cm") and c.get("weight_kg"):
        bmi = c["weight_kg"] / (c["height_cm"] / 100.0) ** 2
        der["bmi"] = round(bmi, 2)
        if not 15 <= bmi <= 50:
            warn["weight_kg"] = f"BMI {bmi:.1f} kg/m² is unusual: check height and weight."


def _rules_haq(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    result = compute_haq_di({k: v for k, v in c.items() if v is not None})
    der["haq_di"] = _num(result.score)
    if der["haq_di"] is None:
        warn["__all__"] = f"HAQ-DI not scored: {result.reason}."


def _rules_eq5d(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    dims = [c.get(k) for k in ("mo", "sc", "ua", "pd", "ad")]
    value_set = (ctx.protocol.parameters.eq5d_value_set if ctx.protocol else None) or "3L-FR-2013"
    der["eq5d_state"] = "".join(str(d) for d in dims) if all(d is not None for d in dims) else None
    der["eq5d_value_set"] = value_set
    der["eq5d_index"] = _num(compute_eq5d_index(der["eq5d_state"], value_set=value_set)) if der["eq5d_state"] else None


def _rules_sf36(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    result = compute_sf36({k: v for k, v in c.items() if v is not None})
    der["sf36_pcs"] = _num(result.pcs)
    der["sf36_mcs"] = _num(result.mcs)
    if der["sf36_pcs"] is None:
        warn["__all__"] = "SF-36 summary scores not computed: too many items missing."


def _rules_adverse_event(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    if c.get("serious") is True and not c.get("serious_criterion"):
        err["serious_criterion"] = "Select the seriousness criterion of a serious adverse event."
    if c.get("serious") is False and c.get("serious_criterion"):
        err["serious_criterion"] = "A seriousness criterion is selected but the event is not serious."
    if c.get("outcome") == "fatal" and c.get("serious") is not True:
        err["serious"] = "A fatal adverse event is serious."
    onset, resolved = _date(c.get("onset_date")), _date(c.get("resolution_date"))
    if onset and resolved and resolved < onset:
        err["resolution_date"] = "The resolution date is before the onset date."
    if onset and onset > dt.date.today():
        err["onset_date"] = "The onset date is in the future."
    if c.get("outcome") in ("recovered", "recovered_with_sequelae") and resolved is None:
        warn["resolution_date"] = "The event is recovered but has no resolution date: please confirm."
    der["onset_week"] = round((onset - ctx.randomised_on).days / 7.0, 2) if onset and ctx.randomised_on else None


def _day(date: dt.date | None, ctx: FormContext) -> int | None:
    """Days since randomisation (day 0 = randomisation day), the canonical ``*_day`` convention."""
    return (date - ctx.randomised_on).days if date is not None and ctx.randomised_on is not None else None


def _rules_gc_dose(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    start, end = _date(c.get("start_date")), _date(c.get("end_date"))
    if start and start > dt.date.today():
        err["start_date"] = "The start date is in the future: log doses once they are taken."
    if start and end and end < start:
        err["end_date"] = "The end date is before the start date."
    dose, reason = c.get("dose_mg_day"), c.get("dose_reason")
    if dose is not None and dose > 40 and reason != "injection":
        warn["dose_mg_day"] = "An oral prednisone dose above 40 mg/day is unusual in PMR: please confirm."
    if start:
        for key, other in sorted(ctx.log.items()):
            o_start, o_end = _date(other.get("start_date")), _date(other.get("end_date"))
            if o_start is None or other.get("dose_reason") != reason:
                continue
            if start <= (o_end or dt.date.max) and o_start <= (end or dt.date.max):
                warn["start_date"] = (
                    f"Overlaps {key} ({reason}, from {o_start.isoformat()}"
                    f"{' to ' + o_end.isoformat() if o_end else ', ongoing'}): overlapping rows add up. "
                    "Please confirm, or end the other row first."
                )
                break
    der["start_day"] = _day(start, ctx)
    der["end_day"] = _day(end, ctx)


def judge_flare(score: float | None, reference: float | None, *, confirmed: bool | None) -> dict[str, Any]:
    """Dejaco 2011 (:func:`pmrtrial.scores.detect_flare`) on a flare assessment, and the rule that fired.

    ``dejaco_rule``: ``absolute`` (CRP PMR-AS > 9.35), ``change`` (rise > 6.6 over the reference),
    ``both``, ``none``, or None when undecided. ``rule`` (the canonical ``flares.rule``):
    ``dejaco_2011`` when a Dejaco rule fired, ``investigator`` when only the investigator confirmed,
    None otherwise.
    """
    result = detect_flare(score, reference_score=reference)
    by_abs, by_chg = result.by_absolute, result.by_change
    if result.is_flare is None:
        dejaco = None
    else:
        dejaco = {(True, True): "both", (True, False): "absolute", (False, True): "change"}.get(
            (by_abs is True, by_chg is True), "none"
        )
    fired = result.is_flare is True
    return {
        "dejaco_flare": result.is_flare,
        "dejaco_rule": dejaco,
        "change": _num(result.change),
        "rule": "dejaco_2011" if fired else ("investigator" if confirmed else None),
    }


def _rules_flare(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    when = _date(c.get("assessment_date"))
    if when and ctx.randomised_on and when < ctx.randomised_on:
        err["assessment_date"] = "The assessment date is before randomisation."
    if when and when > dt.date.today():
        err["assessment_date"] = "The assessment date is in the future."
    if when:
        same = [key for key, other in sorted(ctx.log.items()) if _date(other.get("assessment_date")) == when]
        if same:
            err["assessment_date"] = f"{same[0]} already assesses a flare on this date (one assessment per day)."
    scores = compute_visit_scores(c, {"crp_value": c.get("crp_value"), "crp_unit": c.get("crp_unit")})
    der["day"] = _day(when, ctx)
    der["crp_mg_l"] = scores["crp_mg_l"]
    der["crp_pmr_as"] = scores["crp_pmr_as"]
    der["reference_crp_pmr_as"] = ctx.flare_reference
    der["reference"] = ctx.flare_reference_label
    der.update(judge_flare(scores["crp_pmr_as"], ctx.flare_reference, confirmed=c.get("confirmed")))
    if ctx.flare_reference is None:
        warn["__all__"] = (
            f"No {ctx.flare_reference_label} CRP PMR-AS: only the absolute rule (> 9.35) was evaluated. Please confirm."
        )
    if c.get("confirmed") is True and der["dejaco_flare"] is False:
        warn["confirmed"] = "Confirmed as a flare although neither Dejaco 2011 rule fired: please confirm."
    if c.get("confirmed") is False and der["dejaco_flare"] is True:
        warn["confirmed"] = f"Not confirmed although the Dejaco 2011 rule fired ({der['dejaco_rule']}): please confirm."


def _rules_end_of_study(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    if c.get("status") in ("withdrawn", "lost") and not c.get("reason"):
        err["reason"] = "Give the reason for withdrawal or loss to follow-up."
    end = _date(c.get("end_date"))
    if end and ctx.randomised_on and end < ctx.randomised_on:
        err["end_date"] = "The end date is before randomisation."


def _no_rules(
    c: dict[str, Any], ctx: FormContext, err: dict[str, str], warn: dict[str, str], der: dict[str, Any]
) -> None:
    return None


RULES: dict[str, Rule] = {
    "visit_info": _rules_visit_info,
    "pmr_as": _rules_pmr_as,
    "labs": _rules_labs,
    "oral_gc": _rules_oral_gc,
    "injections": _rules_injections,
    "study_drug": _rules_study_drug,
    "demographics": _rules_demographics,
    "ultrasound": _no_rules,
    "haq_di": _rules_haq,
    "eq5d": _rules_eq5d,
    "sf36": _rules_sf36,
    "adverse_event": _rules_adverse_event,
    "gc_dose": _rules_gc_dose,
    "flare": _rules_flare,
    "end_of_study": _rules_end_of_study,
}


def validate_form(name: str, data: Mapping[str, Any], context: FormContext | None = None) -> ValidationOutcome:
    """Validate one form's values (strings from HTML or typed values from the API)."""
    ctx = context or FormContext()
    spec: FormSpec = get_form_spec(name)
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    derived: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    known = {f.name for f in spec.fields}
    for key in data:
        if key not in known:
            errors[key] = f"Unknown field for form {spec.name}."
    for f in spec.fields:
        raw = data.get(f.name)
        if _blank(raw):
            cleaned[f.name] = None
            if f.required:
                errors[f.name] = "This field is required."
            continue
        try:
            cleaned[f.name] = _coerce(f, raw)
        except ValueError as exc:
            cleaned[f.name] = None
            errors[f.name] = str(exc)
    if not errors:
        try:
            RULES[spec.name](cleaned, ctx, errors, warnings, derived)
        except ScoreInputError as exc:
            errors[exc.field if exc.field in known else "__all__"] = f"Expected {exc.expected}. Got {exc.value!r}."
    return ValidationOutcome(cleaned, errors, warnings, derived if not errors else {})
