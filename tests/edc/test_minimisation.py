"""Pocock–Simon minimisation in the EDC: sealed state, deterministic replay, tamper detection."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from pmrtrial.edc import services as svc
from tests.edc.conftest import bachelor_text, candidate, make_users


def _minimisation_protocol() -> str:
    text = bachelor_text()
    old = "  method: permuted_blocks\n  block_sizes: [2, 4]\n"
    assert old in text
    return text.replace(old, "  method: minimisation\n  minimisation_factors: [site_id, sex]\n  minimisation_p: 0.8\n")


def test_minimisation_allocates_replays_and_detects_tampering(db: str) -> None:
    from pmrtrial.design.allocation import replay_minimisation
    from pmrtrial.edc.audit.replay import verify_integrity
    from pmrtrial.edc.randomisation.models import AllocationSecret, RandomisationList, RandomisationListSecret
    from pmrtrial.edc.randomisation.services import list_seal
    from pmrtrial.edc.studies import init_study

    study = init_study(_minimisation_protocol(), 2, seed=77, n_per_site=8)
    rlist = RandomisationList.objects.get(study=study, active=True)
    assert rlist.method == "Pocock-Simon minimisation over site_id, sex, p = 0.8"
    assert not AllocationSecret.objects.exists()  # no arm exists before a participant is randomised
    users = make_users()
    order: list[tuple[Any, dict[str, str]]] = []
    for i in range(10):
        site, sex = ("01", "inv1") if i % 3 else ("02", "inv2"), ("female" if i % 2 else "male")
        inv = users[site[1]]
        p = svc.screen_participant(inv, site[0], candidate(sex=sex))
        svc.record_consent(inv, p, "1.0", dt.date.today())
        p = svc.randomise_participant(inv, p)
        order.append((p, {"site_id": site[0], "sex": sex}))
    arms = [svc.get_allocation(users["ustat"], p) for p, _ in order]
    # The sealed seed and the sequence of entries reproduce every allocation (independent replay).
    seed = int(RandomisationListSecret.objects.get(rlist=rlist).seed)
    assert seed == 77
    replayed = replay_minimisation(
        ratio={"baricitinib": 1, "placebo": 1},
        factors=["site_id", "sex"],
        p_best=0.8,
        seed=seed,
        entries=[levels for _, levels in order],
    )
    assert replayed == arms
    assert list_seal(rlist) == rlist.seal_hash  # the sealed state is unchanged by allocating
    report = verify_integrity()
    assert report.ok, report.message
    # An arm changed behind the EDC's back breaks the replay (and the audited allocation).
    p0 = order[0][0]
    other = "placebo" if arms[0] == "baricitinib" else "baricitinib"
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE edc_randomisation_allocationsecret SET arm = %s WHERE id = %s",
            [other, AllocationSecret.objects.get(slot__participant=p0).pk],
        )
    fields = {(m.record, m.field) for m in verify_integrity().mismatches}
    assert (p0.subject_id, "arm (minimisation replay)") in fields
