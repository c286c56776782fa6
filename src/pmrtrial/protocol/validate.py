"""``validate_protocol``: one validation step with stable issue ids.

Errors (``PROTO-E…``) make a protocol unusable; warnings (``PROTO-W…``) are shown but do not
block loading. The ids are stable: tools and tests may rely on them.

=============  ==============================================================================
id             meaning
=============  ==============================================================================
PROTO-E001     an endpoint names a visit the schedule does not have
PROTO-E002     two visit windows overlap
PROTO-E003     an eligibility rule names a field that is neither a candidate field nor derived
PROTO-E004     duplicate id (arm, visit, criterion, endpoint, population, field)
PROTO-E005     an arm's dosing segments overlap, are empty or are out of order
PROTO-E006     a rule compares a field with a value of the wrong type or outside its range
PROTO-E007     visits are not in increasing order of day, or a visit's day and week disagree
PROTO-E008     an endpoint names an unknown variable, or lacks its definition/variable
PROTO-E009     a visit requires an unknown form
PROTO-E010     not exactly one primary endpoint
PROTO-E011     an endpoint names an unknown population
PROTO-E012     the randomisation ratio names an unknown arm, or misses one
PROTO-E013     a derived field names an unknown function, or one whose inputs are not fields
PROTO-E014     a rescue rule names an unknown visit variable
PROTO-E015     a permitted-injection week lies outside the treatment period
PROTO-E016     the EQ-5D value set named in the parameters is unknown
PROTO-E017     an endpoint's analysis list names an unknown analysis method, or one that does not apply
               to the endpoint's type (checked when the analysis registry is passed)
PROTO-E018     an endpoint's shape does not suit its type (time to event without ``time_to_event``,
               binary/continuous without visits), or its origin/end names an unknown variable or week
PROTO-E019     a window composite is malformed (empty window, unknown variable, name taken)
PROTO-E020     the baseline table or an endpoint's covariates name an unknown variable
PROTO-W001     a gap of more than 28 days between consecutive visit windows
PROTO-W002     no control arm
=============  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pmrtrial.protocol.derived import DERIVATIONS
from pmrtrial.protocol.model import Criterion, FieldSpec, Protocol
from pmrtrial.protocol.predicates import Comparison, iter_comparisons
from pmrtrial.protocol.variables import DERIVED_VISIT_VARIABLES, FORMS, SUBJECT_VARIABLES, VISIT_VARIABLES
from pmrtrial.scores import list_eq5d_value_sets

__all__ = ["ProtocolIssue", "validate_protocol"]

_GAP_WARN_DAYS = 28
_VISIT_NAMES = set(VISIT_VARIABLES) | set(DERIVED_VISIT_VARIABLES)


@dataclass(frozen=True)
class ProtocolIssue:
    """One finding of :func:`validate_protocol`."""

    id: str
    severity: Literal["error", "warning"]
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.id} at {self.location}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "severity": self.severity, "location": self.location, "message": self.message}


def _duplicates(kind: str, ids: list[str]) -> list[ProtocolIssue]:
    seen: set[str] = set()
    out = []
    for i in ids:
        if i in seen:
            out.append(ProtocolIssue("PROTO-E004", "error", f"{kind}.{i}", f"duplicate {kind} id {i!r}"))
        seen.add(i)
    return out


def _check_value(c: Comparison, spec: FieldSpec | None, where: str) -> list[ProtocolIssue]:
    """A comparison's constant must suit the field's type (PROTO-E006)."""
    if spec is None:
        return []
    values = list(c.value) if c.op in ("in", "not_in") and isinstance(c.value, list | tuple) else [c.value]
    if c.op in ("in", "not_in") and not isinstance(c.value, list | tuple):
        return [ProtocolIssue("PROTO-E006", "error", where, f"operator {c.op!r} needs a list; got {c.value!r}")]
    problems = []
    for v in values:
        if spec.type == "boolean":
            ok = isinstance(v, bool) and c.op in ("eq", "ne")
        elif spec.type == "category":
            ok = isinstance(v, str) and v in (spec.allowed or ())
        else:
            ok = isinstance(v, int | float) and not isinstance(v, bool)
            if ok and spec.min is not None and v < spec.min:
                ok = False
            if ok and spec.max is not None and v > spec.max:
                ok = False
        if not ok:
            problems.append(
                ProtocolIssue(
                    "PROTO-E006",
                    "error",
                    where,
                    f"{c.describe()}: value {v!r} does not suit field {spec.name!r} of type {spec.type}",
                )
            )
    return problems


def _derived_type(name: str) -> FieldSpec:
    # Derived fields are numbers (scores) or booleans (verdicts).
    if name == "crp_pmr_as":
        return FieldSpec(name=name, type="number", label=name, min=0)
    return FieldSpec(name=name, type="boolean", label=name)


def _check_segments(where_prefix: str, segments: Any) -> list[ProtocolIssue]:
    issues = []
    previous_end: float | None = None
    for k, seg in enumerate(segments):
        where = f"{where_prefix}[{k}]"
        if seg.to_week <= seg.from_week:
            issues.append(ProtocolIssue("PROTO-E005", "error", where, "segment ends before it starts"))
        if previous_end is not None and seg.from_week < previous_end:
            issues.append(ProtocolIssue("PROTO-E005", "error", where, "segment overlaps the previous one"))
        previous_end = seg.to_week
    return issues


def _check_analyses(p: Protocol, analysis_methods: Mapping[str, Collection[str]]) -> list[ProtocolIssue]:
    """Every id of every ``analysis:`` list names a registered method for the endpoint's type (E017)."""
    issues = []
    for e in p.endpoints:
        for method in e.analysis:
            where = f"endpoints.{e.id}.analysis"
            if method not in analysis_methods:
                issues.append(
                    ProtocolIssue(
                        "PROTO-E017",
                        "error",
                        where,
                        f"unknown analysis method {method!r}; registered: {', '.join(sorted(analysis_methods))}",
                    )
                )
            elif e.type not in analysis_methods[method]:
                issues.append(
                    ProtocolIssue(
                        "PROTO-E017",
                        "error",
                        where,
                        f"analysis method {method!r} does not apply to a {e.type} endpoint "
                        f"(it applies to: {', '.join(sorted(analysis_methods[method]))})",
                    )
                )
    return issues


