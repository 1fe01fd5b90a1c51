"""Every built-in connector's numeric options take plain ASCII decimal digits (or an int), in their range.

Python's ``int()`` reads ``"1_000"`` (a digit separator) and ``"١٠٠٠"`` (Arabic-Indic digits) as 1000,
and ``"²"`` passes ``str.isdigit`` but makes ``int()`` raise: Salesforce's ``batch_size``, HubSpot's
and Shopify's options took the first two, Mailchimp's and WooCommerce's crashed on the third with a
bare ``ValueError`` (connectors.option_numbers). A typo or a paste is refused with an error naming the
option and its range; an explicit 0 is refused, not read as "the default".
"""

from __future__ import annotations

import dataclasses
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import hubspot, mailchimp, salesforce, shopify, stripe, woocommerce
from connectors.salesforce._declaration import MIN_QUERY_BATCH, QUERY_BATCH
from core.connector import ConnectorPlugin
from core.errors import ConnectorConfigError

#: (connector, option, the range the error names): every numeric option of the built-in connectors.
OPTIONS: list[tuple[Any, str, str]] = [
    (salesforce, "batch_size", "from 200 to 2,000"),
    (salesforce, "bulk_threshold", "of at least 0"),
    (stripe, "requests_per_second", "of at least 1"),
    (hubspot, "rate_limit_per_10s", "of at least 1"),
    (hubspot, "search_requests_per_second", "of at least 1"),
    (shopify, "bulk_threshold", "of at least 1"),
    (shopify, "walk_limit", "of at least 1"),
    (mailchimp, "max_connections", "from 1 to 10"),
    (woocommerce, "requests_per_10s", "of at least 1"),
    (shopify, "page_size", "from 1 to 249"),
    (mailchimp, "page_size", "from 2 to 1,000"),
    (stripe, "page_size", "from 1 to 100"),
]
#: Text ``int()`` reads as a number (or that passes ``isdigit``) and a person did not mean as one, made
#: from a number in the option's range (``{n}``; ``{n_}`` is it with a digit separator after its first
#: digit, ``{arabic}`` and ``{wide}`` its Arabic-Indic and full-width digits).
NOT_PLAIN = ["{n_}", "{arabic}", "{wide}", "²", "+{n}", "{n}e0", "{n}.0"]
_ARABIC = str.maketrans(string.digits, "٠١٢٣٤٥٦٧٨٩")
_WIDE = str.maketrans(string.digits, "０１２３４５６７８９")


def _bounds(allowed: str) -> tuple[int, int | None]:
    """The (low, high) of a range as the error names it ("from 2 to 1,000", "of at least 1")."""
    numbers = [int(w.replace(",", "")) for w in allowed.split() if w.replace(",", "").isdigit()]
    return numbers[0], numbers[1] if len(numbers) > 1 else None


def _not_plain(template: str, allowed: str) -> str:
    """``template`` written with a number in range that has at least two digits (its high end, or 1000)."""
    low, high = _bounds(allowed)
    n = str(high if high is not None else max(low, 1000))
    return template.format(n=n, n_=f"{n[0]}_{n[1:]}", arabic=n.translate(_ARABIC), wide=n.translate(_WIDE))


def _build(module: Any, options: dict[str, Any]) -> Any:
    plugin: ConnectorPlugin = module.PLUGIN
    base = module.make_sandbox(people=2).settings()
    return plugin.build(dataclasses.replace(base, options={**base.options, **options}))


@pytest.mark.parametrize("text", NOT_PLAIN)
@pytest.mark.parametrize(("module", "name", "allowed"), OPTIONS, ids=lambda v: getattr(v, "__name__", v))
def test_a_number_not_in_plain_digits_is_refused_naming_the_option_and_its_range(
    module: Any, name: str, allowed: str, text: str
) -> None:
    # (the number written is in range, and taken in plain digits: only how it is written is wrong)
    with _build(module, {name: _not_plain("{n}", allowed)}):
        pass
    value = _not_plain(text, allowed)
    with pytest.raises(ConnectorConfigError, match=f"option {name} must be a whole number {allowed}"):
        _build(module, {name: value})


@pytest.mark.parametrize(("module", "name", "allowed"), OPTIONS, ids=lambda v: getattr(v, "__name__", v))
def test_an_explicit_number_below_the_range_is_refused_not_read_as_the_default(
    module: Any, name: str, allowed: str
) -> None:
    low, _ = _bounds(allowed)
    # (and an int 0 wherever 0 is out of range)
    for below in (low - 1, str(low - 1), *((0,) if low > 0 else ())):
        with pytest.raises(ConnectorConfigError, match=f"option {name} must be a whole number {allowed}"):
            _build(module, {name: below})


def test_salesforce_batch_size_as_an_int_or_padded_digits_is_read() -> None:
    for given_size in (1000, " 1000 ", "1000"):
        with _build(salesforce, {"batch_size": given_size}) as connector:
            assert connector.spec.page_size == 1000


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=6),
        st.text(alphabet=string.digits + "_ ", min_size=1, max_size=6),
        st.integers(min_value=-10, max_value=3000).map(str),
    )
)
def test_salesforce_batch_size_is_taken_exactly_when_it_is_plain_digits_in_200_to_2000(text: str) -> None:
    plain = text.strip()
    expected: int | None
    if not plain:
        expected = QUERY_BATCH
    elif plain.isascii() and plain.isdigit() and MIN_QUERY_BATCH <= int(plain) <= QUERY_BATCH:
        expected = int(plain)
    else:
        expected = None
    if expected is None:
        with pytest.raises(ConnectorConfigError, match="batch_size must be a whole number from 200 to 2,000"):
            _build(salesforce, {"batch_size": text})
    else:
        with _build(salesforce, {"batch_size": text}) as connector:
            assert connector.spec.page_size == expected


@pytest.mark.parametrize("share", ["0_1", "٠.١", "nan", "inf", "1", "-0.1", "1e-1"])
def test_salesforce_api_reserve_takes_a_share_in_plain_decimals_only(share: str) -> None:
    with pytest.raises(ConnectorConfigError, match="api_reserve must be a share"):
        _build(salesforce, {"api_reserve": share})
    with _build(salesforce, {"api_reserve": "0.25"}) as connector:
        assert connector.allowance.reserve == 0.25
