"""``SalesforceConnector``: the SDK's ``RestConnector`` plus what a declaration cannot say.

* **The daily allowance**: one ``DailyAllowance`` for every operation, fed by ``Sforce-Limit-Info``;
  a 403 ``REQUEST_LIMIT_EXCEEDED`` for the daily total stops the run, one for concurrent long
  requests is retried.
* **Walks** (``walk``): a resumed walk whose query locator expired (Salesforce keeps one 15 minutes
  unused, and 10 per user) continues from the newest time it read, leaving out the ids read on it;
  a first pull whose first batch reports (``totalSize``) more than ``bulk_threshold`` records runs
  one Bulk API 2.0 ``queryAll`` job instead and reads its CSV
  result sets (``Sforce-Locator``), each a page whose cursor names the job and the locator, so a pull
  cut short resumes at the set it stopped at. Bulk results are unordered: the SDK cursor takes the
  newest ``SystemModstamp`` read as the next watermark, which is right once the whole job is read.
* **Mapping** (``to_records``): a record with ``IsDeleted = true`` (seen through ``queryAll``) becomes
  a tombstone dated by its ``SystemModstamp`` (``RecordDraft.deleted``), so it leaves the profile it
  was part of (core.retirement) and the person's other records stay; ``HasOptedOutOfEmail`` is an
  email opt-out; an opportunity becomes one order of its contact.
* **Push**: the custom fields are checked (and created) once per connector before its first batch.

The limits' answers are read in ``_limits``, the Bulk API 2.0 job and its CSV in ``_bulk``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from connectors._http import (
    ConnectorRequestError,
    DailyAllowance,
    value_at,
)
from connectors.option_numbers import decimal_share, whole_number
from connectors.sdk import (
    ClientCredentialsAuth,
    JwtBearerAuth,
    RestConnector,
    StreamState,
    accept,
    profile_to_payload,
)
from connectors.sdk._declaration import Stream
from connectors.tool_clock import answered_at, on_tool_clock
from core.connector import ConnectorPlugin, ConnectorSettings, Credential, Payload, PushOutcome, RawPage
from core.errors import ConnectorConfigError
from core.push import enriched_traits, source_ids
from core.schema import Profile, RecordDraft
from core.time_bound import TimeBound

from . import _bulk as bulk
from ._bulk import BULK_PAGE, BULK_POLLS, BULK_THRESHOLD, csv_records
from ._declaration import (
    BATCH_OPTION,
    LOGIN_URL,
    MIN_QUERY_BATCH,
    OPPORTUNITY_SOQL,
    PLACEHOLDER_BASE,
    PRIVATE_KEY,
    PUSH_FIELDS,
    QUERY_BATCH,
    STREAMS,
    declaration,
    shape,
    soql,
)
from ._limits import api_usage, busy, exhausted
from ._writes import create_fields, erase, missing_fields, send

logger = logging.getLogger(__name__)

DECLARATION: Final = declaration(send, erase)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class SalesforceConnector(RestConnector):
    """The declared Salesforce connector (see the module docstring for what it adds)."""

    def __init__(self, settings: ConnectorSettings) -> None:
        options = settings.options
        if (
            settings.transport is None
            and (settings.base_url or PLACEHOLDER_BASE).rstrip("/") == PLACEHOLDER_BASE
        ):
            raise ConnectorConfigError(
                "salesforce: the base URL must be the org's My Domain URL "
                "(https://<MyDomain>.my.salesforce.com; "
                "Setup > My Domain): pass --base-url, or the instance's base_url in profilesync.yaml"
            )
        self.currency = str(options.get("currency") or "USD").strip().upper()
        # Any negative threshold (read as -1) sends every first pull to bulk, an empty object too
        # (totalSize 0 > -1), as int() read it before option_numbers.
        self.bulk_threshold = whole_number(
            options,
            "bulk_threshold",
            connector="salesforce",
            default=BULK_THRESHOLD,
            low=-1,
            lower_reads_as_low=True,
        )
        batch = whole_number(
            options,
            BATCH_OPTION,
            connector="salesforce",
            default=QUERY_BATCH,
            low=MIN_QUERY_BATCH,
            high=QUERY_BATCH,
            meaning="records a query batch (Sforce-Query-Options batchSize)",
        )
        reserve = decimal_share(options, "api_reserve", connector="salesforce", default=0.1)
        self.allowance = DailyAllowance(
            "salesforce", api_usage, reserve=reserve, exhausted=exhausted, busy=busy
        )
        if self.currency != "MULTI" and (len(self.currency) != 3 or not self.currency.isalpha()):
            raise ConnectorConfigError(
                f"salesforce: currency {self.currency!r} is not an ISO 4217 code or 'multi'"
            )
        spec = DECLARATION
        if self.currency == "MULTI":
            spec = replace(spec, streams=tuple(_with_currency(s) for s in STREAMS))
        spec = replace(spec, auth=auth_strategy(options))
        if batch != QUERY_BATCH:
            spec = replace(
                spec,
                headers={**spec.headers, "Sforce-Query-Options": f"batchSize={batch}"},
                streams=tuple(replace(s, page_size=batch) for s in spec.streams),
            )
        super().__init__(spec, replace(settings, limiters=(*settings.limiters, self.allowance)))
        self.deleted_seen = 0
        self._fields_ready = False

    def cursor_since(self, since: datetime) -> str:
        # SOQL datetimes carry whole seconds; flooring keeps the bound inclusive.
        return super().cursor_since(since.replace(microsecond=0))

    # --- pull --------------------------------------------------------------------------------------------
    def walk(
        self, stream: Stream, state: StreamState
    ) -> Iterator[tuple[list[dict[str, Any]], StreamState, bool]]:
        if state.page is not None and state.page.startswith("bulk:"):
            yield from bulk.walk(self, stream, state)
            return
        if state.page is None and state.since is None:
            # A first pull: its first batch says how many records there are (totalSize), at no extra
            # call. Above the threshold one bulk job reads them instead (this batch is the only waste).
            # (the bound before the query: its records are as they were when it ran; and the hand-off
            # no later than Salesforce's clock when it answered, connectors.tool_clock)
            bound = TimeBound.from_now()
            answer, first = self.context.client("pull").exchange_json(
                "GET", stream.path, params=dict(stream.params)
            )
            first = first or {}
            if int(first.get("totalSize") or 0) > self.bulk_threshold:
                yield from bulk.walk(self, stream, state)
                return
            bound = on_tool_clock(bound, answer.headers, self.declaration.name)
            self.answered = answered_at(answer.headers)  # (RawPage.read: a record stamped ahead)
            emitted, state = accept(
                state, first.get("records") or [], self._key_point(stream, bound), bound.handoff
            )
            following = first.get("nextRecordsUrl")
            if first.get("done", True) or not following:
                yield emitted, state.finished(bound.handoff), True
                return
            state = replace(state, page=str(following))
            yield emitted, state, False
        yield from self._rest(stream, state)

    def _rest(
        self, stream: Stream, state: StreamState
    ) -> Iterator[tuple[list[dict[str, Any]], StreamState, bool]]:
        read_any = False
        try:
            for step in super().walk(stream, state):
                read_any = True
                yield step
        except ConnectorRequestError as exc:
            if read_any or state.page is None or exc.status not in (400, 404):
                raise
            # The query locator this walk stopped at has expired (or was released: a user keeps 10).
            # The walk is ordered by (SystemModstamp, Id), so everything before the newest time read
            # has been returned: ask again from that time, leaving out the ids already read on it.
            logger.warning(
                "salesforce: %s: the query locator expired; continuing from the watermark", stream.name
            )
            if state.high is None:
                yield from super().walk(stream, replace(state, page=None))
                return
            again = StreamState(since=state.high, skip=state.at_high, high=state.high, at_high=state.at_high)
            yield from super().walk(stream, again)

    def version_content(self, record: Any) -> Any:
        """A record as Bulk CSV and REST JSON spell it alike (``_without_attributes``), so the version
        a bulk job delivered on the watermark is not pulled again through REST."""
        return _without_attributes(record)

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        # Junk elements (not objects) stay: the SDK's mapping quarantines them one by one.
        live = [r for r in page.records if not (isinstance(r, Mapping) and r.get("IsDeleted") is True)]
        self.deleted_seen += len(page.records) - len(live)
        drafts = iter(
            super().to_records(RawPage(records=live, cursor=page.cursor, object_type=page.object_type))
        )
        out = []
        # One draft a record, in the page's order (the pull's hook dates a draft by its record's place).
        for record in page.records:
            if isinstance(record, Mapping) and record.get("IsDeleted") is True:
                out.append(self._tombstone(record, page.object_type))
                continue
            draft = next(drafts)
            if not isinstance(record, Mapping) or draft.problem:
                out.append(draft)
                continue
            update: dict[str, Any] = {}
            if record.get("HasOptedOutOfEmail") is True:
                # The checkbox has no time of its own: dated by the version that holds it, which the
                # first version seen to hold it keeps (core.consent_carry), not each later edit
                stamp = record.get("SystemModstamp")
                update["consent"] = {
                    "email": {"granted": False, "changed_at": stamp, "dated_by_record": True}
                }
            if page.object_type == "opportunity":
                update["orders"] = [self._order(record)]
            converted = converted_contact(record) if page.object_type == "lead" else None
            if converted is not None:
                # the contact she became: the lead joins that contact's person by its id, as an
                # opportunity does (and is never pushed to: Salesforce refuses an update of it)
                update["owner_type"], update["owner_id"] = "contact", converted
                # and her own address on the lead still names her (a join, an erasure request)
                update["same_person_as_owner"] = True
            out.append(draft.model_copy(update=update) if update else draft)
        return out

    @staticmethod
    def _tombstone(record: Mapping[str, Any], object_type: str) -> RecordDraft:
        """A record in the Recycle Bin: deleted at its ``SystemModstamp`` (the delete stamps it)."""
        return RecordDraft(
            source="salesforce",
            object_type=object_type,
            source_id=record.get("Id") or "",
            updated_at=record.get("SystemModstamp"),
            deleted=True,
        )

    def _order(self, opportunity: Mapping[str, Any]) -> dict[str, Any]:
        status = (
            "paid"
            if opportunity.get("IsWon") is True
            else "cancelled"
            if opportunity.get("IsClosed") is True
            else "pending"
        )
        currency = opportunity.get("CurrencyIsoCode") if self.currency == "MULTI" else self.currency
        return {
            "id": str(opportunity.get("Id") or ""),
            "total": _decimal(opportunity.get("Amount")),
            "currency": currency,
            "created_at": opportunity.get("CloseDate"),
            "status": status,
        }

    # --- push ----------------------------------------------------------------------------------------------
    def from_profile(self, profile: Profile) -> Payload | None:
        """Update the person's Contacts (else Leads) by id, or create a Contact (needs an email)."""
        push = self.declaration.push
        assert push is not None
        payload = profile_to_payload(self.declaration.name, push, profile)
        contacts = source_ids(profile, "salesforce", "contact")
        known = contacts + source_ids(profile, "salesforce", "lead")
        if not contacts and any(i.value.startswith(_CONTACT_KEY) for i in profile.identifiers):
            # A lead converted into a contact not pulled yet (it names the contact, ``to_records``):
            # Salesforce refuses an update of a converted lead; the contact's own pull pushes her.
            return None
        if not known and source_ids(profile, "salesforce"):
            # Only child records (opportunities) of a person Salesforce holds: they join their contact by
            # ContactId, so their contact is not here only while it was quarantined or not pulled yet.
            # Creating a contact here would duplicate that person.
            return None
        if payload is None and known:
            traits = enriched_traits(profile)
            properties = {name: traits.get(trait, "") for name, trait in push.properties.items()}
            payload = Payload(profile.customer_id, known[0], shape(profile, "", properties))
        if payload is None:
            return None
        return replace(payload, group="update" if "update" in payload.body else "create")

    def push(self, payloads: Any) -> list[PushOutcome]:
        if payloads and not self._fields_ready:
            missing = missing_fields(self.context)
            if missing:
                create_fields(self.context, missing)
            self._fields_ready = True
        return super().push(payloads)