def _check_plan(p: Protocol, visit_names: set[str], weeks: set[float]) -> list[ProtocolIssue]:
    """Time-to-event shape (E018), window composites (E019), baseline table and covariates (E020)."""
    issues = []
    for e in p.endpoints:
        where = f"endpoints.{e.id}"
        tte = e.time_to_event
        if e.type == "time_to_event":
            if tte is None:
                issues.append(
                    ProtocolIssue("PROTO-E018", "error", where, "a time-to-event endpoint needs 'time_to_event'")
                )
            else:
                origin = tte.origin.predicate
                for c in iter_comparisons(origin) if origin is not None else ():
                    if c.var not in visit_names:
                        issues.append(
                            ProtocolIssue("PROTO-E018", "error", where, f"origin names unknown variable {c.var!r}")
                        )
                for label, week in (("end_week", tte.end_week), ("origin.by_week", tte.origin.by_week)):
                    if week is not None and not min(weeks) <= week <= max(weeks):
                        issues.append(
                            ProtocolIssue(
                                "PROTO-E018", "error", where, f"{label} {week:g} outside the schedule's weeks"
                            )
                        )
        else:
            if tte is not None:
                issues.append(
                    ProtocolIssue("PROTO-E018", "error", where, f"a {e.type} endpoint takes no 'time_to_event'")
                )
            if not e.visits:
                issues.append(ProtocolIssue("PROTO-E018", "error", where, f"a {e.type} endpoint needs visits"))
        for name in e.covariates:
            if name not in SUBJECT_VARIABLES and name not in visit_names:
                issues.append(ProtocolIssue("PROTO-E020", "error", f"{where}.covariates", f"unknown variable {name!r}"))
    for comp in p.composites:
        where = f"composites.{comp.id}"
        if comp.from_week > comp.to_week:
            issues.append(
                ProtocolIssue(
                    "PROTO-E019", "error", where, f"window from week {comp.from_week:g} to {comp.to_week:g} is empty"
                )
            )
        if comp.id in _VISIT_NAMES:
            issues.append(ProtocolIssue("PROTO-E019", "error", where, f"name {comp.id!r} is already a visit variable"))
        for c in iter_comparisons(comp.predicate):
            if c.var not in visit_names or c.var == comp.id:
                issues.append(
                    ProtocolIssue("PROTO-E019", "error", where, f"predicate names unknown variable {c.var!r}")
                )
    for row in p.baseline_table:
        where = f"baseline_table.{row.key}"
        known = SUBJECT_VARIABLES if row.table == "subjects" else visit_names
        names = [row.variable, *(c.var for c in iter_comparisons(row.when))] if row.when else [row.variable]
        for name in names:
            if name not in known:
                issues.append(ProtocolIssue("PROTO-E020", "error", where, f"unknown {row.table} variable {name!r}"))
    return issues


