"""Value normalisers and ``normalise_record``: a connector's ``RecordDraft`` becomes a clean record.

Every normaliser takes one raw value and returns its canonical form, or raises
``NormalisationError(field, reason)`` with a short reason a person can act on. ``normalise_record``
applies them to a whole draft and never raises: a bad value is left out of the record as a
``DroppedValue`` (the record survives), and a record that cannot be used at all (no source id, no
valid ``updated_at``, no valid email or phone) becomes ``Quarantined`` with a reason.

This module is pure: no I/O, and it must not import boto3 or httpx, directly or indirectly (see
tests/unit/test_core_purity.py). It runs once per record in every sync, so the hot normalisers are
wrapped in ``functools.lru_cache``; the same emails, phones, names and timestamps recur across runs
and across sources, and phonenumbers in particular costs tens of microseconds per call.

The package is split by field kind (email, phone, names and traits, country and currency, money
and orders, time, limits) into private modules; this module re-exports the public names. The
limits (``MAX_*``) bound every part of a record so that it fits one stored item, one message and
one transaction (see ``core.normalise._limits``).
"""

from __future__ import annotations

from ._assembly import use_assembler, use_email_normaliser, use_order_reader
from ._country import normalise_country, normalise_currency
from ._email import legacy_email_spelling, normalise_email
from ._identity import (
    birth_date_slip,
    has_external_id,
    has_other_identity,
    is_possible_birth_date,
    parse_date_of_birth,
    plausible_national_id,
    trait_text,
)
from ._limits import (
    MAX_CHANNEL_CHARS,
    MAX_CONSENT_CHANNELS,
    MAX_DROPPED,
    MAX_IDENTIFIERS,
    MAX_INLINE_ORDERS,
    MAX_KEY_BYTES,
    MAX_ORDER_ID_CHARS,
    MAX_RECORD_BYTES,
    MAX_TRAIT_CHARS,
    MAX_TRAIT_NAME_CHARS,
    MAX_TRAITS_BYTES,
)
from ._money import minor_units, normalise_money, parse_amount
from ._names import normalise_name
from ._options import NormaliseOptions, is_future_dated, read_on_tool_clock
from ._payment_refs import normalise_payment_refs
from ._phone import fold_phone_separators, normalise_phone, phone_region
from ._record import count_outcomes, normalise_record
from ._time import datable, epoch_moment, normalise_timestamp

__all__ = [
    "MAX_CHANNEL_CHARS",
    "MAX_CONSENT_CHANNELS",
    "MAX_DROPPED",
    "MAX_IDENTIFIERS",
    "MAX_INLINE_ORDERS",
    "MAX_KEY_BYTES",
    "MAX_ORDER_ID_CHARS",
    "MAX_RECORD_BYTES",
    "MAX_TRAITS_BYTES",
    "MAX_TRAIT_CHARS",
    "MAX_TRAIT_NAME_CHARS",
    "NormaliseOptions",
    "birth_date_slip",
    "count_outcomes",
    "datable",
    "epoch_moment",
    "fold_phone_separators",
    "has_external_id",
    "has_other_identity",
    "is_future_dated",
    "is_possible_birth_date",
    "legacy_email_spelling",
    "minor_units",
    "normalise_country",
    "normalise_currency",
    "normalise_email",
    "normalise_money",
    "normalise_name",
    "normalise_payment_refs",
    "normalise_phone",
    "normalise_record",
    "normalise_timestamp",
    "parse_amount",
    "parse_date_of_birth",
    "phone_region",
    "plausible_national_id",
    "read_on_tool_clock",
    "trait_text",
    "use_assembler",
    "use_email_normaliser",
    "use_order_reader",
]

# Not public: importable from here as they were before the split, for the tests that compare the
# phone fast path with phonenumbers itself.
from ._phone import _fast_parse_phone as _fast_parse_phone
from ._phone import _is_valid_number as _is_valid_number
from ._phone import _normalise_phone as _normalise_phone
