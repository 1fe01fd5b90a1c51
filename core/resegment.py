"""Stored profiles re-segmented under the rules in force (``profilesync repair --segments``).

A profile's segment is decided when it is built (core.computed_traits ``segment_of``), and ingest
builds one only when a record of it arrives: after the ``segments`` section changes (a currency's
``vip`` threshold raised or lowered), a customer with no new record keeps the segment of the old
thresholds, in the store and at every tool it is pushed to. This pass finds each stored profile
whose segment the rules now give otherwise (from its own computed traits: no record is read for the
others) and rebuilds it from its records under the rules, as ingest would: a new version, so the
next push sends it. The write is conditional on the customer's version (a customer changed
meanwhile is read and judged again); a customer in a merge in flight is left to ``repair``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.computed_traits import segment_of
from core.errors import ConflictError
from core.ingest_settings import IngestSettings, _back_off
from core.merge import build_profile, profile_hash
from core.ports import Changeset, ProfileStore, PutProfile
from core.schema import Profile

__all__ = ["Resegmented", "resegment", "stale_segment"]


@dataclass
class Resegmented:
    """What a re-segmenting pass found and did."""

    checked: int = 0
    """Stored profiles looked at."""
    changed: list[tuple[str, str, str]] = field(default_factory=list)
    """(customer, old segment, new segment) of each profile re-segmented (or, dry, that would be)."""
    skipped: list[str] = field(default_factory=list)
    """Customers with a stale segment left as they are: in a merge in flight (``repair`` first)."""


def stale_segment(profile: Profile, settings: IngestSettings) -> str | None:
    """The segment ``settings``' rules give the profile when it is not the stored one; else None."""
    computed = profile.computed
    now = segment_of(computed.lifetime_value, computed.order_count, settings.rules)
    return None if now == computed.segment else now


def resegment(store: ProfileStore, settings: IngestSettings, *, dry_run: bool = False) -> Resegmented:
    """Re-segment every stored profile of ``store`` whose segment ``settings.rules`` now decide
    otherwise (``dry_run``: list them, writing nothing). Each is rebuilt from its records, written
    conditionally on its version, and read again when another writer changed it first."""
    report = Resegmented()
    stale: list[tuple[str, str, str]] = []  # listed first: no write while the store is walked
    for profile in store.iter_profiles():
        report.checked += 1
        now = stale_segment(profile, settings)
        if now is not None:
            stale.append((profile.customer_id, profile.computed.segment, now))
    for customer, old, now in stale:
        if dry_run:
            report.changed.append((customer, old, now))
            continue
        done = _rebuild(store, customer, settings)
        if done is None:
            report.skipped.append(customer)
        elif done and done != old:  # ("": erased or merged away meanwhile)
            report.changed.append((customer, old, done))
    return report


def _rebuild(store: ProfileStore, customer: str, settings: IngestSettings) -> str | None:
    """Rebuild ``customer``'s profile from its records under the rules; its segment then (the
    stored one when nothing was to be done), or None when it is in a merge in flight."""
    for attempt in range(settings.max_attempts):
        state = store.get_customers([customer]).get(customer)
        if state is None or state.profile is None or state.merged_into:
            return "" if state is None or state.profile is None else state.profile.computed.segment
        if state.merging_into or state.absorbing:
            return None
        if stale_segment(state.profile, settings) is None:
            return state.profile.computed.segment  # another writer re-segmented it meanwhile
        profile = build_profile(customer, list(state.snapshots.values()), settings.rules, state.version + 1)
        digest = profile_hash(profile)
        put = PutProfile(customer, profile, digest, state.owned, state.version, state.absorbing)
        if not store.commit([Changeset(f"resegment:{customer}", (put,))]):
            return profile.computed.segment
        _back_off(settings, attempt)
    raise ConflictError(
        f"re-segmenting {customer}: the customer kept changing while it was rebuilt; run the command again"
    )
