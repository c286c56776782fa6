"""Study set-up: the study, its sites and its sealed randomisation list, in one transaction.

Lives above :mod:`pmrtrial.edc.sites.services` and :mod:`pmrtrial.edc.randomisation.services` (which itself reads
the study through the sites services), so neither of those imports the other in a circle.
"""

from __future__ import annotations

from pmrtrial.edc.sites.models import Study
from pmrtrial.protocol import load_protocol

__all__ = ["init_study"]


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
