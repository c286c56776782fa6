"""Replay the audit trail and compare the state it implies with the current records.

The keyed chain (:func:`pmrtrial.edc.audit.services.verify_audit_chain`) proves the trail itself was
not changed; this module proves the *data* were not changed behind the trail's back. Every audited
field is replayed in sequence order (the last ``new_value`` wins) and compared, in the trail's own
canonical text form, with the record in the database:

- form records (``edc_crfs_formrecord``): every data field, the lock flag, the demo's derived scores,
  and that every record has a trail and every trailed record exists;
- the repeating logs whose derived values are exported (GC dose rows: days since randomisation;
  flare assessments: day, CRP PMR-AS and the Dejaco 2011 rule that fired): the derived values
  recomputed from the replayed data equal the stored ones (a row's exported numbers cannot be
  changed behind the trail's back through its derived values either);
- participants (``edc_screening_participant``): screening values and eligibility, status,
  randomisation number, kit code, randomisation date, casebook lock and the e-signature fields;
- allocation slots and secrets: the slot taken by each participant carries the audited number and kit
  code, and its secret arm is the arm of the (restricted) allocation entry;
- randomisation lists: the stored seal equals the audited seal, and the seal recomputed from the
  secret content (arms, kit codes, seed) equals the stored one;
- queries (state, answer) and the study's database lock.

Each difference is one :class:`Mismatch` naming the table, the record and the field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pmrtrial.edc.audit.models import AuditEntry
from pmrtrial.edc.audit.services import AuditVerification, canon, verify_audit_chain

__all__ = ["IntegrityReport", "Mismatch", "verify_integrity"]

#: Participant fields replayed from entries about the participant (any object type naming them).
_PARTICIPANT_FIELDS = (
    "status",
    "randomisation_number",
    "kit_code",
    "randomised_on",
    "locked",
    "signed_by",
    "signer_name",
    "signed_at",
    "signature_meaning",
    "signature_exceptions",
    "signature_void",
)
_PARTICIPANT_SOURCES = frozenset({"screening", "consent", "allocation", "participant"})
#: Forms whose derived values are exported as canonical columns: recomputed from the data and compared.
_RECOMPUTED_FORMS = frozenset({"gc_dose", "flare"})


@dataclass(frozen=True)
class Mismatch:
    table: str
    record: str
    field: str
    expected: str
    found: str

    def __str__(self) -> str:
        return (
            f"{self.table} {self.record} {self.field}: audit trail says {self.expected!r}, database has {self.found!r}"
        )

    def to_dict(self) -> dict[str, str]:
        return {
            "table": self.table,
            "record": self.record,
            "field": self.field,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass(frozen=True)
class IntegrityReport:
    chain: AuditVerification
    mismatches: tuple[Mismatch, ...] = field(default_factory=tuple)
    n_records: int = 0

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.mismatches

    @property
    def message(self) -> str:
        if self.ok:
            return f"{self.chain.message}; {self.n_records} records match the trail"
        lines = [] if self.chain.ok else [self.chain.message]
        lines += [str(m) for m in self.mismatches]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "chain": self.chain.to_dict(),
            "mismatches": [m.to_dict() for m in self.mismatches],
            "n_records": self.n_records,
        }


def _state(entries: Iterable[AuditEntry]) -> dict[tuple[str, str], dict[str, str]]:
    """(object_type, object_id) -> field -> last audited new value (canonical text)."""
    state: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for e in entries:
        if e.action in ("create", "update") and e.field:
            state[(e.object_type, e.object_id)][e.field] = e.new_value
    return state


def _cmp(out: list[Mismatch], table: str, record: str, name: str, expected: str | None, found: Any) -> None:
    got = canon(found)
    if (expected or "") != got:
        out.append(Mismatch(table, record, name, expected if expected is not None else "(not in trail)", got))


def verify_integrity() -> IntegrityReport:
    """The keyed chain and anchor, the allocation-list seals, and every record against the replayed trail."""
    from pmrtrial.edc.crfs.models import FormRecord
    from pmrtrial.edc.crfs.services import DerivedRecomputer
    from pmrtrial.edc.queries.models import Query
    from pmrtrial.edc.randomisation.models import AllocationSecret, RandomisationList, RandomisationSlot
    from pmrtrial.edc.randomisation.services import list_seal
    from pmrtrial.edc.screening.models import Participant
    from pmrtrial.edc.sites.models import Study

    entries = list(AuditEntry.objects.order_by("seq"))
    chain = verify_audit_chain(entries)  # the trail read once, for the chain and for the replay
    state = _state(entries)
    out: list[Mismatch] = []
    n = 0

    # Form records, both ways.
    recompute_derived = DerivedRecomputer()  # each participant's context read once
    t_form = FormRecord._meta.db_table
    seen: set[tuple[str, str]] = set()
    for rec in FormRecord.objects.select_related("participant").order_by("pk"):
        n += 1
        ident = (f"form:{rec.form}", f"{rec.participant.subject_id}/{rec.key}")
        seen.add(ident)
        label = f"{ident[1]}/{rec.form}"
        if ident not in state:
            out.append(Mismatch(t_form, label, "(record)", "(no audit entry)", "present"))
            continue
        trail = state[ident]
        for name in sorted(set(rec.data) | {k for k in trail if k != "locked" and not k.startswith("derived.")}):
            _cmp(out, t_form, label, f"data.{name}", trail.get(name), rec.data.get(name))
        for name in sorted(k for k in trail if k.startswith("derived.")):
            _cmp(out, t_form, label, name, trail[name], rec.derived.get(name.removeprefix("derived.")))
        _cmp(out, t_form, label, "locked", trail.get("locked", "false"), rec.locked)
        if rec.form in _RECOMPUTED_FORMS and all(trail.get(k, "") == canon(v) for k, v in rec.data.items()):
            # Only when the data match the trail (a data mismatch is already reported above).
            for name, value in sorted(recompute_derived(rec).items()):
                _cmp(out, t_form, label, f"derived.{name} (recomputed)", canon(value), rec.derived.get(name))
    for obj_type, obj_id in state:
        if obj_type.startswith("form:") and (obj_type, obj_id) not in seen:
            out.append(Mismatch(t_form, f"{obj_id}/{obj_type[5:]}", "(record)", "present", "(deleted)"))

    # Participants: screening, status, allocation fields, lock and signature.
    t_part = Participant._meta.db_table
    by_subject: dict[str, dict[str, str]] = defaultdict(dict)
    for e in entries:
        if e.action in ("create", "update") and e.participant and e.object_type in _PARTICIPANT_SOURCES:
            if e.object_type == "screening":
                by_subject[e.participant]["screening." + e.field] = e.new_value
                if e.field == "eligibility_status":
                    by_subject[e.participant]["status"] = "eligible" if e.new_value == "eligible" else "screen_failed"
            elif e.field in _PARTICIPANT_FIELDS:
                by_subject[e.participant][e.field] = e.new_value
    defaults = {"locked": "false", "signature_void": "false", "signature_exceptions": "[]"}
    for p in Participant.objects.order_by("pk"):
        n += 1
        trail = by_subject.get(p.subject_id)
        if trail is None:
            out.append(Mismatch(t_part, p.subject_id, "(record)", "(no audit entry)", "present"))
            continue
        for name in sorted(p.screening_data):
            _cmp(
                out,
                t_part,
                p.subject_id,
                f"screening_data.{name}",
                trail.get("screening." + name),
                p.screening_data[name],
            )
        _cmp(
            out,
            t_part,
            p.subject_id,
            "eligibility_status",
            trail.get("screening.eligibility_status"),
            p.eligibility_status,
        )
        for name in _PARTICIPANT_FIELDS:
            value = getattr(p, name, None)
            if name in ("randomised_on", "signed_at") and value is not None:
                value = value.isoformat()
            _cmp(out, t_part, p.subject_id, name, trail.get(name, defaults.get(name, "")), value)
    for subject in sorted(set(by_subject) - set(Participant.objects.values_list("subject_id", flat=True))):
        out.append(Mismatch(t_part, subject, "(record)", "present", "(deleted)"))

    # Allocation: the slot a participant took, and its secret arm.
    t_slot = RandomisationSlot._meta.db_table
    t_secret = AllocationSecret._meta.db_table
    arms = {
        e.object_id: e.new_value for e in entries if e.action == "allocate" and e.object_type == "allocation_secret"
    }
    for slot in RandomisationSlot.objects.filter(participant__isnull=False).select_related("participant", "secret"):
        n += 1
        subject = slot.participant.subject_id if slot.participant else ""
        alloc = state.get(("allocation", subject), {})
        label = f"{slot.randomisation_number} ({subject})"
        _cmp(out, t_slot, label, "randomisation_number", alloc.get("randomisation_number"), slot.randomisation_number)
        _cmp(out, t_slot, label, "kit_code", alloc.get("kit_code"), slot.kit_code)
        _cmp(out, t_secret, label, "arm", arms.get(str(slot.pk)), slot.secret.arm)

    # Randomisation lists: audited seal, and the seal recomputed from the secret content.
    t_list = RandomisationList._meta.db_table
    for rlist in RandomisationList.objects.order_by("version"):
        n += 1
        label = f"v{rlist.version}"
        audited = state.get(("randomisation_list", str(rlist.version)), {})
        _cmp(out, t_list, label, "seal_hash", audited.get("seal_hash"), rlist.seal_hash)
        recomputed = list_seal(rlist)
        if recomputed != rlist.seal_hash:
            out.append(
                Mismatch(t_list, label, "seal (recomputed from arms, kit codes and seed)", rlist.seal_hash, recomputed)
            )

    # Minimisation: replaying the sealed seed over the audited factor levels, in allocation order,
    # must give every stored arm.
    out += _minimisation_mismatches(entries, t_secret)

    # Queries and the database lock.
    t_query = Query._meta.db_table
    for q in Query.objects.order_by("pk"):
        n += 1
        trail = state.get(("query", str(q.pk)), {})
        _cmp(out, t_query, str(q.pk), "state", trail.get("state"), q.state)
        _cmp(out, t_query, str(q.pk), "answer", trail.get("answer", ""), q.answer)
    t_study = Study._meta.db_table
    for study in Study.objects.all():
        n += 1
        _cmp(
            out,
            t_study,
            str(study.pk),
            "locked",
            state.get(("study", str(study.pk)), {}).get("locked", "false"),
            study.locked,
        )
    return IntegrityReport(chain, tuple(out), n)


def _minimisation_mismatches(entries: list[AuditEntry], table: str) -> list[Mismatch]:
    import json

    from pmrtrial.edc.randomisation.models import AllocationSecret, RandomisationList
    from pmrtrial.edc.randomisation.services import minimisation_replay

    rlist = RandomisationList.objects.filter(active=True).order_by("-version").first()
    if rlist is None or not rlist.method.startswith("Pocock"):
        return []
    order = [(e.participant, json.loads(e.new_value)) for e in entries if e.field == "minimisation_levels"]
    replayed = minimisation_replay(rlist, [levels for _, levels in order])
    stored = dict(
        AllocationSecret.objects.filter(slot__rlist=rlist, slot__participant__isnull=False).values_list(
            "slot__participant__subject_id", "arm"
        )
    )
    out = []
    for (subject, _), arm in zip(order, replayed, strict=True):
        if stored.get(subject) != arm:
            out.append(Mismatch(table, subject, "arm (minimisation replay)", arm, stored.get(subject) or "(none)"))
    return out
