"""The current study and its protocol object (parsed once per process and text)."""

from __future__ import annotations

import functools

from pmrtrial.edc.errors import NotFound
from pmrtrial.edc.sites.models import Study
from pmrtrial.protocol import Protocol, load_protocol

__all__ = ["get_protocol", "get_study"]


def get_study() -> Study:
    study = Study.objects.order_by("id").first()
    if study is None:
        raise NotFound("No study in this database. Run `pmrtrial edc init --protocol bachelor --sites N` first.")
    return study


@functools.lru_cache(maxsize=8)
def _parse(text: str) -> Protocol:
    return load_protocol(text)


def get_protocol(study: Study | None = None) -> Protocol:
    """The :class:`~pmrtrial.protocol.Protocol` the study was created from."""
    return _parse((study or get_study()).protocol_yaml)


def init_study(
    protocol_text: str, n_sites: int, *, demo: bool = False, seed: int | None = None, n_per_site: int = 40
) -> Study:
    """Create the study, its sites (01..N) and a sealed randomisation list. One study per database."""
    from django.db import transaction

    from pmrtrial.edc.audit.services import audit_changes
    from pmrtrial.edc.errors import WorkflowError
    from pmrtrial.edc.randomisation.services import create_randomisation_list
    from pmrtrial.edc.sites.models import Site

    if Study.objects.exists():
        raise WorkflowError("This database already holds a study.")
    if n_sites < 1 or n_sites > 99:
        raise WorkflowError("--sites must be between 1 and 99.")
    protocol = load_protocol(protocol_text)
    with transaction.atomic():
        study = Study.objects.create(
            protocol_id=protocol.id,
            protocol_version=protocol.version,
            protocol_yaml=protocol_text,
            title=protocol.short_title,
            demo=demo,
        )
        for i in range(1, n_sites + 1):
            Site.objects.create(study=study, code=f"{i:02d}", name=f"Centre {i:02d}")
        audit_changes(
            None,
            "create",
            "study",
            study.pk,
            {"protocol": (None, f"{protocol.id} {protocol.version}"), "sites": (None, n_sites), "demo": (None, demo)},
        )
        create_randomisation_list(study, n_per_site=n_per_site, seed=seed)
    return study
