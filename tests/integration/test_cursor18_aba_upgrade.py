"""cfix18: a change undone on the cursor's watermark second (A, B, back to A), and the first pull
after upgrading from a cursor that kept plain id tags.

A record delivered in version A on the watermark second, changed to B and back to A within it (a
consent opt-out set and undone), must be pulled again in A: the cursor's skip list is kept in the
order versions were delivered (``connectors.cursor_tags.latest_of``), so an earlier A does not hide
it. Before this change HubSpot's ``seen`` (a set) skipped it and the store kept B; Klaviyo,
Salesforce and WooCommerce pulled it again but dated it like the B before it (the skip list, kept
once per version, did not grow), so ingest kept B by content hash; Shopify the same for an order
toggled A, B, A, B (its skip map holds each version once).

A cursor written before versions were tagged holds a tag of each id alone: the first pull after
upgrading delivers the watermark second again; nothing is written for the records unchanged, and a
record changed again on that second before the pull is kept. Those unchanged are touched once
(marked as a later version, since the cursor cannot tell them from a changed one): a strict xfail.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from connectors.cursor_tags import id_tag
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import _assert_as_the_tool_holds, _connect, _held
from tests.integration.test_attack11_sync_cursors import _fresh, _pull, _sandbox

pytestmark = pytest.mark.slow

NAMES = ["hubspot", "klaviyo", "salesforce", "shopify", "woocommerce"]
AT = T_CHANGES.replace(microsecond=0) + timedelta(seconds=30)


def test_hubspot_a_contact_changed_and_changed_back_on_the_watermark_millisecond_is_pulled() -> None:
    sandbox = _sandbox("hubspot")
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect("hubspot", sandbox)
    try:
        _pull(connector, store, state)
        key = sorted(k.split(":", 1)[1] for k in _held(store))[0]
        contact = sandbox._contacts[key.split(":", 1)[1]]
        sandbox.touch({key}, at=AT)  # A, delivered on the watermark
        _pull(connector, store, state)
        a = contact.properties["jobtitle"]
        sandbox.touch({key}, at=AT)  # B, on the same millisecond
        _pull(connector, store, state)
        _assert_as_the_tool_holds(store, _fresh("hubspot", sandbox))
        with sandbox.lock:  # back to A, on the same millisecond
            contact.properties["jobtitle"] = a
            sandbox._stamp(contact)
            sandbox._by_modified = None
        assert _pull(connector, store, state).pulled == 1
        _assert_as_the_tool_holds(store, _fresh("hubspot", sandbox))
        assert _pull(connector, store, state).ingest.written == 0
    finally:
        connector.close()


@pytest.mark.parametrize("name", NAMES)
def test_a_change_undone_on_the_watermark_second_is_pulled(name: str) -> None:
    sandbox = _sandbox(name)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    try:
        _pull(connector, store, state)
        key = sorted(k.split(":", 1)[1] for k in _held(store))[0]
        for _ in range(12):  # the sandboxes' touch cycles through a few values: A .. B .. A
            sandbox.touch({key}, at=AT)
            _pull(connector, store, state)
            _assert_as_the_tool_holds(store, _fresh(name, sandbox))
    finally:
        connector.close()


def test_shopify_an_order_toggled_back_and_forth_on_the_watermark_second_is_kept() -> None:
    sandbox = _sandbox("shopify")
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect("shopify", sandbox)
    try:
        _pull(connector, store, state)
        key = sorted(k.split(":", 1)[1] for k in _held(store) if ":order:" in k)[0]
        for _ in range(6):  # the sandbox's touch toggles an order's financial status: A, B, A, B ...
            sandbox.touch({key}, at=AT)
            _pull(connector, store, state)
            _assert_as_the_tool_holds(store, _fresh("shopify", sandbox))
    finally:
        connector.close()


@contextlib.contextmanager
def _plain_id_tags(name: str, connector: Any, mp: pytest.MonkeyPatch) -> Iterator[None]:
    """The connector as it tagged its cursor before versions were tagged: the id alone."""
    with mp.context() as m:
        if name == "hubspot":
            from connectors.hubspot._pull import HubSpotPull, contact_id

            m.setattr(HubSpotPull, "_tag", lambda self, c: id_tag(self.cursor_tag_key, contact_id(c)))
        elif name == "shopify":
            import connectors.shopify._pull as shopify_pull

            m.setattr(shopify_pull, "version_tag", lambda k, i, n: id_tag(k, i))
        else:
            m.setattr(type(connector), "versioned_tags", False)
        yield


@contextlib.contextmanager
def _upgraded(
    name: str, mp: pytest.MonkeyPatch
) -> Iterator[tuple[Any, InMemoryProfileStore, InMemorySyncStateStore, Any, list[str]]]:
    """A tool whose records were pulled, three changed on ``AT`` and pulled, by the connector as it
    was before versions were tagged: the sandbox, store, state, connector (now upgraded), keys; the
    connector is closed on leaving."""
    sandbox = _sandbox(name)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect(name, sandbox)
    try:
        with _plain_id_tags(name, connector, mp):
            _pull(connector, store, state)
            keys = sorted(k.split(":", 1)[1] for k in _held(store))
            sandbox.touch(set(keys[:3]), at=AT)
            assert _pull(connector, store, state).pulled >= 3
        yield sandbox, store, state, connector, keys
    finally:
        connector.close()


@pytest.mark.parametrize("name", NAMES)
def test_after_upgrading_an_id_tag_cursor_nothing_is_written_for_an_unchanged_second(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _upgraded(name, monkeypatch) as (sandbox, store, state, connector, _):
        assert _pull(connector, store, state).ingest.written == 0
        after = _pull(connector, store, state)
        assert (after.pulled, after.ingest.written) == (0, 0)
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))


@pytest.mark.parametrize("name", NAMES)
def test_after_upgrading_an_id_tag_cursor_a_change_on_its_second_is_kept(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _upgraded(name, monkeypatch) as (sandbox, store, state, connector, keys):
        sandbox.touch({keys[1]}, at=AT)  # changed again on the second, before the upgraded pull
        _pull(connector, store, state)
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
        sandbox.touch({keys[1]}, at=AT)
        _pull(connector, store, state)
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))


@pytest.mark.xfail(
    strict=True,
    reason=(
        "kept on purpose: the first pull after upgrading a cursor of plain id tags touches each unchanged "
        "record of its watermark second once (ingest: unchanged=n, touched=n). The id tag says the record "
        "was delivered on that second but not in which version; the version pulled again may have been "
        "changed within the second since, and only the mark (connectors.cursor_seconds) dates it after "
        "the one held. Left unmarked (tried in cfix18), such a change was ordered against the held "
        "version by content hash and lost on Salesforce, Shopify and WooCommerce "
        "(test_after_upgrading_an_id_tag_cursor_a_change_on_its_second_is_kept). A one-time touch per "
        "record beats a lost change; telling them apart needs the held version's content at pull time."
    ),
)
@pytest.mark.parametrize("name", NAMES)
def test_the_first_pull_after_upgrading_an_id_tag_cursor_touches_nothing(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _upgraded(name, monkeypatch) as (_, store, state, connector, _):
        assert _pull(connector, store, state).ingest.touched == 0
