"""A privacy request naming a record by the vendor's other spelling of its id finds the record as
stored: ``core.privacy_request.as_stored`` with the connectors' ``ConnectorSpec.stored_id`` hooks
(Shopify: a GID's numeric tail), and the hooks the CLI hands it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest

from connectors.shopify._mapping import stored_id
from core.privacy_request import as_stored, stored_ids_of
from core.schema import Identifier
from profilesync.privacy_cli import _stored_ids

GID = "shopify:customer:gid://shopify/Customer/191167"
STORED = "shopify:customer:191167"
HOOKS = {"shopify": stored_id}


class Owners:
    """The one call ``as_stored`` makes of the profile store: who owns which keys."""

    def __init__(self, *held: str) -> None:
        self.owners = {Identifier(kind="source", value=k).key: "cus_1" for k in held}

    def get_owners(self, keys: Iterable[str]) -> Mapping[str, str]:
        return {k: self.owners[k] for k in keys if k in self.owners}


def source(value: str) -> Identifier:
    return Identifier(kind="source", value=value)


def test_a_gid_names_the_record_stored_under_its_tail() -> None:
    # GIVEN her customer stored under its numeric id WHEN named by its GID THEN that record is meant
    assert as_stored(source(GID), Owners(STORED), (), HOOKS) == source(STORED)  # type: ignore[arg-type]
    # AND with the tool and type as the vendor's screen spells them
    spelt = "Shopify:Customer:gid://shopify/Customer/191167"
    assert as_stored(source(spelt), Owners(STORED), (), HOOKS) == source(STORED)  # type: ignore[arg-type]


def test_a_gid_names_the_record_the_asked_tool_holds_though_we_hold_none() -> None:
    # GIVEN nothing stored WHEN Shopify is being asked THEN it is asked for the id as stored
    assert as_stored(source(GID), Owners(), ("shopify",), HOOKS) == source(STORED)  # type: ignore[arg-type]
    # AND no tool asked: still the id as stored, the key her record will have (revF24: was the GID,
    # so her erase suppressed a key no record carries)
    assert as_stored(source(GID), Owners(), (), HOOKS) == source(STORED)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("named", "held", "hooks"),
    [
        (GID, STORED, {}),  # no hook: the id is the vendor's as written
        (GID, GID, HOOKS),  # a record stored under the spelling as written is the one meant
        ("hubspot:contact:gid://shopify/Customer/191167", "hubspot:contact:191167", HOOKS),  # not its tool
    ],
)
def test_the_id_as_written_is_kept_without_a_hook_of_its_tool(
    named: str, held: str, hooks: dict[str, object]
) -> None:
    assert as_stored(source(named), Owners(held), (), hooks) == source(named)  # type: ignore[arg-type]


def test_the_cli_hands_the_hook_of_the_tool_a_record_id_names() -> None:
    # GIVEN requests naming a Shopify record, a file's record, an email WHEN the CLI finds the hooks
    assert _stored_ids(source(GID)) == {"shopify": stored_id}
    assert _stored_ids(source("jsonl:contact:1")) == {}
    assert _stored_ids(Identifier(kind="email", value="ann@example.com")) == {}
    # AND the hooks of connectors that declare one, by name
    from connectors.hubspot import PLUGIN as HUBSPOT
    from connectors.shopify import PLUGIN as SHOPIFY

    assert stored_ids_of([HUBSPOT.spec, SHOPIFY.spec]) == {"shopify": stored_id}


def test_the_privacy_function_hands_the_hook_of_the_named_instance() -> None:
    # GIVEN a deployment with a Shopify instance of its own name, and a HubSpot one
    from core.config import parse_config
    from functions._wiring import Settings, Wiring

    document = parse_config(
        "version: 1\nconnectors:\n  shop-eu:\n    vendor: shopify\n    options: {shop: eu}\n  hubspot: {}\n",
        "profilesync.yaml",
    )
    wiring = Wiring(Settings(table_name="t", connectors=document.connectors, config=document))
    # WHEN a request names a record of each (or of no instance) THEN the instance's vendor's hook
    assert wiring.stored_ids(source("shop-eu:customer:gid://shopify/Customer/1")) == {"shop-eu": stored_id}
    assert wiring.stored_ids(source("hubspot:contact:1")) == {}
    assert wiring.stored_ids(source("shopify:customer:1")) == {}  # not configured here
