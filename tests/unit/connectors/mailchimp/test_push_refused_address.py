"""An address Mailchimp refuses for good is refused once, not failed on every push.

Mailchimp's rule (https://mailchimp.com/help/international-characters-in-mailchimp/): "Mailchimp can't
process UTF-8 characters in your contacts' email address prefixes, but you can use UTF-8 characters in
the domain name. For example, we block direcciónelectrónica@domain.com ... but allow
test@ñoñó1234.com". Batch subscribe answers such a member in ``errors`` ("... looks fake or invalid,
please enter a real email address.", ``ERROR_GENERIC``; spec ``mailchimp-marketing-3.0.55.json``).
attack13 found ``new1é̶@example.com`` (our normaliser keeps it: RFC 6531 allows it) counted ``failed``
on every run, for good. Now the push records the refusal of that address: reported once (in
``refused``), skipped while her address stays (``skipped_refused``), tried again when it changes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.mailchimp import MailchimpSandbox, make_sandbox, subscriber_hash
from core.normalise import normalise_email
from core.schema import ConsentValue, Identifier, Profile, SourceRef
from core.storage.memory import InMemorySyncStateStore
from core.sync import PullReport, push_profiles
from profilesync.syncrun import SyncOutcome, summary_lines

from .conftest import SpecChecked, connect

T0 = datetime(2026, 11, 1, tzinfo=UTC)
#: attack13's address: a combining acute and a combining long stroke overlay in the local part.
REFUSED = normalise_email("new1e\u0301\u0336@example.com")


def _person(email: str, customer_id: str = "cust-refused") -> Profile:
    return Profile(
        customer_id=customer_id,
        identifiers=(Identifier(kind="email", value=email),),
        consent={"email": ConsentValue(granted=True, changed_at=T0, source="crm")},
        sources=(SourceRef(source="crm", object_type="contact", id="1", updated_at=T0),),
    )


@pytest.mark.parametrize(
    ("email", "taken"),
    [
        ("direcciónelectrónica@domain.com", False),  # Mailchimp's own example, blocked
        (REFUSED, False),
        ("test@ñoñó1234.com", True),  # Mailchimp's own example, allowed
        ("plain@example.com", True),
    ],
)
def test_the_sandbox_refuses_utf8_in_the_prefix_only(email: str, taken: bool) -> None:
    assert MailchimpSandbox.is_valid_address(email) is taken


def test_an_address_mailchimp_refuses_is_refused_once_and_tried_again_when_it_changes() -> None:
    sandbox = make_sandbox(people=0, seed=3)
    state = InMemorySyncStateStore()
    checked = SpecChecked(sandbox)
    with connect(sandbox, checked) as connector:
        # GIVEN a consenting person whose only address has UTF-8 in its prefix, and another person
        other = _person("ok.person@example.com", "cust-ok")
        # WHEN pushed
        first = push_profiles(connector, [_person(REFUSED), other], state, mode="upsert")
        # THEN Mailchimp's refusal is reported, once, as a refusal (not a failure), the other pushed
        assert first.failed == []
        assert [(r.customer_id, r.refused) for r in first.refused] == [("cust-refused", True)]
        assert "looks fake or invalid" in str(first.refused[0].error)
        assert (first.sent, first.pushed) == (2, 1)
        # WHEN pushed again with nothing changed, twice
        for _ in range(2):
            again = push_profiles(connector, [_person(REFUSED), other], state, mode="upsert")
            # THEN she is not sent, nor failed, nor refused again: skipped, counted
            assert (again.failed, again.refused) == ([], [])
            assert (again.skipped_refused, again.skipped_unchanged, again.sent, again.calls) == (1, 1, 0, 0)
        # WHEN her address changes to one Mailchimp takes
        moved = push_profiles(connector, [_person("new1@example.com"), other], state, mode="upsert")
        # THEN she is pushed
        assert (moved.failed, moved.refused, moved.skipped_refused, moved.pushed) == ([], [], 0, 1)
        assert subscriber_hash("new1@example.com") in sandbox.members
    assert checked.checked > 0  # (every exchange checked against the spec)


def test_a_refused_person_is_not_taken_as_held_by_the_tool() -> None:
    # A refusal is no member of the audience: an update-mode push still leaves her out by mode.
    sandbox = make_sandbox(people=0, seed=3)
    state = InMemorySyncStateStore()
    with connect(sandbox) as connector:
        push_profiles(connector, [_person(REFUSED)], state, mode="upsert")
        update = push_profiles(connector, [_person(REFUSED)], state, mode="update")
    assert (update.skipped_by_mode, update.skipped_refused, update.sent) == (1, 0, 0)


def test_the_sync_summary_says_who_was_refused_and_who_was_skipped() -> None:
    sandbox = make_sandbox(people=0, seed=3)
    state = InMemorySyncStateStore()
    with connect(sandbox) as connector:
        first = push_profiles(connector, [_person(REFUSED)], state, mode="upsert")
        again = push_profiles(connector, [_person(REFUSED)], state, mode="upsert")
    said = summary_lines(SyncOutcome(PullReport("mailchimp"), first))
    assert any("1 refused by mailchimp for good" in line for line in said)
    assert any(line.startswith("  refused cust-refused: ") for line in said)
    quiet = summary_lines(SyncOutcome(PullReport("mailchimp"), again))
    assert any("0 refused by mailchimp for good" in line and "1 refused before" in line for line in quiet)
    assert not any("failed cust-refused" in line for line in said + quiet)


def test_an_ascii_address_mailchimp_calls_fake_stays_a_failure_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Mailchimp answers the same words for an ASCII address it takes for fake (a typo'd domain, a
    # role address); such a refusal may pass later, or hang on the rest of the payload: it stays a
    # failure, sent again by the next push (revC22: the ASCII condition could go unnoticed).
    fake = "fake.looking@example.com"
    monkeypatch.setattr(MailchimpSandbox, "is_valid_address", staticmethod(lambda email: email != fake))
    sandbox = make_sandbox(people=0, seed=3)
    state = InMemorySyncStateStore()
    with connect(sandbox) as connector:
        for _ in range(2):
            report = push_profiles(connector, [_person(fake)], state, mode="upsert")
            assert [f.customer_id for f in report.failed] == ["cust-refused"]
            assert "looks fake or invalid" in str(report.failed[0].error)
            assert (report.refused, report.skipped_refused, report.sent) == ([], 0, 1)
    assert state.get_pushed("mailchimp", ["cust-refused"]) == {}
