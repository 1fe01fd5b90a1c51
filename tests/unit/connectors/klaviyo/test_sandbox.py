"""The Klaviyo sandbox answers like Klaviyo: JSON:API errors, filter rules, limits and their headers."""

from __future__ import annotations

import httpx
import pytest

from connectors.klaviyo import KlaviyoSandbox
from connectors.klaviyo._sandbox import FixedWindows
from profilesync.testing.specs import OpenApiSpec

from .conftest import SPEC, CheckedKlaviyoSandbox

URL = "https://a.klaviyo.com/api/profiles"


def _get(sandbox: KlaviyoSandbox, params: dict[str, str], **headers: str) -> httpx.Response:
    sent = {"Authorization": f"Klaviyo-API-Key {sandbox.token}", "revision": "2026-07-15", **headers}
    request = httpx.Request("GET", URL, params=params, headers=sent)
    response = sandbox.handle(request)
    response.request = request
    return response


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"filter": "greater-or-equal(updated,2026-01-01T00:00:00Z)"}, "filter"),
        ({"filter": "greater-than(updated,'2026-01-01T00:00:00Z')"}, "filter"),
        ({"page[size]": "101"}, "page[size]"),
        ({"sort": "first_name"}, "sort"),
        ({"since": "2026-01-01"}, "since"),
    ],
)
def test_requests_klaviyo_refuses_get_a_json_api_400_naming_the_parameter(
    sandbox: CheckedKlaviyoSandbox, params: dict[str, str], parameter: str
) -> None:
    # WHEN a request breaks one of the documented rules THEN a spec-valid 400 names the parameter
    response = _get(sandbox, params)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["source"] == {"parameter": parameter}
    assert {"id", "status", "code", "title", "detail"} <= set(error)


def test_a_wrong_key_is_a_401_and_a_missing_revision_a_400(sandbox: CheckedKlaviyoSandbox) -> None:
    wrong = _get(sandbox, {}, Authorization="Klaviyo-API-Key pk_wrong")
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["code"] == "authentication_failed"
    request = httpx.Request("GET", URL, headers={"Authorization": f"Klaviyo-API-Key {sandbox.token}"})
    assert sandbox.handle(request).status_code == 400


def test_the_burst_limit_answers_429_with_retry_after_and_no_ratelimit_headers() -> None:
    # GIVEN a sandbox whose profiles endpoint allows 3 requests a second
    sandbox = KlaviyoSandbox(people=5, limits={"profiles": (3, 750)})
    # on a clock that stands still: four requests on the wall clock may straddle a second's boundary
    sandbox.windows["profiles"] = FixedWindows(3, 750, clock=lambda: 1_000.5)
    answers = [_get(sandbox, {}) for _ in range(4)]
    # THEN the first three carry RateLimit-* for the steady window, the fourth is a 429
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Limit"] == "750"
    assert answers[2].headers["RateLimit-Remaining"] == "747"
    throttled = answers[3]
    assert int(throttled.headers["Retry-After"]) >= 1
    assert "RateLimit-Remaining" not in throttled.headers
    assert throttled.json()["errors"][0]["code"] == "throttled"
    OpenApiSpec.load(SPEC).validate_httpx(throttled.request, throttled)


def test_equals_filters_find_profiles_by_email_case_insensitively(sandbox: CheckedKlaviyoSandbox) -> None:
    email = next(p["email"] for p in sandbox.profiles.values() if p["email"])
    found = _get(sandbox, {"filter": f'equals(email,"{email.upper()}")'}).json()["data"]
    assert [p["attributes"]["email"] for p in found] == [email]
