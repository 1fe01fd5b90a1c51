"""What every privacy request starts from (core.privacy): the identifier it names, the keyed hash of
it, the stores it works with, the ``ambiguous`` refusal of a value several people hold
(core.person_scope), and the person's copies outside the table found by identifier (quarantine,
dead letters)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from core.connector import ConnectorSpec
from core.governance.history import HistoryStore
from core.governance.reading import ReadAudit
from core.mailbox import mailbox_key
from core.normalise import legacy_email_spelling, normalise_email, normalise_phone
from core.person_scope import PersonScope
from core.ports import ProfileStore, SyncStateStore
from core.privacy_store import DeadLetterQueue, ErasureStore, QuarantineItem
from core.quarantine import legacy_identifier_keys, misread_before, raw_owner_key
from core.schema import Identifier, SourceRecord, source_identifier, source_key
from core.suppression import SuppressionStore, keyed_hash

#: The outcome of an erase or export request naming an email or phone several people hold (a
#: family inbox, a household phone: core.person_scope): nobody is erased, nothing is handed over.
AMBIGUOUS = "ambiguous"


def refusal(identifier: Identifier, action: str, source: str = '"source"') -> str:
    """The message of an ``ambiguous`` refusal: what was refused and how to name the person instead
    (``source``: how the request names a record id; ``--source`` on the command line). Never repeats
    the value."""
    done = "erased" if action == "erase" else "exported"
    what = {"email": "email address", "phone": "phone"}.get(identifier.kind, "identifier")
    return (
        f"the {what} given is held by more than one person, so nothing was {done}: name the person "
        f"by an email or phone only they hold, or by the id of one of their records ({source} "
        "<tool>:<object type>:<id>, such as hubspot:contact:123)"
    )


# --- finding the person -------------------------------------------------------------------------------


def identifier_for(
    *, email: str | None = None, phone: str | None = None, region: str = "US", source: str | None = None
) -> Identifier:
    """The normalised identifier a request names; exactly one of ``email``, ``phone`` and ``source``
    (the id of one of the person's records, ``<tool>:<object type>:<id>`` as the export lists them).

    Raises ValueError (a NormalisationError for a malformed value) whose message never repeats the
    value, so it can be logged and returned.
    """
    if sum(v is not None for v in (email, phone, source)) != 1:
        raise ValueError("give exactly one of email, phone or source")
    if email is not None:
        return Identifier(kind="email", value=normalise_email(email))
    if source is not None:
        return source_identifier(source)
    assert phone is not None
    return Identifier(kind="phone", value=normalise_phone(phone, region))


#: Tool name -> its connector's ``ConnectorSpec.stored_id`` (a record id as the stores keep it).
StoredIds = Mapping[str, Callable[[str, str], str]]


def stored_ids_of(specs: Iterable[ConnectorSpec]) -> dict[str, Callable[[str, str], str]]:
    """The ``stored_id`` hook of each connector that declares one, by tool name."""
    return {spec.name: spec.stored_id for spec in specs if spec.stored_id is not None}


def stored_ids_for(
    identifier: Identifier, spec_of: Callable[[str], ConnectorSpec | None]
) -> dict[str, Callable[[str, str], str]]:
    """The ``stored_id`` hook of the tool a record id names (a Shopify GID is kept as its numeric
    tail), by that tool's name as the id spells it (lower-cased); empty for an email, a phone, or a
    tool ``spec_of`` knows no connector of (None) or whose connector declares no hook. ``spec_of``
    is the caller's look-up: the installed connectors (the CLI), the configured instances (the
    functions)."""
    if identifier.kind != "source":
        return {}
    tool = identifier.value.partition(":")[0].lower()
    spec = spec_of(tool)
    hook = None if spec is None else spec.stored_id
    return {} if hook is None else {tool: hook}


def respelt_source(identifier: Identifier, stored_ids: StoredIds) -> Identifier:
    """A record id (``kind`` source) with its tool and object type lower-cased and its id as its
    connector's ``stored_id`` keeps it (``shopify:customer:gid://shopify/Customer/1`` ->
    ``shopify:customer:1``); any other identifier as given."""
    if identifier.kind != "source":
        return identifier
    folded = folded_source(identifier) or identifier
    tool, object_type, source_id = folded.value.split(":", 2)
    spell = stored_ids.get(tool)
    kept = source_id if spell is None else spell(object_type, source_id) or source_id
    return Identifier(kind="source", value=source_key(tool, object_type, kept))


def as_stored(
    identifier: Identifier,
    profiles: ProfileStore,
    tools: Collection[str] = (),
    stored_ids: StoredIds = MappingProxyType({}),
) -> Identifier:
    """A record id as the stores keep it. Tool names and object types are lower-case identifiers in
    every connector, but a person types a record id from the vendor's screen (``HubSpot:contact:1``,
    ``hubspot:Contact:1``), and some vendors write one id two ways (Shopify: ``gid://shopify/
    Customer/1`` and ``1``; the connector's ``stored_id`` in ``stored_ids`` says which is kept):
    when the key as written names no record we hold and a respelt key (tool and object type
    lower-cased, then the id as stored) does, or names a tool being asked (``tools``), or its id is
    one the hook respelt (held or not: her erase suppresses the key her record is stored under), the
    latter is the record meant. The id itself keeps its case (Salesforce's ids are case-sensitive),
    and a key as written that names a record is kept (a file's own source may be spelt in capitals)."""
    if identifier.kind != "source":
        return identifier
    folded = folded_source(identifier) or identifier
    tool, _, source_id = folded.value.split(":", 2)
    respelt = respelt_source(identifier, stored_ids)
    kept = respelt.value.split(":", 2)[2]
    candidates = list(dict.fromkeys((identifier, folded, respelt)))
    if len(candidates) == 1:
        return identifier
    held = profiles.get_owners([c.key for c in candidates])
    if identifier.key in held:
        return identifier
    meant = respelt if tool in tools or kept != source_id else identifier
    return next((c for c in candidates if c.key in held), meant)


def stored_spelling(identifier: Identifier, email: str | None, profiles: ProfileStore) -> Identifier:
    """An email a request names as the stores may keep it: ``identifier`` (``email`` normalised now),
    or, when that names no record we hold and the address as this version's predecessor normalised it
    does, the latter. Such a record was stored before the upgrade that folds fullwidth letters and
    removes every default-ignorable character (``legacy_email_spelling``), and keeps that key until
    its tool's record is pulled again; an erasure named by the spelling it was stored under must
    still find it."""
    if identifier.kind != "email" or email is None:
        return identifier
    legacy = legacy_email_spelling(email)
    if legacy is None:
        return identifier
    return stored_spellings(identifier, email, profiles)[0]


def stored_spellings(identifier: Identifier, email: str | None, profiles: ProfileStore) -> list[Identifier]:
    """Every spelling of the email a request names that the stores may keep, the one
    ``stored_spelling`` picks first: the folded address and, when it differs, the address as this
    version's predecessor normalised it. A person may hold both (a record stored before the upgrade
    under the spelling of then, another pulled after it under the folded key: two customers); her
    erasure takes every one (``erase_person``'s ``spellings``), and suppresses both spellings when
    nobody holds either. Any other identifier is its only spelling."""
    if identifier.kind != "email" or email is None:
        return [identifier]
    legacy = legacy_email_spelling(email)
    if legacy is None:
        return [identifier]
    old = Identifier(kind="email", value=legacy)
    held = profiles.get_owners([identifier.key, old.key])
    return [old, identifier] if identifier.key not in held and old.key in held else [identifier, old]


def folded_source(identifier: Identifier) -> Identifier | None:
    """A record id with its tool and object type lower-cased (``HubSpot:Contact:1`` ->
    ``hubspot:contact:1``); None when it is no record id or is spelt so already."""
    if identifier.kind != "source":
        return None
    tool, object_type, source_id = identifier.value.split(":", 2)
    folded = Identifier(kind="source", value=source_key(tool.lower(), object_type.lower(), source_id))
    return None if folded == identifier else folded


def subject_hash(salt: str, identifier: Identifier) -> str:
    """A keyed hash (HMAC-SHA256) of the identifier: the same person gives the same hash, so a later
    request can be matched to an audit record, but the hash cannot be reversed without the salt.
    Suppression entries use the same hash (core.suppression.keyed_hash)."""
    return keyed_hash(salt, identifier.key)


# --- the stores a request works with ---------------------------------------------------------------


@dataclass
class PrivacyStores:
    """What a privacy request reads and writes. ``suppression`` None leaves suppression out (only
    for stores that have none); ``dead_letters`` None when there is no dead-letter queue to search."""

    profiles: ProfileStore
    erasure: ErasureStore
    sync_state: SyncStateStore | None = None
    suppression: SuppressionStore | None = None
    dead_letters: DeadLetterQueue | None = None
    quarantine_of: Sequence[str] = ()
    """The connectors whose quarantine is searched."""
    history: HistoryStore | None = None
    """The customers' histories, for the export (None: the profile store's own, if it keeps one)."""
    reads: ReadAudit | None = None
    """The read audit, for the export's "who looked at this person in the last 90 days"."""


def quarantined_of(
    stores: PrivacyStores, hashes: set[str], keys: set[str], region: str
) -> list[QuarantineItem]:
    """The person's quarantined records: by the keyed hashes stored with them, or (items stored
    before hashes were) by the keys their raw values normalise to, or (a child stored before its
    owner link was one of its keys) by that link in its raw record. Never by searching text."""
    found: list[QuarantineItem] = []
    for connector in stores.quarantine_of:
        for item in stores.erasure.quarantined_items(connector):
            if raw_owner_key(item.raw) in keys:
                found.append(item)
            elif item.subjects is not None:
                # an item written before the phone matcher's fix may hold another person's number
                if item.subjects & hashes and not misread_before(item.raw, _record_of(item), keys, region):
                    found.append(item)
            elif legacy_identifier_keys(item.raw, region) & keys:
                found.append(item)
    return found


def _record_of(item: QuarantineItem) -> str:
    """The record key of a quarantined item (``<tool>:<type>:<id>``; its sort key is ``<at>#<key>``)."""
    return item.key.sk.partition("#")[2]


def record_matcher(scope: PersonScope, region: str = "US") -> Callable[[SourceRecord], bool]:
    """Whether a record (a dead letter) is the person's: its key is one of her records', an identifier
    of it (or its mailbox) is one of her finding keys, or (attack31p) a value normalisation refused
    names her (``Ann Smith <ann@x.com>``, a phone read in ``region`` and the record's country) and
    merge's check would drop it as hers for that: of the kind of that value it holds nothing else
    (core.suppression ``SuppressionCheck.split``). Anne's contact naming her only in a second field
    stays Anne's."""
    from core.suppression import refused_hers

    sources = set(scope.sources)
    keys = scope.finding_keys()

    def matches(record: SourceRecord) -> bool:
        # by mailbox too: her dead letter may hold another spelling of her mailbox (Gmail's dots,
        # a +tag), which her finding keys name by its mailbox# key only
        return (
            record.key in sources
            or any(i.key in keys or mailbox_key(i.key) in keys for i in record.identifiers)
            or (bool(record.dropped) and refused_hers(record, keys, region))
        )

    return matches


__all__ = [
    "AMBIGUOUS",
    "PrivacyStores",
    "StoredIds",
    "as_stored",
    "folded_source",
    "identifier_for",
    "quarantined_of",
    "record_matcher",
    "refusal",
    "respelt_source",
    "stored_ids_for",
    "stored_ids_of",
    "stored_spelling",
    "stored_spellings",
    "subject_hash",
]
