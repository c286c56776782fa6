"""REDCap-style tokens: 32 hex characters, only a hash stored, and the lifecycle rules of every token (in-process)."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from pmrtrial.edc.accounts.models import ApiToken
from pmrtrial.edc.accounts.services import create_token, revoke_tokens, user_for_token


def test_redcap_token__hex_hash_stored_revocable_and_carries_the_users_rights(users: dict[str, Any]) -> None:
    token = create_token(None, "inv1", redcap=True)
    assert re.fullmatch(r"[0-9A-F]{32}", token)
    assert not ApiToken.objects.filter(digest=token).exists()  # only the SHA-256 is kept
    assert user_for_token(token).username == "inv1"
    client = Client()
    ok = client.post("/redcap/api/", {"token": token, "content": "exportFieldNames", "format": "json"})
    assert ok.status_code == 200 and ok.json()[0]["original_field_name"] == "record_id"
    # the investigator of site 01 sees no participant of another site, and none exist yet
    records = client.post("/redcap/api/", {"token": token, "content": "record", "format": "json", "type": "flat"})
    assert records.status_code == 200 and records.json() == []
    prefix = ApiToken.objects.get(user__username="inv1", revoked=False).prefix
    assert revoke_tokens(None, "inv1", prefix) == 1
    refused = client.post("/redcap/api/", {"token": token, "content": "metadata", "format": "json"})
    assert refused.status_code == 403 and refused.json() == {"error": "You do not have permissions to use the API"}
    assert user_for_token(token) is None


def test_redcap_api__get_and_unsupported_requests_answer_redcap_errors(users: dict[str, Any]) -> None:
    token = create_token(None, "dm", redcap=True)
    client = Client()
    assert client.get("/redcap/api/").status_code == 405
    odm = client.post("/redcap/api/", {"token": token, "content": "metadata", "format": "odm", "returnFormat": "json"})
    assert odm.status_code == 400 and odm.json()["error"] == "format 'odm' is not supported here; use json, csv or xml"
    xml = client.post("/redcap/api/", {"token": token, "content": "arm", "format": "xml"})
    assert xml.status_code == 200 and "<item><arm_num><![CDATA[1]]></arm_num>" in xml.content.decode()
    unknown = client.post("/redcap/api/", {"token": token, "content": "surveyLink", "format": "csv"})
    assert unknown.status_code == 400 and unknown.content.decode().startswith("ERROR: content 'surveyLink'")


def test_redcap_import__locked_form_refused_audited_change_with_reason(users: dict[str, Any]) -> None:
    import json

    from pmrtrial.edc import services as svc
    from pmrtrial.edc.audit.models import AuditEntry
    from tests.edc.conftest import randomised

    p = randomised(users)
    inv, dm = users["inv1"], users["dm"]
    visit_date = p.visits.get(code="W2").target_date.isoformat()
    svc.save_form(inv, p, "W2", "visit_info", {"visit_date": visit_date}, confirm_warnings=True)
    svc.save_form(inv, p, "W2", "labs", {"crp_value": 4.0, "crp_unit": "mg/L", "esr_mm_h": 10}, confirm_warnings=True)
    token = create_token(None, "inv1", redcap=True)
    client = Client()

    def post(rows: list[dict[str, str]], **extra: str) -> Any:
        data = {"token": token, "content": "record", "format": "json", "type": "flat", "data": json.dumps(rows)}
        return client.post("/redcap/api/", {**data, **extra})

    row = {"record_id": p.subject_id, "redcap_event_name": "w2_arm_1", "esr_mm_h": "12"}
    reply = post([row], reason="transcription error")
    assert reply.status_code == 200 and reply.json() == {"count": 1}
    assert svc.get_form(inv, p, "W2", "labs").data["esr_mm_h"] == 12
    entry = AuditEntry.objects.filter(object_id=f"{p.subject_id}/W2", field="esr_mm_h").order_by("-seq").first()
    assert entry is not None and entry.reason == "transcription error"
    svc.lock_form(dm, p, "W2", "labs")
    locked = post([{**row, "esr_mm_h": "14"}], reason="another correction")
    assert locked.status_code == 400 and f"record {p.subject_id}, event w2_arm_1, field labs:" in locked.json()["error"]
    assert svc.get_form(inv, p, "W2", "labs").data["esr_mm_h"] == 12


def test_redcap_xml_import__items_scored_by_the_edc_answers_in_xml(users: dict[str, Any]) -> None:
    import xml.etree.ElementTree as ET

    from pmrtrial.edc import services as svc
    from pmrtrial.edc.redcap.xmlformat import records_xml
    from tests.edc.conftest import randomised
    from tests.unit.redcap._items import HAQ_DI, HAQ_ITEMS

    p = randomised(users)
    token = create_token(None, "inv1", redcap=True)
    client = Client()
    row = {"record_id": p.subject_id, "redcap_event_name": "w12_arm_1", **HAQ_ITEMS}
    data = {"token": token, "content": "record", "format": "xml", "type": "flat", "returnFormat": "xml"}
    bad = client.post("/redcap/api/", {**data, "data": records_xml([{**row, "haq_di": "1.5"}])})
    error = ET.fromstring(bad.content).findtext("error")
    assert bad.status_code == 400 and error == (
        f"record {p.subject_id}, event w12_arm_1, field haq_di: supplied score 1.5 disagrees with 1.625 computed "
        "from the haq_di items by pmrtrial.scores"
    )
    assert svc.get_form(users["inv1"], p, "W12", "haq_di") is None  # nothing stored
    reply = client.post("/redcap/api/", {**data, "data": records_xml([row]), "returnContent": "ids"})
    assert reply.status_code == 200 and [e.text for e in ET.fromstring(reply.content)] == [p.subject_id]
    saved = svc.get_form(users["inv1"], p, "W12", "haq_di")
    assert saved.derived["haq_di"] == HAQ_DI  # 13/8 by hand (tests/unit/redcap/_items.py)
    again = client.post("/redcap/api/", {**data, "data": records_xml([{**row, "haq_di": "1.63"}])})
    assert again.status_code == 200 and ET.fromstring(again.content).text == "1"  # <count>1</count>
