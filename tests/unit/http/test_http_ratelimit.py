"""Limiters on a fake clock: how long each one makes a caller wait, and what vendor headers change."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from http_fakes import FakeClock

from connectors._http import (
    ConcurrencyLimiter,
    CostBucketLimiter,
    HttpClientConfig,
    RateLimiter,
    RateLimitHeaders,
    SlidingWindowLimiter,
    TokenBucket,
    read_rate_limit_headers,
    shopify_graphql_throttled,
)


def test_token_bucket_allows_a_burst_then_paces_at_the_rate(clock: FakeClock) -> None:
    # GIVEN Shopify REST-like pacing: 2 per second, burst of 2
    bucket = TokenBucket(2.0, 2, clock=clock, sleep=clock.sleep)
    # WHEN five requests go out back to back
    for _ in range(5):
        bucket.acquire()
    # THEN the first two pass at once and each later one waits half a second
    assert clock.sleeps == [0.5, 0.5, 0.5]


def test_token_bucket_refills_while_idle(clock: FakeClock) -> None:
    # GIVEN an emptied bucket WHEN a second passes idle THEN two more requests pass without waiting
    bucket = TokenBucket(2.0, 2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    clock.now += 1.0
    bucket.acquire()
    bucket.acquire()
    assert clock.sleeps == []


def test_token_bucket_charges_the_cost(clock: FakeClock) -> None:
    # GIVEN 10 per second, burst 10 WHEN a cost of 15 is taken THEN it waits for the missing 5 tokens
    bucket = TokenBucket(10.0, 10, clock=clock, sleep=clock.sleep)
    bucket.acquire(15)
    assert clock.sleeps == [pytest.approx(0.5)]


def test_token_bucket_pauses_when_the_server_says_none_left(clock: FakeClock) -> None:
    # GIVEN a full bucket, but the server says 0 remaining until reset in 3 s
    bucket = TokenBucket(100.0, 100, clock=clock, sleep=clock.sleep)
    bucket.observe(httpx.Response(200, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3"}))
    # WHEN the next request is acquired THEN it waits for the reset first
    bucket.acquire()
    assert clock.sleeps[0] == pytest.approx(3.0)


def test_sliding_window_waits_for_the_oldest_request_to_leave(clock: FakeClock) -> None:
    # GIVEN 3 requests per 10 s, sent at t=0, 4 and 8
    window = SlidingWindowLimiter(3, 10.0, clock=clock, sleep=clock.sleep)
    for gap in (0, 4, 4):
        clock.now += gap
        window.acquire()
    assert clock.sleeps == []
    # WHEN a fourth goes at t=8 THEN it waits until the t=0 one leaves the window (t=10)
    window.acquire()
    assert clock.sleeps == [pytest.approx(2.0)]
    # AND a fifth waits for the t=4 one (t=14)
    window.acquire()
    assert sum(clock.sleeps) == pytest.approx(6.0)


def test_sliding_window_counts_what_the_server_saw_from_other_clients(clock: FakeClock) -> None:
    # GIVEN HubSpot's 190 per 10 s and one request of ours, but the server says only 1 remains
    window = SlidingWindowLimiter(190, 10.0, clock=clock, sleep=clock.sleep)
    window.acquire()
    window.observe(
        httpx.Response(
            200,
            headers={
                "X-HubSpot-RateLimit-Max": "190",
                "X-HubSpot-RateLimit-Remaining": "1",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            },
        )
    )
    # WHEN two more requests go THEN the first passes and the second waits for the window to roll
    window.acquire()
    assert clock.sleeps == []
    window.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_sliding_window_pauses_a_whole_interval_at_zero_remaining(clock: FakeClock) -> None:
    # GIVEN the server says 0 remaining in a 10 s interval WHEN acquiring THEN it waits 10 s
    window = SlidingWindowLimiter(190, 10.0, clock=clock, sleep=clock.sleep)
    window.observe(
        httpx.Response(
            429,
            headers={
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            },
        )
    )
    window.acquire()
    assert clock.sleeps[0] == pytest.approx(10.0)


def test_a_client_alone_at_exactly_the_limit_does_not_pause_an_extra_window(clock: FakeClock) -> None:
    # GIVEN 3 per 10 s, and the server's count agreeing with ours: the third request leaves 0
    window = SlidingWindowLimiter(3, 10.0, clock=clock, sleep=clock.sleep)
    for remaining in ("2", "1", "0"):
        window.acquire()
        clock.now += 1.0
        window.observe(
            httpx.Response(
                200,
                headers={
                    "X-HubSpot-RateLimit-Max": "3",
                    "X-HubSpot-RateLimit-Remaining": remaining,
                    "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                },
            )
        )
    # WHEN a fourth request goes THEN it waits only until the first leaves the window (t=10), not 10 s more
    window.acquire()
    assert clock.sleeps == [pytest.approx(7.0)]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"X-HubSpot-RateLimit-Remaining": "42", "X-HubSpot-RateLimit-Max": "190",
             "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
            RateLimitHeaders(remaining=42, limit=190, window_seconds=10.0),
        ),
        ({"X-Shopify-Shop-Api-Call-Limit": "32/40"}, RateLimitHeaders(remaining=8, limit=40)),
        ({"RateLimit-Remaining": "5", "RateLimit-Limit": "75", "RateLimit-Reset": "7"},
         RateLimitHeaders(remaining=5, limit=75, reset_after_seconds=7)),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000030"},
         RateLimitHeaders(remaining=0, reset_after_seconds=30)),
        ({"X-RateLimit-Remaining": "lots"}, RateLimitHeaders()),
    ],
    ids=["hubspot", "shopify-rest", "ietf-draft", "epoch-reset", "garbage"],
)  # fmt: skip
def test_rate_limit_headers_are_read_per_vendor(headers: dict[str, str], expected: RateLimitHeaders) -> None:
    # GIVEN a vendor's headers WHEN read (wall clock at 1 700 000 000) THEN the common view comes out
    response = httpx.Response(200, headers=headers)
    assert read_rate_limit_headers(response, wall_clock=lambda: 1_700_000_000.0) == expected


def _shopify_cost(requested: float, actual: float | None, available: float) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "data": {},
            "extensions": {
                "cost": {
                    "requestedQueryCost": requested,
                    "actualQueryCost": actual,
                    "throttleStatus": {
                        "maximumAvailable": 2000.0,
                        "currentlyAvailable": available,
                        "restoreRate": 100.0,
                    },
                }
            },
        },
    )


def test_cost_bucket_passes_when_the_bucket_can_pay(clock: FakeClock) -> None:
    # GIVEN a fresh bucket WHEN a query of cost 100 is acquired THEN no wait
    limiter = CostBucketLimiter(clock=clock, sleep=clock.sleep)
    limiter.acquire(100)
    assert clock.sleeps == []


def test_cost_bucket_waits_when_the_shop_reports_a_low_balance(clock: FakeClock) -> None:
    # GIVEN a response saying 152 points left, restoring 100/s, for a query that requested 352
    limiter = CostBucketLimiter(clock=clock, sleep=clock.sleep)
    limiter.observe(_shopify_cost(requested=352, actual=48, available=152))
    assert limiter.last_requested_cost == 352
    assert limiter.last_actual_cost == 48
    # WHEN the next page (same query, cost not passed) is acquired
    limiter.acquire()
    # THEN it waits for the missing 200 points at the shop's restore rate: 2 s
    assert clock.sleeps == [pytest.approx(2.0)]


def test_cost_bucket_adopts_the_shop_bucket_size(clock: FakeClock) -> None:
    # GIVEN a shop with a 2000-point bucket, now full WHEN a 1500-point query goes THEN no wait
    limiter = CostBucketLimiter(clock=clock, sleep=clock.sleep)
    limiter.observe(_shopify_cost(requested=10, actual=10, available=2000))
    limiter.acquire(1500)
    assert clock.sleeps == []


def test_cost_bucket_ignores_a_truncated_body(clock: FakeClock) -> None:
    # GIVEN a body cut mid-JSON WHEN observed THEN nothing changes and nothing raises
    limiter = CostBucketLimiter(clock=clock, sleep=clock.sleep)
    limiter.observe(httpx.Response(200, content=b'{"data": {"custo'))
    limiter.acquire(100)
    assert clock.sleeps == []


def test_shopify_throttled_body_is_recognised() -> None:
    # GIVEN Shopify's throttled answer and an ordinary error THEN only the first counts as throttling
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
    assert shopify_graphql_throttled(throttled)
    assert not shopify_graphql_throttled({"errors": [{"message": "Field 'x' doesn't exist"}]})
    assert not shopify_graphql_throttled({"data": {}})


def test_concurrency_limiter_never_lets_more_than_n_run() -> None:
    # GIVEN a limit of 3 and 12 threads that each hold a slot briefly
    limiter = ConcurrencyLimiter(3)
    running, peak, lock = 0, 0, threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with limiter:
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.01)
            with lock:
                running -= 1

    # WHEN they all start at once
    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN at most three ran together (and the limit was actually reached)
    assert peak == 3


def test_concurrency_limiter_releases_on_error() -> None:
    # GIVEN a limit of 1 WHEN the holder raises THEN the slot is free again
    limiter = ConcurrencyLimiter(1)
    with pytest.raises(RuntimeError), limiter:
        raise RuntimeError("boom")
    with limiter:
        pass


@pytest.mark.parametrize("bad", [(0, 1), (1, 0), (-1, 5)])
def test_limiters_reject_nonsense_settings(bad: tuple[float, float]) -> None:
    # GIVEN a zero or negative setting WHEN building a limiter THEN ValueError
    with pytest.raises(ValueError, match="needs"):
        TokenBucket(*bad)
    with pytest.raises(ValueError, match="needs"):
        SlidingWindowLimiter(int(bad[0]), bad[1])


def test_every_limiter_fits_the_client_config(clock: FakeClock) -> None:
    # GIVEN one of each pacing limiter (mypy checks they satisfy the RateLimiter protocol)
    limiters: tuple[RateLimiter, ...] = (
        TokenBucket(2.0, 40, clock=clock, sleep=clock.sleep),
        SlidingWindowLimiter(190, 10.0, clock=clock, sleep=clock.sleep),
        CostBucketLimiter(clock=clock, sleep=clock.sleep),
    )
    # WHEN composed into a config THEN they are kept in order
    config = HttpClientConfig(connector="test", base_url="https://api.example.com", limiters=limiters)
    assert config.limiters == limiters
