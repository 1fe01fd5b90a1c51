"""A tool that refuses every push for longer than the stream's retries: its batches are parked in
the on-failure queue, and ``{"action": "redrive"}`` pushes them once the tool is back."""

from __future__ import annotations

import pytest

from core.push import primary_email
from profilesync.demo import CONNECTORS, make_sandboxes
from profilesync.local import LocalRuntime

pytestmark = pytest.mark.slow


def test_parked_push_batches_are_redriven_once_the_tool_is_back() -> None:
    sandboxes = make_sandboxes(40, 11)
    hubspot = sandboxes["hubspot"]
    with LocalRuntime(sandboxes) as rt:
        for connector in CONNECTORS:
            assert rt.pull(connector).status == "done"
        # GIVEN HubSpot's token is revoked while the merged profiles are pushed
        good_token, hubspot.token = hubspot.token, "pat-revoked"
        _, pushed = rt.settle()
        assert pushed.push_failures_parked > 0
        parked = rt.queue_depth(rt.push_failure_url)
        assert parked > 0
        profiles = [p for p in rt.wiring.profiles.iter_profiles() if p.sources]
        in_hubspot = [
            (p, email)
            for p in profiles
            if (email := primary_email(p)) is not None and any(s.source == "hubspot" for s in p.sources)
        ]
        assert in_hubspot
        assert all(not hubspot.pushed_traits(email) for _, email in in_hubspot)
        # WHEN a redrive runs while the token is still wrong, nothing is lost: the batches stay parked
        rt.wiring.close()  # a new token means new connectors (as a fresh Lambda environment would)
        still = rt.invoke("PushFunction", {"action": "redrive"})
        assert (still["redriven"], still["kept"]) == (0, parked)
        # AND once the token is good again, the redrive pushes every parked profile and empties the queue
        hubspot.token = good_token
        rt.wiring.close()
        done = rt.invoke("PushFunction", {"action": "redrive"})
        assert done["kept"] == 0
        assert done["redriven"] == parked
        assert rt.queue_depth(rt.push_failure_url) == 0
        for profile, email in in_hubspot:
            traits = hubspot.pushed_traits(email)
            assert profile.customer_id in {str(v) for v in traits.values()}, (email, traits)


def test_a_reconcile_pushes_what_was_parked_even_once_the_parked_batches_are_gone() -> None:
    sandboxes = make_sandboxes(40, 12)
    hubspot = sandboxes["hubspot"]
    with LocalRuntime(sandboxes) as rt:
        for connector in CONNECTORS:
            assert rt.pull(connector).status == "done"
        # GIVEN HubSpot refused every push, and the parked batch descriptions are gone (past 24 h)
        good_token, hubspot.token = hubspot.token, "pat-revoked"
        rt.settle()
        assert rt.queue_depth(rt.push_failure_url) > 0
        rt.sqs.purge_queue(QueueUrl=rt.push_failure_url)
        hubspot.token = good_token
        rt.wiring.close()
        # WHEN a reconcile runs, in as many invocations as it asks for
        answers = [rt.invoke("PushFunction", {"action": "reconcile", "items_per_page": 50})]
        while not answers[-1]["done"]:
            answers.append(
                rt.invoke(
                    "PushFunction",
                    {"action": "reconcile", "start": answers[-1]["next"], "items_per_page": 50},
                )
            )
        # THEN every profile HubSpot holds a record of carries its enriched traits there
        assert sum(a["failed"] for a in answers) == 0
        assert sum(a["pushed"]["hubspot"] for a in answers) > 0
        profiles = [
            p for p in rt.wiring.profiles.iter_profiles() if any(s.source == "hubspot" for s in p.sources)
        ]
        for profile in profiles:
            email = primary_email(profile)
            if email is not None:
                assert profile.customer_id in {str(v) for v in hubspot.pushed_traits(email).values()}, email
        # AND the destinations that took everything the first time were sent nothing again
        assert all(a["pushed"].get("mailchimp", 0) == 0 for a in answers)
