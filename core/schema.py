"""The canonical schema: what every connector's records become and what every profile is.

``RecordDraft`` is what a connector's field mapping produces: canonical field names, raw values.
``normalise_record`` (core.normalise) turns it into a ``SourceRecord`` with clean values, or a
``Quarantined`` entry with a reason. ``Profile`` is computed from a customer's source records only
(core.merge), so it can always be rebuilt, unmerged or erased. The models' base (assembly without
validation, memoised keys, pickling) is core.schema_base.

Public surface: change field names here deliberately, with a note, since they are stored in DynamoDB
and pushed to every tool.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from operator import not_
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

# The base of the models; the names other modules import from here stay importable here.
from core.schema_base import _ALL_FIELDS as _ALL_FIELDS
from core.schema_base import _Frozen as _Frozen
from core.schema_base import _MemoKey as _MemoKey
from core.schema_base import _reassemble as _reassemble
from core.schema_base import assemble_model as assemble_model
from core.time_bound import ordered_by_read

IdentifierKind = Literal["email", "phone", "source"]

#: Trait names the canonical schema knows; each has a normaliser. Other traits are kept as given
#: (trimmed strings) under their snake_case name.
KNOWN_TRAITS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "country",
    "city",
    "region",
    "postal_code",
    "company",
    "job_title",
    "language",
)

#: Order statuses; only "paid" orders count towards lifetime value.
OrderStatus = Literal["paid", "pending", "refunded", "cancelled"]

#: Whether a source record stands for a person (a contact, a member, a customer) or for a child object
#: of one (an order, a charge, a subscription). A child joins its owner by the owner's source id when
#: the vendor names one, and never counts towards an identifier's guardrail limit: a customer with 500
#: orders sharing her email is one person, not 501 holders of the address.
RecordLevel = Literal["person", "child"]

#: Object types read as child objects when a connector does not say (``RecordDraft.owner_type``):
#: what a flat file or a declared stream calls its orders and payments.
CHILD_OBJECT_TYPES: frozenset[str] = frozenset(
    {"order", "charge", "payment", "invoice", "subscription", "refund", "transaction"}
)


class Identifier(_Frozen):
    """One identity key: a normalised email, an E.164 phone, or a source-scoped id."""

    kind: IdentifierKind
    value: str

    key: ClassVar[_MemoKey] = _MemoKey(lambda self: f"{self.kind}#{self.value}")
    """The identifier as stored: ``email#ann@example.com``, ``source#hubspot:contact:123``."""

    @classmethod
    def from_key(cls, key: str) -> Identifier:
        kind, _, value = key.partition("#")
        return cls.model_validate({"kind": kind, "value": value})


def source_key(source: str, object_type: str, source_id: str) -> str:
    """A record's key, unique across all tools: ``<tool>:<object type>:<id>`` (``hubspot:contact:123``),
    as the stores keep it. ``SourceRecord.key``, ``SourceDeletion.key``, ``SourceRef.key`` and
    ``source_identifier`` all write it here, so a record, its deletion and a profile's reference to it
    name the same key."""
    return f"{source}:{object_type}:{source_id}"


def source_identifier(value: str) -> Identifier:
    """The identifier of one record, ``<tool>:<object type>:<id>`` (``hubspot:contact:123``);
    ValueError, never quoting the value, for anything else."""
    source, object_type, source_id = (part.strip() for part in [*value.split(":", 2), "", ""][:3])
    if not source or not object_type or not source_id:
        raise ValueError("a record id is <tool>:<object type>:<id>, such as hubspot:contact:123")
    return Identifier(kind="source", value=source_key(source, object_type, source_id))


def _none(value: object) -> bool:
    """Whether an optional field added later is unset: left out of the JSON (see ``_empty``)."""
    return value is None


def _empty(value: tuple[str, ...]) -> bool:
    """Whether an order names no payment: its ``payment_refs`` is then left out of its JSON, so an
    order written before the field existed serialises, and hashes, as it did (pydantic 2.12's
    ``exclude_if``: a wrap serializer doing the same cost 2 us per record with an order)."""
    return not value


