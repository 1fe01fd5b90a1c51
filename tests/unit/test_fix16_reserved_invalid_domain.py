"""The reserved ``.invalid`` TLD (RFC 2606, RFC 6761 section 6.4) in the identifier blocklist: every
address under it is a placeholder (WordPress's eraser writes ``deleted@site.invalid`` for everyone),
never a mailbox; a real domain that merely contains the word is no placeholder."""

from __future__ import annotations

import pytest

from core.identity import IdentityPolicy
from core.normalise import normalise_email
from core.schema import Identifier


@pytest.mark.parametrize(
    "address",
    ["deleted@site.invalid", "Deleted@SITE.INVALID", "anyone@shop.example.invalid"],
)
def test_an_address_under_the_invalid_tld_is_blocked(address: str) -> None:
    # GIVEN an address under .invalid as normalisation stores it WHEN asked THEN it is blocked
    identifier = Identifier(kind="email", value=normalise_email(address))
    assert IdentityPolicy().is_blocked(identifier)
    assert IdentityPolicy().is_blocked_once(identifier)


@pytest.mark.parametrize(
    "address", ["ann@invalid.com", "ann@invalidated.example", "ann@site.invalid.example", "invalid@shop.com"]
)
def test_a_real_domain_naming_invalid_is_not_blocked(address: str) -> None:
    # GIVEN a real domain or mailbox that only contains the word WHEN asked THEN it still matches
    assert not IdentityPolicy().is_blocked(Identifier(kind="email", value=normalise_email(address)))
