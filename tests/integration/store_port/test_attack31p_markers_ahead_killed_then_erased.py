"""attack31p: holder markers written ahead of a killed changeset outlive her erasure, on the three stores.

core.ingest_markers commits a record's holder markers (``IDENT#mailbox#...`` / ``HOLDER#<customer>``,
her mailbox in the key) before its changeset when together they outgrow one transaction. Its
docstring covers a kill between the two commits (the next run writes the changeset) and an erasure
between them in the same run (``forget_ahead`` deletes the markers of a customer gone). Not the two
together: the run is killed once the markers are written, and she is erased (by her record's id, or
by an address she holds) before any next run. Her erasure reads the markers under the values her
customer *holds* (core.person_scope: ``erasure.holders([*values, *mailboxes])``, and
``stale_markers`` over the same values), never those under the addresses of the version that did
not commit: the 40 markers under her new mailboxes, naming her deleted customer, stay. The next run
drops the version as suppressed (its record id is) before anything is planned, so no
``forget_ahead`` runs either: her addresses stay in the keys of items of an erased person for good.

No kill is needed either: a second writer storing her newer version between the markers' commit and
the changeset's makes the changeset fail; planned again, the version is older than the stored one and
is dropped, and ``forget_ahead`` keeps its markers (their customer lives). Her erasure later leaves
them just the same (``test_markers_of_a_version_overtaken_meanwhile_outlive_her_erasure``).

Fix idea: make the markers written ahead findable from her customer: ``commit_ahead`` also puts one
item under her customer's partition (``CUSTOMER#<id>`` / ``AHEAD#<label>``, listing the marker keys)
that the changeset's commit deletes; ``customer_items`` then returns it, and the erasure deletes the
markers it lists with it (core.person_scope adds them to ``holder_items``).
"""

from __future__ import annotations

import pytest

from core.mailbox import mailbox_key
from core.pipeline import ingest
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_left30_markers_ahead_on_every_store import (
    KEY,
    Between,
    _contact,
    _emails,
    _erase,
    _erasure,
    _settings,
)

REASON = (
    "core/person_scope.py:321 (scope_of) reads holder markers only under the values her customer holds "
    "(and stale_markers at :341 likewise), so markers core/ingest_markers.py:commit_ahead wrote for a "
    "version whose changeset never commits (her new mailboxes in their keys, naming her customer) outlive "
    "her erasure (forget_ahead runs only for a customer gone in the same run: not after a kill, nor for a "
    "version overtaken by another writer and dropped); fix idea: an "
    "AHEAD# item under CUSTOMER#<id> listing them, deleted by the changeset, read and followed by the erasure"
)


def _killed() -> None:
    raise KeyboardInterrupt  # the process killed once the markers are written


def test_markers_of_a_killed_version_outlive_her_erasure(kit: StoreKit) -> None:
    """Named by her record's id here; by an address she holds (``p.3@gmail.com``) it is the same (tried)."""
    erasure = _erasure(kit)
    old, new = _contact("p", 40, 1), _contact("q", 40, 2)
    assert ingest([old], kit.profiles, _settings(kit)).written == 1
    # GIVEN her next version's run killed once its markers are committed ahead of its changeset
    with pytest.raises(KeyboardInterrupt):
        ingest([new], Between(kit.profiles, _killed), _settings(kit))  # type: ignore[arg-type]
    mailboxes = sorted({m for i in new.identifiers if (m := mailbox_key(i.key)) is not None})
    assert len(mailboxes) == 40
    assert set(erasure.holders(mailboxes)) == set(mailboxes)  # the markers were written
    # WHEN she is erased before any next run (her stored customer found by her record's id)
    assert _erase(kit, erasure, source=KEY) == "erased"
    assert list(kit.profiles.iter_profiles()) == []
    # AND the next run pulls the killed version again (dropped: her record id is suppressed)
    result = ingest([new], kit.profiles, _settings(kit))
    assert (result.written, result.suppressed) == (0, 1)
    # THEN no holder marker under any of her mailboxes is left
    assert erasure.holders(mailboxes) == {}


def test_a_killed_version_erased_by_its_new_address_leaves_no_marker_of_that_mailbox(kit: StoreKit) -> None:
    """Control (passes on main): named by an address of the killed version, nobody holds it, and the
    erasure deletes the stale markers under its mailbox (core.scope_holders.stale_markers). Catches
    the erasure's not-found branch losing its ``holder_items`` deletes (core/privacy.py)."""
    erasure = _erasure(kit)
    old, new = _contact("p", 40, 1), _contact("q", 40, 2)
    ingest([old], kit.profiles, _settings(kit))
    with pytest.raises(KeyboardInterrupt):
        ingest([new], Between(kit.profiles, _killed), _settings(kit))  # type: ignore[arg-type]
    assert erasure.holders(["mailbox#q7@gmail.com"]) != {}
    _erase(kit, erasure, email="q.7@gmail.com")
    assert erasure.holders(["mailbox#q7@gmail.com"]) == {}


def test_markers_of_a_version_overtaken_meanwhile_outlive_her_erasure(kit: StoreKit) -> None:
    """No kill needed: a second writer stores her newer version between the markers' commit and the
    changeset's; the changeset fails, the version planned again is older than the stored one and is
    dropped, and ``forget_ahead`` keeps the markers (their customer lives). Her later erasure by her
    record's id leaves them: her 40 mailboxes of the overtaken version in their keys."""
    erasure = _erasure(kit)
    old, new, newer = _contact("p", 40, 1), _contact("q", 40, 2), _contact("r", 1, 3)
    assert ingest([old], kit.profiles, _settings(kit)).written == 1
    # GIVEN her version's markers committed ahead, then another writer storing her newer version
    store = Between(kit.profiles, lambda: ingest([newer], kit.profiles, _settings(kit)))
    result = ingest([new], store, _settings(kit))  # type: ignore[arg-type]
    assert result.written == 0
    assert _emails(kit) == ["r.0@gmail.com"]
    mailboxes = sorted({m for i in new.identifiers if (m := mailbox_key(i.key)) is not None})
    assert set(erasure.holders(mailboxes)) == set(mailboxes)  # left, naming her live customer
    # WHEN she is erased by her record's id
    assert _erase(kit, erasure, source=KEY) == "erased"
    assert list(kit.profiles.iter_profiles()) == []
    # THEN no holder marker under any mailbox of her overtaken version is left
    assert erasure.holders(mailboxes) == {}
