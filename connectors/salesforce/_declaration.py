"""Salesforce, declared with the connector SDK: Contacts, Leads and Opportunities in, traits out, erase.

Vendor facts, each from Salesforce's own documentation (REST API Developer Guide, Bulk API 2.0 and
Bulk API Developer Guide, Tooling API, Object Reference, App Limits Cheatsheet, Spring '26):

* **Version** ``v66.0`` (Spring '26); every resource lives under ``/services/data/v66.0``.
* **Auth**: the OAuth 2.0 client credentials flow of a connected (or external client) app, for
  server-to-server integrations: ``POST https://MyDomainName.my.salesforce.com/services/oauth2/token``
  with ``grant_type=client_credentials``, ``client_id`` and ``client_secret``; the answer carries
  ``access_token`` and ``instance_url`` (Connect REST API quick start, "Connect to Connect REST API
  Using OAuth"). The flow works on the org's My Domain only, so the base URL is the My Domain URL.
  There is no ``expires_in``: a session ends by the org's timeout policy, and the API then answers
  401 ``[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]`` ("Status
  Codes and Error Responses"), on which the token is fetched again once.
* **Errors**: a JSON array ``[{"message", "errorCode", "fields"}]``; 400 malformed (``MALFORMED_QUERY``,
  ``INVALID_FIELD``), 401 session, 403 refused (``REQUEST_LIMIT_EXCEEDED`` when the org's API limits
  are exceeded), 404 ``NOT_FOUND``, 500/503 server side.
* **Limits** ("API Request Limits and Allocations"): no per-second rate; a total allocation per
  rolling 24 hours per org (Enterprise: 100,000 + 1,000 per user license), reported on every REST
  answer as ``Sforce-Limit-Info: api-usage=18/5000`` ("Limit Info Header"); exceeding it answers 403
  ``REQUEST_LIMIT_EXCEEDED`` ("TotalRequests Limit exceeded."). Concurrent requests lasting 20 s or
  more are limited to 25 per production org (5 for Developer Edition), answered with the same code
  ("ConcurrentPerOrgLongTxn Limit exceeded."), which passes when the long requests end: retried.
  The connector stops a run while ``api_reserve`` (10%) of the allocation is left
  (``connectors._http.DailyAllowance``): other integrations of the org keep working.
* **Query** (``GET .../query?q=SOQL``, "Query"): up to 2,000 records a batch (``Sforce-Query-Options:
  batchSize=200..2000`` asks for fewer), ``{"totalSize", "done", "nextRecordsUrl", "records"}``, each
  record with ``attributes {type, url}``; the next batch is ``GET nextRecordsUrl`` (a query locator,
  "Query More Results"). ``queryAll`` ("QueryAll") returns deleted (``IsDeleted = true``) and archived
  records too, which is how deletions are seen. An invalid query answers 400 ``MALFORMED_QUERY``; a
  locator that expired (15 minutes unused) 400 ``INVALID_QUERY_LOCATOR``.
* **Incremental**: every object has ``SystemModstamp`` (changed by users *and* by automation, unlike
  ``LastModifiedDate``); the walk asks ``WHERE SystemModstamp >= <w> ORDER BY SystemModstamp, Id``
  (inclusive: the cursor drops the ids it already has on ``w``). SOQL datetimes are unquoted
  ``2026-01-02T03:04:05Z``.
* **Bulk API 2.0 query** ("Bulk API 2.0 and Bulk API Developer Guide", API 47.0+): ``POST
  .../jobs/query`` ``{"operation": "queryAll", "query": ...}`` answers ``state: UploadComplete``; ``GET
  .../jobs/query/{id}`` until ``JobComplete`` (or ``Failed``/``Aborted``); ``GET .../results
  ?maxRecords=N&locator=L`` answers CSV with ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (the
  string ``null`` after the last set). A first pull of more than ``bulk_threshold`` records of a
  stream goes this way (one job instead of one request per 2,000 records).
* **Orders**: won Opportunities are the orders (see ``OPPORTUNITY_FIELDS``). Orders (the ``Order``
  object) must be enabled per org and are rare in CRM-led businesses; every Sales Cloud org has
  Opportunities. ``Opportunity.ContactId`` (API 46.0+) is the primary contact; opportunities with no
  contact are account deals, not a person's, and are not pulled. ``IsWon`` -> paid, closed and not won
  -> cancelled, open -> pending; ``Amount`` in the org's currency (``currency`` option) or the
  record's ``CurrencyIsoCode`` in multi-currency orgs (``currency=multi``).
* **Push** (sObject Collections): known people are updated by record id with ``PATCH
  .../composite/sobjects`` (up to 200 records of any type, ``allOrNone: false``, one result per
  record, in order); people Salesforce does not hold yet are created with the upsert on the external id
  ``ProfileSync_Customer_Id__c`` (``PATCH .../composite/sobjects/Contact/ProfileSync_Customer_Id__c``,
  up to 200, which "supports only external ids, not record ids"), so a create sent twice creates once.
* **Custom fields**: created on Contact and Lead through the Tooling API when missing (``GET
  .../sobjects/{Object}/describe`` to list, ``POST .../tooling/composite`` with ``CustomField``
  subrequests, up to 25, counting as one call). Field-level security is not part of a field created
  this way: the integration user needs a permission set granting edit on the ``ProfileSync_*`` fields
  (docs/connectors.md, "Salesforce").
* **Erase**: the Contacts and Leads with the email (``SELECT Id ... WHERE Email IN (...)``, which is
  case-insensitive) are deleted with ``DELETE .../composite/sobjects?ids=...&allOrNone=false`` (up to
  200 ids). Deleted records stay in the Recycle Bin for 15 days before Salesforce purges them; the
  person's Opportunities stay (they are the account's deals), their contact role going with the
  contact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from connectors.sdk import (
    ClientCredentialsAuth,
    FieldMap,
    Incremental,
    NextUrlPaging,
    OwnerLink,
    PushMap,
    RestConnectorSpec,
    Stream,
)
from core.connector import Credential
from core.push import primary_email
from core.schema import Profile

API_VERSION: Final = "v66.0"
DATA: Final = f"/services/data/{API_VERSION}"
QUERY: Final = f"{DATA}/query"
QUERY_ALL: Final = f"{DATA}/queryAll"
TOKEN_PATH: Final = "/services/oauth2/token"
#: The base URL is the org's My Domain; this placeholder is refused outside tests (see _connector).
PLACEHOLDER_BASE: Final = "https://mydomainname.my.salesforce.com"
CLIENT_ID: Final = "salesforce_client_id"
CLIENT_SECRET: Final = "salesforce_client_secret"
#: The JWT bearer flow's secret: the PEM of the key whose certificate the connected app holds.
PRIVATE_KEY: Final = "salesforce_private_key"
#: Where a JWT assertion is addressed (``aud``) unless the ``login_url`` option says otherwise.
LOGIN_URL: Final = "https://login.salesforce.com"
QUERY_BATCH: Final = 2000
#: The fewest a query batch may ask for (``batchSize``: 200 to 2,000), with the option naming it.
MIN_QUERY_BATCH: Final = 200
BATCH_OPTION: Final = "batch_size"
PUSH_BATCH: Final = 200
EXTERNAL_ID: Final = "ProfileSync_Customer_Id__c"

CONTACT_SOQL: Final = (
    "Id",
    "IsDeleted",
    "SystemModstamp",
    "Email",
    "Phone",
    "MobilePhone",
    "FirstName",
    "LastName",
    "Title",
    "MailingCity",
    "MailingState",
    "MailingPostalCode",
    "MailingCountry",
    "HasOptedOutOfEmail",
)
LEAD_SOQL: Final = (
    "Id",
    "IsDeleted",
    "SystemModstamp",
    "Email",
    "Phone",
    "MobilePhone",
    "FirstName",
    "LastName",
    "Title",
    "Company",
    "City",
    "State",
    "PostalCode",
    "Country",
    "HasOptedOutOfEmail",
    "IsConverted",
    "ConvertedContactId",
)
OPPORTUNITY_SOQL: Final = (
    "Id",
    "IsDeleted",
    "SystemModstamp",
    "Amount",
    "CloseDate",
    "IsClosed",
    "IsWon",
    "ContactId",
    "Contact.Email",
    "Contact.Phone",
    "Contact.MobilePhone",
)


def soql(sobject: str, fields: Sequence[str], where: Sequence[str] = (), *, since: bool = False) -> str:
    """One stream's SOQL: ``{since}`` stands for the walk's lower bound when ``since`` is set."""
    clauses = [*where, *(["SystemModstamp >= {since}"] if since else [])]
    condition = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT {', '.join(fields)} FROM {sobject}{condition} ORDER BY SystemModstamp ASC, Id ASC"


def _stream(name: str, sobject: str, fields: Sequence[str], field_map: FieldMap, *where: str) -> Stream:
    return Stream(
        name=name,
        path=QUERY_ALL,
        records_path="records",
        primary_key="Id",
        object_type=sobject.lower(),
        paging=NextUrlPaging("nextRecordsUrl"),
        page_size=QUERY_BATCH,
        params={"q": soql(sobject, fields, where)},
        incremental=Incremental(
            "SystemModstamp", {"q": soql(sobject, fields, where, since=True)}, strict=False
        ),
        fields=field_map,
    )


CONTACT_FIELDS = FieldMap(
    updated_at="SystemModstamp",
    emails=("Email",),
    phones=("Phone", "MobilePhone"),
    traits={
        "first_name": "FirstName",
        "last_name": "LastName",
        "job_title": "Title",
        "city": "MailingCity",
        "region": "MailingState",
        "postal_code": "MailingPostalCode",
        "country": "MailingCountry",
    },
)
LEAD_FIELDS = FieldMap(
    updated_at="SystemModstamp",
    emails=("Email",),
    phones=("Phone", "MobilePhone"),
    traits={
        "first_name": "FirstName",
        "last_name": "LastName",
        "job_title": "Title",
        "company": "Company",
        "city": "City",
        "region": "State",
        "postal_code": "PostalCode",
        "country": "Country",
    },
)
#: An opportunity is a child of its primary contact: it joins the contact's profile by ``ContactId``
#: (``owner_key``), never by the contact's email, so a contact with many deals is one person and not
#: many holders of one address (which the email guardrail then refused: 12 won deals made 13 profiles).
OPPORTUNITY_FIELDS = FieldMap(
    updated_at="SystemModstamp",
    emails=("Contact.Email",),
    phones=("Contact.Phone", "Contact.MobilePhone"),
    owner=OwnerLink(object_type="contact", id_path="ContactId"),
)

STREAMS: Final = (
    _stream("contacts", "Contact", CONTACT_SOQL, CONTACT_FIELDS),
    _stream("leads", "Lead", LEAD_SOQL, LEAD_FIELDS),
    _stream("opportunities", "Opportunity", OPPORTUNITY_SOQL, OPPORTUNITY_FIELDS, "ContactId != null"),
)


def owner_key(opportunity: Mapping[str, Any]) -> str | None:
    """The source key of the person an opportunity belongs to (``salesforce:contact:<ContactId>``)."""
    contact = opportunity.get("ContactId")
    return f"salesforce:contact:{contact}" if isinstance(contact, str) and contact else None


# --- push ---------------------------------------------------------------------------------------------
#: Enriched trait -> (custom field API name, Tooling API metadata of the field).
PUSH_FIELDS: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "customer_id": (
        EXTERNAL_ID,
        {
            "label": "ProfileSync Customer Id",
            "type": "Text",
            "length": 64,
            "externalId": True,
            "unique": True,
        },
    ),
    "lifetime_value": (
        "ProfileSync_Lifetime_Value__c",
        {"label": "ProfileSync Lifetime Value", "type": "Number", "precision": 18, "scale": 2},
    ),
    "lifetime_value_currency": (
        "ProfileSync_Currency__c",
        {"label": "ProfileSync Currency", "type": "Text", "length": 3},
    ),
    "order_count": (
        "ProfileSync_Order_Count__c",
        {"label": "ProfileSync Order Count", "type": "Number", "precision": 9, "scale": 0},
    ),
    "average_order_value": (
        "ProfileSync_Average_Order_Value__c",
        {"label": "ProfileSync Average Order Value", "type": "Number", "precision": 18, "scale": 2},
    ),
    "last_order_at": ("ProfileSync_Last_Order__c", {"label": "ProfileSync Last Order", "type": "Date"}),
    "segment": ("ProfileSync_Segment__c", {"label": "ProfileSync Segment", "type": "Text", "length": 40}),
}
NUMBER_FIELDS: Final = frozenset(name for name, meta in PUSH_FIELDS.values() if meta["type"] == "Number")
#: The objects that carry the fields: people are updated where they are, created as Contacts.
PUSH_OBJECTS: Final = ("Contact", "Lead")


def field_value(name: str, text: str) -> Any:
    """An enriched trait (text) as the field's JSON value: numbers for Number fields, null for empty."""
    if not text:
        return None
    if name in NUMBER_FIELDS:
        # JSON has one number type; Salesforce stores Number(18, 2) from it exactly at this scale.
        return int(text) if text.lstrip("-").isdigit() else float(text)
    return text


