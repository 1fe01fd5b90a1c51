"""Push: the enriched traits as customer ``meta_data``, 100 updates per ``POST /customers/batch``.

``meta_data`` entries given by ``key`` (no ``id``) are upserts: WooCommerce's customer update calls
``update_meta_data(key, value)``, which replaces the entry with that key or adds it. The batch
endpoint takes at most 100 items of ``create`` + ``update`` + ``delete`` together (413
``woocommerce_rest_request_entity_too_large`` beyond) and answers ``{"update": [...]}`` in request
order, each element the updated customer or ``{"id", "error": {"code", "message", "data":
{"status"}}}`` for one that failed (WC_REST_Controller::batch_items). A person with two WooCommerce
accounts (the same email registered twice is refused, but an account email and another's billing
email can meet in one profile) gets the traits on both, so one batch of payloads can need more than
100 updates: they are sent in as many requests as it takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from connectors._http import ConnectorRequestError
from connectors.sdk import RestContext
from core.connector import Payload, PushOutcome
from core.push import source_ids
from core.schema import Profile

from ._mapping import CUSTOMER, SOURCE

CUSTOMERS_BATCH: Final = "/wp-json/wc/v3/customers/batch"
#: WooCommerce's default ``woocommerce_rest_batch_items_limit``.
BATCH_LIMIT: Final = 100
META_PREFIX: Final = "profilesync_"
#: Error statuses for which sending the same update again can succeed.
_RETRYABLE: Final = frozenset({409, 423, 429, 500, 502, 503, 504})


def customer_ids(profile: Profile) -> list[int]:
    """The WooCommerce customer ids of a profile, lowest first (orders alone are not an account)."""
    return sorted(int(i) for i in source_ids(profile, SOURCE, CUSTOMER) if i.isdigit())


def shape(profile: Profile, email: str, properties: dict[str, str]) -> Mapping[str, Any]:
    """One person's update: the customer ids to update and the meta entries to set on each."""
    return {
        "customers": customer_ids(profile),
        "meta_data": [{"key": key, "value": value} for key, value in sorted(properties.items())],
    }


def _updates(payloads: Sequence[Payload]) -> list[tuple[int, dict[str, Any]]]:
    """(payload index, one customer update) for every customer of every payload, in order."""
    return [
        (index, {"id": customer, "meta_data": list(payload.body.get("meta_data", []))})
        for index, payload in enumerate(payloads)
        for customer in payload.body.get("customers", [])
    ]


def _failure(result: Mapping[str, Any]) -> tuple[str, bool] | None:
    error = result.get("error")
    if not isinstance(error, Mapping):
        return None
    data = error.get("data")
    status = data.get("status") if isinstance(data, Mapping) else None
    message = f"customer {result.get('id')}: {error.get('message') or error.get('code') or 'failed'}"
    return message, status in _RETRYABLE


def send(context: RestContext, payloads: Sequence[Payload]) -> list[PushOutcome]:
    """Update every payload's customers in batches of 100; one outcome per payload, in order."""
    client = context.client("push")
    errors: dict[int, tuple[str, bool]] = {}
    updates = _updates(payloads)
    for start in range(0, len(updates), BATCH_LIMIT):
        chunk = updates[start : start + BATCH_LIMIT]
        try:
            # Setting meta by key is idempotent: a batch sent twice leaves the same customers.
            body = client.post_json(CUSTOMERS_BATCH, json={"update": [u for _, u in chunk]}, idempotent=True)
        except ConnectorRequestError as exc:
            errors.update((index, (str(exc), False)) for index, _ in chunk)
            continue
        results = body.get("update") if isinstance(body, Mapping) else None
        if not isinstance(results, list) or len(results) != len(chunk):
            said = f"{len(results)} results" if isinstance(results, list) else "no update list"
            errors.update(
                (index, (f"WooCommerce answered the batch of {len(chunk)} with {said}", True))
                for index, _ in chunk
            )
            continue
        for (index, _), result in zip(chunk, results, strict=True):
            failed = _failure(result) if isinstance(result, Mapping) else ("not an object", True)
            if failed is not None and index not in errors:
                errors[index] = failed
    out: list[PushOutcome] = []
    for index, payload in enumerate(payloads):
        ids = payload.body.get("customers", [])
        if not ids:
            out.append(PushOutcome(payload.customer_id, ok=False, error="no WooCommerce customer id"))
        elif index in errors:
            message, retryable = errors[index]
            out.append(PushOutcome(payload.customer_id, ok=False, error=message, retryable=retryable))
        else:
            out.append(PushOutcome(payload.customer_id, ok=True, remote_id=str(ids[0])))
    return out


__all__ = ["BATCH_LIMIT", "CUSTOMERS_BATCH", "META_PREFIX", "customer_ids", "send", "shape"]
