"""SDTM (SDTMIG 3.4) domains built from the canonical datasets and the protocol.

:func:`build_sdtm` returns a :class:`~pmrtrial.cdisc.model.CdiscPackage` with DM, DS, SV, EX, CM,
AE, LB, QS and the trial design domains TS, TA and TV. Pure: no file is read or written.

Mapping decisions (also in define.xml and the README):

- ``STUDYID`` is the protocol id in upper case; ``USUBJID`` is ``STUDYID-subject_id``.
- ``VISITNUM`` is the protocol week (0, 2, 4 ...), ``VISIT`` is ``WEEK n``.
- Study days follow SDTMIG (``--DY`` = date - ``RFSTDTC`` + 1 on or after the reference date, date -
  ``RFSTDTC`` before it: no day 0; admiral's ``derive_vars_dy`` rule); ``RFSTDTC`` is the randomisation
  date, pmrtrial's day 0.
- A date is only given when the data hold it or it follows from one: ``randomised_on`` (DM ``RFSTDTC``,
  ``RANDDTC``, DS), ``visits.visit_date`` (SV ``SVSTDTC``, ``LBDTC``, ``QSDTC``, with their ``--DY``), the
  day and week counts since randomisation (``gc_doses``, ``adverse_events.onset_week``), and EX (DM
  ``RFXSTDTC``/``RFXENDTC``, first and last exposure). A findings record without a visit date has
  ``--DTC`` and ``--DY`` empty and its planned ``VISITDY`` (noted).
- The PMR activity score, its components and the patient VAS go to **QS** (category ``PMR-AS``),
  with the derived scores flagged ``QSDRVFL = "Y"``: the PMR-AS is a composite instrument
  (Leeb and Bird 2004), and QS is where SDTMIG keeps instrument items and their totals. CRP and
  ESR, which enter the CRP/ESR PMR-AS, stay in LB.
- EX comes from ``visits.study_drug_mg_day`` within the arm's dosing segments (an interval runs
  from a visit to the day before the next one, on the visit dates where the data hold them, else on the
  protocol's planned visit days, noted); without that column, from the protocol's planned dosing (noted).
- CM (glucocorticoids) comes from the ``gc_doses`` table when given, otherwise from
  ``visits.oral_gc_mg_day`` (intervals between visits with a dose > 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from pmrtrial.cdisc.model import (
    CdiscPackage,
    Codelist,
    DatasetMeta,
    VariableMeta,
    VarType,
    add_days,
    conform,
    study_day,
)
from pmrtrial.datasets import AnalysisDatasets
from pmrtrial.derive import derive_var_crp_pmr_as, derive_var_esr_pmr_as
from pmrtrial.protocol import Protocol
from pmrtrial.protocol.model import DoseSegment

__all__ = [
    "LB_TESTS",
    "QS_TESTS",
    "arm_code",
    "build_sdtm",
    "study_id_of",
    "usubjid",
    "visit_name",
]


def study_id_of(protocol: Protocol) -> str:
    """``STUDYID``: the protocol id in upper case."""
    return protocol.id.upper()


def usubjid(study_id: str, subject_ids: Iterable[Any]) -> list[str]:
    return [f"{study_id}-{s}" for s in subject_ids]


def arm_code(arm_id: str) -> str:
    """``ARMCD`` of a protocol arm id (upper case, at most 20 characters)."""
    return arm_id.upper().replace("-", "_")[:20]


def visit_name(week: float) -> str:
    return f"WEEK {week:g}"


def _v(name: str, label: str, type_: VarType = "text", **kw: Any) -> VariableMeta:
    return VariableMeta(name, label, type_, **kw)


_ID = (
    _v("STUDYID", "Study Identifier", required=True, origin="Assigned", source="protocol id"),
    _v("DOMAIN", "Domain Abbreviation", required=True, origin="Assigned"),
    _v("USUBJID", "Unique Subject Identifier", required=True, origin="Derived", source="STUDYID-subjects.subject_id"),
)
_VISIT = (
    _v("VISITNUM", "Visit Number", "float", origin="Derived", source="visits.week"),
    _v("VISIT", "Visit Name", codelist="VISIT", origin="Derived", source="visits.week"),
    _v("VISITDY", "Planned Study Day of Visit", "integer", origin="Protocol", source="protocol visit day + 1"),
)

#: LB tests: canonical column -> (LBTESTCD, LBTEST, unit, LBCAT). Units are already standard.
LB_TESTS: Mapping[str, tuple[str, str, str, str]] = {
    "crp_mg_l": ("CRP", "C Reactive Protein", "mg/L", "CHEMISTRY"),
    "esr_mm_h": ("ESR", "Erythrocyte Sedimentation Rate", "mm/h", "HEMATOLOGY"),
}

#: QS tests: column -> (QSTESTCD, QSTEST, QSCAT, unit, derived). The derived ones are computed here.
QS_TESTS: Mapping[str, tuple[str, str, str, str, bool]] = {
    "pain_vas": ("PMRAS01", "Patient Pain VAS", "PMR-AS", "0-10", False),
    "physician_global_vas": ("PMRAS02", "Physician Global Assessment VAS", "PMR-AS", "0-10", False),
    "morning_stiffness_min": ("PMRAS03", "Morning Stiffness Duration", "PMR-AS", "min", False),
    "upper_limb_elevation": ("PMRAS04", "Elevation of Upper Limbs (EUL 0-3)", "PMR-AS", "0-3", False),
    "crp_pmr_as": ("PMRAS05", "CRP PMR-AS Total Score", "PMR-AS", "score", True),
    "esr_pmr_as": ("PMRAS06", "ESR PMR-AS Total Score", "PMR-AS", "score", True),
    "patient_global_vas": ("PTGLBVAS", "Patient Global Disease Activity VAS", "PATIENT VAS", "0-10", False),
    "fatigue_vas": ("FATIGVAS", "Fatigue VAS", "PATIENT VAS", "0-10", False),
    "haq_di": ("HAQDI", "HAQ Disability Index", "HAQ-DI", "0-3", False),
    "sf36_pcs": ("SF36PCS", "SF-36 Physical Component Summary", "SF-36 V1", "T-score", False),
    "sf36_mcs": ("SF36MCS", "SF-36 Mental Component Summary", "SF-36 V1", "T-score", False),
    "eq5d_index": ("EQ5DIDX", "EQ-5D Index Value", "EQ-5D", "index", False),
}

_SEX = {"female": "F", "male": "M"}
_SEV = {"mild": "MILD", "moderate": "MODERATE", "severe": "SEVERE"}
_OUT = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "recovered_with_sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}
_DSDECOD = {"completed": "COMPLETED", "withdrawn": "WITHDRAWAL BY SUBJECT", "lost": "LOST TO FOLLOW-UP"}
_GC_ROUTE = {"injection": "INTRA-ARTICULAR"}

META: dict[str, DatasetMeta] = {
    "DM": DatasetMeta(
        "DM",
        "Demographics",
        "SPECIAL PURPOSE",
        "One record per subject",
        ("STUDYID", "USUBJID"),
        (
            *_ID,
            _v("SUBJID", "Subject Identifier for the Study", required=True, origin="Collected", source="subject_id"),
            _v("RFSTDTC", "Subject Reference Start Date/Time", "isodate", origin="Derived", source="randomised_on"),
            _v("RFXSTDTC", "Date/Time of First Study Treatment", "isodate", source="first EX.EXSTDTC"),
            _v("RFXENDTC", "Date/Time of Last Study Treatment", "isodate", source="last EX.EXENDTC"),
            _v("RANDDTC", "Date/Time of Randomization", "isodate", origin="Collected", source="randomised_on"),
            _v("SITEID", "Study Site Identifier", required=True, origin="Collected", source="site_id"),
            _v("AGE", "Age", "float", origin="Collected", source="age_years"),
            _v("AGEU", "Age Units", codelist="AGEU", origin="Assigned"),
            _v("SEX", "Sex", codelist="SEX", origin="Collected", source="sex"),
            _v("ARMCD", "Planned Arm Code", codelist="ARMCD", required=True, origin="Assigned", source="arm"),
            _v("ARM", "Description of Planned Arm", required=True, origin="Protocol", source="protocol arm label"),
            _v("ACTARMCD", "Actual Arm Code", codelist="ARMCD", required=True, origin="Assigned", source="arm"),
            _v("ACTARM", "Description of Actual Arm", required=True, origin="Protocol", source="protocol arm label"),
        ),
    ),
    "DS": DatasetMeta(
        "DS",
        "Disposition",
        "EVENTS",
        "One record per disposition status or protocol milestone per subject",
        ("STUDYID", "USUBJID", "DSSEQ"),
        (
            *_ID,
            _v("DSSEQ", "Sequence Number", "integer", required=True),
            _v("DSTERM", "Reported Term for the Disposition Event", required=True, origin="Collected", source="status"),
            _v("DSDECOD", "Standardized Disposition Term", codelist="DSDECOD", required=True, source="status"),
            _v("DSCAT", "Category for Disposition Event", codelist="DSCAT", origin="Assigned"),
            _v(
                "DSSTDTC", "Start Date/Time of Disposition Event", "isodate", origin="Collected", source="randomised_on"
            ),
        ),
    ),
    "SV": DatasetMeta(
        "SV",
        "Subject Visits",
        "SPECIAL PURPOSE",
        "One record per subject per actual visit",
        ("STUDYID", "USUBJID", "VISITNUM"),
        (
            *_ID,
            *_VISIT,
            _v("SVSTDTC", "Start Date/Time of Visit", "isodate", origin="Collected", source="visits.visit_date"),
            _v("SVSTDY", "Study Day of Start of Visit", "integer", source="SVSTDTC - RFSTDTC"),
        ),
    ),
    "EX": DatasetMeta(
        "EX",
        "Exposure",
        "INTERVENTIONS",
        "One record per constant-dosing interval per subject",
        ("STUDYID", "USUBJID", "EXTRT", "EXSTDTC"),
        (
            *_ID,
            _v("EXSEQ", "Sequence Number", "integer", required=True),
            _v("EXTRT", "Name of Treatment", required=True, origin="Protocol", source="protocol arm dosing drug"),
            _v("EXDOSE", "Dose", "float", origin="Collected", source="visits.study_drug_mg_day"),
            _v("EXDOSU", "Dose Units", codelist="UNIT", origin="Assigned"),
            _v("EXDOSFRQ", "Dosing Frequency per Interval", codelist="FREQ", origin="Protocol"),
            _v("EXROUTE", "Route of Administration", codelist="ROUTE", origin="Protocol"),
            _v(
                "EXSTDTC",
                "Start Date/Time of Treatment",
                "isodate",
                source="visit date (else randomised_on + planned day)",
            ),
            _v("EXENDTC", "End Date/Time of Treatment", "isodate", source="next visit's date (or planned day) - 1"),
            _v("EXSTDY", "Study Day of Start of Treatment", "integer"),
            _v("EXENDY", "Study Day of End of Treatment", "integer"),
        ),
    ),
    "CM": DatasetMeta(
        "CM",
        "Concomitant/Concomitant Medications",
        "INTERVENTIONS",
        "One record per medication interval per subject",
        ("STUDYID", "USUBJID", "CMTRT", "CMSTDTC"),
        (
            *_ID,
            _v("CMSEQ", "Sequence Number", "integer", required=True),
            _v("CMTRT", "Reported Name of Drug, Med, or Therapy", required=True, origin="Assigned"),
            _v("CMDECOD", "Standardized Medication Name", origin="Assigned"),
            _v("CMCAT", "Category for Medication", origin="Assigned"),
            _v("CMINDC", "Indication", origin="Collected", source="gc_doses.reason"),
            _v("CMDOSE", "Dose per Administration", "float", origin="Collected", source="oral GC mg/day"),
            _v("CMDOSU", "Dose Units", codelist="UNIT", origin="Assigned"),
            _v("CMDOSFRQ", "Dosing Frequency per Interval", codelist="FREQ", origin="Assigned"),
            _v("CMROUTE", "Route of Administration", codelist="ROUTE", origin="Assigned"),
            _v("CMSTDTC", "Start Date/Time of Medication", "isodate"),
            _v("CMENDTC", "End Date/Time of Medication", "isodate"),
            _v("CMSTDY", "Study Day of Start of Medication", "integer"),
            _v("CMENDY", "Study Day of End of Medication", "integer"),
            _v("CMENRTPT", "End Relative to Reference Time Point", codelist="STENRF", origin="Derived"),
        ),
    ),
    "AE": DatasetMeta(
        "AE",
        "Adverse Events",
        "EVENTS",
        "One record per adverse event per subject",
        ("STUDYID", "USUBJID", "AEDECOD", "AESTDTC", "AESEQ"),
        (
            *_ID,
            _v("AESEQ", "Sequence Number", "integer", required=True),
            _v("AETERM", "Reported Term for the Adverse Event", required=True, origin="Collected", source="term"),
            _v("AEDECOD", "Dictionary-Derived Term", required=True, origin="Collected", source="term (MedDRA PT)"),
            _v("AEBODSYS", "Body System or Organ Class", origin="Collected", source="soc"),
            _v("AESOC", "Primary System Organ Class", origin="Collected", source="soc"),
            _v("AESEV", "Severity/Intensity", codelist="AESEV", origin="Collected", source="severity"),
            _v("AESER", "Serious Event", codelist="NY", origin="Collected", source="serious"),
            _v("AEOUT", "Outcome of Adverse Event", codelist="OUT", origin="Collected", source="outcome"),
            _v("AESTDTC", "Start Date/Time of Adverse Event", "isodate", source="randomised_on + 7 x onset_week"),
            _v("AESTDY", "Study Day of Start of Adverse Event", "integer", source="7 x onset_week + 1"),
        ),
    ),
    "LB": DatasetMeta(
        "LB",
        "Laboratory Test Results",
        "FINDINGS",
        "One record per lab test per visit per subject",
        ("STUDYID", "USUBJID", "LBTESTCD", "VISITNUM"),
        (
            *_ID,
            _v("LBSEQ", "Sequence Number", "integer", required=True),
            _v("LBTESTCD", "Lab Test or Examination Short Name", codelist="LBTESTCD", required=True),
            _v("LBTEST", "Lab Test or Examination Name", codelist="LBTEST", required=True),
            _v("LBCAT", "Category for Lab Test", origin="Assigned"),
            _v("LBORRES", "Result or Finding in Original Units", origin="Collected", source="visits.crp_mg_l/esr_mm_h"),
            _v("LBORRESU", "Original Units", codelist="UNIT", origin="Assigned"),
            _v("LBSTRESC", "Character Result/Finding in Std Format", source="LBORRES"),
            _v("LBSTRESN", "Numeric Result/Finding in Standard Units", "float", source="LBORRES"),
            _v("LBSTRESU", "Standard Units", codelist="UNIT", origin="Assigned"),
            _v("LBLOBXFL", "Last Observation Before Exposure Flag", codelist="NY", source="VISITNUM = baseline"),
            *_VISIT,
            _v("LBDTC", "Date/Time of Specimen Collection", "isodate", origin="Collected", source="visits.visit_date"),
            _v("LBDY", "Study Day of Specimen Collection", "integer"),
        ),
    ),
    "QS": DatasetMeta(
        "QS",
        "Questionnaires",
        "FINDINGS",
        "One record per questionnaire item or score per visit per subject",
        ("STUDYID", "USUBJID", "QSCAT", "QSTESTCD", "VISITNUM"),
        (
            *_ID,
            _v("QSSEQ", "Sequence Number", "integer", required=True),
            _v("QSTESTCD", "Question Short Name", codelist="QSTESTCD", required=True),
            _v("QSTEST", "Question Name", codelist="QSTEST", required=True),
            _v("QSCAT", "Category of Question", codelist="QSCAT", required=True, origin="Assigned"),
            _v("QSORRES", "Finding in Original Units", origin="Collected", source="visits (see value level)"),
            _v("QSORRESU", "Original Units"),
            _v("QSSTRESC", "Character Result/Finding in Std Format", source="QSORRES"),
            _v("QSSTRESN", "Numeric Finding in Standard Units", "float", source="QSORRES"),
            _v("QSSTRESU", "Standard Units"),
            _v("QSDRVFL", "Derived Flag", codelist="NY", origin="Assigned"),
            _v("QSLOBXFL", "Last Observation Before Exposure Flag", codelist="NY", source="VISITNUM = baseline"),
            *_VISIT,
            _v("QSDTC", "Date/Time of Finding", "isodate", origin="Collected", source="visits.visit_date"),
            _v("QSDY", "Study Day of Finding", "integer"),
        ),
    ),
    "TS": DatasetMeta(
        "TS",
        "Trial Summary",
        "TRIAL DESIGN",
        "One record per trial summary parameter value",
        ("STUDYID", "TSPARMCD", "TSSEQ"),
        (
            _ID[0],
            _ID[1],
            _v("TSSEQ", "Sequence Number", "integer", required=True),
            _v("TSPARMCD", "Trial Summary Parameter Short Name", codelist="TSPARMCD", required=True, origin="Assigned"),
            _v("TSPARM", "Trial Summary Parameter", required=True, origin="Assigned"),
            _v("TSVAL", "Parameter Value", origin="Protocol"),
        ),
    ),
    "TA": DatasetMeta(
        "TA",
        "Trial Arms",
        "TRIAL DESIGN",
        "One record per planned element per arm",
        ("STUDYID", "ARMCD", "TAETORD"),
        (
            _ID[0],
            _ID[1],
            _v("ARMCD", "Planned Arm Code", codelist="ARMCD", required=True, origin="Protocol"),
            _v("ARM", "Description of Planned Arm", required=True, origin="Protocol"),
            _v("TAETORD", "Planned Order of Element within Arm", "integer", required=True, origin="Protocol"),
            _v("ETCD", "Element Code", required=True, origin="Protocol"),
            _v("ELEMENT", "Description of Element", origin="Protocol"),
            _v("EPOCH", "Epoch", codelist="EPOCH", required=True, origin="Protocol"),
        ),
    ),
    "TV": DatasetMeta(
        "TV",
        "Trial Visits",
        "TRIAL DESIGN",
        "One record per planned visit per arm",
        ("STUDYID", "VISITNUM"),
        (
            _ID[0],
            _ID[1],
            _v("VISITNUM", "Visit Number", "float", required=True, origin="Protocol"),
            _v("VISIT", "Visit Name", codelist="VISIT", origin="Protocol"),
            _v("VISITDY", "Planned Study Day of Visit", "integer", origin="Protocol"),
            _v("TVSTRL", "Visit Start Rule", required=True, origin="Protocol"),
        ),
    ),
}


def _week_day(protocol: Protocol) -> dict[float, int]:
    return {float(v.week): int(v.day) for v in protocol.visits}


def _planned_day(protocol: Protocol, weeks: pd.Series) -> np.ndarray[Any, Any]:
    lookup = _week_day(protocol)
    return np.array([lookup.get(float(w), round(float(w) * 7)) for w in weeks], dtype=float)


def _finish(frame: pd.DataFrame, meta: DatasetMeta, seq_sort: Sequence[str] | None = None) -> pd.DataFrame:
    """Columns in metadata order, ``--SEQ`` numbered within USUBJID in ``seq_sort`` order."""
    out = frame.copy()
    out.insert(0, "DOMAIN", meta.name)
    seq = f"{meta.name}SEQ"
    if seq_sort is not None and len(out):
        out = out.sort_values(["USUBJID", *seq_sort], kind="stable").reset_index(drop=True)
        out[seq] = out.groupby("USUBJID").cumcount() + 1
    elif seq in [v.name for v in meta.variables] and seq not in out.columns:
        out[seq] = pd.Series(dtype="int64")
    return conform(out, meta)


def _dates(values: pd.Series) -> list[str]:
    return [d.date().isoformat() if not pd.isna(d) else "" for d in pd.to_datetime(values, errors="coerce")]


def _with_subject(visits: pd.DataFrame, subjects: pd.DataFrame, study_id: str) -> pd.DataFrame:
    data = visits.merge(subjects[["subject_id", "randomised_on", "arm"]], on="subject_id", how="left")
    data["STUDYID"] = study_id
    data["USUBJID"] = usubjid(study_id, data["subject_id"])
    return data


def _visit_columns(data: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    planned = _planned_day(protocol, data["week"])
    cols = pd.DataFrame(
        {
            "VISITNUM": data["week"].astype(float).to_numpy(),
            "VISIT": [visit_name(w) for w in data["week"]],
            "VISITDY": study_day(planned),
        },
        index=data.index,
    )
    if "visit_date" in data.columns:
        dates = pd.to_datetime(data["visit_date"], errors="coerce")
        cols["DTC"] = _dates(dates)
        days = (dates - pd.to_datetime(data["randomised_on"])).dt.days
        cols["DY"] = study_day(days.to_numpy(dtype=float))
    else:
        cols["DTC"] = ""
        cols["DY"] = pd.array([pd.NA] * len(data), dtype="Int64")
    return cols


def _dm(subjects: pd.DataFrame, protocol: Protocol, study_id: str, ex: pd.DataFrame) -> pd.DataFrame:
    labels = {a.id: a.label for a in protocol.arms}
    rand = _dates(subjects["randomised_on"])
    ids = usubjid(study_id, subjects["subject_id"])
    # first and last exposure (placebo included, as SDTMIG defines RFXSTDTC/RFXENDTC); ISO dates sort as text
    dated = ex[ex["EXSTDTC"] != ""]
    first = dated.groupby("USUBJID")["EXSTDTC"].min()
    last = ex[ex["EXENDTC"] != ""].groupby("USUBJID")["EXENDTC"].max()
    frame = pd.DataFrame(
        {
            "STUDYID": study_id,
            "USUBJID": ids,
            "SUBJID": subjects["subject_id"].astype(str).to_numpy(),
            "RFSTDTC": rand,
            "RFXSTDTC": pd.Series(ids).map(first).fillna("").to_numpy(),
            "RFXENDTC": pd.Series(ids).map(last).fillna("").to_numpy(),
            "RANDDTC": rand,
            "SITEID": subjects["site_id"].astype(str).to_numpy(),
            "AGE": subjects["age_years"].to_numpy() if "age_years" in subjects else np.nan,
            "AGEU": "YEARS" if "age_years" in subjects else "",
            "SEX": subjects["sex"].map(_SEX).fillna("").to_numpy() if "sex" in subjects else "",
            "ARMCD": [arm_code(a) for a in subjects["arm"]],
            "ARM": [labels[a] for a in subjects["arm"]],
        }
    )
    frame["ACTARMCD"], frame["ACTARM"] = frame["ARMCD"], frame["ARM"]
    return _finish(frame, META["DM"])


def _ds(subjects: pd.DataFrame, study_id: str) -> pd.DataFrame:
    ids = usubjid(study_id, subjects["subject_id"])
    rand = pd.DataFrame(
        {
            "USUBJID": ids,
            "DSTERM": "RANDOMIZED",
            "DSDECOD": "RANDOMIZED",
            "DSCAT": "PROTOCOL MILESTONE",
            "DSSTDTC": _dates(subjects["randomised_on"]),
            "_order": 0,
        }
    )
    status = subjects["status"].astype(str).to_numpy()
    done = np.isin(status, list(_DSDECOD))
    dispo = pd.DataFrame(
        {
            "USUBJID": np.asarray(ids)[done],
            "DSTERM": [_DSDECOD[s] for s in status[done]],
            "DSDECOD": [_DSDECOD[s] for s in status[done]],
            "DSCAT": "DISPOSITION EVENT",
            "DSSTDTC": "",
            "_order": 1,
        }
    )
    frame = pd.concat([rand, dispo], ignore_index=True)
    frame["STUDYID"] = study_id
    return _finish(frame, META["DS"], ["_order"])


def _sv(data: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    vc = _visit_columns(data, protocol)
    frame = pd.concat([data[["STUDYID", "USUBJID"]], vc], axis=1).rename(columns={"DTC": "SVSTDTC", "DY": "SVSTDY"})
    frame = frame.sort_values(["USUBJID", "VISITNUM"], kind="stable")
    return _finish(frame, META["SV"])


def _visit_day(data: pd.DataFrame, protocol: Protocol) -> np.ndarray[Any, Any]:
    """Days since randomisation of each visit row: from ``visit_date`` where the data hold it, else planned."""
    planned = _planned_day(protocol, data["week"])
    if "visit_date" not in data.columns:
        return planned
    actual = (pd.to_datetime(data["visit_date"], errors="coerce") - pd.to_datetime(data["randomised_on"])).dt.days
    return np.where(actual.isna().to_numpy(), planned, actual.to_numpy(dtype=float, na_value=np.nan))


def _intervals(
    data: pd.DataFrame, protocol: Protocol, column: str, *, keep_zero: bool, first_day: float = -np.inf
) -> list[tuple[str, Any, float, float, float]]:
    """(subject, randomised_on, dose, start_day, end_day) runs of a constant dose between visits (visit dates
    where the data hold them, else the planned visit days); no run starts before ``first_day``."""
    out: list[tuple[str, Any, float, float, float]] = []
    day = np.maximum(_visit_day(data, protocol), first_day)
    frame = data.assign(_day=day).sort_values(["subject_id", "_day"], kind="stable")
    for subject, rows in frame.groupby("subject_id", sort=False):
        days = rows["_day"].to_numpy(dtype=float)
        doses = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
        rand = rows["randomised_on"].iloc[0]
        start: int | None = None
        for i in range(len(rows)):
            if start is not None and (np.isnan(doses[i]) or doses[i] != doses[start]):
                out.append((str(subject), rand, float(doses[start]), days[start], days[i] - 1))
                start = None
            if start is None and not np.isnan(doses[i]) and (keep_zero or doses[i] > 0):
                start = i
        if start is not None:
            out.append((str(subject), rand, float(doses[start]), days[start], days[-1]))
    return out


def _interval_frame(rows: Sequence[tuple[str, Any, float, float, float]], study_id: str, prefix: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["subject_id", "randomised_on", "dose", "start", "end"])
    frame["STUDYID"] = study_id
    frame["USUBJID"] = usubjid(study_id, frame["subject_id"])
    frame[f"{prefix}DOSE"] = frame["dose"]
    frame[f"{prefix}STDTC"] = _dates(add_days(frame["randomised_on"], frame["start"]))
    frame[f"{prefix}ENDTC"] = _dates(add_days(frame["randomised_on"], frame["end"]))
    frame[f"{prefix}STDY"] = study_day(frame["start"].to_numpy(dtype=float))
    frame[f"{prefix}ENDY"] = study_day(frame["end"].to_numpy(dtype=float))
    return frame


def _segment_at(protocol: Protocol, arm: str, week: float) -> DoseSegment | None:
    spec = next(a for a in protocol.arms if a.id == arm)
    return next((seg for seg in spec.dosing if seg.from_week <= week < seg.to_week), None)


def _frequency(seg: DoseSegment) -> str:
    """CDISC FREQ term: QD for a daily segment, QnW for one dosed every n weeks."""
    if seg.dose_mg_day is not None or not seg.interval_weeks:
        return "QD"
    return "QW" if seg.interval_weeks == 1 else f"Q{seg.interval_weeks:g}W"


def _ex(data: pd.DataFrame, protocol: Protocol, study_id: str, notes: list[str]) -> pd.DataFrame:
    """Runs of a constant dose within the arm's dosing segments.

    A daily segment takes the dose from ``visits.study_drug_mg_day`` (the protocol's planned
    mg/day when the column is absent); a segment dosed every n weeks takes the protocol's dose and unit.
    """
    segments = [_segment_at(protocol, a, float(w)) for a, w in zip(data["arm"], data["week"], strict=True)]
    keep = np.array([seg is not None for seg in segments])
    treated = data[keep].copy()
    kept = [seg for seg in segments if seg is not None]
    taken = "study_drug_mg_day" in treated.columns
    if not taken:
        notes.append("EX: visits have no study_drug_mg_day; exposure is the protocol's planned dosing.")
    visit_dose = pd.to_numeric(treated["study_drug_mg_day"], errors="coerce") if taken else None
    treated["_dose"] = [
        (visit_dose.iloc[i] if visit_dose is not None else seg.dose_mg_day) if seg.dose_mg_day is not None else seg.dose
        for i, seg in enumerate(kept)
    ]
    treated["_key"] = [
        (seg.drug, seg.route or "oral", _frequency(seg), "mg" if seg.dose_mg_day is not None else (seg.unit or "mg"))
        for seg in kept
    ]
    pieces = []
    for key, rows in treated.groupby("_key", sort=False):
        drug, route, freq, unit = cast(tuple[str, str, str, str], key)
        # study drug starts at randomisation at the earliest, even when the baseline visit is dated before it
        frame = _interval_frame(_intervals(rows, protocol, "_dose", keep_zero=True, first_day=0.0), study_id, "EX")
        frame["EXTRT"] = str(drug).upper()
        frame["EXROUTE"] = {"oral": "ORAL", "iv": "INTRAVENOUS", "sc": "SUBCUTANEOUS"}[str(route)]
        frame["EXDOSFRQ"], frame["EXDOSU"] = freq, unit
        pieces.append(frame)
    frame = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=["USUBJID", "EXSTDTC"])
    return _finish(frame, META["EX"], ["EXSTDTC", "EXTRT"])


def _cm(
    data: pd.DataFrame, subjects: pd.DataFrame, protocol: Protocol, study_id: str, gc_doses: pd.DataFrame | None
) -> pd.DataFrame:
    if gc_doses is not None:
        doses = gc_doses.merge(subjects[["subject_id", "randomised_on"]], on="subject_id", how="left")
        last = data.groupby("subject_id")["week"].max()
        end = pd.to_numeric(doses["end_day"], errors="coerce")
        ongoing = end.isna()
        fallback = doses["subject_id"].map(last).to_numpy(dtype=float) * 7
        rows = list(
            zip(
                doses["subject_id"].astype(str),
                doses["randomised_on"],
                pd.to_numeric(doses["dose_mg_day"], errors="coerce"),
                pd.to_numeric(doses["start_day"], errors="coerce"),
                np.where(ongoing, fallback, end),
                strict=True,
            )
        )
        frame = _interval_frame(rows, study_id, "CM")
        reason = doses["reason"].astype(str).to_numpy() if "reason" in doses else np.array(["other"] * len(doses))
        frame["CMINDC"] = [r.upper() for r in reason]
        frame["CMROUTE"] = [_GC_ROUTE.get(r, "ORAL") for r in reason]
        frame["CMENRTPT"] = np.where(ongoing.to_numpy(), "ONGOING", "")
        frame.loc[ongoing.to_numpy(), "CMENDTC"] = ""
        frame["CMENDY"] = frame["CMENDY"].astype("Int64").where(~ongoing.to_numpy())
    elif "oral_gc_mg_day" in data.columns:
        frame = _interval_frame(_intervals(data, protocol, "oral_gc_mg_day", keep_zero=False), study_id, "CM")
        frame["CMROUTE"] = "ORAL"
    else:
        frame = pd.DataFrame(columns=["USUBJID", "CMSTDTC", "CMTRT"])
    frame["CMTRT"] = "PREDNISONE"
    frame["CMDECOD"] = "PREDNISONE"
    frame["CMCAT"] = "GLUCOCORTICOID"
    frame["CMDOSU"] = "mg"
    frame["CMDOSFRQ"] = "QD"
    return _finish(frame, META["CM"], ["CMSTDTC", "CMROUTE"])


def _ae(ae: pd.DataFrame, subjects: pd.DataFrame, study_id: str) -> pd.DataFrame:
    data = ae.merge(subjects[["subject_id", "randomised_on"]], on="subject_id", how="left")
    onset_day = pd.to_numeric(data.get("onset_week", pd.Series(np.nan, index=data.index)), errors="coerce") * 7
    frame = pd.DataFrame(
        {
            "STUDYID": study_id,
            "USUBJID": usubjid(study_id, data["subject_id"]),
            "AETERM": data["term"].astype(str).to_numpy(),
            "AEDECOD": data["term"].astype(str).to_numpy(),
            "AEBODSYS": data["soc"].astype(str).to_numpy(),
            "AESOC": data["soc"].astype(str).to_numpy(),
            "AESEV": data["severity"].map(_SEV).fillna("").to_numpy() if "severity" in data else "",
            "AESER": np.where(data["serious"].astype(bool).to_numpy(), "Y", "N"),
            "AEOUT": data["outcome"].map(_OUT).fillna("").to_numpy() if "outcome" in data else "",
            "AESTDTC": _dates(add_days(data["randomised_on"], onset_day)),
            "AESTDY": study_day(onset_day.round().to_numpy(dtype=float)),
            "_row": np.arange(len(data)),
        }
    )
    return _finish(frame, META["AE"], ["AESTDTC", "_row"])


def _findings(
    data: pd.DataFrame,
    protocol: Protocol,
    prefix: str,
    tests: Mapping[str, Sequence[Any]],
    baseline_week: float,
) -> pd.DataFrame:
    vc = _visit_columns(data, protocol)
    pieces = []
    for order, (column, spec) in enumerate(tests.items()):
        if column not in data.columns:
            continue
        values = pd.to_numeric(data[column], errors="coerce")
        present = values.notna().to_numpy()
        if not present.any():
            continue
        rows = pd.concat([data.loc[present, ["STUDYID", "USUBJID"]], vc.loc[present]], axis=1)
        text = [f"{v:g}" for v in values[present]]
        rows[f"{prefix}TESTCD"], rows[f"{prefix}TEST"] = spec[0], spec[1]
        rows[f"{prefix}ORRES"] = text
        rows[f"{prefix}STRESC"] = text
        rows[f"{prefix}STRESN"] = values[present].to_numpy()
        rows["_order"] = order
        if prefix == "LB":
            rows["LBORRESU"] = rows["LBSTRESU"] = spec[2]
            rows["LBCAT"] = spec[3]
        else:
            rows["QSCAT"] = spec[2]
            rows["QSORRESU"] = rows["QSSTRESU"] = spec[3] if spec[3] not in ("score", "index") else ""
            rows["QSDRVFL"] = "Y" if spec[4] else ""
        rows[f"{prefix}LOBXFL"] = np.where(rows["VISITNUM"].to_numpy() == baseline_week, "Y", "")
        rows = rows.rename(columns={"DTC": f"{prefix}DTC", "DY": f"{prefix}DY"})
        pieces.append(rows)
    frame = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=["USUBJID"])
    return _finish(frame, META[prefix], ["_order", "VISITNUM"] if pieces else None)


def _ts(protocol: Protocol, study_id: str, n_subjects: int) -> pd.DataFrame:
    treated = [a for a in protocol.arms if not a.is_control]
    rows: list[tuple[str, str, str]] = [
        ("TITLE", "Trial Title", protocol.title),
        ("STYPE", "Study Type", "INTERVENTIONAL"),
        ("RANDOM", "Trial is Randomized", "Y"),
        ("NARMS", "Planned Number of Arms", str(len(protocol.arms))),
        ("ACTSUB", "Actual Number of Subjects", str(n_subjects)),
        ("INDIC", "Trial Disease/Condition Indication", "POLYMYALGIA RHEUMATICA"),
        ("SDTIGVER", "SDTM IG Version", "3.4"),
    ]
    for arm in treated:
        for drug in dict.fromkeys(seg.drug for seg in arm.dosing):
            rows.append(("TRT", "Investigational Therapy or Treatment", drug.upper()))
    if any(a.is_control and all(s.drug == "placebo" for s in a.dosing) for a in protocol.arms):
        rows.append(("COMPTRT", "Comparative Treatment Name", "PLACEBO"))
    if protocol.sample_size is not None:
        rows.append(
            ("PLANSUB", "Planned Number of Subjects", str(protocol.sample_size.n_per_group * len(protocol.arms)))
        )
    if protocol.registration:
        rows.append(("REGID", "Registry Identifier", protocol.registration))
    if protocol.randomisation.stratify_by:
        rows.append(("STRATFCT", "Stratification Factor", ", ".join(protocol.randomisation.stratify_by)))
    frame = pd.DataFrame(rows, columns=["TSPARMCD", "TSPARM", "TSVAL"])
    frame["STUDYID"] = study_id
    frame["TSSEQ"] = frame.groupby("TSPARMCD").cumcount() + 1
    return _finish(frame, META["TS"])


def _elements(protocol: Protocol) -> list[tuple[str, str, str, str, str, str]]:
    """(ARMCD, ARM, ETCD, ELEMENT, EPOCH, key) for each arm's dosing segments and follow-up."""
    last = max(float(v.week) for v in protocol.visits)
    rows = []
    for arm in protocol.arms:
        for seg in arm.dosing:
            dose = f" {seg.dose_mg_day:g} mg/day" if seg.dose_mg_day and seg.drug != "placebo" else ""
            element = f"{seg.drug.capitalize()}{dose}"
            rows.append((arm_code(arm.id), arm.label, element, "TREATMENT"))
        end = max(seg.to_week for seg in arm.dosing)
        if last > end:
            rows.append((arm_code(arm.id), arm.label, "Follow-up", "FOLLOW-UP"))
    codes = {e: f"E{i + 1}" for i, e in enumerate(dict.fromkeys(r[2] for r in rows))}
    return [(a, lab, codes[e], e, ep, e) for a, lab, e, ep in rows]


