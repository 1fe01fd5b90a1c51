"""Every GraphQL document the Shopify connector sends, and what each is expected to cost.

Admin API version 2026-01. Field choices follow that version's schema (specs/shopify-admin-2026-01
.graphql): ``Customer.email``, ``phone`` and ``emailMarketingConsent`` are deprecated there in favour
of ``defaultEmailAddress`` / ``defaultPhoneNumber``, and ``currentBulkOperation`` in favour of
``bulkOperation(id:)``, so the connector uses the replacements.

Query cost, as Shopify documents it (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits):
a scalar or enum costs 0, an object 1, a connection 2 plus ``first`` times the cost of one node (the
node itself 1, plus its object fields), a mutation 10. A single query may not cost more than 1,000
points (MAX_COST_EXCEEDED). The sandbox computes cost with the same model, and a test checks that
its ``requestedQueryCost`` equals the estimates here, which the client's cost limiter reserves.
"""

from __future__ import annotations

from typing import Final

API_VERSION: Final = "2026-01"
GRAPHQL_PATH: Final = f"/admin/api/{API_VERSION}/graphql.json"

#: Shopify's largest page for any connection (``first``), and the most a single query may cost.
MAX_PAGE_SIZE: Final = 250
MAX_QUERY_COST: Final = 1000
MUTATION_COST: Final = 10


def connection_cost(first: int, node_cost: int) -> int:
    """The requested cost of a connection of ``first`` nodes each costing ``node_cost``."""
    return 2 + first * node_cost


