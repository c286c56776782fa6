"""Structural conformance checks of a :class:`~pmrtrial.cdisc.model.CdiscPackage` (no CDISC rules engine).

Each check has a stable id and returns :class:`CdiscIssue` rows:

- ``CDISC-E001`` a variable of the metadata is missing from the dataset (or the reverse);
- ``CDISC-E002`` a required variable has a missing value;
- ``CDISC-E003`` a ``--DTC`` value is not an ISO 8601 date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``);
- ``CDISC-E004`` the dataset keys do not identify records uniquely;
- ``CDISC-E005`` a value is not a term of the variable's codelist;
- ``CDISC-E006`` a name is longer than 8 characters or a label longer than 40 (SAS XPORT v5);
- ``CDISC-E007`` a codelist referenced by a variable does not exist;
- ``CDISC-E008`` a study day ``--DY`` (or ``--STDY``/``--ENDY``) disagrees with its complete ``--DTC`` date and the
  subject's DM ``RFSTDTC``: SDTMIG counts the reference date as day 1 and the day before it as day -1 (no day 0),
  so ``--DY`` = date - RFSTDTC + 1 on or after it, date - RFSTDTC before it; a ``--DY`` of 0 is always wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from pmrtrial.cdisc.model import CdiscPackage

__all__ = ["CdiscIssue", "check_package"]

_ISO_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
_COMPLETE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: --DTC variable suffix -> its study-day suffix (SDTMIG timing variables).
_DAY_OF = {"DTC": "DY", "STDTC": "STDY", "ENDTC": "ENDY"}


@dataclass(frozen=True)
class CdiscIssue:
    id: str
    dataset: str
    variable: str
    message: str

    def __str__(self) -> str:
        return f"{self.id} {self.dataset}.{self.variable}: {self.message}"


def _missing(series: pd.Series) -> pd.Series:
    return series.isna() | (series.astype(str) == "")


def check_package(package: CdiscPackage) -> list[CdiscIssue]:
    """Every structural issue of the package (an empty list when it conforms)."""
    issues: list[CdiscIssue] = []
    for name, meta in package.metadata.items():
        frame = package.datasets[name]
        names = [v.name for v in meta.variables]
        if len(name) > 8:
            issues.append(CdiscIssue("CDISC-E006", name, "", "dataset name longer than 8 characters"))
        for extra in sorted(set(frame.columns) - set(names)):
            issues.append(CdiscIssue("CDISC-E001", name, extra, "column not described in the metadata"))
        for var in meta.variables:
            if len(var.name) > 8 or len(var.label) > 40:
                issues.append(CdiscIssue("CDISC-E006", name, var.name, f"name or label too long ({var.label!r})"))
            if var.name not in frame.columns:
                issues.append(CdiscIssue("CDISC-E001", name, var.name, "variable missing from the dataset"))
                continue
            column = frame[var.name]
            if var.required and _missing(column).any():
                row = int(_missing(column).to_numpy().nonzero()[0][0]) + 1
                issues.append(CdiscIssue("CDISC-E002", name, var.name, f"required value missing (record {row})"))
            if var.type == "isodate":
                bad = [v for v in column if isinstance(v, str) and v and not _ISO_DATE.match(v)]
                if bad:
                    issues.append(CdiscIssue("CDISC-E003", name, var.name, f"not ISO 8601: {bad[0]!r}"))
            if var.codelist:
                codelist = package.codelists.get(var.codelist)
                if codelist is None:
                    issues.append(CdiscIssue("CDISC-E007", name, var.name, f"codelist {var.codelist} not defined"))
                    continue
                values = {str(v) for v in column if not (v is None or (not isinstance(v, str) and pd.isna(v)))}
                unknown = sorted(values - set(codelist.terms) - {""})
                if unknown:
                    issues.append(
                        CdiscIssue("CDISC-E005", name, var.name, f"{unknown[0]!r} not in codelist {codelist.id}")
                    )
        keys = [k for k in meta.keys if k in frame.columns]
        if keys and frame.duplicated(keys).any():
            issues.append(CdiscIssue("CDISC-E004", name, ",".join(keys), "keys do not identify records uniquely"))
    issues.extend(_study_day_issues(package))
    return issues


def _study_day_issues(package: CdiscPackage) -> list[CdiscIssue]:
    """CDISC-E008: every ``--DY`` against its ``--DTC`` and DM ``RFSTDTC`` (SDTM packages, which have DM)."""
    dm = package.datasets.get("DM")
    if dm is None or "RFSTDTC" not in dm.columns:
        return []
    # a duplicated USUBJID (CDISC-E004) has no single reference date: its days are not checked
    first = dm[~dm["USUBJID"].duplicated(keep=False)].set_index("USUBJID")["RFSTDTC"]
    reference = pd.to_datetime(first.astype(str).where(first.astype(str).str.match(_COMPLETE_DATE)).str[:10])
    issues: list[CdiscIssue] = []
    for name, frame in package.datasets.items():
        if "USUBJID" not in frame.columns:
            continue
        for dtc in [c for c in frame.columns if c.endswith("DTC") and c != "RFSTDTC"]:
            suffix = next((k for k in ("STDTC", "ENDTC", "DTC") if dtc.endswith(k)), "DTC")
            dy = dtc[: -len(suffix)] + _DAY_OF[suffix]
            if dy not in frame.columns:
                continue
            text = frame[dtc].astype(str)
            complete = text.str.match(_COMPLETE_DATE)
            date = pd.to_datetime(text.where(complete).str[:10], errors="coerce")
            days = (date - frame["USUBJID"].map(reference).to_numpy()).dt.days
            expected = days.where(days < 0, days + 1)
            got = pd.to_numeric(frame[dy], errors="coerce").astype(float)
            wrong = (got == 0) | (expected.notna() & (got != expected))
            if wrong.any():
                i = int(wrong.to_numpy().nonzero()[0][0])
                issues.append(
                    CdiscIssue(
                        "CDISC-E008",
                        name,
                        dy,
                        f"record {i + 1}: {dy} {got.iloc[i]} but {dtc} {text.iloc[i]} is study day "
                        f"{expected.iloc[i]} (no day 0)",
                    )
                )
    return issues
