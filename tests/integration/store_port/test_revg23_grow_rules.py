"""revG23: survivorship rules changed between batches (``IngestSettings.rules``, a library setting:
the CLI and the functions run the default rules). The full plan rebuilds every trait of a changed
customer under the rules of the batch; the add-only path compares the stored winner, picked under
the old rules, with the batch's candidates only."""

from __future__ import annotations

from types import MappingProxyType

from core.batch_ingest import ingest_batch
from core.merge import MergeRules, SurvivorshipRule, build_profile
from core.pipeline import IngestSettings
from core.schema import SourceRecord
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_revg23_grow_orders import _line, _normalised, _stamp

OLD = IngestSettings(sleep=lambda _: None)
NEW = IngestSettings(
    sleep=lambda _: None,
    rules=MergeRules(per_trait=MappingProxyType({"channel": SurvivorshipRule("first_seen")})),
)


def _order(number: int, channel: str) -> SourceRecord:
    return _normalised(
        {
            "source": "shop",
            "id": f"o{number}",
            "object_type": "order",
            "owner_id": "c1",
            "updated_at": _stamp(number),
            "channel": channel,
            "orders": [_line(f"o{number}", "1.00", number)],
        }
    )


def test_a_rules_change_between_batches_gives_the_rebuild_under_the_new_rules(kit: StoreKit) -> None:
    # Red before grow24 (a strict xfail on the memory store): the add-only path kept 'pos'. Now the
    # PROFILE item's add-only mark holds the fingerprint of the rules it was built under
    # (core.grow_mark), and a batch under other rules is planned in full.
    store_ = kit.profiles  # each of the three stores (the kit fixture)
    contact = _normalised({"source": "shop", "id": "c1", "updated_at": _stamp(0), "email": "b@example.org"})
    # GIVEN orders through 'web' then 'pos' under the default rules (most recent wins: 'pos')
    for batch in ([contact], [_order(1, "web")], [_order(2, "pos")]):
        ingest_batch(batch, store_, OLD)
    # WHEN channel's rule becomes first_seen and an 'app' order comes (an add-only batch)
    ingest_batch([_order(3, "app")], store_, NEW)
    (profile,) = list(store_.iter_profiles())
    state = store_.get_customers([profile.customer_id])[profile.customer_id]
    # THEN the profile is the rebuild under the new rules: the first order's 'web'
    rebuilt = build_profile(profile.customer_id, state.snapshots.values(), NEW.rules, profile.version)
    assert profile.traits["channel"].value == rebuilt.traits["channel"].value == "web"
