"""Who holds an identifier value under the guardrail limits: people, not records.

``core.identity.group_records`` refuses a value to a batch's records once more *holders* than its
kind's limit hold it (email 8, phone 5 by default). ``limit_holder`` names the holder of one record,
from that record alone, so the decision stays a function of the records (any order, any store): the
person it names in full (folded name, birth date, national id), else the record itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from core.schema import SourceRecord

__all__ = ["counts_toward_limits", "limit_holder"]


def limit_holder(record: SourceRecord) -> str | None:
    """Who a record counts as under the guardrail limits, or None when it does not count.

    The limits count people, not records. A people-level record (a contact, a member, a customer)
    that names its person in full (a first and a last name, or a full name of two words or more)
    holds as that person: its folded name, with its birth date and national id when it has them.
    One person in every tool the business uses (nine records of one email and one name) is then one
    holder, while a family inbox (other first names) or an office switchboard (colleagues) stays one
    holder per person. Records that agree on the name but not on a birth date or a national id, or
    where only one has them, count as two: only the evidently same person counts once. A
    people-level record without a full name (no name, a first name alone) holds as itself, its
    source key: nothing tells whose it is.

    A child object with an owner (an order of a customer) never counts: it repeats its buyer's email,
    and counting it made a shopper's ninth order a "shared" address. A child of its own person
    (``RecordDraft.same_person_as_owner``, a converted lead: the one child with an owner that keeps
    emails and phones) counts as that person, as a people-level record does, else as its owner (her
    record): ten colleagues' leads on the office inbox are ten holders. A child without an owner (a
    guest order, a guest charge) joins by its email and phone like a person, so it counts as the
    person it names: its billing name in full (folded, the same holder as a people-level record of
    that full name), else its phone (a one-word name, "Guest", tells no buyer). A repeat guest
    buyer's twelve orders are then one holder, while twelve strangers' guest orders on the shop's
    own address (staff keying in orders for buyers who gave none) are twelve, past the limit. A
    guest child naming nobody (no name, no phone) does not count: nothing tells its buyers apart.
    """
    traits = record.traits
    if record.level == "person":
        name = _named(traits)
        if " " not in name:  # no name, or one word: not enough to say two records are one person
            return record.key
        return _person_named(name, traits)
    if record.owner is not None:
        if all(ident.kind == "source" for ident in record.identifiers):
            return None  # an order, a charge: it joins by its owner link alone
        name = _named(traits)  # a child of its own person (a converted lead) holds her address
        return _person_named(name, traits) if " " in name else record.owner
    name = _named(traits)
    if " " in name:  # a one-word name (staff's placeholder "Guest") tells no buyer, as for a person
        return _person_named(name, traits)
    for ident in record.identifiers:
        if ident.kind == "phone":
            return f"guest phone {ident.value}"
    return None


def _person_named(name: str, traits: Mapping[str, str]) -> str:
    """The holder a record naming ``name`` (folded) counts as: the name, and the birth date and
    national id it gives (a record with one and one without are two holders)."""
    holder = f"named {name}"
    born = traits.get("date_of_birth")
    if born:
        holder += f" born {born.strip()}"
    national_id = traits.get("national_id")
    if national_id:
        holder += f" id {_NATIONAL_ID_DROP.sub('', national_id).casefold()}"
    return holder


_NAME_DROP = re.compile(r"[.,'’]")
_NATIONAL_ID_DROP = re.compile(r"[\s.\-/]")


def _named(traits: Mapping[str, str]) -> str:
    """The name a record's traits give its person, folded (case, accents, dots, spaces), or ''."""
    name = traits.get("full_name") or " ".join(
        part for part in (traits.get("first_name"), traits.get("last_name")) if part
    )
    if not name:
        return ""
    name = str(name)
    if name.isascii():  # nothing to decompose (NFKD leaves ASCII as it is), nor accents to drop
        folded = name.lower()
    else:
        folded = unicodedata.normalize("NFKD", name)
        folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return " ".join(_NAME_DROP.sub(" ", folded).split())


def counts_toward_limits(record: SourceRecord) -> bool:
    """Whether a record counts as a holder of its emails and phones under the guardrail limits
    (``limit_holder``): people-level records, and guest children that name their person."""
    return record.level == "person" or limit_holder(record) is not None
