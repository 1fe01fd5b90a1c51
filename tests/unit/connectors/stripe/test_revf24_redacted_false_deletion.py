"""revF24: a Stripe customer or charge that merely holds the text ``[redacted]`` in one field is no
redaction. A redaction job replaces every personal field (https://docs.stripe.com/privacy/redaction-
integration): an object that still shows a real address, name or phone beside the placeholder was
written so by a person (a payer typing ``[redacted]`` as a name at checkout, a merchant hiding a
name), and reading it as a deletion retired her record, her real address with it (data lost)."""

from __future__ import annotations

import pytest

from connectors.stripe._redacted import is_redacted


@pytest.mark.parametrize(
    "obj",
    [
        {"id": "cus_1", "email": "ann@example.com", "name": "[redacted]"},
        {"id": "cus_1", "email": "ann@example.com", "phone": "[redacted]"},
        {"id": "ch_1", "billing_details": {"email": "ann@example.com", "name": "[redacted]"}},
        {"id": "ch_1", "receipt_email": "ann@example.com", "billing_details": {"name": "[redacted]"}},
    ],
)
def test_a_placeholder_beside_a_real_personal_value_is_no_redaction(obj: object) -> None:
    # GIVEN an object one of whose personal fields a person wrote as "[redacted]", another still real
    # WHEN asked whether Stripe redacted it THEN no: a redaction job leaves no real personal value
    assert not is_redacted(obj)


def test_every_personal_value_a_placeholder_is_still_a_redaction() -> None:
    assert is_redacted({"id": "cus_1", "email": "[redacted]", "name": "[redacted]", "phone": None})
    assert is_redacted(
        {"id": "ch_1", "receipt_email": "[redacted]", "billing_details": {"email": "[redacted]", "name": ""}}
    )
