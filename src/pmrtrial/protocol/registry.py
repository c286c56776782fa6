"""Parsing, loading and the registry of bundled protocols."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError

from pmrtrial._yaml import safe_load
from pmrtrial.exceptions import ProtocolError, ProtocolValidationError
from pmrtrial.protocol.model import Protocol
from pmrtrial.protocol.validate import validate_protocol

__all__ = [
    "ProtocolRegistry",
    "list_protocols",
    "load_example_candidates",
    "load_protocol",
    "parse_protocol",
    "read_bundled_text",
]

#: Bundled protocols: registry name -> file in pmrtrial/protocol/data/.
_BUNDLED = {
    "bachelor": "bachelor-v1.0.yaml",
    "saphyr": "saphyr-v1.0.yaml",
    "semaphore": "semaphore-v1.0.yaml",
}

#: Example candidates: protocol name -> package folder (BACHELOR's folder keeps its historical name).
_CANDIDATE_PACKAGES = {
    "bachelor": "pmrtrial.protocol.data.candidates",
    "saphyr": "pmrtrial.protocol.data.candidates_saphyr",
    "semaphore": "pmrtrial.protocol.data.candidates_semaphore",
}


def _format_pydantic(error: ValidationError) -> str:
    parts = []
    for e in error.errors()[:3]:
        loc = ".".join(str(x) for x in e["loc"]) or "(root)"
        parts.append(f"{loc}: {e['msg']} (got {e.get('input')!r})" if e["type"] != "missing" else f"{loc}: {e['msg']}")
    more = f" (+{error.error_count() - 3} more)" if error.error_count() > 3 else ""
    return "; ".join(parts) + more


def parse_protocol(source: str | Mapping[str, Any]) -> Protocol:
    """Parse a protocol from YAML text or a mapping, checking the schema only.

    Use :func:`load_protocol` to get a protocol that is also consistent (``validate_protocol``).

    Raises
    ------
    ProtocolError
        The YAML does not parse, or a field is missing, unknown or of the wrong type; the message
        names the field path.
    """
    if isinstance(source, str):
        try:
            data = safe_load(source)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise ProtocolError(f"Invalid protocol YAML{where}: {getattr(exc, 'problem', exc)}") from None
    else:
        data = source
    if not isinstance(data, Mapping):
        raise ProtocolError(f"Invalid protocol. Expected a YAML mapping at the top level. Got {type(data).__name__}.")
    try:
        return Protocol.model_validate(dict(data))
    except ValidationError as exc:
        pid = data.get("id", "?")
        raise ProtocolError(f"Invalid protocol {pid!r}: {_format_pydantic(exc)}") from None


def read_bundled_text(name: str) -> str:
    """YAML text of a bundled protocol (package data, read via importlib.resources)."""
    if name not in _BUNDLED:
        raise ProtocolError(f"Unknown protocol {name!r}. Expected one of {sorted(_BUNDLED)} or a protocol file.")
    return resources.files("pmrtrial.protocol.data").joinpath(_BUNDLED[name]).read_text(encoding="utf-8")


def load_protocol(source: str | Mapping[str, Any]) -> Protocol:
    """Return a validated protocol.

    Parameters
    ----------
    source : str or mapping
        The name of a bundled protocol (``"bachelor"``), YAML text, or a mapping. Reading a file
        is the caller's job (``pmrtrial.io.read_protocol_file``), so the core does no file I/O.

    Raises
    ------
    ProtocolError
        Unknown name or schema error.
    ProtocolValidationError
        The protocol parses but ``validate_protocol`` reports errors; a protocol that fails
        validation cannot be loaded for use.
    """
    if isinstance(source, str) and source in _BUNDLED:
        source = read_bundled_text(source)
    elif isinstance(source, str) and "\n" not in source and ":" not in source:
        raise ProtocolError(f"Unknown protocol {source!r}. Expected one of {sorted(_BUNDLED)} or a protocol file.")
    protocol = parse_protocol(source)
    errors = [i for i in validate_protocol(protocol) if i.severity == "error"]
    if errors:
        raise ProtocolValidationError(protocol.id, errors)
    return protocol


def list_protocols() -> list[str]:
    """Names of the bundled protocols."""
    return sorted(_BUNDLED)


class ProtocolRegistry:
    """An explicit registry of protocols keyed by ``(id, version)``; refuses duplicates."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Protocol] = {}

    def register(self, protocol: Protocol) -> None:
        key = (protocol.id, protocol.version)
        if key in self._items:
            raise ProtocolError(f"Protocol {protocol.id!r} version {protocol.version!r} is already registered.")
        self._items[key] = protocol

    def get(self, protocol_id: str, version: str | None = None) -> Protocol:
        matches = [p for (i, v), p in self._items.items() if i == protocol_id and (version is None or v == version)]
        if not matches:
            raise ProtocolError(
                f"No protocol {protocol_id!r}{'' if version is None else ' version ' + version} registered."
            )
        return max(matches, key=lambda p: [int(x) if x.isdigit() else x for x in p.version.split(".")])

    def __iter__(self) -> Iterator[Protocol]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    @classmethod
    def bundled(cls) -> ProtocolRegistry:
        registry = cls()
        for name in _BUNDLED:
            registry.register(load_protocol(name))
        return registry


def load_example_candidates(protocol: str = "bachelor") -> list[dict[str, Any]]:
    """The example screening candidates shipped with pmrtrial for a bundled protocol, in id order.

    BACHELOR (the default): one eligible candidate, one for each main reason for exclusion, and
    one incomplete record. SEMAPHORE and SAPHYR: one eligible and one not eligible candidate.
    Each carries ``candidate_id`` and a ``description`` of what it illustrates.
    """
    import json

    if protocol not in _CANDIDATE_PACKAGES:
        raise ProtocolError(f"No example candidates for {protocol!r}. Expected one of {sorted(_CANDIDATE_PACKAGES)}.")
    folder = resources.files(_CANDIDATE_PACKAGES[protocol])
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))
    return [json.loads(folder.joinpath(n).read_text(encoding="utf-8")) for n in names]
