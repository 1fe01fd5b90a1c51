"""revR24: the overlap check of Mailchimp's offset walk, when the member at ``pos - 1`` has no
readable ``last_changed``.

A page after the first is asked from ``pos - 1``: its first member must be the one the page before
ended on, else members before ``pos`` moved and the walk reads the block again (a repeat, never a
skip). rob24 took any undated member the cursor remembers (``WalkState.undated``, kept across walks
and watermarks) for that overlap: when two members before ``pos`` changed between two pages, an
undated member remembered from an earlier pull landed at ``pos - 1``, passed, and the dated member
that had shifted to ``pos - 2`` was stepped over; the watermark then moved past it for good.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import httpx

from connectors.mailchimp import MailchimpSandbox, WalkState, make_sandbox

from .conftest import connect
from .test_pull import T, keys_of


def _wire(sandbox: MailchimpSandbox, junk: set[str], after_members: Callable[[], None]) -> None:
    """The members ``junk`` come with ``"last Tuesday"`` for ``last_changed`` on the wire; after
    each answer of GET .../members, ``after_members`` runs (a change made while the pull pages)."""
    route = sandbox.route
    ids = {key.split(":", 1)[1] for key in junk}

    def wired(request: httpx.Request) -> httpx.Response:
        response = route(request)
        if request.method != "GET" or not request.url.path.endswith("/members"):
            return response
        data = json.loads(response.read())
        for member in data.get("members", []) if isinstance(data, dict) else []:
            if isinstance(member, dict) and str(member.get("contact_id")) in ids:
                member["last_changed"] = "last Tuesday"
        after_members()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, content=json.dumps(data).encode(), headers=headers)

    sandbox.route = wired  # type: ignore[method-assign]


def test_two_members_changed_between_pages_never_make_a_remembered_undated_one_the_overlap() -> None:
    # GIVEN a pull that delivered A and B (dated on its watermark) and U (undated on the wire, changed
    # later), then C, dated between them
    sandbox = make_sandbox(people=20, seed=3)
    hook: list[Callable[[], None]] = [lambda: None]
    options = {**sandbox.settings().options, "page_size": "2"}
    with connect(sandbox, options=options) as connector:
        cursor = list(connector.pull(None))[-1].cursor
        a, b = sorted(sandbox.add_records(2, at=T + timedelta(seconds=1)))
        (u,) = sandbox.add_records(1, at=T + timedelta(seconds=3))
        _wire(sandbox, {u}, lambda: hook[0]())
        first = list(connector.pull(cursor))
        assert sorted(keys_of(first)) == sorted([a, b, u])
        (c,) = sandbox.add_records(1, at=T + timedelta(seconds=2))
        answers: list[int] = []

        def change_after_first_page() -> None:
            answers.append(1)
            if len(answers) == 1:  # A and B move to the end: every later offset shifts back by two
                sandbox.touch({a, b}, at=T + timedelta(seconds=10))

        hook[0] = change_after_first_page
        # WHEN the next pull pages in twos from the watermark ([A, B], then [C, U] asked from B: the
        # overlap) and A and B change after its first page (U lands where B was: the overlap)
        second = list(connector.pull(first[-1].cursor))
        hook[0] = lambda: None
        third = list(connector.pull(second[-1].cursor))
    # THEN C comes (in this pull or the next), as do the new versions of A and B
    assert c in keys_of(second) + keys_of(third)
    assert {a, b} <= set(keys_of(second))


def test_a_remembered_undated_member_is_no_overlap_unless_the_page_before_ended_on_it() -> None:
    # The check itself: ``passed`` of an undated member is whether it is ``tail`` (the member the
    # page before ended on), not whether the memory holds it.
    member = {"id": "m", "contact_id": "m", "last_changed": "last Tuesday"}
    tag = WalkState(T).tag(member)
    assert not WalkState(T, (), 3, undated=(tag,)).passed(member)
    assert WalkState(T, (), 3, undated=(tag,), tail=tag).passed(member)
    assert WalkState(T, (), 3, tail=tag).passed(member)  # (the memory too full to hold it)
