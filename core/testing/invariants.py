"""Invariants every profile store must hold after any sequence of ingests, concurrent or not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.schema import Profile


def store_problems(profiles: Iterable[Profile], owners: Mapping[str, str]) -> list[str]:
    """What is wrong with a store's state; empty when it is consistent.

    ``owners`` maps every identifier key in the store to its owning customer id. Checked: each
    identifier is owned by exactly one live customer whose profile lists it; each source record is
    in exactly one profile, and its source key is owned by that profile's customer.
    """
    problems: list[str] = []
    live = {p.customer_id: p for p in profiles}
    seen_sources: dict[str, str] = {}
    for profile in live.values():
        keys = {i.key for i in profile.identifiers}
        for ref in profile.sources:
            other = seen_sources.setdefault(ref.key, profile.customer_id)
            if other != profile.customer_id:
                problems.append(f"source {ref.key} is in two profiles: {other} and {profile.customer_id}")
            if owners.get(f"source#{ref.key}") != profile.customer_id:
                problems.append(f"source#{ref.key} is not owned by its profile {profile.customer_id}")
        for key, owner in owners.items():
            if owner == profile.customer_id and key not in keys:
                problems.append(f"{key} is owned by {owner} but not in its profile")
    for key, owner in owners.items():
        if owner not in live:
            problems.append(f"{key} is owned by {owner}, which is not a live customer")
    return problems