def _ta(protocol: Protocol, study_id: str) -> pd.DataFrame:
    rows = _elements(protocol)
    frame = pd.DataFrame(rows, columns=["ARMCD", "ARM", "ETCD", "ELEMENT", "EPOCH", "_key"])
    frame["STUDYID"] = study_id
    frame["TAETORD"] = frame.groupby("ARMCD").cumcount() + 1
    return _finish(frame, META["TA"])


def _tv(protocol: Protocol, study_id: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "STUDYID": study_id,
            "VISITNUM": [float(v.week) for v in protocol.visits],
            "VISIT": [visit_name(float(v.week)) for v in protocol.visits],
            "VISITDY": [study_day(v.day) for v in protocol.visits],
            "TVSTRL": [
                f"{v.label}: day {v.day} after randomisation (window -{v.window_before_days}/+{v.window_after_days} d)"
                for v in protocol.visits
            ],
        }
    )
    return _finish(frame, META["TV"])


def codelists(protocol: Protocol, package_values: Mapping[str, Iterable[str]] | None = None) -> dict[str, Codelist]:
    """The SDTM codelists (CDISC CT submission values where CDISC has them)."""
    weeks = sorted({float(v.week) for v in protocol.visits})
    lists = {
        "SEX": Codelist("SEX", "Sex", {"F": "Female", "M": "Male"}, extensible=False),
        "NY": Codelist("NY", "No Yes Response", {"N": "No", "Y": "Yes"}, extensible=False),
        "AGEU": Codelist("AGEU", "Age Unit", {"YEARS": "Years"}),
        "ARMCD": Codelist("ARMCD", "Arm Code", {arm_code(a.id): a.label for a in protocol.arms}),
        "AESEV": Codelist("AESEV", "Severity/Intensity Scale", {v: v.title() for v in _SEV.values()}, extensible=False),
        "OUT": Codelist("OUT", "Outcome of Event", {v: v.title() for v in _OUT.values()}, extensible=False),
        "DSDECOD": Codelist(
            "DSDECOD",
            "Completion/Reason for Non-Completion",
            {v: v.title() for v in (*_DSDECOD.values(), "RANDOMIZED")},
        ),
        "DSCAT": Codelist(
            "DSCAT", "Category for Disposition Event", {"DISPOSITION EVENT": "", "PROTOCOL MILESTONE": ""}
        ),
        "LBTESTCD": Codelist("LBTESTCD", "Laboratory Test Code", {s[0]: s[1] for s in LB_TESTS.values()}),
        "LBTEST": Codelist("LBTEST", "Laboratory Test Name", {s[1]: s[1] for s in LB_TESTS.values()}),
        "QSTESTCD": Codelist("QSTESTCD", "Questionnaire Test Code", {s[0]: s[1] for s in QS_TESTS.values()}),
        "QSTEST": Codelist("QSTEST", "Questionnaire Test Name", {s[1]: s[1] for s in QS_TESTS.values()}),
        "QSCAT": Codelist("QSCAT", "Category of Questionnaire", {s[2]: s[2] for s in QS_TESTS.values()}),
        "UNIT": Codelist(
            "UNIT",
            "Unit",
            {
                "mg": "Milligram",
                "mg/kg": "Milligram per Kilogram",
                "mg/L": "Milligram per Liter",
                "mm/h": "Millimeter per Hour",
            },
        ),
        "FREQ": Codelist(
            "FREQ",
            "Frequency",
            {"QD": "Daily", "QW": "Every Week", **{f"Q{n}W": f"Every {n} Weeks" for n in (2, 3, 4, 6, 8)}},
        ),
        "ROUTE": Codelist(
            "ROUTE",
            "Route of Administration",
            {"ORAL": "Oral", "INTRAVENOUS": "Intravenous", "SUBCUTANEOUS": "Subcutaneous", "INTRA-ARTICULAR": ""},
        ),
        "STENRF": Codelist("STENRF", "Relation to Reference Period", {"ONGOING": "Ongoing"}),
        "VISIT": Codelist("VISIT", "Visit Name", {visit_name(w): visit_name(w) for w in weeks}),
        "EPOCH": Codelist("EPOCH", "Epoch", {"TREATMENT": "Treatment", "FOLLOW-UP": "Follow-up"}),
        "TSPARMCD": Codelist(
            "TSPARMCD",
            "Trial Summary Parameter Test Code",
            {
                c: c
                for c in (
                    "TITLE",
                    "STYPE",
                    "RANDOM",
                    "NARMS",
                    "ACTSUB",
                    "INDIC",
                    "SDTIGVER",
                    "TRT",
                    "COMPTRT",
                    "PLANSUB",
                    "REGID",
                    "STRATFCT",
                )
            },
        ),
    }
    return lists


