"""Stripe, declared with the connector SDK: customers and charges in, metadata out, customer deletion.

Vendor facts (Stripe API reference, https://docs.stripe.com/api; spec ``specs/stripe-api.json.gz``):

* Auth ``Authorization: Bearer sk_test_...`` / ``sk_live_...`` (credential ``stripe_api_key``).
* Lists (``GET /v1/customers``, ``/v1/charges``, ``/v1/events``) answer ``{"object": "list", "data",
  "has_more", "url"}``, newest first; ``limit`` 1-100 (default 10); the next page is asked with
  ``starting_after=<id of the last object>``. ``created[gte]`` (epoch seconds) filters on creation.
* Stripe customers have **no modification timestamp**. The ``customers`` stream is incremental on
  ``created`` only, so it sees new customers. Changes to existing customers come through the Events
  API, ``GET /v1/events?type=customer.updated`` (each event's ``data.object`` is the customer as it
  became), read here as a second stream ``customer_updates``; a charge refunded, an authorisation
  captured or expired, a pending bank debit settled or failed likewise, through one stream of five
  types (``charge_changes``: ``types[0]=charge.refunded&types[1]=charge.captured&types[2]=
  charge.expired&types[3]=charge.succeeded&types[4]=charge.failed``, newest first).
  A full pull (no cursor) starts the event streams at the newest event Stripe holds when it begins
  (``GET /v1/events``, Stripe's clock; the events already on its second are kept as seen, since
  ``created[gte]`` has one-second resolution), so the events of the walk are read as changes: a
  customer renamed or deleted, a charge refunded behind the walk, even one cut short and resumed.
  Before its lists it reads the events Stripe holds (``GET /v1/events`` with ``types[]``, the stream
  types) to date each listed customer and charge by its newest one, and to retire the customers
  deleted since the last sync (``_full_dates``): a list version dated ``created`` was older than a
  stored event version. Stripe keeps events for 30 days, so a cursor older than that needs a full
  refresh (and a customer changed twice before those 30 days with no sync between keeps the older
  version).
* Deletions: ``DELETE /v1/customers/{id}`` "permanently deletes a customer" (a later retrieve
  answers ``{"id", "object": "customer", "deleted": true}``) and emits ``customer.deleted`` whose
  ``data.object`` is the customer as it was (https://docs.stripe.com/api/events/types). The stream
  ``customer_deletions`` (``GET /v1/events?type=customer.deleted``) turns each into a tombstone dated
  by the event: the customer leaves its profile (core.retirement), its charges stay. A customer made
  again is a new customer with a new id. Charges cannot be deleted (only refunded).
  Because there is no modification time, a customer's draft carries ``updated_at = created``.
* Charges become orders: ``amount`` in the currency's minor unit -> ``Decimal`` by the ISO 4217
  exponent (zero-decimal currencies such as JPY as is), ``currency`` lower case -> upper case,
  ``captured``/``amount_captured``/``amount_refunded``/``refunded``/``status`` -> paid (what was
  kept), pending (an uncaptured authorisation), refunded, cancelled (failed, or expired uncaptured):
  ``_charges``.
* Errors: ``{"error": {"type", "code", "message", "param"}}``.
* Rate limits: 100 read operations per second in live mode, 25 in test mode (account-wide;
  https://docs.stripe.com/rate-limits); a 429 says ``rate_limit``. The declaration paces at the
  test-mode figure, which is safe for both modes; an instance on a live key may raise it with the
  option ``requests_per_second`` (``paced``).
* Push: ``POST /v1/customers/{id}`` with ``metadata[key]=value``, one customer per request
  (``batch_size=1``); in ``upsert`` mode ``POST /v1/customers`` (with an ``Idempotency-Key``) for
  someone Stripe does not hold. Stripe takes
  form-encoded bodies (``application/x-www-form-urlencoded``), which the HTTP client sends with
  ``form=``.
* Erase: a redaction job of the person's customers and of every charge carrying them (the customer
  and charge ids we hold, or the customers with an email), Stripe's documented route for deletion
  requests: see ``connectors/stripe/_erase.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from connectors._http import ConnectorRequestError
from connectors.option_numbers import whole_number
from connectors.sdk import (
    BearerAuth,
    FieldMap,
    Incremental,
    OwnerLink,
    PushMap,
    RestConnectorSpec,
    RestContext,
    Stream,
    TokenPaging,
    Window,
)
from core.connector import ConnectorSettings, Credential, Payload, PushOutcome
from core.push import ENRICHED_TRAITS, source_ids
from core.schema import Profile

from ._erase import erase

CREDENTIAL: Final = "stripe_api_key"
CUSTOMERS: Final = "/v1/customers"
CHARGES: Final = "/v1/charges"
EVENTS: Final = "/v1/events"
METADATA_PREFIX: Final = "profilesync_"
PAGE: Final = 100

#: Canonical trait -> the field of a Stripe ``address`` object (country: ISO 3166-1 alpha-2).
ADDRESS_TRAITS: Final = {
    "country": "country",
    "city": "city",
    "region": "state",
    "postal_code": "postal_code",
}

CUSTOMER_FIELDS = FieldMap(
    updated_at="created",
    emails=("email",),
    phones=("phone",),
    traits={"full_name": "name", **{trait: f"address.{part}" for trait, part in ADDRESS_TRAITS.items()}},
)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _address_traits(address: Any) -> dict[str, str]:
    if not isinstance(address, Mapping):
        return {}
    return {trait: text for trait, part in ADDRESS_TRAITS.items() if (text := _text(address.get(part)))}


def customer_shipping_traits(customer: Any) -> dict[str, str]:
    """The address traits of a customer whose ``address`` is null, from ``shipping.address``
    ("Mailing and shipping address for the customer", https://docs.stripe.com/api/customers/object):
    a customer who gave only a shipping address has her phone read in its country, not the default
    region (an Italian ``320 555 7788`` is a valid American number)."""
    if not isinstance(customer, Mapping) or isinstance(customer.get("address"), Mapping):
        return {}
    shipping = customer.get("shipping")
    return _address_traits(shipping.get("address") if isinstance(shipping, Mapping) else None)


def guest_charge_traits(charge: Any) -> dict[str, str]:
    """What a charge without a customer (a guest checkout: it joins by its billing email and phone,
    and is the guest's only record) says of its payer: ``billing_details.name`` and its address,
    else the charge's ``shipping.address`` (https://docs.stripe.com/api/charges/object), as
    WooCommerce's guest orders bring their billing name and country. Its phones are then read in
    the billing country. A charge of a customer brings none: it joins that customer's profile."""
    if not isinstance(charge, Mapping) or charge.get("customer") is not None:
        return {}
    billing = charge.get("billing_details")
    billing = billing if isinstance(billing, Mapping) else {}
    traits = _address_traits(billing.get("address"))
    if "country" not in traits:
        shipping = charge.get("shipping")
        shipped = _address_traits(shipping.get("address") if isinstance(shipping, Mapping) else None)
        traits = shipped or traits
    if name := _text(billing.get("name")):
        traits["full_name"] = name
    return traits


#: A charge belongs to the Stripe customer it names (``customer``: an id, or the customer object when
#: expanded) and joins that customer's profile by it; a charge with no customer (a guest checkout)
#: falls back to its billing email. Stripe's own example charge has ``customer`` set and both email
#: fields null (https://docs.stripe.com/api/charges/object): it must still reach lifetime value.
CHARGE_FIELDS = FieldMap(
    updated_at="created",
    emails=("billing_details.email", "receipt_email"),
    phones=("billing_details.phone",),
    owner=OwnerLink(object_type="customer", id_path="customer"),
)


def _paging() -> TokenPaging:
    return TokenPaging("data.-1.id", "starting_after", has_more_path="has_more")


def _since() -> Incremental:
    return Incremental("created", {"created[gte]": "{since}"}, strict=False, time_format="epoch")


def _list_stream(name: str, path: str, object_type: str, fields: FieldMap, **params: str) -> Stream:
    return Stream(
        name=name,
        path=path,
        records_path="data",
        primary_key="id",
        object_type=object_type,
        paging=_paging(),
        page_size=PAGE,
        page_size_param="limit",
        params=params,
        incremental=_since(),
        fields=fields,
    )


#: The charge event types the ``charge_changes`` stream reads. A bank debit (ACH, SEPA, BACS) is
#: created ``pending`` and settles days later: ``charge.succeeded`` or ``charge.failed`` carries it
#: as it became (https://docs.stripe.com/payments/payment-methods#payment-notification).
#: ``charge.succeeded`` also follows every card charge's creation: read again as it was listed, it
#: changes nothing.
CHARGE_EVENT_TYPES: Final = (
    "charge.refunded",
    "charge.captured",
    "charge.expired",
    "charge.succeeded",
    "charge.failed",
)
#: The streams a version before ``charge_changes`` read those types with, one a type
#: (``_cursor_upgrade`` folds their cursor states into it).
FORMER_CHARGE_STREAMS: Final = ("charge_updates", "charge_captures", "charge_expiries")


def types_param(*names: str) -> dict[str, str]:
    """``GET /v1/events``'s ``types`` array as Stripe's SDKs send it: ``types[0]=a&types[1]=b``."""
    return {f"types[{i}]": name for i, name in enumerate(names)}


def event_types(stream: Stream) -> tuple[str, ...]:
    """The event types an event stream reads (its ``type``, or its ``types`` in index order)."""
    if "type" in stream.params:
        return (str(stream.params["type"]),)
    found = sorted((int(k[6:-1]), v) for k, v in stream.params.items() if k.startswith("types["))
    return tuple(str(v) for _, v in found)


STREAMS: Final = (
    _list_stream("customers", CUSTOMERS, "customer", CUSTOMER_FIELDS),
    _list_stream("charges", CHARGES, "charge", CHARGE_FIELDS),
    # Events: the record is the event; ``StripeConnector.to_records`` maps its ``data.object``.
    _list_stream(
        "customer_updates", EVENTS, "event:customer.updated", CUSTOMER_FIELDS, type="customer.updated"
    ),
    # The charge events, one stream of several types (``types[]``, "up to 20"): Stripe lists them
    # newest first whatever their type, so a charge captured and refunded on one second is ordered by
    # one count of that second's events (three streams, one a type, each counted its own: a capture
    # read by one sync and a refund by the next tied, and the content hash chose). An authorisation
    # captured later, or expired (released) uncaptured, changes the order it was.
    _list_stream("charge_changes", EVENTS, "event:charge", CHARGE_FIELDS, **types_param(*CHARGE_EVENT_TYPES)),
    _list_stream(
        "customer_deletions", EVENTS, "event:customer.deleted", CUSTOMER_FIELDS, type="customer.deleted"
    ),
)
#: event stream object type -> the object type of the record its events carry.
EVENT_STREAMS: Final = {
    "event:customer.updated": "customer",
    "event:charge": "charge",
    "event:customer.deleted": "customer",
}
#: The event streams whose events say the object was deleted: they map to tombstones.
DELETION_STREAMS: Final = frozenset({"event:customer.deleted"})


def shape(profile: Profile, email: str, properties: dict[str, str]) -> Mapping[str, Any]:
    """One customer update: the Stripe customer ids this person has, and the metadata to set."""
    return {"customers": source_ids(profile, "stripe", "customer"), "metadata": properties}


def send(context: RestContext, payloads: Sequence[Payload]) -> list[PushOutcome]:
    """``POST /v1/customers/{id}`` with ``metadata[...]`` for each customer of each payload (the ones
    the profile holds, else the one profilesync created before); ``POST /v1/customers`` for someone
    Stripe does not hold, whom ``push_profiles`` lets an ``upsert`` instance create."""
    client = context.client("push")
    out: list[PushOutcome] = []
    for payload in payloads:
        ids = [str(i) for i in payload.body.get("customers", [])]
        if not ids and payload.remote_id:
            ids = [payload.remote_id]
        params = {f"metadata[{k}]": v for k, v in payload.body.get("metadata", {}).items()}
        if not ids:
            out.append(_create(context, payload, params))
            continue
        try:
            for customer in ids:
                # Setting metadata is idempotent: sending the same values twice leaves the same customer.
                client.post_json(f"{CUSTOMERS}/{customer}", form=params, idempotent=True)
        except ConnectorRequestError as exc:
            out.append(PushOutcome(payload.customer_id, ok=False, error=str(exc)))
            continue
        out.append(PushOutcome(payload.customer_id, ok=True, remote_id=ids[0]))
    return out


def _create(context: RestContext, payload: Payload, metadata: dict[str, str]) -> PushOutcome:
    """A new Stripe customer with the person's email and the metadata. The idempotency key names the
    customer and the payload, so a create retried after a lost answer makes no second customer
    (https://docs.stripe.com/api/idempotent_requests)."""
    key = f"profilesync-{payload.customer_id}-{payload.hash}"
    try:
        created = context.client("push").post_json(
            CUSTOMERS,
            form={"email": payload.match_key, **{k: v for k, v in metadata.items() if v != ""}},
            headers={"Idempotency-Key": key},
            idempotent=True,
        )
    except ConnectorRequestError as exc:
        return PushOutcome(payload.customer_id, ok=False, error=str(exc))
    return PushOutcome(payload.customer_id, ok=True, remote_id=str(created["id"]))


#: Stripe's test-mode read limit, per second and account: safe in live mode (100) too.
DEFAULT_REQUESTS_PER_SECOND: Final = 25
RATE_OPTION: Final = "requests_per_second"
PAGE_OPTION: Final = "page_size"


DECLARATION = RestConnectorSpec(
    name="stripe",
    kind="ecommerce",
    description=(
        "Stripe customers and charges (as orders), with customer.updated/charge.refunded/"
        "charge.captured/charge.expired events for changes; pushes the enriched traits as customer "
        "metadata; erases with redaction jobs of the person's customers and charges"
    ),
    base_url="https://api.stripe.com",
    auth=BearerAuth(Credential(CREDENTIAL, "a Stripe secret or restricted key (sk_test_... / sk_live_...)")),
    streams=STREAMS,
    # One account-wide limit for every request, pull, push and erase alike (``paced``).
    account_limits=(Window(DEFAULT_REQUESTS_PER_SECOND, 1.0),),
    options={
        RATE_OPTION: f"read requests per second the account allows (default {DEFAULT_REQUESTS_PER_SECOND}, "
        "test mode's; live mode allows 100)",
        PAGE_OPTION: f"customers and charges a list request asks for, 1 to {PAGE} (default {PAGE}, Stripe's "
        "most; events are read 100 a request)",
    },
    push=PushMap(
        properties={f"{METADATA_PREFIX}{trait}": trait for trait in ENRICHED_TRAITS},
        shape=shape,
        send=send,
        batch_size=1,
        # A Stripe customer is a billing account: by default push only updates customers Stripe holds.
        # An upsert instance creates the others; a customer record sends the person nothing, so it
        # asks for no consent. Charges do not mean Stripe holds a customer.
        mode="update",
        channel=None,
        holder_types=frozenset({"customer"}),
    ),
    erase=erase,
    rate_limit="100 requests/s in live mode, 25/s in test mode, per account (https://docs.stripe.com/rate-limits)",
    reports_deletions=True,
    deletions=(
        "customer.deleted events (GET /v1/events?type=customer.deleted, kept 30 days): the deleted "
        "customer leaves its profile, its charges stay (https://docs.stripe.com/api/events/types); a "
        "customer or charge a redaction job redacted (every personal field [redacted] or empty, or its "
        "redaction status processing or redacted) is read as a deletion of it wherever a pull meets it "
        "(https://docs.stripe.com/privacy/redaction-integration)"
    ),
)


def paced(settings: ConnectorSettings) -> RestConnectorSpec:
    """The declaration, pacing at the instance's ``requests_per_second`` (a whole number, at least 1;
    default 25): a live-mode account allows 100, and pacing it at test mode's 25 took four times
    as long as it needs to."""
    rate = whole_number(
        settings.options,
        RATE_OPTION,
        connector="stripe",
        default=DEFAULT_REQUESTS_PER_SECOND,
        low=1,
        meaning="requests per second (live mode allows 100, test mode 25)",
    )
    spec = DECLARATION
    if rate != DEFAULT_REQUESTS_PER_SECOND:
        spec = replace(spec, account_limits=(Window(rate, 1.0),))
    return _paged(spec, settings)


def _paged(spec: RestConnectorSpec, settings: ConnectorSettings) -> RestConnectorSpec:
    """``spec`` listing customers and charges ``page_size`` a request (the events stay at ``PAGE``)."""
    size = whole_number(
        settings.options,
        PAGE_OPTION,
        connector="stripe",
        default=PAGE,
        low=1,
        high=PAGE,
        meaning="objects a list page (the most Stripe's limit asks for)",
    )
    if size == PAGE:
        return spec
    streams = tuple(s if s.object_type in EVENT_STREAMS else replace(s, page_size=size) for s in spec.streams)
    return replace(spec, streams=streams)


__all__ = [
    "ADDRESS_TRAITS",
    "CHARGE_EVENT_TYPES",
    "CREDENTIAL",
    "DECLARATION",
    "DEFAULT_REQUESTS_PER_SECOND",
    "DELETION_STREAMS",
    "EVENT_STREAMS",
    "FORMER_CHARGE_STREAMS",
    "METADATA_PREFIX",
    "PAGE_OPTION",
    "RATE_OPTION",
    "customer_shipping_traits",
    "erase",
    "event_types",
    "guest_charge_traits",
    "paced",
    "send",
    "shape",
    "types_param",
]
