"""The DynamoDB store's whole-table scans (mixed into ``DynamoDBProfileStore``): the keys of one
source's records (a full refresh's sweep), every identifier's owner and the frozen customers (checks,
tools and repairs, never the hot path)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.ports import RETIRED_OWNER
from core.record_json import REFUSED_NEEDLE
from core.storage.dynamodb_items import FROZEN_SCAN, SOURCE_KEYS_SCAN, source_sk
from core.storage.ident_keys import ident_of


class DynamoDBScans:
    """Mixed into ``DynamoDBProfileStore`` (which sets ``table_name`` and ``_call``)."""

    table_name: str

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError  # the store's own (its errors mapped)

    def source_keys(self, source: str) -> Iterator[str]:
        """The key of every stored record of ``source`` (core.refresh_sweep): ``SOURCE_KEYS_SCAN``."""
        prefix = source_sk(f"{source}:")
        for item in self._scanned(**SOURCE_KEYS_SCAN, ExpressionAttributeValues={":s": {"S": prefix}}):
            yield item["SK"]["S"][len("SOURCE#") :]

    def customers_with_refused_values(self) -> list[str]:
        """The customers holding a record with values normalisation refused (``dropped``): her erasure
        reads only these for records naming her in a refused value (core.privacy_refused). One Scan of
        the table (billed for every item, as ``source_keys`` is) sending back the partition key of the
        ``SOURCE#`` items whose JSON holds ``REFUSED_NEEDLE``, never their data: no Query a customer."""
        scan = self._scanned(
            FilterExpression="begins_with(SK, :s) AND contains(#d, :n)",
            ProjectionExpression="PK",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues={":s": {"S": "SOURCE#"}, ":n": {"S": REFUSED_NEEDLE}},
        )
        return sorted({item["PK"]["S"][len("CUSTOMER#") :] for item in scan})

    def ident_owners(self) -> dict[str, str]:
        """Every identifier key and its owner (a full scan: for checks and tools, not the hot path)."""
        scan = self._scanned(FilterExpression="SK = :i", ExpressionAttributeValues={":i": {"S": "IDENT"}})
        # The key is the item's ``ident`` (core.storage.ident_keys); an item of the previous layout
        # names it in its partition key, and an item keyed by hash wins over it.
        found: dict[str, tuple[bool, str]] = {}
        for item in scan:
            key, keyed = ident_of(item), "ident" in item
            if keyed or key not in found:
                found[key] = (keyed, item["customer_id"]["S"])
        return {key: owner for key, (_, owner) in found.items() if owner != RETIRED_OWNER}

    def frozen_customers(self, *, items_per_page: int | None = None) -> list[tuple[str, str]]:
        """The customers with a ``merging_into`` mark (core.ports.ListsFrozen): ``FROZEN_SCAN``, paged
        (``items_per_page``: its ``Limit``)."""
        scan = self._scanned(**FROZEN_SCAN, **({"Limit": items_per_page} if items_per_page else {}))
        return sorted((item["PK"]["S"][len("CUSTOMER#") :], item["merging_into"]["S"]) for item in scan)

    def _scanned(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item a Scan of the table with ``kwargs`` returns, page after page."""
        while True:
            page = self._call("scan", TableName=self.table_name, **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
