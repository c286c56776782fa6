"""ADaM (ADaMIG 1.3) datasets: ADSL, ADEFF (BDS), ADAE (OCCDS) and ADTTE, built from SDTM and the protocol.

:func:`build_adam` derives every analysis variable with :mod:`pmrtrial.derive` (the same functions
as the SAP engine), so the ADaM numbers are the analysis numbers:

- **ADSL**: TRT01P/TRT01A (and ``N`` codes), one Y/N flag per protocol population (``ITTFL``
  randomised, ``EFFFL`` primary analysis set, ``SAFFL`` safety, ``PPROTFL`` per protocol, ``XXXXFL``
  for any other id), with the members the SAP engine analyses
  (:func:`pmrtrial.analysis.population_sets`, one evaluation for both; a population the data cannot
  decide is left empty with a note), ``SITEID``, stratification factors ``STRATwR``, baseline
  characteristics, ``EOSSTT``.
- **ADEFF**: one record per subject, parameter and visit. Continuous parameters (CRP PMR-AS,
  ESR PMR-AS, CRP, ESR, the PMR-AS components, PROs, oral GC dose, cumulative GC) carry
  ``BASE``/``CHG``; one binary parameter per distinct binary endpoint definition (``AVAL`` 1/0,
  ``AVALC`` Y/N); ``STATE4`` is the four-state category. ``ANL01FL = "Y"`` marks the records
  with a value (the analysis records), ``ABLFL`` the baseline. Records that copy an SDTM value
  carry ``SRCDOM``/``SRCVAR``/``SRCSEQ``.
- **ADAE**: AE plus ADSL treatment and population variables; ``TRTEMFL`` for events starting on
  or after randomisation.
- **ADTTE**: :func:`build_adtte` takes time-to-event frames (``subject_id``, ``time_days``,
  ``event``), so any derived time-to-event endpoint plugs in; by default, time to first flare
  (the ``flares`` table when given, else the Dejaco 2011 rule on visits after baseline).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial.analysis.engine import evaluate_populations
from pmrtrial.analysis.registry import PopulationSet
from pmrtrial.cdisc.model import CdiscPackage, Codelist, DatasetMeta, VariableMeta, VarType, add_days, conform
from pmrtrial.cdisc.sdtm import LB_TESTS, QS_TESTS, arm_code, usubjid
from pmrtrial.cdisc.sdtm import META as SDTM_META
from pmrtrial.datasets import AnalysisDatasets
from pmrtrial.derive import DerivedVisits, derive_visit_variables, endpoint_column
from pmrtrial.protocol import Protocol

__all__ = [
    "CONTINUOUS_PARAMS",
    "POPULATION_FLAGS",
    "TimeToEvent",
    "binary_paramcd",
    "build_adam",
    "build_adtte",
    "population_flag",
    "time_to_first_flare",
]

#: Protocol population id -> ADSL flag.
POPULATION_FLAGS: Mapping[str, str] = {
    "randomised": "ITTFL",
    "primary_analysis": "EFFFL",
    "safety": "SAFFL",
    "per_protocol": "PPROTFL",
}

#: Continuous ADEFF parameters: column -> (PARAMCD, PARAM, SDTM source domain or "").
CONTINUOUS_PARAMS: Mapping[str, tuple[str, str, str]] = {
    "crp_pmr_as": ("CRPPMRAS", "CRP PMR-AS", ""),
    "esr_pmr_as": ("ESRPMRAS", "ESR PMR-AS", ""),
    "crp_mg_l": ("CRP", "C-Reactive Protein (mg/L)", "LB"),
    "crp_mg_dl": ("CRPMGDL", "C-Reactive Protein (mg/dL)", ""),
    "esr_mm_h": ("ESR", "Erythrocyte Sedimentation Rate (mm/h)", "LB"),
    "pain_vas": ("PAINVAS", "Patient Pain VAS (0-10)", "QS"),
    "patient_global_vas": ("PTGLBVAS", "Patient Global Disease Activity VAS (0-10)", "QS"),
    "fatigue_vas": ("FATIGVAS", "Fatigue VAS (0-10)", "QS"),
    "physician_global_vas": ("PHGLBVAS", "Physician Global Assessment VAS (0-10)", "QS"),
    "morning_stiffness_min": ("MSTIFF", "Morning Stiffness (min)", "QS"),
    "upper_limb_elevation": ("EUL", "Elevation of Upper Limbs (EUL 0-3)", "QS"),
    "haq_di": ("HAQDI", "HAQ Disability Index (0-3)", "QS"),
    "sf36_pcs": ("SF36PCS", "SF-36 Physical Component Summary (T-score)", "QS"),
    "sf36_mcs": ("SF36MCS", "SF-36 Mental Component Summary (T-score)", "QS"),
    "eq5d_index": ("EQ5DIDX", "EQ-5D Index Value", "QS"),
    "oral_gc_mg_day": ("ORALGC", "Oral Glucocorticoid Dose (mg/day prednisone)", ""),
    "cumulative_gc_mg": ("CUMGC", "Cumulative Oral Glucocorticoid Dose (mg)", ""),
}

_KNOWN_BINARY = {
    "response_w12": "RESP",
    "response_w24": "RESP",
    "response_by_visit": "RESP",
    "crp_pmr_as_le10": "CRPASL10",
    "upper_limb_elevation_above_90": "EUL0",
    "sustained_remission_w52": "SUSREM",
    "gc_stopped_w24": "GCSTOP",
}
_STATE_CODES = {"le10_no_gc": 1, "le10_gc": 2, "gt10_no_gc": 3, "gt10_gc": 4}


def binary_paramcd(endpoint_id: str, taken: set[str]) -> str:
    """PARAMCD of a binary endpoint: a fixed code for known ids, else the id's letters (8 max), unique."""
    code = _KNOWN_BINARY.get(endpoint_id) or re.sub(r"[^A-Z0-9]", "", endpoint_id.upper())[:8] or "EP"
    base, n = code, 1
    while code in taken:
        n += 1
        code = f"{base[: 8 - len(str(n))]}{n}"
    return code


