"""The deletes of an erasure (core.person_scope), in its order and with its guards, in steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.ports import RETIRED_OWNER, CustomerState
from core.privacy_store import DeleteItem, ErasureStep, ItemKey


def plan_erasure(
    customer: str,
    state: CustomerState | None,
    items: Sequence[ItemKey],
    owned_idents: Sequence[str],
    absorbed: Mapping[str, tuple[int, Sequence[ItemKey]]],
    limit: int,
    holder_items: Sequence[ItemKey] = (),
    tombstones: Sequence[str] = (),
) -> list[ErasureStep]:
    """The deletes that remove ``customer`` and everything that points to it, in steps of ``limit``.

    Order: its PROFILE item (guarded by the version read) and the IDENT items it owns (guarded by
    the owner) first, so that no new record resolves to it after the first step; then the tombstones
    of its retired records (guarded by their owner, ``RETIRED_OWNER``: a record re-created since is
    not deleted); then the items of customers merged into it (their tombstones guarded by their
    version); then its holder markers,
    PUSHED# and any other item; the SOURCE# items last, since they are what a retry reads the
    identifiers from.
    """
    deletes: list[DeleteItem] = []
    profile = ItemKey(f"CUSTOMER#{customer}", "PROFILE")
    if profile in items:
        deletes.append(DeleteItem(profile, expected_version=state.version if state is not None else 0))
    deletes.extend(DeleteItem(ItemKey(f"IDENT#{k}", "IDENT"), expected_owner=customer) for k in owned_idents)
    retired = (DeleteItem(ItemKey(f"IDENT#{k}", "IDENT"), expected_owner=RETIRED_OWNER) for k in tombstones)
    deletes.extend(retired)
    for absorbed_id in sorted(absorbed):
        version, keys = absorbed[absorbed_id]
        deletes.extend(
            DeleteItem(key, expected_version=version if key.sk == "PROFILE" else None)
            for key in sorted(keys, key=lambda k: (k.sk != "PROFILE", k.sk))
        )
    deletes.extend(DeleteItem(k) for k in holder_items)
    rest = sorted((k for k in items if k != profile), key=lambda k: (k.kind == "source", k.sk))
    deletes.extend(DeleteItem(k) for k in rest)
    size = max(1, limit)
    return [tuple(deletes[i : i + size]) for i in range(0, len(deletes), size)]


__all__ = ["plan_erasure"]