def build_sdtm(
    datasets: AnalysisDatasets,
    protocol: Protocol,
    *,
    gc_doses: pd.DataFrame | None = None,
) -> CdiscPackage:
    """SDTM domains from validated canonical datasets (see the module notes for each mapping).

    Parameters
    ----------
    datasets : AnalysisDatasets
        Validated ``subjects``, ``visits`` and ``adverse_events``.
    protocol : Protocol
        Arms, visits (VISITDY, TV), dosing (EX, TA), title (TS).
    gc_doses : pandas.DataFrame, optional
        The optional ``gc_doses`` table (``subject_id, start_day, end_day, dose_mg_day, reason``);
        CM comes from it when given.
    """
    study_id = study_id_of(protocol)
    subjects = datasets.subjects
    notes: list[str] = []
    visits = datasets.visits
    patient_vas = protocol.parameters.pmr_as_patient_vas
    for fn in (derive_var_crp_pmr_as, derive_var_esr_pmr_as):
        try:
            visits = fn(visits, patient_vas=patient_vas)
        except Exception as exc:
            notes.append(f"QS: {fn.__name__.removeprefix('derive_var_')} not derived ({exc}).")
    data = _with_subject(visits, subjects, study_id)
    baseline = (
        min(float(v.week) for v in protocol.visits if v.phase == "baseline")
        if any(v.phase == "baseline" for v in protocol.visits)
        else 0.0
    )
    if "visit_date" not in data.columns:
        notes.append("SV/LB/QS: no visit dates in the data; --DTC and --DY empty, VISITDY gives the planned day.")
        notes.append("EX/CM: an interval between visits uses the protocol's planned visit days (no visit dates).")
    else:
        undated = int(pd.to_datetime(data["visit_date"], errors="coerce").isna().sum())
        notes.append(
            "EX/CM: an interval between visits runs from the visit dates"
            + (f"; {undated} visit record(s) without a date use the protocol's planned day." if undated else ".")
        )
        if undated:
            notes.append(f"SV/LB/QS: {undated} visit record(s) without a date: --DTC and --DY empty there.")
    if "onset_week" in datasets.adverse_events.columns:
        notes.append("AE: AESTDTC is randomisation date + 7 x onset_week (the data hold weeks, not dates).")
    ex = _ex(data, protocol, study_id, notes)
    frames = {
        "DM": _dm(subjects, protocol, study_id, ex),
        "DS": _ds(subjects, study_id),
        "SV": _sv(data, protocol),
        "EX": ex,
        "CM": _cm(data, subjects, protocol, study_id, gc_doses),
        "AE": _ae(datasets.adverse_events, subjects, study_id),
        "LB": _findings(data, protocol, "LB", LB_TESTS, baseline),
        "QS": _findings(data, protocol, "QS", QS_TESTS, baseline),
        "TS": _ts(protocol, study_id, len(subjects)),
        "TA": _ta(protocol, study_id),
        "TV": _tv(protocol, study_id),
    }
    if gc_doses is None:
        notes.append("CM: no gc_doses table; glucocorticoid intervals come from visits.oral_gc_mg_day.")
    value_level = {
        "LB": {s[0]: f"{s[1]} in {s[2]} (visits.{col})" for col, s in LB_TESTS.items()},
        "QS": {
            s[0]: f"{s[1]} ({s[3]}); " + ("derived: " if s[4] else "collected: ") + f"visits.{col}"
            for col, s in QS_TESTS.items()
        },
    }
    return CdiscPackage(study_id, frames, dict(META), codelists(protocol), tuple(dict.fromkeys(notes)), value_level)
