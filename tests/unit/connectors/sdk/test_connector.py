"""``RestConnector`` driven by a declaration, against the SDK's ``DeclaredSandbox``."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

import connectors.sdk
from connectors._http import ConnectorRequestError
from connectors.sdk import PullCursor, RestConnector
from core.errors import ConnectorConfigError
from profilesync.testing.contract import T_CHANGES, ConnectorContract

from .conftest import PLUGIN, SMALL_PAGES, TinySandbox, declaration


class TestContract(ConnectorContract):
    """The shared contract holds for a connector that is only a declaration."""

    plugin = PLUGIN


class TestContractWithSmallPages(ConnectorContract):
    """Pages of 7 put ties and resumes across many page boundaries."""

    plugin = SMALL_PAGES
    people: ClassVar[int] = 40


def test_a_pull_with_nothing_new_yields_one_empty_page_carrying_the_cursor() -> None:
    # GIVEN a connector that has pulled everything
    sandbox = TinySandbox(people=20)
    with RestConnector(declaration(), sandbox.settings()) as connector:
        cursor = list(connector.pull(None))[-1].cursor
        # WHEN it pulls again with nothing changed
        pages = list(connector.pull(cursor))
    # THEN one empty page comes back, and its cursor is as good as the last one
    assert [len(p.records) for p in pages] == [0]
    assert pages[0].cursor == cursor


def test_ties_on_one_second_across_page_boundaries_come_back_once_each() -> None:
    # GIVEN a cursor after a full pull, then 20 records on one second (pages of 7)
    sandbox = TinySandbox(people=10)
    with RestConnector(declaration(page_size=7), sandbox.settings()) as connector:
        cursor = list(connector.pull(None))[-1].cursor
        added = sandbox.add_records(20, at=T_CHANGES)
        # WHEN the incremental pull is cut after every page and resumed from that page's cursor
        got: list[str] = []
        for _ in range(20):
            page = next(iter(connector.pull(cursor)))
            got.extend(f"person:{r['id']}" for r in page.records)
            assert page.cursor is not None
            cursor = page.cursor
            if PullCursor.decode(cursor, "tiny").active is None:
                break
            if len(got) == 7:
                added |= sandbox.add_records(1, at=T_CHANGES)
    # THEN every new record came back exactly once, the one added mid-walk on the same second too
    assert sorted(got) == sorted(added)


def test_a_declared_endpoint_the_sandbox_does_not_serve_fails_loudly() -> None:
    # GIVEN a declaration whose stream path was changed without the sandbox
    sandbox = TinySandbox(people=5)
    connector = RestConnector(declaration(path="/v2/people"), sandbox.settings())
    # WHEN it pulls THEN the error names the endpoint and says what to fix
    with pytest.raises(ConnectorRequestError, match=r"/v2/people.*update the sandbox"):
        list(connector.pull(None))
    connector.close()


def test_the_declaration_lists_its_capabilities_and_limits_in_the_spec() -> None:
    spec = declaration().connector_spec()
    assert spec.capabilities == frozenset({"pull", "push", "erase"})
    assert [c.name for c in spec.credentials] == ["tiny_token"]
    assert spec.page_size == 100


def test_the_public_surface_is_what_all_lists() -> None:
    public = {n for n in dir(connectors.sdk) if not n.startswith("_")}
    assert set(connectors.sdk.__all__) <= public
    assert {n for n in public - set(connectors.sdk.__all__) if n[0].isupper()} == set()


def test_a_pull_from_a_date_returns_what_changed_from_then_on() -> None:
    # GIVEN records changed on and after a date, and older ones
    sandbox = TinySandbox(people=20)
    added = sandbox.add_records(3, at=T_CHANGES)
    with RestConnector(declaration(), sandbox.settings()) as connector:
        # WHEN the pull starts at that date (sync --since)
        pages = list(connector.pull(connector.cursor_since(T_CHANGES)))
    # THEN exactly the records changed from then on come back
    assert {f"person:{r['id']}" for p in pages for r in p.records} == added


def test_a_base_url_naming_an_option_is_filled_per_instance_or_refused_with_the_option_named() -> None:
    # GIVEN a declaration whose base URL is the store's own address
    spec = dataclasses.replace(declaration(), base_url="{store_url}", options={"store_url": "the shop's URL"})
    # WHEN an instance gives the option, or a base URL THEN that is the instance's base URL
    assert spec.instance_base_url(None, {"store_url": "https://shop.example"}) == "https://shop.example"
    assert spec.instance_base_url("https://other.example", {}) == "https://other.example"
    # AND without either the error names the option and what it is
    with pytest.raises(ConnectorConfigError, match=r"'store_url' \(the shop's URL\)"):
        spec.instance_base_url(None, {})


def test_the_declared_shared_budget_reaches_the_spec() -> None:
    assert dataclasses.replace(declaration(), shared_budget=(2.5, 25.0)).connector_spec().shared_budget == (
        2.5,
        25.0,
    )
