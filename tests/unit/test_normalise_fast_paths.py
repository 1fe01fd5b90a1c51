"""The normalising worker's fast paths change no result: the full path gives the same records.

``profilesync resolve`` reads each line with one shared JSON decoder, assembles the drafts of decoded
objects without validation (``connectors.jsonl._draft_from_json``), reads plain phone numbers without
``phonenumbers.parse`` (``_fast_phone``), checks their validity with compiled number types
(``_is_valid_number``), decides plain email addresses with one regex, and keeps what it worked out
(emails, phones and their validity, names, countries, traits, amounts, currencies, timestamps,
identifiers) in caches; a record's one email and one phone skip the loop over a list, and its traits
are a copy of the line's object without the reserved names.
``full_path()`` turns every one of those off: ``json.loads`` per line, validated drafts, phonenumbers'
own ``parse`` and ``is_valid_number``, every address checked step by step, and no cache at all.

Each test runs the same input both ways and requires the same outcome for every line: the same
canonical record (every field, its JSON and its stored hash) or the same quarantine entry (reason
and raw record). The inputs are hypothesis-generated junk (JSON lines and drafts no JSON could
make), the demo's population with half its records broken, the vendors' own objects from their
published specs and every connector's sandbox objects (plain and broken) through its mapping.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connectors.jsonl as jsonl
from bench.resolve_scaling import generate
from connectors.jsonl import draft_from_flat, read_jsonl
from connectors.jsonl.batched import BatchEnd, read_jsonl_batched
from core.connector import RawPage
from core.merge import record_hash
from core.normalise import NormaliseOptions, _email, _money, _names, _phone, _record, _time, normalise_record
from core.normalise import _country as country
from core.schema import Quarantined, RecordDraft, SourceRecord
from core.testing.mutations import mutate
from core.testing.population import population
from core.testing.varied_population import varied_population
from profilesync.registry import get
from profilesync.testing.fuzz import mutated_population_lines, vendor_objects
from profilesync.testing.spec_objects import spec_objects
from tests.hypothesis_profiles import examples
from tests.unit.test_normalise import drafts

Outcome = SourceRecord | Quarantined


def _clear_caches() -> None:
    """Forget everything the fast path kept, so a run starts as a new worker process does."""
    for cached in (
        _email._normalise_email,
        _email._idna_domain,
        _phone._phone_normaliser,
        _phone._region_reader,
        _record._reader_in_country,
        _time._parse_timestamp,
        _names._normalise_name,
        _names._snake_case,
        _names._text_trait,
        _money._text_money,
        country._normalise_country,
        country._cached_currency,
        _record._email_identifier,
        _record._phone_identifier,
    ):
        cached.cache_clear()
    _phone._VALID_E164.clear()


def _email_step_by_step(value: str) -> str:
    # _normalise_email's trimming, then every address through the checks that name what is wrong
    address = value.strip().lower()
    if not address.isascii():
        address = _email._fold_unicode(address)
    return _email._email_slow(address)


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_constant=str)


def _phone_reader_uncached(region: str) -> Callable[[str], str]:
    return lambda value: _phone._normalise_phone(value, region)


def _traits_by_comprehension(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in jsonl._RESERVED}


@contextmanager
def full_path() -> Iterator[None]:
    """Every fast path and cache of the normalising worker turned off (see the module's docstring)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl, "_decode", _loads)
        patch.setattr(jsonl, "_draft_from_json", draft_from_flat)
        patch.setattr(_phone, "_fast_phone", lambda text, region: None)
        patch.setattr(_phone, "_valid_e164", lambda e164, number: phonenumbers.is_valid_number(number))
        patch.setattr(_phone, "_phone_normaliser", _phone_reader_uncached)
        patch.setattr(
            _record, "_region_reader", lambda region: lambda value: _phone.normalise_phone(value, region)
        )
        patch.setattr(_record, "_reader_in_country", _record._reader_in_country.__wrapped__)
        patch.setattr(_email, "_normalise_email", _email_step_by_step)
        patch.setattr(_email, "_idna_domain", _email._idna_domain.__wrapped__)
        patch.setattr(_time, "_parse_timestamp", _time._parse_timestamp.__wrapped__)
        patch.setattr(_names, "_normalise_name", _names._normalise_name.__wrapped__)
        patch.setattr(_names, "_snake_case", _names._snake_case.__wrapped__)
        patch.setattr(_names, "_text_trait", _names._trait)
        patch.setattr(_money, "_text_money", _money._money)
        patch.setattr(country, "_normalise_country", country._normalise_country.__wrapped__)
        patch.setattr(country, "_cached_currency", country._cached_currency.__wrapped__)
        patch.setattr(_record, "_email_identifier", _record._email_identifier.__wrapped__)
        patch.setattr(_record, "_phone_identifier", _record._phone_identifier.__wrapped__)
        patch.setattr(_record, "_identifiers", _record._identifiers_general)
        patch.setattr(jsonl, "_traits_of", _traits_by_comprehension)
        yield


def _outcomes(items: Iterable[RecordDraft | Quarantined], options: NormaliseOptions) -> list[Outcome]:
    """What the worker sends on: each item normalised (a reader's quarantine entry as it is)."""
    return [item if isinstance(item, Quarantined) else normalise_record(item, options) for item in items]


def _fingerprint(outcome: Outcome) -> tuple[Any, ...]:
    """Everything a result says: its type, fields, JSON, and a record's stored hash."""
    if isinstance(outcome, SourceRecord):
        return ("record", outcome.model_dump(), outcome.model_dump_json(), record_hash(outcome))
    return ("quarantined", outcome.reason, outcome.raw, outcome.model_dump_json())


def assert_same(fast: list[Outcome], full: list[Outcome]) -> None:
    assert len(fast) == len(full)
    for n, (a, b) in enumerate(zip(fast, full, strict=True)):
        assert _fingerprint(a) == _fingerprint(b), f"item {n}"
        assert a == b, f"item {n}"


# The clock is fixed so that "too far in the future" means the same on both runs.
OPTIONS = NormaliseOptions(now=_time.normalise_timestamp("2026-06-01T00:00:00Z"))
OPTIONS_GB = NormaliseOptions(default_region="GB", now=OPTIONS.now)


def _both_ways_from_lines(lines: list[str], path: Path, options: NormaliseOptions = OPTIONS) -> list[Outcome]:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    _clear_caches()
    fast = _outcomes(read_jsonl(path), options)
    fast_again = _outcomes(read_jsonl(path), options)  # every value found in a cache this time
    with full_path():
        full = _outcomes(read_jsonl(path), options)
    assert_same(fast, full)
    assert_same(fast_again, full)
    return fast


# --------------------------------------------------------------------------------------------------
# Hypothesis: junk JSON lines, and drafts no JSON could make

_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "ann@example.com",
            " ANN@Bücher.de ",
            "x@xn--bcher-kva.de",
            "+44 20 7946 0018",
            "020 7946 0018",
            "0044 20 7946 0018",
            "(201) 555-0123",
            "+1 201 555 0123 ext. 7",
            "+16135550123",
            "2026-01-05T10:00:00Z",
            "2026-01-05 10:00:00+01:00",
            "Mon, 05 Jan 2026 10:00:00 GMT",
            "1767607200000",
            "GB",
            "Deutschland",
            "19.90",
            "1,299.00",
            "19,90",
        ]
    ),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
