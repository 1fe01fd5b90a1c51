"""Typed errors. Every message says what was wrong and what to do about it."""

from __future__ import annotations

from collections.abc import Iterable


class ProfileSyncError(Exception):
    """Base class of every error profilesync raises on purpose."""


class NormalisationError(ProfileSyncError, ValueError):
    """A single value could not be normalised; ``reason`` is short and readable by a person."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class RetryableError(ProfileSyncError):
    """A transient failure: the same call may succeed later (throttling, 5xx, timeouts)."""


class ConflictError(RetryableError):
    """A conditional write lost a race with another writer; re-read and plan again."""


class RecordRejectedError(ProfileSyncError, ValueError):
    """The store refused to write a record as invalid (an item over 400 KB, a key over its limit, a
    transaction over 4 MB): the data is at fault, not the service, so retrying cannot help. The
    record is quarantined with this message; the rest of its batch is written.

    ``written`` names, by label, the changesets of the refused commit that were written all the
    same: DynamoDB's commit spans several transactions, and sends the other changesets of a refused
    one alone; the embedded store's commit is one transaction and writes none (empty). ``ingest``
    counts them as stored (core.ingest_settings.PartialIngest)."""

    def __init__(self, message: str, written: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.written = frozenset(written)


class ConnectorConfigError(ProfileSyncError):
    """A connector is configured wrongly (missing credential, bad URL, unknown option)."""


class InputError(ProfileSyncError):
    """Input cannot be read at all (missing file, not JSON lines, wrong encoding)."""


class StoreLayoutError(ProfileSyncError):
    """The table does not look like the profilesync layout (wrong key schema, missing table)."""


class SaltMismatchError(ProfileSyncError, ValueError):
    """The audit salt a store or command was given is not the one the table's keys are made with
    (core.storage.ident_keys): the message names the parameter to set."""


class StoreUnavailableError(ProfileSyncError):
    """The embedded store's file failed under a run: its disk is full, it became read-only, it is
    damaged, or another process held its lock too long. Nothing half-written is kept (each write is
    all or nothing); the message names the file and what to do before running again."""


class ConfigurationError(ProfileSyncError):
    """The configuration document (connector instances, schedules, sections) is malformed or names
    something that does not exist; the message names the file, the entry and the fix."""
