"""What one run over a file drops as an erased person's, kept for the rest of that run.

An erasure with probabilistic identity leaves a fingerprint of each record of hers it found stored
(core.suppression_fuzzy), and merge drops a record the model would have linked to one of them. A run
over a file (``profilesync resolve``, ``identity link``) whose person was never stored where she was
erased has no such fingerprint: her CRM line is dropped by her suppressed address, and her shop line
under a private address, which the run's model links to that CRM line by her name, birth date and
address, came out as a profile of its own (attack20).

So a run keeps the person records it drops as suppressed as fingerprints of its own
(``RunFingerprints``: in memory, keyed with a salt of the run's, gone with it), and a record the model
would have linked to one of them (the same lower bound of the pair's score merge weighs against an
erasure's fingerprint, vetoes included) is dropped too, and fingerprinted in turn: whatever links to
her records in the run goes with them, as her customer would have.

``RunSuppressionCheck`` is the ``SuppressionCheck`` that does this at every ``split`` of a run's
ingest. A run that drops nothing does nothing more (no fingerprint, no look-up).

A record of hers the run stored *before* it met a line it dropped as hers (another batch, earlier in
the file) is not seen here: ``resolve`` looks for it in its store once every line is read
(profilesync.resolve_run_prints).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from core.identity import IdentityPolicy
from core.link_nodes import graph_node
from core.linkage import LinkageModel, LinkageRecord
from core.schema import SourceRecord
from core.suppression import SuppressionCheck, keyed_hash
from core.suppression_fuzzy import FuzzyLookups, _fingerprint, lookup_keys

__all__ = ["RunFingerprints", "RunSuppressionCheck"]


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


class RunSuppressionCheck(SuppressionCheck):
    """A ``SuppressionCheck`` for one run: with a linkage model, the person records its ``split``
    drops are kept as fingerprints (``RunFingerprints``) and the records linked to them dropped too,
    in that batch and every later one."""

    run_prints: RunFingerprints | None = None
    """The run's fingerprints, made at the first record it drops with a model (None: none yet)."""

    def _split(
        self,
        records: Sequence[SourceRecord],
        model: LinkageModel | None,
        policy: IdentityPolicy | None,
    ) -> tuple[list[SourceRecord], list[SourceRecord]]:
        kept, dropped = super()._split(records, model, policy)
        if model is None or policy is None or not (dropped or self.run_prints):
            return kept, dropped
        if self.run_prints is None:
            self.run_prints = RunFingerprints(model)
        prints = self.run_prints
        prints.add(node.record for r in dropped if (node := graph_node(r, policy)).person)
        prepared = [(r.key, node.record) for r in kept if (node := graph_node(r, policy)).person]
        linked = prints.take_linked(prepared)
        if not linked:
            return kept, dropped
        return [r for r in kept if r.key not in linked], [*dropped, *(r for r in kept if r.key in linked)]
