"""The contract every connector passes against its own sandbox, built in or plugin.

Subclass ``ConnectorContract`` in a test module and name the plugin::

    from connectors.hubspot import PLUGIN
    from profilesync.testing.contract import ConnectorContract

    class TestContract(ConnectorContract):
        plugin = PLUGIN

pytest then runs every ``test_*`` method below against a fresh sandbox. The sandbox must satisfy
``connectors._sandbox.SandboxControl``. Class attributes tune the suite: ``people`` (sandbox size),
``seed``, ``sandbox_options`` (extra arguments for the sandbox factory), and ``tie_count`` (how many
records share one timestamp in the page-boundary test; by default three more than a page, so the tie
always crosses a boundary).

What is checked: a full pull returns every record exactly once; the union of incremental pulls
equals a full refresh, ties across a page boundary included; an incremental pull after changes
returns exactly the changed records, and merged into a store they are what it keeps; a pull resumed
from any page's cursor loses nothing; 429s (with ``Retry-After: 0`` and with none), 5xx, timeouts
and truncated bodies are retried with real backoff and the pull completes; a wrong credential fails
fast with a clear, secret-free error; every pulled record normalises or is quarantined with a
reason; a record dated 2099, or hours ahead within the skew, hides no later edit; junk elements in a
page (a string where a record should be) are quarantined and the rest of the page is mapped; pushing
the same profiles twice makes no call the second time, and the echo of a push changes nothing; a
push in ``update`` mode creates nobody, and one in ``upsert`` mode creates only people whose consent
allows the tool's channel (and updates them, never creates them again, the next time); erase removes
the person, by email and by the ids of their records (after which the sandbox holds no email or
phone of theirs, and asking again is answered "absent"). A connector that declares
``ConnectorSpec.refresh_lists`` (its sandbox then purges records without a trace,
``connectors._sandbox.PurgesRecords``): a full refresh retires a record purged at the vendor and
keeps the others; one that would retire more than the guard allows retires nothing and says why;
one cut short (a page failing, ``max_pages``) retires nothing (profilesync.testing.contract_sweep).
"""

from __future__ import annotations

from profilesync.testing.contract_faults import FaultContract
from profilesync.testing.contract_faults import JunkInjector as JunkInjector
from profilesync.testing.contract_harness import FAR_FUTURE as FAR_FUTURE
from profilesync.testing.contract_harness import T_CHANGES as T_CHANGES
from profilesync.testing.contract_harness import SleepRecorder as SleepRecorder
from profilesync.testing.contract_pull import PullContract
from profilesync.testing.contract_pull import changes_after_a_future_record as changes_after_a_future_record
from profilesync.testing.contract_push import PushContract
from profilesync.testing.contract_sweep import RefreshSweepContract


class ConnectorContract(PushContract, RefreshSweepContract, FaultContract, PullContract):
    """Shared connector tests; see the module docstring. The tests live in the four groups it
    inherits (contract_pull, contract_faults, contract_sweep, contract_push; pytest runs the pulling
    tests first: it collects a class's bases in reverse order), its fixtures and helpers in
    contract_harness."""


__all__ = [
    "FAR_FUTURE",
    "T_CHANGES",
    "ConnectorContract",
    "JunkInjector",
    "SleepRecorder",
    "changes_after_a_future_record",
]
