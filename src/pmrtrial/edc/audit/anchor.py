"""The audit chain's key and its external anchor: two small files kept outside the database.

- The **key** (``<db>.audit-key``): 32 random bytes (hex) keying the chain's HMAC-SHA256. Without it
  nobody can recompute a valid chain after editing an entry, even with the whole database in hand.
- The **anchor** (``<db>.audit-anchor``): an append-only text file with one line ``<seq> <hash>`` per
  committed transaction that appended to the trail, written after the commit (``on_commit``) with
  ``O_APPEND``, an exclusive ``flock`` and ``fsync``. Deleting the last entries and moving the head back
  inside the database leaves the anchor ahead of the chain: verification reports the rewind.

The line is the head read back after the commit (one line however many entries the transaction
appended; entries of a savepoint rolled back are not in it), so it always names a committed entry.
Concurrent writers may append their lines out of order (each writes after its own commit) and a
crash between commit and append leaves the anchor one head behind: verification therefore accepts
any anchor whose lines all match the chain and whose highest ``seq`` is at most the chain's head.
A torn last line (crash during the write) does not parse and is skipped.

Both files are created with owner-only permissions (0600). Where they live: see
:func:`pmrtrial.edc.conf.audit_side_files` (``PMRTRIAL_EDC_AUDIT_KEY``, ``PMRTRIAL_EDC_AUDIT_ANCHOR``,
``PMRTRIAL_EDC_AUDIT_DIR``). What an anchor cannot do: an attacker who can also truncate the anchor
file and holds the key can rewrite history; keep the key readable by the server account only, and
copy the anchor off the machine (it is append-only text) for a stronger guarantee.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from pmrtrial.edc.errors import EdcError

__all__ = ["AnchorLine", "AuditKeyMissing", "append_anchor", "create_side_files", "read_anchor", "read_key"]

_LINE = re.compile(r"^(\d+) ([0-9a-f]{64})$")
_KEYS: dict[str, bytes] = {}
_GUARD = threading.Lock()


class AuditKeyMissing(EdcError):
    """The audit key file is absent while the trail already has entries (restore it; never regenerate it)."""


@dataclass(frozen=True)
class AnchorLine:
    seq: int
    entry_hash: str


def _create_0600(path: Path, content: str) -> bool:
    """Create ``path`` with ``content`` and mode 0600; False when it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    return True


def create_side_files(key_path: Path, anchor_path: Path) -> list[Path]:
    """Create the key (random) and an empty anchor, owner-only, when absent; return the files created."""
    created = []
    if _create_0600(key_path, secrets.token_hex(32) + "\n"):
        created.append(key_path)
    if _create_0600(anchor_path, ""):
        created.append(anchor_path)
    return created


def read_key(key_path: Path, *, create_if_missing: bool) -> bytes:
    """The HMAC key at ``key_path`` (cached per path). Created when missing only if ``create_if_missing``."""
    name = str(key_path)
    with _GUARD:
        if name in _KEYS and key_path.exists():
            return _KEYS[name]
    if not key_path.exists():
        if not create_if_missing:
            raise AuditKeyMissing(
                f"The audit key {key_path} is missing: restore it from the backup of this database "
                "(a new key cannot verify the existing trail)."
            )
        _create_0600(key_path, secrets.token_hex(32) + "\n")
    text = key_path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise AuditKeyMissing(f"The audit key {key_path} is not a hex key.") from None
    if len(key) < 16:
        raise AuditKeyMissing(f"The audit key {key_path} is too short ({len(key)} bytes; at least 16).")
    with _GUARD:
        _KEYS[name] = key
    return key


def append_anchor(anchor_path: Path, seq: int, entry_hash: str) -> None:
    """Append ``<seq> <hash>`` to the anchor (O_APPEND, exclusive flock, fsync)."""
    anchor_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(anchor_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            os.write(fd, f"{seq} {entry_hash}\n".encode("ascii"))
            os.fsync(fd)
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def read_anchor(anchor_path: Path) -> tuple[list[AnchorLine], int]:
    """The anchor's well-formed lines and the number of lines skipped (torn or foreign)."""
    lines: list[AnchorLine] = []
    skipped = 0
    for raw in anchor_path.read_text(encoding="ascii", errors="replace").splitlines():
        if not raw.strip():
            continue
        m = _LINE.match(raw.strip())
        if m is None:
            skipped += 1
            continue
        lines.append(AnchorLine(int(m.group(1)), m.group(2)))
    return lines, skipped
