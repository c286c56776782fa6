"""Helper of the route-equality tests: the analysis of a twin through the demo EDC equals the analysis of the same
twin written directly.

The reference is the direct route (``run_demo(..., edc=False)``: the twin as generated, written with
``write_datasets`` and analysed), never a number produced by the EDC. Compared: ``report/results.json`` (every
estimate, CI, p, count, label and flag) and every ``report/derived/<endpoint>.csv``; text, integers and booleans
exactly, floats within 1e-12 (absolute).

Fields that legitimately differ, and why (nothing else may):

- ``enrolment`` (results.json, top level) exists in the EDC route only: the EDC export carries its screening log
  (``screening.csv``), from which the report draws the CONSORT enrolment stage; a twin written directly has no
  screening log.
- ``flares.rule`` (an input table, not a result): the EDC derives it from the flare assessment (``dejaco_2011`` when
  a Dejaco 2011 rule fires on the entered components), while the twins mark their flares ``investigator``; the
  analysis reads a flare's day and confirmation only.
- the values of ``subject_id``, ``site_id`` and ``stratum``: the EDC numbers participants ``<site>-<nnn>`` and
  sites ``01..N`` (and its randomisation stratum is the site). They are compared after mapping the EDC's ids back
  with the mapping the demo recorded in ``edc.json``, which must be one-to-one and cover every participant and
  site of the twin; a wrong pairing would show as a difference in the data.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

#: Keys whose values are EDC ids, compared after mapping back to the twin's ids.
ID_KEYS = ("subject_id", "site_id", "stratum")
#: Top-level results.json keys written by the EDC route only (see the module docstring).
EDC_ONLY_KEYS = ("enrolment",)
TOL = 1e-12
#: Input-table columns that legitimately differ (see the module docstring).
LOG_COLUMNS_DIFFERING = {"flares": ("rule",)}


def _inverse(mapping: dict[str, str], what: str) -> dict[str, str]:
    inverse = {edc: twin for twin, edc in mapping.items()}
    assert len(inverse) == len(mapping), f"the EDC gave two twin {what} the same id"
    return inverse


def id_maps(edc_out: Path, direct_data: Path) -> dict[str, dict[str, str]]:
    """EDC id -> twin id, per id key, from ``edc.json``; checked one-to-one and complete against the twin."""
    loaded = json.loads((edc_out / "edc.json").read_text(encoding="utf-8"))["loaded"]
    twin = pd.read_csv(direct_data / "subjects.csv", dtype=str, keep_default_na=False)
    assert set(loaded["subject_ids"]) == set(twin["subject_id"])
    assert set(loaded["sites"]) == set(twin["site_id"])
    sites = _inverse(loaded["sites"], "sites")
    return {"subject_id": _inverse(loaded["subject_ids"], "participants"), "site_id": sites, "stratum": sites}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _same_scalar(direct: Any, edc: Any, path: str, problems: list[str]) -> None:
    if isinstance(direct, bool) or isinstance(edc, bool) or not isinstance(direct, int | float):
        if direct != edc:
            problems.append(f"{path}: direct {direct!r} != EDC {edc!r}")
        return
    if not isinstance(edc, int | float):
        problems.append(f"{path}: direct {direct!r} != EDC {edc!r}")
    elif isinstance(direct, int) and isinstance(edc, int):
        if direct != edc:
            problems.append(f"{path}: count {direct} != {edc}")
    elif not (math.isnan(direct) and math.isnan(edc)) and not abs(direct - edc) <= TOL:
        problems.append(f"{path}: {direct!r} != {edc!r} (tolerance {TOL})")


def _walk(direct: Any, edc: Any, path: str, maps: dict[str, dict[str, str]], problems: list[str]) -> None:
    if isinstance(direct, dict) and isinstance(edc, dict):
        if set(direct) != set(edc):
            problems.append(f"{path}: keys {sorted(set(direct) ^ set(edc))} in one route only")
        for key in set(direct) & set(edc):
            value = edc[key]
            if key in ID_KEYS and isinstance(value, str):
                value = maps[key].get(value, f"<unmapped EDC id {value}>")
            _walk(direct[key], value, f"{path}.{key}", maps, problems)
    elif isinstance(direct, list) and isinstance(edc, list):
        if len(direct) != len(edc):
            problems.append(f"{path}: {len(direct)} items != {len(edc)}")
        for i, (a, b) in enumerate(zip(direct, edc, strict=False)):
            _walk(a, b, f"{path}[{i}]", maps, problems)
    else:
        _same_scalar(direct, edc, path, problems)


def results_differences(direct_report: Path, edc_report: Path, maps: dict[str, dict[str, str]]) -> list[str]:
    """Differences between the two ``results.json`` besides the documented ones (empty: equal)."""
    direct = json.loads((direct_report / "results.json").read_text(encoding="utf-8"))
    edc = json.loads((edc_report / "results.json").read_text(encoding="utf-8"))
    problems = [f"{key}: missing from the EDC route" for key in EDC_ONLY_KEYS if key not in edc]
    problems += [f"{key}: in the direct route" for key in EDC_ONLY_KEYS if key in direct]
    _walk(direct, {k: v for k, v in edc.items() if k not in EDC_ONLY_KEYS}, "", maps, problems)
    return problems


def derived_differences(direct_report: Path, edc_report: Path, maps: dict[str, dict[str, str]]) -> list[str]:
    """Differences between the two routes' ``derived/<endpoint>.csv`` files (empty: equal)."""
    names = sorted(p.name for p in (direct_report / "derived").glob("*.csv"))
    problems = [] if names else ["the direct route wrote no derived dataset"]
    if names != sorted(p.name for p in (edc_report / "derived").glob("*.csv")):
        problems.append(f"derived files differ: {names}")
    for name in names:
        direct = pd.read_csv(direct_report / "derived" / name, dtype=str, keep_default_na=False)
        edc = pd.read_csv(edc_report / "derived" / name, dtype=str, keep_default_na=False)
        if list(direct.columns) != list(edc.columns) or len(direct) != len(edc):
            problems.append(f"{name}: columns {list(edc.columns)} / {len(edc)} rows, expected {list(direct.columns)}")
            continue
        for key in ID_KEYS:
            if key in edc.columns:
                edc[key] = edc[key].map(lambda v, k=key: maps[k].get(v, f"<unmapped EDC id {v}>"))
        keys = [c for c in ("subject_id", "visit", "week") if c in direct.columns]
        direct = direct.sort_values(keys, kind="stable").reset_index(drop=True)
        edc = edc.sort_values(keys, kind="stable").reset_index(drop=True)
        for column in direct.columns:
            for i, (a, b) in enumerate(zip(direct[column], edc[column], strict=True)):
                x, y = _number(a), _number(b)
                if a != b and (x is None or y is None or not abs(x - y) <= TOL):
                    problems.append(f"{name} row {i} {column}: direct {a!r} != EDC {b!r}")
    return problems


