"""Questionnaire answers with independently known scores, as REDCap raw values (shared by the REDCap tests).

Each expected score names its source; none is produced by pmrtrial.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "reference"

#: HAQ-DI answers (REDCap codes: items 0-3, aid/help yesno 1/0).
HAQ_ITEMS: dict[str, str] = {
    "dressing_dress": "1",
    "dressing_shampoo": "0",
    "dressing_aid": "1",
    "arising_chair": "2",
    "arising_bed": "1",
    "eating_cut_meat": "0",
    "eating_lift_cup": "0",
    "eating_open_carton": "1",
    "walking_outdoors": "0",
    "walking_steps": "0",
    "walking_help": "1",
    "hygiene_wash_body": "1",
    "hygiene_tub_bath": "3",
    "hygiene_toilet": "0",
    "reach_overhead_object": "1",
    "reach_pick_up_clothing": "1",
    "grip_car_doors": "0",
    "grip_open_jars": "0",
    "grip_faucets": "0",
    "activities_errands": "2",
    "activities_car": "1",
    "activities_chores": "1",
}
#: Hand arithmetic with the standard rules (Bruce & Fries, Health Qual Life Outcomes 2003;1:20): category =
#: highest item; an aid/device or help raises 0 or 1 to 2. dressing max(1,0)=1 -> 2 (aid); arising 2; eating 1;
#: walking 0 -> 2 (help); hygiene 3; reach 1; grip 0; activities 2. HAQ-DI = (2+2+1+2+3+1+0+2)/8 = 13/8.
HAQ_DI = 13 / 8

#: EQ-5D-3L state 21232 (MO 2, SC 1, UA 2, PD 3, AD 2).
EQ5D_ITEMS: dict[str, str] = {"mo": "2", "sc": "1", "ua": "2", "pd": "3", "ad": "2", "vas": "55"}
#: Hand arithmetic with the French TTO value set (Chevalier & de Pouvourville, Eur J Health Econ 2013;14:57-66:
#: MO2 -0.155, UA2 -0.156, PD3 -0.265, AD2 -0.090, N3 -0.174, no constant): 1 - 0.155 - 0.156 - 0.265 - 0.090
#: - 0.174 = 0.160 (also tests/reference/values/eq5d_reference.json, R arithmetic from the printed coefficients).
EQ5D_INDEX = 0.160


def sf36_example() -> tuple[dict[str, str], float, float]:
    """SF-36 answers of the Ware, Kosinski & Keller 1994 worked example (respondent 1 of
    tests/reference/data/sf36_respondents.csv) and its PCS and MCS as R computes them
    (tests/reference/values/sf36_reference.json, from tests/reference/r/sf36_reference.R)."""
    with open(REFERENCE / "data" / "sf36_respondents.csv", encoding="utf-8", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row.pop("respondent") == "1"
    values = json.loads((REFERENCE / "values" / "sf36_reference.json").read_text())["values"]
    return {k: v for k, v in row.items() if v != ""}, values["pcs"][0], values["mcs"][0]
