"""The canonical analysis datasets (subjects, visits, adverse events): column specs and validation.

Every path into analysis (an EDC export, CSV files from another EDC, the synthetic twin) ends in
these three tables, plus two optional ones: ``gc_doses`` (a glucocorticoid dosing log) and
``flares`` (recorded flares); an absent optional table is ``None``. The column specs are built
from :mod:`pmrtrial.vocabulary`, the one place where each variable is declared.
:func:`validate_datasets` checks them against the specs below and against a
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
from typing import Any

import numpy as np
import pandas as pd

from pmrtrial._validate import as_float_array
from pmrtrial.exceptions import DataError, DuplicateRecordError, MissingColumnError, ScoreInputError
from pmrtrial.protocol import Protocol
from pmrtrial.vocabulary import DATASET_TABLES, OPTIONAL_TABLES, REQUIRED_TABLES, Variable, table_variables

__all__ = [
    "ADVERSE_EVENTS_COLUMNS",
    "BLINDED_ARM_CODE_PATTERN",
    "DATASET_NAMES",
    "FLARES_COLUMNS",
    "GC_DOSES_COLUMNS",
    "OPTIONAL_DATASET_NAMES",
    "SUBJECTS_COLUMNS",
    "VISITS_COLUMNS",
    "AnalysisDatasets",
    "ColumnSpec",
    "get_column_specs",
    "validate_datasets",
]

#: A column of a canonical dataset is a :class:`~pmrtrial.vocabulary.Variable` (name, kind, unit,
#: range or levels, required, labels, description).
ColumnSpec = Variable

#: In a blinded export (``dataset.json``: ``"blinded": true``) the ``arm`` column holds a code per
#: participant (``BC-`` and 8 base-32 characters), not an arm: arms cannot be told apart.
BLINDED_ARM_CODE_PATTERN = r"^BC-[A-Z2-7]{8}$"

#: ``subjects``: one row per randomised participant. ``arm`` values are checked against the protocol.
SUBJECTS_COLUMNS: tuple[ColumnSpec, ...] = table_variables("subjects")
#: ``visits``: one row per participant and attended visit; ``week`` must be a scheduled week.
VISITS_COLUMNS: tuple[ColumnSpec, ...] = table_variables("visits")
#: ``adverse_events``: one row per event.
ADVERSE_EVENTS_COLUMNS: tuple[ColumnSpec, ...] = table_variables("adverse_events")
#: ``gc_doses`` (optional): one row per glucocorticoid dosing segment.
GC_DOSES_COLUMNS: tuple[ColumnSpec, ...] = table_variables("gc_doses")
#: ``flares`` (optional): one row per recorded flare.
FLARES_COLUMNS: tuple[ColumnSpec, ...] = table_variables("flares")

#: The required datasets, in the order :func:`validate_datasets` takes them.
DATASET_NAMES = REQUIRED_TABLES
#: Optional datasets: an absent table is ``None`` in :class:`AnalysisDatasets`.
OPTIONAL_DATASET_NAMES = OPTIONAL_TABLES

_SPECS: Mapping[str, tuple[ColumnSpec, ...]] = MappingProxyType({t: table_variables(t) for t in DATASET_TABLES})

_TRUE = frozenset({"true", "1", "yes", "1.0"})
_FALSE = frozenset({"false", "0", "no", "0.0"})


def get_column_specs(dataset: str) -> tuple[ColumnSpec, ...]:
    """Column specs of a dataset: ``subjects``, ``visits``, ``adverse_events``, ``gc_doses`` or ``flares``."""
    if dataset not in _SPECS:
        raise KeyError(f"Unknown dataset {dataset!r}. Expected one of {', '.join(DATASET_TABLES)}.")
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
    blinded : bool
        True for a blinded export: ``arm`` holds per-participant codes (``subjects.attrs["blinded"]``);
        only pooled summaries are possible.
    source_names : Mapping[str, str]
        File (or source) name of each dataset, as used in error messages.
    gc_doses, flares : pandas.DataFrame or None
        The optional tables, validated; ``None`` when the table is absent.
    """

    subjects: pd.DataFrame
    visits: pd.DataFrame
    adverse_events: pd.DataFrame
    absent_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    synthetic: bool = False
    source_names: Mapping[str, str] = field(default_factory=dict)
    gc_doses: pd.DataFrame | None = None
    flares: pd.DataFrame | None = None

    @property
    def absent_tables(self) -> tuple[str, ...]:
        """Optional datasets that were not supplied."""
        return tuple(t for t in OPTIONAL_DATASET_NAMES if getattr(self, t) is None)

    blinded: bool = False

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
        if spec.kind == "category" and spec.levels is not None:
            # Case-insensitive; spaces and hyphens read as underscores ("Not recovered" -> "not_recovered").
            text = text.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
            bad = ~missing & ~text.isin(list(spec.levels)).fillna(False).to_numpy()
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
            allowed=spec.levels,
        )
    except ScoreInputError as exc:
        # Locate the first offending row for the message; the validator names what is accepted.
        bad = ~np.isnan(numbers) & (
            np.isinf(numbers)
            | ((numbers < spec.lo) if spec.lo is not None else False)
            | ((numbers > spec.hi) if spec.hi is not None else False)
            | ((~np.isin(numbers, [float(a) for a in spec.levels])) if spec.levels is not None else False)
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


def _check_one_row_per(frame: pd.DataFrame, source: str, key: str, what: str) -> None:
    dup = frame.duplicated(["subject_id", key]).to_numpy()
    if dup.any():
        i = _first_bad(dup)
        _fail(
            source,
            i + 1,
            f"subject_id, {key}",
            (frame["subject_id"].iloc[i], _plain(frame[key].iloc[i])),
            f"Expected one row per participant and {what}; this pair is duplicated.",
            cls=DuplicateRecordError,
        )


def _check_dose_days(doses: pd.DataFrame, source: str) -> None:
    if "end_day" not in doses:
        return
    end = doses["end_day"].to_numpy(dtype=np.float64)
    backwards = ~np.isnan(end) & (end < doses["start_day"].to_numpy(dtype=np.float64))
    if backwards.any():
        i = _first_bad(backwards)
        _fail(
            source,
            i + 1,
            "end_day",
            _plain(end[i]),
            f"Expected end_day >= start_day ({_plain(doses['start_day'].iloc[i])}); empty means ongoing.",
        )


def _check_keys(
    subjects: pd.DataFrame,
    visits: pd.DataFrame,
    adverse_events: pd.DataFrame,
    protocol: Protocol,
    names: Mapping[str, str],
    optional: Mapping[str, pd.DataFrame],
    blinded: bool = False,
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
    if blinded:
        bad = ~subjects["arm"].astype("string").str.fullmatch(BLINDED_ARM_CODE_PATTERN).fillna(False).to_numpy(bool)
        bad |= subjects["arm"].duplicated().to_numpy()
        expected = (
            "Expected, in a blinded export, a blinded code per participant (BC- and 8 letters/digits), each once."
        )
    else:
        bad = ~subjects["arm"].isin(arms).to_numpy()
        expected = f"Expected an arm of protocol {protocol.id} v{protocol.version}: {', '.join(arms)}."
    if bad.any():
        i = _first_bad(bad)
        _fail(names["subjects"], i + 1, "arm", subjects["arm"].iloc[i], expected)
    ids = set(subjects["subject_id"])
    for dataset, frame in (("visits", visits), ("adverse_events", adverse_events), *optional.items()):
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
    _check_one_row_per(visits, names["visits"], "week", "week")
    if "flares" in optional:
        _check_one_row_per(optional["flares"], names["flares"], "day", "day")
    if "gc_doses" in optional:
        _check_dose_days(optional["gc_doses"], names["gc_doses"])


def validate_datasets(
    subjects: pd.DataFrame,
    visits: pd.DataFrame,
    adverse_events: pd.DataFrame,
    *,
    protocol: Protocol,
    source_names: Mapping[str, str] | Sequence[str] | None = None,
    gc_doses: pd.DataFrame | None = None,
    flares: pd.DataFrame | None = None,
    blinded: bool | None = None,
) -> AnalysisDatasets:
    """Validate the canonical datasets against their specs and a protocol.

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
    gc_doses, flares : pandas.DataFrame, optional
        The optional datasets; ``None`` (default) means the table is absent. Their ``subject_id``
        must be known to ``subjects``; a dose's ``end_day`` must not precede its ``start_day``; a
        participant has at most one flare row per day.
    blinded : bool, optional
        A blinded export: ``arm`` must hold one blinded code per participant instead of protocol
        arms. Default: ``subjects.attrs["blinded"]``.

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
        names = {d: d for d in DATASET_TABLES}
    elif isinstance(source_names, Mapping):
        names = {d: str(source_names.get(d, d)) for d in DATASET_TABLES}
    else:
        names = {d: d for d in DATASET_TABLES} | dict(zip(DATASET_NAMES, (str(s) for s in source_names), strict=True))
    synthetic = bool(getattr(subjects, "attrs", {}).get("synthetic", False)) or bool(
        getattr(visits, "attrs", {}).get("synthetic", False)
    )
    s, s_absent = _validate_table(subjects, "subjects", names["subjects"], protocol)
    v, v_absent = _validate_table(visits, "visits", names["visits"], protocol)
    a, a_absent = _validate_table(adverse_events, "adverse_events", names["adverse_events"], protocol)
    if blinded is None:
        blinded = bool(getattr(subjects, "attrs", {}).get("blinded", False))

    absent = {"subjects": s_absent, "visits": v_absent, "adverse_events": a_absent}
    optional: dict[str, pd.DataFrame] = {}
    for dataset, frame in (("gc_doses", gc_doses), ("flares", flares)):
        if frame is not None:
            optional[dataset], absent[dataset] = _validate_table(frame, dataset, names[dataset], protocol)
    _check_keys(s, v, a, protocol, names, optional, blinded)
    s.attrs["synthetic"] = synthetic
    if blinded:
        s.attrs["blinded"] = True
    return AnalysisDatasets(
        subjects=s,
        visits=v,
        adverse_events=a,
        absent_columns=absent,
        synthetic=synthetic,
        source_names=names,
        gc_doses=optional.get("gc_doses"),
        flares=optional.get("flares"),
        blinded=blinded,
    )