def largest_page(node_cost: int) -> int:
    """The biggest ``first`` whose connection stays within the 1,000-point single-query limit."""
    return min(MAX_PAGE_SIZE, (MAX_QUERY_COST - 2) // node_cost)


# A customer node: the Customer (1) plus defaultEmailAddress, defaultPhoneNumber, defaultAddress (1 each).
# 250 of them would request 1,002 points, over the single-query limit, so customer pages are 249.
CUSTOMER_NODE_COST: Final = 4
CUSTOMER_PAGE_SIZE: Final = largest_page(CUSTOMER_NODE_COST)
# An order node: the Order (1) plus totalPriceSet (MoneyBag, 1) and its shopMoney (MoneyV2, 1), the
# same two for currentTotalPriceSet (the total after refunds and edits: what a partially refunded
# buyer kept paying), the customer it belongs to (1: only its id, by which the order joins its
# customer's profile), and its billingAddress and shippingAddress (MailingAddress, 1 each: a guest
# order's buyer, named by the billing address, counts under the guardrail as that person;
# ``_mapping.guest_order_traits``), and netPaymentSet and its shopMoney (2: what was received less
# what was refunded, which a PARTIALLY_PAID order counts); ``test`` (a scalar, 0) marks a test order,
# no purchase. 10 points a node: 99 orders request 992 points, 100 would request 1,002.
ORDER_NODE_COST: Final = 10
ORDER_PAGE_SIZE: Final = largest_page(ORDER_NODE_COST)

_CUSTOMER_FIELDS = """
      id
      firstName
      lastName
      createdAt
      updatedAt
      defaultEmailAddress { emailAddress marketingState marketingUpdatedAt }
      defaultPhoneNumber { phoneNumber }
      defaultAddress { countryCodeV2 }"""

_ORDER_FIELDS = """
      id
      name
      email
      phone
      createdAt
      processedAt
      updatedAt
      cancelledAt
      test
      displayFinancialStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      currentTotalPriceSet { shopMoney { amount currencyCode } }
      netPaymentSet { shopMoney { amount currencyCode } }
      customer { id }
      billingAddress { firstName lastName countryCodeV2 }
      shippingAddress { countryCodeV2 }"""

# Sorted by UPDATED_AT with a search filter on updated_at; Shopify breaks ties by id, and its cursors
# carry both, so paging with ``after`` is stable while records change.
CUSTOMERS_PAGE: Final = f"""query ProfilesyncCustomers($first: Int!, $after: String, $query: String) {{
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{{_CUSTOMER_FIELDS}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
CUSTOMERS_PAGE_COST: Final = connection_cost(CUSTOMER_PAGE_SIZE, CUSTOMER_NODE_COST)

ORDERS_PAGE: Final = f"""query ProfilesyncOrders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{{_ORDER_FIELDS}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
ORDERS_PAGE_COST: Final = connection_cost(ORDER_PAGE_SIZE, ORDER_NODE_COST)

# Both counts in one request (two Count objects): decides bulk operation or paging on a full pull.
# ``limit`` caps the counting; precision AT_LEAST then says "this many or more".
COUNTS: Final = """query ProfilesyncCounts($limit: Int) {
  customersCount(limit: $limit) { count precision }
  ordersCount(limit: $limit) { count precision }
}"""
COUNTS_COST: Final = 2

# Bulk queries take no ``first``/``after``: Shopify walks the whole connection itself and writes one
# JSON line per node (https://shopify.dev/docs/api/usage/bulk-operations/queries).
CUSTOMERS_BULK: Final = f"""{{
  customers {{
    edges {{
      node {{{_CUSTOMER_FIELDS}
      }}
    }}
  }}
}}"""

ORDERS_BULK: Final = f"""{{
  orders {{
    edges {{
      node {{{_ORDER_FIELDS}
      }}
    }}
  }}
}}"""

BULK_RUN: Final = """mutation ProfilesyncBulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status createdAt }
    userErrors { field message code }
  }
}"""

BULK_STATUS: Final = """query ProfilesyncBulkStatus($id: ID!) {
  bulkOperation(id: $id) {
    id
    status
    errorCode
    createdAt
    completedAt
    objectCount
    rootObjectCount
    url
  }
}"""
BULK_STATUS_COST: Final = 1

METAFIELDS_SET: Final = """mutation ProfilesyncSetMetafields($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id key }
    userErrors { field message code elementIndex }
  }
}"""
#: metafieldsSet takes at most 25 metafields per call (the schema's own description of the argument).
METAFIELDS_PER_CALL: Final = 25

#: Creates a customer the shop does not hold, with the pushed metafields and the email consent that
#: allowed creating them (an upsert instance only).
CUSTOMER_CREATE: Final = """mutation ProfilesyncCreateCustomer($input: CustomerInput!) {
  customerCreate(input: $input) {
    customer { id }
    userErrors { field message }
  }
}"""

METAFIELD_DEFINITIONS: Final = """query ProfilesyncMetafieldDefinitions($namespace: String!) {
  metafieldDefinitions(first: 50, ownerType: CUSTOMER, namespace: $namespace) {
    nodes { key type { name } }
  }
}"""
METAFIELD_DEFINITIONS_COST: Final = connection_cost(50, 2)

METAFIELD_DEFINITION_CREATE: Final = """mutation ProfilesyncCreateDefinition(
  $definition: MetafieldDefinitionInput!
) {
  metafieldDefinitionCreate(definition: $definition) {
    createdDefinition { id key }
    userErrors { field message code }
  }
}"""

FIND_CUSTOMERS: Final = """query ProfilesyncFindCustomers($query: String!) {
  customers(first: 10, query: $query) {
    nodes {
      id
      defaultEmailAddress { emailAddress }
      defaultPhoneNumber { phoneNumber }
    }
  }
}"""
FIND_CUSTOMERS_COST: Final = connection_cost(10, 3)

FIND_ORDER: Final = """query ProfilesyncFindOrder($query: String!) {
  orders(first: 1, query: $query) {
    nodes {
      id
      email
      phone
      customer { id }
    }
  }
}"""
FIND_ORDER_COST: Final = connection_cost(1, 3)

REQUEST_ERASURE: Final = """mutation ProfilesyncErase($customerId: ID!) {
  customerRequestDataErasure(customerId: $customerId) {
    customerId
    userErrors { field message code }
  }
}"""

#: Every document above that is sent as a request (bulk queries travel inside BULK_RUN's variables).
REQUEST_DOCUMENTS: Final = (
    CUSTOMERS_PAGE,
    ORDERS_PAGE,
    COUNTS,
    BULK_RUN,
    BULK_STATUS,
    METAFIELDS_SET,
    CUSTOMER_CREATE,
    METAFIELD_DEFINITIONS,
    METAFIELD_DEFINITION_CREATE,
    FIND_CUSTOMERS,
    FIND_ORDER,
    REQUEST_ERASURE,
)
BULK_DOCUMENTS: Final = (CUSTOMERS_BULK, ORDERS_BULK)
