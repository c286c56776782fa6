"""Read a dataset folder, validate it, run the SAP and write the report (used by the CLI and the demo)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from pmrtrial.analysis import AnalysisResult, analyse_trial
from pmrtrial.exceptions import DataError
from pmrtrial.io import read_protocol
from pmrtrial.io.datasets import read_datasets
from pmrtrial.plausibility import UnitSuspicion, check_visits
from pmrtrial.published import load_published
from pmrtrial.report.render import ReportFiles, write_report

__all__ = ["AnalysisRun", "analyse_directory"]

#: Steps reported to ``on_step`` in order.
STEPS = ("read and validate datasets", "analyse", "write report")


@dataclass(frozen=True)
class AnalysisRun:
    result: AnalysisResult
    files: ReportFiles


def read_enrolment(data_dir: Path) -> dict[str, Any] | None:
    """The CONSORT enrolment stage from the EDC's ``screening.csv`` (None when the folder has none).

    ``assessed`` = everyone screened; ``excluded`` = screened and not randomised, with ``reasons`` counting the
    failed criteria (a person failing two criteria counts under both) and ``other`` those excluded without a
    failed criterion (eligible but not randomised: declined, not consented...).
    """
    path = data_dir / "screening.csv"
    if not path.is_file():
        return None
    from pmrtrial.io.csvsafe import restore_frame

    frame = restore_frame(pd.read_csv(path, dtype=str, keep_default_na=False))
    missing = sorted({"screening_id", "randomised", "excluded_by"} - set(frame.columns))
    if missing:
        raise DataError(f"Invalid screening.csv: missing column(s) {', '.join(missing)}")
    randomised = frame["randomised"].str.lower().isin(("true", "1", "yes"))
    excluded = frame[~randomised]
    reasons: dict[str, int] = {}
    for text in excluded["excluded_by"]:
        for reason in filter(None, text.split(";")):
            reasons[reason] = reasons.get(reason, 0) + 1
    return {
        "source": "screening.csv (EDC export)",
        "assessed": len(frame),
        "randomised": int(randomised.sum()),
        "excluded": len(excluded),
        "reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "other": int((excluded["excluded_by"] == "").sum()),
    }


def analyse_directory(
    data_dir: str | os.PathLike[str],
    *,
    protocol: str = "bachelor",
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = ("html", "pdf", "docx"),
    on_step: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> AnalysisRun:
    """Validate ``data_dir`` against ``protocol`` (bundled name or YAML path), analyse, write into ``out_dir``.

    Nothing is analysed or written when validation fails (the DataError names file, row, column and
    value). The published aggregates are compared only for synthetic BACHELOR data.

    Unit plausibility (:mod:`pmrtrial.plausibility`) runs on the tables as read: each suspicion is passed to
    ``on_warning`` at once (one line; the CLI prints it on stderr, also before a validation error) and added to
    the result's warnings, so it reaches ``results.json`` and the report's "Methods and warnings".
    """
    step = on_step or (lambda _name: None)
    proto = read_protocol(protocol)
    suspicions: list[UnitSuspicion] = []

    def inspect(_subjects: pd.DataFrame, visits: pd.DataFrame, _adverse_events: pd.DataFrame) -> None:
        for suspicion in check_visits(visits):
            suspicions.append(suspicion)
            if on_warning is not None:
                on_warning(f"visits.csv {suspicion.message}")

    step(STEPS[0])
    datasets = read_datasets(Path(data_dir), protocol=proto, inspect=inspect)
    step(STEPS[1])
    published = load_published("bachelor") if proto.id == "bachelor" else None
    result = analyse_trial(datasets, proto, published=published)
    if suspicions:
        notes = tuple(f"Unit plausibility: {s.message}" for s in suspicions)
        result = replace(result, warnings=(*notes, *result.warnings))
    step(STEPS[2])
    files = write_report(
        result, out_dir, published=published, formats=formats, enrolment=read_enrolment(Path(data_dir))
    )
    return AnalysisRun(result, files)
