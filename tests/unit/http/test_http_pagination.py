"""Each paginator walks a 3-page fake vendor API to the end, resumes from a checkpoint, and refuses loops."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors._http import (
    ConnectorHttpClient,
    CursorPaginator,
    GraphQLPageInfoPaginator,
    OffsetPaginator,
    PaginationError,
    paginate,
    value_at,
)

MakeClient = Callable[..., ConnectorHttpClient]

PEOPLE = [{"id": f"id_{n}", "email": f"p{n}@example.com"} for n in range(1, 6)]  # 5 people, pages of 2


def _after(cursor: str | None) -> list[dict[str, str]]:
    """The page of two people following the person with id ``cursor`` (the first page for None)."""
    start = 0 if cursor is None else [p["id"] for p in PEOPLE].index(cursor) + 1
    return PEOPLE[start : start + 2]


def _ids(pages: list[Any]) -> list[str]:
    return [record["id"] for page in pages for record in page.records]


def hubspot(request: httpx.Request) -> httpx.Response:
    page = _after(request.url.params.get("after"))
    body: dict[str, Any] = {"results": page}
    if page[-1] is not PEOPLE[-1]:
        body["paging"] = {"next": {"after": page[-1]["id"], "link": "https://api.example.com/..."}}
    return httpx.Response(200, json=body)


def klaviyo(request: httpx.Request) -> httpx.Response:
    page = _after(request.url.params.get("page[cursor]"))
    more = page[-1] is not PEOPLE[-1]
    next_url = f"https://api.example.com/api/profiles?page%5Bcursor%5D={page[-1]['id']}" if more else None
    return httpx.Response(200, json={"data": page, "links": {"self": str(request.url), "next": next_url}})


def stripe(request: httpx.Request) -> httpx.Response:
    page = _after(request.url.params.get("starting_after"))
    return httpx.Response(200, json={"object": "list", "data": page, "has_more": page[-1] is not PEOPLE[-1]})


def mailchimp(request: httpx.Request) -> httpx.Response:
    offset, count = int(request.url.params["offset"]), int(request.url.params["count"])
    return httpx.Response(200, json={"members": PEOPLE[offset : offset + count], "total_items": len(PEOPLE)})


def shopify(request: httpx.Request) -> httpx.Response:
    variables = json.loads(request.content)["variables"]
    page = _after(variables.get("after"))
    info = {"hasNextPage": page[-1] is not PEOPLE[-1], "endCursor": page[-1]["id"]}
    return httpx.Response(200, json={"data": {"customers": {"nodes": page, "pageInfo": info}}})


class Recording:
    """Wraps a handler, keeping the requests it saw."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def test_hubspot_cursor_walks_three_pages_and_stops(make_client: MakeClient) -> None:
    # GIVEN HubSpot's paging.next.after cursor
    api = Recording(hubspot)
    paginator = CursorPaginator("paging.next.after", "after")
    # WHEN paginating
    pages = list(
        paginate(
            make_client(api),
            "GET",
            "/crm/v3/objects/contacts",
            paginator,
            params={"limit": 2},
            records_path="results",
        )
    )
    # THEN three pages, every person once, three requests, and checkpoints to resume from
    assert _ids(pages) == [p["id"] for p in PEOPLE]
    assert len(api.requests) == 3
    assert [page.checkpoint for page in pages] == ["id_2", "id_4", None]
    assert [page.has_next for page in pages] == [True, True, False]
    assert [page.number for page in pages] == [1, 2, 3]
    assert all(r.url.params["limit"] == "2" for r in api.requests)


def test_hubspot_search_puts_the_cursor_in_the_json_body(make_client: MakeClient) -> None:
    # GIVEN HubSpot's search endpoint: a POST whose body carries "after"
    def search(request: httpx.Request) -> httpx.Response:
        after = json.loads(request.content).get("after")
        return hubspot(httpx.Request("GET", "https://x", params={"after": after} if after else {}))

    api = Recording(search)
    query = {"filterGroups": [], "limit": 2}
    paginator = CursorPaginator("paging.next.after", cursor_json_key="after")
    # WHEN paginating
    pages = list(
        paginate(
            make_client(api),
            "POST",
            "/crm/v3/objects/contacts/search",
            paginator,
            json=query,
            records_path="results",
        )
    )
    # THEN every person once, and each body kept the query and carried the previous cursor
    assert _ids(pages) == [p["id"] for p in PEOPLE]
    assert [json.loads(r.content) for r in api.requests] == [
        query,
        {**query, "after": "id_2"},
        {**query, "after": "id_4"},
    ]


