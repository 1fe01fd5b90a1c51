"""The spec checks the sandbox tests rely on: OpenAPI responses and requests, Shopify GraphQL documents."""

from __future__ import annotations

import copy
import gzip
import json
from typing import Any

import httpx
import pytest

from profilesync.testing.specs import SPEC_DIR, GraphQLSchema, OpenApiSpec, SpecViolation

HUBSPOT = "hubspot-crm-contacts-v3.json.gz"
CONTACTS = "/crm/v3/objects/contacts"

CUSTOMERS_QUERY = """
query CustomersUpdatedSince($after: String) {
  customers(first: 250, after: $after, query: "updated_at:>'2026-01-01'", sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id email updatedAt }
  }
}
"""

METAFIELDS_SET = """
mutation SetProfileId($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key value }
    userErrors { field message code }
  }
}
"""


# Each spec is read once per process (functools.cache); module-scope fixtures just name them.
@pytest.fixture(scope="module")
def hubspot() -> OpenApiSpec:
    return OpenApiSpec.load(HUBSPOT)


@pytest.fixture(scope="module")
def mailchimp() -> OpenApiSpec:
    return OpenApiSpec.load("mailchimp-marketing-3.0.55.json.gz")


@pytest.fixture(scope="module")
def klaviyo() -> OpenApiSpec:
    return OpenApiSpec.load("klaviyo-profiles-2026-07-15.json.gz")


@pytest.fixture(scope="module")
def shopify() -> GraphQLSchema:
    return GraphQLSchema.load()


def _contact(contact_id: str) -> dict[str, Any]:
    return {
        "id": contact_id,
        "properties": {"email": f"person{contact_id}@example.com", "firstname": "Ada"},
        "createdAt": "2026-01-02T03:04:05.678Z",
        "updatedAt": "2026-02-03T04:05:06.789Z",
        "archived": False,
    }


def _contacts_page() -> dict[str, Any]:
    return {"results": [_contact("101"), _contact("102")], "paging": {"next": {"after": "102"}}}


def _violation(check: Any, *args: Any) -> str:
    with pytest.raises(SpecViolation) as caught:
        check(*args)
    return str(caught.value)


# --- HubSpot ------------------------------------------------------------------------------------------


def test_a_hubspot_contacts_page_built_from_the_spec_passes(hubspot: OpenApiSpec) -> None:
    # GIVEN a page whose records carry exactly the fields the spec requires of a contact
    required = hubspot.document["components"]["schemas"]["SimplePublicObjectWithAssociations"]["required"]
    page = _contacts_page()
    assert set(page["results"][0]) == set(required)
    # WHEN it is checked as the answer to GET /crm/v3/objects/contacts
    hubspot.validate_response("GET", CONTACTS, 200, page)
    # THEN nothing is raised, and a last page (no paging) passes too
    hubspot.validate_response("GET", CONTACTS, 200, {"results": []})


def test_a_page_missing_a_required_field_fails_naming_it(hubspot: OpenApiSpec) -> None:
    # GIVEN a page whose second contact has no createdAt
    page = _contacts_page()
    del page["results"][1]["createdAt"]
    # WHEN it is checked
    message = _violation(hubspot.validate_response, "GET", CONTACTS, 200, page)
    # THEN the message names the spec, the operation, the status, where and what
    assert HUBSPOT in message
    assert f"GET {CONTACTS}" in message
    assert "200" in message
    assert "$.results[1]: 'createdAt' is a required property" in message


def test_wrong_types_and_malformed_timestamps_fail_with_their_json_paths(hubspot: OpenApiSpec) -> None:
    # GIVEN a contact whose archived flag is a string and whose updatedAt is not a date-time
    page = _contacts_page()
    page["results"][0]["archived"] = "false"
    page["results"][0]["updatedAt"] = "yesterday"
    # WHEN it is checked
    message = _violation(hubspot.validate_response, "GET", CONTACTS, 200, page)
    # THEN both values are named by their JSON path
    assert "$.results[0].archived: 'false' is not of type 'boolean'" in message
    assert "$.results[0].updatedAt: 'yesterday' is not a 'date-time'" in message