def _v(name: str, label: str, type_: VarType = "text", **kw: Any) -> VariableMeta:
    return VariableMeta(name, label, type_, **kw)


_TRT = (
    _v("TRT01P", "Planned Treatment for Period 01", required=True, origin="Predecessor", source="DM.ARM"),
    _v("TRT01PN", "Planned Treatment for Period 01 (N)", "integer", origin="Derived", source="protocol arm order"),
    _v("TRT01A", "Actual Treatment for Period 01", origin="Predecessor", source="DM.ACTARM"),
    _v("TRT01AN", "Actual Treatment for Period 01 (N)", "integer", origin="Derived", source="protocol arm order"),
)
_KEYS = (
    _v("STUDYID", "Study Identifier", required=True, origin="Predecessor", source="DM.STUDYID"),
    _v("USUBJID", "Unique Subject Identifier", required=True, origin="Predecessor", source="DM.USUBJID"),
    _v("SUBJID", "Subject Identifier for the Study", required=True, origin="Predecessor", source="DM.SUBJID"),
    _v("SITEID", "Study Site Identifier", required=True, origin="Predecessor", source="DM.SITEID"),
)
_SRC = (
    _v("SRCDOM", "Source Data", origin="Assigned"),
    _v("SRCVAR", "Source Variable", origin="Assigned"),
    _v("SRCSEQ", "Source Sequence Number", "integer", origin="Derived"),
)


def population_flag(population_id: str) -> str:
    """The ADSL flag variable of a protocol population (:data:`POPULATION_FLAGS`, else ``XXXXFL``)."""
    return POPULATION_FLAGS.get(population_id, f"{re.sub(r'[^A-Z]', '', population_id.upper())[:4]}FL")


def _flag_vars(protocol: Protocol, assessable: frozenset[str] = frozenset()) -> tuple[VariableMeta, ...]:
    out = [_v("RANDFL", "Randomized Population Flag", codelist="NY", required=True, source="all subjects of DM")]
    for pop in protocol.populations:
        # a population the data cannot decide (not ``assessable``) is left empty with a note in NOTES.txt, so its
        # flag is not a required variable (an empty required value would be a violation)
        source = f"pmrtrial.analysis.population_sets: {pop.definition}"[:200]
        out.append(
            _v(
                population_flag(pop.id),
                f"{pop.label[:29]} Flag",
                codelist="NY",
                required=pop.id in assessable,
                source=source,
            )
        )
    return tuple(dict((v.name, v) for v in out).values())


