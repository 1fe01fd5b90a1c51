"""A tool that refuses every push for longer than the stream's retries: its batches are parked in
the on-failure queue. ``{"action": "redrive"}`` pushes them once the tool is back, and
``{"action": "reconcile"}`` does too once the parked descriptions are gone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from core.push import primary_email
from core.schema import Profile
from profilesync.demo import CONNECTORS, make_sandboxes
from profilesync.local import LocalRuntime

pytestmark = pytest.mark.slow


@contextmanager
def hubspot_refused_every_push(seed: int) -> Iterator[tuple[LocalRuntime, Any, str]]:
    """The runtime after a first sync whose pushes HubSpot refused (its token revoked), HubSpot's
    sandbox, and the good token."""
    sandboxes = make_sandboxes(40, seed)
    hubspot = sandboxes["hubspot"]
    with LocalRuntime(sandboxes) as rt:
        for connector in CONNECTORS:
            assert rt.pull(connector).status == "done"
        good_token, hubspot.token = hubspot.token, "pat-revoked"
        _, pushed = rt.settle()
        assert pushed.push_failures_parked > 0
        yield rt, hubspot, good_token


def in_hubspot(rt: LocalRuntime) -> list[tuple[Profile, str]]:
    """The live profiles with a HubSpot record and an email, with that email."""
    found = [
        (p, email)
        for p in rt.wiring.profiles.iter_profiles()
        if (email := primary_email(p)) is not None and any(s.source == "hubspot" for s in p.sources)
    ]
    assert found
    return found


def holds_its_customer_id(hubspot: Any, profile: Profile, email: str) -> bool:
    """Whether HubSpot's contact of ``email`` carries the profile's pushed traits."""
    return profile.customer_id in {str(v) for v in hubspot.pushed_traits(email).values()}


def test_parked_push_batches_are_redriven_once_the_tool_is_back() -> None:
    # GIVEN HubSpot's token is revoked while the merged profiles are pushed
    with hubspot_refused_every_push(11) as (rt, hubspot, good_token):
        parked = rt.queue_depth(rt.push_failure_url)
        assert parked > 0
        assert not any(hubspot.pushed_traits(email) for _, email in in_hubspot(rt))
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
        for profile, email in in_hubspot(rt):
            assert holds_its_customer_id(hubspot, profile, email), (email, hubspot.pushed_traits(email))


def test_a_reconcile_pushes_what_was_parked_even_once_the_parked_batches_are_gone() -> None:
    # GIVEN HubSpot refused every push, and the parked batch descriptions are gone (past 24 h)
    with hubspot_refused_every_push(12) as (rt, hubspot, good_token):
        assert rt.queue_depth(rt.push_failure_url) > 0
        rt.sqs.purge_queue(QueueUrl=rt.push_failure_url)
        hubspot.token = good_token
        rt.wiring.close()
        # WHEN a reconcile runs, in as many invocations as it asks for
        answers = [rt.invoke("PushFunction", {"action": "reconcile", "items_per_page": 50})]
        while not answers[-1]["done"]:
            event = {"action": "reconcile", "start": answers[-1]["next"], "items_per_page": 50}
            answers.append(rt.invoke("PushFunction", event))
        # THEN every profile HubSpot holds a record of carries its enriched traits there
        assert sum(a["failed"] for a in answers) == 0
        assert sum(a["pushed"]["hubspot"] for a in answers) > 0
        for profile, email in in_hubspot(rt):
            assert holds_its_customer_id(hubspot, profile, email), email
        # AND the destinations that took everything the first time were sent nothing again
        assert all(a["pushed"].get("mailchimp", 0) == 0 for a in answers)
