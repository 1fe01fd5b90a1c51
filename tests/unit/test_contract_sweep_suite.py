"""The contract's sweep cases (profilesync.testing.contract_sweep) catch what they promise to: a
connector whose sandbox purges records but which declares no ``refresh_lists``, and a sandbox whose
purge leaves a trace a pull reads (so the case would not test the sweep at all). The unbroken
HubSpot connector and sandbox pass through the same harness."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from connectors.hubspot import PLUGIN
from connectors.hubspot._sandbox import HubSpotSandbox
from core.connector import Connector, ConnectorPlugin, ConnectorSettings
from profilesync.testing.contract_harness import SleepRecorder
from profilesync.testing.contract_sweep import RefreshSweepContract

RETIRES = "test_a_full_refresh_retires_a_record_purged_at_the_vendor_and_keeps_the_others"
GUARD = "test_a_full_refresh_that_would_retire_more_than_the_guard_allows_retires_nothing_and_says_why"
CUT = "test_a_full_refresh_cut_short_retires_nothing"


class _Suite(RefreshSweepContract):
    plugin = PLUGIN


class _Undeclared:
    """A connector as given, its spec without ``refresh_lists``."""

    def __init__(self, inner: Connector) -> None:
        self.inner = inner
        self.spec = dataclasses.replace(inner.spec, refresh_lists=frozenset())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _declaring_nothing() -> ConnectorPlugin:
    """HubSpot's plugin with ``refresh_lists`` left out of its spec (its sandbox still purges)."""

    def build(settings: ConnectorSettings) -> Connector:
        return _Undeclared(PLUGIN.build(settings))  # type: ignore[return-value]

    return dataclasses.replace(
        PLUGIN, spec=dataclasses.replace(PLUGIN.spec, refresh_lists=frozenset()), build=build
    )


class _ArchivingSandbox(HubSpotSandbox):
    """A purge that archives instead: HubSpot then lists the contact as archived, a trace."""

    def purge_records(self, keys: set[str]) -> None:
        self.delete_records(keys)


def _run(plugin: ConnectorPlugin, sandbox: Any, test_name: str, *args: Any) -> None:
    suite = _Suite()
    suite.plugin = plugin  # type: ignore[misc]
    connector = suite.connect(sandbox, SleepRecorder())
    try:
        getattr(suite, test_name)(sandbox, connector, *args)
    finally:
        connector.close()


def _sandbox() -> Any:
    assert PLUGIN.sandbox is not None
    return PLUGIN.sandbox(people=60, seed=7)


@pytest.mark.parametrize(("test_name", "args"), [(RETIRES, ()), (GUARD, ()), (CUT, ("max_pages",))])
def test_the_sweep_cases_fail_a_connector_that_declares_no_refresh_lists(
    test_name: str, args: tuple[str]
) -> None:
    with pytest.raises(AssertionError, match="swept nothing"):
        _run(_declaring_nothing(), _sandbox(), test_name, *args)


def test_the_sweep_case_fails_a_sandbox_whose_purge_leaves_a_trace() -> None:
    sandbox = _ArchivingSandbox(people=60, seed=7)
    with pytest.raises(AssertionError, match="left a trace"):
        _run(PLUGIN, sandbox, RETIRES)


def test_the_sweep_cases_pass_the_unbroken_connector_through_the_same_harness() -> None:
    _run(PLUGIN, _sandbox(), RETIRES)
    _run(PLUGIN, _sandbox(), CUT, "max_pages")
