"""The canonical analysis datasets (subjects, visits, adverse events): column specs and validation.

Every path into analysis (an EDC export, CSV files from another EDC, the synthetic twin) ends in
these three tables. :func:`validate_datasets` checks them against the specs below and against a
:class:`~pmrtrial.protocol.Protocol` (arms, visit weeks) and returns an :class:`AnalysisDatasets`
with normalised dtypes. A failure raises :class:`~pmrtrial.exceptions.DataError` whose message
names the file, the 1-based data row (the header is not counted; in a CSV file the line is row + 1),
the column and the value. Nothing is analysed from a dataset that failed validation.

Ranges reuse the score validators (:func:`pmrtrial._validate.as_float_array`), so a visit column
accepts exactly what the score functions accept.

Optional columns may be absent. An endpoint that needs an absent column is reported "not
estimable" by the analysis, never silently dropped (:attr:`AnalysisDatasets.absent_columns`).

Synthetic data are marked with ``subjects.attrs["synthetic"] = True`` in memory (the readers in
:mod:`pmrtrial.io.datasets` carry the flag through a ``dataset.json`` manifest on disk).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from pmrtrial._validate import as_float_array
from pmrtrial.exceptions import DataError, DuplicateRecordError, MissingColumnError, ScoreInputError
from pmrtrial.protocol import Protocol

__all__ = [
    "ADVERSE_EVENTS_COLUMNS",
    "DATASET_NAMES",
    "SUBJECTS_COLUMNS",
    "VISITS_COLUMNS",
    "AnalysisDatasets",
    "ColumnSpec",
    "get_column_specs",
    "validate_datasets",
]

Kind = Literal["string", "float", "integer", "boolean", "category", "date"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a canonical dataset.

    Attributes
    ----------
    name : str
        Column name (snake case, unit suffix where there is a unit).
    kind : {"string", "float", "integer", "boolean", "category", "date"}
        Logical type. Booleans are ``true``/``false`` (also ``1``/``0``); dates are ISO 8601
        ``YYYY-MM-DD``; categories take one of ``allowed``.
    unit : str
        Unit or scale ("mg/L", "0-10", "-" when unitless).
    description : str
        What the column holds.
    required : bool
        A required column must be present and every value non-missing.
    lo, hi : float or None
        Inclusive range of numeric values.
    allowed : tuple or None
        Accepted values (categories, or the integer codes of an ordinal scale).
    """

    name: str
    kind: Kind
    unit: str
    description: str
    required: bool = False
    lo: float | None = None
    hi: float | None = None
    allowed: tuple[Any, ...] | None = None

    def describe_range(self) -> str:
        if self.allowed is not None:
            return "one of " + ", ".join(str(a) for a in self.allowed)
        if self.lo is not None and self.hi is not None:
            return f"[{self.lo:g}, {self.hi:g}]"
        if self.lo is not None:
            return f">= {self.lo:g}"
        return "-"


def _c(name: str, kind: Kind, unit: str, description: str, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, kind, unit, description, **kw)


#: ``subjects``: one row per randomised participant. ``arm`` values are checked against the protocol.
SUBJECTS_COLUMNS: tuple[ColumnSpec, ...] = (
    _c("subject_id", "string", "-", "participant identifier, unique", required=True),
    _c("site_id", "string", "-", "centre identifier (GEE cluster)", required=True),
    _c("arm", "category", "-", "randomised arm id, one of the protocol's arms", required=True),
    _c("randomised_on", "date", "YYYY-MM-DD", "date of randomisation", required=True),
    _c("age_years", "float", "years", "age at randomisation", lo=18, hi=120),
    _c("sex", "category", "-", "sex", allowed=("female", "male")),
    _c("disease_duration_days", "float", "days", "time from symptom onset to inclusion", lo=0, hi=36500),
    _c("bmi", "float", "kg/m2", "body-mass index", lo=10, hi=80),
    _c("us_synovitis", "boolean", "-", "synovitis or tenosynovitis on ultrasound at baseline"),
    _c(
        "status",
        "category",
        "-",
        "end-of-study status",
        required=True,
        allowed=("completed", "withdrawn", "lost"),
    ),
)

