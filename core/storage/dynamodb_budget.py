"""A token bucket kept in DynamoDB, so every Lambda that talks to one vendor account shares one budget.

Each pull or push run paces itself locally, but the vendor's limit is per account (HubSpot: per
private app; Shopify: per app and store). Two concurrent runs that each assume they have the whole
limit get throttled together. This bucket lives in one item, ``BUDGET#<account>`` / ``BUDGET``, with
the tokens left and when they were counted; a run takes tokens with a conditional write on that
timestamp (optimistic concurrency: a lost race re-reads and tries again), in small reservations so
that a request costs a DynamoDB write only once every ``reserve`` tokens.

It implements the HTTP kit's ``RateLimiter`` protocol (``acquire``/``observe``); the client is
injected, so this module imports neither boto3 nor botocore.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from core.errors import RetryableError


class DynamoDBTokenBucket:
    """``rate_per_second`` tokens refill a bucket of ``burst``; ``acquire(cost)`` takes ``cost``."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        account: str,
        *,
        rate_per_second: float,
        burst: float,
        reserve: float | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0 or burst <= 0:
            raise ValueError("DynamoDBTokenBucket needs rate_per_second > 0 and burst > 0")
        self._client = client
        self._table = table_name
        self._key = {"PK": {"S": f"BUDGET#{account}"}, "SK": {"S": "BUDGET"}}
        self.rate = float(rate_per_second)
        self.burst = float(burst)
        # A reservation small next to the bucket, so runs that stop early strand few tokens.
        self.reserve = float(reserve) if reserve is not None else max(1.0, min(10.0, self.burst / 20))
        self._clock = clock
        self._sleep = sleep
        self._local = 0.0
        self._lock = threading.Lock()
        self.writes = 0

    def acquire(self, cost: float = 1.0) -> None:
        """Block until ``cost`` tokens are ours (from the local reservation or the shared bucket)."""
        if cost > self.burst:
            raise ValueError(f"cost {cost} is more than the bucket holds ({self.burst})")
        with self._lock:
            for _ in range(1000):
                if self._local >= cost:
                    self._local -= cost
                    return
                wait = self._take(max(cost - self._local, self.reserve))
                if wait > 0:
                    self._sleep(wait)
        raise RetryableError("the shared rate budget kept conflicting; retry the run later")

    def observe(self, response: Any) -> None:
        """The vendor's own headers are handled by the connector's local limiters."""

    def _take(self, want: float) -> float:
        """Move ``want`` tokens from the shared item into the local reservation; return the seconds to
        wait first when the bucket is short (0 after a success or a lost race)."""
        want = min(want, self.burst)
        item = self._client.get_item(TableName=self._table, Key=self._key, ConsistentRead=True).get("Item")
        now = self._clock()
        if item is None:
            tokens, counted_at = self.burst, None
        else:
            counted_at = item["counted_at"]["N"]
            elapsed = max(0.0, now - float(counted_at))
            tokens = min(self.burst, float(item["tokens"]["N"]) + elapsed * self.rate)
        if tokens < want:
            return (want - tokens) / self.rate
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(PK)"}
            if counted_at is None
            else {
                # Only the writer that read this count may spend from it: a concurrent taker makes
                # this fail, and we read the new count instead of spending tokens twice.
                "ConditionExpression": "counted_at = :seen",
                "ExpressionAttributeValues": {":seen": {"N": counted_at}},
            }
        )
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key,
                    "tokens": {"N": repr(tokens - want)},
                    "counted_at": {"N": repr(now)},
                },
                **condition,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            self._sleep(random.uniform(0, 0.02))
            return 0.0
        self.writes += 1
        self._local += want
        return 0.0


__all__ = ["DynamoDBTokenBucket"]
