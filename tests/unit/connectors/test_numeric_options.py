"""Every built-in connector's numeric options take ASCII decimal digits (or a number), in their range.

Python's ``int()`` reads ``"1_000"`` (a digit separator) and ``"١٠٠٠"`` or ``"１０００"`` (other
scripts' digits) as 1000, and ``"²"`` passes ``str.isdigit`` but makes ``int()`` raise: Salesforce's,
HubSpot's and Shopify's options took the first two, Mailchimp's and WooCommerce's took other scripts'
digits through ``isdigit`` and crashed on ``"²"`` with a bare ``ValueError``
(connectors.option_numbers). A typo or a paste is refused with an error naming the option and its
range; an explicit 0 is refused, not read as "the default". What a working configuration held before
and means one thing is still read (the tests at the end): a leading ``+``, a float with no fraction
(``5.0``) for a whole number, exponent notation for Salesforce's ``api_reserve`` and a negative
Salesforce ``bulk_threshold`` (every first pull in bulk).
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
NOT_PLAIN = ["{n_}", "{arabic}", "{wide}", "²", "{n}e0", "{n}.0", "+-{n}", "++{n}"]
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
    plain = text.strip().removeprefix("+")
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


@pytest.mark.parametrize("share", ["0_1", "٠.١", "nan", "inf", "1", "-0.1", "1e0", "0.1e", "++0.1"])
def test_salesforce_api_reserve_takes_a_share_in_plain_decimals_only(share: str) -> None:
    with pytest.raises(ConnectorConfigError, match="api_reserve must be a share"):
        _build(salesforce, {"api_reserve": share})
    with _build(salesforce, {"api_reserve": "0.25"}) as connector:
        assert connector.allowance.reserve == 0.25


# Values a working configuration held before connectors.option_numbers (61f73ae^1 read them) and
# that mean one thing: still read, with that meaning. What was a typo or a crash stays refused above.


@pytest.mark.parametrize(
    ("module", "name", "given_value", "read"),
    [
        (hubspot, "rate_limit_per_10s", "+190", 190),
        (shopify, "walk_limit", " +1000 ", 1000),
        (stripe, "requests_per_second", "+25", 25),
        (mailchimp, "max_connections", "+5", 5),
        (woocommerce, "requests_per_10s", "+25", 25),
        (salesforce, "batch_size", "+1000", 1000),
        (salesforce, "batch_size", 1000.0, 1000),
        (hubspot, "rate_limit_per_10s", 190.0, 190),
        (mailchimp, "max_connections", 5.0, 5),
        (woocommerce, "requests_per_10s", 25.0, 25),
        (stripe, "requests_per_second", 25.0, 25),
        (shopify, "walk_limit", 1000.0, 1000),
    ],
    ids=lambda v: getattr(v, "__name__", repr(v)),
)
def test_a_leading_plus_or_a_float_with_no_fraction_is_read_as_before(
    module: Any, name: str, given_value: Any, read: int
) -> None:
    connector = _build(module, {name: given_value})
    try:
        assert _read_back(module, name, connector) == read
    finally:
        getattr(connector, "close", lambda: None)()


def _read_back(module: Any, name: str, connector: Any) -> int:
    """The value the built connector holds for option ``name`` (each keeps it its own way)."""
    if module is salesforce:
        return int(connector.spec.page_size)
    if module is hubspot:
        return int(connector.rate_limit_per_10s)
    if module is shopify:
        return int(connector.walk_limit)
    if module is mailchimp:
        return int(connector.max_connections)
    limits = connector.declaration.account_limits
    return int(limits[0].requests)


@pytest.mark.parametrize("given_value", [5.5, float("nan"), float("inf"), "5.0", True])
def test_a_float_with_a_fraction_or_a_bool_is_still_refused_for_a_whole_number(given_value: Any) -> None:
    with pytest.raises(ConnectorConfigError, match="option rate_limit_per_10s must be a whole number"):
        _build(hubspot, {"rate_limit_per_10s": given_value})


@pytest.mark.parametrize(("share", "read"), [("5e-2", 0.05), ("1E-2", 0.01), ("+0.1", 0.1), (" .25 ", 0.25)])
def test_salesforce_api_reserve_in_exponent_form_or_with_a_plus_is_read_as_before(
    share: str, read: float
) -> None:
    with _build(salesforce, {"api_reserve": share}) as connector:
        assert connector.allowance.reserve == read


@pytest.mark.parametrize(("threshold", "read"), [("-1", -1), ("-5", -1), (-1, -1), (-1.0, -1), ("0", 0)])
def test_a_negative_salesforce_bulk_threshold_still_sends_every_first_pull_to_bulk(
    threshold: Any, read: int
) -> None:
    # Before, int() kept -1 and the pull compared totalSize > bulk_threshold: even an empty object
    # went to bulk; -5 behaved as -1 (no count is below 0), so every negative is read as -1.
    with _build(salesforce, {"bulk_threshold": threshold}) as connector:
        assert connector.bulk_threshold == read


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_salesforce_bulk_threshold_not_in_digits_is_refused(text: str) -> None:
    with pytest.raises(ConnectorConfigError, match="option bulk_threshold must be a whole number"):
        _build(salesforce, {"bulk_threshold": _not_plain(text, "of at least 0")})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.+-eE _", max_size=8))
def test_api_reserve_reads_what_float_read_before_but_digit_separators(text: str) -> None:
    """Against the reader of 61f73ae^1 (``float(raw or 0.1)`` in [0, 1)): the same share for every
    text of ASCII digits, signs, points and exponents; refused only where it held a ``_``."""
    try:
        before: float | None = float(text or 0.1)
    except ValueError:
        before = None
    if before is not None and not 0.0 <= before < 1.0:
        before = None
    now = _salesforce_reads(text, "api_reserve", lambda connector: connector.allowance.reserve)
    assert now == (0.1 if not text.strip() else None if "_" in text else before)  # blank: the default


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+- _", max_size=7))
def test_salesforce_bulk_threshold_reads_what_int_read_before_but_digit_separators(text: str) -> None:
    """Against the reader of 61f73ae^1 (``int(raw or 50000)``): the same threshold for every text
    of ASCII digits and signs, a negative one as -1 (the same pulls); refused only where it held a
    ``_``."""
    try:
        before: int | None = int(text or 50000)
    except ValueError:
        before = None
    now = _salesforce_reads(text, "bulk_threshold", lambda connector: connector.bulk_threshold)
    expected = None if before is None else max(before, -1)
    assert now == (50000 if not text.strip() else None if "_" in text else expected)  # blank: the default


def _salesforce_reads(text: str, name: str, read: Any) -> Any:
    """What a Salesforce connector built with option ``name`` = ``text`` holds (``read`` of it), or
    None when the option is refused."""
    try:
        with _build(salesforce, {name: text}) as connector:
            return read(connector)
    except ConnectorConfigError:
        return None
