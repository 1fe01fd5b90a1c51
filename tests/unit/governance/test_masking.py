"""Masks keep what helps recognise a value (the domain, the last four digits) and drop the rest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.governance.masking import mask_email, mask_identifier, mask_phone, mask_source_key

LOCAL = st.text("abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=30)
DOMAIN = st.from_regex(r"[a-z]{1,10}\.(com|co\.uk|de)", fullmatch=True)


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("ann.lee@example.com", "a***@example.com"),
        ("bob@example.co.uk", "b***@example.co.uk"),
        ("al@example.com", "***@example.com"),
        ("a@example.com", "***@example.com"),
        ("not-an-email", "***"),
    ],
)
def test_an_email_keeps_its_domain_and_at_most_its_first_letter(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@given(local=LOCAL, domain=DOMAIN)
def test_a_masked_email_never_contains_its_local_part(local: str, domain: str) -> None:
    masked = mask_email(f"{local}@{domain}")
    shown, _, rest = masked.partition("@")
    assert rest == domain
    assert shown in ("***", local[0] + "***")
    assert local not in shown or (len(local) == 1 and shown == "***")


@given(digits=st.text("0123456789", min_size=0, max_size=15))
def test_a_masked_phone_shows_its_last_four_digits_only(digits: str) -> None:
    masked = mask_phone("+" + digits)
    if len(digits) >= 8:
        assert masked == "***" + digits[-4:]
    else:
        assert masked == "***"


def test_a_source_key_keeps_its_tool_and_object_type() -> None:
    assert mask_source_key("shopify:customer:gid://shopify/Customer/7") == "shopify:customer:***"
    assert mask_identifier("source", "hubspot:contact:123") == "hubspot:contact:***"
    assert mask_identifier("phone", "+442079460018") == "***0018"
    assert mask_identifier("fax", "whatever") == "***"
