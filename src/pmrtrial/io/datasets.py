"""Read and write the canonical analysis datasets (CSV or Parquet) in a folder.

A dataset folder holds ``subjects.csv|parquet``, ``visits.csv|parquet`` and
``adverse_events.csv|parquet``; optionally ``gc_doses.csv|parquet`` and ``flares.csv|parquet``
(an absent file means the table is absent) and ``dataset.json``: a manifest such as
``{"synthetic": true, "description": "..."}``. The manifest carries the synthetic flag that
``subjects.attrs["synthetic"]`` holds in memory (CSV and Parquet do not keep DataFrame attrs).

CSV text cells that a spreadsheet would run as formulas are written with a leading apostrophe and
read back without it (:mod:`pmrtrial.io.csvsafe`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from pmrtrial.datasets import (
    DATASET_NAMES,
    OPTIONAL_DATASET_NAMES,
    AnalysisDatasets,
    get_column_specs,
    validate_datasets,
)
from pmrtrial.exceptions import DataError
from pmrtrial.io.csvsafe import neutralise_frame, restore_frame
from pmrtrial.protocol import Protocol

__all__ = ["MANIFEST_NAME", "read_datasets", "read_datasets_raw", "read_optional_datasets_raw", "write_datasets"]

MANIFEST_NAME = "dataset.json"


def _find(folder: Path, dataset: str) -> Path | None:
    found = [folder / f"{dataset}{ext}" for ext in (".csv", ".parquet") if (folder / f"{dataset}{ext}").exists()]
    if len(found) > 1:
        raise DataError(f"Ambiguous dataset in {folder}: both {dataset}.csv and {dataset}.parquet exist; keep one.")
    return found[0] if found else None


def _locate(folder: Path, dataset: str) -> Path:
    found = _find(folder, dataset)
    if found is None:
        raise DataError(f"Missing dataset in {folder}: expected {dataset}.csv or {dataset}.parquet.")
    return found


def _read_one(path: Path, dataset: str) -> pd.DataFrame:
    text_columns = {s.name: "string" for s in get_column_specs(dataset) if s.kind in ("string", "category", "date")}
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        frame = pd.read_csv(path, dtype=text_columns, keep_default_na=True, na_values=[""], skipinitialspace=True)
        return restore_frame(frame)  # undo the spreadsheet-safe apostrophe (pmrtrial.io.csvsafe)
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read {path.name}: {exc}") from None


def read_datasets_raw(
    folder: str | os.PathLike[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The three tables as read (not validated) and the manifest (``{}`` when absent)."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"Dataset folder not found: {root}")
    frames = [_read_one(_locate(root, d), d) for d in DATASET_NAMES]
    manifest: dict[str, Any] = {}
    if (root / MANIFEST_NAME).exists():
        try:
            manifest = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"Invalid JSON in {root / MANIFEST_NAME} at line {exc.lineno}: {exc.msg}") from None
    return frames[0], frames[1], frames[2], manifest


def read_optional_datasets_raw(folder: str | os.PathLike[str]) -> dict[str, pd.DataFrame]:
    """The optional tables present in ``folder`` (``gc_doses``, ``flares``), as read; absent ones are left out."""
    root = Path(folder)
    out: dict[str, pd.DataFrame] = {}
    for dataset in OPTIONAL_DATASET_NAMES:
        path = _find(root, dataset)
        if path is not None:
            out[dataset] = _read_one(path, dataset)
    return out


def read_datasets(
    folder: str | os.PathLike[str],
    *,
    protocol: Protocol,
    inspect: Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame], None] | None = None,
) -> AnalysisDatasets:
    """Read and validate the datasets of ``folder``; errors name the file, row, column and value.

    The optional tables are read when their file exists (``AnalysisDatasets.gc_doses`` and
    ``.flares`` are ``None`` otherwise). ``inspect(subjects, visits, adverse_events)`` sees the tables as read,
    before validation (the analyse pipeline's unit-plausibility check, so that its warnings come out even when
    validation then fails).
    """
    root = Path(folder)
    subjects, visits, adverse_events, manifest = read_datasets_raw(root)
    if inspect is not None:
        inspect(subjects, visits, adverse_events)
    optional = read_optional_datasets_raw(root)
    subjects.attrs["synthetic"] = bool(manifest.get("synthetic", False))
    subjects.attrs["blinded"] = bool(manifest.get("blinded", False))
    names = {d: _locate(root, d).name for d in (*DATASET_NAMES, *optional)}
    return validate_datasets(
        subjects,
        visits,
        adverse_events,
        protocol=protocol,
        source_names=names,
        gc_doses=optional.get("gc_doses"),
        flares=optional.get("flares"),
    )


def write_datasets(
    folder: str | os.PathLike[str],
    subjects: pd.DataFrame,
    visits: pd.DataFrame,
    adverse_events: pd.DataFrame,
    *,
    protocol: Protocol | None = None,
    file_format: Literal["csv", "parquet"] = "csv",
    manifest: Mapping[str, Any] | None = None,
    gc_doses: pd.DataFrame | None = None,
    flares: pd.DataFrame | None = None,
) -> tuple[Path, ...]:
    """Write the datasets (and the manifest) into ``folder``, all or nothing.

    When ``protocol`` is given the datasets are validated first, and nothing is written if they
    fail. Each file is written to a temporary name and renamed only after every file was written.
    The synthetic flag (``subjects.attrs["synthetic"]``) goes into ``dataset.json``. The optional
    tables ``gc_doses`` and ``flares`` are written when given; when not given, a file of that table
    left in ``folder`` by an earlier write is removed (the table is absent).
    """
    if file_format not in ("csv", "parquet"):
        raise DataError(f"Invalid file_format. Expected 'csv' or 'parquet'. Got {file_format!r}.")
    if protocol is not None:
        validate_datasets(subjects, visits, adverse_events, protocol=protocol, gc_doses=gc_doses, flares=flares)
    tables = {"subjects": subjects, "visits": visits, "adverse_events": adverse_events}
    tables.update({name: frame for name, frame in (("gc_doses", gc_doses), ("flares", flares)) if frame is not None})
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    info = dict(manifest or {})
    info.setdefault("synthetic", bool(subjects.attrs.get("synthetic", False)))
    info.setdefault("format", file_format)
    pending: list[tuple[str, Path]] = []
    try:
        for name, frame in tables.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=root)
            os.close(fd)
            pending.append((tmp, root / f"{name}.{file_format}"))
            plain = frame.copy()
            plain.attrs = {}
            if file_format == "csv":  # text cells spreadsheet-safe (pmrtrial.io.csvsafe); read_datasets undoes it
                neutralise_frame(plain).to_csv(tmp, index=False, date_format="%Y-%m-%d")
            else:
                plain.to_parquet(tmp, index=False)
        fd, tmp = tempfile.mkstemp(prefix=".dataset.", dir=root)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(info, handle, indent=2)
        pending.append((tmp, root / MANIFEST_NAME))
    except BaseException:
        for tmp, _ in pending:
            Path(tmp).unlink(missing_ok=True)
        raise
    other = "parquet" if file_format == "csv" else "csv"
    for name in DATASET_NAMES + OPTIONAL_DATASET_NAMES:  # a stale file would make the folder ambiguous
        (root / f"{name}.{other}").unlink(missing_ok=True)
        if name not in tables:  # an optional table not written is absent
            (root / f"{name}.{file_format}").unlink(missing_ok=True)
    for tmp, target in pending:
        os.replace(tmp, target)
    return tuple(target for _, target in pending)