def validate_protocol(
    protocol: Protocol, *, analysis_methods: Mapping[str, Collection[str]] | None = None
) -> list[ProtocolIssue]:
    """Check a parsed protocol for internal consistency. Returns every issue found (empty = valid).

    ``analysis_methods`` maps each registered analysis method id to the endpoint types it applies to
    (:func:`pmrtrial.analysis.registry.method_types`); when given, every endpoint's ``analysis`` list
    is checked against it (PROTO-E017). The protocol layer sits below the analysis layer, so the
    registry is passed in rather than imported.
    """
    issues: list[ProtocolIssue] = []
    p = protocol
    issues += _duplicates("arm", [a.id for a in p.arms])
    issues += _duplicates("visit", [v.code for v in p.visits])
    issues += _duplicates("criterion", [c.id for c in (*p.eligibility.inclusion, *p.eligibility.exclusion)])
    issues += _duplicates("endpoint", [e.id for e in p.endpoints])
    issues += _duplicates("composite", [c.id for c in p.composites])
    issues += _duplicates("baseline_table", [r.key for r in p.baseline_table])
    issues += _duplicates("population", [x.id for x in p.populations])
    issues += _duplicates("field", [f.name for f in p.eligibility.fields] + [d.name for d in p.eligibility.derived])

    # Dosing (E005)
    for arm in p.arms:
        issues += _check_segments(f"arms.{arm.id}.dosing", arm.dosing)
        issues += _check_segments(f"arms.{arm.id}.gc_taper", arm.gc_taper)
        for k, seg in enumerate(arm.gc_taper):
            if seg.dose_mg_day is None:
                issues.append(
                    ProtocolIssue(
                        "PROTO-E005", "error", f"arms.{arm.id}.gc_taper[{k}]", "a taper segment needs dose_mg_day"
                    )
                )
    if not any(a.is_control for a in p.arms):
        issues.append(ProtocolIssue("PROTO-W002", "warning", "arms", "no arm is marked is_control"))

    # Visits (E007, E002, W001, E009)
    codes = {v.code for v in p.visits}
    for prev, cur in zip(p.visits, p.visits[1:], strict=False):
        if cur.day <= prev.day:
            issues.append(
                ProtocolIssue("PROTO-E007", "error", f"visits.{cur.code}", "visits not in increasing day order")
            )
            continue
        prev_hi = prev.day + prev.window_after_days
        cur_lo = cur.day - cur.window_before_days
        if cur_lo <= prev_hi:
            issues.append(
                ProtocolIssue(
                    "PROTO-E002",
                    "error",
                    f"visits.{cur.code}",
                    f"window [{cur_lo}, {cur.day + cur.window_after_days}] overlaps {prev.code}'s [..., {prev_hi}]",
                )
            )
        elif cur_lo - prev_hi - 1 > _GAP_WARN_DAYS:
            issues.append(
                ProtocolIssue(
                    "PROTO-W001",
                    "warning",
                    f"visits.{cur.code}",
                    f"{cur_lo - prev_hi - 1} days between {prev.code}'s window and this one",
                )
            )
    for v in p.visits:
        if abs(v.day - 7 * v.week) > 0.5:
            issues.append(
                ProtocolIssue("PROTO-E007", "error", f"visits.{v.code}", f"day {v.day} is not week {v.week:g} x 7")
            )
        for form in v.forms:
            if form not in FORMS:
                issues.append(ProtocolIssue("PROTO-E009", "error", f"visits.{v.code}.forms", f"unknown form {form!r}"))

    # Eligibility fields and derived fields (E003, E013, E006)
    specs: dict[str, FieldSpec] = {f.name: f for f in p.eligibility.fields}
    for d in p.eligibility.derived:
        where = f"eligibility.derived.{d.name}"
        if d.function not in DERIVATIONS:
            issues.append(
                ProtocolIssue(
                    "PROTO-E013", "error", where, f"unknown function {d.function!r}; known: {sorted(DERIVATIONS)}"
                )
            )
            continue
        missing = [i for i in DERIVATIONS[d.function].inputs if i not in specs]
        if missing:
            issues.append(ProtocolIssue("PROTO-E013", "error", where, f"needs candidate fields {missing}"))
        specs.setdefault(d.name, _derived_type(d.function))
    criteria: list[tuple[str, Criterion]] = [("inclusion", c) for c in p.eligibility.inclusion]
    criteria += [("exclusion", c) for c in p.eligibility.exclusion]
    for kind, criterion in criteria:
        where = f"eligibility.{kind}.{criterion.id}"
        for comparison in iter_comparisons(criterion.rule):
            if comparison.var not in specs:
                issues.append(
                    ProtocolIssue("PROTO-E003", "error", where, f"rule names unknown field {comparison.var!r}")
                )
            else:
                issues += _check_value(comparison, specs[comparison.var], where)

    # Endpoints (E001, E008, E010, E011)
    visit_names = _VISIT_NAMES | {c.id for c in p.composites}
    populations = {x.id for x in p.populations}
    primaries = [e for e in p.endpoints if e.role == "primary"]
    if len(primaries) != 1:
        issues.append(
            ProtocolIssue("PROTO-E010", "error", "endpoints", f"{len(primaries)} primary endpoints; expected exactly 1")
        )
    for e in p.endpoints:
        where = f"endpoints.{e.id}"
        for code in e.visits:
            if code not in codes:
                issues.append(ProtocolIssue("PROTO-E001", "error", where, f"unknown visit {code!r}"))
        if e.population not in populations:
            issues.append(ProtocolIssue("PROTO-E011", "error", where, f"unknown population {e.population!r}"))
        if e.type == "binary" and e.definition is None:
            issues.append(ProtocolIssue("PROTO-E008", "error", where, "a binary endpoint needs a definition"))
        if e.type == "continuous" and e.variable is None:
            issues.append(ProtocolIssue("PROTO-E008", "error", where, "a continuous endpoint needs a variable"))
        names: list[str] = [e.variable] if e.variable else []
        names += [c.var for c in iter_comparisons(e.definition)] if e.definition else []
        for name in names:
            if name not in visit_names:
                issues.append(ProtocolIssue("PROTO-E008", "error", where, f"unknown visit variable {name!r}"))
    issues += _check_plan(p, visit_names, {float(v.week) for v in p.visits})
    if analysis_methods is not None:
        issues += _check_analyses(p, analysis_methods)

    # Randomisation (E012), rescue (E014), injections (E015)
    arm_ids = {a.id for a in p.arms}
    ratio_arms = set(p.randomisation.ratio)
    if ratio_arms != arm_ids or any(r < 1 for r in p.randomisation.ratio.values()):
        issues.append(
            ProtocolIssue(
                "PROTO-E012",
                "error",
                "randomisation.ratio",
                f"ratio arms {sorted(ratio_arms)} vs arms {sorted(arm_ids)}",
            )
        )
    for rule in p.rescue:
        if rule.variable not in _VISIT_NAMES:
            issues.append(
                ProtocolIssue("PROTO-E014", "error", f"rescue.{rule.id}", f"unknown visit variable {rule.variable!r}")
            )
    treatment_end = max((s.to_week for a in p.arms for s in a.dosing), default=0.0)
    for inj in p.permitted_injections:
        for week in inj.allowed_weeks:
            if not 0 <= week <= treatment_end:
                issues.append(
                    ProtocolIssue(
                        "PROTO-E015",
                        "error",
                        f"permitted_injections.{inj.id}",
                        f"week {week:g} outside 0-{treatment_end:g}",
                    )
                )
    value_set = p.parameters.eq5d_value_set
    if value_set is not None and value_set not in list_eq5d_value_sets():
        issues.append(
            ProtocolIssue(
                "PROTO-E016",
                "error",
                "parameters.eq5d_value_set",
                f"unknown EQ-5D value set {value_set!r}; known: {list_eq5d_value_sets()}",
            )
        )
    return issues


def summarize_issues(issues: list[ProtocolIssue]) -> dict[str, Any]:
    """Counts by severity, for reports."""
    return {
        "errors": sum(i.severity == "error" for i in issues),
        "warnings": sum(i.severity == "warning" for i in issues),
    }
