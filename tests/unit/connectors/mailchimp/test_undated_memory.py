"""rob24: members whose ``last_changed`` no reader can date, past the cursor's memory of them.

Such a member never moves the watermark. It was held with the versions delivered on the watermark
(``seen``, the last 1,000): past that, each walk from the block's start met the oldest ones just
after they were dropped, and every one came back on every pull. They are now remembered apart
(``WalkState.undated``, connectors.cursor_undated): only the members past the memory come back, and
a page that ends on one the memory could not keep still checks its overlap (``WalkState.tail``).
"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from connectors.mailchimp import MailchimpSandbox, WalkState, make_sandbox
from connectors.mailchimp import _cursor as cursor_module

from .conftest import connect
from .test_pull import T, keys_of

#: The memory these tests give the cursor (connectors.mailchimp._cursor.UNDATED_LIMIT is 1,000).
LIMIT = 50


def _junk_stamps(sandbox: MailchimpSandbox, keys: set[str]) -> None:
    """The members ``keys`` come with ``"last Tuesday"`` for their ``last_changed`` on the wire."""
    route = sandbox.route
    ids = {key.split(":", 1)[1] for key in keys}

    def restamped(request: httpx.Request) -> httpx.Response:
        response = route(request)
        if "json" not in response.headers.get("content-type", ""):
            return response
        data = json.loads(response.read())
        for member in data.get("members", []) if isinstance(data, dict) else []:
            if isinstance(member, dict) and str(member.get("contact_id")) in ids:
                member["last_changed"] = "last Tuesday"
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, content=json.dumps(data).encode(), headers=headers)

    sandbox.route = restamped  # type: ignore[method-assign]


@pytest.fixture
def small_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cursor_module, "UNDATED_LIMIT", LIMIT)


@pytest.mark.usefixtures("small_memory")
def test_only_the_undated_members_past_the_memory_come_back_and_every_walk_ends() -> None:
    # GIVEN an audience pulled in pages of 40, then 130 members whose last_changed is junk on the wire
    # (more than the cursor remembers, over four pages; changed after the rest, so every walk meets them)
    sandbox = make_sandbox(people=20, seed=3)
    options = {**sandbox.settings().options, "page_size": "40"}
    with connect(sandbox, options=options) as connector:
        cursor = list(connector.pull(None))[-1].cursor
        dated = sandbox.add_records(10, at=T - timedelta(minutes=1))
        undated = sandbox.add_records(130, at=T)
        _junk_stamps(sandbox, undated)
        # WHEN pulling twice
        first = list(connector.pull(cursor))
        again = keys_of(list(connector.pull(first[-1].cursor)))
    # THEN the first pull brings every member once
    assert sorted(keys_of(first)) == sorted(undated | dated)
    # AND the second only the undated members the memory could not hold, once each
    assert len(again) == len(set(again)) == len(undated) - LIMIT
    assert set(again) <= undated


def test_the_undated_memory_survives_the_cursor() -> None:
    state = WalkState(T, ("a" * 16,), 3, undated=("b" * 16, "c" * 16), met=1, tail="d" * 16)
    assert WalkState.decode(state.encode()) == state
    # (a cursor written before the memory reads as an empty one)
    assert WalkState.decode(WalkState(T, ("a" * 16,), 3).encode()).undated == ()
