"""The erasures ``profilesync identity link`` and ``identity train`` honour: those of ``--state-dir``.

``resolve`` drops the lines of people erased from the embedded store of ``--state-dir``
(profilesync.resolve_erasures). ``identity link`` reads the same lines and writes each customer it
finds with the reasons of its edges (``shared email ...``), and ``identity train`` writes a model
from them: over a file holding an erased person, both wrote her back (attack20). So both open the
same store, read only, and leave out a line that

* holds an identifier or record id suppressed there (mailboxes included: core.suppression), or
* the model links to a fingerprint an erasure with probabilistic identity left there
  (core.suppression_fuzzy), or
* the model links to a line left out so (core.suppression_run: her shop line under a private
  address, joined to her CRM line by her name, birth date and address alone),

and count them. No store (nobody was ever erased there) leaves out nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Final

from core.normalise import NormaliseOptions

if TYPE_CHECKING:
    from core.linkage import LinkageModel, LinkageRecord

__all__ = ["ERASED", "LinkErasures"]

#: The reason ``read_linkage_records`` counts an erased person's lines under.
ERASED: Final = "erased"
#: Records whose identifiers are looked up together (one read of the state store).
_PER_LOOKUP: Final = 2000


class LinkErasures:
    """The suppression entries of the embedded store in ``state_dir``, as ``resolve`` reads them,
    judged with ``model`` (the one the command links with)."""

    def __init__(
        self, state_dir: Path, table: str, stack: ExitStack, options: NormaliseOptions, model: LinkageModel
    ) -> None:
        from profilesync.resolve_erasures import StateErasures

        self._state = StateErasures(state_dir, table, stack, options)
        self._model = model

    def erased(self, records: Sequence[LinkageRecord], keys_of: Mapping[str, Sequence[str]]) -> set[str]:
        """The keys of the ``records`` that are an erased person's (module docstring); ``keys_of``:
        each record's identifier keys as its raw values normalise to, its record id included."""
        check = self._state.check()
        if check is None:
            return set()
        from core.suppression import is_suppressed
        from core.suppression_fuzzy import FuzzyLookups
        from core.suppression_run import RunFingerprints

        found: set[str] = set()
        for start in range(0, len(records), _PER_LOOKUP):
            page = records[start : start + _PER_LOOKUP]
            lookups = FuzzyLookups.of_prepared(((r.key, r) for r in page), self._model, check.hash)
            keys = (k for r in page for k in keys_of.get(r.key, ()))
            hit = check.suppressed_keys(keys, extra=lookups.hashes)
            if hit:
                found.update(r.key for r in page if is_suppressed(keys_of.get(r.key, ()), hit))
                found |= lookups.linked(check.store.entry, hit)
        if found:
            run = RunFingerprints(self._model)
            run.add(r for r in records if r.key in found)
            found |= run.take_linked([(r.key, r) for r in records if r.key not in found])
        return found