def test_the_hubspot_error_response_is_found_under_its_wildcard_media_type(hubspot: OpenApiSpec) -> None:
    # GIVEN HubSpot's shared error response, documented as "default" with content type */*
    error = {
        "status": "error",
        "message": "resource not found",
        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
        "category": "OBJECT_NOT_FOUND",
    }
    # WHEN a 404 with that body is checked THEN it passes
    hubspot.validate_response("GET", f"{CONTACTS}/404", 404, error)
    # AND an error body without a correlationId fails
    del error["correlationId"]
    assert "'correlationId' is a required property" in _violation(
        hubspot.validate_response, "GET", f"{CONTACTS}/404", 404, error
    )


def test_path_matching_prefers_literal_segments(hubspot: OpenApiSpec) -> None:
    # GIVEN paths that also fit /crm/v3/objects/contacts/{contactId} segment for segment
    # WHEN they are matched THEN the literal paths win
    assert hubspot.operation("POST", f"{CONTACTS}/merge")[0] == f"{CONTACTS}/merge"
    assert hubspot.operation("POST", f"{CONTACTS}/batch/upsert")[0] == f"{CONTACTS}/batch/upsert"
    assert hubspot.operation("GET", f"{CONTACTS}/123")[0] == f"{CONTACTS}/{{contactId}}"
    # AND a literal segment early in the path outranks one later on
    spec = OpenApiSpec(
        "inline.json",
        {"openapi": "3.0.3", "paths": {"/items/{id}/tags": {"get": {}}, "/items/special/{tag}": {"get": {}}}},
    )
    assert spec.operation("GET", "/items/special/tags")[0] == "/items/special/{tag}"
    assert spec.operation("GET", "/items/42/tags")[0] == "/items/{id}/tags"


def test_an_undocumented_path_or_method_fails(hubspot: OpenApiSpec) -> None:
    # GIVEN a path HubSpot does not document, and a documented path with the wrong method
    # WHEN they are matched THEN both are violations that say so
    assert "does not document" in _violation(hubspot.operation, "GET", "/crm/v3/objects/contacts/1/notes")
    assert "not GET" in _violation(hubspot.operation, "GET", f"{CONTACTS}/merge")


def test_request_bodies_are_checked_against_the_request_schema(hubspot: OpenApiSpec) -> None:
    # GIVEN a batch upsert a connector would send
    body: dict[str, Any] = {
        "inputs": [{"id": "a@example.com", "idProperty": "email", "properties": {"firstname": "Ada"}}]
    }
    # WHEN it is checked THEN it passes
    hubspot.validate_request("POST", f"{CONTACTS}/batch/upsert", body)
    # AND a property value that is not a string fails at its path
    body["inputs"][0]["properties"]["firstname"] = 7
    message = _violation(hubspot.validate_request, "POST", f"{CONTACTS}/batch/upsert", body)
    assert "$.inputs[0].properties.firstname: 7 is not of type 'string'" in message
    # AND the required body cannot be left out
    assert "required" in _violation(hubspot.validate_request, "POST", f"{CONTACTS}/batch/upsert", None)