#: ``visits``: one row per participant and attended visit; ``week`` must be a scheduled week.
VISITS_COLUMNS: tuple[ColumnSpec, ...] = (
    _c("subject_id", "string", "-", "participant identifier (must exist in subjects)", required=True),
    _c("week", "float", "weeks", "scheduled visit week (protocol schedule)", required=True, lo=0, hi=520),
    _c("crp_mg_l", "float", "mg/L", "C-reactive protein", lo=0, hi=1000),
    _c("esr_mm_h", "float", "mm/h", "erythrocyte sedimentation rate, Westergren, first hour", lo=0, hi=200),
    _c("pain_vas", "float", "0-10", "patient's pain, visual analogue scale", lo=0, hi=10),
    _c("patient_global_vas", "float", "0-10", "patient's assessment of disease activity, VAS", lo=0, hi=10),
    _c("fatigue_vas", "float", "0-10", "patient's fatigue, VAS", lo=0, hi=10),
    _c("physician_global_vas", "float", "0-10", "physician's global assessment of disease activity", lo=0, hi=10),
    _c("morning_stiffness_min", "float", "min", "morning stiffness", lo=0, hi=1440),
    _c(
        "upper_limb_elevation",
        "integer",
        "0-3",
        "EUL: 0 above the shoulder girdle, 1 up to it, 2 below it, 3 none",
        allowed=(0, 1, 2, 3),
    ),
    _c("oral_gc_mg_day", "float", "mg/day", "oral glucocorticoid, prednisone-equivalent (0 = none)", lo=0, hi=1000),
    _c("haq_di", "float", "0-3", "HAQ Disability Index", lo=0, hi=3),
    _c("eq5d_index", "float", "index", "EQ-5D index (value set named in the protocol)", lo=-1, hi=1),
    _c("sf36_pcs", "float", "T-score", "SF-36 physical component summary (norm-based)", lo=0, hi=100),
    _c("sf36_mcs", "float", "T-score", "SF-36 mental component summary (norm-based)", lo=0, hi=100),
    _c("study_drug_mg_day", "float", "mg/day", "study-drug dose taken (placebo: 0)", lo=0, hi=1000),
    _c("us_synovitis", "boolean", "-", "ultrasound synovitis or tenosynovitis at this visit"),
)

#: ``adverse_events``: one row per event.
ADVERSE_EVENTS_COLUMNS: tuple[ColumnSpec, ...] = (
    _c("subject_id", "string", "-", "participant identifier (must exist in subjects)", required=True),
    _c("soc", "string", "-", "MedDRA system organ class", required=True),
    _c("term", "string", "-", "MedDRA preferred term (or verbatim term)", required=True),
    _c("serious", "boolean", "-", "serious adverse event (ICH E2A)", required=True),
    _c("severity", "category", "-", "intensity", allowed=("mild", "moderate", "severe")),
    _c("onset_week", "float", "weeks", "onset, weeks since randomisation", lo=0, hi=520),
    _c(
        "outcome",
        "category",
        "-",
        "outcome (CDISC AEOUT, lower case; 'fatal' counts as a death)",
        allowed=("recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown"),
    ),
)

DATASET_NAMES = ("subjects", "visits", "adverse_events")

_SPECS: Mapping[str, tuple[ColumnSpec, ...]] = MappingProxyType(
    {"subjects": SUBJECTS_COLUMNS, "visits": VISITS_COLUMNS, "adverse_events": ADVERSE_EVENTS_COLUMNS}
)

_TRUE = frozenset({"true", "1", "yes", "1.0"})
_FALSE = frozenset({"false", "0", "no", "0.0"})


def get_column_specs(dataset: str) -> tuple[ColumnSpec, ...]:
    """Column specs of ``"subjects"``, ``"visits"`` or ``"adverse_events"``."""
    if dataset not in _SPECS:
        raise KeyError(f"Unknown dataset {dataset!r}. Expected one of {', '.join(DATASET_NAMES)}.")
    return _SPECS[dataset]


@dataclass(frozen=True)
class AnalysisDatasets:
    """Validated canonical datasets, with normalised dtypes.

    Attributes
    ----------
    subjects, visits, adverse_events : pandas.DataFrame
        The validated tables (copies; inputs are not modified). Optional columns that were absent
        are *not* added.
    absent_columns : Mapping[str, tuple[str, ...]]
        Optional columns absent from each dataset.
    synthetic : bool
        True when the data are synthetic (``subjects.attrs["synthetic"]``).
    source_names : Mapping[str, str]
        File (or source) name of each dataset, as used in error messages.
    """

    subjects: pd.DataFrame
    visits: pd.DataFrame
    adverse_events: pd.DataFrame
    absent_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    synthetic: bool = False
    source_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "absent_columns", MappingProxyType(dict(self.absent_columns)))
        object.__setattr__(self, "source_names", MappingProxyType(dict(self.source_names)))


def _fail(source: str, row: int | None, column: str | None, value: Any, problem: str, *, cls: type = DataError) -> None:
    where = source
    if row is not None:
        where += f", row {row}"
    if column is not None:
        where += f", column {column!r}"
    shown = "" if value is _NO_VALUE else f": value {value!r}"
    raise cls(f"Invalid data in {where}{shown}. {problem}")


_NO_VALUE: Any = object()