def test_a_cursor_goes_in_the_query_or_the_body_not_both() -> None:
    # GIVEN both places asked for WHEN building THEN ValueError
    with pytest.raises(ValueError, match="not both"):
        CursorPaginator("paging.next.after", "after", cursor_json_key="after")


def test_klaviyo_next_link_is_followed_as_a_full_url(make_client: MakeClient) -> None:
    # GIVEN Klaviyo's links.next full URLs
    api = Recording(klaviyo)
    pages = list(
        paginate(make_client(api), "GET", "/api/profiles", CursorPaginator("links.next"), records_path="data")
    )
    # THEN every person once, and the later requests went to the links given
    assert _ids(pages) == [p["id"] for p in PEOPLE]
    assert [r.url.params.get("page[cursor]") for r in api.requests] == [None, "id_2", "id_4"]


def test_stripe_has_more_and_starting_after_the_last_id(make_client: MakeClient) -> None:
    # GIVEN Stripe's has_more flag and the last record's id as the cursor
    api = Recording(stripe)
    paginator = CursorPaginator("data.-1.id", "starting_after", has_more_path="has_more")
    pages = list(
        paginate(
            make_client(api), "GET", "/v1/customers", paginator, params={"limit": 2}, records_path="data"
        )
    )
    # THEN three pages and the cursor of each request is the last id of the page before
    assert _ids(pages) == [p["id"] for p in PEOPLE]
    assert [r.url.params.get("starting_after") for r in api.requests] == [None, "id_2", "id_4"]


def test_mailchimp_offset_walks_to_total_items(make_client: MakeClient) -> None:
    # GIVEN Mailchimp's offset/count with total_items
    api = Recording(mailchimp)
    paginator = OffsetPaginator(2, total_path="total_items", max_limit=1000)
    pages = list(
        paginate(make_client(api), "GET", "/3.0/lists/abc/members", paginator, records_path="members")
    )
    # THEN offsets 0, 2, 4 were asked, and the walk stopped at the total
    assert _ids(pages) == [p["id"] for p in PEOPLE]
    assert [r.url.params["offset"] for r in api.requests] == ["0", "2", "4"]
    assert [page.checkpoint for page in pages] == [2, 4, None]


def test_shopify_graphql_page_info_puts_the_cursor_in_variables(make_client: MakeClient) -> None:
    # GIVEN a GraphQL connection with pageInfo
    api = Recording(shopify)
    query = {
        "query": "query($first:Int!,$after:String){customers(first:$first,after:$after){...}}",
        "variables": {"first": 2},
    }
    paginator = GraphQLPageInfoPaginator("data.customers.pageInfo")
    pages = list(
        paginate(
            make_client(api),
            "POST",
            "/admin/api/2024-10/graphql.json",
            paginator,
            json=query,
            records_path="data.customers.nodes",
        )
    )
    # THEN three POSTs, the first without a cursor, the others with the previous endCursor
    assert _ids(pages) == [p["id"] for p in PEOPLE]
    sent = [json.loads(r.content)["variables"] for r in api.requests]
    assert sent == [{"first": 2}, {"first": 2, "after": "id_2"}, {"first": 2, "after": "id_4"}]


def test_a_paginator_started_from_a_checkpoint_resumes_there(make_client: MakeClient) -> None:
    # GIVEN the checkpoint stored after page 1 of a HubSpot walk
    api = Recording(hubspot)
    paginator = CursorPaginator("paging.next.after", "after", start="id_2")
    # WHEN paginating again THEN only the remaining people come back
    pages = list(
        paginate(make_client(api), "GET", "/crm/v3/objects/contacts", paginator, records_path="results")
    )
    assert _ids(pages) == ["id_3", "id_4", "id_5"]


