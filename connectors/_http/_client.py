"""One configured HTTP client per connector: limiter -> send -> observe -> status mapping -> retry."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any

import httpx

from connectors.secrets import secret_env_var
from core.errors import ConnectorConfigError
from core.redaction import redact_path, redact_personal

from ._auth import CarriesSecrets
from ._body import json_body
from ._errors import (
    ConnectorAuthError,
    ConnectorRequestError,
    ConnectorUnreachableError,
    redact,
    vendor_error_message,
)
from ._ratelimit import ConcurrencyLimiter, RateLimiter
from ._retry import (
    IDEMPOTENT_METHODS,
    NOT_PROCESSED_STATUSES,
    RetryPolicy,
    TransientAttemptError,
    call_with_retry,
    parse_retry_after,
)
from ._tls import shared_ssl_context


def _package_version() -> str:
    try:
        return version("profilesync")
    except PackageNotFoundError:  # running from a source checkout that was never pip-installed
        return "dev"


USER_AGENT = f"profilesync/{_package_version()} (+https://github.com/profilesync/profilesync)"

#: Plain http is allowed only for these hosts (local mocks); anywhere else it would send tokens in clear.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# A connection that was never made cannot have reached the server: safe to resend any method.
_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The request may have reached the server before the failure.
_MAYBE_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)


@dataclass(frozen=True)
class HttpClientConfig:
    """Everything one connector's HTTP client needs; immutable, so a client never changes under a sync.

    ``credential_name`` is the name given to resolve_secret (``hubspot_token``); auth errors then say
    which variable to check (``PROFILESYNC_HUBSPOT_TOKEN``). ``limiters`` are acquired in order before
    every attempt; ``concurrency`` is held while a request is in flight. ``is_throttled`` marks a 2xx
    JSON body that really means "throttled" (Shopify GraphQL: ``shopify_graphql_throttled``).
    """

    connector: str
    base_url: str
    auth: httpx.Auth | None = None
    credential_name: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    user_agent: str = USER_AGENT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limiters: tuple[RateLimiter, ...] = ()
    concurrency: ConcurrencyLimiter | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    is_throttled: Callable[[Any], bool] | None = None

    def __post_init__(self) -> None:
        if not self.connector:
            raise ConnectorConfigError("HttpClientConfig.connector must name the connector, e.g. 'hubspot'")
        url = httpx.URL(self.base_url)
        if url.scheme not in {"http", "https"} or not url.host:
            raise ConnectorConfigError(f"{self.connector}: base_url {self.base_url!r} is not an http(s) URL")
        if url.scheme == "http" and url.host not in _LOCAL_HOSTS:
            raise ConnectorConfigError(
                f"{self.connector}: base_url {self.base_url!r} must use https "
                "(credentials would otherwise travel in clear)"
            )
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ConnectorConfigError(f"{self.connector}: timeouts must be positive")


def _refused(error: BaseException) -> bool:
    """Whether a connect error was a refused connection (nothing listening), anywhere in its chain."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "Connection refused" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class ConnectorHttpClient:
    """An ``httpx.Client`` that paces, retries and maps errors the same way for every connector.

    Thread-safe (httpx.Client and the limiters are). Pass ``transport=httpx.MockTransport(handler)``
    to run without a network. Close it, or use it as a context manager.
    """

    def __init__(self, config: HttpClientConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self._secrets = config.auth.secret_values() if isinstance(config.auth, CarriesSecrets) else ()
        self._base = httpx.URL(config.base_url)
        self._http = httpx.Client(
            base_url=config.base_url,
            auth=config.auth,
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            headers={"User-Agent": config.user_agent, "Accept": "application/json", **config.headers},
            transport=transport,
            follow_redirects=False,
            # A mock transport makes no TLS connection: build no context for it.
            verify=shared_ssl_context() if transport is None else True,
        )

    def __enter__(self) -> ConnectorHttpClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: float = 1.0,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send a request with pacing and retries and return the 2xx response, or raise a typed error.

        ``path`` is relative to the base URL (or an absolute URL on the same host, such as a next-page
        link). ``cost`` is what the limiters charge (Shopify: the query's expected cost).
        ``idempotent`` defaults from the method (GET, PUT, DELETE are; POST, PATCH are not); pass True
        for POSTs that only read or upsert, so that timeouts and 5xx are retried for them too. Raises
        ConnectorAuthError (401/403), ConnectorRequestError (other 4xx), ConnectorUnavailableError.
        ``form`` sends an ``application/x-www-form-urlencoded`` body instead of ``json`` (Stripe).
        """
        response, _ = self._exchange(
            method, path, params, json, headers, cost, idempotent, parse=None, form=form
        )
        return response

    def exchange_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: float = 1.0,
        idempotent: bool | None = None,
        parse_float: Callable[[str], Any] | None = None,
    ) -> tuple[httpx.Response, Any]:
        """Like ``request``, and also parse the body as JSON (None when empty); a truncated or invalid
        body counts as a transient failure and is retried. ``parse_float=Decimal`` keeps money exact.
        """
        return self._exchange(
            method, path, params, json, headers, cost, idempotent, parse=parse_float or float, form=form
        )

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: float = 1.0,
        parse_float: Callable[[str], Any] | None = None,
    ) -> Any:
        """GET ``path`` and return its parsed JSON body (see ``exchange_json``)."""
        _, body = self.exchange_json(
            "GET", path, params=params, headers=headers, cost=cost, parse_float=parse_float
        )
        return body

    def post_json(
        self,
        path: str,
        *,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: float = 1.0,
        idempotent: bool = False,
        parse_float: Callable[[str], Any] | None = None,
    ) -> Any:
        """POST ``json`` (or a ``form`` body) to ``path`` and return the parsed JSON reply."""
        _, body = self.exchange_json(
            "POST",
            path,
            params=params,
            json=json,
            form=form,
            headers=headers,
            cost=cost,
            idempotent=idempotent,
            parse_float=parse_float,
        )
        return body

    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        cost: float,
        idempotent: bool | None,
        *,
        parse: Callable[[str], Any] | None,
        form: Mapping[str, str] | None = None,
    ) -> tuple[httpx.Response, Any]:
        if form is not None and json is not None:
            raise ValueError("send either a JSON body or a form body, not both")
        method = method.upper()
        url = httpx.URL(path)
        self._check_same_origin(url)
        # What logs and errors call the request: never the query string (some vendors accept keys
        # there, and filters hold emails), and no segment that names a person or a record.
        label = redact_path(url.path or "/")
        config = self.config

        def attempt() -> tuple[httpx.Response, Any]:
            for limiter in config.limiters:
                limiter.acquire(cost)
            try:
                with config.concurrency or contextlib.nullcontext():
                    response = self._http.request(
                        method,
                        path,
                        params=dict(params) if params else None,
                        json=json,
                        data=dict(form) if form is not None else None,
                        headers=headers,
                    )
            except _NOT_SENT_ERRORS as exc:
                address = (
                    f"{self._base.host}:{self._base.port or (443 if self._base.scheme == 'https' else 80)}"
                )
                if self._base.host in _LOCAL_HOSTS and _refused(exc):
                    # A local address refusing (a sandbox not started, a wrong port) stays refused.
                    raise ConnectorUnreachableError(config.connector, address) from exc
                raise TransientAttemptError(
                    f"{type(exc).__name__} to {address}", processed_maybe=False
                ) from exc
            except _MAYBE_SENT_ERRORS as exc:
                raise TransientAttemptError(type(exc).__name__) from exc
            for limiter in config.limiters:
                limiter.observe(response)
            self._raise_for_status(response, method, label)
            if parse is None:
                return response, None
            body = self._parse(response, parse)
            if config.is_throttled is not None and config.is_throttled(body):
                raise TransientAttemptError(f"HTTP {response.status_code} throttled", processed_maybe=False)
            return response, body

        return call_with_retry(
            attempt,
            config.retry,
            connector=config.connector,
            method=method,
            path=label,
            idempotent=method in IDEMPOTENT_METHODS if idempotent is None else idempotent,
        )

    def _check_same_origin(self, url: httpx.URL) -> None:
        # Next-page links are absolute URLs taken from a response body; the auth would go wherever they
        # point, so only follow them to the host the connector was configured for.
        if url.is_absolute_url and (url.scheme, url.host, url.port) != (
            self._base.scheme,
            self._base.host,
            self._base.port,
        ):
            raise ConnectorConfigError(
                f"{self.config.connector}: refusing to send credentials to {url.scheme}://{url.host} "
                f"(the connector's base URL is {self._base.scheme}://{self._base.host})"
            )

    def _raise_for_status(self, response: httpx.Response, method: str, label: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        config = self.config
        # Vendors quote what they were sent ("Contact with email ... already exists"): the errors take
        # addresses and numbers out of what they show (ConnectorRequestError), and so does a retry.
        message = redact(vendor_error_message(response), self._secrets)
        if status in {401, 403}:
            hint = (
                secret_env_var(config.credential_name)
                if config.credential_name
                else f"the credentials configured for {config.connector}"
            )
            raise ConnectorAuthError(config.connector, status, credential_hint=hint, vendor_message=message)
        if status in config.retry.retry_statuses:
            raise TransientAttemptError(
                f"HTTP {status}: {redact_personal(message)}" if message else f"HTTP {status}",
                status=status,
                retry_after=parse_retry_after(
                    response.headers.get("Retry-After"), now=config.retry.wall_clock()
                ),
                processed_maybe=status not in NOT_PROCESSED_STATUSES,
            )
        raise ConnectorRequestError(config.connector, method, label, status, message)

    @staticmethod
    def _parse(response: httpx.Response, parse_float: Callable[[str], Any]) -> Any:
        if not response.content.strip():
            return None
        try:
            return json_body(response, parse_float)
        except ValueError as exc:
            # A 2xx whose body stops mid-JSON is a connection cut short (Lambda, proxies), not a bad
            # request. The server has answered though, so a non-idempotent request is not resent.
            raise TransientAttemptError(
                f"HTTP {response.status_code} with a truncated or invalid JSON body",
                status=response.status_code,
            ) from exc


def build_client(
    config: HttpClientConfig, transport: httpx.BaseTransport | None = None
) -> ConnectorHttpClient:
    """Return a ConnectorHttpClient for ``config``; ``transport`` (a MockTransport) replaces the network."""
    return ConnectorHttpClient(config, transport=transport)
