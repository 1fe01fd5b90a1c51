"""The Salesforce sandbox's token endpoint, ``POST /services/oauth2/token``: the client credentials
grant (id and secret in the form body or as HTTP Basic) and the JWT bearer grant (its assertion
checked by ``_sandbox_jwt``), and the session a granted request opens.
"""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import httpx

from connectors._http._jwt_bearer import JWT_BEARER_GRANT
from connectors._sandbox import json_response

from . import _sandbox_jwt as jwt

if TYPE_CHECKING:
    from ._sandbox import SalesforceSandbox


def token(sb: SalesforceSandbox, request: httpx.Request) -> httpx.Response:
    form = {k: v[0] for k, v in parse_qs(request.content.decode(errors="replace")).items()}
    if form.get("grant_type") == JWT_BEARER_GRANT:
        refused = jwt.refusal(sb, form.get("assertion") or "")
        if refused is not None:
            return json_response(400, {"error": refused[0], "error_description": refused[1]})
        return session(sb, request)
    if form.get("grant_type") != "client_credentials":
        return json_response(
            400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
        )
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":  # RFC 6749 2.3.1: the id and secret may come as HTTP Basic instead
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client_id, secret = "", ""
        form.setdefault("client_id", client_id)
        form.setdefault("client_secret", secret)
    if form.get("client_id") != sb.client_id or form.get("client_secret") != sb.token:
        return json_response(
            400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        )
    return session(sb, request)


def session(sb: SalesforceSandbox, request: httpx.Request) -> httpx.Response:
    """A new session for a granted token request, as the token endpoint answers it."""
    opened = f"00DSANDBOX0000001!{uuid.uuid4().hex}{uuid.uuid4().hex}"
    with sb.lock:
        sb.sessions.add(opened)
    base = f"{request.url.scheme}://{request.url.netloc.decode()}"
    return json_response(
        200,
        {
            "access_token": opened,
            "signature": base64.b64encode(uuid.uuid4().bytes).decode(),
            "token_format": "opaque",
            "instance_url": base,
            "id": f"{base}/id/00DSANDBOX0000001/005SANDBOX0000001",
            "token_type": "Bearer",
            "issued_at": str(int(sb.clock.now().timestamp() * 1000)),
            "scope": "api",
        },
    )
