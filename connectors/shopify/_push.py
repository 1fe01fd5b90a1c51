"""The Shopify connector's push: enriched traits as metafields of the shop's customers (metafieldsSet,
25 a call, atomic, so the payloads not at fault are sent again on their own), customerCreate for
someone the shop does not hold, and the metafield definitions, created once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any, Final

from connectors._http import ConnectorRequestError, ConnectorUnavailableError, describe_vendor_error
from core.connector import Payload, PushOutcome
from core.schema import Identifier, Profile

from . import _documents as docs
from ._client import ShopifyClient, ShopifyGraphQLError
from ._mapping import CUSTOMER, METAFIELD_NAMES, METAFIELD_TYPES, SOURCE, gid_tail, payload_for

logger = logging.getLogger("connectors.shopify")

#: metafieldsSet user-error codes worth trying again; every other code means the value or owner is wrong.
_RETRYABLE_USER_ERRORS: Final = frozenset({"INTERNAL_ERROR"})


class ShopifyPush(ShopifyClient):
    """``from_profile``, ``pushed_identifier`` and ``push`` of ``ShopifyConnector``: enriched traits as
    customer metafields (metafieldsSet), a new customer by customerCreate."""

    namespace: str
    _definitions_ready: bool

    # --- push ---------------------------------------------------------------------------------------
    def from_profile(self, profile: Profile) -> Payload | None:
        """The profile's enriched traits as metafields of its Shopify customer, or None without one."""
        return payload_for(profile, self.namespace)

    def pushed_identifier(self, remote_id: str) -> Identifier | None:
        """The customer a push wrote metafields on (its remote id is the customer's GID)."""
        numeric = gid_tail(remote_id)
        return (
            Identifier(kind="source", value=f"{SOURCE}:{CUSTOMER}:{numeric}") if numeric.isdigit() else None
        )

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        """Set the metafields with metafieldsSet, 25 per call; one outcome per payload, in order.

        A customer the shop holds is addressed by its GID (the payload's match key, else the
        ``remote_id`` profilesync's own create gave it); someone it does not hold, whom an ``upsert``
        instance may create, is created with ``customerCreate`` (metafields included), one per call.
        """
        if not payloads:
            return []
        self._ensure_definitions()
        outcomes: list[PushOutcome | None] = [None] * len(payloads)
        owners = {i: _owner(p) for i, p in enumerate(payloads)}
        for index, owner in owners.items():
            if owner is None:
                outcomes[index] = self._create(payloads[index])
        updates = [
            dataclasses.replace(p, match_key=str(owners[i])) for i, p in enumerate(payloads) if owners[i]
        ]
        positions = [i for i in range(len(payloads)) if owners[i]]
        updated = self._set_metafields(updates) if updates else []
        for index, outcome in zip(positions, updated, strict=True):
            outcomes[index] = outcome
        return [
            o if o is not None else _failed(payloads[i], "not pushed", True) for i, o in enumerate(outcomes)
        ]

    def _create(self, payload: Payload) -> PushOutcome:
        """``customerCreate`` for one person the shop does not hold, with the payload's metafields."""
        customer = dict(payload.body.get("customer") or {"email": payload.match_key})
        customer["metafields"] = list(payload.body.get("metafields") or [])
        try:
            # Not retried blindly: a create whose answer was lost may have made the customer, and a
            # second one would be refused as a taken email (reported, not duplicated).
            data = self.graphql(
                "customerCreate", docs.CUSTOMER_CREATE, {"input": customer}, cost=docs.MUTATION_COST
            )
        except ConnectorUnavailableError as exc:
            return _failed(payload, str(exc), True)
        except (ShopifyGraphQLError, ConnectorRequestError) as exc:
            return _failed(payload, str(exc), False)
        result = data.get("customerCreate") or {}
        errors = result.get("userErrors") or []
        created = (result.get("customer") or {}).get("id")
        if errors or not created:
            return _failed(
                payload, f"shopify: customerCreate refused: {describe_vendor_error(errors)}", False
            )
        return PushOutcome(payload.customer_id, True, str(created))

    def _set_metafields(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        """metafieldsSet for customers the shop holds (match keys are their GIDs), 25 per call."""
        outcomes: list[PushOutcome | None] = [None] * len(payloads)
        batch: list[int] = []
        size = 0
        for index, payload in enumerate(payloads):
            count = len(payload.body.get("metafields") or [])
            if batch and size + count > docs.METAFIELDS_PER_CALL:
                self._push_batch(payloads, batch, outcomes)
                batch, size = [], 0
            batch.append(index)
            size += count
        if batch:
            self._push_batch(payloads, batch, outcomes)
        return [
            o if o is not None else _failed(payloads[i], "not pushed", True) for i, o in enumerate(outcomes)
        ]

    def _push_batch(
        self, payloads: Sequence[Payload], batch: list[int], outcomes: list[PushOutcome | None]
    ) -> None:
        # metafieldsSet is atomic: one bad value and nothing in the call is saved. The payloads that
        # were not at fault are sent once more on their own, so each gets its true outcome.
        pending = list(batch)
        for attempt in range(2):
            inputs: list[dict[str, Any]] = []
            owners: list[int] = []
            for index in pending:
                for metafield in payloads[index].body.get("metafields") or []:
                    inputs.append({**metafield, "ownerId": payloads[index].match_key})
                    owners.append(index)
            if not inputs:
                for index in pending:
                    outcomes[index] = PushOutcome(
                        payloads[index].customer_id, True, payloads[index].match_key
                    )
                return
            try:
                data = self.graphql(
                    "metafieldsSet", docs.METAFIELDS_SET, {"metafields": inputs}, cost=docs.MUTATION_COST
                )
            except ConnectorUnavailableError as exc:
                for index in pending:
                    outcomes[index] = _failed(payloads[index], str(exc), True)
                return
            except (ShopifyGraphQLError, ConnectorRequestError) as exc:
                for index in pending:
                    outcomes[index] = _failed(payloads[index], str(exc), False)
                return
            errors = (data.get("metafieldsSet") or {}).get("userErrors") or []
            if not errors:
                for index in pending:
                    outcomes[index] = PushOutcome(
                        payloads[index].customer_id, True, payloads[index].match_key
                    )
                return
            blamed = _blame(errors, owners)
            if not blamed:
                message = describe_vendor_error(errors)
                for index in pending:
                    outcomes[index] = _failed(
                        payloads[index], f"shopify: metafieldsSet refused: {message}", False
                    )
                return
            for index, (message, retryable) in blamed.items():
                outcomes[index] = _failed(
                    payloads[index], f"shopify: metafieldsSet refused: {message}", retryable
                )
            pending = [i for i in pending if i not in blamed]
            if not pending:
                return
            if attempt == 1:
                for index in pending:
                    outcomes[index] = _failed(
                        payloads[index],
                        "not saved: another record in the same metafieldsSet call failed",
                        True,
                    )

    def _ensure_definitions(self) -> None:
        """Create the metafield definitions profilesync writes, if missing; once per connector.

        Definitions give the values a name and a type in the Shopify admin. metafieldsSet works without
        them, so a failure here is logged and the push goes on.
        """
        if self._definitions_ready:
            return
        data = self.graphql(
            "metafieldDefinitions",
            docs.METAFIELD_DEFINITIONS,
            {"namespace": self.namespace},
            cost=docs.METAFIELD_DEFINITIONS_COST,
        )
        nodes = ((data.get("metafieldDefinitions") or {}).get("nodes")) or []
        existing = {
            str(n.get("key")): str((n.get("type") or {}).get("name")) for n in nodes if isinstance(n, dict)
        }
        for key, kind in METAFIELD_TYPES.items():
            if key in existing:
                if existing[key] != kind:
                    logger.warning(
                        "shopify: metafield %s.%s is a %s, profilesync writes a %s: pushing it fails",
                        self.namespace,
                        key,
                        existing[key],
                        kind,
                    )
                continue
            definition = {
                "name": METAFIELD_NAMES[key],
                "namespace": self.namespace,
                "key": key,
                "type": kind,
                "ownerType": "CUSTOMER",
                "description": "Written by profilesync from the merged customer profile.",
            }
            created = self.graphql(
                "metafieldDefinitionCreate",
                docs.METAFIELD_DEFINITION_CREATE,
                {"definition": definition},
                cost=docs.MUTATION_COST,
            )
            errors = (created.get("metafieldDefinitionCreate") or {}).get("userErrors") or []
            if any(isinstance(e, dict) and e.get("code") != "TAKEN" for e in errors):
                logger.warning(
                    "shopify: could not define metafield %s.%s: %s",
                    self.namespace,
                    key,
                    describe_vendor_error(errors),
                )
        self._definitions_ready = True


def _owner(payload: Payload) -> str | None:
    """The GID of the customer a payload goes to: its match key when that is one, else the one
    profilesync created before (``remote_id``); None for someone to create."""
    if payload.match_key.startswith("gid://shopify/Customer/"):
        return payload.match_key
    return payload.remote_id or None


def _failed(payload: Payload, error: str, retryable: bool) -> PushOutcome:
    return PushOutcome(payload.customer_id, False, payload.match_key, error=error, retryable=retryable)


def _blame(errors: list[Any], owners: list[int]) -> dict[int, tuple[str, bool]]:
    """Which payloads the user errors are about: ``elementIndex`` (or ``field[1]``) is the position of
    the metafield in the call."""
    blamed: dict[int, tuple[str, bool]] = {}
    for error in errors:
        if not isinstance(error, dict):
            continue
        position = error.get("elementIndex")
        field = error.get("field")
        if not isinstance(position, int) and isinstance(field, list) and len(field) > 1:
            try:
                position = int(field[1])
            except (TypeError, ValueError):
                position = None
        if not isinstance(position, int) or not 0 <= position < len(owners):
            continue
        code = str(error.get("code") or "")
        message = str(error.get("message") or "refused")
        key = field[-1] if isinstance(field, list) and field else ""
        text = f"{message} ({code}{', ' + str(key) if key else ''})" if code else message
        owner = owners[position]
        previous = blamed.get(owner)
        retryable = code in _RETRYABLE_USER_ERRORS and (previous is None or previous[1])
        blamed[owner] = (f"{previous[0]}; {text}" if previous else text, retryable)
    return blamed
