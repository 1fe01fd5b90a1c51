"""Whom a quarantined record is about, by identifier rather than by its text.

A record is quarantined because something in it could not be used (no valid email or phone, no
valid timestamp), yet it usually still names a person: an email with the wrong case or an
internationalised domain, a phone written nationally, its id in the tool. Erasure used to find such
records by searching their raw text for the address, which matched a different person
(``jotariq.haddad51@...`` contains ``tariq.haddad51@...``) and missed the same person written with
non-ASCII characters (the raw JSON escapes them). Now a quarantined record is stored with the keys
its raw values normalise to, one by one, each as a keyed hash, so erasure finds it by exact key:

* every email and phone of the draft that normalises on its own (the phone in the default region,
  and in the region of the record's country if it names one), and of a value that does not, each
  address or number written whole inside it (``Ann <ann@x.com>``, ``mailto:ann@x.com``,
  ``ann@x.com.``; ``+44 20 7946 0018 (mobile)``, two numbers in one field);
* the record's source id (``source#hubspot:contact:123``), so a record of the person that has no
  usable identifier at all is still found through the id the erased customer held;
* a child's owner link (``source#shopify:customer:123`` for her order), the key it joins her by, so
  her erasure by her customer's keys finds her quarantined orders and converted leads too.

``legacy_identifier_keys`` serves quarantined items stored before the keys were: it normalises every
string value of the raw JSON that reads as an email or a phone, and compares keys, not text;
``raw_owner_key`` reads the owner link of an item stored before that link was one of its keys.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from core.errors import NormalisationError
from core.ports import QuarantineEntry
from core.quarantine_addresses import ADDRESS as ADDRESS
from core.quarantine_addresses import address_text, refused_emails
from core.raw_json import raw_json

#: A phone value longer than this is not searched for numbers: the matcher costs about 5 CPU µs a
#: character (a 200-character field of junk 1.1 ms); two numbers with words around them fit.
_MOST_PHONE_TEXT: Final = 64

if TYPE_CHECKING:  # the normalisers load on first use: merge imports this module for refused_entries
    from core.normalise import NormaliseOptions
    from core.schema import Quarantined, RecordDraft
    from core.suppression import SuppressionCheck

#: Quarantined records stay this long (TTL ``expires_at`` on DynamoDB; SQLite deletes them when the
#: database is next opened), long enough to fix a source and re-pull. Here, not in the DynamoDB
#: adapter, so that the embedded store's start-up does not import that adapter for one number.
QUARANTINE_RETENTION_DAYS = 30


def distinct_times(entries: Sequence[QuarantineEntry]) -> list[QuarantineEntry]:
    """``entries``, each one that repeats the connector, record key and time of an earlier one moved
    on by a microsecond until it does not. The stores keep an entry under ``<at>#<record key>``
    (the DynamoDB layout), and a page's entries share their time: two rows with no id in one page
    were one item, the second overwriting the first. Putting the same entries again still writes
    the same items (the first of each key keeps its time)."""
    seen: set[tuple[str, str, datetime]] = set()
    out: list[QuarantineEntry] = []
    for entry in entries:
        at = entry.at
        while (entry.connector, entry.key, at) in seen:
            at += timedelta(microseconds=1)
        seen.add((entry.connector, entry.key, at))
        out.append(entry if at == entry.at else replace(entry, at=at))
    return out


def source_key(draft: RecordDraft) -> str:
    """The identifier key of the draft's record id: ``source#<source>:<object type>:<id>``, each read as
    core.normalise reads it (trimmed: ``" 7 "`` is the record ``crm:contact:7``, attack31p), or as
    written when it is no id the normaliser reads (so that such a record keeps a key of its own)."""
    from core.normalise._values import _text_id

    source, object_type = _text_id(draft.source) or draft.source, _text_id(draft.object_type) or "contact"
    return f"source#{source}:{object_type}:{_text_id(draft.source_id) or draft.source_id}"


def owner_key(draft: RecordDraft) -> str | None:
    """The source key of the draft's owner (``source#shopify:customer:123``) when it names an owner id
    and type that are plain text, else None: a child (an order, a converted lead) joins its person by
    that link, so her erasure by her customer's keys must find her quarantined children by it too
    (attack23). Read as core.normalise reads the owner's id and type, without its checks: a key that
    names no stored record finds nothing."""
    return _owner_source_key(draft.source, draft.owner_id, draft.owner_type)


def _owner_source_key(source: object, owner_id: object, owner_type: object) -> str | None:
    """``source#<source>:<owner type>:<owner id>``, the id and type read as core.normalise reads them,
    or None when either is blank or not an id."""
    from core.normalise._values import _text_id

    owner_id, owner_type = _text_id(owner_id), _text_id(owner_type)
    if not owner_id or not owner_type:
        return None
    return f"source#{source}:{owner_type}:{owner_id}"


def raw_owner_key(raw: str) -> str | None:
    """``owner_key`` of a quarantined item's raw record (its JSON text: the draft's dump, or the line
    as read), for an item written before the owner link was one of its keys (revA29: her erasure and
    export by her customer's keys missed her children quarantined by the previous release)."""
    if '"owner_id"' not in raw:  # most items: no JSON read
        return None
    with contextlib.suppress(ValueError):
        record = json.loads(raw)
        if isinstance(record, dict) and isinstance(record.get("source"), str):
            return _owner_source_key(record["source"], record.get("owner_id"), record.get("owner_type"))
    return None


def identifier_keys(draft: RecordDraft, options: NormaliseOptions | None = None) -> list[str]:
    """The identifier keys a draft's raw values normalise to, each on its own, and its source key."""
    from core.normalise import NormaliseOptions

    region = (options or NormaliseOptions()).default_region
    country = draft.traits.get("country")
    keys: dict[str, None] = {source_key(draft): None}
    owner = owner_key(draft)
    if owner is not None:
        keys[owner] = None
    for field, values in (("email", draft.emails), ("phone", draft.phones)):
        for value in values:
            keys.update(dict.fromkeys(refused_values(field, value, region, country)))
    return with_mailboxes(keys)


def with_mailboxes(keys: Iterable[str]) -> list[str]:
    """``keys`` and the mailbox key of each address among them (core.mailbox: ``mailbox#annsmith@gmail.com``
    for ``email#A.Nn.Smith+shop@googlemail.com``), so that a record holding her mailbox in another
    spelling is found, and dropped, by her mailbox as her stored records are."""
    from core.mailbox import mailbox_key

    out = dict.fromkeys(keys)
    for key in list(out):
        mailbox = mailbox_key(key)
        if mailbox is not None:
            out[mailbox] = None
    return list(out)


def refused_values(field: str, value: Any, region: str, country: Any = None) -> list[str]:
    """The identifier keys one raw ``email`` or ``phone`` value holds (``refused_emails``; a phone read
    in ``region`` and, when it names one, in the region of the record's ``country``): what the
    quarantine keys a record by, and what suppression reads in a record's refused values."""
    if field == "email":
        return [f"email#{email}" for email in refused_emails(value)]
    if field != "phone":
        return []
    regions = [region]
    if isinstance(country, str) and len(country.strip()) == 2 and country.strip().isalpha():
        regions.append(country.strip().upper())
    found = {phone: None for where in dict.fromkeys(regions) for phone in _phones(value, where)}
    return [f"phone#{phone}" for phone in found]


def record_keys(raw: Any) -> list[str]:
    """The identifier keys of a normalised record's dump (``SourceRecord.model_dump``): its source key
    and every identifier's key. A record the store refused (core.isolation) is quarantined as such a
    dump; these keys let an erasure find it."""
    if not isinstance(raw, dict):
        return []
    keys: dict[str, None] = {}
    if all(isinstance(raw.get(f), str) for f in ("source", "object_type", "source_id")):
        keys[f"source#{raw['source']}:{raw['object_type']}:{raw['source_id']}"] = None
    identifiers = raw.get("identifiers")
    # a dump of another shape (a number or an object where the list is) names no identifier
    for identifier in identifiers if isinstance(identifiers, list) else ():
        if isinstance(identifier, dict) and isinstance(identifier.get("kind"), str):
            value = identifier.get("value")
            if isinstance(value, str):
                keys[f"{identifier['kind']}#{value}"] = None
    return with_mailboxes(keys)


def refused_entries(
    connector: str,
    refused: Sequence[Quarantined],
    at: datetime,
    suppression: SuppressionCheck | None,
) -> list[QuarantineEntry]:
    """The quarantine entries of records the store refused (core.isolation), each with the keyed
    hashes of its identifiers (``record_keys``), so an erasure finds it by identifier. Without
    ``suppression`` (no salt) the entries carry no hashes."""
    return [
        QuarantineEntry(
            connector=connector,
            key=_record_key(q),
            reason=q.reason,
            raw=raw_json(q.raw, sort_keys=True),
            at=at,
            subjects=tuple(suppression.hash(k) for k in record_keys(q.raw))
            if suppression is not None
            else (),
        )
        for q in refused
    ]


def _record_key(refused: Quarantined) -> str:
    """``<tool>:<object type>:<id>`` of a refused record (its dump names its object type), so that an
    erasure asks its tool for it (core.privacy_quarantine); ``<tool>:<id>`` for a dump without one."""
    object_type = refused.raw.get("object_type") if isinstance(refused.raw, dict) else None
    if isinstance(object_type, str) and object_type:
        return f"{refused.source}:{object_type}:{refused.source_id}"
    return f"{refused.source}:{refused.source_id}"


def legacy_identifier_keys(raw: str, region: str = "US") -> set[str]:
    """The email and phone keys the string values of a raw record (JSON) normalise to."""
    return set(with_mailboxes({key for text in raw_values(raw) for key in value_keys(text, region)}))


def raw_values(raw: str | Any) -> Iterator[str]:
    """The string values of a raw record (its JSON text, or the document itself)."""
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            raw = json.loads(raw)
    return _strings(raw)


def value_keys(text: str, region: str = "US") -> set[str]:
    """The email and phone keys one string value of a raw record normalises to."""
    if "@" in text or "\uff20" in text or "\ufe6b" in text or "%40" in text:
        return {f"email#{email}" for email in refused_emails(text)}
    if sum(c.isdigit() for c in text) >= 7:
        # the value itself only: every timestamp of every such item would cost the matcher's search
        phone = _phone(text, region)
        if phone is not None:
            return {f"phone#{phone}"}
    return set()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _phones(value: Any, region: str) -> list[str]:
    """The numbers a raw phone value holds: the value normalised, or, when it is no number itself
    (``+44 20 7946 0018 (mobile)``, two numbers in one field), each valid number phonenumbers'
    matcher finds written whole in it (a longer run of digits holding hers is no match).

    The matcher reads the value with its Unicode separators folded to spaces (``fold_phone_separators``),
    and once more with each ``00`` that starts a number read as ``+`` (as ``normalise_phone`` reads
    one), since it knows only the region's own international prefix (011 in the US). A match that a
    ``+`` and a country code precede is the tail of an international number, never a national one:
    it is read with that code (``+44 | 20 7946 0417`` is +44 20 7946 0417, never the American
    ``20 7946 0417``; ``+1 | 212 555 0100`` is +1 212 555 0100, the person's own number)."""
    phone = _phone(value, region)
    if phone is not None:
        return [phone]
    if not isinstance(value, str) or len(value) > _MOST_PHONE_TEXT:
        return []
    import phonenumbers

    from core.normalise import fold_phone_separators

    text = fold_phone_separators(value)
    found: dict[str, None] = {}
    for variant in dict.fromkeys((text, _DOUBLE_ZERO.sub("+", text))):
        for match in phonenumbers.PhoneNumberMatcher(variant, region):
            code = _AFTER_COUNTRY_CODE.search(variant, 0, match.start)
            # the national part of the number the code names (``+1 | 212 555 0100`` is +1 212 555 0100)
            written = match.raw_string if code is None else f"+{code[1]} {match.raw_string}"
            number = _phone(written, region)
            if number is not None:
                found[number] = None
    return list(found)


#: A ``00`` that starts a number (not inside a run of digits, nor a group of one): read as ``+``.
_DOUBLE_ZERO: Final = re.compile(r"(?<![\d+])(?<!\d[ .-])00(?=[1-9])")
#: A ``+`` and up to three digits (a country code) with no letter or digit after them, before a
#: match: ``+44 | 20 7946 0417`` is a British number written oddly, never the American 20 7946 0417;
#: the match is read with that code (a number it makes no valid one is no number).
_AFTER_COUNTRY_CODE: Final = re.compile(r"\+(\d{1,3})[\W_]*\Z")


def misread_before(raw: str, source: str, keys: set[str], region: str = "US") -> bool:
    """Whether a quarantined item written before this version names a person (``keys``: theirs) only
    through a number the phone matcher of then misread: the tail of an international number written
    with a separator phonenumbers refuses (``+44<thin space>20 7946 0417`` keyed as the American
    ``+1 207-946-0417``). Such an item holds that person's hash, yet nothing in it is theirs: their
    erasure must not take it, nor their export list it. ``source``: the item's record key
    (``<tool>:<type>:<id>``). False whenever it is theirs for a reason read now (an address, a number,
    its record id), and for an item whose record key names no object type (its source key unknown)."""
    phones = {key for key in keys if key.startswith("phone#")}
    if not phones or source.count(":") < 2 or f"source#{source}" in keys:
        return False
    texts = [t for t in raw_values(raw) if sum(c.isdigit() for c in t) >= 7 and len(t) <= _MOST_PHONE_TEXT]
    if not texts:
        return False
    now = set(with_mailboxes(legacy_identifier_keys(raw, region)))
    now.update(f"phone#{phone}" for text in texts for phone in _phones(text, region))
    if now & keys:
        return False
    import phonenumbers

    then = {
        f"phone#{number}"
        for text in texts
        for match in phonenumbers.PhoneNumberMatcher(text, region)
        if (number := _phone(match.raw_string, region)) is not None
    }
    return bool(then & phones)


def _phone(value: Any, region: str) -> str | None:
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)  # a whole float (pandas writes a column with a gap so: 442079460018.0)
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    from core.normalise import normalise_phone

    try:
        return normalise_phone(str(value), region)
    except NormalisationError:
        return None


__all__ = [
    "QUARANTINE_RETENTION_DAYS",
    "address_text",
    "identifier_keys",
    "legacy_identifier_keys",
    "misread_before",
    "raw_owner_key",
    "raw_values",
    "record_keys",
    "refused_emails",
    "refused_entries",
    "refused_values",
    "source_key",
    "value_keys",
    "with_mailboxes",
]
