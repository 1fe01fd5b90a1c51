"""revF24: a person erased by her Shopify customer's GID (what ``customers/redact``'s
``admin_graphql_api_id`` gives) is unsuppressed by the same GID. Her erase suppressed the key as
stored (``shopify:customer:<number>``, ``ConnectorSpec.stored_id``); ``lift_suppression`` tried only
the GID as written and its case-folded spelling, answered 0 (audited ``not_suppressed``) and left her
suppressed: her new sign-up kept being dropped while the DPO was told nothing was suppressed."""

from __future__ import annotations

from connectors.shopify._mapping import stored_id
from core.privacy import lift_suppression
from core.schema import Identifier
from core.testing.records import make_record
from tests.unit.test_erasure import SALT, World
from tests.unit.test_revf24_gid_suppressed_as_stored import replace_customer

HOOKS = {"shopify": stored_id}


def test_a_person_erased_by_gid_is_unsuppressed_by_it() -> None:
    world = World.empty()
    world.ingest([replace_customer(make_record("shopify", "191167", email="ann@example.com"))])
    gid = Identifier(kind="source", value="shopify:customer:gid://shopify/Customer/191167")
    # GIVEN her erase named by her GID
    assert world.erase(gid, stored_ids=HOOKS).outcome == "erased"
    # WHEN the same GID is unsuppressed
    lifted = lift_suppression(
        gid,
        suppression=world.suppression,
        erasure=world.erasure,
        salt=SALT,
        request_id="req-2",
        requested_by="dpo",
        stored_ids=HOOKS,
    )
    # THEN her suppression is lifted: she signs up again and is stored
    assert lifted > 0
    again = world.ingest([replace_customer(make_record("shopify", "191167", email="ann@example.com", day=5))])
    assert again.suppressed == 0, again
