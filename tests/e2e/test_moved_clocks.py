"""Date-sensitive tests hold as the calendar moves: a few of them run again under a moved clock.

A test that pins a vendor time to a fixed date changes meaning as the machine's date moves on: the
date lands in the machine's future (a pull reads a time ahead of its start as its start) or drifts
behind a running sandbox clock's retention. ``libfaketime`` moves the clock of a whole process, so
these tests run a small, representative set of such tests under three clocks: two years on, 200
days on and 30 days behind. ``make test-clock`` runs the whole suite under the same clocks.

Skipped, with the reason, where ``faketime`` is not installed (``apt-get install faketime``) or does
not move Python's clock (macOS: System Integrity Protection drops ``DYLD_INSERT_LIBRARIES``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: The clocks, as offsets from the machine's (libfaketime's ``-f`` syntax): never absolute dates,
#: which would themselves fall behind the calendar.
CLOCKS = ("+730d", "+200d", "-30d")
#: Tests that stamp vendor changes relative to the machine's clock (``core.testing.clock.days_ago``)
#: and read them through a pull bounded by it; the WooCommerce one failed 30 days behind while it
#: pinned a fixed date. About 3 s of CPU per clock after the imports (Shopify's pull tests, which
#: failed too, seed a larger sandbox: ``make test-clock`` runs them).
TESTS = (
    "tests/unit/test_testing_clock.py",
    "tests/unit/connectors/woocommerce/test_pull.py::"
    "test_an_order_modified_in_the_stores_afternoon_is_found_by_its_gmt_time",
    "tests/unit/connectors/stripe/test_stripe_full_refresh_retention.py::"
    "test_a_customer_created_after_the_horizon_keeps_its_creation_time",
)
#: libfaketime 0.9.10 moves the monotonic clock too, and must: with
#: ``FAKETIME_DONT_FAKE_MONOTONIC=1`` every ``time.sleep`` fails with EINVAL (its absolute
#: ``clock_nanosleep`` deadline is shifted). But Python 3.11's timed waits (``Event.wait(0.05)``,
#: ``Lock.acquire(timeout=...)``) pass a monotonic deadline to ``sem_clockwait``, which libfaketime
#: does not intercept, and never return: none of these tests waits with a timeout.
MONOTONIC = {"FAKETIME_DONT_FAKE_MONOTONIC": "0"}
DAY = 86400
REPO = Path(__file__).resolve().parents[2]


def _faketime() -> str:
    """The ``faketime`` command, or a skip saying why the moved clocks cannot run here."""
    found = shutil.which("faketime")
    if found is None:
        pytest.skip("faketime is not installed (apt-get install faketime); `make test-clock` needs it too")
    probe = subprocess.run(
        [found, "-f", "+730d", sys.executable, "-c", "import time; print(time.time())"],
        env={**os.environ, **MONOTONIC},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        moved = float(probe.stdout.strip()) - time.time()
    except ValueError:
        moved = 0.0
    if abs(moved - 730 * DAY) > DAY:
        pytest.skip(f"faketime does not move Python's clock here (moved {moved / DAY:.1f} days)")
    return found


@pytest.mark.parametrize("offset", CLOCKS)
def test_date_sensitive_tests_pass_under_a_moved_clock(offset: str) -> None:
    # GIVEN a machine whose clock is moved by ``offset`` (the tests' processes only)
    faketime = _faketime()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(MONOTONIC)
    # WHEN the date-sensitive tests run on it
    run = subprocess.run(
        [
            faketime,
            "-f",
            offset,
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            *TESTS,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # THEN every one passes
    assert run.returncode == 0, f"under faketime -f {offset}:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
