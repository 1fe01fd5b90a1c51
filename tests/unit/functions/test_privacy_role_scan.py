"""privacy17: the privacy function's role may Scan the profiles table.

An erasure that finds nobody reads the frozen customers for her (core/privacy_orphans.py), on
DynamoDB a Scan filtered to the frozen profiles (``FROZEN_SCAN``); without a statement allowing it
the erasure fails with AccessDenied in Lambda (red before privacy17: the Scan, made before only for a
value an earlier erasure suppressed, was allowed by no statement of PrivacyRole).
"""

from __future__ import annotations

from tests.integration.functions.test_identity_review import _allowed


def test_the_privacy_role_may_scan_for_frozen_customers() -> None:
    assert _allowed("Scan", "*", "PrivacyRole")


def test_the_privacy_role_still_reads_only_its_own_leading_keys() -> None:
    assert _allowed("Query", "CUSTOMER#cus_1", "PrivacyRole")
    assert not _allowed("Query", "SYNC#hubspot", "PrivacyRole")
