"""Phones read in the connector instance's region (issue 11, item 5).

A national number means different people in different countries: ``020 7946 0018`` is a London
number to a UK shop and no number at all to a US one. A record is read in its own country, then its
instance's configured ``region``, then ``defaults.region``, then US; ``sync`` and ``resolve`` take
``--region`` for one run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.config import ConnectorInstance, ProfileSyncConfig, parse_config
from core.errors import ConfigurationError
from core.normalise import NormaliseOptions, normalise_record
from core.quarantine import identifier_keys
from core.schema import Quarantined, RecordDraft, SourceRecord
from profilesync.cli import main

LONDON = "020 7946 0018"
LONDON_E164 = "+442079460018"
NEW_JERSEY = "(201) 555-0123"


def draft(phone: str, **traits: Any) -> RecordDraft:
    return RecordDraft(
        source="shopify-uk",
        object_type="customer",
        source_id="7",
        updated_at="2026-03-01T10:00:00Z",
        phones=[phone],
        traits=traits,
    )


def phones_of(outcome: SourceRecord | Quarantined) -> list[str]:
    assert isinstance(outcome, SourceRecord), outcome
    return [i.value for i in outcome.identifiers if i.kind == "phone"]


UK_SHOP = """
version: 1
connectors:
  shopify-uk: {vendor: shopify, region: gb}
  shopify-us: {vendor: shopify}
