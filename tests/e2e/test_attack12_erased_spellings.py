"""attack12: a person erased from the embedded store (``profilesync sync``, then ``profilesync privacy
erase``) is looked for afterwards in every spelling of her identifiers that reaches profilesync: the
store file's bytes, the quarantine, and the files and stores a later ``resolve`` or ``sync`` writes.

Her records are made at Stripe's sandbox through Stripe's official SDK (``stripe.StripeClient``), with
her address also written in forms the normaliser refuses but that hold it whole (a name-addr
``Name <address>``, a ``mailto:`` link, the domain written fully qualified with its trailing dot),
which a tool's customer field or an export file carries. Red before the fix in core/quarantine.py: the
quarantine keyed such a record by its record id only, so her erasure left it in the store (her name
and address in the file's bytes), and a later ``resolve`` wrote her lines to its quarantine file.

The spellings her identifiers normalise to (a Gmail address with dots, ``+tags``, ``googlemail.com``,
capitals, invisible characters; her phone written nationally with her country, with ``00``, ``tel:``,
brackets) are drawn by hypothesis and must all be dropped as hers (a guard: green before and after).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import hubspot
import pytest
import stripe
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors._http import RetryPolicy
from connectors._sandbox import SandboxServer
from connectors.hubspot import HubSpotSandbox
from connectors.stripe import StripeSandbox
from profilesync import registry
from profilesync.cli import main

pytestmark = pytest.mark.slow

HER = "zephyrine.quillfeather@gmail.com"
NAME = ("Zéphyrine", "Quillfeather")
PHONE = "+44 20 7946 0731"
#: Her address written whole inside values that are no address (each a Stripe customer of hers).
REFUSED_FORMS = (f"{NAME[0]} {NAME[1]} <{HER}>", f"mailto:{HER}", f"{HER}.")
#: What of her may be left nowhere, in any case, and as JSON writes her name with ``ensure_ascii``.
TRACES = (b"quillfeather", b"zephyrine", b"z\\u00e9phyrine", "zéphyrine".encode(), b"7946 0731", b"79460731")


@dataclass
class Erased:
    state: Path
    stripe_url: str
    sdk: stripe.StripeClient
    exported: dict[str, Any]
    """Her export, made just before the erasure."""


def traces_in(data: bytes) -> list[bytes]:
    lowered = data.lower()
    return [t for t in TRACES if t in lowered]


def store_files(state: Path) -> list[Path]:
    return sorted(state.glob("*.sqlite3*"))


def local_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder of its own, no secrets, no configured salt (the embedded store makes its own)."""
    monkeypatch.chdir(tmp_path)
    secrets = tmp_path / "secrets.json"
    secrets.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("PROFILESYNC_SECRETS_FILE", str(secrets))
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)