def _adsl_meta(protocol: Protocol, assessable: frozenset[str] = frozenset()) -> DatasetMeta:
    strat = tuple(
        _v(f"STRAT{i + 1}R", f"Randomized Stratum {i + 1}"[:40], origin="Predecessor", source=f"subjects.{f}")
        for i, f in enumerate(protocol.randomisation.stratify_by)
    )
    return DatasetMeta(
        "ADSL",
        "Subject-Level Analysis Dataset",
        "SUBJECT LEVEL ANALYSIS DATASET",
        "One record per subject",
        ("STUDYID", "USUBJID"),
        (
            *_KEYS,
            _v("AGE", "Age", "float", origin="Predecessor", source="DM.AGE"),
            _v("AGEU", "Age Units", codelist="AGEU", origin="Predecessor", source="DM.AGEU"),
            _v("SEX", "Sex", codelist="SEX", origin="Predecessor", source="DM.SEX"),
            _v("ARM", "Description of Planned Arm", required=True, origin="Predecessor", source="DM.ARM"),
            _v("ARMCD", "Planned Arm Code", codelist="ARMCD", origin="Predecessor", source="DM.ARMCD"),
            _v("ACTARM", "Description of Actual Arm", origin="Predecessor", source="DM.ACTARM"),
            *_TRT,
            _v("RANDDT", "Date of Randomization", "sasdate", origin="Derived", source="DM.RANDDTC"),
            _v("TRTSDT", "Date of First Exposure to Treatment", "sasdate", source="first EX.EXSTDTC"),
            _v("TRTEDT", "Date of Last Exposure to Treatment", "sasdate", source="last EX.EXENDTC"),
            *_flag_vars(protocol, assessable),
            *strat,
            _v(
                "DISDURD",
                "Disease Duration at Baseline (days)",
                "float",
                origin="Predecessor",
                source="subjects.disease_duration_days",
            ),
            _v("BMIBL", "Baseline BMI (kg/m^2)", "float", origin="Predecessor", source="subjects.bmi"),
            _v(
                "USSYNBL",
                "Baseline Ultrasound Synovitis",
                codelist="NY",
                origin="Predecessor",
                source="subjects.us_synovitis",
            ),
            _v("CRPBL", "Baseline CRP (mg/L)", "float", source="LB.LBSTRESN where LBLOBXFL = Y"),
            _v("PMRASBL", "Baseline CRP PMR-AS", "float", source="ADEFF.AVAL where PARAMCD = CRPPMRAS, ABLFL = Y"),
            _v("EOSSTT", "End of Study Status", codelist="EOSSTT", source="subjects.status"),
            _v("DCSREAS", "Reason for Discontinuation from Study", source="DS.DSDECOD"),
        ),
        "ADaMIG 1.3",
    )


def _bds_meta(protocol: Protocol, assessable: frozenset[str] = frozenset()) -> DatasetMeta:
    flags = tuple(v for v in _flag_vars(protocol, assessable) if v.name != "RANDFL")
    return DatasetMeta(
        "ADEFF",
        "Efficacy Analysis Dataset",
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter per analysis visit",
        ("STUDYID", "USUBJID", "PARAMCD", "AVISITN"),
        (
            *_KEYS,
            *_TRT,
            _v("TRTP", "Planned Treatment", required=True, origin="Predecessor", source="ADSL.TRT01P"),
            _v("TRTPN", "Planned Treatment (N)", "integer", origin="Predecessor", source="ADSL.TRT01PN"),
            _v("TRTA", "Actual Treatment", origin="Predecessor", source="ADSL.TRT01A"),
            _v("TRTAN", "Actual Treatment (N)", "integer", origin="Predecessor", source="ADSL.TRT01AN"),
            *_predecessors(None, flags),
            _v("PARAMCD", "Parameter Code", codelist="PARAMCD", required=True, origin="Assigned"),
            _v("PARAM", "Parameter", codelist="PARAM", required=True, origin="Assigned"),
            _v("PARAMN", "Parameter (N)", "integer", origin="Assigned"),
            _v("PARAMTYP", "Parameter Type", origin="Assigned"),
            _v("AVAL", "Analysis Value", "float", source="see value-level metadata"),
            _v("AVALC", "Analysis Value (C)", source="see value-level metadata"),
            _v("BASE", "Baseline Value", "float", source="AVAL where ABLFL = Y"),
            _v("CHG", "Change from Baseline", "float", source="AVAL - BASE"),
            _v("ABLFL", "Baseline Record Flag", codelist="NY", source="AVISITN = baseline week, AVAL present"),
            _v("AVISIT", "Analysis Visit", codelist="AVISIT", required=True, source="protocol visit of visits.week"),
            _v("AVISITN", "Analysis Visit (N)", "float", required=True, source="visits.week"),
            _v("ADY", "Analysis Relative Day", "integer", source="VISITDY"),
            _v("ANL01FL", "Analysis Flag 01", codelist="NY", source="AVAL or AVALC present"),
            *_SRC,
        ),
        "ADaMIG 1.3",
    )


