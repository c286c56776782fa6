# ruff: noqa: RUF012  (Django Meta/Migration class attributes are lists by convention)
"""The audit trail: append-only entries chained by SHA-256 hashes."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit entry through the ORM."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("The audit trail is append-only: entries cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("The audit trail is append-only: entries cannot be deleted.")


class AuditEntry(models.Model):
    """One audited fact: who, when, which record and field, old -> new, and why.

    ``seq`` is contiguous from 1; ``entry_hash`` = SHA-256 of the entry's content and the
    previous entry's hash, so a changed, removed or inserted entry breaks the chain.
    ``restricted`` entries (allocation secrets, unblinding reveals) are visible to unblinded roles only.
    """

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=32)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    site_code = models.CharField(max_length=16, blank=True, default="")
    participant = models.CharField(max_length=32, blank=True, default="")
    field = models.CharField(max_length=128, blank=True, default="")
    old_value = models.TextField(blank=True, default="")
    new_value = models.TextField(blank=True, default="")
    reason = models.TextField(blank=True, default="")
    restricted = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["participant"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The audit trail is append-only: entries cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("The audit trail is append-only: entries cannot be deleted.")


class AuditHead(models.Model):
    """The chain's head (one row): the last sequence number and hash. Locked to append."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