class Order(_Frozen):
    """An order as the profile needs it: money is a Decimal with its ISO 4217 currency, never a float."""

    id: str
    total: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    created_at: datetime
    status: OrderStatus = "paid"
    payment_refs: tuple[str, ...] = Field(default=(), exclude_if=_empty)
    """The payment processor's ids of the payment that paid this order, each ``<processor>:<id>``
    (``stripe:pi_3Q...``, ``stripe:ch_3Q...``): a shop's order names the payment its gateway took
    (WooCommerce's ``transaction_id``), a processor's payment names itself. Orders of one profile that
    share a reference are one purchase, counted once (core.purchases). An order-level fact, never an
    identifier: it joins no records. Optional and added later: an order stored before has none, and its
    JSON has no key while it has none, so stored records hash as before."""


class OrderSummary(_Frozen):
    """Orders of one record beyond what one stored item holds inline, summed up.

    A record keeps its newest orders inline (``SourceRecord.orders``); the older ones are counted here
    so that lifetime value, order count and first order stay right. Only paid orders are summed.
    """

    orders: int
    """How many orders were summarised, whatever their status."""
    paid: dict[str, int] = Field(default_factory=dict)
    """Paid orders per ISO 4217 currency."""
    totals: dict[str, Decimal] = Field(default_factory=dict)
    """The sum of the paid orders per currency."""
    first_paid_at: datetime | None = None
    last_paid_at: datetime | None = None


class ConsentState(_Frozen):
    """An explicit consent decision for one channel (email, sms, ...), and when it was made."""

    granted: bool
    changed_at: datetime
    dated_by_record: bool = Field(default=False, exclude_if=not_)
    """True when the tool gave the decision no time of its own, so ``changed_at`` is the time of a
    version of its record (a Salesforce ``HasOptedOutOfEmail``, a Mailchimp unsubscribe): the first
    version seen holding the decision, carried to each later version that holds it too
    (core.consent_carry). Written only when true, left out of the record's hash with the time."""
    contrary_at: datetime | None = Field(default=None, exclude_if=not_)
    """For a decision ``dated_by_record``: the time of the newest version of its record seen with the
    other decision before this one's run (her opt-in between two opt-outs); None when none was seen.
    A late version older than it cannot date the decision (core.consent_carry). Written only when
    set, left out of the record's hash with the time (added in this version: absent, None)."""
    run_at: tuple[datetime, ...] = Field(default=(), exclude_if=not_)
    """For a decision ``dated_by_record``: the times of the later versions of its run (after
    ``changed_at``, its first, and after ``contrary_at``), the 16 earliest and the newest: where the
    run starts when a late version of the other decision cuts it (core.consent_carry). Written only
    when not empty, left out of the record's hash (added in this version: absent, none)."""

    @classmethod
    def assemble(cls, **values: Any) -> Self:
        """``_Frozen.assemble``, the run's two fields defaulted when not given (callers written
        before they existed give the first three)."""
        values.setdefault("contrary_at", None)
        values.setdefault("run_at", ())
        return super().assemble(**values)


class DroppedValue(_Frozen):
    """A value that failed normalisation and was left out of the record, with the reason."""

    field: str
    value: str
    reason: str


_JSON_KINDS: dict[type, str] = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    list: "a list",
    type(None): "null",
}


