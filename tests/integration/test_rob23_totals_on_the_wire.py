"""rob23: an order total written with grouping, on the wire, through ``pull_into_store``.

Shopify's ``Decimal`` is text (``"29.99"``); an app in a shop whose locale writes ``"1.234,50"``
re-serialises it so. Between the sandbox and the connector her order's amounts are rewritten.
Promises: what can only be one amount is counted exactly in her lifetime value; an ambiguous one
(``"19,90"``) drops the order, keeps her, and is counted where the run counts dropped values (its
data quality, ``quality.dropped``, kept in the ``SYNC#`` report). Red before: ``"1.234,50"`` was
dropped as ambiguous.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import MARKED, _accounted, tool
from tests.integration.wire_rewrites import rewrite_marked_answers


def _amounts(value: Any, amount: str, inside: bool = False) -> None:
    if isinstance(value, dict):
        inside = inside or MARKED in json.dumps(value)
        for key, child in value.items():
            if key == "amount" and inside and isinstance(child, str):
                value[key] = amount
            else:
                _amounts(child, amount, inside)
    elif isinstance(value, list):
        for child in value:
            _amounts(child, amount, inside)


def _rewriting(sandbox: Any, amount: str) -> None:
    rewrite_marked_answers(sandbox, lambda data: _amounts(data, amount))


def _her(store: InMemoryProfileStore) -> Any:
    (found,) = [p for p in store.iter_profiles() if any(i.value == MARKED for i in p.identifiers)]
    return found


@pytest.mark.parametrize(
    ("written", "value"), [("1.234,50", Decimal("1234.50")), ("1,234.50", Decimal("1234.50"))]
)
def test_a_total_that_can_only_be_one_amount_is_counted(written: str, value: Decimal) -> None:
    sandbox, connector = tool("shopify", people=3)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        pull_into_store(connector, store, state, settings=SETTINGS)
        sandbox.add_records(1, at=T_CHANGES + timedelta(seconds=5))
        _rewriting(sandbox, written)
        run = pull_into_store(connector, store, state, settings=SETTINGS)
        _accounted(run)
        assert run.quarantined == 0
        assert _her(store).computed.lifetime_value == {"GBP": value}
    finally:
        connector.close()


def test_an_ambiguous_total_drops_the_order_and_is_counted() -> None:
    sandbox, connector = tool("shopify", people=3)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        pull_into_store(connector, store, state, settings=SETTINGS)
        sandbox.add_records(1, at=T_CHANGES + timedelta(seconds=5))
        _rewriting(sandbox, "19,90")
        run = pull_into_store(connector, store, state, settings=SETTINGS)
        _accounted(run)
        assert run.quarantined == 0
        # she is kept, her order is not counted, and the drop is counted with its reason
        assert _her(store).computed.lifetime_value == {}
        assert run.quality is not None
        dropped = dict(run.quality.dropped)
        # (once for each record of hers the run read that carried the order)
        assert set(dropped) == {"orders[]: total: ambiguous use of commas in"}
        assert dropped["orders[]: total: ambiguous use of commas in"] >= 1
        assert json.loads(run.as_json())["quality"]["dropped"] == dropped
    finally:
        connector.close()
