"""The current study and its protocol object (parsed once per process and text)."""

from __future__ import annotations

import functools
from typing import Any

from pmrtrial.edc.errors import NotFound
from pmrtrial.edc.sites.models import Study
from pmrtrial.protocol import Protocol, load_protocol

__all__ = ["get_protocol", "get_study"]


_NO_STUDY = "No study in this database. Run `pmrtrial edc init --protocol bachelor --sites N` first."


def get_study() -> Study:
    study = Study.objects.order_by("id").first()
    if study is None:
        raise NotFound(_NO_STUDY)
    return study


@functools.lru_cache(maxsize=8)
def _parse(text: str) -> Protocol:
    return load_protocol(text)


#: Parsed protocols by (database, study pk, created_at, protocol id, version). A study's protocol
#: text is stored verbatim at ``init`` and never changes, so each process parses it once and later
#: requests need not read the (large) ``protocol_yaml`` column at all.
_PROTOCOLS: dict[tuple[Any, ...], Protocol] = {}


def get_protocol(study: Study | None = None) -> Protocol:
    """The :class:`~pmrtrial.protocol.Protocol` the study was created from (cached per process).

    ``study`` may have ``protocol_yaml`` deferred: the text is read only on a cache miss.
    """
    from django.db import connection

    if study is None:
        study = Study.objects.only("id", "created_at", "protocol_id", "protocol_version").order_by("id").first()
        if study is None:
            raise NotFound(_NO_STUDY)
    key = (
        connection.settings_dict.get("NAME"),
        study.pk,
        study.created_at,
        study.protocol_id,
        study.protocol_version,
    )
    protocol = _PROTOCOLS.get(key)
    if protocol is None:
        protocol = _parse(study.protocol_yaml)  # loads the deferred column once
        if len(_PROTOCOLS) >= 16:
            _PROTOCOLS.clear()
        _PROTOCOLS[key] = protocol
    return protocol