def log_differences(direct_data: Path, edc_data: Path, maps: dict[str, dict[str, str]], table: str) -> list[str]:
    """The EDC export's ``gc_doses`` or ``flares`` rows equal the twin's (as sorted rows, ids mapped back), but for
    the columns of :data:`LOG_COLUMNS_DIFFERING`; text compared exactly, numbers within 1e-12."""
    direct = pd.read_csv(direct_data / f"{table}.csv", dtype=str, keep_default_na=False)
    edc = pd.read_csv(edc_data / f"{table}.csv", dtype=str, keep_default_na=False)
    if not len(direct):
        return [f"{table}: the twin has no rows"]
    edc["subject_id"] = edc["subject_id"].map(lambda v: maps["subject_id"].get(v, f"<unmapped EDC id {v}>"))
    columns = [c for c in direct.columns if c not in LOG_COLUMNS_DIFFERING.get(table, ())]
    if list(edc.columns) != list(direct.columns) or len(edc) != len(direct):
        expected = f"{list(direct.columns)} / {len(direct)}"
        return [f"{table}: columns {list(edc.columns)} / {len(edc)} rows, expected {expected}"]

    def rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
        typed = [tuple(v if _number(v) is None else _number(v) for v in row) for row in frame[columns].values]
        return sorted(typed, key=lambda row: tuple(str(v) for v in row))

    problems = []
    for a, b in zip(rows(direct), rows(edc), strict=True):
        for column, x, y in zip(columns, a, b, strict=True):
            if x != y and not (isinstance(x, float) and isinstance(y, float) and abs(x - y) <= TOL):
                problems.append(f"{table} {a[0]} {column}: twin {x!r} != EDC {y!r}")
    return problems
