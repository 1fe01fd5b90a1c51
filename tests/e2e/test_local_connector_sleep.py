"""The local runtime's connectors wait with the sleep it is given (``LocalRuntime(connector_sleep=)``).

Klaviyo's bulk import job and Stripe's redaction job are polled after a wait (1 s, doubling to
16 s: connectors/klaviyo/_declaration.py, connectors/stripe/_erase.py), slept by the connector's
``RetryPolicy``. In the local runtime that was real time: about 3 s of each end-to-end erasure test
(a push to Klaviyo, an erase at Stripe), whatever the machine's load. A runtime given
``connector_sleep`` hands it to every connector it builds, so the waits are counted, not slept.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from profilesync.local import LocalRuntime
from tests.e2e.test_erasure import DPO, quick_sandboxes

pytestmark = pytest.mark.slow


def test_the_klaviyo_job_poll_and_the_stripe_redaction_wait_use_the_runtimes_sleep(tmp_path: Path) -> None:
    slept: list[float] = []
    sandboxes = quick_sandboxes(["klaviyo", "stripe"], 6)
    with LocalRuntime(sandboxes, log_path=tmp_path / "handlers.log", connector_sleep=slept.append) as rt:
        # GIVEN both tools pulled and their people pushed to each other (a Klaviyo import job)
        for name in ("klaviyo", "stripe"):
            rt.pull(name)
        rt.settle()
        polled = list(slept)
        # WHEN a Stripe customer is erased (a redaction job, waited on while it validates)
        email = next(iter(sandboxes["stripe"].customers.values()))["email"]
        answer = rt.invoke("PrivacyFunction", {"action": "erase", "email": email, "requested_by": DPO})
        # THEN every wait went to the runtime's sleep: the import job's and the redaction job's first
        assert answer["tools"]["stripe"] == "erased", answer
        assert 1.0 in polled
        assert slept[len(polled) :] == [1.0]
