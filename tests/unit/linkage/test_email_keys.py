"""Provider-aware email match keys: one mailbox, one key; the stored address never changes."""

from __future__ import annotations

import pytest

from core.linkage import email_match_key, likely_typo_of, linkage_record


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("john.smith@gmail.com", "johnsmith@gmail.com"),
        ("J.O.H.N.Smith@Gmail.com", "johnsmith@gmail.com"),
        ("johnsmith+shop@gmail.com", "johnsmith@gmail.com"),
        ("john.smith+a.b@googlemail.com", "johnsmith@gmail.com"),
        ("lena+news@fastmail.com", "lena@fastmail.com"),
        ("tariq.aziz+promo@outlook.com", "tariq.aziz@outlook.com"),
        ("sam+x@hotmail.com", "sam@hotmail.com"),
        ("alice+list@pm.me", "alice@protonmail.com"),
        ("alice@proton.me", "alice@protonmail.ch"),
        ("yara+deals@me.com", "yara@icloud.com"),
    ],
)
def test_addresses_of_one_mailbox_share_a_key(left: str, right: str) -> None:
    """GIVEN two spellings the provider delivers to one mailbox WHEN keyed THEN the keys are equal."""
    assert email_match_key(left) == email_match_key(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("john.smith@example.com", "johnsmith@example.com"),  # dots matter outside Gmail
        ("sales+eu@example.com", "sales@example.com"),  # a + may be a mailbox of its own elsewhere
        ("john.smith@outlook.com", "johnsmith@outlook.com"),  # Outlook keeps dots
        ("ann@gmail.com", "ann@gmial.com"),  # a typo domain is never folded in
        ("ann@fastmail.com", "ann@fastmail.fm"),  # two Fastmail domains are two mailboxes
    ],
)
def test_different_mailboxes_keep_different_keys(left: str, right: str) -> None:
    """GIVEN addresses that may be different mailboxes WHEN keyed THEN the keys differ."""
    assert email_match_key(left) != email_match_key(right)


def test_the_stored_email_is_never_rewritten() -> None:
    """GIVEN a Gmail address with dots and a tag WHEN prepared THEN the email stays, only the key folds."""
    record = linkage_record("crm:contact:1", {}, ["John.Smith+shop@gmail.com"])
    assert record.emails == ("john.smith+shop@gmail.com",)
    assert record.email_keys == ("johnsmith@gmail.com",)


@pytest.mark.parametrize(
    ("domain", "meant"),
    [
        ("gmial.com", "gmail.com"),
        ("gmai.com", "gmail.com"),
        ("gmail.con", "gmail.com"),
        ("hotmial.com", "hotmail.com"),
    ],
)
def test_likely_typo_domains_are_flagged_with_what_they_meant(domain: str, meant: str) -> None:
    """GIVEN a domain one slip from a provider WHEN checked THEN the provider is named."""
    assert likely_typo_of(domain) == meant


@pytest.mark.parametrize(
    "domain", ["gmail.com", "mail.com", "ymail.com", "example.com", "acme.co.uk", "me.com"]
)
def test_real_domains_are_not_typos(domain: str) -> None:
    """GIVEN a known provider or an unrelated domain WHEN checked THEN it is not taken for a typo."""
    assert likely_typo_of(domain) is None