def test_validate_httpx_checks_an_exchange(hubspot: OpenApiSpec) -> None:
    # GIVEN a sandbox exchange: a JSON request and a JSON answer (the spec marks propertiesWithHistory
    # as required in a batch read, so the connector sends it, empty)
    url = f"https://api.hubapi.com{CONTACTS}"
    request = httpx.Request(
        "POST",
        f"{url}/batch/read",
        json={"inputs": [{"id": "101"}], "properties": [], "propertiesWithHistory": []},
    )
    answer = {
        "status": "COMPLETE",
        "results": [_contact("101")],
        "startedAt": "2026-01-01T00:00:00Z",
        "completedAt": "2026-01-01T00:00:01Z",
    }
    # WHEN it is checked THEN it passes
    hubspot.validate_httpx(request, httpx.Response(200, json=answer, request=request))
    # AND an archive answered 204 with no body passes, but not with a body or with a 200 and no body
    delete = httpx.Request("DELETE", f"{url}/101")
    hubspot.validate_httpx(delete, httpx.Response(204, request=delete))
    assert "documents no body" in _violation(
        hubspot.validate_httpx, delete, httpx.Response(204, json={"ok": True}, request=delete)
    )
    get = httpx.Request("GET", url)
    assert "empty body" in _violation(hubspot.validate_httpx, get, httpx.Response(200, request=get))
    # AND the request body the connector sent is checked too
    bad = httpx.Request(
        "POST", f"{url}/batch/read", json={"inputs": [{}], "properties": [], "propertiesWithHistory": []}
    )
    assert "'id' is a required property" in _violation(
        hubspot.validate_httpx, bad, httpx.Response(200, json=answer, request=bad)
    )


# --- Mailchimp ----------------------------------------------------------------------------------------


def _member() -> dict[str, Any]:
    return {
        "id": "8a25ff1d98b3b79b36a1f4b7f1e46b4b",
        "email_address": "ada@example.com",
        "unique_email_id": "882e9bec19",
        "contact_id": "c-1",
        "full_name": "Ada Lovelace",
        "web_id": 123,
        "email_type": "html",
        "status": "subscribed",
        "merge_fields": {"FNAME": "Ada", "LNAME": "Lovelace"},
        "interests": {"9143cf3bd1": True},
        "stats": {"avg_open_rate": 0.5, "avg_click_rate": 0.1},
        "language": "en",
        "vip": False,
        "timestamp_signup": "2026-01-01T00:00:00+00:00",
        "last_changed": "2026-01-02T00:00:00+00:00",
        "tags_count": 1,
        "tags": [{"id": 1, "name": "vip"}],
        "list_id": "abc123",
    }


def test_mailchimp_member_listing_is_found_under_the_server_base_path(mailchimp: OpenApiSpec) -> None:
    # GIVEN Mailchimp's spec, whose paths are relative to the server URL .../3.0
    assert mailchimp.document["servers"][0]["url"].endswith("/3.0")
    # WHEN the concrete path is matched with and without the /3.0 prefix
    # THEN both resolve to the documented template
    assert mailchimp.operation("GET", "/3.0/lists/abc123/members")[0] == "/lists/{list_id}/members"
    assert mailchimp.operation("GET", "/lists/abc123/members")[0] == "/lists/{list_id}/members"
    assert (
        mailchimp.operation("POST", "/3.0/lists/abc123/members/8a25ff/actions/delete-permanent")[0]
        == "/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent"
    )


def test_a_mailchimp_member_listing_body_is_checked(mailchimp: OpenApiSpec) -> None:
    # GIVEN a listing of members as the sandbox answers it
    body: dict[str, Any] = {"members": [_member()], "list_id": "abc123", "total_items": 1, "_links": []}
    # WHEN it is checked THEN it passes
    mailchimp.validate_response("GET", "/3.0/lists/abc123/members", 200, body)
    # AND an unknown status and a stringly count fail at their paths
    bad = copy.deepcopy(body)
    bad["members"][0]["status"] = "active"
    bad["total_items"] = "1"
    message = _violation(mailchimp.validate_response, "GET", "/3.0/lists/abc123/members", 200, bad)
    assert "$.members[0].status: 'active' is not one of" in message
    assert "$.total_items: '1' is not of type 'integer'" in message


# --- Klaviyo ------------------------------------------------------------------------------------------


def _klaviyo_profile(subscriptions: Any) -> dict[str, Any]:
    link = {"self": "https://a.klaviyo.com/api/profiles/01J7ZQ0000000000000000000/"}
    return {
        "data": {
            "type": "profile",
            "id": "01J7ZQ0000000000000000000",
            "attributes": {
                "email": "ada@example.com",
                "first_name": "Ada",
                "last_name": None,
                "created": "2026-01-01T00:00:00+00:00",
                "updated": "2026-01-02T00:00:00+00:00",
                "properties": {},
                "subscriptions": subscriptions,
            },
            "links": link,
        },
        "links": link,
    }


