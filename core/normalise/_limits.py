"""Limits: how long a raw value may be, how large a cache is, and how large one record may become.

A normalised record is stored whole in one DynamoDB item (its snapshot), travels whole in one SQS
message (pull -> merge), and its writes go in one transaction. Each of those has a hard limit, and a
record over any of them used to fail the batch, the message or the run it was in. So normalisation
bounds every part of a record, and the bounds below add up to well under the smallest of those
limits (tests/unit/test_normalise_limits.py builds the largest record they allow and measures it):

* DynamoDB item: 400 KB; partition key 2,048 bytes, sort key 1,024 bytes
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
  The snapshot's sort key is ``SOURCE#<source>:<object type>:<id>``.
* ``TransactWriteItems``: 100 items and 4 MB. A new record writes its snapshot, its profile, and
  one identifier item per identifier; an update can release as many identifiers as it claims.
* SQS message: 256 KB (pull packs records into messages; one record must fit alone).
"""

from __future__ import annotations

from typing import Final

_CACHE_SIZE: Final = 65536

#: Inputs longer than this are rejected before any parsing, so a hostile or broken source cannot
#: make us run regexes over megabytes or fill the caches with huge keys.
_MAX_INPUT_LEN: Final = 1024

#: The record key ``source:object_type:source_id`` in UTF-8. The snapshot's sort key is
#: ``SOURCE#`` + key and must stay within DynamoDB's 1,024 bytes, with room to spare.
MAX_KEY_BYTES: Final = 1000

#: Emails and phones kept per record (the first ones, in the vendor's order). Worst case for one
#: record's update: every one released and as many new ones claimed (2 x 40), plus its own source id,
#: an owner link, the snapshot and the profile: 85 writes, inside one 100-item transaction. A dotted
#: Gmail address's mailbox marker is one more (124 for 40 replaced): those are committed ahead then
#: (core.ingest_markers). Suppression's guards are not counted here (docs/architecture.md, "Bad input").
MAX_IDENTIFIERS: Final = 40

#: Orders kept inline per record (the newest); the older ones are summed up in ``OrderSummary``.
MAX_INLINE_ORDERS: Final = 100

#: An order id longer than this is refused (one order's id, not a record's).
MAX_ORDER_ID_CHARS: Final = 256

#: A trait's name (a vendor's property name is a few dozen characters).
MAX_TRAIT_NAME_CHARS: Final = 128

#: One trait value, and all the traits of one record together (UTF-8 bytes of names and values).
MAX_TRAIT_CHARS: Final = 4096
MAX_TRAITS_BYTES: Final = 32 * 1024

#: Consent channels per record, and the length of a channel's name.
MAX_CONSENT_CHANNELS: Final = 20
MAX_CHANNEL_CHARS: Final = 64

#: Dropped values listed per record; beyond them one entry counts the rest.
MAX_DROPPED: Final = 50

#: The stored record's JSON may not exceed this (checked only when its parts could add up to it).
MAX_RECORD_BYTES: Final = 200 * 1024
