"""attack14: her address written again after her erasure with a character nobody can see in it.

``core/normalise/_email.py`` removes the invisible format characters a copy and paste brings along
(a zero-width space, a byte-order mark, a soft hyphen, the bidirectional marks), so that such a
spelling is her address and her suppression drops it (attack12 checked those). It keeps every other
character that a UTF-8 local part may hold: letters, digits and *combining marks* of any script, and
the zero-width (non-)joiner anywhere. Several of those are as invisible as the ones it removes, and
Unicode lists them as default-ignorable (``DerivedCoreProperties.txt``): the combining grapheme joiner
(U+034F, a mark), the variation selectors (U+FE00-FE0F, marks), the Mongolian free variation selectors
(U+180B-180D, marks), the zero-width non-joiner and joiner (U+200C, U+200D) after a Latin letter, where
IDNA's CONTEXTJ rule (RFC 5892, appendix A.1 and A.2) would refuse them, and the Hangul filler (U+3164,
a letter). Each makes ``ann<invisible>@example.com`` an address of its own: after her erasure her
record spelt so is not hers, and she comes back as a new customer with her name and, on the screen,
her address (and it is pushed to the tools her erasure just asked).

Her first contact is made at HubSpot's sandbox through HubSpot's official SDK and synced into the
embedded store with ``profilesync sync``; she is erased with ``profilesync privacy erase``; the
spellings come back through the SDK and ``sync --full``, or in a file through ``profilesync resolve``.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import SimplePublicObjectInputForCreate

from core.normalise import normalise_email
from profilesync.cli import main
from tests.e2e.attack14_support import (
    her_lines,
    hubspot_served,
    profile_lines,
    resolve_beside,
    written_anywhere,
)

pytestmark = pytest.mark.slow

HER = "ottoline.vanterpool@example.org"
NAME = ("Ottoline", "Vanterpool")
PHONE = "+44 20 7946 0417"
#: What of her may be left nowhere once she is erased (lower case: the store's bytes are lowered).
TRACES = (b"ottoline", b"vanterpool", b"7946 0417", b"79460417")

#: Default-ignorable characters (Unicode's DerivedCoreProperties) that the normaliser keeps.
INVISIBLE = {
    "zero-width non-joiner after a Latin letter": "\u200c",
    "zero-width joiner after a Latin letter": "\u200d",
    "combining grapheme joiner": "\u034f",
    "variation selector-16": "\ufe0f",
    "Mongolian free variation selector": "\u180b",
    "Hangul filler": "\u3164",
}


def traces_in(data: bytes) -> list[bytes]:
    lowered = data.lower()
    return [t for t in TRACES if t in lowered]


def store_files(state: Path) -> list[Path]:
    return sorted(state.glob("*.sqlite3*"))


def spelt(invisible: str) -> str:
    user, _, domain = HER.partition("@")
    return f"{user}{invisible}@{domain}"


def _create(sdk: Any, properties: dict[str, str]) -> None:
    try:
        sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))
    except ContactsApiException as error:
        if error.status != 409:
            raise


def _quiet(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return main(argv)


@contextlib.contextmanager
def _erased_at(base: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str, Any]]:
    """HubSpot synced into the embedded store under ``base`` with her contact, then her erasure by
    address (asking HubSpot); the store's bytes hold nothing of her afterwards."""
    with hubspot_served(base, monkeypatch, people=4) as (url, sdk):
        _create(sdk, {"email": HER, "firstname": NAME[0], "lastname": NAME[1], "phone": PHONE})
        state = base / "state"
        sync = ["sync", "--connector", "hubspot", "--base-url", url, "--state-dir", str(state)]
        assert _quiet(sync) == 0
        assert any(traces_in(f.read_bytes()) for f in store_files(state))
        erase = ["privacy", "erase", "--email", HER, "--requested-by", "dpo", "--state-dir", str(state)]
        assert _quiet([*erase, "--connector", f"hubspot={url}"]) == 0
        assert not any(traces_in(f.read_bytes()) for f in store_files(state))
        yield state, url, sdk