#: A Salesforce contact's source key, up to its id: what a converted lead or an opportunity names.
_CONTACT_KEY: Final = "salesforce:contact:"


def converted_contact(lead: Mapping[str, Any]) -> str | None:
    """The Contact a converted Lead became (``IsConverted`` and ``ConvertedContactId``: convertLead()
    into a new or an existing contact); None for an open lead. A converted lead is read-only ("you
    can only reference the convertedAccountId or convertedContactId fields")."""
    contact = lead.get("ConvertedContactId")
    if lead.get("IsConverted") is True and isinstance(contact, str) and contact:
        return contact
    return None


def auth_strategy(options: Mapping[str, str]) -> ClientCredentialsAuth | JwtBearerAuth:
    """The OAuth flow of an instance (``auth_flow``): the connected app's client credentials, or a JWT
    bearer assertion signed with the key of the app's certificate, for the user ``username``."""
    flow = str(options.get("auth_flow") or "client_credentials").strip().lower()
    declared = DECLARATION.auth
    assert isinstance(declared, ClientCredentialsAuth)
    if flow == "client_credentials":
        return declared
    if flow != "jwt_bearer":
        raise ConnectorConfigError(
            f"salesforce: auth_flow {flow!r} is neither client_credentials nor jwt_bearer"
        )
    username = str(options.get("username") or "").strip()
    if not username:
        raise ConnectorConfigError(
            "salesforce: auth_flow jwt_bearer acts as a Salesforce user: set the username option "
            "(a user pre-authorized for the connected app)"
        )
    return JwtBearerAuth(
        client_id=declared.client_id,
        private_key=Credential(PRIVATE_KEY, "the PEM of the key whose certificate the connected app holds"),
        token_path=declared.token_path,
        username=username,
        audience=str(options.get("login_url") or LOGIN_URL),
    )


