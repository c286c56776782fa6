"""Metadata of CDISC datasets: variables, datasets, codelists and the package that holds them.

A :class:`CdiscPackage` is what the builders of :mod:`pmrtrial.cdisc.sdtm` and
:mod:`pmrtrial.cdisc.adam` return: the datasets as DataFrames plus, for each, a
:class:`DatasetMeta` (label, class, structure, keys, variables with labels, types, lengths,
codelists and origins). The writers (XPT, Dataset-JSON, define.xml) and the structural checks all
read the same metadata, so a variable is described once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "CdiscPackage",
    "Codelist",
    "DatasetMeta",
    "VarType",
    "VariableMeta",
    "conform",
    "iso_date",
    "study_day",
]

#: ``text`` and ``integer``/``float`` are physical; ``isodate`` is an SDTM ``--DTC`` (ISO 8601 text);
#: ``sasdate`` is an ADaM ``*DT`` (numeric, days since 1960-01-01, ``DATE9.``).
VarType = Literal["text", "integer", "float", "isodate", "sasdate"]
Origin = Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor"]


@dataclass(frozen=True)
class VariableMeta:
    """One variable of a CDISC dataset.

    Attributes
    ----------
    name : str
        Upper case, at most 8 characters (SAS XPORT v5).
    label : str
        At most 40 characters.
    type : VarType
    codelist : str or None
        Id of a :class:`Codelist` of the package; every non-missing value must be one of its terms.
    origin : str
        define.xml origin type (Collected, Derived, Assigned, Protocol, Predecessor).
    source : str
        Where the value comes from: a canonical variable (``visits.crp_mg_l``), an SDTM variable
        (``LB.LBSTRESN``) or a derivation in words; define.xml prints it.
    required : bool
        Required in the implementation guide: present and never missing.
    """

    name: str
    label: str
    type: VarType
    codelist: str | None = None
    origin: Origin = "Derived"
    source: str = ""
    required: bool = False

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "float", "sasdate")


@dataclass(frozen=True)
class Codelist:
    """A codelist: ``terms`` maps each coded value to its decoded text (equal when not decoded)."""

    id: str
    name: str
    terms: Mapping[str, str]
    data_type: Literal["text", "integer"] = "text"
    extensible: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", MappingProxyType(dict(self.terms)))


@dataclass(frozen=True)
class DatasetMeta:
    """One dataset: name, label, class and its variables in order."""

    name: str
    label: str
    cdisc_class: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[VariableMeta, ...]
    standard: Literal["SDTMIG 3.4", "ADaMIG 1.3"] = "SDTMIG 3.4"

    def get(self, name: str) -> VariableMeta:
        for var in self.variables:
            if var.name == name:
                return var
        raise KeyError(f"Unknown variable {name!r} in {self.name}.")

    @property
    def is_adam(self) -> bool:
        return self.standard.startswith("ADaM")


@dataclass(frozen=True)
class CdiscPackage:
    """SDTM or ADaM datasets with their metadata.

    Attributes
    ----------
    study_id : str
        ``STUDYID``.
    datasets : Mapping[str, pandas.DataFrame]
        By upper-case dataset name, columns in metadata order.
    metadata : Mapping[str, DatasetMeta]
    codelists : Mapping[str, Codelist]
    notes : tuple of str
        What the builders could not take from the data and how they filled it (honest record).
    value_level : Mapping[str, Mapping[str, str]]
        Value-level metadata: dataset -> PARAMCD/TESTCD -> description (units, derivation).
    """

    study_id: str
    datasets: Mapping[str, pd.DataFrame]
    metadata: Mapping[str, DatasetMeta]
    codelists: Mapping[str, Codelist]
    notes: tuple[str, ...] = ()
    value_level: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("datasets", "metadata", "codelists", "value_level"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def merge(self, other: CdiscPackage) -> CdiscPackage:
        """This package plus ``other`` (same study); ``other`` wins on a name clash."""
        return CdiscPackage(
            self.study_id,
            {**self.datasets, **other.datasets},
            {**self.metadata, **other.metadata},
            {**self.codelists, **other.codelists},
            self.notes + tuple(n for n in other.notes if n not in self.notes),
            {**self.value_level, **other.value_level},
        )

    def text_length(self, dataset: str, variable: str) -> int:
        """Declared length of a text variable: the longest value in bytes (UTF-8), at least 1."""
        column = self.datasets[dataset][variable]
        values = [str(v) for v in column if isinstance(v, str)]
        return max([1, *(len(v.encode("utf-8")) for v in values)])


def iso_date(value: Any) -> str:
    """ISO 8601 ``YYYY-MM-DD`` text of a date (``""`` when missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return pd.Timestamp(value).date().isoformat()


def study_day(day_since_randomisation: Any) -> Any:
    """SDTM study day from pmrtrial's day count (day 0 = randomisation = study day 1; no day 0).

    >>> study_day(0), study_day(13), study_day(-1)
    (1, 14, -1)
    """
    values = np.asarray(day_since_randomisation, dtype=float)
    out = np.where(values >= 0, values + 1, values)
    if out.ndim == 0:
        return None if np.isnan(out) else int(out)
    return pd.array(np.where(np.isnan(out), np.nan, out), dtype="Float64").astype("Int64")


def add_days(start: Sequence[Any] | pd.Series, days: Sequence[Any] | pd.Series) -> pd.Series:
    """``start`` dates plus ``days`` (floats rounded to whole days); NaT where either is missing."""
    base = pd.to_datetime(pd.Series(list(start)), errors="coerce")
    offset = pd.to_numeric(pd.Series(list(days)), errors="coerce").round()
    return base + pd.to_timedelta(offset, unit="D")


SAS_EPOCH = dt.date(1960, 1, 1)


def conform(frame: pd.DataFrame, meta: DatasetMeta) -> pd.DataFrame:
    """``frame`` with exactly ``meta``'s columns, in its order, typed as the metadata says.

    A column the frame lacks is added empty (NaN for numbers, ``""`` for text and ISO dates, ``None`` for a SAS
    date). Integers become ``Int64``, floats ``float``, text and ISO dates ``str`` (``""`` for a missing value);
    SAS dates are left as they are.
    """
    out = frame.copy()
    for var in meta.variables:
        if var.name not in out.columns:
            out[var.name] = None if var.type == "sasdate" else (np.nan if var.numeric else "")
    out = out[[v.name for v in meta.variables]].reset_index(drop=True)
    for var in meta.variables:
        if var.type == "integer":
            out[var.name] = pd.to_numeric(out[var.name], errors="coerce").astype("Int64")
        elif var.type == "float":
            out[var.name] = pd.to_numeric(out[var.name], errors="coerce").astype(float)
        elif not var.numeric:
            out[var.name] = out[var.name].map(
                lambda x: "" if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x)
            )
    return out
