"""The HTTP kit every connector shares: auth, rate limits, retries, error mapping, pagination, secrets.

A connector composes these rather than subclassing anything::

    token = resolve_secret("hubspot_token")
    config = HttpClientConfig(
        connector="hubspot",
        base_url="https://api.hubapi.com",
        auth=BearerToken(token),
        credential_name="hubspot_token",
        limiters=(SlidingWindowLimiter(190, 10.0),),
    )
    with build_client(config) as client:
        for page in paginate(client, "GET", "/crm/v3/objects/contacts",
                             CursorPaginator("paging.next.after", "after"), records_path="results"):
            ...
"""

from connectors.secrets import Secret, resolve_secret, secret_env_var

from ._allowance import AllowanceExhaustedError, DailyAllowance, UsageReader
from ._auth import ApiKeyHeader, BasicAuthKey, BasicAuthPair, BearerToken, CarriesSecrets
from ._client import USER_AGENT, ConnectorHttpClient, HttpClientConfig, build_client
from ._errors import (
    ConnectorAuthError,
    ConnectorRequestError,
    ConnectorUnavailableError,
    ConnectorUnreachableError,
    PaginationError,
    describe_vendor_error,
    redact,
    vendor_error_message,
)
from ._jwt_bearer import OAuthJwtBearer
from ._oauth import OAuthClientCredentials
from ._pagination import (
    CursorPaginator,
    GraphQLPageInfoPaginator,
    OffsetPaginator,
    OverlapOffsetPaginator,
    Page,
    PageRequest,
    Paginator,
    paginate,
    sort_key,
    value_at,
)
from ._ratelimit import (
    ConcurrencyLimiter,
    CostBucketLimiter,
    RateLimiter,
    RateLimitHeaders,
    SlidingWindowLimiter,
    TokenBucket,
    read_rate_limit_headers,
    shopify_graphql_throttled,
)
from ._retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after

__all__ = [
    "RETRYABLE_STATUSES",
    "USER_AGENT",
    "AllowanceExhaustedError",
    "ApiKeyHeader",
    "BasicAuthKey",
    "BasicAuthPair",
    "BearerToken",
    "CarriesSecrets",
    "ConcurrencyLimiter",
    "ConnectorAuthError",
    "ConnectorHttpClient",
    "ConnectorRequestError",
    "ConnectorUnavailableError",
    "ConnectorUnreachableError",
    "CostBucketLimiter",
    "CursorPaginator",
    "DailyAllowance",
    "GraphQLPageInfoPaginator",
    "HttpClientConfig",
    "OAuthClientCredentials",
    "OAuthJwtBearer",
    "OffsetPaginator",
    "OverlapOffsetPaginator",
    "Page",
    "PageRequest",
    "PaginationError",
    "Paginator",
    "RateLimitHeaders",
    "RateLimiter",
    "RetryPolicy",
    "Secret",
    "SlidingWindowLimiter",
    "TokenBucket",
    "UsageReader",
    "build_client",
    "describe_vendor_error",
    "paginate",
    "parse_retry_after",
    "read_rate_limit_headers",
    "redact",
    "resolve_secret",
    "secret_env_var",
    "shopify_graphql_throttled",
    "sort_key",
    "value_at",
    "vendor_error_message",
]
