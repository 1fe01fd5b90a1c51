"""The Shopify sandbox's type table: the types and fields it serves, and the shape of each (what a
field costs follows from its shape: ``_sandbox_cost``).
"""

from __future__ import annotations

from . import _sandbox_store as store

# --- the type table: what the sandbox serves, and what each field costs ----------------------------------
Kind = tuple[str, str | None]  # ("scalar", None) | ("object", T) | ("list", T) | ("connection", T)
_S: Kind = ("scalar", None)


def _o(name: str) -> Kind:
    return ("object", name)


def _l(name: str) -> Kind:
    return ("list", name)


def _c(name: str) -> Kind:
    return ("connection", name)


TYPES: dict[str, dict[str, Kind]] = {
    "QueryRoot": {
        "customers": _c("Customer"),
        "orders": _c("Order"),
        "customersCount": _o("Count"),
        "ordersCount": _o("Count"),
        "customer": _o("Customer"),
        "order": _o("Order"),
        "bulkOperation": _o("BulkOperation"),
        "currentBulkOperation": _o("BulkOperation"),
        "metafieldDefinitions": _c("MetafieldDefinition"),
    },
    "Mutation": {
        "bulkOperationRunQuery": _o("BulkOperationRunQueryPayload"),
        "metafieldsSet": _o("MetafieldsSetPayload"),
        "metafieldDefinitionCreate": _o("MetafieldDefinitionCreatePayload"),
        "customerRequestDataErasure": _o("CustomerRequestDataErasurePayload"),
    },
    "Customer": {
        **dict.fromkeys(
            (
                "id",
                "legacyResourceId",
                "firstName",
                "lastName",
                "displayName",
                "createdAt",
                "updatedAt",
                "email",
                "phone",
                "note",
                "tags",
                "verifiedEmail",
                "numberOfOrders",
            ),
            _S,
        ),
        "defaultEmailAddress": _o("CustomerEmailAddress"),
        "defaultPhoneNumber": _o("CustomerPhoneNumber"),
        "defaultAddress": _o("MailingAddress"),
        "emailMarketingConsent": _o("CustomerEmailMarketingConsentState"),
        "amountSpent": _o("MoneyV2"),
        "metafield": _o("Metafield"),
        "metafields": _c("Metafield"),
        "orders": _c("Order"),
    },
    "CustomerEmailAddress": dict.fromkeys(
        ("emailAddress", "marketingState", "marketingUpdatedAt", "marketingOptInLevel", "validFormat"), _S
    ),
    "CustomerPhoneNumber": dict.fromkeys(
        ("phoneNumber", "marketingState", "marketingUpdatedAt", "marketingOptInLevel"), _S
    ),
    "CustomerEmailMarketingConsentState": dict.fromkeys(
        ("marketingState", "consentUpdatedAt", "marketingOptInLevel"), _S
    ),
    "MailingAddress": dict.fromkeys(
        (
            "id",
            "firstName",
            "lastName",
            "name",
            "country",
            "countryCodeV2",
            "city",
            "province",
            "provinceCode",
            "zip",
            "phone",
        ),
        _S,
    ),
    "Order": {
        **dict.fromkeys(
            (
                "id",
                "legacyResourceId",
                "name",
                "email",
                "phone",
                "createdAt",
                "processedAt",
                "updatedAt",
                "cancelledAt",
                "closedAt",
                "displayFinancialStatus",
                "currencyCode",
                "test",
            ),
            _S,
        ),
        "totalPriceSet": _o("MoneyBag"),
        "currentTotalPriceSet": _o("MoneyBag"),
        "netPaymentSet": _o("MoneyBag"),
        "totalReceivedSet": _o("MoneyBag"),
        "totalOutstandingSet": _o("MoneyBag"),
        "customer": _o("Customer"),
        "billingAddress": _o("MailingAddress"),
        "shippingAddress": _o("MailingAddress"),
    },
    "MoneyBag": {"shopMoney": _o("MoneyV2"), "presentmentMoney": _o("MoneyV2")},
    "MoneyV2": dict.fromkeys(("amount", "currencyCode"), _S),
    "Count": dict.fromkeys(("count", "precision"), _S),
    "PageInfo": dict.fromkeys(("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"), _S),
    "BulkOperation": dict.fromkeys(
        (
            "id",
            "status",
            "errorCode",
            "createdAt",
            "completedAt",
            "objectCount",
            "rootObjectCount",
            "fileSize",
            "url",
            "partialDataUrl",
            "query",
            "type",
        ),
        _S,
    ),
    "BulkOperationRunQueryPayload": {
        "bulkOperation": _o("BulkOperation"),
        "userErrors": _l("BulkOperationUserError"),
    },
    "BulkOperationUserError": dict.fromkeys(("field", "message", "code"), _S),
    "Metafield": dict.fromkeys(
        ("id", "namespace", "key", "value", "type", "ownerType", "createdAt", "updatedAt", "compareDigest"),
        _S,
    ),
    "MetafieldsSetPayload": {"metafields": _l("Metafield"), "userErrors": _l("MetafieldsSetUserError")},
    "MetafieldsSetUserError": dict.fromkeys(("field", "message", "code", "elementIndex"), _S),
    "MetafieldDefinition": {
        **dict.fromkeys(("id", "name", "namespace", "key", "description", "ownerType"), _S),
        "type": _o("MetafieldDefinitionType"),
    },
    "MetafieldDefinitionType": dict.fromkeys(("name", "category"), _S),
    "MetafieldDefinitionCreatePayload": {
        "createdDefinition": _o("MetafieldDefinition"),
        "userErrors": _l("MetafieldDefinitionCreateUserError"),
    },
    "MetafieldDefinitionCreateUserError": dict.fromkeys(("field", "message", "code", "elementIndex"), _S),
    "CustomerRequestDataErasurePayload": {
        "customerId": _S,
        "userErrors": _l("CustomerRequestDataErasureUserError"),
    },
    "CustomerRequestDataErasureUserError": dict.fromkeys(("field", "message", "code"), _S),
}
for _type_name, _fields in store.FIELDS.items():  # shop, Order.lineItems, customerCreate/Update
    TYPES.setdefault(_type_name, {}).update(_fields)
