"""The messages the functions receive and send, as pydantic models.

* ``PullEvent``: what a schedule (or a pull handing over to its continuation) invokes pull with.
* ``IngestMessage``: one SQS message of the ingest queue: normalised records of one pull run.
* ``StreamChange``: the part of a DynamoDB stream record push needs (which customer changed).
* ``PrivacyRequest``: an erase or export request for one person.

Every model forbids unknown fields, so a typo in a schedule's input or a message from another
version fails loudly instead of being half understood.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.schema import Identifier, SourceDeletion, SourceRecord

#: The version of the ingest message format; merge refuses messages of another version.
INGEST_MESSAGE_VERSION = 1


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PullEvent(_Message):
    """``{"connector": "hubspot"}`` from a schedule; a continuation adds its run id and hop number."""

    connector: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    run_id: str | None = Field(default=None, min_length=1, max_length=128)
    continuation: bool = False
    hop: int = Field(default=0, ge=0)
    full_refresh: bool = False
    """Ignore the saved cursor: a full refresh, which, completed in this one invocation, retires
    the stored records it did not list (core.refresh_sweep)."""
    allow_mass_retirement: bool = False
    """Let that sweep retire more than the guard allows (core.refresh_sweep.SweepGuard)."""

    @model_validator(mode="after")
    def _continuation_has_run(self) -> PullEvent:
        if self.continuation and self.run_id is None:
            raise ValueError("a continuation must carry the run_id of the run it continues")
        return self

    def next_hop(self, run_id: str) -> PullEvent:
        """The event that continues this run in a fresh invocation."""
        return PullEvent(connector=self.connector, run_id=run_id, continuation=True, hop=self.hop + 1)


class IngestMessage(_Message):
    """``{"v": 1, "connector": ..., "run_id": ..., "records": [SourceRecord, ...]}``.

    Pull writes the JSON itself (see ``ingest_envelope``) to pack records up to the size limit
    without serialising twice; this model is the reader's side and the format's definition.
    ``deletions`` (optional, so earlier messages still read) are the records the tool reported
    deleted (core.retirement); pull sends them in messages of their own, ``records`` empty.
    """

    v: Literal[1] = 1
    connector: str
    run_id: str
    records: tuple[SourceRecord, ...]
    deletions: tuple[SourceDeletion, ...] = ()


def ingest_envelope(connector: str, run_id: str) -> tuple[str, str]:
    """The text before and after the records of an ingest message: prefix + ",".join(records) + suffix."""
    prefix = (
        f'{{"v":{INGEST_MESSAGE_VERSION},"connector":{json.dumps(connector)},'
        f'"run_id":{json.dumps(run_id)},"records":['
    )
    return prefix, "]}"


def deletions_envelope(connector: str, run_id: str) -> tuple[str, str]:
    """The text before and after the deletions of an ingest message that carries deletions only."""
    prefix, _ = ingest_envelope(connector, run_id)
    return prefix + '],"deletions":[', "]}"


class _AttributeS(_Message):
    model_config = ConfigDict(extra="ignore", frozen=True)
    s: str = Field(alias="S")


class _StreamKeys(_Message):
    model_config = ConfigDict(extra="ignore", frozen=True)
    pk: _AttributeS = Field(alias="PK")
    sk: _AttributeS = Field(alias="SK")


class _StreamData(_Message):
    model_config = ConfigDict(extra="ignore", frozen=True)
    keys: _StreamKeys = Field(alias="Keys")
    sequence_number: str = Field(alias="SequenceNumber")


class StreamChange(_Message):
    """One DynamoDB stream record, reduced to what push needs: which item changed and how."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_name: Literal["INSERT", "MODIFY", "REMOVE"] = Field(alias="eventName")
    dynamodb: _StreamData

    @property
    def customer_id(self) -> str | None:
        """The customer whose PROFILE item changed; None for any other item."""
        pk, sk = self.dynamodb.keys.pk.s, self.dynamodb.keys.sk.s
        if sk != "PROFILE" or not pk.startswith("CUSTOMER#"):
            return None
        return pk[len("CUSTOMER#") :]

    @property
    def sequence_number(self) -> str:
        return self.dynamodb.sequence_number


class PrivacyRequest(_Message):
    """``{"action": "erase" | "export" | "unsuppress", "email": ...}`` or with ``"phone"`` (and
    ``"region"``) or ``"source"`` (a record id); ``{"action": "erase-retry"}`` names nobody (it
    asks the tools again for every erasure they have not confirmed); ``{"action": "split",
    "event_id": "merge:...", "requested_by": ...}`` undoes the merge a history event records
    (core.governance.unmerge).

    ``request_id`` is the caller's reference (a ticket number), kept in the audit record; the
    invocation's own request id is used when it is missing. ``requested_by`` names who asked (an
    IAM principal ARN, a DPO's name): Lambda does not tell a function who invoked it, so the caller
    says; the audit record keeps it with the invocation's id, which CloudTrail's data events tie to
    the IAM principal that made the call.
    """

    action: Literal["erase", "export", "erase-retry", "unsuppress", "split"]
    email: str | None = Field(default=None, min_length=1, max_length=320)
    phone: str | None = Field(default=None, min_length=1, max_length=64)
    source: str | None = Field(default=None, min_length=5, max_length=512)
    """The id of one of the person's records, ``<tool>:<object type>:<id>`` (``hubspot:contact:123``):
    names a person whose email or phone several people hold (core.person_scope)."""
    request_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    region: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    """Where a phone number without a country code is from (ISO 3166 alpha-2), as pull assumes."""
    requested_by: str | None = Field(default=None, min_length=1, max_length=256)
    event_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    """``split``: the id of the merge event to undo (``merge:<customer id>:<hash>``, from the history)."""

    @model_validator(mode="after")
    def _one_identifier(self) -> PrivacyRequest:
        named = [v for v in (self.email, self.phone, self.source) if v is not None]
        if self.action == "split":
            if self.event_id is None or named:
                raise ValueError("split names a merge event (event_id), not a person")
            if self.requested_by is None:
                raise ValueError("split needs requested_by: undoing a merge is an audited decision")
        elif self.event_id is not None:
            raise ValueError("event_id is for split only")
        elif self.action == "erase-retry":
            if named:
                raise ValueError("erase-retry names nobody: it asks again for every pending erasure")
        elif len(named) != 1:
            raise ValueError("give exactly one of email, phone or source")
        return self

    def identifier(self) -> Identifier:
        """The normalised identifier; raises ValueError (never quoting the value) if it is malformed."""
        from core.privacy import identifier_for

        return identifier_for(email=self.email, phone=self.phone, region=self.region, source=self.source)


__all__ = [
    "INGEST_MESSAGE_VERSION",
    "IngestMessage",
    "PrivacyRequest",
    "PullEvent",
    "StreamChange",
    "deletions_envelope",
    "ingest_envelope",
]


def lambda_stream_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stream record as boto3's GetRecords returns it, in the shape of a Lambda event record:
    boto3 parses timestamps, Lambda's event carries epoch seconds (and strings everywhere else)."""
    loaded: dict[str, Any] = json.loads(json.dumps(record, default=lambda v: v.timestamp()))
    return loaded
