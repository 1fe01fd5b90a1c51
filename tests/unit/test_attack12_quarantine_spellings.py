"""attack12: a quarantined record whose email field holds a person's address in a form the normaliser
refuses, yet whole: ``Zéphyrine Quillfeather <zq@gmail.com>`` (RFC 5322's name-addr, what a mail
client copies and many CSV exports write), ``mailto:zq@gmail.com`` (a link's target), ``zq@gmail.com.``
(the domain written fully qualified).

docs/privacy.md, "No copy left": a quarantined record is stored with the keyed hashes of the
identifiers its raw values normalise to, and erasure finds it by those. These values normalise to
nothing, so the record carried no key of her address: her erasure left it (her name, her address) in
the store, and after her erasure ``resolve`` and ``sync`` quarantined a new such record of hers with its
content instead of dropping it (red before: ``identifier_keys`` gave only the source key). The
addresses inside such a value are keyed now, each token of address characters whole, so that
``jotariq@...`` still never yields ``tariq@...``'s key.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from hypothesis import assume, given
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.errors import NormalisationError
from core.normalise import normalise_email, normalise_phone
from core.quarantine import identifier_keys, legacy_identifier_keys


def _normalised(address: str) -> str | None:
    try:
        return normalise_email(address)
    except NormalisationError:
        return None


def _draft(email: Any) -> Any:
    return draft_from_flat({"source": "crm", "id": "7", "updated_at": "2026-01-05T10:00:00Z", "email": email})


#: The forms an address is written in that hold it whole but are no address themselves.
WRAPPINGS = st.sampled_from(
    [
        "Zéphyrine Quillfeather <{}>",
        '"Quillfeather, Zéphyrine" <{}>',
        "<{}>",
        "mailto:{}",
        "MAILTO:{}",
        "{}.",
        " {} (work)",
        "'{}'",
    ]
)


@given(address=st.emails(), wrapping=WRAPPINGS)
def test_an_address_written_whole_inside_a_refused_value_is_keyed(address: str, wrapping: str) -> None:
    expected = _normalised(address)
    assume(expected is not None)
    # a quoted address whose user name starts with a quote or brace is read without it (the limit)
    assume(not (wrapping.startswith("'") and address[0] in "'{}"))
    value = wrapping.format(address)
    assume(_normalised(value) is None)  # a form the normaliser refuses: the record is quarantined
    # WHEN the quarantine keys a record whose email field holds it
    keys = identifier_keys(_draft(value))
    # THEN her address's key is among them, so her erasure finds the record and her suppression drops it
    assert f"email#{expected}" in keys
    assert f"email#{expected}" in legacy_identifier_keys(f'{{"email": "{value}"}}')


@given(address=st.emails(), prefix=st.text(alphabet="abcxyz0123456789._-+", min_size=1, max_size=6))
def test_an_address_that_merely_ends_with_hers_never_gives_her_key(address: str, prefix: str) -> None:
    expected = _normalised(address)
    longer = _normalised(prefix + address)
    assume(expected is not None and longer is not None and longer != expected)
    # GIVEN someone else's address that ends with hers, written in a refused form
    value = f"Jo <{prefix}{address}>"
    # THEN only that address is keyed, never hers (keys are of whole tokens, not of text found inside)
    keys = identifier_keys(_draft(value))
    assert f"email#{longer}" in keys
    assert f"email#{expected}" not in keys


# --- phones: the same promise ---------------------------------------------------------------------

#: Example numbers phonenumbers ships (its metadata's, not ours) for regions and number types.
EXAMPLES = [
    number
    for region in ("GB", "US", "DE", "FR", "IN", "BR", "JP", "AU", "NG", "MX")
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
    if (number := phonenumbers.example_number_for_type(region, kind)) is not None
]
PHONE_WRAPPINGS = st.sampled_from(
    [
        "{} (mobile)",
        "Tel: {} / {other}",
        "{}, {other}",
        "{};{other}",
        "home {} or work {other}",
        "{} (ask for Zé)",
    ]
)


@given(
    number=st.sampled_from(EXAMPLES),
    other=st.sampled_from(EXAMPLES),
    style=st.sampled_from(
        [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]
    ),
    wrapping=PHONE_WRAPPINGS,
)
def test_a_phone_written_whole_inside_a_refused_value_is_keyed(
    number: phonenumbers.PhoneNumber, other: phonenumbers.PhoneNumber, style: int, wrapping: str
) -> None:
    written = phonenumbers.format_number(number, style)
    value = wrapping.format(written, other=phonenumbers.format_number(other, style))
    try:
        normalise_phone(value, "US")
    except NormalisationError:
        pass
    else:
        assume(False)  # a form the normaliser reads is no refused value
    draft = draft_from_flat(
        {"source": "crm", "id": "7", "updated_at": "2026-01-05T10:00:00Z", "phone": value}
    )
    # WHEN the quarantine keys a record whose phone field holds it
    keys = identifier_keys(draft)
    # THEN the number's key is among them
    assert f"phone#{phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)}" in keys


def test_a_longer_number_that_holds_hers_never_gives_her_key() -> None:
    draft = draft_from_flat(
        {
            "source": "crm",
            "id": "7",
            "updated_at": "2026-01-05T10:00:00Z",
            "phone": "+44 20 7946 07311 (mobile)",
        }
    )
    assert [k for k in identifier_keys(draft) if k.startswith("phone#")] == []
