"""A Stripe object its redaction job redacted is a deletion of its record, not a version: by the
``redaction`` hash of API versions from 2026-06-24.preview, or by the ``[redacted]`` placeholders
the older versions show (connectors/stripe/_redacted.py)."""

from __future__ import annotations

import dataclasses

import pytest

from connectors.stripe import DECLARATION, StripeConnector, make_sandbox
from connectors.stripe._redacted import is_redacted

UNPACED = dataclasses.replace(DECLARATION, account_limits=())


@pytest.mark.parametrize(
    ("obj", "redacted"),
    [
        ({"id": "cus_1", "email": "ann@example.com", "redaction": {"status": "redacted"}}, True),
        ({"id": "cus_1", "email": "ann@example.com", "redaction": {"status": "processing"}}, True),
        ({"id": "cus_1", "email": "[redacted]", "name": "[redacted]"}, True),
        ({"id": "cus_1", "email": None, "phone": "[redacted]"}, True),
        ({"id": "ch_1", "billing_details": {"email": "[redacted]", "name": None}}, True),
        ({"id": "cus_1", "email": "ann@example.com", "redaction": None}, False),
        ({"id": "cus_1", "email": "ann@example.com", "name": "Ann [redacted] Smith"}, False),
        ({"id": "ch_1", "billing_details": {"email": "ann@example.com"}, "description": "[redacted]"}, False),
        ("cus_1", False),
    ],
)
def test_what_reads_as_redacted(obj: object, redacted: bool) -> None:
    assert is_redacted(obj) is redacted


def test_a_full_pull_reads_redacted_customers_and_charges_as_deletions() -> None:
    # GIVEN a Stripe account where one customer carries the preview API's redaction hash (her values
    # still shown) and one charge of another customer shows the placeholders
    sandbox = make_sandbox(people=8, seed=5, requests_per_second=10_000)
    customer = sorted(sandbox.customers)[0]
    charge = sorted(k for k, c in sandbox.charges.items() if c.get("customer") != customer)[0]
    sandbox.customers[customer]["redaction"] = {"status": "redacted"}
    placeholders = {"email": "[redacted]", "name": "[redacted]", "address": None}
    sandbox.charges[charge]["billing_details"] = placeholders
    sandbox.charges[charge]["receipt_email"] = "[redacted]"  # a job redacts every personal field
    # WHEN the account is pulled from scratch
    with StripeConnector(UNPACED, sandbox.settings()) as connector:
        drafts = [d for page in connector.pull(None) for d in connector.to_records(page)]
    # THEN those two are tombstones of their records, and no other record is
    deleted = {(d.object_type, d.source_id) for d in drafts if d.deleted}
    assert deleted == {("customer", customer), ("charge", charge)}
    listed = {(d.object_type, d.source_id) for d in drafts if not d.deleted}
    assert ("customer", customer) not in listed
    assert len(listed) >= len(sandbox.customers) - 1