def shape(profile: Profile, email: str, properties: dict[str, str]) -> Mapping[str, Any]:
    """One person's push: their Contacts (else Leads) to update by id, or a Contact to create."""
    from core.push import source_ids

    fields = {name: field_value(name, value) for name, value in properties.items()}
    contacts = source_ids(profile, "salesforce", "contact")
    targets = [{"type": "Contact", "id": i} for i in contacts] or [
        {"type": "Lead", "id": i} for i in source_ids(profile, "salesforce", "lead")
    ]
    if targets:
        return {"update": sorted(targets, key=lambda t: t["id"]), "fields": fields}
    first, last = profile.traits.get("first_name"), profile.traits.get("last_name")
    # LastName is required on a Contact; "[not provided]" is what Salesforce's own Web-to-Lead writes.
    create = {
        "Email": primary_email(profile) or email,
        "FirstName": first.value if first else None,
        "LastName": last.value if last else "[not provided]",
    }
    return {"create": create, "fields": fields}


def declaration(send: Any, erase: Any) -> RestConnectorSpec:
    """The declaration, with the two write hooks (kept in ``_writes``)."""
    return RestConnectorSpec(
        name="salesforce",
        kind="crm",
        description=(
            f"Salesforce Contacts, Leads and won Opportunities (as orders) through SOQL (REST {API_VERSION}, "
            "queryAll for deletions, Bulk API 2.0 for large first pulls); pushes the enriched traits "
            "to ProfileSync_* fields with sObject Collections; erases Contacts and Leads"
        ),
        base_url=PLACEHOLDER_BASE,
        auth=ClientCredentialsAuth(
            Credential(CLIENT_ID, "the consumer key of a connected app with the client credentials flow"),
            Credential(CLIENT_SECRET, "that connected app's consumer secret"),
            token_path=TOKEN_PATH,
        ),
        headers={"Sforce-Query-Options": f"batchSize={QUERY_BATCH}"},
        streams=STREAMS,
        push=PushMap(
            properties={field: trait for trait, (field, _) in PUSH_FIELDS.items()},
            shape=shape,
            send=send,
            batch_size=PUSH_BATCH,
            # Only a Contact or Lead stands for a person Salesforce holds: a profile holding just an
            # Opportunity (its contact not pulled yet) is not one to update in place.
            holder_types=frozenset({"contact", "lead"}),
        ),
        erase=erase,
        options={
            "currency": "ISO 4217 code of the org's currency for Opportunity amounts (default USD); "
            "'multi' in multi-currency orgs (each record's CurrencyIsoCode)",
            "bulk_threshold": "a first pull of more records than this (per object) uses a Bulk API 2.0 "
            "query job (default 50000)",
            BATCH_OPTION: f"records per query batch, {MIN_QUERY_BATCH} to {QUERY_BATCH} (default "
            f"{QUERY_BATCH}; Sforce-Query-Options batchSize): fewer per page, a smaller answer to hold",
            "api_reserve": "share of the org's daily API allocation left unspent for other integrations "
            "(default 0.1)",
            "auth_flow": "client_credentials (default: consumer key and secret) or jwt_bearer (consumer "
            f"key and the PEM of the key whose certificate the app holds, in {PRIVATE_KEY.upper()} "
            "as PROFILESYNC_<NAME>, acting as the user named by the username option)",
            "username": "jwt_bearer: the Salesforce user the connected app acts as (the assertion's sub)",
            "login_url": f"jwt_bearer: the assertion's audience, {LOGIN_URL} (default), "
            "https://test.salesforce.com for a sandbox org, or an Experience Cloud site URL",
        },
        rate_limit=(
            "per org: a daily API request allocation over a rolling 24 h (Enterprise 100,000 + 1,000 per "
            "license), reported in Sforce-Limit-Info; 25 concurrent requests of 20 s or more "
            "(https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/"
            "salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm)"
        ),
        reports_deletions=True,
        deletions=(
            "queryAll returns deleted records (IsDeleted = true, dated by SystemModstamp) while they sit "
            "in the Recycle Bin, 15 days: each becomes a tombstone and leaves its profile; an undeleted "
            "record keeps its Id and comes back on the next pull (https://developer.salesforce.com/docs/"
            "atlas.en-us.api_rest.meta/api_rest/resources_queryall.htm)"
        ),
    )


__all__ = [
    "API_VERSION",
    "BATCH_OPTION",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DATA",
    "EXTERNAL_ID",
    "LOGIN_URL",
    "MIN_QUERY_BATCH",
    "PRIVATE_KEY",
    "PUSH_BATCH",
    "PUSH_FIELDS",
    "PUSH_OBJECTS",
    "QUERY",
    "QUERY_ALL",
    "QUERY_BATCH",
    "STREAMS",
    "declaration",
    "field_value",
    "owner_key",
    "shape",
    "soql",
]
