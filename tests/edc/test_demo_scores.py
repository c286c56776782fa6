"""The demo-only path for derived questionnaire scores (pmrtrial.demo.edc_seed.save_demo_scores)."""

from __future__ import annotations

from typing import Any

import pytest

from pmrtrial.edc.errors import ConflictError, FormInvalid, NotFound, PermissionDenied
from tests.edc.conftest import bachelor_text, make_users, randomised


def _demo_study() -> dict[str, Any]:
    from pmrtrial.edc.studies import init_study

    init_study(bachelor_text(), 3, seed=20250101, n_per_site=8, demo=True)
    return make_users()


def test_refused_unless_the_study_is_a_demo(users: dict[str, Any]) -> None:
    from pmrtrial.demo.edc_seed import save_demo_scores

    p = randomised(users)
    with pytest.raises(PermissionDenied, match="demo studies only"):
        save_demo_scores(users["inv1"], p, "W0", "haq_di", {"haq_di": 1.25})


def test_scores_saved_and_audited_with_the_demo_reason(db: str) -> None:
    from pmrtrial.demo.edc_seed import DEMO_SCORE_REASON, save_demo_scores
    from pmrtrial.edc.audit.models import AuditEntry

    users = _demo_study()
    p = randomised(users)
    rec = save_demo_scores(users["inv1"], p, "W12", "sf36", {"sf36_pcs": 46.5, "sf36_mcs": 49.4})
    assert (rec.derived["sf36_pcs"], rec.derived["sf36_mcs"]) == (46.5, 49.4)
    assert all(v is None for v in rec.data.values())  # no item answers were invented
    entries = AuditEntry.objects.filter(object_type="form:sf36", object_id=f"{p.subject_id}/W12")
    assert sorted((e.field, e.new_value, e.reason, e.actor) for e in entries) == [
        ("derived.sf36_mcs", "49.4", DEMO_SCORE_REASON, "inv1"),
        ("derived.sf36_pcs", "46.5", DEMO_SCORE_REASON, "inv1"),
    ]
    with pytest.raises(ConflictError):
        save_demo_scores(users["inv1"], p, "W12", "sf36", {"sf36_pcs": 40.0, "sf36_mcs": 40.0})


def test_same_rules_as_data_entry(db: str) -> None:
    from pmrtrial.demo.edc_seed import save_demo_scores

    users = _demo_study()
    p = randomised(users)
    with pytest.raises(FormInvalid) as exc:  # HAQ-DI is 0-3
        save_demo_scores(users["inv1"], p, "W0", "haq_di", {"haq_di": 3.5})
    assert "haq_di" in exc.value.errors
    with pytest.raises(FormInvalid):  # both SF-36 summaries are required
        save_demo_scores(users["inv1"], p, "W0", "sf36", {"sf36_pcs": 40.0})
    with pytest.raises(NotFound):  # the protocol lists no HAQ-DI at week 2
        save_demo_scores(users["inv1"], p, "W2", "haq_di", {"haq_di": 1.0})
    with pytest.raises(NotFound):  # site isolation: site 02's investigator does not see site 01
        save_demo_scores(users["inv2"], p, "W0", "haq_di", {"haq_di": 1.0})
    with pytest.raises(PermissionDenied):  # a statistician may not enter data
        save_demo_scores(users["ustat"], p, "W0", "haq_di", {"haq_di": 1.0})


def test_refused_when_the_database_or_the_casebook_is_locked(db: str) -> None:
    from pmrtrial.demo.edc_seed import save_demo_scores
    from pmrtrial.edc import services as svc
    from pmrtrial.edc.crfs.models import FormRecord
    from pmrtrial.edc.errors import LockedError

    users = _demo_study()
    p, q = randomised(users), randomised(users)
    svc.lock_participant(users["dm"], p)
    with pytest.raises(LockedError, match="casebook is locked"):
        save_demo_scores(users["inv1"], p, "W0", "haq_di", {"haq_di": 1.0})
    svc.lock_database(users["dm"])
    with pytest.raises(LockedError, match="database is locked"):
        save_demo_scores(users["inv1"], q, "W0", "haq_di", {"haq_di": 1.0})
    assert not FormRecord.objects.filter(form="haq_di").exists()  # nothing written


def test_rescue_start_of_the_oral_gc_form__from_the_gc_log() -> None:
    import datetime as dt

    import pandas as pd

    from pmrtrial.demo.edc_seed import _log_starts, _rescue_start

    day0, first_dose = dt.date(2024, 1, 1), dt.date(2023, 12, 1)
    log = pd.DataFrame({"start_day": [10, 30, 5, 45], "reason": ["taper", "rescue", "taper", "rescue"]})
    starts = _log_starts(log)
    assert starts == ([5, 10, 30, 45], [30, 45])

    def at(day: int, s: tuple[list[int], list[int]] = starts) -> dt.date:
        return _rescue_start(s, day0, day0 + dt.timedelta(days=day), first_dose)

    # before any row: the first visit with a dose; then the first row on or before the visit (day 5) until a rescue
    # row starts (day 30), which is kept at later visits (the first rescue row, not the latest)
    assert at(4) == first_dose
    assert at(5) == at(29) == day0 + dt.timedelta(days=5)
    assert at(30) == at(60) == day0 + dt.timedelta(days=30)
    # a log without a reason column, and no log at all
    assert at(20, _log_starts(log[["start_day"]])) == day0 + dt.timedelta(days=5)
    assert at(20, _log_starts(None)) == first_dose