def test_klaviyo_nullable_refs_allow_null_and_still_check_values(klaviyo: OpenApiSpec) -> None:
    # GIVEN a profile whose subscriptions ($ref + nullable, no type, in the spec) is null
    path = "/api/profiles/01J7ZQ0000000000000000000"
    # WHEN it is checked THEN null is accepted
    klaviyo.validate_response("GET", path, 200, _klaviyo_profile(None))
    # AND a value of the wrong kind is still rejected
    assert "subscriptions" in _violation(klaviyo.validate_response, "GET", path, 200, _klaviyo_profile("yes"))


def test_status_ranges_match_and_undocumented_statuses_fail(klaviyo: OpenApiSpec) -> None:
    # GIVEN Klaviyo's operations, which document 200, 4XX and 5XX
    throttled = {
        "errors": [{"id": "e1", "status": 429, "code": "throttled", "title": "Throttled.", "detail": "x"}]
    }
    # WHEN a 429 is checked THEN the 4XX response applies
    klaviyo.validate_response("GET", "/api/profiles", 429, throttled)
    # AND a 302 is not documented at all
    message = _violation(klaviyo.validate_response, "GET", "/api/profiles", 302, {})
    assert "status 302 is not documented" in message


# --- Stripe -------------------------------------------------------------------------------------------


def test_stripe_nullable_any_of_fields_accept_null() -> None:
    # GIVEN Stripe's own customer fixture, full of nulls on `anyOf` + `nullable` fields (default_source)
    fixtures = json.loads(gzip.decompress((SPEC_DIR / "stripe-fixtures3.json.gz").read_bytes()))
    customer = fixtures["resources"]["customer"]
    assert customer["default_source"] is None
    # The fixture file is newer than stripe-api.json: its discount has the newer shape (source.coupon).
    customer = {**customer, "discount": None}
    # WHEN it is checked as GET /v1/customers/{customer} THEN it passes
    OpenApiSpec.load("stripe-api.json.gz").validate_response("GET", "/v1/customers/cus_123", 200, customer)


# --- Shopify ------------------------------------------------------------------------------------------


def test_the_shopify_schema_is_built_once(shopify: GraphQLSchema) -> None:
    # GIVEN the schema loaded by the fixture WHEN it is loaded again THEN it is the same object
    assert GraphQLSchema.load() is shopify
    assert GraphQLSchema.load("shopify-admin-2026-01.graphql") is shopify
    assert shopify.load_seconds > 0


def test_the_incremental_customers_query_is_valid(shopify: GraphQLSchema) -> None:
    # GIVEN the query the Shopify connector pages with WHEN it is validated, with and without a cursor
    # THEN nothing is raised
    shopify.validate(CUSTOMERS_QUERY)
    shopify.validate(CUSTOMERS_QUERY, {"after": None})
    shopify.validate(CUSTOMERS_QUERY, {"after": "eyJsYXN0X2lkIjoxfQ=="})


def test_a_misspelt_field_fails_naming_it(shopify: GraphQLSchema) -> None:
    # GIVEN the customers query with updatedAt misspelt
    document = CUSTOMERS_QUERY.replace("email updatedAt", "email updated_at")
    # WHEN it is validated THEN the field, the type and its location are named
    message = _violation(shopify.validate, document)
    assert "Cannot query field 'updated_at' on type 'Customer'" in message
    assert "(at 5:22)" in message