def note_connector_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The connectors the CLI builds from now on note their ``RetryPolicy`` waits in the list returned
    instead of sleeping them.

    Stripe's sandbox validates a redaction job at the next read of it, however soon: the erasure's
    poll after 1 s of real ``time.sleep`` (as in Lambda; the CLI has no setting for it) proved nothing
    here and held a CI worker for a second an erasure. The polls themselves still go to the sandbox.
    """
    waits: list[float] = []
    found = registry.get

    def get(name: str) -> Any:
        plugin = found(name)

        def build(settings: Any) -> Any:
            retry = settings.retry if isinstance(settings.retry, RetryPolicy) else RetryPolicy()
            return plugin.build(replace(settings, retry=replace(retry, sleep=waits.append)))

        return replace(plugin, build=build)

    monkeypatch.setattr(registry, "get", get)
    return waits


@contextlib.contextmanager
def served_hubspot(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    people: int = 6,
    seed: int = 12,
    token: str = "pat-attack12",
) -> Iterator[tuple[str, Any]]:
    """HubSpot's sandbox served on a local port, with HubSpot's official SDK pointed at it; the CLI's
    token set for it and ``tmp_path`` the working directory (``local_environment``)."""
    local_environment(tmp_path, monkeypatch)
    sandbox = HubSpotSandbox(people=people, seed=seed, token=token)
    monkeypatch.setenv("PROFILESYNC_HUBSPOT_TOKEN", sandbox.token)
    server = SandboxServer(sandbox, "127.0.0.1", 0).start()
    try:
        yield server.url, hubspot.HubSpot(access_token=sandbox.token, host=server.url)
    finally:
        server.stop()


def synced(connector: str, url: str, state: Path, *more: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert (
            main(["sync", "--connector", connector, "--base-url", url, "--state-dir", str(state), *more]) == 0
        )


@pytest.fixture
def erased(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Erased]:
    """Stripe synced into the embedded store with her customers (and the customers a test passes as
    the fixture's parameter), then her erasure (asking Stripe)."""
    local_environment(tmp_path, monkeypatch)
    connector_waits = note_connector_waits(monkeypatch)
    # Test mode's 25 reads a second would answer the erasure's poll 429 after the customers made here
    # (a wait the connector no longer sleeps: ``note_connector_waits``); the limit is not what is tested.
    sandbox = StripeSandbox(people=6, seed=12, requests_per_second=10_000)
    monkeypatch.setenv("PROFILESYNC_STRIPE_API_KEY", sandbox.token)
    server = SandboxServer(sandbox, "127.0.0.1", 0).start()
    try:
        sdk = stripe.StripeClient(sandbox.token, base_addresses={"api": server.url}, max_network_retries=0)
        full_name = " ".join(NAME)
        sdk.v1.customers.create({"email": HER, "name": full_name, "phone": PHONE})
        for form in REFUSED_FORMS:
            sdk.v1.customers.create({"email": form, "name": full_name})
        for customer in getattr(request, "param", ()):
            sdk.v1.customers.create(customer)
        state = tmp_path / "state"
        sync = ["sync", "--connector", "stripe", "--base-url", server.url, "--state-dir", str(state)]
        assert main([*sync, "-q"]) == 0
        # her records are in the store before the erasure (the quarantined ones too)
        assert any(traces_in(f.read_bytes()) for f in store_files(state))
        capsys.readouterr()
        assert main(["privacy", "export", "--email", HER, "--state-dir", str(state)]) == 0
        printed = capsys.readouterr().out
        exported = json.loads(printed[printed.index("{") :])
        erase = ["privacy", "erase", "--email", HER, "--requested-by", "dpo", "--state-dir", str(state)]
        assert main([*erase, "--connector", f"stripe={server.url}"]) == 0
        assert connector_waits == [1.0]  # the redaction job polled once, after its first wait
        capsys.readouterr()
        yield Erased(state, server.url, sdk, exported)
    finally:
        server.stop()


def test_her_erasure_leaves_no_byte_of_her_in_the_store_file(erased: Erased) -> None:
    # THEN no byte of the store file or its write-ahead log holds her name, address or phone, in any
    # case or JSON escape: her quarantined records went with her
    left = {f.name: traces_in(f.read_bytes()) for f in store_files(erased.state)}
    assert left
    assert not any(left.values()), left
    assert HER.encode() not in b"".join(f.read_bytes() for f in store_files(erased.state))


def test_her_export_lists_her_quarantined_records_in_refused_forms(erased: Erased) -> None:
    # THEN the export made before her erasure listed her three quarantined Stripe customers, each
    # holding her address whole in its email field
    quarantined = erased.exported["quarantined"]
    assert len(quarantined) == len(REFUSED_FORMS), quarantined
    assert all(HER in json.dumps(q, ensure_ascii=False).lower() for q in quarantined)


def test_her_records_in_refused_forms_pulled_again_are_dropped_not_quarantined(
    erased: Erased, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN she is at Stripe again in the refused forms (the same customers, and a new one)
    erased.sdk.v1.customers.create({"email": f"<{HER.upper()}>", "name": " ".join(NAME)})
    # WHEN Stripe is pulled again, from the start
    sync = ["sync", "--connector", "stripe", "--base-url", erased.stripe_url]
    sync += ["--state-dir", str(erased.state)]
    assert main([*sync, "--full", "-q"]) == 0
    capsys.readouterr()
    # THEN nothing of her is stored again, not even in the quarantine
    left = {f.name: traces_in(f.read_bytes()) for f in store_files(erased.state)}
    assert not any(left.values()), left


def test_her_erasure_asks_the_tool_for_her_records_it_had_quarantined(erased: Erased) -> None:
    # THEN no customer at Stripe holds her name or address any more: each was redacted
    held = [
        (c.id, c.email, c.name)
        for c in erased.sdk.v1.customers.list({"limit": 100}).auto_paging_iter()
        if traces_in(f"{c.email} {c.name}".encode())
    ]
    assert held == []


HOUSEHOLD = "+44 20 7946 0555"


@pytest.mark.parametrize(
    "erased",
    [
        [
            {"email": "olu.adeyemi@example.com", "name": "Olu Adeyemi", "phone": HOUSEHOLD},
            {"email": f"{NAME[0]} {NAME[1]} <{HER}>", "name": " ".join(NAME), "phone": HOUSEHOLD},
        ]
    ],
    indirect=True,
)
def test_her_record_joined_to_her_household_by_phone_alone_goes_with_her(erased: Erased) -> None:
    # THEN no byte of the store holds her address or her name; the kept person is still there
    data = b"".join(f.read_bytes() for f in store_files(erased.state))
    assert b"olu.adeyemi@example.com" in data
    assert HER.encode() not in data.lower()
    assert traces_in(data) == []


def _line(number: int, **fields: str) -> dict[str, str]:
    return {"source": "crm", "id": f"her{number}", "updated_at": "2026-01-05T10:00:00Z", **fields}


def test_resolve_after_her_erasure_writes_her_refused_lines_nowhere(
    erased: Erased, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file holding a stranger and her lines in the refused forms, one with a bad time too
    lines = [_line(0, email="someone.else@example.com", first_name="Ola")]
    lines += [_line(n, email=form, first_name=NAME[0]) for n, form in enumerate(REFUSED_FORMS, start=1)]
    lines.append({**_line(9, email=REFUSED_FORMS[0]), "updated_at": "yesterday"})
    source = tmp_path / "file.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    # WHEN it is resolved on the embedded default, beside the store she was erased from
    assert main(["resolve", str(source), "--out", "out.jsonl", "--state-dir", str(erased.state), "-q"]) == 0
    printed = capsys.readouterr().out
    # THEN the stranger is a profile, and none of her lines is written anywhere: all counted as erased
    out = Path("out.jsonl").read_bytes()
    quarantine = Path("out.quarantine.jsonl")
    written = out + (quarantine.read_bytes() if quarantine.exists() else b"")
    assert b"someone.else@example.com" in out
    assert traces_in(written) == [], written.decode()
    counted = [line.split()[:3] for line in printed.splitlines()]
    assert ["erased,", "dropped", str(len(lines) - 1)] in counted, printed


# --- the spellings that normalise to hers: a guard -----------------------------------------------


@st.composite
def gmail_spelling(draw: st.DrawFn) -> str:
    """Her Gmail address as Gmail delivers it: dots anywhere in the user name, a ``+tag``, either
    domain, any case, an invisible character copied with it, spaces around."""
    user = HER.partition("@")[0].replace(".", "")
    dots = [draw(st.booleans()) for _ in user[1:]]
    dotted = user[0] + "".join(("." if dot else "") + c for dot, c in zip(dots, user[1:], strict=True))
    tag = draw(st.sampled_from(["", "+shop", "+2026", "+"]))
    domain = draw(st.sampled_from(["gmail.com", "googlemail.com", "GMail.com", "ｇmail.com"]))
    address = f"{dotted}{tag}@{domain}"
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in address)
    invisible = draw(st.sampled_from(["", "\u200b", "\ufeff", "\u00ad"]))
    at = draw(st.integers(0, len(cased)))
    return draw(st.sampled_from(["", " ", "\t"])) + cased[:at] + invisible + cased[at:]


PHONE_SPELLINGS = st.sampled_from(
    [
        ({"phone": "+442079460731"}, "US"),
        ({"phone": "+44 (0)20 7946 0731"}, "US"),
        ({"phone": "0044 20 7946 0731"}, "US"),
        ({"phone": "tel:+44-20-7946-0731"}, "US"),
        ({"phone": "+44.20.7946.0731"}, "US"),
        ({"phone": "020 7946 0731", "country": "GB"}, "US"),
        ({"phone": "(020) 7946-0731"}, "GB"),
    ]
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    emails=st.lists(gmail_spelling(), min_size=1, max_size=6), phones=st.lists(PHONE_SPELLINGS, max_size=4)
)
def test_every_spelling_of_her_identifiers_is_dropped_by_resolve(
    erased: Erased, emails: list[str], phones: list[tuple[dict[str, str], str]]
) -> None:
    # GIVEN a file of her lines, each in another spelling of her address or her phone and nothing else
    # of hers, beside a stranger
    for region in {"US"} | {r for _, r in phones}:
        lines = [_line(0, email="someone.else@example.com")]
        lines += [_line(n, email=e, last_name="Q") for n, e in enumerate(emails, start=1)]
        lines += [_line(100 + n, **p, last_name="Q") for n, (p, r) in enumerate(phones) if r == region]
        name = f"spellings-{region}-{os.getpid()}"
        source = erased.state.parent / f"{name}.jsonl"
        source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        out = erased.state.parent / f"{name}.out.jsonl"
        # WHEN it is resolved beside the store she was erased from
        argv = ["resolve", str(source), "--out", str(out), "--state-dir", str(erased.state)]
        assert main([*argv, "--region", region, "-q"]) == 0
        # THEN only the stranger is a profile, and none of her spellings is quarantined either
        profiles = out.read_text(encoding="utf-8").splitlines()
        assert len(profiles) == 1, profiles
        assert "someone.else@example.com" in profiles[0]
        quarantine = out.with_name(f"{name}.out.quarantine.jsonl")
        assert not quarantine.exists() or quarantine.read_text(encoding="utf-8") == ""


# --- her phone written whole in a field that is no number: HubSpot, through its official SDK --------


def test_her_erasure_by_phone_takes_her_hubspot_record_whose_phone_field_is_no_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_hubspot(tmp_path, monkeypatch) as (url, sdk):
        # GIVEN her contact, and a phone-only contact of hers whose phone field says more than the number
        _create(sdk, {"email": HER, "firstname": NAME[0], "lastname": NAME[1], "phone": PHONE})
        _create(sdk, {"firstname": NAME[0], "lastname": NAME[1], "phone": f"{PHONE} (mobile)"})
        state = tmp_path / "state"
        synced("hubspot", url, state)
        assert any(traces_in(f.read_bytes()) for f in store_files(state))
        # WHEN she is erased by her phone
        erase = ["privacy", "erase", "--phone", PHONE, "--requested-by", "dpo", "--state-dir", str(state)]
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(erase) == 0
        # THEN nothing of her is left in the store file
        assert not any(traces_in(f.read_bytes()) for f in store_files(state))
        # AND a new phone-only contact of hers written the same way, pulled from the start, is dropped
        _create(sdk, {"firstname": NAME[0], "phone": f"{PHONE} / +44 20 7946 0999"})
        synced("hubspot", url, state, "--full", "--no-push")
        assert not any(traces_in(f.read_bytes()) for f in store_files(state))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    emails=st.lists(gmail_spelling(), min_size=1, max_size=4), phones=st.lists(PHONE_SPELLINGS, max_size=3)
)
def test_every_spelling_of_her_identifiers_at_hubspot_is_dropped_by_the_next_pull(
    hubspot_erased: tuple[Path, str, Any], emails: list[str], phones: list[tuple[dict[str, str], str]]
) -> None:
    state, url, sdk = hubspot_erased
    # GIVEN HubSpot holds her again, through its official SDK, in other spellings of her address or
    # phone (each contact holding one of them, her first name, and nothing else of hers)
    for email in emails:
        properties = {"email": email.strip().translate({0x200B: None, 0xFEFF: None, 0xAD: None})}
        _create(sdk, {**properties, "firstname": NAME[0]})
    for spelling, _ in phones:
        properties = {
            "phone": spelling["phone"],
            "firstname": NAME[0],
            "country": spelling.get("country", ""),
        }
        sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))
    # WHEN HubSpot is pulled from the start
    synced("hubspot", url, state, "--full")
    # THEN nothing of her is in the store: each was dropped as hers, or kept nowhere
    assert not any(traces_in(f.read_bytes()) for f in store_files(state))