def _first_bad(mask: np.ndarray[Any, Any]) -> int:
    return int(np.flatnonzero(mask)[0])


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _normalise_column(series: pd.Series, spec: ColumnSpec, source: str) -> pd.Series:
    """Check one column against its spec; return it with a normalised dtype."""
    n = len(series)
    missing = series.isna().to_numpy()
    if spec.required and missing.any():
        i = _first_bad(missing)
        _fail(source, i + 1, spec.name, None, f"Expected a value ({spec.describe_range()}); the column is required.")
    if spec.kind in ("string", "category"):
        text = series.astype("string").str.strip()
        if spec.kind == "category" and spec.allowed is not None:
            # Case-insensitive; spaces and hyphens read as underscores ("Not recovered" -> "not_recovered").
            text = text.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
            bad = ~missing & ~text.isin(list(spec.allowed)).fillna(False).to_numpy()
            if bad.any():
                i = _first_bad(bad)
                _fail(source, i + 1, spec.name, series.iloc[i], f"Expected {spec.describe_range()}.")
        elif spec.kind == "string":
            empty = ~missing & (text == "").fillna(False).to_numpy()
            if empty.any() and spec.required:
                _fail(source, _first_bad(empty) + 1, spec.name, "", "Expected a non-empty text.")
        return text.astype(object).where(~missing, None)
    if spec.kind == "date":
        parsed = pd.to_datetime(series, errors="coerce", format="ISO8601")
        bad = ~missing & parsed.isna().to_numpy()
        if bad.any():
            i = _first_bad(bad)
            _fail(source, i + 1, spec.name, series.iloc[i], "Expected an ISO 8601 date YYYY-MM-DD.")
        return parsed
    if spec.kind == "boolean":
        if series.dtype == bool:
            return series.astype("boolean")
        text = series.astype("string").str.strip().str.lower()
        is_true = text.isin(list(_TRUE)).fillna(False).to_numpy()
        is_false = text.isin(list(_FALSE)).fillna(False).to_numpy()
        bad = ~missing & ~is_true & ~is_false
        if bad.any():
            i = _first_bad(bad)
            _fail(source, i + 1, spec.name, series.iloc[i], "Expected true or false.")
        out = pd.array(np.where(is_true, True, False), dtype="boolean")
        out[missing] = pd.NA
        return pd.Series(out, index=series.index, name=spec.name)
    # numbers
    if series.dtype.kind in "fiu":
        numbers = series.to_numpy(dtype=np.float64)
    else:
        if series.dtype == bool or series.dtype.kind == "b":
            _fail(source, 1, spec.name, series.iloc[0] if n else None, f"Expected a number ({spec.describe_range()}).")
        coerced = pd.to_numeric(series, errors="coerce")
        numbers = np.asarray(coerced, dtype=np.float64)
        bad = ~missing & np.isnan(numbers)
        if bad.any():
            i = _first_bad(bad)
            _fail(source, i + 1, spec.name, series.iloc[i], f"Expected a number ({spec.describe_range()}).")
    try:
        as_float_array(
            numbers,
            field=spec.name,
            lo=spec.lo,
            hi=spec.hi,
            integer=spec.kind == "integer",
            allowed=spec.allowed,
        )
    except ScoreInputError as exc:
        # Locate the first offending row for the message; the validator names what is accepted.
        bad = ~np.isnan(numbers) & (
            np.isinf(numbers)
            | ((numbers < spec.lo) if spec.lo is not None else False)
            | ((numbers > spec.hi) if spec.hi is not None else False)
            | ((~np.isin(numbers, [float(a) for a in spec.allowed])) if spec.allowed is not None else False)
            | ((numbers != np.round(numbers)) if spec.kind == "integer" else False)
        )
        i = _first_bad(bad) if bad.any() else 0
        _fail(source, i + 1, spec.name, _plain(numbers[i]), f"Expected {exc.expected}.")
    return pd.Series(numbers, index=series.index, name=spec.name)


def _validate_table(
    frame: pd.DataFrame, dataset: str, source: str, protocol: Protocol
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"Invalid {dataset} in {source}. Expected a pandas DataFrame. Got {type(frame).__name__}.")
    specs = get_column_specs(dataset)
    known = {s.name for s in specs}
    for spec in specs:
        if spec.required and spec.name not in frame.columns:
            raise MissingColumnError(
                f"Invalid data in {source}: required column {spec.name!r} is missing. "
                f"Expected columns: {', '.join(s.name for s in specs)}."
            )
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise DataError(
            f"Invalid data in {source}: unknown column {unknown[0]!r}. "
            f"Expected only: {', '.join(s.name for s in specs)}. Suggestion: rename or drop it."
        )
    frame = frame.reset_index(drop=True)
    columns: dict[str, pd.Series] = {}
    for spec in specs:
        if spec.name in frame.columns:
            columns[spec.name] = _normalise_column(frame[spec.name], spec, source)
    out = pd.DataFrame(columns, index=frame.index)
    absent = tuple(s.name for s in specs if s.name not in frame.columns)
    return out, absent


