"""Write CDISC packages: SAS XPORT v5 (pyreadstat), Dataset-JSON v1.1 and define.xml 2.1.

:func:`write_cdisc` writes ``OUT/sdtm/`` and ``OUT/adam/`` (each with its own ``define.xml``, as
in a submission's tabulation and analysis folders), all or nothing: files go to a temporary folder
that replaces the targets only once every file was written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pmrtrial.cdisc.checks import check_package
from pmrtrial.cdisc.define import dataset_json, define_xml
from pmrtrial.cdisc.model import CdiscPackage
from pmrtrial.exceptions import DataError
from pmrtrial.protocol import Protocol

__all__ = ["FORMATS", "source_version", "write_cdisc", "write_xpt"]

FORMATS = ("xpt", "dataset-json")


def source_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pmrtrial")
    except PackageNotFoundError:  # pragma: no cover - source checkout without metadata
        return "0"


def _xpt_frame(package: CdiscPackage, name: str) -> pd.DataFrame:
    meta = package.metadata[name]
    frame = package.datasets[name].copy()
    for var in meta.variables:
        if var.type in ("integer", "float"):
            frame[var.name] = pd.to_numeric(frame[var.name], errors="coerce").astype(float)
        elif var.type == "sasdate":
            frame[var.name] = [None if v is None or pd.isna(v) else pd.Timestamp(v).date() for v in frame[var.name]]
    return frame


def write_xpt(package: CdiscPackage, name: str, path: Path) -> None:
    """One dataset as SAS XPORT v5 (names <= 8 and labels <= 40 characters are checked first)."""
    import pyreadstat

    meta = package.metadata[name]
    for var in meta.variables:
        if len(var.name) > 8 or len(var.label) > 40:
            raise DataError(f"{name}.{var.name}: XPT v5 needs a name <= 8 and a label <= 40 characters.")
    frame = _xpt_frame(package, name)
    formats = {v.name: "DATE9." for v in meta.variables if v.type == "sasdate"}
    widths = {v.name: package.text_length(name, v.name) for v in meta.variables if v.type in ("text", "isodate")}
    for column, width in widths.items():
        if width > 200:
            raise DataError(f"{name}.{column}: a value is longer than 200 bytes, the XPT v5 limit.")
    pyreadstat.write_xport(
        frame,
        str(path),
        file_label=meta.label[:40],
        column_labels=[v.label for v in meta.variables],
        table_name=name,
        file_format_version=5,
        variable_format=formats,
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_cdisc(
    out: str | os.PathLike[str],
    packages: dict[str, CdiscPackage],
    protocol: Protocol,
    *,
    formats: Iterable[str] = FORMATS,
    now: dt.datetime | None = None,
) -> list[Path]:
    """Write each package (``{"sdtm": ..., "adam": ...}``) into ``out/<key>/``; returns the files.

    The packages are checked first (:func:`pmrtrial.cdisc.checks.check_package`); any issue is an
    error and nothing is written.
    """
    problems = [f"{key}: {issue}" for key, package in packages.items() for issue in check_package(package)]
    if problems:  # nothing is written from datasets that break a structural rule
        raise DataError(f"CDISC structural check failed ({len(problems)} issue(s)): " + "; ".join(problems))
    chosen = list(dict.fromkeys(formats))
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise DataError(
            f"Invalid --format {','.join(bad) or '(empty)'}. Expected a comma list of {', '.join(FORMATS)}."
        )
    created = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    version = source_version()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".cdisc.", dir=root))
    written: list[Path] = []
    try:
        for key, package in packages.items():
            folder = staging / key
            folder.mkdir()
            for name in package.datasets:
                if "xpt" in chosen:
                    write_xpt(package, name, folder / f"{name.lower()}.xpt")
                if "dataset-json" in chosen:
                    doc = dataset_json(package, name, created=created, source_version=version)
                    (folder / f"{name.lower()}.json").write_text(
                        json.dumps(doc, default=_json_default, ensure_ascii=False), encoding="utf-8"
                    )
            kind: Literal["SDTM", "ADaM"] = "ADaM" if key == "adam" else "SDTM"
            suffix = ".xpt" if "xpt" in chosen else ".json"
            xml = define_xml(package, protocol, kind=kind, created=created, source_version=version, file_suffix=suffix)
            (folder / "define.xml").write_text(xml, encoding="utf-8")
            if package.notes:
                (folder / "NOTES.txt").write_text("\n".join(package.notes) + "\n", encoding="utf-8")
        for key in packages:
            target = root / key
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging / key, target)
            written.extend(sorted(target.iterdir()))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