def _with_currency(stream: Stream) -> Stream:
    if stream.name != "opportunities":
        return stream
    fields = (*OPPORTUNITY_SOQL, "CurrencyIsoCode")
    assert stream.incremental is not None
    return replace(
        stream,
        params={"q": soql("Opportunity", fields, ["ContactId != null"])},
        incremental=replace(
            stream.incremental,
            since_params={"q": soql("Opportunity", fields, ["ContactId != null"], since=True)},
        ),
    )


def build(settings: ConnectorSettings) -> SalesforceConnector:
    return SalesforceConnector(settings)


def make_plugin(sandbox: Callable[..., Any] | None) -> ConnectorPlugin:
    return ConnectorPlugin(spec=DECLARATION.connector_spec(), build=build, sandbox=sandbox)


def _without_attributes(value: Any) -> Any:
    """What Bulk CSV and REST JSON say alike of a record: no ``attributes``, no null fields (CSV
    leaves a null nested field out), numbers as numbers (CSV writes ``17272.43`` as text)."""
    if isinstance(value, Mapping):
        return {k: _without_attributes(v) for k, v in value.items() if k != "attributes" and v is not None}
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | str):
        try:
            return repr(float(value))
        except ValueError:
            return value
    return value


__all__ = [
    "BULK_PAGE",
    "BULK_POLLS",
    "BULK_THRESHOLD",
    "DECLARATION",
    "PUSH_FIELDS",
    "SalesforceConnector",
    "api_usage",
    "build",
    "busy",
    "csv_records",
    "exhausted",
    "make_plugin",
    "value_at",
]