def test_a_repeated_cursor_raises_instead_of_looping(make_client: MakeClient) -> None:
    # GIVEN an API that always answers with the same next cursor
    def stuck(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": [PEOPLE[0]], "paging": {"next": {"after": "same"}}})

    api = Recording(stuck)
    # WHEN paginating THEN the second sighting of the cursor raises, naming connector and request
    with pytest.raises(
        PaginationError, match=r"hubspot: GET /crm/v3/objects/contacts page 2: the cursor 'same'"
    ):
        list(
            paginate(
                make_client(api),
                "GET",
                "/crm/v3/objects/contacts",
                CursorPaginator("paging.next.after", "after"),
                records_path="results",
            )
        )
    assert len(api.requests) == 2


def test_a_repeated_graphql_cursor_raises(make_client: MakeClient) -> None:
    # GIVEN a GraphQL API stuck on one endCursor WHEN paginating THEN it raises on the repeat
    def stuck(request: httpx.Request) -> httpx.Response:
        info = {"hasNextPage": True, "endCursor": "abc"}
        return httpx.Response(200, json={"data": {"customers": {"nodes": [], "pageInfo": info}}})

    with pytest.raises(PaginationError, match="came back a second time"):
        list(
            paginate(
                make_client(stuck),
                "POST",
                "/graphql.json",
                GraphQLPageInfoPaginator("data.customers.pageInfo"),
                json={"query": "{}"},
                records_path="data.customers.nodes",
            )
        )


def test_an_api_ignoring_the_offset_raises_instead_of_looping(make_client: MakeClient) -> None:
    # GIVEN an API that ignores the offset and keeps sending the first page (with a large total)
    def ignores_offset(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"members": PEOPLE[:2], "total_items": 1000})

    # WHEN paginating THEN the repeated page raises
    with pytest.raises(PaginationError, match="ignoring 'offset'"):
        list(
            paginate(
                make_client(ignores_offset),
                "GET",
                "/3.0/lists/abc/members",
                OffsetPaginator(2, total_path="total_items"),
                records_path="members",
            )
        )


def test_has_more_without_a_cursor_raises(make_client: MakeClient) -> None:
    # GIVEN Stripe saying has_more on an empty page (no last id to continue from)
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [], "has_more": True})

    paginator = CursorPaginator("data.-1.id", "starting_after", has_more_path="has_more")
    with pytest.raises(PaginationError, match="has_more is true but there is no cursor"):
        list(paginate(make_client(broken), "GET", "/v1/customers", paginator, records_path="data"))


def test_offset_advances_by_records_received_when_the_api_caps_the_page(make_client: MakeClient) -> None:
    # GIVEN an API that silently returns at most 2 records whatever count asks
    api = Recording(
        lambda r: httpx.Response(
            200, json={"members": PEOPLE[int(r.url.params["offset"]) :][:2], "total_items": 5}
        )
    )
    pages = list(
        paginate(
            make_client(api),
            "GET",
            "/m",
            OffsetPaginator(4, total_path="total_items"),
            records_path="members",
        )
    )
    # THEN no record is skipped
    assert _ids(pages) == [p["id"] for p in PEOPLE]


def test_offset_limit_above_the_vendor_maximum_is_refused() -> None:
    # GIVEN Mailchimp's 1000 maximum WHEN asking for 5000 THEN ValueError at construction
    with pytest.raises(ValueError, match="between 1 and 1000"):
        OffsetPaginator(5000, max_limit=1000)


def test_records_that_are_not_a_list_raise(make_client: MakeClient) -> None:
    # GIVEN a wrong records_path pointing at an object WHEN paginating THEN a clear error
    api = Recording(lambda r: httpx.Response(200, json={"results": {"id": 1}}))
    with pytest.raises(PaginationError, match="results is not a list"):
        list(paginate(make_client(api), "GET", "/x", CursorPaginator("next"), records_path="results"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [("paging.next.after", "7"), ("data.-1.id", "b"), ("data.0.id", "a"), ("data.9.id", None),
     ("missing.key", None), ("", {"k": 1}), ("data.x", None)],
)  # fmt: skip
def test_value_at_follows_dotted_paths(path: str, expected: Any) -> None:
    # GIVEN a body WHEN looking up a dotted path THEN the value, or None when absent
    body = {"paging": {"next": {"after": "7"}}, "data": [{"id": "a"}, {"id": "b"}]}
    assert value_at(body if path else {"k": 1}, path) == expected
