"""The cost of a cursor's tag look-ups on its watermark second: ``another_version`` and ``latest_of``.

    python -m bench.cursor_tags [--tags 1000] [--repeat 5]

An import stamps a thousand records with one second; the cursor keeps the tags of the versions it
delivered there (``skip``, at most 1000), and the next pull asks both functions of every record it
reads on that second (``connectors.sdk.accept``: ``passed`` asks ``latest_of``, then the mark asks
``another_version``). Before, each scanned the tags: a thousand by a thousand a pull. They now read an
index made once per state (``connectors.cursor_tags.last_versions``). HubSpot's ``_returned``, which
builds its list of tags as it goes, keeps its own index; it is timed too (a page of 100 returned
after 1000 held, once a page).

It prints the CPU time of one pull's look-ups by the scan (the definitions, as the module had them)
and by the index, the ratio between them, and the indexed time's ratio to ``LIMIT_MS`` (<= 1.00
meets it), with the load average.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterable

from connectors.cursor_tags import RECORD_PART, another_version, latest_of, version_tag
from connectors.hubspot._pull import SEEN_LIMIT, _returned

#: What one pull's look-ups may cost on a second holding 1000 delivered versions, CPU ms.
LIMIT_MS = 20.0
KEY = b"bench" * 6


# The definitions, scans of the tags in the order delivered (as the module had them; the index must
# answer as they do: tests/unit/connectors/test_cursor_tags_index.py).
def scan_another_version(tag: str, tags: Iterable[str]) -> bool:
    return any(t[:RECORD_PART] == tag[:RECORD_PART] for t in tags)


def scan_latest_of(tag: str, tags: Iterable[str]) -> bool:
    last = None
    for held in tags:
        if held[:RECORD_PART] == tag[:RECORD_PART]:
            last = held
    return last == tag


def scan_returned(seen: tuple[str, ...], tags: list[str]) -> tuple[str, ...]:
    out = list(seen)
    for tag in tags:
        if not scan_latest_of(tag, out):
            out.append(tag)
    return tuple(out[-SEEN_LIMIT:])


def _pull(skip: tuple[str, ...], pulled: list[str], latest: Callable, another: Callable) -> float:
    cpu = time.process_time()
    for tag in pulled:
        if not latest(tag, skip):
            another(tag, skip)
    return time.process_time() - cpu


def _best(repeat: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    skip = tuple(version_tag(KEY, f"r{i}", {"v": 1}) for i in range(args.tags))
    pulled = [version_tag(KEY, f"r{i}", {"v": 2}) for i in range(args.tags)]  # each changed again
    scan = _best(args.repeat, lambda: _pull(skip, pulled, scan_latest_of, scan_another_version))
    index = _best(args.repeat, lambda: _pull(skip, pulled, latest_of, another_version))
    page = pulled[:100]

    def timed(fn: Callable[[tuple[str, ...], list[str]], tuple[str, ...]]) -> float:
        cpu = time.process_time()
        fn(skip, page)
        return time.process_time() - cpu

    assert scan_returned(skip, page) == _returned(skip, page)
    returned_scan, returned_index = (
        _best(args.repeat, lambda: timed(scan_returned)),
        _best(args.repeat, lambda: timed(_returned)),
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"cursor tag look-ups, {args.tags:,} versions held on the watermark second, {len(pulled):,} pulled")
    print(f"  a pull's latest_of + another_version: scan {scan * 1e3:.1f} ms, index {index * 1e3:.2f} ms")
    print(f"  ({scan / index:.0f}x); ratio to the limit of {LIMIT_MS:.0f} ms: {index * 1e3 / LIMIT_MS:.2f}")
    print(
        f"  HubSpot _returned, a page of {len(page)} after {len(skip):,}: scan {returned_scan * 1e3:.1f} ms, "
        f"index {returned_index * 1e3:.2f} ms"
    )
    print(f"  load average {load}")


if __name__ == "__main__":
    main()