def _create(sdk: Any, properties: dict[str, str]) -> None:
    """A HubSpot contact, through the official SDK; one an earlier example made already (HubSpot
    holds one contact an address, in any case) is there."""
    try:
        sdk.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=properties))
    except ContactsApiException as error:
        if error.status != 409:
            raise


@pytest.fixture
def hubspot_erased(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str, Any]]:
    """HubSpot synced into the embedded store with her contact, then her erasure by phone (asking
    HubSpot)."""
    with served_hubspot(tmp_path, monkeypatch) as (url, sdk):
        _create(sdk, {"email": HER, "firstname": NAME[0], "lastname": NAME[1], "phone": PHONE})
        state = tmp_path / "state"
        synced("hubspot", url, state)
        erase = ["privacy", "erase", "--phone", PHONE, "--requested-by", "dpo", "--state-dir", str(state)]
        with contextlib.redirect_stdout(io.StringIO()):
            assert main([*erase, "--connector", f"hubspot={url}"]) == 0
        assert not any(traces_in(f.read_bytes()) for f in store_files(state))
        yield state, url, sdk


def test_her_record_on_her_households_phone_with_her_address_refused_is_dropped_after_her_erasure(
    erased: Erased, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file holding a kept person and, after her erasure, a record of hers whose email field
    # holds her address whole (refused) and whose phone is the kept person's (her household's)
    household = "+44 20 7946 0555"
    lines = [
        _line(0, email="olu.adeyemi@example.com", phone=household, first_name="Olu"),
        {
            **_line(1, email=REFUSED_FORMS[0], phone=household, first_name=NAME[0]),
            "updated_at": "2026-01-06T10:00:00Z",
        },
    ]
    source = tmp_path / "household.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    # WHEN it is resolved beside the store she was erased from
    assert (
        main(["resolve", str(source), "--out", "household.out.jsonl", "--state-dir", str(erased.state), "-q"])
        == 0
    )
    printed = capsys.readouterr().out
    # THEN her record is dropped as hers and counted: the kept person's profile holds nothing of her
    # (before, it took her first name, the newer record's, and kept her address among its dropped values)
    out = Path("household.out.jsonl").read_bytes()
    assert b"olu.adeyemi@example.com" in out
    assert traces_in(out) == [], out.decode()
    assert ["erased,", "dropped", "1"] in [line.split()[:3] for line in printed.splitlines()], printed
