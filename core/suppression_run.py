"""What one run over a file drops as an erased person's, kept for the rest of that run.

An erasure with probabilistic identity leaves a fingerprint of each record of hers it found stored
(core.suppression_fuzzy), and merge drops a record the model would have linked to one of them. A run
over a file whose person was never stored where she was erased has no such fingerprint: her CRM line
is left out by her suppressed address, and her shop line under a private address, which the model
links to that CRM line by her name, birth date and address alone, would be kept (attack20).

``RunFingerprints`` keeps the person records a run leaves out as fingerprints of its own (in memory,
keyed with a salt of the run's, gone with it) and finds the records the model would have linked to
one of them (the lower bound of the pair's score merge weighs against an erasure's fingerprint,
vetoes included), fingerprinting each found one in turn: whatever links to her records goes with
them, as her customer would have. ``profilesync identity link`` and ``identity train`` use it
(profilesync.identity_erasures); ``resolve`` keeps such fingerprints in its state store's check
(profilesync.resolve_erasures).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from core.linkage import LinkageModel, LinkageRecord
from core.suppression import keyed_hash
from core.suppression_fuzzy import FuzzyLookups, _fingerprint, lookup_keys

__all__ = ["RunFingerprints"]


class RunFingerprints:
    """The fingerprints of the person records a run dropped as an erased person's (module docstring)."""

    def __init__(self, model: LinkageModel) -> None:
        self.model = model
        # In memory only; keyed anyway so that the check is merge's own (core.suppression_fuzzy).
        self._salt = secrets.token_hex(16)
        self.prints: dict[str, list[dict[str, str]]] = {}

    def _hash(self, key: str) -> str:
        return keyed_hash(self._salt, key)

    def add(self, records: Iterable[LinkageRecord]) -> None:
        """Keep the fingerprints of ``records`` (person records the run dropped as hers)."""
        for record in records:
            for key in lookup_keys(record):
                entry = self._hash(key)
                fingerprint = _fingerprint(self._hash, entry, record)
                held = self.prints.setdefault(entry, [])
                if fingerprint not in held:
                    held.append(fingerprint)

    def take_linked(self, prepared: Sequence[tuple[str, LinkageRecord]]) -> set[str]:
        """The keys of the records among ``prepared`` (key, person record) the model would have
        linked to a fingerprint kept, each found one fingerprinted in turn (so a record linked to
        it goes too)."""
        found: set[str] = set()
        rest = list(prepared)
        while rest and self.prints:
            lookups = FuzzyLookups.of_prepared(rest, self.model, self._hash)
            hit = set(lookups.hashes) & self.prints.keys()
            linked = lookups.linked(lambda _: None, hit, self.prints) if hit else set()
            if not linked:
                break
            found |= linked
            self.add(record for key, record in rest if key in linked)
            rest = [(key, record) for key, record in rest if key not in linked]
        return found