def _check_keys(
    subjects: pd.DataFrame,
    visits: pd.DataFrame,
    adverse_events: pd.DataFrame,
    protocol: Protocol,
    names: Mapping[str, str],
) -> None:
    dup = subjects["subject_id"].duplicated().to_numpy()
    if dup.any():
        i = _first_bad(dup)
        _fail(
            names["subjects"],
            i + 1,
            "subject_id",
            subjects["subject_id"].iloc[i],
            "Expected each subject_id once; it is duplicated.",
            cls=DuplicateRecordError,
        )
    arms = [a.id for a in protocol.arms]
    bad = ~subjects["arm"].isin(arms).to_numpy()
    if bad.any():
        i = _first_bad(bad)
        _fail(
            names["subjects"],
            i + 1,
            "arm",
            subjects["arm"].iloc[i],
            f"Expected an arm of protocol {protocol.id} v{protocol.version}: {', '.join(arms)}.",
        )
    ids = set(subjects["subject_id"])
    for dataset, frame in (("visits", visits), ("adverse_events", adverse_events)):
        unknown = ~frame["subject_id"].isin(ids).to_numpy()
        if unknown.any():
            i = _first_bad(unknown)
            _fail(
                names[dataset],
                i + 1,
                "subject_id",
                frame["subject_id"].iloc[i],
                f"Expected a subject_id present in {names['subjects']}.",
            )
    weeks = np.array([v.week for v in protocol.visits], dtype=np.float64)
    off = ~np.isin(visits["week"].to_numpy(dtype=np.float64), weeks)
    if off.any():
        i = _first_bad(off)
        _fail(
            names["visits"],
            i + 1,
            "week",
            _plain(visits["week"].iloc[i]),
            f"Expected a scheduled week of protocol {protocol.id}: {', '.join(f'{w:g}' for w in weeks)}.",
        )
    dup = visits.duplicated(["subject_id", "week"]).to_numpy()
    if dup.any():
        i = _first_bad(dup)
        _fail(
            names["visits"],
            i + 1,
            "subject_id, week",
            (visits["subject_id"].iloc[i], _plain(visits["week"].iloc[i])),
            "Expected one row per participant and week; this pair is duplicated.",
            cls=DuplicateRecordError,
        )


def validate_datasets(
    subjects: pd.DataFrame,
    visits: pd.DataFrame,
    adverse_events: pd.DataFrame,
    *,
    protocol: Protocol,
    source_names: Mapping[str, str] | Sequence[str] | None = None,
) -> AnalysisDatasets:
    """Validate the three canonical datasets against their specs and a protocol.

    Checks, in order, per dataset: required columns present, no unknown column, types, ranges and
    categories (ranges via :func:`pmrtrial._validate.as_float_array`), required values present; then
    across datasets: unique ``subject_id``, arms of the protocol, every ``subject_id`` of visits and
    adverse events known, visit weeks in the protocol's schedule, one row per (``subject_id``,
    ``week``).

    Parameters
    ----------
    subjects, visits, adverse_events : pandas.DataFrame
        The datasets (README, "Canonical analysis datasets"). An empty ``adverse_events`` (zero rows,
        with its columns) is valid.
    protocol : Protocol
        Supplies the arms and the visit schedule.
    source_names : mapping or sequence of str, optional
        Names to use in error messages (file names), keyed by dataset or in the order
        subjects, visits, adverse_events. Default: the dataset names.

    Returns
    -------
    AnalysisDatasets

    Raises
    ------
    DataError
        The first problem found; the message names the file, the 1-based data row, the column and
        the value. ``MissingColumnError`` and ``DuplicateRecordError`` are subclasses.
    """
    if source_names is None:
        names = {d: d for d in DATASET_NAMES}
    elif isinstance(source_names, Mapping):
        names = {d: str(source_names.get(d, d)) for d in DATASET_NAMES}
    else:
        names = dict(zip(DATASET_NAMES, (str(s) for s in source_names), strict=True))
    synthetic = bool(getattr(subjects, "attrs", {}).get("synthetic", False)) or bool(
        getattr(visits, "attrs", {}).get("synthetic", False)
    )
    s, s_absent = _validate_table(subjects, "subjects", names["subjects"], protocol)
    v, v_absent = _validate_table(visits, "visits", names["visits"], protocol)
    a, a_absent = _validate_table(adverse_events, "adverse_events", names["adverse_events"], protocol)
    _check_keys(s, v, a, protocol, names)
    s.attrs["synthetic"] = synthetic
    return AnalysisDatasets(
        subjects=s,
        visits=v,
        adverse_events=a,
        absent_columns={"subjects": s_absent, "visits": v_absent, "adverse_events": a_absent},
        synthetic=synthetic,
        source_names=names,
    )
