"""CDISC SDTM and ADaM datasets, define.xml, Dataset-JSON and ODM built from canonical datasets (pure core).

The builders take validated canonical datasets (:class:`~pmrtrial.datasets.AnalysisDatasets`) and a
:class:`~pmrtrial.protocol.Protocol` and return :class:`CdiscPackage` objects; the files are written by
:mod:`pmrtrial.io.cdisc`. :func:`build_cdisc` runs both builders.
"""

from __future__ import annotations

from collections.abc import Sequence

from pmrtrial.cdisc.adam import TimeToEvent, build_adam, build_adtte, time_to_first_flare
from pmrtrial.cdisc.model import CdiscPackage, Codelist, DatasetMeta, VariableMeta
from pmrtrial.cdisc.sdtm import build_sdtm
from pmrtrial.datasets import AnalysisDatasets
from pmrtrial.protocol import Protocol

__all__ = [
    "CdiscPackage",
    "Codelist",
    "DatasetMeta",
    "TimeToEvent",
    "VariableMeta",
    "build_adam",
    "build_adtte",
    "build_cdisc",
    "build_sdtm",
    "time_to_first_flare",
]


def build_cdisc(
    datasets: AnalysisDatasets,
    protocol: Protocol,
    *,
    time_to_event: Sequence[TimeToEvent] | None = None,
) -> dict[str, CdiscPackage]:
    """``{"sdtm": ..., "adam": ...}`` from validated canonical datasets and the protocol.

    CM uses ``datasets.gc_doses`` and the default ADTTE uses ``datasets.flares`` when present.
    """
    sdtm = build_sdtm(datasets, protocol, gc_doses=datasets.gc_doses)
    adam = build_adam(datasets, sdtm, protocol, time_to_event=time_to_event, flares=datasets.flares)
    return {"sdtm": sdtm, "adam": adam}
