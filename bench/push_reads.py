"""Push reads: what a push invocation's suppression checks cost, as the push function makes them.

Pushes ``--people`` profiles (one email each) to ``--destinations`` HubSpot sandboxes (in-process,
batches of 100), checking them against the DynamoDB suppression store on moto as
``functions.push.push_everywhere`` does, and prints the DynamoDB requests the checks sent (by
operation), the suppression items they named, and the CPU seconds of the whole push.

A checkout without ``core.push_suppression`` (before push30) is measured the way its push function
checked: one eventually consistent read of every profile, then, per destination, a strongly
consistent read before each batch is sent and another before its states are written. Compare two
commits by running this in a checkout of each (``PYTHONPATH`` set to it), alternately.

    python -m bench.push_reads [--people 1000] [--destinations 3]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from typing import Any

from moto import mock_aws

from core.pipeline import IngestSettings, ingest
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.suppression import SuppressionCheck
from core.sync import push_profiles
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table
from tests.unit.connectors.hubspot.conftest import connect, fast_sandbox

SALT = "bench-push-reads"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--destinations", type=int, default=3)
    args = parser.parse_args()
    store = InMemoryProfileStore()
    records = [make_record("shop", f"s{n}", email=f"buyer{n}@example.com") for n in range(args.people)]
    ingest(records, store, IngestSettings(sleep=lambda _: None))
    profiles = sorted(store.iter_profiles(), key=lambda p: p.customer_id)
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, "bench")
        calls: Counter[str] = Counter()
        items = [0]

        def count(model: Any, params: dict[str, Any], **_: Any) -> None:
            calls[model.name] += 1
            if model.name == "BatchGetItem":
                items[0] += sum(len(t["Keys"]) for t in params["RequestItems"].values())

        client.meta.events.register("provide-client-params.dynamodb", count)
        strong = SuppressionCheck(DynamoDBSuppressionStore(client, "bench"), SALT)
        eventual = SuppressionCheck(DynamoDBSuppressionStore(client, "bench", consistent=False), SALT)
        tools = [connect(fast_sandbox(people=0)) for _ in range(args.destinations)]
        try:
            cpu = time.process_time()
            from core import sync_push

            shared_answer = getattr(sync_push, "PushSuppression", None)
            if shared_answer is None:  # before push30
                blocked = eventual.suppressed_customers(profiles)
                check: Any = strong
                kind = "before push30: a read a check"
            else:
                check = shared_answer(strong)
                blocked = check.blocked(profiles)
                kind = "push30: one read, the epoch a check"
            live = [p for p in profiles if p.customer_id not in blocked]
            pushed = 0
            for tool in tools:
                pushed += push_profiles(tool, live, InMemorySyncStateStore(), suppression=check).pushed
            cpu = time.process_time() - cpu
        finally:
            for tool in tools:
                tool.close()
    print(f"{kind}: {args.people:,} people to {args.destinations} destinations, {pushed:,} pushed")
    print(f"  DynamoDB requests: {dict(sorted(calls.items()))}, suppression items read: {items[0]:,}")
    print(f"  CPU {cpu:.2f} s (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