class RecordDraft(BaseModel):
    """A connector's record mapped to canonical names, values still raw.

    Connectors build these in ``to_records``; nothing here is trusted yet.
    """

    model_config = ConfigDict(extra="forbid")

    source: str
    object_type: str = "contact"
    source_id: Any = ""
    """The vendor's id: a string or an integer (anything else is quarantined by normalisation)."""
    updated_at: Any = None
    emails: list[Any] = Field(default_factory=list)
    phones: list[Any] = Field(default_factory=list)
    traits: dict[str, Any] = Field(default_factory=dict)
    consent: dict[str, Any] = Field(default_factory=dict)
    orders: list[Any] = Field(default_factory=list)
    owner_type: str | None = None
    """For a child object (an order, a charge): the object type of the person-level record of the
    same source it belongs to (Shopify ``customer``). Set, the record is a child; left None, it is one
    when ``object_type`` is in ``CHILD_OBJECT_TYPES``."""
    owner_id: Any = None
    """The owner's vendor id (Shopify ``customer.id``, Stripe ``customer``), when the vendor names it.
    The child then joins its owner by that id alone; without it, by its email or phone."""
    same_person_as_owner: bool = False
    """The owner is this record's own person, not a buyer of it (a converted Salesforce lead and the
    contact it became): the child keeps its own emails and phones beside its owner's id, so its own
    address still names her (a join, an erasure request). Left False, a child with an owner id joins
    by that id alone: an order's email may be a gift recipient's. Added later, optional."""
    undated: bool = False
    """The vendor does not say when this version was made, only that it was by ``updated_at`` (Stripe,
    for an object with no event left in the 30 days it keeps them: its last change was before then).
    Ingest orders it by ``updated_at`` against a stored version of other content, and leaves a stored
    version of the same content as it is (no touch: the time says nothing about when it changed).
    Once stored, it gives way to any later version of other content that is not undated, and to a
    tombstone, whatever their times (core.undated)."""
    deleted: bool = False
    """A tombstone: the vendor deleted the record ``source``/``object_type``/``source_id`` name, at
    ``updated_at``; nothing else is read. It is retired from its customer (core.retirement): the
    person's other records stay, and nothing is suppressed (erasure does that)."""
    problem: str | None = None
    """Set by a mapping that already knows the record cannot be used (a page element that is not an
    object): normalisation quarantines the record with this reason."""
    raw: dict[str, Any] | None = None
    """The vendor's record as received, kept for quarantine reports (never stored in a profile)."""
    _dated: bool = PrivateAttr(default=False)
    """Whether ``updated_at`` already holds the mark the pull put on its record (``core.version_marks``):
    a draft is dated once, whoever dates it. Not a field: no schema, no JSON, kept by ``model_copy``."""

    @classmethod
    def not_an_object(cls, source: str, object_type: str, element: Any) -> RecordDraft:
        """The draft of a page element that is not an object (a string, a number, a list where the
        vendor's list of records should hold objects): normalisation quarantines it with the reason,
        and the page's other records go on. Every connector's mapping uses this for such elements."""
        kind = _JSON_KINDS.get(type(element), f"a {type(element).__name__}")
        text = repr(element)
        text = text if len(text) <= 200 else text[:197] + "..."
        return cls(
            source=source,
            object_type=object_type,
            source_id="",
            problem=f"a page element is {kind}, not an object: {text}",
            raw={"element": text},
        )


