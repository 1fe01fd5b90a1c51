"""The demo report's identity section (profilesync.report_identity): one customer's identity graph and
the distribution of match scores, drawn from the store as ``profilesync explain`` reads it."""

from __future__ import annotations

import re

from core.pipeline import IngestSettings, ingest
from core.storage.memory import InMemoryProfileStore
from profilesync.report_identity import identity_picture, identity_section, score_histogram
from tests.conftest import make_record
from tests.unit.test_pipeline_linkage import LINKED

HANA = {"first_name": "Hana", "last_name": "Sato", "date_of_birth": "1992-11-30", "address": "8 Mill Lane"}
RECORDS = [
    make_record("crm", "1", email="hana.sato@corp.jp", traits=HANA),
    make_record("mail", "2", email="hana.sato@corp.jp", traits={"first_name": "Hana"}),
    make_record("shop", "3", email="hanasato92@icloud.com", traits=HANA, day=1),
    make_record("crm", "4", email="sue@example.net", traits={"first_name": "Sue", "last_name": "Sato"}),
    make_record("shop", "5", email="sue@example.net", phone="+442079460101", traits={"first_name": "Sue"}),
]


def _store(settings: IngestSettings) -> InMemoryProfileStore:
    store = InMemoryProfileStore()
    ingest(RECORDS, store, settings)
    return store


def test_a_probabilistic_demo_draws_a_customer_joined_by_a_fuzzy_link() -> None:
    # GIVEN the records resolved probabilistically
    store = _store(LINKED)
    # WHEN the report's picture is taken
    picture = identity_picture(store, list(store.iter_profiles()), RECORDS, LINKED)
    # THEN the customer drawn is Hana's (her shop record joins by a fuzzy link), with its reasons
    assert picture.mode == "probabilistic"
    assert picture.explanation is not None
    assert sorted(picture.explanation["records"]) == ["crm:contact:1", "mail:contact:2", "shop:contact:3"]
    assert {e["kind"] for e in picture.explanation["edges"]} == {"identifier", "fuzzy"}
    # AND every candidate pair is weighed: Hana's pairs score high, the Satos' low
    assert len(picture.weights) >= 2
    assert max(picture.weights) > 10
    html = identity_section(picture)
    assert html.startswith('<section id="identity">')
    assert "fuzzy link" in html
    assert "review 0.8" in html
    assert f"link {picture.link:g}" in html
    # AND the report names the records and the kind of evidence, never an email or phone
    assert "crm:contact:1" in html
    assert "@" not in html
    assert "+44" not in html
    assert "<script" not in html


def test_an_exact_demo_draws_the_customer_known_in_the_most_tools_and_scores_with_the_default_model() -> None:
    store = _store(IngestSettings(sleep=lambda _: None))
    picture = identity_picture(store, list(store.iter_profiles()), RECORDS, None)
    assert picture.mode == "exact"
    assert picture.explanation is not None
    assert picture.explanation["mode"] == "exact"
    assert len({k.split(":")[0] for k in picture.explanation["records"]}) == 2
    assert picture.weights  # the default model scores the same records
    assert "default probabilistic model" in identity_section(picture)


def test_the_histogram_counts_every_pair_once_and_marks_both_thresholds() -> None:
    # GIVEN weights on and beyond the chart's range
    svg = score_histogram([-100.0, -1.0, -0.5, 3.0, 12.0, 500.0], review=0.8, link=0.99)
    counts = [int(n) for n in re.findall(r": (\d+) pairs</title>", svg)]
    # THEN each pair is in one bin (those outside clamped to the ends), and both lines are drawn
    assert sum(counts) == 6
    assert "weight -2 to 0: 2 pairs" in svg
    assert svg.count("stroke-dasharray") == 2
    assert "review 0.8" in svg
    assert "link 0.99" in svg
    assert score_histogram([], 0.8, 0.99) == '<p class="note">no candidate pairs</p>'