def _adae_meta(protocol: Protocol, assessable: frozenset[str] = frozenset()) -> DatasetMeta:
    flags = tuple(v for v in _flag_vars(protocol, assessable) if v.name in ("SAFFL", "ITTFL"))
    return DatasetMeta(
        "ADAE",
        "Adverse Events Analysis Dataset",
        "OCCURRENCE DATA STRUCTURE",
        "One record per adverse event per subject",
        ("STUDYID", "USUBJID", "AESEQ"),
        (
            *_KEYS,
            *_TRT,
            _v("TRTA", "Actual Treatment", origin="Predecessor", source="ADSL.TRT01A"),
            _v("TRTAN", "Actual Treatment (N)", "integer", origin="Predecessor", source="ADSL.TRT01AN"),
            *_predecessors(None, flags),
            *_predecessors(SDTM_META["AE"], ("AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AESEV", "AESER", "AEOUT")),
            _v("ASTDT", "Analysis Start Date", "sasdate", source="AE.AESTDTC"),
            _v("ASTDY", "Analysis Start Relative Day", "integer", source="AE.AESTDY"),
            _v("TRTEMFL", "Treatment Emergent Analysis Flag", codelist="NY", source="ASTDY >= 1"),
            _v("AOCCPFL", "1st Occurrence within PT Flag", codelist="NY", source="first AEDECOD per subject"),
        ),
        "ADaMIG 1.3",
    )


def _predecessors(
    source: DatasetMeta | None, variables: Sequence[str] | Sequence[VariableMeta]
) -> tuple[VariableMeta, ...]:
    """Copies of variables taken unchanged from another dataset (origin Predecessor, source ``DS.VAR``)."""
    metas = [v if isinstance(v, VariableMeta) else source.get(v) for v in variables] if source else list(variables)
    name = source.name if source else "ADSL"
    return tuple(
        VariableMeta(v.name, v.label, v.type, v.codelist, "Predecessor", f"{name}.{v.name}", v.required)
        for v in metas
        if isinstance(v, VariableMeta)
    )


def _adtte_meta() -> DatasetMeta:
    return DatasetMeta(
        "ADTTE",
        "Time-to-Event Analysis Dataset",
        "BASIC DATA STRUCTURE",
        "One record per subject per parameter",
        ("STUDYID", "USUBJID", "PARAMCD"),
        (
            *_KEYS,
            *_TRT,
            _v("ITTFL", "All Randomised (ITT) Flag", codelist="NY", origin="Predecessor", source="ADSL.ITTFL"),
            _v("PARAMCD", "Parameter Code", codelist="PARAMCD", required=True, origin="Assigned"),
            _v("PARAM", "Parameter", codelist="PARAM", required=True, origin="Assigned"),
            _v("AVAL", "Analysis Value", "float", required=True, source="time_days (days since randomisation)"),
            _v("CNSR", "Censor", "integer", required=True, source="1 - event"),
            _v("STARTDT", "Time-to-Event Origin Date for Subject", "sasdate", source="ADSL.RANDDT"),
            _v("ADT", "Analysis Date", "sasdate", source="STARTDT + AVAL"),
            _v("EVNTDESC", "Event or Censoring Description", origin="Assigned"),
        ),
        "ADaMIG 1.3",
    )


def _to_date(values: Any) -> list[Any]:
    return [None if pd.isna(v) else pd.Timestamp(v).date() for v in pd.to_datetime(pd.Series(list(values)))]


def _yn(mask: Any) -> np.ndarray[Any, Any]:
    return np.where(np.asarray(mask, dtype=bool), "Y", "N")


def _baseline_week(protocol: Protocol) -> float:
    base = [float(v.week) for v in protocol.visits if v.phase == "baseline"]
    return min(base) if base else 0.0


