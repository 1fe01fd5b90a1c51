"""priv26: only a redaction that has run is a deletion, at the pull and at the erasure's check.

Stripe's redaction job (https://docs.stripe.com/api/privacy/redaction-job/object) is ``created``,
``validating``, then ``ready`` or ``failed``; it can be cancelled only in ``ready`` or ``failed`` ("The
job is canceled. No objects are redacted."), and once run "This action is irreversible and cannot be
canceled once started" (https://docs.stripe.com/api/privacy/redaction-job/run). An object's
``redaction.status`` is ``processing`` while its redaction runs and ``redacted`` once done
(https://docs.stripe.com/privacy/redaction-integration): both are final. A status before the run
(``validated``, which 2026-06-24.dahlia adds to the enum: "passed validation but isn't redacted yet",
https://docs.stripe.com/changelog/dahlia/2026-06-24/redaction-status-enum-validated-status), or any
status Stripe may add, leaves the object's data at Stripe while a cancel or a failed validation can
still stop its job: it is no deletion.
"""

from __future__ import annotations

import dataclasses

import pytest

from connectors._http import RetryPolicy
from connectors.stripe import DECLARATION, PLUGIN, StripeConnector, make_sandbox
from connectors.stripe._redacted import is_redacted
from core.schema import Identifier

UNPACED = dataclasses.replace(DECLARATION, account_limits=())
BEFORE_THE_RUN = ["validated", "validating", "ready", "failed", "canceled", "pending"]


@pytest.mark.parametrize("status", BEFORE_THE_RUN)
def test_a_status_before_the_run_is_no_redaction(status: str) -> None:
    obj = {"id": "cus_1", "email": "ann@example.com", "redaction": {"status": status}}
    assert is_redacted(obj) is False


@pytest.mark.parametrize("status", BEFORE_THE_RUN)
def test_her_erasure_asks_stripe_for_a_customer_whose_redaction_has_not_run(status: str) -> None:
    # GIVEN a customer with her data still shown, whose redaction hash says a job has not run (a job
    # validated, then cancelled or failed: Stripe still holds her)
    sandbox = make_sandbox(people=20, seed=5, requests_per_second=10_000)
    customer = sorted(sandbox.customers)[0]
    email = sandbox.customers[customer]["email"]
    sandbox.customers[customer]["redaction"] = {"status": status}
    # WHEN she is erased by the id we hold (the job's poll noted, not slept: the sandbox validates it
    # at the next read however soon)
    waits: list[float] = []
    settings = dataclasses.replace(sandbox.settings(), retry=RetryPolicy(sleep=waits.append))
    with PLUGIN.build(settings) as connector:
        (outcome,) = connector.erase([Identifier(kind="source", value=f"stripe:customer:{customer}")])
    assert waits == [1.0]
    # THEN a redaction job is run over her (before, her customer was answered "nothing left to redact",
    # confirmed absent, and kept at Stripe with her data)
    assert (outcome.found, outcome.absent) == (True, False)
    assert "redaction job" in outcome.detail
    assert email not in sandbox.holdings()


def test_a_customer_whose_redaction_has_not_run_is_pulled_as_a_version() -> None:
    sandbox = make_sandbox(people=8, seed=5, requests_per_second=10_000)
    customer = sorted(sandbox.customers)[0]
    sandbox.customers[customer]["redaction"] = {"status": "validated"}
    with StripeConnector(UNPACED, sandbox.settings()) as connector:
        drafts = [d for page in connector.pull(None) for d in connector.to_records(page)]
    mine = [d for d in drafts if (d.object_type, d.source_id) == ("customer", customer)]
    assert mine
    assert not any(d.deleted for d in mine)


@pytest.mark.parametrize("status", ["processing", "redacted"])
def test_a_run_redaction_is_confirmed_absent(status: str) -> None:
    sandbox = make_sandbox(people=20, seed=5, requests_per_second=10_000)
    customer = sorted(sandbox.customers)[0]
    sandbox.customers[customer]["redaction"] = {"status": status}
    with PLUGIN.build(sandbox.settings()) as connector:
        (outcome,) = connector.erase([Identifier(kind="source", value=f"stripe:customer:{customer}")])
    assert (outcome.found, outcome.absent) == (False, True)