def test_metafields_set_variables_are_coerced(shopify: GraphQLSchema) -> None:
    # GIVEN the metafieldsSet mutation and the variables push sends
    metafield = {
        "ownerId": "gid://shopify/Customer/1",
        "namespace": "profilesync",
        "key": "profile_id",
        "type": "single_line_text_field",
        "value": "p-1",
    }
    # WHEN they are validated THEN they pass
    shopify.validate(METAFIELDS_SET, {"metafields": [metafield]})
    # AND a number where a String! is due, a missing ownerId, and an undeclared variable fail
    assert "at [0].value: String cannot represent a non string value: 5" in _violation(
        shopify.validate, METAFIELDS_SET, {"metafields": [{**metafield, "value": 5}]}
    )
    no_owner = {k: v for k, v in metafield.items() if k != "ownerId"}
    assert "required field 'ownerId'" in _violation(
        shopify.validate, METAFIELDS_SET, {"metafields": [no_owner]}
    )
    assert "$owner" in _violation(shopify.validate, METAFIELDS_SET, {"metafields": [metafield], "owner": "x"})


def _customers_data() -> dict[str, Any]:
    return {
        "customers": {
            "pageInfo": {"hasNextPage": True, "endCursor": "eyJsYXN0X2lkIjoxfQ=="},
            "nodes": [
                {
                    "id": "gid://shopify/Customer/1",
                    "email": "ada@example.com",
                    "updatedAt": "2026-01-02T00:00:00Z",
                },
                {"id": "gid://shopify/Customer/2", "email": None, "updatedAt": "2026-01-03T00:00:00Z"},
            ],
        }
    }


def test_validate_result_accepts_the_shape_the_query_asked_for(shopify: GraphQLSchema) -> None:
    # GIVEN a sandbox answer to the customers query (a nullable email is null)
    # WHEN it is checked THEN it passes
    shopify.validate_result(CUSTOMERS_QUERY, _customers_data(), {"after": None})


def test_validate_result_catches_missing_fields_and_wrong_scalars(shopify: GraphQLSchema) -> None:
    # GIVEN answers with a missing field, a stringly boolean, a null ID!, and a field nobody asked for
    data = _customers_data()
    del data["customers"]["nodes"][0]["updatedAt"]
    data["customers"]["pageInfo"]["hasNextPage"] = "true"
    data["customers"]["nodes"][1]["id"] = None
    data["customers"]["nodes"][1]["firstName"] = "Ada"
    # WHEN it is checked
    message = _violation(shopify.validate_result, CUSTOMERS_QUERY, data)
    # THEN each is reported at its path
    assert "data.customers.nodes[0].updatedAt: missing" in message
    assert "data.customers.pageInfo.hasNextPage: 'true' is not a JSON value of scalar Boolean" in message
    assert "data.customers.nodes[1].id: null, but the field is non-null (ID!)" in message
    assert "data.customers.nodes[1].firstName: not selected by the query" in message


def test_validate_result_honours_aliases_fragments_and_abstract_types(shopify: GraphQLSchema) -> None:
    # GIVEN a query through the Node interface with an alias, an inline fragment and a named fragment
    document = """
    query { node(id: "gid://shopify/Customer/1") { __typename id ... on Customer { mail: email ...Spend } } }
    fragment Spend on Customer { numberOfOrders amountSpent { amount currencyCode } }
    """
    data: dict[str, Any] = {
        "node": {
            "__typename": "Customer",
            "id": "gid://shopify/Customer/1",
            "mail": "ada@example.com",
            "numberOfOrders": "3",
            "amountSpent": {"amount": "12.50", "currencyCode": "GBP"},
        }
    }
    # WHEN the matching answer is checked THEN it passes
    shopify.validate_result(document, data)
    # AND an UnsignedInt64 sent as a JSON number (Shopify sends a string) and an unknown enum value fail
    data["node"]["numberOfOrders"] = 3
    data["node"]["amountSpent"]["currencyCode"] = "POUNDS"
    message = _violation(shopify.validate_result, document, data)
    assert "data.node.numberOfOrders: 3 is not a JSON value of scalar UnsignedInt64" in message
    assert "data.node.amountSpent.currencyCode: 'POUNDS' is not a value of enum CurrencyCode" in message