class SourceRecord(_Frozen):
    """One normalised record from one tool: the unit that is resolved, merged and stored."""

    source: str
    object_type: str
    source_id: str
    updated_at: datetime
    identifiers: tuple[Identifier, ...]
    traits: dict[str, str] = Field(default_factory=dict)
    consent: dict[str, ConsentState] = Field(default_factory=dict)
    orders: tuple[Order, ...] = ()
    dropped: tuple[DroppedValue, ...] = ()
    level: RecordLevel = "person"
    """``person`` or ``child`` (see ``RecordLevel``); only people count towards guardrail limits."""
    owner: str | None = None
    """A child's owner as a source key (``shopify:customer:123``); its ``source#`` identifier is among
    the child's identifiers, which is how the child joins the owner's customer."""
    order_summary: OrderSummary | None = None
    """The orders beyond those kept inline in ``orders``, summed up (None: every order is inline)."""
    read_at: datetime | None = None
    """When normalisation read a record stamped ahead of that time (its ``updated_at`` or a consent
    decision's ``changed_at``, by less than ``max_future_skew``: a vendor clock a few hours fast);
    None for a record stamped at or before it. The stamped times are kept; ordering uses
    ``ordered_at``, and a consent decision's time no later than ``read_at``."""
    undated: bool = Field(default=False, exclude_if=lambda undated: not undated)
    """``RecordDraft.undated``: ``updated_at`` bounds when this version was made (no touch of a stored
    version of the same content). Left out of the JSON when False (every record but such a version,
    whose snapshots and messages are as before) and out of ``record_hash``."""

    key: ClassVar[_MemoKey] = _MemoKey(lambda self: source_key(self.source, self.object_type, self.source_id))
    """The source-scoped id, unique across all tools: ``hubspot:contact:123``."""

    @property
    def ordered_at(self) -> datetime:
        """The time that orders this record against other versions and other records (staleness
        in ingest, survivorship): ``updated_at``, or, for a version stamped ahead of when it was read
        (``read_at`` before ``updated_at``), the read, or just before the second of the read when it is
        more than ``CLOCK_SKEW`` ahead (``core.time_bound.ordered_by_read``; normalisation reads a time
        more than the skew ahead so). Nobody can have observed a change from the future, so such a
        version counts as made no later than its read, and a correction the tool stamps on that
        second (made just after the read, on whole seconds) or later wins over one stamped hours
        ahead."""
        read_at, updated_at = self.read_at, self.updated_at
        if read_at is None or read_at >= updated_at:
            return updated_at
        return ordered_by_read(updated_at, read_at)

    @property
    def source_identifier(self) -> Identifier:
        return Identifier(kind="source", value=self.key)


class SourceDeletion(_Frozen):
    """A record the vendor deleted (a ``RecordDraft`` with ``deleted``), normalised: which one, and
    when. It is retired from its customer (core.retirement); it is not an erasure."""

    source: str
    object_type: str
    source_id: str
    deleted_at: datetime

    @property
    def key(self) -> str:
        """The deleted record's source key: ``salesforce:contact:003...``."""
        return source_key(self.source, self.object_type, self.source_id)


class Quarantined(_Frozen):
    """A record that could not be used, with a reason a person can act on."""

    source: str
    source_id: str
    reason: str
    raw: dict[str, Any] | None = None


class TraitValue(_Frozen):
    """The winning value of one trait, and which source record gave it, and when."""

    value: str
    source: str
    updated_at: datetime


class ConsentValue(_Frozen):
    """The current consent for one channel and the source record that last changed it."""

    granted: bool
    changed_at: datetime
    source: str


class ComputedTraits(_Frozen):
    """Traits computed from every order the customer's source records hold."""

    lifetime_value: dict[str, Decimal] = Field(default_factory=dict)
    order_count: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    average_order_value: dict[str, Decimal] = Field(default_factory=dict)
    segment: str = "prospect"
    primary_currency: str | None = Field(default=None, exclude_if=_none)
    """The currency the person buys in most when her paid orders are in more than one: the most paid
    orders, then the one of her latest order (then the code's order); amounts of two currencies are
    never compared. None with one currency (that one) or none. Added later, optional: a profile
    written before has none, and its JSON has no key while it has none, so one-currency profiles
    serialise and hash as before (core.push.primary_currency reads it)."""


class SourceRef(_Frozen):
    """A pointer to one source record a profile was built from."""

    source: str
    object_type: str
    id: str
    updated_at: datetime

    @property
    def key(self) -> str:
        return source_key(self.source, self.object_type, self.id)


class Profile(_Frozen):
    """The merged customer: a pure function of the customer's source records (see core.merge)."""

    customer_id: str
    identifiers: tuple[Identifier, ...]
    traits: dict[str, TraitValue] = Field(default_factory=dict)
    computed: ComputedTraits = Field(default_factory=ComputedTraits)
    consent: dict[str, ConsentValue] = Field(default_factory=dict)
    sources: tuple[SourceRef, ...] = ()
    version: int = 0
