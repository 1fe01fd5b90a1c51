"""attack14: spellings of one mailbox that the providers document and core/linkage/email_keys.py does not
fold, so an erased person signing up in one of them comes back.

* Proton: "You can remove the characters '.', '_' and '-' from your username ... these characters are
  treated as transparent by our service. That is, username is the same as user_name and user.name"
  (https://proton.me/support/change-username). ``_PROTON`` is ``drops_dots=False``: only ``+tags`` and
  the four domains are folded.
* Fastmail's page that email_keys.py cites for plus addressing (https://www.fastmail.help/hc/en-us/
  articles/360060591053, "Plus addressing and subdomain addressing") says that instead of
  ``username+whateveryoulike@domain.tld`` "you can use an address of the form
  whateveryoulike@username.domain.tld": ``shop@ottoline.fastmail.com`` is ``ottoline@fastmail.com``'s
  mailbox. Subdomains of a provider's domain are not folded at all.

Her contact is made at HubSpot's sandbox through HubSpot's official SDK, synced into the embedded
store with ``profilesync sync`` and erased with ``profilesync privacy erase``; the spellings come back
through the SDK and ``sync --full``, and in a file through ``profilesync resolve``.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hubspot.crm.contacts import SimplePublicObjectInputForCreate

from core.mailbox import mailbox_key
from profilesync.cli import main
from tests.e2e.attack14_support import her_lines, hubspot_served, profile_lines, resolve_beside

pytestmark = pytest.mark.slow

NAME = ("Ottoline", "Vanterpool")
TRACES = (b"ottoline", b"vanterpool")

PROTON = "ottoline.vanterpool@proton.me"
PROTON_SPELLINGS = [
    "ottolinevanterpool@proton.me",
    "ottoline_vanterpool@pm.me",
    "ottoline-vanterpool+shop@protonmail.com",
]
FASTMAIL = "ottoline@fastmail.com"
FASTMAIL_SPELLINGS = ["shop@ottoline.fastmail.com", "newsletter@ottoline.fastmail.com"]


def traces_in(data: bytes) -> list[bytes]:
    lowered = data.lower()
    return [t for t in TRACES if t in lowered]


def _quiet(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return main(argv)


def _create(sdk: Any, properties: dict[str, str]) -> None:
    sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))


@pytest.fixture
def erased(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Her contact (the address the test passes) synced from HubSpot into the embedded store, then
    erased by that address, HubSpot asked; nothing of her is in the store afterwards."""
    address = request.param
    with hubspot_served(tmp_path, monkeypatch, people=3) as (url, sdk):
        _create(sdk, {"email": address, "firstname": NAME[0], "lastname": NAME[1]})
        state = tmp_path / "state"
        sync = ["sync", "--connector", "hubspot", "--base-url", url, "--state-dir", str(state)]
        assert _quiet(sync) == 0
        erase = ["privacy", "erase", "--email", address, "--requested-by", "dpo", "--state-dir", str(state)]
        assert _quiet([*erase, "--connector", f"hubspot={url}"]) == 0
        assert not any(traces_in(f.read_bytes()) for f in state.glob("*.sqlite3*"))
        yield state, sync, sdk


@pytest.mark.parametrize("spelling", PROTON_SPELLINGS)
def test_a_proton_username_with_its_separators_taken_out_is_one_mailbox(spelling: str) -> None:
    assert mailbox_key(f"email#{spelling}") == mailbox_key(f"email#{PROTON}")


@pytest.mark.parametrize("spelling", FASTMAIL_SPELLINGS)
def test_a_fastmail_subdomain_address_is_its_users_mailbox(spelling: str) -> None:
    assert mailbox_key(f"email#{spelling}") == mailbox_key(f"email#{FASTMAIL}")


@pytest.mark.parametrize("erased", [PROTON], indirect=True)
def test_her_proton_address_without_its_dot_at_hubspot_is_dropped_after_her_erasure(erased: Any) -> None:
    state, sync, sdk = erased
    # GIVEN she signs up again at HubSpot (its official SDK) with her Proton address without its dot
    _create(sdk, {"email": PROTON_SPELLINGS[0], "firstname": NAME[0], "lastname": NAME[1]})
    # WHEN HubSpot is pulled from the start
    assert _quiet([*sync, "--full", "--no-push"]) == 0
    # THEN nothing of her is stored: it was dropped as hers
    left = {f.name: traces_in(f.read_bytes()) for f in state.glob("*.sqlite3*")}
    assert not any(left.values()), left


@pytest.mark.parametrize("erased", [FASTMAIL], indirect=True)
def test_resolve_after_her_erasure_drops_her_fastmail_subdomain_addresses(
    erased: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _, _ = erased
    # GIVEN a file of a stranger and her lines, each her name and a subdomain address of her mailbox
    lines = her_lines("x.y@example.net", FASTMAIL_SPELLINGS, NAME, source="shop")
    # WHEN resolved beside the store she was erased from
    resolve_beside(state, lines, tmp_path, capsys)
    # THEN only the stranger is a profile
    profiles = profile_lines()
    assert [p for p in profiles if traces_in(p.encode())] == []
    assert len(profiles) == 1, profiles