@pytest.fixture
def erased_fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str, Any]]:
    """Her contact synced and erased for this test alone: for a test that changes HubSpot's data."""
    with _erased_at(tmp_path, monkeypatch) as found:
        yield found


@pytest.fixture(scope="module")
def erased_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Any]]:
    """Her contact synced and erased once for the module's tests that only read (``erased``)."""
    base = tmp_path_factory.mktemp("erased")
    with pytest.MonkeyPatch.context() as monkeypatch, _erased_at(base, monkeypatch) as found:
        yield found


@pytest.fixture
def erased(
    erased_store: tuple[Path, str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, Any]:
    """A copy of the module's store after her erasure, in this test's own directory (where its
    ``resolve`` writes its files), so that no test reads what another wrote."""
    state, url, sdk = erased_store
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "erased-state"
    shutil.copytree(state, copy)
    return copy, url, sdk


def test_the_invisible_spellings_are_spellings_of_one_address() -> None:
    # A guard on the premise: each spelling looks like her address and is accepted as an address (so
    # it is stored, not quarantined), and what is in it besides her address is invisible: Unicode's
    # default-ignorable code points, which renderers draw as nothing.
    for invisible in INVISIBLE.values():
        assert normalise_email(spelt(invisible)) not in ("", None)
        assert spelt(invisible).replace(invisible, "") == HER


@pytest.mark.parametrize("invisible", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_her_address_with_an_invisible_character_is_one_address(invisible: str) -> None:
    # THEN the normaliser gives her address for it, as it does for a zero-width space
    assert normalise_email(spelt(invisible)) == HER


def test_her_contact_made_again_with_an_invisible_character_is_dropped_by_the_next_pull(
    erased_fresh: tuple[Path, str, Any],
) -> None:
    state, url, sdk = erased_fresh
    # GIVEN HubSpot holds her again, through its official SDK: her name, her address with a joiner
    # copied into it (nothing else of hers: no phone)
    _create(sdk, {"email": spelt("\u200d"), "firstname": NAME[0], "lastname": NAME[1]})
    # WHEN HubSpot is pulled from the start
    sync = ["sync", "--connector", "hubspot", "--base-url", url, "--state-dir", str(state)]
    assert _quiet([*sync, "--full", "--no-push"]) == 0
    # THEN nothing of her is stored: it was dropped as hers
    left = {f.name: traces_in(f.read_bytes()) for f in store_files(state)}
    assert not any(left.values()), left


def test_resolve_after_her_erasure_drops_her_lines_spelt_with_invisible_characters(
    erased: tuple[Path, str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _, _ = erased
    # GIVEN a file of a stranger and her lines, each her name and her address with one invisible
    # character in it
    lines = her_lines("x.y@example.net", map(spelt, INVISIBLE.values()), NAME)
    # WHEN resolved beside the store she was erased from
    resolve_beside(state, lines, tmp_path, capsys)
    # THEN only the stranger is a profile: every line of hers was dropped as erased
    profiles = profile_lines()
    assert [p for p in profiles if traces_in(p.encode())] == []
    assert len(profiles) == 1, profiles


@pytest.mark.parametrize("joiner", ["\u200c", "\u200d"], ids=["ZWNJ", "ZWJ"])
def test_resolve_after_her_erasure_writes_no_line_of_hers_with_a_joiner_in_her_domain(
    erased: tuple[Path, str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], joiner: str
) -> None:
    state, _, _ = erased
    user, _, domain = HER.partition("@")
    # GIVEN a file of a stranger and a line of hers: her name, her address with a joiner in its domain
    lines = her_lines("x.y@example.net", [f"{user}@{domain[:4]}{joiner}{domain[4:]}"], NAME)
    # WHEN resolved beside the store she was erased from
    resolve_beside(state, lines, tmp_path, capsys)
    # THEN her line is written nowhere, neither as a profile nor in the quarantine file
    written = written_anywhere()
    assert traces_in(written) == [], written.decode()
