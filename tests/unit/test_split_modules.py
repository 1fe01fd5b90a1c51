"""The modules split into smaller ones by what they do still offer every public name they defined
before the split: callers, tests, benches, docs and pickles name them at the old module."""

from __future__ import annotations

import importlib

import pytest

#: Each split module and the public names it defined itself before it was split.
BEFORE_THE_SPLIT: dict[str, tuple[str, ...]] = {
    "connectors.shopify._sandbox": (
        "DEFAULT_SHOP",
        "DEFAULT_TOKEN",
        "GraphQLFailureError",
        "Kind",
        "LeakyBucket",
        "ShopifySandbox",
        "TYPES",
        "make_sandbox",
        "stamp",
    ),
    "profilesync.local": (
        "ACCOUNT_ID",
        "FunctionDef",
        "LocalContext",
        "LocalLambda",
        "LocalRuntime",
        "MetricSink",
        "ProgressFn",
        "PullResult",
        "REGION",
        "StageCounts",
        "TemplateError",
        "TemplateScope",
        "matches",
        "model_moto_costs",
        "sqs_event",
        "template_parameters",
    ),
    "connectors.hubspot._sandbox": (
        "BATCH_MAX",
        "DEFAULT_TOKEN",
        "HubSpotSandbox",
        "LIST_DEFAULT",
        "LIST_MAX",
        "MAX_FILTERS",
        "MAX_FILTERS_PER_GROUP",
        "MAX_FILTER_GROUPS",
        "SEARCH_DEFAULT",
        "SEARCH_MAX",
        "SEARCH_RESULT_CAP",
        "canonical_email",
    ),
    "connectors.mailchimp._sandbox": (
        "BATCH_STATUSES",
        "DEFAULT_LIST_ID",
        "DEFAULT_TOKEN",
        "ERRORS_DOC",
        "FieldTree",
        "INVALID",
        "MAX_BATCH",
        "MAX_COUNT",
        "MERGE_TYPES",
        "MailchimpSandbox",
        "SORT_FIELDS",
        "make_sandbox",
    ),
    "connectors.klaviyo._sandbox": (
        "BASE",
        "DEFAULT_TOKEN",
        "FILTERS",
        "FixedWindows",
        "JSON_API",
        "KlaviyoSandbox",
        "LIMITS",
        "MAX_IMPORT",
        "MAX_PAGE",
        "SORTS",
        "make_sandbox",
    ),
    "connectors.shopify._connector": (
        "ACCESS_TOKEN_HEADER",
        "CREDENTIAL",
        "DEFAULT_BULK_THRESHOLD",
        "DEFAULT_NAMESPACE",
        "DocumentCostLimiter",
        "PAGING_LIMIT",
        "SPEC",
        "STANDARD_BUCKET",
        "STANDARD_RESTORE_RATE",
        "ShopifyBulkOperationError",
        "ShopifyConnector",
        "ShopifyGraphQLError",
        "build",
        "logger",
        "normalise_shop",
        "parse_bulk_jsonl",
    ),
    "connectors.hubspot._connector": (
        "ARCHIVE_MARGIN_MS",
        "BATCH_SIZE",
        "CONTACTS_PATH",
        "CREDENTIAL",
        "Clock",
        "DEFAULT_BASE_URL",
        "DEFAULT_RATE_LIMIT_PER_10S",
        "DEFAULT_SEARCH_PER_SECOND",
        "GDPR_DELETE_PATH",
        "GROUPS_PATH",
        "HubSpotConnector",
        "LATENCY_MARGIN_SECONDS",
        "LIST_PAGE_SIZE",
        "OPTIONS",
        "PROPERTIES_PATH",
        "RETRYABLE_CATEGORIES",
        "SEARCH_PAGE_SIZE",
        "SEARCH_PATH",
        "SPEC",
        "Sleep",
        "UPDATE_PATH",
        "UPSERT_PATH",
        "advance",
        "batch_outcomes",
        "build",
        "update_outcomes",
    ),
    "connectors.woocommerce._sandbox": (
        "API",
        "BATCH_LIMIT",
        "STORE_URL",
        "WooCommerceSandbox",
        "make_sandbox",
    ),
    "connectors.salesforce._sandbox_routes": ("dispatch",),
    "connectors.salesforce._sandbox": (
        "DAILY_LIMIT",
        "DEFAULT_CLIENT_ID",
        "DEFAULT_SECRET",
        "Handler",
        "LOCATOR_IDLE",
        "MAX_BATCH",
        "MAX_COLLECTION",
        "MAX_COMPOSITE",
        "OPEN_LOCATORS",
        "SCHEMA",
        "SalesforceSandbox",
        "error",
        "make_sandbox",
        "sf_id",
        "stamp",
    ),
}


@pytest.mark.parametrize(("module", "names"), sorted(BEFORE_THE_SPLIT.items()))
def test_a_split_module_still_offers_every_public_name_it_defined(
    module: str, names: tuple[str, ...]
) -> None:
    # GIVEN a module split into smaller ones
    loaded = importlib.import_module(module)
    # THEN each name it defined is still there, and each name it exports is defined
    assert [name for name in names if not hasattr(loaded, name)] == []
    assert [name for name in getattr(loaded, "__all__", ()) if not hasattr(loaded, name)] == []
