"""Hypothesis profiles: ``ci`` (the default: `make test`, `make unit`) and ``deep`` (`make test-deep`).

``ci`` is deterministic (``derandomize=True``: the same examples on every run and every machine, no
example database), so a red CI run is red again on a developer's machine; ``deep`` is Hypothesis's
own behaviour (random examples, the ``.hypothesis`` database replaying past failures) with every
property's full count of examples.

A property that runs its programs over the stores (memory, SQLite, DynamoDB on moto) keeps a smaller
count in ``ci`` and its full count in ``deep``: ``@settings(max_examples=examples(ci=12, deep=40))``.
Choose ``ci`` so that each store still sees a meaningful number of programs (the in-memory store more,
DynamoDB on moto fewer). ``HYPOTHESIS_PROFILE=deep`` selects the deep profile in any pytest run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

CI, DEEP = "ci", "deep"
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or CI
if PROFILE not in (CI, DEEP):
    raise ValueError(f"HYPOTHESIS_PROFILE={PROFILE!r}: expected {CI!r} (the default) or {DEEP!r}")

# Both on Hypothesis's own defaults, whatever profile is loaded when this module is (re)imported.
_BASE = settings.get_profile("default")
# ``ci`` runs on shared 2-core machines under the other worker's load: the checks that time the
# machine (a slow example, slow input generation) are off there, so a busy moment never fails a run
# that found nothing wrong; ``deep`` keeps them (a strategy made slow shows there).
settings.register_profile(
    CI,
    parent=_BASE,
    derandomize=True,
    database=None,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(DEEP, parent=_BASE, print_blob=True)


def load() -> None:
    """Load the profile ``HYPOTHESIS_PROFILE`` names (``ci`` when unset): tests/conftest.py calls it."""
    settings.load_profile(PROFILE)


def examples(*, ci: int, deep: int) -> int:
    """A property's ``max_examples`` (or a test's population, kill points, rounds): ``ci`` in the
    default profile, ``deep`` in the deep one."""
    if not 0 < ci <= deep:
        raise ValueError(f"examples(ci={ci}, deep={deep}): expected 0 < ci <= deep")
    return deep if PROFILE == DEEP else ci
