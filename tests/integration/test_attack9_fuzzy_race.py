"""An erasure racing a lift and another erasure on DynamoDB's fuzzy entry (core.storage.dynamodb_suppression).

An erasure reads the entry that holds every erasure's fingerprints under one look-up key, and before
it writes, the entry's only erasure is lifted (the item deleted) and another namesake erased (the
item made again). The first erasure's write, conditioned on the ``version`` it read, must fail and be
made again on the new item: a version that starts over at 1 on a new item lets it through, bringing
back the lifted erasure's fingerprints and losing the new one's (her queued records would pass).
"""

from __future__ import annotations

from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.suppression import SuppressionCheck
from core.suppression_prints import prints_by_erasure
from tests.integration.test_erasure_attacks import SALT, STORES
from tests.integration.test_namesakes_under_one_key import (
    MODEL,
    PEOPLE,
    POLICY,
    SHARED,
    _email_hash,
    _erase,
    _queued,
    _Racing,
)


def test_an_erasure_racing_a_lift_and_a_new_erasure_of_the_key_is_made_again_on_the_new_item() -> None:
    """GIVEN namesake 0 alone erased on DynamoDB (the shared entry at its first version) WHEN namesake
    2's erasure reads the entry and, before it writes, 0 is lifted (the entry deleted) and namesake 3
    erased (the entry made again) THEN 2's conditional write fails and is made again: the entry
    holds 2's and 3's fingerprints, not 0's; 3's and 2's queued records are dropped, 0's pass."""
    with STORES["dynamodb"]() as stores:
        plain = stores.suppression
        assert isinstance(plain, DynamoDBSuppressionStore)
        _erase(plain, 0)

        def race() -> None:
            assert plain.lift(_email_hash(0))
            assert plain.entry(SHARED) is None
            _erase(plain, 3)

        client = _Racing(plain._client, race)
        _erase(DynamoDBSuppressionStore(client, plain.table_name), 2)
        assert client._race is None  # the race ran
        held = plain.entry(SHARED)
        assert held is not None
        assert set(prints_by_erasure(held)) == {"req-2", "req-3"}
        _, dropped = SuppressionCheck(plain, SALT).split([_queued(j) for j in PEOPLE], MODEL, POLICY)
        assert {r.source_id for r in dropped} == {"q2", "q3"}
