"""``OverlapOffsetPaginator`` against a WordPress-style list (offset/per_page, X-WP-Total) whose records
are deleted, moved and added between the walk's requests: nothing is skipped, nothing passed on twice."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors._http import (
    ConnectorHttpClient,
    OverlapOffsetPaginator,
    Page,
    PaginationError,
    paginate,
    sort_key,
)

MakeClient = Callable[..., ConnectorHttpClient]


class ListApi:
    """A list sorted by (``modified``, ``id``) ascending, served by offset and per_page, with the total
    in ``X-WP-Total``. ``between`` runs before every request after the first (the world moving on)."""

    def __init__(self, count: int, *, send_total: bool = True) -> None:
        self.rows: dict[int, dict[str, Any]] = {
            n: {"id": n, "modified": "2026-01-01T00:00:00"} for n in range(1, count + 1)
        }
        self.send_total = send_total
        self.requests = 0
        self.between: Callable[[ListApi], None] = lambda api: None

    def ordered(self) -> list[dict[str, Any]]:
        return sorted(self.rows.values(), key=lambda r: (r["modified"], r["id"]))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.requests:
            self.between(self)
        self.requests += 1
        offset, per_page = int(request.url.params["offset"]), int(request.url.params["per_page"])
        rows = self.ordered()
        headers = {"X-WP-Total": str(len(rows))} if self.send_total else {}
        return httpx.Response(200, json=[dict(r) for r in rows[offset : offset + per_page]], headers=headers)


def _walk(make_client: MakeClient, api: ListApi, *, start: str | None = None, limit: int = 5) -> list[Page]:
    paginator = OverlapOffsetPaginator(
        limit, lambda r: sort_key(r, ("modified", "id")), total_header="X-WP-Total", start=start
    )
    return list(paginate(make_client(api), "GET", "/wp-json/wc/v3/orders", paginator))


def _ids(pages: list[Page]) -> list[int]:
    return [r["id"] for p in pages for r in p.records]


def test_a_walk_passes_on_every_record_once_with_one_record_of_overlap_per_page(
    make_client: MakeClient,
) -> None:
    # GIVEN 13 records and pages of 5
    api = ListApi(13)
    # WHEN walking
    pages = _walk(make_client, api)
    # THEN each record once, in order, 4 new records per page after the first, and the last page says so
    assert _ids(pages) == list(range(1, 14))
    assert api.requests == 3
    assert [p.has_next for p in pages] == [True, True, False]
    assert pages[-1].checkpoint is None


def test_a_record_deleted_behind_the_walk_does_not_make_it_skip_the_next_one(make_client: MakeClient) -> None:
    # GIVEN a walk that has read the first page, after which two records before its position are deleted
    api = ListApi(20)

    def delete_once(api: ListApi) -> None:
        if api.requests == 1:
            del api.rows[2], api.rows[3]

    api.between = delete_once
    # WHEN walking on
    ids = _ids(_walk(make_client, api))
    # THEN every record still there was passed on once (plain offset paging skips 6 and 7 here)
    assert ids == [1, 2, 3, 4, 5, *range(6, 21)]


def test_a_record_modified_mid_walk_comes_back_at_the_end_as_its_new_version(make_client: MakeClient) -> None:
    # GIVEN a walk sorted by modification time; after the first page, record 2 is modified
    api = ListApi(12)

    def modify_once(api: ListApi) -> None:
        if api.requests == 1:
            api.rows[2]["modified"] = "2026-02-01T00:00:00"

    api.between = modify_once
    # WHEN walking on
    ids = _ids(_walk(make_client, api))
    # THEN nothing is skipped, and record 2 is passed on again after the others (its new version)
    assert ids == [1, 2, 3, 4, 5, *range(6, 13), 2]


def test_records_added_at_the_end_mid_walk_are_passed_on(make_client: MakeClient) -> None:
    api = ListApi(8)

    def add_once(api: ListApi) -> None:
        if api.requests == 1:
            api.rows[9] = {"id": 9, "modified": "2026-03-01T00:00:00"}

    api.between = add_once
    assert _ids(_walk(make_client, api)) == list(range(1, 10))


@pytest.mark.parametrize("seed", range(12))
def test_random_churn_between_pages_never_skips_a_record_that_stayed(
    make_client: MakeClient, seed: int
) -> None:
    # GIVEN 60 records; between requests, random records are deleted, modified (moved to the end) or added
    rng = random.Random(seed)
    api = ListApi(60)
    stayed = set(api.rows)
    next_id = iter(range(61, 1000))

    def churn(api: ListApi) -> None:
        for _ in range(rng.randint(0, 3)):
            roll = rng.random()
            if roll < 0.4 and api.rows:
                gone = rng.choice(sorted(api.rows))
                del api.rows[gone]
                stayed.discard(gone)
            elif roll < 0.8 and api.rows:
                moved = rng.choice(sorted(api.rows))
                api.rows[moved]["modified"] = f"2026-06-{api.requests:02d}T00:00:00"
            else:
                new = next(next_id)
                api.rows[new] = {"id": new, "modified": "2026-12-31T00:00:00"}

    api.between = churn
    # WHEN walking with pages of 7
    passed = [(r["id"], r["modified"]) for p in _walk(make_client, api, limit=7) for r in p.records]
    # THEN every record present from start to end was passed on, and a record passed on twice was a
    # new version the second time (moved by a modification), never the same one again
    assert stayed <= {i for i, _ in passed}
    assert len(passed) == len(set(passed))


def test_a_walk_resumes_from_a_page_checkpoint_without_repeats(make_client: MakeClient) -> None:
    # GIVEN a walk cut short after its second page
    api = ListApi(17)
    first = _walk(make_client, api)
    # WHEN it resumes from that page's checkpoint
    again = _walk(make_client, ListApi(17), start=first[1].checkpoint)
    # THEN the two parts together hold every record once
    assert _ids(first[:2]) + _ids(again) == list(range(1, 18))
    assert json.loads(first[1].checkpoint or "")[0] == 8


def test_without_a_total_header_a_short_page_ends_the_walk(make_client: MakeClient) -> None:
    api = ListApi(9, send_total=False)
    assert _ids(_walk(make_client, api)) == list(range(1, 10))


def test_an_ordering_that_never_settles_stops_with_a_clear_error(make_client: MakeClient) -> None:
    # GIVEN an API whose every later page starts past the anchor
    def restless(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        rows = [{"id": 10_000 + offset * 10 + n, "modified": "x"} for n in range(5)]
        return httpx.Response(200, json=rows, headers={"X-WP-Total": "1000000"})

    paginator = OverlapOffsetPaginator(5, lambda r: sort_key(r, ("id",)), total_header="X-WP-Total")
    paginator.MAX_STEPS_BACK = 5
    # WHEN walking THEN it stops instead of looping, saying why
    with pytest.raises(PaginationError, match="kept moving"):
        list(paginate(make_client(restless), "GET", "/x", paginator))


def test_a_bad_checkpoint_is_refused_and_keys_compare_across_types() -> None:
    with pytest.raises(PaginationError, match="not \\[offset, key\\]"):
        OverlapOffsetPaginator(5, lambda r: (), start="not json")
    assert sort_key({"a": None}, ("a",)) < sort_key({"a": 3}, ("a",)) < sort_key({"a": "3"}, ("a",))
    with pytest.raises(ValueError, match="limit >= 2"):
        OverlapOffsetPaginator(1, lambda r: ())
