"""reva16: writers racing on one record's write-ahead entry (core.link_filed), one of them killed,
then her erasure: nothing of hers may be left in the index.

Red before c3cb50d (the entry and its filing in one update_blocks call; settle drops only the keys
the stored version's tag holds; the stored tag without the retired bp: key; a suppressed record this
call did not file is unfiled). The sweeps are in test_reva16_filing_sweeps.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.identity import IdentityPolicy
from core.link_filed import filed_key
from core.schema import Identifier
from tests.integration.identity_attack_records import flat, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_attack9_place_programs import STREET
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_erasure_block_orders import _block_text
from tests.integration.test_filed16_killed_anywhere import ELI, ELI_EMAIL, _Killed

ALL = ["memory", "sqlite", "dynamodb"]
CALLS = (
    "get_customers",
    "get_owners",
    "get_owners_and_tombstones",
    "commit",
    "get_reviews",
    "requeue_review",
    "get_blocks",
    "update_blocks",
)
EMAIL = Identifier.assemble(kind="email", value=ELI_EMAIL)


def eli(day: int, address: str, first: str = "Eli", dob: str | None = "1980-06-06", **more: Any) -> Any:
    """Her CRM record on ``day`` at ``address``."""
    fields = {**STREET, "first_name": first, "date_of_birth": dob, "address": address, **more}
    return flat("crm", "8", day=day, email=ELI_EMAIL, **fields)


def erase_her(stores: Any, request: str = "req-eli") -> str:
    """Her erasure by email; its outcome."""
    return str(stores.erase(EMAIL, request, IdentityPolicy(), _settings(stores)).outcome)


def nothing_of_hers(stores: Any, place: str = "quillon") -> bool:
    """Whether the index holds neither her record id nor ``place``."""
    text = _block_text(stores.profiles)
    return ELI not in text and place not in text.lower()


def _run_a_with(
    stores: Any, line: Any, other: Callable[[], object], kill_after: int, run_after: str = "ub1"
) -> list[str]:
    """Ingest ``line`` (writer A): ``other`` runs whole right after A's first update_blocks (its
    write-ahead; or after A's first call named ``run_after``); A is killed right after its
    ``kill_after``-th update_blocks. The names of A's calls, "ran" and "KILLED" where they happened."""
    store = stores.profiles
    made: list[str] = []
    busy = [False]
    writes = [0]

    def wrap(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            found = real(*args, **kwargs)
            if busy[0]:
                return found
            made.append(name)
            writes[0] += name == "update_blocks"
            due = name == run_after or (run_after == "ub1" and name == "update_blocks" and writes[0] == 1)
            if due and "ran" not in made:
                made.append("ran")
                busy[0] = True
                try:
                    other()
                finally:
                    busy[0] = False
            if name == "update_blocks" and writes[0] == kill_after:
                raise _Killed(name)
            return found

        return call

    names = [n for n in CALLS if hasattr(store, n)]
    for n in names:
        setattr(store, n, wrap(n, getattr(store, n)))
    try:
        resolve_lines([line], store, settings=_settings(stores))
    except _Killed:
        made.append("KILLED")
    finally:
        for n in names:
            delattr(store, n)
    return made


def _ingest(stores: Any, line: Any) -> Callable[[], object]:
    return lambda: resolve_lines([line], stores.profiles, settings=_settings(stores))


@pytest.mark.parametrize("name", ALL)
def test_a_same_tag_settle_between_a_write_ahead_and_its_killed_filing_leaves_nothing(name: str) -> None:
    """GIVEN Eli stored on Tanner Row, and writer A filing her Quillon Road version
    WHEN writer B, between A's write-ahead and A's filing, settles a version with her same match
    fields (only a loyalty tier changed), then A files and is killed before its commit, and she is
    erased
    THEN the index holds neither her record nor a Quillon key (red before: B's settle took the
    Quillon keys A had just listed out of the entry, and her erasure found them nowhere)."""
    with STORES[name]() as stores:
        _ingest(stores, eli(1, "9 Tanner Row"))()
        b = _ingest(stores, eli(2, "9 Tanner Row", loyalty_tier="gold"))
        made = _run_a_with(stores, eli(3, "23 Quillon Road"), b, kill_after=2)
        assert "KILLED" in made
        assert erase_her(stores) == "erased"
        assert nothing_of_hers(stores)


@pytest.mark.parametrize("name", ALL)
def test_an_erasure_between_a_filings_reads_and_its_killed_filing_leaves_nothing(name: str) -> None:
    """GIVEN Eli stored on Tanner Row, and writer A about to file her Quillon Road version
    WHEN her erasure runs whole after A's first read (before A's write-ahead), A files and is killed,
    the erasure is sent again and her Quillon Road version delivered again
    THEN the index holds neither her record nor a Quillon key (red before: the redelivered version
    was dropped as suppressed without unfiling what the killed filing had put in)."""
    with STORES[name]() as stores:
        _ingest(stores, eli(1, "9 Tanner Row"))()
        outcomes: list[str] = []
        made = _run_a_with(
            stores,
            eli(3, "23 Quillon Road"),
            lambda: outcomes.append(erase_her(stores)),
            kill_after=2,
            run_after="get_customers",
        )
        assert "KILLED" in made
        assert outcomes == ["erased"]
        erase_her(stores, "req-eli-2")
        _ingest(stores, eli(3, "23 Quillon Road"))()
        assert nothing_of_hers(stores)


@pytest.mark.parametrize("name", ALL)
def test_the_races_without_the_kill_leave_nothing(name: str) -> None:
    """GIVEN Eli stored on Tanner Row
    WHEN either race above runs with writer A not killed, and she is erased
    THEN the index holds nothing of hers (the control: the kill is what the races above add)."""
    with STORES[name]() as stores:
        _ingest(stores, eli(1, "9 Tanner Row"))()
        outcomes: list[str] = []
        erase = lambda: outcomes.append(erase_her(stores))  # noqa: E731
        made = _run_a_with(stores, eli(3, "23 Quillon Road"), erase, 99, "get_customers")
        assert "KILLED" not in made
        assert outcomes == ["erased"]
        assert nothing_of_hers(stores)
    with STORES[name]() as stores:
        _ingest(stores, eli(1, "9 Tanner Row"))()
        made = _run_a_with(stores, eli(3, "23 Quillon Road"), _ingest(stores, eli(2, "9 Tanner Row")), 99)
        assert "KILLED" not in made
        assert erase_her(stores) == "erased"
        assert nothing_of_hers(stores)


@pytest.mark.parametrize("dob", ["1980-06-06", None], ids=["dated", "no_birth_date"])
@pytest.mark.parametrize("name", ALL)
def test_a_retagging_settle_under_a_killed_filing_then_a_later_version_leaves_nothing(
    name: str, dob: str | None
) -> None:
    """GIVEN Eli stored on Tanner Row, and writer A filing her Quillon Road version
    WHEN writer B, between A's write-ahead and A's filing, settles a version with her first name
    changed (another tag: it retags the Quillon keys A listed), A files and is killed, a later
    version of hers (Yarn Street) is stored, and she is erased
    THEN the index holds no Quillon key (red before: the later filing dropped every key tagged with
    B's version from the entry without looking at the index there)."""
    with STORES[name]() as stores:
        _ingest(stores, eli(1, "9 Tanner Row", dob=dob))()
        b = _ingest(stores, eli(2, "9 Tanner Row", first="Elspeth", dob=dob))
        made = _run_a_with(stores, eli(3, "23 Quillon Road", dob=dob), b, kill_after=2)
        assert "KILLED" in made
        _ingest(stores, eli(4, "40 Yarn Street", dob=dob))()
        assert erase_her(stores) == "erased"
        assert nothing_of_hers(stores)


@pytest.mark.parametrize("name", ALL)
def test_an_overloaded_entry_is_gone_after_her_erasure(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """GIVEN Eli's entry overloaded (FILED_LIMIT lowered to 5 to stand for 1,000)
    WHEN she is erased
    THEN her entry is gone (red before privacy17: forget_records cleared only entries with members,
    and an overloaded one has none)."""
    import core.link_filed

    monkeypatch.setattr(core.link_filed, "FILED_LIMIT", 5)
    with STORES[name]() as stores:
        _ingest(stores, eli(1, "1 Quillon Road"))()
        entry = stores.profiles.get_blocks([filed_key(ELI)]).get(filed_key(ELI))
        assert entry is not None
        assert entry.overloaded
        assert erase_her(stores) == "erased"
        assert filed_key(ELI) not in stores.profiles.get_blocks([filed_key(ELI)])
