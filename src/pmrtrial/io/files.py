"""Reading inputs and writing outputs safely (atomic writes: nothing is ever half-written)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmrtrial.exceptions import DataError, ProtocolError

if TYPE_CHECKING:
    from pmrtrial.protocol import Protocol

__all__ = ["read_json", "read_protocol", "read_protocol_text", "write_json_atomic", "write_text_atomic"]


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; errors name the file, line and column."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"File not found: {p}") from None
    except OSError as exc:
        raise DataError(f"Cannot read {p}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"Invalid JSON in {p} at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def read_protocol_text(name_or_path: str) -> str:
    """YAML text of a bundled protocol name or of a protocol file."""
    from pmrtrial.protocol import list_protocols

    if name_or_path in list_protocols():
        from pmrtrial.protocol.registry import read_bundled_text

        return read_bundled_text(name_or_path)
    p = Path(name_or_path)
    if not p.exists():
        raise ProtocolError(
            f"Unknown protocol {name_or_path!r}. Expected a bundled name ({', '.join(list_protocols())}) "
            "or the path of a protocol YAML file."
        )
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProtocolError(f"Cannot read protocol file {p}: {exc.strerror}") from None


def read_protocol(name_or_path: str) -> Protocol:
    """Load and validate a bundled protocol (``"bachelor"``) or a protocol YAML file."""
    from pmrtrial.protocol import load_protocol

    return load_protocol(read_protocol_text(name_or_path))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