"""


def test_an_instance_region_is_validated_and_upper_cased_and_falls_back_to_the_defaults() -> None:
    # GIVEN a document with a UK shop (region written in lower case) and a US shop naming none
    config = parse_config(UK_SHOP, "profilesync.yaml")
    # THEN the UK shop reads in GB, the other and an unknown instance in the default, US
    assert (config.region("shopify-uk"), config.region("shopify-us"), config.region("nope")) == (
        "GB",
        "US",
        "US",
    )
    # AND defaults.region moves every instance that names none, but not one that names its own
    moved = parse_config(UK_SHOP + "defaults: {region: DE}\n", "profilesync.yaml")
    assert (moved.region("shopify-uk"), moved.region("shopify-us"), moved.region(None)) == ("GB", "DE", "DE")


@pytest.mark.parametrize(
    ("document", "place"),
    [
        ("connectors:\n  shop: {vendor: shopify, region: UK}\n", "connectors.shop.region"),
        ("connectors:\n  shop: {vendor: shopify, region: GBR}\n", "connectors.shop.region"),
        ("connectors:\n  shop: {vendor: shopify, region: 44}\n", "connectors.shop.region"),
        ("defaults: {region: ''}\n", "defaults.region"),
    ],
)
def test_a_region_phones_do_not_know_is_a_configuration_error_naming_its_place(
    document: str, place: str
) -> None:
    # WHEN a document names a region that is not an ISO 3166-1 alpha-2 code phones know
    with pytest.raises(ConfigurationError) as raised:
        parse_config(document, "profilesync.yaml")
    # THEN the error names the file, the setting and what to write instead
    message = str(raised.value)
    assert message.startswith("profilesync.yaml: ")
    assert place in message
    assert "ISO 3166-1 alpha-2" in message
    assert "GB" in message


def test_a_uk_shop_reads_a_national_number_as_british_and_a_us_shop_drops_it() -> None:
    # GIVEN a London number written nationally, in a record naming no country
    uk = NormaliseOptions(
        default_region=ProfileSyncConfig(connectors={"s": ConnectorInstance(region="GB")}).region("s")
    )
    # WHEN a GB instance and a US one normalise it
    as_uk = normalise_record(draft(LONDON), uk)
    as_us = normalise_record(draft(LONDON))
    # THEN the UK shop has +44, the US shop finds no valid number (the record's only identifier)
    assert phones_of(as_uk) == [LONDON_E164]
    assert isinstance(as_us, Quarantined)
    assert "no usable identifier" in as_us.reason
    # AND a US shop keeps the other people it has as before
    assert phones_of(normalise_record(draft(NEW_JERSEY))) == ["+12015550123"]


def test_a_record_s_own_country_wins_over_its_instance_region() -> None:
    uk = NormaliseOptions(default_region="GB")
    # GIVEN a UK shop's customer who lives in the US, and a US shop's customer living in the UK
    # WHEN each is normalised with its instance's region
    american = normalise_record(draft(NEW_JERSEY, country="US"), uk)
    british = normalise_record(draft(LONDON, country="United Kingdom"), NormaliseOptions(default_region="US"))
    # THEN each number is read in the record's own country
    assert phones_of(american) == ["+12015550123"]
    assert phones_of(british) == [LONDON_E164]


def test_a_quarantined_record_is_found_by_its_phone_read_in_the_instance_region() -> None:
    # GIVEN a malformed record (no timestamp) of a UK shop with a national number
    bad = draft(LONDON).model_copy(update={"updated_at": "not a time"})
    # WHEN its identifier keys are taken for the quarantine (how an erasure finds it)
    uk_keys = identifier_keys(bad, NormaliseOptions(default_region="GB"))
    us_keys = identifier_keys(bad)
    # THEN the UK instance's keys hold the +44 number; a US reading finds none
    assert f"phone#{LONDON_E164}" in uk_keys
    assert not [k for k in us_keys if k.startswith("phone#")]


def test_resolve_reads_national_numbers_in_the_region_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file whose only person has a national London number
    source = tmp_path / "in.jsonl"
    line = {"source": "shop", "id": "1", "updated_at": "2026-03-01T10:00:00Z", "phone": LONDON}
    source.write_text(json.dumps(line) + "\n", encoding="utf-8")
    out_gb, out_us = tmp_path / "gb.jsonl", tmp_path / "us.jsonl"
    # WHEN resolved with --region GB, and with the default
    assert main(["resolve", str(source), "--out", str(out_gb), "--region", "gb", "-q"]) == 0
    assert main(["resolve", str(source), "--out", str(out_us), "-q"]) == 0
    # THEN GB makes a profile with the +44 number; US quarantines the record
    [profile] = [json.loads(x) for x in out_gb.read_text(encoding="utf-8").splitlines()]
    assert profile["identifiers"]["phone"] == [LONDON_E164]
    assert out_us.read_text(encoding="utf-8") == ""
    # AND a region phones do not know is refused before anything is written
    refused = tmp_path / "refused.jsonl"
    capsys.readouterr()
    assert main(["resolve", str(source), "--out", str(refused), "--region", "UK"]) == 2
    assert "--region 'UK' is not a region" in capsys.readouterr().err
    assert not refused.exists()


def test_sync_reads_in_the_instance_region_unless_region_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a configuration document declaring a UK shop, and run_sync recording its options
    import connectors.shopify._sandbox as shopify_sandbox
    import profilesync.syncrun as syncrun

    # The sandbox shop's bucket restores 1,000 times faster: at Shopify's published rate each pull
    # slept ~6 s in the connector's cost limiter (40 s of this test's 42), which is not what it checks.
    real_sandbox = shopify_sandbox.make_sandbox
    monkeypatch.setattr(
        shopify_sandbox, "make_sandbox", lambda *a, **kw: real_sandbox(*a, **{"rate_scale": 1000.0, **kw})
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_CONFIG", raising=False)
    (tmp_path / "profilesync.yaml").write_text(UK_SHOP, encoding="utf-8")
    seen: list[NormaliseOptions | None] = []
    real = syncrun.run_sync

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("options"))
        return real(*args, **kwargs)

    monkeypatch.setattr(syncrun, "run_sync", recording)
    # WHEN each shop syncs against its sandbox, and the UK shop once more with --region
    base = ["sync", "--sandbox", "--no-push", "-q", "--state-dir", str(tmp_path)]
    assert main([*base, "--connector", "shopify-uk"]) == 0
    assert main([*base, "--connector", "shopify-us"]) == 0
    assert main([*base, "--connector", "shopify-uk", "--region", "ie"]) == 0
    # THEN the pulls normalised in GB, US and IE
    assert [o.default_region if o else None for o in seen] == ["GB", "US", "IE"]
    # AND an unknown --region is a usage error naming the option
    capsys.readouterr()
    assert main([*base, "--connector", "shopify-uk", "--region", "XX"]) == 2
    assert "--region 'XX'" in capsys.readouterr().err


def test_config_check_shows_each_instance_s_phone_region(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a document with a UK shop and a US one
    document = tmp_path / "profilesync.yaml"
    document.write_text(UK_SHOP, encoding="utf-8")
    # WHEN it is checked
    assert main(["config", "check", str(document), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["instances"]
    assert main(["config", "check", str(document)]) == 0
    text = capsys.readouterr().out
    # THEN each instance's region is shown, as JSON and as text
    assert [(r["instance"], r["region"]) for r in rows] == [("shopify-uk", "GB"), ("shopify-us", "US")]
    assert "phones GB" in text
    assert "phones US" in text