def _adsl(
    datasets: AnalysisDatasets,
    sdtm: CdiscPackage,
    protocol: Protocol,
    derived: DerivedVisits,
    populations: Mapping[str, PopulationSet],
    notes: list[str],
) -> pd.DataFrame:
    dm = sdtm.datasets["DM"]
    subjects = datasets.subjects.set_index("subject_id").loc[dm["SUBJID"]]
    arm_n = {arm_code(a.id): i + 1 for i, a in enumerate(protocol.arms)}
    out = dm[["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "ARM", "ARMCD", "ACTARM"]].copy()
    out["TRT01P"], out["TRT01PN"] = dm["ARM"], dm["ARMCD"].map(arm_n)
    out["TRT01A"], out["TRT01AN"] = dm["ACTARM"], dm["ACTARMCD"].map(arm_n)
    out["RANDDT"] = _to_date(dm["RANDDTC"].replace("", None))
    ex = sdtm.datasets["EX"]
    first = ex.groupby("USUBJID")["EXSTDTC"].min()
    last = ex.groupby("USUBJID")["EXENDTC"].max()
    out["TRTSDT"] = _to_date(out["USUBJID"].map(first))
    out["TRTEDT"] = _to_date(out["USUBJID"].map(last))
    out["RANDFL"] = "Y"
    # Population flags: the analysis engine's own evaluation (pmrtrial.analysis.population_sets), not a second one.
    for pop in protocol.populations:
        flag, members = population_flag(pop.id), populations[pop.id]
        notes.extend(f"ADSL {flag}: {note}" for note in members.notes)
        if members.assessable:
            out[flag] = _yn(out["SUBJID"].astype(str).isin(members.subject_ids))
        else:
            out[flag] = ""
            notes.append(f"ADSL: population {pop.id!r} cannot be derived from the datasets; {flag} left empty.")
    for i, factor in enumerate(protocol.randomisation.stratify_by):
        source = subjects[factor] if factor in subjects.columns else None
        out[f"STRAT{i + 1}R"] = source.astype(str).to_numpy() if source is not None else ""
    for target, column in (("DISDURD", "disease_duration_days"), ("BMIBL", "bmi")):
        out[target] = subjects[column].to_numpy() if column in subjects.columns else np.nan
    if "us_synovitis" in subjects.columns:
        syn = subjects["us_synovitis"].astype("boolean")
        out["USSYNBL"] = np.where(syn.isna(), "", np.where(syn.fillna(False), "Y", "N"))
    base = derived.data[derived.data["week"] == _baseline_week(protocol)].set_index("subject_id")
    for target, column in (("CRPBL", "crp_mg_l"), ("PMRASBL", "crp_pmr_as")):
        out[target] = out["SUBJID"].map(base[column]) if column in base.columns else np.nan
    status = subjects["status"].astype(str).to_numpy()
    out["EOSSTT"] = np.select(
        [status == "completed", status == "ongoing"], ["COMPLETED", "ONGOING"], default="DISCONTINUED"
    )
    ds = sdtm.datasets["DS"]
    reason = ds[(ds["DSCAT"] == "DISPOSITION EVENT") & (ds["DSDECOD"] != "COMPLETED")].set_index("USUBJID")["DSDECOD"]
    out["DCSREAS"] = out["USUBJID"].map(reason).fillna("")
    notes.append("ADSL: TRT01A = TRT01P (the datasets hold the randomised arm only).")
    return out


def _seq_lookup(sdtm: CdiscPackage) -> dict[str, pd.Series]:
    """For LB and QS: (USUBJID, TESTCD, VISITNUM) -> --SEQ."""
    out = {}
    for dom in ("LB", "QS"):
        frame = sdtm.datasets[dom]
        out[dom] = frame.set_index(["USUBJID", f"{dom}TESTCD", "VISITNUM"])[f"{dom}SEQ"]
    return out


def _testcd(column: str, domain: str) -> str:
    return LB_TESTS[column][0] if domain == "LB" else QS_TESTS[column][0]


def _adeff(
    adsl: pd.DataFrame, sdtm: CdiscPackage, protocol: Protocol, derived: DerivedVisits
) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    data = derived.data.copy()
    data["USUBJID"] = usubjid(sdtm.study_id, data["subject_id"])
    baseline = _baseline_week(protocol)
    visit_day = {float(v.week): int(v.day) + 1 for v in protocol.visits}
    seqs = _seq_lookup(sdtm)
    pieces: list[pd.DataFrame] = []
    params: dict[str, str] = {}
    value_level: dict[str, str] = {}
    wanted = dict(CONTINUOUS_PARAMS)
    for ep in protocol.endpoints:
        if ep.type == "continuous" and ep.variable and ep.variable not in wanted:
            wanted[ep.variable] = (re.sub(r"[^A-Z0-9]", "", ep.variable.upper())[:8], ep.label, "")
    order = 0
    for column, (code, label, domain) in wanted.items():
        if column not in data.columns:
            continue
        order += 1
        values = pd.to_numeric(data[column], errors="coerce").astype(float)
        piece = pd.DataFrame(
            {"USUBJID": data["USUBJID"], "AVISITN": data["week"].astype(float), "AVAL": values, "AVALC": ""}
        )
        piece["PARAMCD"], piece["PARAM"], piece["PARAMN"], piece["_cont"] = code, label, order, True
        if domain:
            lookup = list(zip(piece["USUBJID"], [_testcd(column, domain)] * len(piece), piece["AVISITN"], strict=True))
            seq = seqs[domain].reindex(lookup).to_numpy()
            has = values.notna().to_numpy()
            piece["SRCDOM"] = np.where(has, domain, "")
            piece["SRCVAR"] = np.where(has, f"{domain}STRESN", "")
            piece["SRCSEQ"] = pd.array(np.where(has, seq, np.nan), dtype="Float64").astype("Int64")
            value_level[code] = f"{label}: {domain}.{domain}STRESN where {domain}TESTCD = {_testcd(column, domain)}"
        else:
            value_level[code] = f"{label}: derived ({column}, pmrtrial.derive)"
        params[code] = label
        pieces.append(piece)
    taken = set(params)
    seen: dict[str, str] = {}
    for ep in protocol.endpoints:
        if ep.type != "binary" or ep.definition is None:
            continue
        describe = ep.definition.describe()
        if describe in seen:
            continue
        code = binary_paramcd(ep.id, taken)
        taken.add(code)
        seen[describe] = code
        flag = data[endpoint_column(ep)]
        order += 1
        aval = pd.to_numeric(flag.astype("Float64"), errors="coerce").astype(float)
        piece = pd.DataFrame(
            {
                "USUBJID": data["USUBJID"],
                "AVISITN": data["week"].astype(float),
                "AVAL": aval,
                "AVALC": np.where(aval.isna(), "", np.where(aval == 1, "Y", "N")),
            }
        )
        piece["PARAMCD"], piece["PARAM"], piece["PARAMN"], piece["_cont"] = code, ep.label, order, False
        params[code] = ep.label
        value_level[code] = f"{ep.label}: 1 (Y) when {describe}, 0 (N) when not; missing when undecidable"
        pieces.append(piece)
    if "response_state" in data.columns:
        order += 1
        state = data["response_state"].astype(object).where(data["response_state"].notna(), "missing")
        code_map = state.map(_STATE_CODES)
        piece = pd.DataFrame(
            {
                "USUBJID": data["USUBJID"],
                "AVISITN": data["week"].astype(float),
                "AVAL": code_map.astype(float),
                "AVALC": np.where(code_map.isna(), "", state.astype(str).str.upper()),
            }
        )
        label = "Four-State Category (CRP PMR-AS <=10/>10 x Oral GC)"
        piece["PARAMCD"], piece["PARAM"], piece["PARAMN"], piece["_cont"] = "STATE4", label, order, False
        params["STATE4"] = label
        value_level["STATE4"] = (
            "1 LE10_NO_GC, 2 LE10_GC, 3 GT10_NO_GC, 4 GT10_GC from CRP PMR-AS and oral GC at the visit"
        )
        pieces.append(piece)
    frame = pd.concat(pieces, ignore_index=True)
    # A continuous parameter has a record where it was measured; a binary one wherever the visit took
    # place (an undecidable record stays, with ANL01FL empty, so "not evaluable" is visible).
    frame = frame[~frame["_cont"] | frame["AVAL"].notna()].reset_index(drop=True)
    frame["PARAMTYP"] = ""
    present = frame["AVAL"].notna() | (frame["AVALC"] != "")
    frame["ANL01FL"] = np.where(present, "Y", "")
    is_base = present & (frame["AVISITN"] == baseline)
    frame["ABLFL"] = np.where(is_base, "Y", "")
    base = frame[is_base & frame["_cont"]].set_index(["USUBJID", "PARAMCD"])["AVAL"]
    key = pd.MultiIndex.from_arrays([frame["USUBJID"], frame["PARAMCD"]])
    frame["BASE"] = np.where(frame["_cont"], base.reindex(key).to_numpy(), np.nan)
    frame["CHG"] = np.where(frame["AVISITN"] > baseline, frame["AVAL"] - frame["BASE"], np.nan)
    frame["AVISIT"] = [("Baseline" if w == baseline else f"Week {w:g}") for w in frame["AVISITN"]]
    frame["ADY"] = frame["AVISITN"].map(visit_day)
    carry = [c for c in adsl.columns if c in {v.name for v in _bds_meta(protocol).variables} and c != "AVISIT"]
    frame = frame.merge(adsl[carry], on="USUBJID", how="left")
    frame["TRTP"], frame["TRTPN"] = frame["TRT01P"], frame["TRT01PN"]
    frame["TRTA"], frame["TRTAN"] = frame["TRT01A"], frame["TRT01AN"]
    frame = frame.sort_values(["USUBJID", "PARAMN", "AVISITN"], kind="stable")
    return frame, params, value_level


def _adae(adsl: pd.DataFrame, sdtm: CdiscPackage, protocol: Protocol) -> pd.DataFrame:
    ae = sdtm.datasets["AE"]
    meta = _adae_meta(protocol)
    keep = [
        c for c in adsl.columns if (c in {v.name for v in meta.variables} and c not in ae.columns) or c == "USUBJID"
    ]
    frame = ae.merge(adsl[keep], on="USUBJID", how="left")
    frame["TRTA"], frame["TRTAN"] = frame["TRT01A"], frame["TRT01AN"]
    frame["ASTDT"] = _to_date(frame["AESTDTC"].replace("", None))
    frame["ASTDY"] = frame["AESTDY"]
    frame["TRTEMFL"] = _yn(pd.to_numeric(frame["AESTDY"], errors="coerce").fillna(1) >= 1)
    first = ~frame.duplicated(["USUBJID", "AEDECOD"])
    frame["AOCCPFL"] = np.where(first, "Y", "")
    return frame


@dataclass(frozen=True)
class TimeToEvent:
    """One ADTTE parameter: ``frame`` has ``subject_id``, ``time_days`` (>= 0) and ``event`` (bool)."""

    paramcd: str
    param: str
    frame: pd.DataFrame
    event_description: str = "EVENT"
    censor_description: str = "CENSORED AT LAST ASSESSMENT"


def time_to_first_flare(derived: DerivedVisits, protocol: Protocol, flares: pd.DataFrame | None = None) -> TimeToEvent:
    """Days from randomisation to the first flare; censored at the last visit.

    With the ``flares`` table, the first confirmed flare; otherwise the first visit after baseline
    at which the Dejaco 2011 rule fired (:func:`pmrtrial.derive.derive_var_flare`).
    """
    data = derived.data
    day = {float(v.week): int(v.day) for v in protocol.visits}
    days = data["week"].map(lambda w: day.get(float(w), round(float(w) * 7))).astype(float)
    last = days.groupby(data["subject_id"]).max()
    if flares is not None:
        confirmed = flares[flares["confirmed"].astype(str).str.lower().isin(["true", "1", "yes"])]
        first = pd.to_numeric(confirmed["day"], errors="coerce").groupby(confirmed["subject_id"]).min()
        label = "Time to First Confirmed Flare (days)"
    elif "flare" in data.columns:
        after = data["week"].astype(float) > _baseline_week(protocol)
        mask = after & data["flare"].fillna(False).astype(bool)
        first = days[mask].groupby(data.loc[mask, "subject_id"]).min()
        label = "Time to First Flare, Dejaco 2011 Rule (days)"
    else:
        first = pd.Series(dtype=float)
        label = "Time to First Flare (days)"
    subjects = last.index
    event = subjects.isin(first.index)
    time = np.where(event, first.reindex(subjects).to_numpy(), last.to_numpy())
    frame = pd.DataFrame({"subject_id": subjects, "time_days": time, "event": event})
    return TimeToEvent("TTFLARE", label, frame, "FLARE", "NO FLARE: CENSORED AT LAST VISIT")


def build_adtte(adsl: pd.DataFrame, study_id: str, endpoints: Sequence[TimeToEvent]) -> pd.DataFrame:
    """ADTTE rows from time-to-event frames (one record per subject and parameter)."""
    pieces = []
    for tte in endpoints:
        frame = tte.frame.copy()
        frame["USUBJID"] = usubjid(study_id, frame["subject_id"])
        frame["PARAMCD"], frame["PARAM"] = tte.paramcd, tte.param
        frame["AVAL"] = pd.to_numeric(frame["time_days"], errors="coerce").astype(float)
        event = frame["event"].astype(bool).to_numpy()
        frame["CNSR"] = np.where(event, 0, 1)
        frame["EVNTDESC"] = np.where(event, tte.event_description, tte.censor_description)
        pieces.append(frame.drop(columns=["subject_id", "time_days", "event"]))
    if not pieces:
        return pd.DataFrame(columns=["USUBJID"])
    rows = pd.concat(pieces, ignore_index=True)
    cols = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "ITTFL", "RANDDT"]
    rows = rows.merge(adsl[[c for c in cols if c in adsl.columns]], on="USUBJID", how="inner")
    rows["STARTDT"] = rows["RANDDT"]
    rows["ADT"] = _to_date(add_days(rows["RANDDT"], rows["AVAL"]))
    return rows.sort_values(["USUBJID", "PARAMCD"], kind="stable")


def _codelists(params: Mapping[str, str], tte: Sequence[TimeToEvent], visits: Sequence[str]) -> dict[str, Codelist]:
    all_params = {**params, **{t.paramcd: t.param for t in tte}}
    return {
        "PARAMCD": Codelist("PARAMCD", "Parameter Code", all_params),
        "PARAM": Codelist("PARAM", "Parameter", {v: v for v in all_params.values()}),
        "AVISIT": Codelist("AVISIT", "Analysis Visit", {v: v for v in visits}),
        "EOSSTT": Codelist(
            "EOSSTT", "End of Study Status", {"COMPLETED": "", "DISCONTINUED": "", "ONGOING": ""}, extensible=False
        ),
    }


def build_adam(
    datasets: AnalysisDatasets,
    sdtm: CdiscPackage,
    protocol: Protocol,
    *,
    time_to_event: Sequence[TimeToEvent] | None = None,
    flares: pd.DataFrame | None = None,
) -> CdiscPackage:
    """ADSL, ADEFF, ADAE and ADTTE from the canonical datasets and their SDTM (see module notes).

    ``time_to_event`` replaces the default ADTTE parameter (time to first flare).
    """
    notes: list[str] = []
    derived = derive_visit_variables(datasets.visits, protocol)
    for name, why in derived.not_derived.items():
        notes.append(f"ADEFF: {name} not derived: {why}")
    populations = evaluate_populations(datasets, protocol, flares=flares)
    assessable = frozenset(p for p, members in populations.items() if members.assessable)
    adsl = _adsl(datasets, sdtm, protocol, derived, populations, notes)
    adeff, params, value_level = _adeff(adsl, sdtm, protocol, derived)
    tte = list(time_to_event) if time_to_event is not None else [time_to_first_flare(derived, protocol, flares)]
    if time_to_event is None and flares is None:
        notes.append(
            "ADTTE TTFLARE: no flares table; first post-baseline visit meeting the Dejaco 2011 rule (CRP PMR-AS > 9.35 "
            "or > 6.6 above baseline), evaluated at every visit whether or not the participant was in remission."
        )
    adtte = build_adtte(adsl, sdtm.study_id, tte)
    metas = {
        "ADSL": _adsl_meta(protocol, assessable),
        "ADEFF": _bds_meta(protocol, assessable),
        "ADAE": _adae_meta(protocol, assessable),
        "ADTTE": _adtte_meta(),
    }
    frames = {
        "ADSL": conform(adsl, metas["ADSL"]),
        "ADEFF": conform(adeff, metas["ADEFF"]),
        "ADAE": conform(_adae(adsl, sdtm, protocol), metas["ADAE"]),
        "ADTTE": conform(adtte, metas["ADTTE"]),
    }
    visits = sorted(set(frames["ADEFF"]["AVISIT"]), key=lambda v: (v != "Baseline", v))
    codelists = _codelists(params, tte, visits)
    value = {"ADEFF": value_level, "ADTTE": {t.paramcd: t.param for t in tte}}
    return CdiscPackage(sdtm.study_id, frames, metas, {**sdtm.codelists, **codelists}, tuple(notes), value)
