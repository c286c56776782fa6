"""Synthetic twins of published trials: subject-level data consistent with the published aggregates.

SYNTHETIC — not trial data. :func:`generate_bachelor_twin` builds the BACHELOR twin (34 participants, 6 centres):
the canonical ``subjects``, ``visits`` and ``adverse_events`` datasets plus a :class:`TwinReport` that lists
every published figure, the twin's value and its status (exact, within printed precision, or a documented
conflict of the publication with itself).
"""

from __future__ import annotations

from pmrtrial.published import PrintedNumber, load_bachelor_published, published_text
from pmrtrial.synth.bachelor import ARMS, SUBJECT_ID_PREFIX, TwinResult, generate_bachelor_twin
from pmrtrial.synth.report import SYNTHETIC_LABEL, TwinCheck, TwinReport, build_twin_report, derive_visit_scores

__all__ = [
    "ARMS",
    "SUBJECT_ID_PREFIX",
    "SYNTHETIC_LABEL",
    "PrintedNumber",
    "TwinCheck",
    "TwinReport",
    "TwinResult",
    "build_twin_report",
    "derive_visit_scores",
    "generate_bachelor_twin",
    "load_bachelor_published",
    "published_text",
]
