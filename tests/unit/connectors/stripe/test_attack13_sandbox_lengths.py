"""attack13: the Stripe sandbox refuses, as Stripe does, the customer values Stripe's published spec
says are too long, on create and on update, through Stripe's own SDK.

``specs/stripe-api.json`` (Stripe's spec3) types ``POST /v1/customers``'s ``name`` with ``maxLength``
256, ``email`` 512, ``phone`` 20 and ``description`` 5000; Stripe's metadata takes keys of up to 40
characters and values of up to 500 (the spec's ``metadata`` of a customer in an answer: values of
``maxLength`` 500). The lengths are read from the spec itself, not copied here.

Found and fixed (red before: every case accepted, and the answer to the metadata value then broke
the spec): ``connectors/stripe/_sandbox_customers.py`` ``check`` refused more than 50 metadata keys
and unknown address keys only, so a push that Stripe answers 400 passed against the sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.stripe import make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from tests.unit.connectors.served import Served, served
from tests.unit.connectors.stripe.conftest import _check

stripe = pytest.importorskip("stripe")


def _spec() -> dict[str, Any]:
    from profilesync.testing.specs import _read_text, _spec_path

    loaded: dict[str, Any] = json.loads(_read_text(_spec_path("stripe-api.json")))
    return loaded


def _limits() -> dict[str, int]:
    form = _spec()["paths"]["/v1/customers"]["post"]["requestBody"]["content"]
    fields = form["application/x-www-form-urlencoded"]["schema"]["properties"]
    return {name: int(fields[name]["maxLength"]) for name in ("name", "email", "phone", "description")}


def _too_long(field: str, limit: int) -> str:
    return "a" * (limit - len("@example.com") + 1) + "@example.com" if field == "email" else "7" * (limit + 1)


@pytest.fixture
def server() -> Iterator[Served]:
    with served(make_sandbox(people=2, seed=7, requests_per_second=10_000), _check) as running:
        yield running
        running.assert_clean()


@pytest.fixture
def client(server: Served) -> Any:
    sandbox: StripeSandbox = server.sandbox
    return stripe.StripeClient(sandbox.token, base_addresses={"api": server.url}, max_network_retries=0)


def _cases() -> list[tuple[str, dict[str, Any]]]:
    too_long = [(field, {field: _too_long(field, limit)}) for field, limit in sorted(_limits().items())]
    return [
        *too_long,
        ("metadata", {"metadata": {"k" * 41: "v"}}),
        ("metadata", {"metadata": {"k": "v" * 501}}),
    ]


@pytest.mark.parametrize("when", ["create", "update"])
@pytest.mark.parametrize(("param", "params"), _cases(), ids=lambda v: v if isinstance(v, str) else None)
def test_a_value_longer_than_stripe_takes_is_refused(
    client: Any, param: str, params: dict[str, Any], when: str
) -> None:
    # GIVEN a customer (for an update)
    customer = client.v1.customers.create({"email": "ann@example.com"}) if when == "update" else None
    # WHEN a value longer than Stripe's limit is sent
    send = (
        client.v1.customers.create
        if customer is None
        else lambda p: client.v1.customers.update(customer.id, p)
    )
    with pytest.raises(stripe.InvalidRequestError) as refused:
        send(params)
    # THEN Stripe's 400 names the parameter
    assert refused.value.http_status == 400
    assert refused.value.param is not None
    assert refused.value.param.startswith(param)


def test_values_at_stripe_limits_are_taken(client: Any) -> None:
    at = {field: _too_long(field, limit)[1:] for field, limit in _limits().items()}
    created = client.v1.customers.create({**at, "metadata": {"k" * 40: "v" * 500}})
    assert {field: getattr(created, field) for field in at} == at
