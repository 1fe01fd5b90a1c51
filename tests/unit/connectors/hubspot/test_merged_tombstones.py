"""HubSpot contacts merged into another: a tombstone for each absorbed id (``merged_tombstones``)."""

from __future__ import annotations

from connectors.hubspot._mapping import PULL_PROPERTIES, merged_tombstones


def _contact(own: str, merged: str | None, modified: str = "2026-03-01T10:00:00.000Z") -> dict[str, object]:
    properties = {"email": "ann@example.com", "lastmodifieddate": modified}
    properties["createdate"] = "2020-01-01T00:00:00.000Z"
    if merged is not None:
        properties["hs_merged_object_ids"] = merged
    return {"id": own, "properties": properties, "archived": False}


def test_the_pull_asks_for_the_merged_ids() -> None:
    assert "hs_merged_object_ids" in PULL_PROPERTIES


def test_each_absorbed_id_is_a_tombstone_dated_at_the_merged_record_s_last_change() -> None:
    # GIVEN a record created by a merge of 101 and 102 (HubSpot's merge today: a new id)
    gone = merged_tombstones(_contact("301", "101;102"))
    # THEN both are tombstones dated at its lastmodifieddate (not at a createdate)
    assert [(d.source_id, d.deleted, d.updated_at) for d in gone] == [
        ("101", True, "2026-03-01T10:00:00.000Z"),
        ("102", True, "2026-03-01T10:00:00.000Z"),
    ]
    assert {(d.source, d.object_type) for d in gone} == {("hubspot", "contact")}


def test_a_primary_that_kept_its_id_is_not_its_own_tombstone() -> None:
    gone = merged_tombstones(_contact("101", " 101 ; 102;;102; x "))
    assert [d.source_id for d in gone] == ["102"]


def test_no_merged_ids_or_an_archived_record_or_junk_give_none() -> None:
    assert merged_tombstones(_contact("301", None)) == []
    assert merged_tombstones(_contact("301", "")) == []
    assert merged_tombstones({**_contact("301", "101"), "archived": True}) == []
    assert merged_tombstones("not a contact") == []
    assert merged_tombstones({"id": "301", "properties": None}) == []