_phones = st.from_regex(r"\+?[0-9 ().-]{0,18}", fullmatch=True)
_order = st.fixed_dictionaries(
    {
        "id": st.text("ab12", min_size=1, max_size=3) | st.integers(0, 99),
        "total": st.sampled_from(["19.90", "0", "-5.00", "1,299", "abc"]) | st.integers(-10, 10**6),
        "currency": st.sampled_from(["GBP", "eur", "JPY", "KWD", "XXX", ""]),
        "created_at": st.sampled_from(["2026-01-02T09:00:00Z", "2026-01-02", "1999", ""]),
    },
    optional={"status": st.sampled_from(["paid", "Refunded", "on hold", "weird"])},
)


def _fields(mostly: Callable[[st.SearchStrategy[Any]], st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Flat records whose values are drawn by ``mostly`` from plausible ones."""
    return st.fixed_dictionaries(
        {
            "source": mostly(st.sampled_from(["crm", "shop", " hubspot "])),
            "id": mostly(st.text("abc123", min_size=1, max_size=5) | st.integers()),
            "updated_at": mostly(
                st.sampled_from(["2026-01-05T10:00:00Z", "2026-05-31T23:30:00Z", "2031-01-01"])
            ),
        },
        optional={
            "object_type": mostly(st.sampled_from(["contact", "order", "customer"])),
            "email": mostly(st.lists(st.emails() | _scalar, max_size=3) | st.emails()),
            "phone": mostly(st.lists(_phones | _scalar, max_size=3) | _phones),
            "first_name": mostly(st.sampled_from(["ann", "MCDONALD", "van der Berg", "¹", ""])),
            "last_name": st.text(max_size=10),
            "country": mostly(st.sampled_from(["GB", "us", "Deutschland", "UK", "826", "Narnia"])),
            "date_of_birth": st.sampled_from(["1980-03-07", "19800307", "07/03/1980"]),
            "consent": mostly(
                st.dictionaries(st.sampled_from(["email", "sms", " SMS "]), mostly(st.booleans()))
            ),
            "orders": mostly(st.lists(mostly(_order), max_size=3)),
            "owner_id": mostly(st.sampled_from(["c1", "", 7])),
            "owner_type": mostly(st.sampled_from(["contact", "customer"])),
            "Company Name": mostly(st.text(max_size=8)),
        },
    )


# Plausible records (hypothesis explores the junk of a mixed strategy far more often than its share
# of branches) and records with any JSON value in any field.
_plausible = _fields(lambda plausible: plausible)
_flat = _fields(lambda plausible: plausible | _value)


_line = st.one_of(
    _plausible.map(lambda record: json.dumps(record, default=str)),
    _flat.map(lambda record: json.dumps(record, default=str)),
    _value.map(lambda value: json.dumps(value, default=str)),
    st.text(max_size=40).filter(lambda text: "\n" not in text and "\r" not in text),
    st.just("\ufeff{}"),
)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@SETTINGS
@given(lines=st.lists(_line, min_size=1, max_size=12), region=st.sampled_from(["US", "GB"]))
def test_junk_json_lines_give_the_same_outcomes_both_ways(
    lines: list[str], region: str, tmp_path_factory: Any
) -> None:
    # GIVEN a file of junk lines: arbitrary JSON, records with broken and plausible values, not JSON
    path = tmp_path_factory.mktemp("lines") / "in.jsonl"
    options = OPTIONS if region == "US" else OPTIONS_GB
    # WHEN it is read and normalised with the fast paths (twice) and the full path
    # THEN every line gives the same record or the same quarantine entry
    _both_ways_from_lines(lines, path, options)


@settings(SETTINGS, max_examples=examples(ci=25, deep=60))  # each example a batch, both ways
@given(batch=st.lists(drafts(), min_size=1, max_size=5))
def test_drafts_no_json_could_make_give_the_same_outcomes_both_ways(batch: list[RecordDraft]) -> None:
    # GIVEN drafts with any Python value in any field (a buggy connector's), built unvalidated
    _clear_caches()
    # WHEN normalised with and without the fast paths and caches
    fast = _outcomes(batch, OPTIONS)
    with full_path():
        full = _outcomes(batch, OPTIONS)
    # THEN the outcomes are the same
    assert_same(fast, full)


# --------------------------------------------------------------------------------------------------
# The demo's population, plain and broken


def test_the_population_plain_and_broken_gives_the_same_outcomes_both_ways(tmp_path: Path) -> None:
    # GIVEN 600 of the demo population's records as they are and 600 with half of them broken
    plain = [json.dumps(flat, ensure_ascii=False) for _, flat in population(320, seed=21)][:600]
    broken = mutated_population_lines(600, seed=22)
    # WHEN read and normalised both ways THEN the outcomes are the same, line for line
    outcomes = _both_ways_from_lines(plain + broken, tmp_path / "population.jsonl")
    records = [o for o in outcomes if isinstance(o, SourceRecord)]
    assert len(records) > 700  # both kinds of outcome were compared, and many of each
    assert len(outcomes) - len(records) > 100
    assert any(o.orders for o in records)
    assert any(o.consent for o in records)


def test_the_resolve_bench_and_varied_populations_give_the_same_outcomes_both_ways(tmp_path: Path) -> None:
    # GIVEN the file bench.resolve_scaling times (three tools, 2% malformed lines, national and
    # international phones, orders) and the population varied as tools vary one person (birth
    # dates, addresses, nicknames, typed slips, work emails: the FEBRL-like shapes), read in the
    # order resolve reads them (batches that keep each person's lines together)
    bench_file = tmp_path / "bench.jsonl"
    generate(bench_file, 2500, seed=5)
    varied = [json.dumps(flat, ensure_ascii=False) for _, flat in varied_population(400, 6, 0.05)]
    lines = bench_file.read_text(encoding="utf-8").splitlines() + varied
    path = tmp_path / "both.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    def read() -> list[Outcome]:
        items = read_jsonl_batched(path, 700)
        return _outcomes([i for i in items if not isinstance(i, BatchEnd)], OPTIONS)

    # WHEN normalised with every fast path and cache (cold, then warm) and with the full path
    _clear_caches()
    fast, fast_again = read(), read()
    with full_path():
        full = read()
    # THEN the outcomes are the same, record for record and reason for reason
    assert_same(fast, full)
    assert_same(fast_again, full)
    records = [o for o in fast if isinstance(o, SourceRecord)]
    assert len(records) > 2500
    assert len(fast) - len(records) > 40
    assert any(o.orders for o in records)
    assert any("date_of_birth" in o.traits for o in records)


# --------------------------------------------------------------------------------------------------
# Vendors' objects through their connectors' mappings

CONNECTORS = ("hubspot", "mailchimp", "shopify", "klaviyo", "stripe", "salesforce", "woocommerce")


@pytest.mark.parametrize("name", CONNECTORS)
def test_vendor_objects_give_the_same_outcomes_both_ways(name: str) -> None:
    # GIVEN the connector's sandbox objects (after the vendor's published examples), the vendor's
    # own objects from its spec where it publishes one, and broken copies of both
    plugin = get(name)
    samples = vendor_objects(plugin, people=15)
    objects = samples + spec_objects(name, samples)
    rng = random.Random(5)
    objects += [(kind, mutate(raw, rng)) for kind, raw in objects for _ in range(2)]
    assert plugin.sandbox is not None
    connector = plugin.build(plugin.sandbox(people=0).settings())
    try:
        drafts_by_page = []
        for kind, raw in objects:
            try:
                drafts_by_page.append(connector.to_records(RawPage([raw], None, kind)))
            except Exception:  # a mapping that refuses a broken object is test_mapping_fuzz's
                continue
    finally:
        connector.close()
    batch = [d for page in drafts_by_page for d in page if not d.deleted]
    assert len(batch) > 40
    # WHEN each draft is normalised with the fast paths and with the full path
    _clear_caches()
    fast = _outcomes(batch, OPTIONS_GB)
    with full_path():
        full = _outcomes(batch, OPTIONS_GB)
    # THEN the outcomes are the same
    assert_same(fast, full)
    assert any(isinstance(o, SourceRecord) for o in fast)


# --------------------------------------------------------------------------------------------------
# The comparison itself can fail


def test_the_full_path_really_is_another_path() -> None:
    # GIVEN the full path WHEN a plain number is normalised THEN phonenumbers.parse reads it (the fast
    # parse is off), and every address goes through the step-by-step checks
    calls: list[str] = []
    real_parse = phonenumbers.parse
    with full_path(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            phonenumbers, "parse", lambda text, region: calls.append(text) or real_parse(text, region)
        )
        checked: list[str] = []
        real_slow = _email._email_slow
        patch.setattr(_email, "_email_slow", lambda address: checked.append(address) or real_slow(address))
        for _ in range(2):  # no cache: both times
            _phone.normalise_phone("(201) 555-0123", "US")
            _email.normalise_email("ann@example.com")
    assert calls == ["(201) 555-0123"] * 2
    assert checked == ["ann@example.com"] * 2


def test_a_fast_path_that_changed_a_result_is_caught(tmp_path: Path) -> None:
    # GIVEN a fast phone parse that reads every plain number one digit short
    real = _phone._fast_phone

    def wrong(text: str, region: str) -> Any:
        parsed = real(text, region)
        if parsed is None:
            return None
        country_code, nsn, e164 = parsed
        return country_code, nsn, e164[:-1]

    lines = [json.dumps(flat) for _, flat in population(40, seed=3)]
    # WHEN the comparison runs with it THEN it fails
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_phone, "_fast_phone", wrong)
        with pytest.raises(AssertionError):
            _both_ways_from_lines(lines, tmp_path / "in.jsonl")
    _clear_caches()
